// What this does is said where form.rs (connection.rs: unread, watch; lib.rs: adopt, wanted; texts.rs: say; panel.rs: when) binds it (comments here cost the panel bytes).
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
      fetch(url, { method: 'POST', body: JSON.stringify(values),
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token } })
        .then((r) => r.ok ? null : r.json().then((b) => b.error.message))
        .catch(() => 'The chat service cannot be reached.')
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
