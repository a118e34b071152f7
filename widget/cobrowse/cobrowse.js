/* The co-browse module: fetched by the panel only when the visitor accepts an agent's request
 * (and again on each page of the site while the session runs). It mirrors the page as a
 * snapshot, then its changes, over the visitor's socket; draws the "Sharing this page" banner
 * with Stop (and, where the channel allows it, the switch that lets the agent act); shows where
 * the agent points; and, with the visitor's leave, carries out the agent's clicks, scrolls and
 * typing.
 *
 * What never leaves the browser (the README's "Co-browsing" says the same): the value of every
 * field (each input, textarea, select and contenteditable is sent as bullets of its length);
 * password fields, anything marked `data-livechat-private` and anything matching the channel's
 * block selectors (sent as an empty box of its size); text under the channel's mask selectors
 * (bullets); scripts (never sent), `on*` attributes, `javascript:` links, frames' contents; the
 * chat widget itself. */

const BULLET = '\u2022';
/* Within the gateway's budget for the mirror (128 KiB/s, 1 MiB at once), with a margin. */
const RATE = 96 * 1024, BURST = 768 * 1024;
/* A frame at most this many bytes; the gateway takes 20 KiB. */
const FRAME = 18 * 1024;
const URLS = ['src', 'href', 'poster', 'action', 'formaction', 'background', 'xlink:href'];
const SKIP = new Set(['SCRIPT', 'NOSCRIPT', 'TEMPLATE', 'LIVECHAT-WIDGET', 'LIVECHAT-COBROWSE']);
const BOXED = new Set(['IFRAME', 'OBJECT', 'EMBED', 'CANVAS', 'VIDEO', 'AUDIO']);

export function start(o) {
  const ids = new WeakMap(), nodes = new Map(), boxed = new WeakSet(), encoder = new TextEncoder();
  let next = 1, ops = [], timer = 0, budget = BURST, at = performance.now(), sending = [], pacing = 0, stopped;
  const matches = (el, list) => list.some((s) => { try { return el.matches(s); } catch { return false; } });
  const blocked = (el) => el.hasAttribute('data-livechat-private') || el.type == 'password' ||
    BOXED.has(el.tagName) || matches(el, o.block || []);
  const bullets = (text) => BULLET.repeat([...text].length);
  /* Whether the text inside `el` is the visitor's or private: it goes as bullets. */
  const veiled = (el) => !!el && (el.isContentEditable || el.tagName == 'TEXTAREA' || el.tagName == 'OPTION' ||
    !!el.closest?.('[contenteditable]') || (o.mask || []).some((s) => { try { return el.closest(s); } catch { return false; } }));
  const id = (node) => {
    let n = ids.get(node);
    if (!n) ids.set(node, n = next++), nodes.set(n, new WeakRef(node));
    return n;
  };
  const absolute = (value) => {
    try {
      const url = new URL(value, document.baseURI);
      return /^(https?|data):$/.test(url.protocol) && !/^data:(?!image\/)/i.test(url.href) ? url.href : null;
    } catch { return null; }
  };

  /* A node as the console builds it: [id, tag, attributes, children], [id, text], or
   * [id, tag, {}, [], [width, height]] for an empty box; null for what is never sent. */
  function node(n) {
    if (n.nodeType == 3) return [id(n), veiled(n.parentElement) ? bullets(n.data) : n.data];
    if (n.nodeType != 1 || SKIP.has(n.tagName) || n.id == 'livechat-cobrowse-ring') return null;
    const tag = n.tagName.toLowerCase();
    boxed.delete(n);
    if (blocked(n)) {
      const r = n.getBoundingClientRect();
      boxed.add(n);
      return [id(n), tag == 'input' ? 'span' : tag, { class: n.getAttribute('class') || '' }, [], [Math.round(r.width), Math.round(r.height)]];
    }
    const a = {};
    for (const { name, value } of n.attributes) {
      const v = attribute(n, name, value);
      if (v != null) a[name] = v;
    }
    if (tag == 'input' && !/^(submit|button|reset|image)$/i.test(n.type)) a.value = bullets(n.value);
    let children;
    if (tag == 'select') {
      children = [[0, 'option', {}, [[0, bullets(n.selectedOptions[0]?.text || '')]]]];
    } else if (tag == 'style') {
      children = [[0, n.sheet ? [...n.sheet.cssRules].map((r) => r.cssText).join('\n') : n.textContent]];
    } else if (tag == 'textarea') {
      children = [[0, bullets(n.value)]];
    } else {
      children = [];
      for (let c = n.firstChild; c; c = c.nextSibling) {
        const s = node(c);
        if (s) children.push(s);
      }
      if (n.shadowRoot && !SKIP.has(n.tagName)) children.push(...[...n.shadowRoot.childNodes].map(node).filter(Boolean));
    }
    return [id(n), tag, a, children];
  }

  function attribute(el, name, value) {
    if (/^on/i.test(name) || name == 'srcdoc' || name == 'nonce' || name == 'integrity') return null;
    if (name == 'value' || name == 'checked' || name == 'selected') return null;
    if (URLS.includes(name)) return absolute(value);
    if (name == 'srcset') return value.split(',').map((c) => c.trim().split(/\s+/)).map(([u, w]) => (absolute(u) || '') + (w ? ' ' + w : '')).join(', ');
    if (el.tagName == 'META' && name == 'http-equiv') return null;
    return value;
  }

  function snapshot() {
    ops = [];
    queue({ snap: node(document.documentElement), base: document.baseURI, vp: [innerWidth, innerHeight], sc: [scrollX, scrollY] });
  }

  /* Changes go out together, every 100 ms at most. */
  function change(op) {
    ops.push(op);
    timer ||= setTimeout(() => {
      timer = 0;
      if (ops.length) queue({ m: ops }), ops = [];
    }, 100);
  }

  /* A batch as frames within the frame size, sent within the budget. */
  function queue(batch) {
    const text = JSON.stringify(batch);
    for (let i = 0, size = 6000; i < text.length;) {
      const piece = text.slice(i, i + size), more = i + piece.length < text.length,
        frame = JSON.stringify({ type: 'mirror', session_id: o.session_id, data: piece, more });
      if (encoder.encode(frame).length > FRAME && size > 64) { size >>= 1; continue; }
      sending.push(frame);
      i += piece.length;
    }
    pace();
  }

  function pace() {
    if (pacing || stopped) return;
    const now = performance.now();
    budget = Math.min(BURST, budget + (now - at) / 1000 * RATE);
    at = now;
    while (sending.length && budget >= sending[0].length) budget -= sending[0].length, o.send(sending.shift());
    if (sending.length) pacing = setTimeout(() => { pacing = 0; pace(); }, Math.ceil((sending[0].length - budget) / RATE * 1000));
  }

  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const target = ids.get(r.target);
      if (!target) continue;
      if (r.type == 'characterData') change(['t', target, veiled(r.target.parentElement) ? bullets(r.target.data) : r.target.data]);
      else if (r.type == 'attributes') {
        const el = r.target, name = r.attributeName;
        if (blocked(el) != boxed.has(el)) change(['x', target, node(el)]);
        else if (!boxed.has(el) && !/^(value|checked|selected)$/.test(name))
          change(['a', target, name, el.hasAttribute(name) ? attribute(el, name, el.getAttribute(name)) : null]);
      } else {
        for (const gone of r.removedNodes) if (ids.has(gone)) change(['r', ids.get(gone)]);
        for (const added of r.addedNodes) {
          if (!added.isConnected || added.parentNode != r.target) continue;
          const s = node(added);
          let after = added.nextSibling;
          while (after && !ids.has(after)) after = after.nextSibling;
          if (s) change(['n', target, after ? ids.get(after) : 0, s]);
        }
      }
    }
  });

  /* What the visitor does: typing (as bullets), scrolling, the window's size, the pointer. */
  let pointer;
  const listeners = [
    ['input', (e) => ids.has(e.target) && !blocked(e.target) && change(['v', ids.get(e.target), bullets(e.target.value || e.target.textContent || '')])],
    ['scroll', (e) => change(e.target == document ? ['s', 0, scrollX, scrollY] : ['s', ids.get(e.target) || 0, e.target.scrollLeft, e.target.scrollTop])],
    ['pointermove', (e) => { if (!pointer) pointer = setTimeout(() => { pointer = 0; change(['p', e.pageX, e.pageY]); }, 50); }],
    ['click', (e) => change(['c', e.pageX, e.pageY])],
  ];
  for (const [type, f] of listeners) document.addEventListener(type, f, { capture: true, passive: true });
  const resized = () => change(['w', innerWidth, innerHeight]);
  addEventListener('resize', resized);

  /* The banner: on the host page, over everything, in a shadow root of its own. */
  const host = document.createElement('livechat-cobrowse'), root = host.attachShadow({ mode: 'open' }),
    sheet = new CSSStyleSheet(), banner = document.createElement('div'), label = document.createElement('span'),
    control = document.createElement('button'), stop = document.createElement('button'),
    t = (k) => (o.texts[k] || k).replaceAll('{agent}', o.agent_name);
  sheet.replaceSync(`div{position:fixed;z-index:2147483647;top:8px;left:50%;transform:translateX(-50%);display:flex;gap:8px;align-items:center;
    padding:8px 12px;border-radius:8px;background:#111827;color:#fff;font:14px system-ui,sans-serif;box-shadow:0 4px 16px #0004}
    button{font:inherit;border:0;border-radius:6px;padding:4px 10px;cursor:pointer}button:last-child{background:#dc2626;color:#fff}
    [hidden]{display:none}i{position:absolute;width:28px;height:28px;margin:-14px;border:3px solid #f59e0b;border-radius:50%;
    pointer-events:none;z-index:2147483647;transition:opacity 1s}`);
  root.adoptedStyleSheets = [sheet];
  banner.setAttribute('role', 'status');
  banner.dataset.testid = 'cobrowse-banner';
  label.textContent = t('cobrowse_sharing');
  stop.textContent = t('cobrowse_stop');
  stop.dataset.testid = 'cobrowse-stop';
  control.dataset.testid = 'cobrowse-control';
  stop.onclick = () => o.send(JSON.stringify({ type: 'cobrowse_stop', session_id: o.session_id }));
  control.onclick = () => o.send(JSON.stringify({ type: 'cobrowse_control', session_id: o.session_id, granted: !o.control }));
  banner.append(label, control, stop);
  root.append(banner);
  document.documentElement.append(host);

  /* Where the agent points: a ring for two seconds. */
  function point(x, y) {
    const ring = document.createElement('i');
    ring.dataset.testid = 'cobrowse-ring';
    Object.assign(ring.style, { left: x + 'px', top: y + 'px', position: 'absolute' });
    root.append(ring);
    setTimeout(() => ring.style.opacity = 0, 1500);
    setTimeout(() => ring.remove(), 2500);
  }

  /* What the agent does, only while the visitor lets them, never on what is not sent. */
  function act(a) {
    const el = a.node && nodes.get(a.node)?.deref();
    if (!o.control || (a.act != 'scroll' && !el)) return;
    if (el && (!el.isConnected || el.closest('[data-livechat-private]') || blocked(el))) return;
    if (a.act == 'click') el.click?.();
    else if (a.act == 'scroll') (el || window).scrollTo(a.x, a.y);
    else if (a.act == 'type' && /^(INPUT|TEXTAREA)$/.test(el.tagName)) {
      el.focus();
      el.value = a.text;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }

  function show() {
    control.hidden = !o.control_allowed;
    control.textContent = t(o.control ? 'cobrowse_revoke' : 'cobrowse_allow');
    banner.dataset.control = o.control ? 'on' : 'off';
  }
  show();
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  snapshot();

  return {
    on(frame) {
      if (frame.type == 'cobrowse') Object.assign(o, frame.invite), show();
      else if (frame.type == 'cobrowse_point') point(frame.x, frame.y);
      else if (frame.type == 'cobrowse_act') act(frame.act);
      else if (frame.type == 'cobrowse_resync') snapshot();
    },
    stop() {
      stopped = 1;
      observer.disconnect();
      for (const [type, f] of listeners) document.removeEventListener(type, f, { capture: true });
      removeEventListener('resize', resized);
      clearTimeout(timer), clearTimeout(pacing);
      host.remove();
    },
  };
}
