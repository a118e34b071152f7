// The tray of the next message's files; what it does, and why it is JS, is said where
// upload/mod.rs binds it.
const TRIES = 3;

export class Tray {
  constructor(request, say, most) {
    this.request = request;
    this.say = say;
    this.most = most;
    this.files = [];
    this.max = 0;
    this.root = null;
  }

  attach(root) {
    this.root = root;
    const give = (e, files) => {
      if (!this.max || !files || !files.length) return;
      e.preventDefault();
      this.add(files);
    };
    root.addEventListener('dragover', (e) => { if (this.max) e.preventDefault(); });
    root.addEventListener('drop', (e) => give(e, e.dataTransfer.files));
    root.addEventListener('paste', (e) => give(e, e.clipboardData && e.clipboardData.files));
    root.addEventListener('change', (e) => {
      if (!e.target.matches('.lc-attach input')) return;
      this.add(e.target.files);
      // The same file picked again is a new attachment.
      e.target.value = '';
    });
    this.accept(this.max);
  }

  accept(max) {
    this.max = max;
    if (this.root) this.root.toggleAttribute('data-files', max > 0);
  }

  add(list) {
    for (const file of list) {
      // The upload's own key, as the messages' client ids are made: a retry with it gets the
      // same file back.
      const key = Date.now().toString(16) + '-' + Math.random().toString(16).slice(2);
      const entry = { key, file, sent: 0, tries: 1, reason: '' };
      this.files.push(entry);
      if (this.files.length > this.most) this.fail(entry, this.say('too_many_files', this.most, ''));
      else if (file.size > this.max) this.fail(entry, this.say('file_too_large', Math.floor(this.max / 1e6), ''));
      else this.start(entry);
    }
  }

  start(entry) {
    const to = this.request(entry.file.name, entry.key);
    if (typeof to === 'string') return this.fail(entry, to);
    entry.state = 'uploading';
    entry.sent = 0;
    const request = entry.request = new XMLHttpRequest();
    request.open('POST', to[0]);
    request.setRequestHeader('content-type', 'application/octet-stream');
    if (to[1]) request.setRequestHeader('authorization', 'Bearer ' + to[1]);
    request.upload.onprogress = (e) => { entry.sent = e.loaded; this.draw(); };
    request.onloadend = () => {
      entry.request = null;
      // Cancelled: gone from the tray, nothing to do.
      if (!this.files.includes(entry)) return;
      const status = request.status;
      if (status >= 200 && status < 300) {
        entry.state = 'stored';
        entry.body = request.responseText;
        this.draw();
      } else if (status) {
        let reason = this.say('upload_failed', 0, '');
        try { reason = JSON.parse(request.responseText).error.message || reason; } catch (_) {}
        this.fail(entry, reason);
      } else if (entry.tries < TRIES) {
        // The network cut it off: again with the same key (stored once), after 1 s, then 2 s.
        setTimeout(() => { if (this.files.includes(entry)) this.start(entry); }, 1000 * entry.tries++);
      } else {
        this.fail(entry, this.say('upload_interrupted', 0, ''));
      }
    };
    request.send(entry.file);
    this.draw();
  }

  fail(entry, reason) {
    entry.state = 'failed';
    entry.reason = reason;
    this.draw();
  }

  act(entry, retry) {
    if (retry) {
      entry.tries = 1;
      entry.reason = '';
      this.start(entry);
    } else {
      this.files = this.files.filter((f) => f !== entry);
      if (entry.request) entry.request.abort();
      this.draw();
    }
  }

  busy() {
    return this.files.some((f) => f.state === 'uploading');
  }

  hasStored() {
    return this.files.some((f) => f.state === 'stored');
  }

  take() {
    const stored = this.files.filter((f) => f.state === 'stored');
    this.files = this.files.filter((f) => f.state !== 'stored');
    this.draw();
    return stored.map((f) => f.body);
  }

  clear() {
    for (const entry of [...this.files]) this.act(entry, false);
  }

  // Each file's item is updated and moved, never drawn anew, so a person's click never lands
  // on a replaced element. Names are set as text.
  draw() {
    const list = this.root && this.root.querySelector('.lc-tray');
    if (!list) return;
    this.files.forEach((entry, index) => {
      let item = entry.item;
      if (!item) {
        item = entry.item = document.createElement('li');
        item.className = 'lc-upload';
        item.dataset.testid = 'upload';
        item.innerHTML = '<span class="lc-fname"></span><progress max="100"></progress><small></small>'
          + '<button type="button" data-testid="upload-retry"></button>'
          + '<button type="button" data-testid="upload-cancel">×</button>';
        item.firstChild.textContent = entry.file.name;
        item.children[3].textContent = this.say('retry', 0, '');
        item.lastChild.setAttribute('aria-label', this.say('remove_file', 0, entry.file.name));
        item.lastChild.onclick = () => this.act(entry, false);
        item.children[3].onclick = () => this.act(entry, true);
      }
      const failed = entry.state === 'failed';
      item.dataset.state = entry.state;
      item.children[1].value = entry.state === 'stored' ? 100 : Math.min(100, entry.sent * 100 / (entry.file.size || 1));
      item.children[1].hidden = failed;
      item.children[2].textContent = entry.reason;
      item.children[3].hidden = !failed;
      list.insertBefore(item, list.children[index] || null);
    });
    while (list.children.length > this.files.length) list.lastChild.remove();
  }
}
