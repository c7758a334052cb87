// tinkerbox spy-cam page: the live MJPEG stream in an <img>, with a
// snapshot-refresh fallback for browsers that stop or never play the stream
// (iOS shows only its first frame), fullscreen, live stats and the capture list.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const live = $('live');
  const view = $('view');
  const state = { mode: 'stream', stats: null, still: 0, lastHash: '', snapURL: '', snapBusy: false, forced: false };

  function toLogin() { location.href = '/login?next=' + encodeURIComponent('/spycam'); }

  // iPhone/iPad (iPadOS reports itself as a Mac with touch).
  const iOS = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);

  function setMode(mode) {
    state.mode = mode;
    live.dataset.mode = mode;
    $('stat-mode').textContent = mode === 'stream' ? 'stream' : 'snapshots';
    $('mode').setAttribute('aria-pressed', String(mode === 'snapshot'));
    state.still = 0;
    state.lastHash = '';
    if (mode === 'stream') {
      live.src = '/stream.mjpg?t=' + Date.now();
    } else {
      live.removeAttribute('src'); // frees the stream connection (browsers allow ~6 per host)
      pumpSnapshot();
    }
  }

  // Snapshot mode: one request at a time, about 4 pictures a second.
  async function pumpSnapshot() {
    if (state.mode !== 'snapshot' || state.snapBusy || document.hidden) return;
    state.snapBusy = true;
    const started = performance.now();
    try {
      const res = await fetch('/snapshot.jpg', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { toLogin(); return; }
      if (res.ok && state.mode === 'snapshot') {
        const url = URL.createObjectURL(await res.blob());
        live.onload = () => { if (state.snapURL) URL.revokeObjectURL(state.snapURL); state.snapURL = url; };
        live.src = url;
      }
    } catch (e) { /* next round */ }
    const wait = Math.max(0, 250 - (performance.now() - started));
    setTimeout(() => { state.snapBusy = false; pumpSnapshot(); }, wait);
  }

  // A tiny fingerprint of the picture on screen: if the stream froze while
  // the camera is delivering, fall back to snapshots.
  const probe = document.createElement('canvas');
  probe.width = 16; probe.height = 12;
  function fingerprint() {
    if (!live.complete || live.naturalWidth === 0) return '';
    try {
      const g = probe.getContext('2d', { willReadFrequently: true });
      g.drawImage(live, 0, 0, probe.width, probe.height);
      const d = g.getImageData(0, 0, probe.width, probe.height).data;
      let h = 2166136261;
      for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 16777619); }
      return (h >>> 0).toString(16);
    } catch (e) { return ''; }
  }
  function watchdog() {
    if (state.mode !== 'stream' || document.hidden) return;
    const h = fingerprint();
    const cameraLive = state.stats && state.stats.online && state.stats.fps > 0;
    if (h !== '' && h !== state.lastHash) {
      state.lastHash = h;
      state.still = 0;
    } else if (cameraLive && ++state.still >= 3) {
      setMode('snapshot'); // 6 s without a new picture
    }
  }
  live.addEventListener('error', () => {
    if (state.mode === 'stream') setTimeout(() => { if (state.mode === 'stream') setMode(state.forced ? 'stream' : 'snapshot'); }, 1000);
  });

  async function pollStats() {
    try {
      const res = await fetch('/api/spycam', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { toLogin(); return; }
      if (res.ok) {
        const s = await res.json();
        state.stats = s;
        $('stat-res').textContent = s.width && s.height ? s.width + '×' + s.height : '–';
        $('stat-fps').textContent = (s.fps || 0).toFixed(1);
        $('stat-viewers').textContent = String(s.viewers);
        $('spy-offline').hidden = !!s.online;
      }
    } catch (e) { /* next round */ }
  }

  function renderCaptures(list) {
    const ol = $('captures');
    ol.textContent = '';
    if (!Array.isArray(list) || list.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No captures yet. Motion and button A save them here.';
      ol.appendChild(li);
      return;
    }
    for (const c of list) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = '/spycam/captures/' + encodeURIComponent(c.files[0]);
      const img = document.createElement('img');
      img.loading = 'lazy'; img.alt = ''; img.width = 160; img.height = 120;
      img.src = a.href;
      a.appendChild(img);
      const kind = document.createElement('span');
      kind.className = 'cap-kind'; kind.textContent = c.kind;
      const t = document.createElement('time');
      t.dateTime = c.event; t.textContent = new Date(c.event).toLocaleString();
      const n = document.createElement('span');
      n.className = 'cap-frames'; n.textContent = c.files.length + (c.files.length === 1 ? ' frame' : ' frames');
      li.append(a, kind, t, n);
      ol.appendChild(li);
    }
  }
  let capturesSeen = '';
  async function pollCaptures() {
    try {
      const res = await fetch('/api/spycam/captures', { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok) {
        const text = await res.text();
        if (text !== capturesSeen) {
          if (capturesSeen !== '') renderCaptures(JSON.parse(text));
          capturesSeen = text;
        }
      }
    } catch (e) { /* next round */ }
  }

  $('fullscreen').addEventListener('click', () => {
    if (document.fullscreenElement || view.classList.contains('pseudo-full')) {
      if (document.fullscreenElement) document.exitFullscreen();
      view.classList.remove('pseudo-full');
      return;
    }
    const req = view.requestFullscreen || view.webkitRequestFullscreen;
    if (req) {
      Promise.resolve(req.call(view)).catch(() => view.classList.add('pseudo-full'));
    } else {
      view.classList.add('pseudo-full'); // iPhone: no element fullscreen
    }
  });
  view.addEventListener('click', (e) => {
    if (e.target === live && view.classList.contains('pseudo-full')) view.classList.remove('pseudo-full');
  });
  $('mode').addEventListener('click', () => {
    state.forced = state.mode === 'snapshot'; // the user asked for the stream back
    setMode(state.mode === 'stream' ? 'snapshot' : 'stream');
  });
  // A hidden tab gives its stream connection back; a visible one resumes.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      if (state.mode === 'stream') live.removeAttribute('src');
    } else if (state.mode === 'stream') {
      setMode('stream');
    } else {
      pumpSnapshot();
    }
  });

  if (iOS) setMode('snapshot');
  pollStats();
  pollCaptures();
  setInterval(pollStats, 2000);
  setInterval(pollCaptures, 10000);
  setInterval(watchdog, 2000);
})();
