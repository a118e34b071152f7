// What this does is said where cobrowse.rs binds it.
const NEVER = new Set(['script', 'iframe', 'object', 'embed', 'base', 'frame', 'frameset', 'portal']);
const SVG = 'http://www.w3.org/2000/svg';

function proxied(m, link) {
  try {
    const url = new URL(link, m.base);
    if (url.protocol == 'data:') return /^data:image\//i.test(link) ? link : '';
    if (!/^https?:$/.test(url.protocol)) return '';
    return location.origin + '/v1/conversations/' + m.conversation + '/cobrowse/asset?url=' + encodeURIComponent(url.href);
  } catch { return ''; }
}

function css(m, text) {
  return text
    .replace(/url\(\s*(['"]?)(.*?)\1\s*\)/gi, (_, q, link) => 'url("' + proxied(m, link) + '")')
    .replace(/@import\s+(['"])(.*?)\1/gi, (_, q, link) => '@import "' + proxied(m, link) + '"');
}

function attribute(m, el, name, value) {
  const tag = el.localName;
  if (/^on/i.test(name) || name == 'srcdoc' || name == 'target' || name == 'formaction' || name == 'action') return;
  if (value == null) return el.removeAttribute(name);
  if (name == 'href' && (tag == 'a' || tag == 'area')) return el.setAttribute('data-href', value);
  if (name == 'href' && tag == 'link' && !/stylesheet|icon/i.test(el.rel || '')) return;
  if (/^(src|href|poster|background|xlink:href)$/.test(name)) value = proxied(m, value);
  else if (name == 'srcset') value = value.split(',').map((c) => c.trim().split(/\s+/)).map(([u, w]) => proxied(m, u) + (w ? ' ' + w : '')).join(', ');
  else if (name == 'style') value = css(m, value);
  try { el.setAttribute(name, value); } catch {}
  if (name == 'value' && 'value' in el) el.value = value;
}

function build(m, doc, s, svg) {
  if (s.length == 2) {
    const text = doc.createTextNode(s[1]);
    if (s[0]) m.nodes.set(s[0], text);
    return text;
  }
  const [id, tag, attrs, children, box] = s;
  if (NEVER.has(tag)) return null;
  if (tag == 'meta' && attrs['http-equiv']) return null;
  const inSvg = svg || tag == 'svg';
  let el;
  try { el = inSvg ? doc.createElementNS(SVG, tag) : doc.createElement(tag); } catch { return null; }
  // A link's `rel` first: whether its `href` is loaded depends on it.
  for (const [name, value] of Object.entries(attrs).sort(([a], [b]) => (b == 'rel') - (a == 'rel'))) attribute(m, el, name, value);
  if (box) {
    Object.assign(el.style, { display: 'inline-block', width: box[0] + 'px', height: box[1] + 'px', background: '#d1d5db', borderRadius: '4px' });
    el.dataset.private = '';
  }
  for (const c of children) {
    const child = tag == 'style' && c.length == 2 ? doc.createTextNode(css(m, c[1])) : build(m, doc, c, inSvg && tag != 'foreignObject');
    if (child) el.append(child);
  }
  if (id) m.nodes.set(id, el);
  return el;
}

function apply(m, frame, batch) {
  const doc = frame.contentDocument;
  if (batch.snap) {
    m.base = batch.base;
    m.nodes = new Map();
    const root = build(m, doc, batch.snap);
    if (root) doc.replaceChild(root, doc.documentElement);
    m.dot = null;
    size(m, frame, batch.vp);
    frame.contentWindow.scrollTo(...batch.sc);
    frame.dataset.state = 'shown';
    return;
  }
  for (const op of batch.m || []) {
    const [kind, id] = op, el = m.nodes.get(id);
    if (kind == 't' && el) el.data = op[2];
    else if (kind == 'a' && el) attribute(m, el, op[2], op[3]);
    else if (kind == 'r' && el) el.remove(), m.nodes.delete(id);
    else if (kind == 'n' && el) {
      m.nodes.get(op[3][0])?.remove();
      const added = build(m, doc, op[3], el.namespaceURI == SVG);
      if (added) el.insertBefore(added, m.nodes.get(op[2]) || null);
    } else if (kind == 'x' && el) {
      const built = build(m, doc, op[2], el.namespaceURI == SVG);
      built ? el.replaceWith(built) : el.remove();
    } else if (kind == 'v' && el) 'value' in el ? el.value = op[2] : el.textContent = op[2];
    else if (kind == 's') (id ? el : frame.contentWindow)?.scrollTo(op[2], op[3]);
    else if (kind == 'w') size(m, frame, [op[1], op[2]]);
    else if (kind == 'p' || kind == 'c') mark(m, doc, op[1], op[2], kind == 'c');
  }
}

// The visitor's window, shown whole in the pane.
function size(m, frame, [w, h]) {
  const pane = frame.parentNode, scale = Math.min(1, (pane.clientWidth || w) / w);
  Object.assign(frame.style, { width: w + 'px', height: h + 'px', transform: 'scale(' + scale + ')', transformOrigin: '0 0' });
  pane.style.height = Math.ceil(h * scale) + 'px';
}

// Where the visitor's pointer is, and where they clicked.
function mark(m, doc, x, y, click) {
  if (!m.dot || !m.dot.isConnected) {
    m.dot = doc.createElement('div');
    Object.assign(m.dot.style, { position: 'absolute', width: '12px', height: '12px', margin: '-6px', borderRadius: '50%',
      background: '#2563eb', pointerEvents: 'none', zIndex: 2147483647, transition: 'box-shadow .3s' });
    m.dot.dataset.testid = 'cobrowse-pointer';
    doc.body?.append(m.dot);
  }
  Object.assign(m.dot.style, { left: x + 'px', top: y + 'px', boxShadow: click ? '0 0 0 12px #2563eb55' : 'none' });
}

export function attach(frame, conversation, each) {
  const m = frame.mirror = { parts: '', nodes: new Map(), conversation, waiting: [] },
    id = (target) => { for (const [n, el] of m.nodes) if (el == target) return n; return 0; };
  let wheel;
  frame.addEventListener('load', () => {
    m.ready = true;
    for (const batch of m.waiting.splice(0)) apply(m, frame, batch);
    const doc = frame.contentDocument, view = frame.contentWindow;
    doc.addEventListener('click', (e) => {
      e.preventDefault();
      each('click', Math.round(e.pageX), Math.round(e.pageY), id(e.target), '');
    }, true);
    doc.addEventListener('input', (e) => each('type', 0, 0, id(e.target), (e.target.value ?? '').replaceAll('\u2022', '')), true);
    doc.addEventListener('wheel', (e) => {
      wheel ??= [view.scrollX, view.scrollY];
      wheel = [Math.max(0, wheel[0] + e.deltaX), Math.max(0, wheel[1] + e.deltaY)];
      clearTimeout(m.wheeling);
      m.wheeling = setTimeout(() => { each('scroll', Math.round(wheel[0]), Math.round(wheel[1]), 0, ''); wheel = null; }, 100);
    }, { passive: true });
  });
}

export function piece(frame, data, more) {
  const m = frame.mirror;
  if (!m) return;
  m.parts += data;
  if (more) return;
  let batch;
  try { batch = JSON.parse(m.parts); } catch { frame.dataset.state = 'lost'; }
  m.parts = '';
  if (!batch) return;
  if (!m.ready) return batch.snap ? m.waiting = [batch] : m.waiting.push(batch);
  try { apply(m, frame, batch); } catch { frame.dataset.state = 'lost'; }
}
