/* The livechat loader and window.LiveChat: README, "The loader" (the build puts launcher.css in). */
(() => {
  const script = document.currentScript, key = script?.dataset.channel;
  if (!key) return;
  const base = new URL(script.src).origin, store = 'livechat:' + key, fns = {},
    queued = window.LiveChat?.q || [], api = window.LiveChat = (method, ...args) => api[method](...args),
    here = () => location.href.split('#')[0];
  let cfg, ticket, shared, host, panel, button, bubble, shown, view, loading, timer, greeting, booted,
    resume = location.hash.match(/livechat=([\w.-]+)/)?.[1], extra = { attributes: {} };
  const boot = new Promise((done) => booted = done);
  // `shared`: this tab shares its pages with an agent (co-browsing), which the panel resumes.
  try { ticket = localStorage.getItem(store); shared = sessionStorage[store]; } catch {}

  const emit = (type, data) => fns[type]?.map((f) => setTimeout(f, 0, data));
  const ask = (path) => fetch(base + '/v1/widget/' + key + path + '?' + new URLSearchParams(
    Object.entries({ page: here(), ticket, resume, identity: extra.identity_token }).filter((pair) => pair[1])))
    .then((r) => r.ok ? r.json() : null);

  function decide(answer) {
    if (!answer) return;
    cfg = { ...cfg, ...answer };
    ticket = answer.visit_ticket;
    if (cfg.remember_visits) try { localStorage.setItem(store, ticket); } catch {}
    clearTimeout(timer);
    if (answer.recheck_after_ms != null) timer = setTimeout(recheck, answer.recheck_after_ms);
    if (panel.hidden) {
      visible(answer.visibility.state == 'visible');
      if (answer.proactive && !loading) bubble.textContent = greeting = answer.proactive;
    }
    if (answer.invited) open(1);
  }
  function recheck() {
    if (document.hidden) return addEventListener('visibilitychange', recheck, { once: true });
    ask('/visibility').then(decide, () => {});
  }
  function place() {
    if (!host.isConnected) document.body ? document.body.append(host) : addEventListener('DOMContentLoaded', place);
  }
  function visible(on) {
    on || !panel.hidden ? place() : host.remove();
    on &&= !button.hidden;
    if (on != shown) emit('visibility', (shown = on) ? 'shown' : 'hidden');
  }
  function build(answer, look = answer.appearance) {
    const sheet = new CSSStyleSheet(), root = (host = document.createElement('livechat-widget'))
      .attachShadow({ mode: 'open' });
    sheet.replaceSync(LAUNCHER_CSS);
    root.adoptedStyleSheets = [sheet];
    host.style.cssText = answer.style;
    root.innerHTML = '<div class=lc-root><div hidden></div><p></p><button class=lc-launcher aria-expanded=false><b></b></button></div>';
    [panel, bubble, button] = root.firstChild.children;
    button.hidden = script.dataset.launcher == 'none';
    button.setAttribute('aria-label', look.launcher_label || look.title);
    button.onclick = bubble.onclick = api.toggle;
  }
  function mount() {
    loading ||= import(base + '/widget/widget.js').then((m) => m.default({ module_or_path: base + '/widget/widget_bg.wasm' })
      .then(() => m.mount(panel, { ...cfg, ...script.dataset, gateway: base, store, greeting, session: extra, emit, close })))
      .then((stop) => view = stop, () => { loading = null; open(0); });
  }
  function remount() {
    if (view) view(), view = loading = null, panel.hidden || mount();
  }
  const open = (on) => boot.then(() => {
    if (on != panel.hidden) return;
    panel.hidden = !on;
    button.setAttribute('aria-expanded', !!on);
    if (on) place(), mount(), api.unreadCount() && emit('unread', +(button.firstChild.textContent = bubble.textContent = ''));
    emit(on ? 'open' : 'close');
  });
  const close = () => { open(0); button.focus(); };
  const launcher = (on) => () => boot.then(() => { button.hidden = !on; visible(on || host.isConnected); });

  Object.assign(api, {
    open: () => open(1),
    close,
    toggle: () => boot.then(() => open(panel.hidden)),
    show: launcher(1),
    hide: launcher(0),
    identify(o) {
      const was = extra.identity_token;
      extra.identity_token = o?.token;
      if (cfg) was || remount(), recheck();
    },
    setAttributes: (o) => Object.assign(extra.attributes, o),
    setLocale(locale) {
      extra.locale = locale;
      remount();
    },
    reset() {
      extra = { attributes: {} };
      ticket = greeting = null;
      try { localStorage.removeItem(store); } catch {}
      if (cfg) ask('').then((answer) => { decide(answer); remount(); });
    },
    unreadCount: () => +button?.firstChild.textContent || 0,
    on: (type, f) => (fns[type] ||= []).push(f),
    off: (type, f) => fns[type] = fns[type]?.filter((g) => g != f),
  });
  addEventListener('storage', (e) => e.key == store && !e.newValue && api.reset());
  queued.map((call) => api(...call));
  ask('').then((answer) => {
    if (answer) build(answer), decide(answer), booted(), emit('ready'), shared && mount();
    if (resume) resume = '', history.replaceState(null, '', here()), open(1);
  }, () => {});
})();
