/* livechat loader, served as /embed.js. The only script a host page fetches before the visitor
   acts: it asks the gateway whether to show the chat and, only then, draws a launcher inside a
   Shadow DOM. The WASM panel is fetched on the first click. Before that click it writes no
   cookie and no storage and opens no socket; any failure leaves the page untouched. */
(function (d, w) {
  var script = d.currentScript, key = script && script.getAttribute('data-channel');
  if (!key) return;
  var base = new URL(script.src).origin, store = 'livechat:' + key, ticket;
  try { ticket = w.localStorage.getItem(store); } catch (e) {}
  var css = '.lc-root{display:flex;flex-direction:column;align-items:flex-end;gap:12px}' +
    '.lc-launcher{width:56px;height:56px;border:0;border-radius:50%;padding:0;cursor:pointer;' +
    'background:var(--lc-accent);color:#fff;display:grid;place-items:center;' +
    'box-shadow:0 4px 14px rgba(0,0,0,.25)}.lc-launcher svg{width:28px;height:28px;fill:currentColor}' +
    '.lc-launcher:focus-visible{outline:3px solid #93c5fd}[hidden]{display:none!important}';
  fetch(base + '/v1/widget/' + encodeURIComponent(key) + (ticket ? '?ticket=' + encodeURIComponent(ticket) : ''))
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (cfg) {
      if (!cfg || cfg.visibility.state !== 'visible') return;
      var look = cfg.appearance, host = d.createElement('livechat-widget'),
        root = host.attachShadow({ mode: 'open' }), sheet = new CSSStyleSheet(),
        box = d.createElement('div'), panel = d.createElement('div'),
        button = d.createElement('button'), loading;
      // The colour comes from the channel's settings; it is checked before it enters CSS.
      var accent = /^[#\w(),.% -]+$/.test(look.accent_color) ? look.accent_color : '#2563eb';
      // Inline !important beats any host-page rule that could match the host element.
      host.style.cssText = 'all:initial!important;position:fixed!important;z-index:2147483000!important;' +
        'bottom:20px!important;' + (look.position === 'bottom_left' ? 'left' : 'right') + ':20px!important';
      sheet.replaceSync(':host{--lc-accent:' + accent + '}' + css);
      root.adoptedStyleSheets = [sheet];
      box.className = 'lc-root';
      panel.hidden = true;
      button.className = 'lc-launcher';
      button.setAttribute('data-testid', 'launcher');
      button.setAttribute('aria-label', look.title);
      button.setAttribute('aria-expanded', 'false');
      button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
      function toggle(open) {
        panel.hidden = !open;
        button.setAttribute('aria-expanded', String(open));
      }
      button.onclick = function () {
        toggle(panel.hidden);
        loading = loading || Promise.all([
          import(base + '/widget/widget.js'),
          fetch(base + '/widget/widget.css').then(function (r) { return r.text(); })
        ]).then(function (m) {
          var panelSheet = new CSSStyleSheet();
          panelSheet.replaceSync(m[1]);
          root.adoptedStyleSheets = [sheet, panelSheet];
          return m[0].default({ module_or_path: base + '/widget/widget_bg.wasm' }).then(function () {
            m[0].mount(panel, JSON.stringify({
              gateway: base, channel: key, ticket: cfg.visit_ticket, appearance: look, captcha: cfg.captcha, store: store
            }));
          });
        }).catch(function () { loading = null; toggle(false); });
      };
      panel.addEventListener('livechat-close', function () { toggle(false); button.focus(); });
      box.append(panel, button);
      root.append(box);
      function place() { d.body.appendChild(host); }
      if (d.body) place(); else d.addEventListener('DOMContentLoaded', place);
    })
    .catch(function () {});
})(document, window);
