// What each function does, and why it is JS, is said where upload/mod.rs binds it.
export function listenForFiles(root) {
  const input = () => {
    const i = root.querySelector('.lc-attach input');
    return i && !i.parentNode.hidden ? i : null;
  };
  const give = (e, files) => {
    const i = input();
    if (!i || !files || !files.length) return;
    e.preventDefault();
    i.files = files;
    i.dispatchEvent(new Event('change'));
  };
  root.addEventListener('dragover', (e) => { if (input()) e.preventDefault(); });
  root.addEventListener('drop', (e) => give(e, e.dataTransfer.files));
  root.addEventListener('paste', (e) => give(e, e.clipboardData && e.clipboardData.files));
}

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

export function drawUpload(root, index, key, name, state, percent, reason, act) {
  const list = root.querySelector('.lc-tray');
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

export function keepUploads(root, count) {
  const list = root.querySelector('.lc-tray');
  while (list.children.length > count) list.lastChild.remove();
}
