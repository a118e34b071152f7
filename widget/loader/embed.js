/* livechat loader (/embed.js); what it may do before a click, and window.LiveChat: README. */
(function (d, w) {
  var script = d.currentScript, key = script && script.getAttribute('data-channel');
  if (!key) return;
  var base = new URL(script.src).origin, store = 'livechat:' + key, ticket, cfg, host, view, loading, timer,
    started, fns = {}, unread = 0, greeting, shown, button, panel, badge, bubble, extra = { attributes: {} },
    resume = (location.hash.match(/livechat=([\w.-]+)/) || [])[1],
    queued = (w.LiveChat || {}).q || [],
    api = w.LiveChat = function (m) { return api[m].apply(api, [].slice.call(arguments, 1)); },
    boot = new Promise(function (done) { started = done; });
  try { ticket = w.localStorage.getItem(store); } catch (e) {}
  var css = '.lc-root{display:grid;justify-items:end;gap:12px}' +
    '.lc-launcher{all:unset;position:relative;width:56px;height:56px;border-radius:50%;cursor:pointer;' +
    'background:var(--lc-accent);color:#fff;display:grid;place-items:center;box-shadow:0 4px 14px #0004}' +
    '.lc-launcher:focus-visible{outline:3px solid #93c5fd}[hidden],:empty:is(b,p){display:none!important}';
  // Each listener in a task of its own: one that throws stops neither the others nor the chat.
  function emit(type, data) {
    (fns[type] || []).map(function (f) { setTimeout(f, 0, data); });
  }

  function ask(path) {
    var id = extra.identity_token;
    return fetch(base + '/v1/widget/' + encodeURIComponent(key) + path + '?page=' +
      encodeURIComponent(location.href.split('#')[0]) + (ticket ? '&ticket=' + encodeURIComponent(ticket) : '') +
      (resume ? '&resume=' + resume : '') + (id ? '&identity=' + encodeURIComponent(id) : ''))
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function decide(answer) {
    if (!answer) return;
    ticket = answer.visit_ticket;
    if (cfg.remember_visits) try { w.localStorage.setItem(store, ticket); } catch (e) {}
    clearTimeout(timer);
    if (answer.recheck_after_ms != null) timer = setTimeout(recheck, answer.recheck_after_ms);
    build();
    if (panel.hidden) {
      visible(answer.visibility.state == 'visible');
      if (answer.proactive && !loading) bubble.textContent = greeting = answer.proactive;
    }
    if (answer.invited) open(1);
  }
  function recheck() {
    if (d.hidden) return d.addEventListener('visibilitychange', recheck, { once: true });
    ask('/visibility').then(decide, function () {});
  }
  function place() {
    if (!host.isConnected) d.body ? d.body.appendChild(host) : d.addEventListener('DOMContentLoaded', place);
  }
  function visible(on) {
    on || !panel.hidden ? place() : host.remove();
    on = on && !button.hidden;
    if (on != shown) emit('visibility', (shown = on) ? 'shown' : 'hidden');
  }
  function fromPanel(type, data) {
    if (type == 'close') return open(0), button.focus();
    if (type == 'unread') badge.textContent = ++unread, bubble.textContent = data, data = unread;
    emit(type, data);
  }
  function build() {
    if (host) return;
    var look = cfg.appearance, sheet = new CSSStyleSheet(), box = d.createElement('div');
    host = d.createElement('livechat-widget');
    panel = d.createElement('div');
    button = d.createElement('button');
    badge = d.createElement('b');
    bubble = d.createElement('p');
    sheet.replaceSync(':host{all:initial!important;position:fixed!important;z-index:2147483000!important;' +
      'bottom:20px!important;' + (look.position == 'bottom_left' ? 'left' : 'right') + ':20px!important;' +
      '--lc-accent:' + (/^[#\w(),.% -]+$/.test(look.accent_color) ? look.accent_color : '#2563eb') + '}' + css);
    host.attachShadow({ mode: 'open' }).adoptedStyleSheets = [sheet];
    box.className = 'lc-root';
    panel.hidden = true;
    button.hidden = script.getAttribute('data-launcher') == 'none';
    button.className = 'lc-launcher';
    button.dataset.testid = 'launcher';
    button.setAttribute('aria-label', look.title);
    button.setAttribute('aria-expanded', false);
    button.innerHTML = '<svg viewBox="0 0 24 24" width="28" fill="currentColor" aria-hidden="true"><path d="M3 4h18v13H9l-6 4z"/></svg>';
    button.onclick = bubble.onclick = api.toggle;
    button.append(badge);
    box.append(panel, bubble, button);
    host.shadowRoot.append(box);
  }
  function mount() {
    extra.greeted = !!greeting;
    loading = loading || Promise.all([
      import(base + '/widget/widget.js'),
      fetch(base + '/widget/widget.css').then(function (r) { return r.text(); })
    ]).then(function (m) {
      var root = host.shadowRoot, sheet = new CSSStyleSheet();
      sheet.replaceSync(m[1]);
      root.adoptedStyleSheets = [root.adoptedStyleSheets[0], sheet];
      return m[0].default({ module_or_path: base + '/widget/widget_bg.wasm' }).then(function () {
        view = m[0].mount(panel, {
          gateway: base, channel: key, ticket: ticket, captcha: cfg.captcha, store: store, leave: cfg.leave_message,
          appearance: greeting ? Object.assign({}, cfg.appearance, { greeting: greeting }) : cfg.appearance,
          session: extra, emit: fromPanel
        });
      });
    }).catch(function () { loading = null; open(0); });
  }
  // Someone else now (identified, reset): the panel starts over with a session of theirs.
  function remount() {
    if (view) view(), view = loading = null, panel.textContent = '', panel.hidden || mount();
  }
  function open(on) {
    boot.then(function () {
      if (on == panel.hidden) {
        panel.hidden = !on;
        button.setAttribute('aria-expanded', !!on);
        if (on) place(), mount(), badge.textContent = bubble.textContent = '', unread && emit('unread', unread = 0);
        emit(on ? 'open' : 'close');
      }
    });
  }
  function launcher(on) {
    return function () { boot.then(function () { button.hidden = !on; visible(on || host.isConnected); }); };
  }
  api.open = open.bind(0, 1);
  api.close = open.bind(0, 0);
  api.toggle = function () { boot.then(function () { open(panel.hidden); }); };
  api.show = launcher(1);
  api.hide = launcher(0);
  api.identify = function (o) {
    var was = extra.identity_token;
    extra.identity_token = o && o.token;
    if (cfg) was || remount(), recheck();
  };
  api.setAttributes = function (o) { Object.assign(extra.attributes, o); };
  api.reset = function (here) {
    extra = { attributes: {} };
    ticket = greeting = null;
    try { here || w.localStorage.removeItem(store); } catch (e) {}
    if (cfg) ask('').then(function (answer) { decide(answer); remount(); });
  };
  api.unreadCount = function () { return unread; };
  api.on = function (type, f) { (fns[type] = fns[type] || []).push(f); };
  api.off = function (type, f) { fns[type] = (fns[type] || []).filter(function (g) { return g != f; }); };
  // Another tab reset: the visit it forgets is this tab's too (a tab with a panel remembers it).
  w.addEventListener('storage', function (e) { if (e.key == store && !e.newValue) api.reset(1); });
  queued.map(function (call) { api.apply(0, call); });
  ask('').then(function (answer) {
    if (answer) cfg = answer, decide(answer), started(), emit('ready');
    if (resume) resume = '', history.replaceState(null, '', location.href.split('#')[0]), open(1);
  }, function () {});
})(document, window);
