// What this does is said where form.rs (connection.rs: unread, watch; lib.rs: adopt, wanted; texts.rs: say, when; panel.rs: draw, keep) binds it (comments here cost the panel bytes).
export function ask(box, key, prompt, fields, submit, done, url, token) {
  if (box.dataset.key !== key || box.dataset.fields !== fields) {
    Object.assign(box.dataset, { key, fields });
    box.textContent = '';
    if (!key) return;
    const make = (tag, className) => Object.assign(document.createElement(tag), { className });
    const form = make('form', 'lc-form'), button = make('button');
    form.dataset.testid = key;
    form.append(make('span', 'lc-prompt'));
    for (const [name, label, kind, required] of JSON.parse(fields)) {
      if (kind.r) {
        const group = make('fieldset', 'lc-choices');
        group.append(make('legend'));
        group.firstChild.textContent = label;
        for (const [value, text] of kind.r) {
          const choice = make('label');
          choice.append(Object.assign(make('input'), { type: 'radio', name, value, required }), text);
          group.append(choice);
        }
        form.append(group);
        continue;
      }
      const list = Array.isArray(kind), row = make('label'),
        input = make(list ? 'select' : kind === 'message' ? 'textarea' : 'input');
      Object.assign(input, { name, required });
      if (list) input.append(new Option(''), ...kind.map((k) => new Option(k)));
      else if (kind !== 'message') Object.assign(input, { type: kind, autocomplete: name });
      row.append(label, input);
      form.append(row);
    }
    button.textContent = submit;
    if (submit) form.append(button);
    form.onsubmit = (e) => {
      e.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      if (!url) return done(key, values);
      if (values.consent) values.consent = true;
      if (values.score) values.score = +values.score;
      fetch(url, { method: 'POST', body: JSON.stringify(values),
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token } })
        .then((r) => r.ok ? null : r.json().then(({ error }) => {
          for (const field of form.elements) field.ariaInvalid = error.fields?.[field.name] ? 'true' : null;
          return error.code;
        }))
        .catch(() => 'network')
        .then((refused) => done(key, refused));
    };
    box.append(form);
  }
  if (key) box.querySelector('.lc-prompt').textContent = prompt;
}

export function prechatFields(asked, t) {
  const q = JSON.parse(asked), rows = [['name', t.your_name, 'text'], ['email', t.your_email, 'email'],
    ['phone', t.your_phone, 'tel']].filter(([n]) => q[n] !== 'off').map((r) => [...r, q[r[0]] === 'required']);
  if (q.topics.length) rows.push(['topic', t.topic, q.topics, true]);
  if (q.consent) rows.push(['consent', q.consent, 'checkbox', true]);
  return JSON.stringify(rows);
}
export function unread(root, emit, text, tone) {
  const box = root.parentNode, badge = box.querySelector('.lc-launcher>b');
  box.querySelector(':scope>p').textContent = text.slice(0, 140);
  emit('unread', badge.textContent = +badge.textContent + 1);
  if (tone) try {
    const sound = new AudioContext(), beep = sound.createOscillator();
    beep.connect(sound.destination); beep.start(); beep.stop(.2);
  } catch (e) {}
  return badge;
}
export function watch(emit, frame, seen) {
  const { type, message: m } = frame, id = frame.conversation_id || m && m.conversation_id;
  seen.at ??= Date.now();
  if (type == 'ready') return seen.id = id;
  if (id && id != seen.id) emit('conversation', { state: 'started', id: seen.id = id });
  if (type == 'status' && frame.status == 'closed') emit('conversation', { state: 'closed', id });
  if (type == 'message' && !seen[id + m.seq] && m.sent_at_ms >= seen.at) {
    seen[id + m.seq] = 1;
    emit('message', { author: m.author.kind, text: m.text, sent_at: m.sent_at_ms });
  }
}
let sheet;
export function adopt(root, css) {
  const shadow = root.getRootNode();
  if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(css);
  if (!shadow.adoptedStyleSheets.includes(sheet)) shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
}
export function say(answer, key, name, value) {
  let text = answer.texts[key] ?? key;
  if (typeof text == 'object') text = text[new Intl.PluralRules(answer.locale).select(value)] ?? text.other;
  return name ? text.replaceAll('{' + name + '}', value) : text;
}
export function wanted(session, hint) {
  return [session && session.locale, document.documentElement.lang, hint, ...navigator.languages].filter(Boolean).join();
}
export function when(locale, ms) {
  return new Intl.DateTimeFormat(locale, { weekday: 'long', hour: 'numeric', minute: '2-digit' }).format(ms);
}
export function draw(log, lines) {
  const held = log.held ??= new Map(),
    make = (tag, className, text) => Object.assign(document.createElement(tag), { className, textContent: text ?? '' });
  let at = log.firstElementChild.nextElementSibling;
  for (const [key, who, author, text, state, note, seq, files] of lines) {
    let li = held.get(key);
    if (!li) {
      held.set(key, li = make('div', 'lc-msg lc-' + who));
      li.key = key;
      li.dataset.testid = 'message';
      if (author) li.append(make('span', 'lc-author', author));
      li.append(Object.assign(make('span', 'lc-text', text), { dir: 'auto' }), make('span', 'lc-note'));
    }
    // The files' links come with the gateway's acknowledgement.
    const drawn = JSON.stringify(files);
    if (li.files != drawn) {
      li.files = drawn;
      li.querySelectorAll('.lc-file').forEach((a) => a.remove());
      for (const [testid, href, thumb, name, label] of files) {
        const a = Object.assign(make('a', 'lc-file'), { target: '_blank', rel: 'noopener' }),
          img = Object.assign(make('img', ''), { alt: name, hidden: !thumb });
        if (href) a.href = href;
        if (thumb) img.src = thumb;
        a.dataset.testid = testid;
        a.append(img, make('span', 'lc-fname', label));
        li.lastChild.before(a);
      }
    }
    li.dataset.state = state;
    if (seq != null) li.dataset.seq = seq;
    li.lastChild.textContent = note ?? '';
    if (li != at) log.insertBefore(li, at);
    at = li.nextElementSibling;
  }
  while (at) {
    const next = at.nextElementSibling;
    held.delete(at.key);
    at.remove();
    at = next;
  }
}
export function keep(root, close) {
  const page = document.documentElement.style, narrow = matchMedia('(max-width: 480px)');
  const shown = () => {
    if (!root.hidden && narrow.matches) root.kept ??= page.overflow, page.overflow = 'hidden';
    else if (root.kept != null) page.overflow = root.kept, root.kept = null;
    if (!root.hidden) root.querySelector('textarea')?.focus();
  };
  new MutationObserver(shown).observe(root, { attributes: true, attributeFilter: ['hidden'] });
  visualViewport?.addEventListener('resize', () => root.style.setProperty('--lc-viewport', visualViewport.height + 'px'));
  root.addEventListener('keydown', (e) => {
    if (e.key == 'Escape') return close();
    if (e.key != 'Tab') return;
    const all = [...root.querySelectorAll('a[href],button,input,select,textarea')].filter((c) => !c.disabled && c.offsetParent),
      at = root.getRootNode().activeElement;
    if (e.shiftKey ? at == all[0] : at == all.at(-1)) e.preventDefault(), all.at(e.shiftKey ? -1 : 0).focus();
  });
  shown();
}
export function cobrowse(frame, c, root) {
  const { type } = frame, i = type == 'ready' ? frame.cobrowse || {} : frame.invite, key = c.store,
    t = (k) => say(c.texts, k, 'agent', i.agent_name);
  if (type.startsWith('cobrowse_')) return c.m?.then((m) => m.on(frame));
  if (!i) return;
  c.bar?.remove();
  if (i.state == 'requested') {
    const bar = c.bar = Object.assign(document.createElement('div'), { className: 'lc-cobrowse', role: 'alert' }),
      answer = (accept) => () => {
        bar.remove();
        if (accept) sessionStorage.setItem(key, i.session_id);
        c.send(JSON.stringify({ type: 'cobrowse_answer', session_id: i.session_id, accept: !!accept }));
      };
    bar.dataset.testid = 'cobrowse-request';
    bar.append(t('cobrowse_asks'));
    for (const [k, accept] of [['cobrowse_accept', 1], ['cobrowse_decline', 0]])
      bar.append(Object.assign(document.createElement('button'), { textContent: t(k), onclick: answer(accept) }));
    root.querySelector('.lc-log').before(bar);
    if (root.hidden) unread(root, c.emit, bar.firstChild.data, c.tone);
  } else if (i.state == 'active' && sessionStorage.getItem(key) == i.session_id) {
    (c.m ||= import(c.gateway + '/widget/cobrowse.js').then((m) => m.start({ ...i, send: c.send, texts: c.texts.texts })))
      .then((m) => m.on({ type: 'cobrowse', invite: i }));
  } else if (i.state != 'active') {
    sessionStorage.removeItem(key);
    c.m?.then((m) => m.stop());
    c.m = null;
  }
}
