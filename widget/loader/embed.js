/* livechat loader (/embed.js); what it may do before a click: README, "What the loader does". */
(function (d, w) {
  var script = d.currentScript, key = script && script.getAttribute('data-channel');
  if (!key) return;
  var base = new URL(script.src).origin, store = 'livechat:' + key, ticket, cfg, host, opened, launch,
    resume = (location.hash.match(/livechat=([\w.-]+)/) || [])[1];
  try { ticket = w.localStorage.getItem(store); } catch (e) {}
  var css = '.lc-root{display:flex;flex-direction:column;align-items:flex-end;gap:12px}' +
    '.lc-launcher{position:relative;width:56px;height:56px;border:0;border-radius:50%;padding:0;cursor:pointer;' +
    'background:var(--lc-accent);color:#fff;display:grid;place-items:center;' +
    'box-shadow:0 4px 14px #0004}.lc-launcher svg{width:28px;height:28px;fill:currentColor}' +
    '.lc-launcher:focus-visible{outline:3px solid #93c5fd}[hidden],:empty:is(b,p){display:none!important}';
  function ask(path) {
    return fetch(base + '/v1/widget/' + encodeURIComponent(key) + path + '?page=' +
      encodeURIComponent(location.href.split('#')[0]) + (ticket ? '&ticket=' + encodeURIComponent(ticket) : '') +
      (resume ? '&resume=' + resume : ''))
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function decide(answer) {
    if (!answer) return;
    ticket = answer.visit_ticket;
    if (cfg.remember_visits) try { w.localStorage.setItem(store, ticket); } catch (e) {}
    if (opened) return;
    var show = answer.visibility.state === 'visible';
    if (show && !host) build();
    if (host) show ? host.isConnected || place() : host.remove();
    if (answer.recheck_after_ms != null) setTimeout(recheck, answer.recheck_after_ms);
  }
  function recheck() {
    if (d.hidden) return d.addEventListener('visibilitychange', recheck, { once: true });
    ask('/visibility').then(decide, function () {});
  }
  function place() { if (d.body) d.body.appendChild(host); else d.addEventListener('DOMContentLoaded', place); }
  ask('').then(function (answer) {
    if (answer) { cfg = answer; decide(answer); }
    if (resume) { resume = ''; history.replaceState(null, '', location.href.split('#')[0]); launch && launch(); }
  }, function () {});
  function build() {
    var look = cfg.appearance, root, sheet = new CSSStyleSheet(),
      box = d.createElement('div'), panel = d.createElement('div'),
      button = d.createElement('button'), badge = d.createElement('b'), bubble = d.createElement('p'),
      unread = '', loading;
    host = d.createElement('livechat-widget');
    root = host.attachShadow({ mode: 'open' });
    var accent = /^[#\w(),.% -]+$/.test(look.accent_color) ? look.accent_color : '#2563eb';
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
      if (open) badge.textContent = bubble.textContent = unread = '';
    }
    launch = button.onclick = function () {
      opened = true;
      toggle(panel.hidden);
      loading = loading || Promise.all([
        import(base + '/widget/widget.js'),
        fetch(base + '/widget/widget.css').then(function (r) { return r.text(); })
      ]).then(function (m) {
        var panelSheet = new CSSStyleSheet();
        panelSheet.replaceSync(m[1]);
        root.adoptedStyleSheets = [sheet, panelSheet];
        return m[0].default({ module_or_path: base + '/widget/widget_bg.wasm' }).then(function () {
          m[0].mount(panel, {
            gateway: base, channel: key, ticket: ticket, appearance: look, captcha: cfg.captcha, store: store,
            leave: cfg.leave_message
          });
        });
      }).catch(function () { loading = null; toggle(false); });
    };
    panel.addEventListener('livechat-close', function () { toggle(false); button.focus(); });
    panel.addEventListener('livechat-unread', function (e) {
      badge.textContent = ++unread;
      bubble.textContent = e.detail.slice(0, 140);
    });
    bubble.onclick = launch;
    button.append(badge);
    box.append(panel, bubble, button);
    root.append(box);
  }
})(document, window);
