// What this does is said where form.rs binds it (comments here cost the panel bytes).
export function ask(box, key, prompt, fields, submit, done) {
  if (box.dataset.key !== key || box.dataset.fields !== fields) {
    Object.assign(box.dataset, { key, fields });
    box.textContent = '';
    if (!key) return;
    const make = (tag, className) => Object.assign(document.createElement(tag), { className });
    const form = make('form', 'lc-form'), button = make('button');
    form.dataset.testid = key;
    form.append(make('span', 'lc-prompt'));
    for (const [name, label, kind, required] of JSON.parse(fields)) {
      const input = make(kind === 'message' ? 'textarea' : 'input'), row = make('label');
      Object.assign(input, { name, required });
      if (kind !== 'message') Object.assign(input, { type: kind, autocomplete: name });
      row.append(label, input);
      form.append(row);
    }
    button.textContent = submit;
    form.append(button);
    form.onsubmit = (e) => { e.preventDefault(); done(key, Object.fromEntries(new FormData(form))); };
    box.append(form);
  }
  if (key) box.querySelector('.lc-prompt').textContent = prompt;
}
