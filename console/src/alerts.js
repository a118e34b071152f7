// What this does is said where alerts.rs binds it.
const SETTINGS = 'livechat:alerts';
const me = Math.random().toString(36).slice(2);
const peers = new Map();
const tabs = 'BroadcastChannel' in window ? new BroadcastChannel('livechat-console') : null;
if (tabs) {
  tabs.onmessage = (e) => e.data.startsWith('bye:') ? peers.delete(e.data.slice(4)) : peers.set(e.data, Date.now());
  const beat = () => tabs.postMessage(me);
  beat();
  setInterval(beat, 1000);
  addEventListener('pagehide', () => tabs.postMessage('bye:' + me));
}

export function leading() {
  const now = Date.now();
  for (const [id, at] of peers) if (now - at > 3000) peers.delete(id);
  return [...peers.keys()].every((id) => id > me);
}

export function setting(name, otherwise) {
  try {
    const value = JSON.parse(localStorage.getItem(SETTINGS) || '{}')[name];
    return typeof value === 'boolean' ? value : otherwise;
  } catch (e) {
    return otherwise;
  }
}

export function remember(name, on) {
  let all = {};
  try { all = JSON.parse(localStorage.getItem(SETTINGS) || '{}'); } catch (e) {}
  all[name] = on;
  localStorage.setItem(SETTINGS, JSON.stringify(all));
}

export function raise(title, body, tag, open) {
  if (!leading()) return;
  if (setting('sound', true)) new Audio('ding.wav').play().catch(() => {});
  if (setting('desktop', false) && document.hidden && window.Notification && Notification.permission === 'granted') {
    const note = new Notification(title, { body, tag });
    note.onclick = () => { window.focus(); open(); note.close(); };
  }
}

export function askPermission() {
  return window.Notification ? Notification.requestPermission() : Promise.resolve('denied');
}
