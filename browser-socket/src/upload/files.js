// The browser's side of uploads, shared by the widget and the console: the files a person drops
// on an element or pastes into it, and one file's upload with its progress. (Written here rather
// than through web-sys: each browser call bound from Rust costs both apps' WASM a shim.)

// Calls `take(files)` with the files dropped on `target` or pasted into it while `accepts()`
// says so. A dropped file is otherwise opened by the browser; pasted text stays text.
export function listenForFiles(target, accepts, take) {
  target.addEventListener('dragover', (e) => { if (accepts()) e.preventDefault(); });
  target.addEventListener('drop', (e) => {
    if (!accepts()) return;
    e.preventDefault();
    take(e.dataTransfer.files);
  });
  target.addEventListener('paste', (e) => {
    const files = e.clipboardData && e.clipboardData.files;
    if (files && files.length && accepts()) {
      e.preventDefault();
      take(files);
    }
  });
}

// POSTs the file's bytes as they are to `url` (with `token` as the bearer, if any), with the
// browser's XMLHttpRequest, whose upload progress `fetch` does not report: `progress(sentBytes)`
// as it goes, then `end(status, body)` once, status 0 when the network cut it off or it was
// aborted. Returns the function that aborts it.
export function upload(url, token, file, progress, end) {
  const request = new XMLHttpRequest();
  request.open('POST', url);
  request.setRequestHeader('content-type', 'application/octet-stream');
  if (token) request.setRequestHeader('authorization', 'Bearer ' + token);
  request.upload.onprogress = (e) => progress(e.loaded);
  request.onloadend = () => {
    request.upload.onprogress = null;
    end(request.status, request.responseText);
  };
  request.send(file);
  return () => request.abort();
}

// Draws the file at `index` of the tray `list`: its name, its progress while it uploads, or why
// it failed and a Retry; × removes it. The item drawn before for the same key is updated and
// moved, not drawn anew, so a person's click never lands on a replaced element. `act(key,
// retry)` runs on a click. Names are set as text, never as HTML.
export function drawUpload(list, index, key, name, state, percent, reason, act) {
  let item = [...list.children].find((i) => i.dataset.key === key);
  if (!item) {
    item = document.createElement('li');
    item.className = 'lc-upload';
    item.dataset.testid = 'upload';
    item.dataset.key = key;
    item.innerHTML = '<span class="lc-fname"></span><progress max="100"></progress><small></small>'
      + '<button type="button" data-testid="upload-retry">Retry</button>'
      + '<button type="button" data-testid="upload-cancel">×</button>';
    item.firstChild.textContent = name;
    item.lastChild.setAttribute('aria-label', 'Remove ' + name);
    item.lastChild.onclick = () => act(key, false);
    item.children[3].onclick = () => act(key, true);
  }
  const failed = state === 'failed';
  item.dataset.state = state;
  item.children[1].value = percent;
  item.children[1].hidden = failed;
  item.children[2].textContent = reason;
  item.children[3].hidden = !failed;
  list.insertBefore(item, list.children[index] || null);
}

// Removes the tray's items past the first `count` (files cancelled or sent).
export function keepUploads(list, count) {
  while (list.children.length > count) list.lastChild.remove();
}
