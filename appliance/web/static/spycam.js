// tinkerbox spy-cam page: the live MJPEG stream in an <img>, with a
// snapshot-refresh fallback for browsers that stop or never play the stream
// (iOS shows only its first frame), fullscreen, the camera's figures from the
// live State, snapshots, and the captures: played as clips, downloaded as a
// zip of their JPEG frames, deleted.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const live = $('live');
  const view = $('view');
  const state = { mode: 'stream', stats: null, still: 0, lastHash: '', snapURL: '', snapBusy: false, forced: false };
  const { toast, sceneStatus, sceneRunning } = tinkerbox.scene;
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


  // The camera's figures come with every State; the viewer count (not in
  // the State) is fetched at most every 3 s while States arrive.
  let statsAt = 0;
  async function fetchViewers() {
    statsAt = Date.now();
    try {
      const res = await fetch('/api/spycam', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { toLogin(); return; }
      if (res.ok) $('stat-viewers').textContent = String((await res.json()).viewers);
    } catch (e) { /* offline: live.js shows it */ }
  }
  tinkerbox.onState((s) => {
    const c = s.camera || {};
    state.stats = c;
    $('stat-res').textContent = c.width && c.height ? c.width + '×' + c.height : '–';
    $('stat-fps').textContent = (c.fps || 0).toFixed(1);
    $('spy-offline').hidden = !!c.online;
    if (Date.now() - statsAt > 3000) fetchViewers();
  });

  sceneStatus((on) => { $('spy-motion').hidden = on; });

  $('snap').addEventListener('click', async () => {
    const b = $('snap');
    b.disabled = true;
    const r = await tinkerbox.post('/api/spycam/snapshot', {});
    b.disabled = false;
    if (!r.ok) { toast(r.data.error); return; }
    toast('Snapshot taken: it appears in the captures.');
    loadCaptures();
  });

  // ---- captures ----
  const editable = $('captures').dataset.edit === 'true';
  let list = [];
  function renderCaptures() {
    const ol = $('captures');
    if (list.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No captures yet. Motion and snapshots save them here.';
      ol.replaceChildren(li);
      return;
    }
    ol.replaceChildren(...list.map((c) => {
      const li = document.createElement('li');
      li.dataset.id = c.id;
      const when = new Date(c.event).toLocaleString();
      const frames = c.files.length + (c.files.length === 1 ? ' frame' : ' frames');
      const play = document.createElement('button');
      play.type = 'button';
      play.className = 'cap-play';
      play.setAttribute('aria-label', (c.files.length > 1 ? 'Play ' : 'View ') + c.kind + ' capture of ' + when + ', ' + frames);
      const img = document.createElement('img');
      img.loading = 'lazy'; img.alt = ''; img.width = 160; img.height = 120;
      img.src = '/spycam/captures/' + encodeURIComponent(c.files[0]);
      play.appendChild(img);
      play.addEventListener('click', () => openPlayer(c));
      const kind = document.createElement('span');
      kind.className = 'cap-kind'; kind.textContent = c.kind;
      const t = document.createElement('time');
      t.dateTime = c.event; t.textContent = when;
      const n = document.createElement('span');
      n.className = 'cap-frames'; n.textContent = frames;
      li.append(play, kind, t, n);
      return li;
    }));
  }
  let capturesSeen = '';
  async function loadCaptures() {
    try {
      const res = await fetch('/api/spycam/captures', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { toLogin(); return; }
      if (!res.ok) return;
      const text = await res.text();
      if (text === capturesSeen) return;
      capturesSeen = text;
      list = JSON.parse(text);
      renderCaptures();
    } catch (e) { /* offline */ }
  }
  // New captures are logged (motion, snapshots): a new spy-cam event in the
  // log is the cue to list them again.
  let lastEvent = -1;
  tinkerbox.onEvents((evs) => {
    const top = (evs || []).find((e) => e.source === 'spycam');
    const id = top ? top.id : 0;
    if (lastEvent >= 0 && id !== lastEvent) loadCaptures();
    lastEvent = id;
  });

  // ---- the player: a capture's JPEG frames shown one after another ----
  const FPS = 10;
  const player = { c: null, frames: [], i: 0, timer: 0, playing: false };
  const pimg = $('player-img');
  function showFrame(i) {
    const p = player;
    p.i = i;
    pimg.src = p.frames[i].src;
    $('player-seek').value = String(i);
    $('player-pos').textContent = (i + 1) + ' / ' + p.frames.length;
    $('player-frame').href = p.frames[i].src;
    $('player-frame').download = p.c.files[i];
  }
  function tick() {
    const p = player;
    if (!p.playing) return;
    const next = (p.i + 1) % p.frames.length;
    // Wait for a frame still loading rather than show a blank.
    if (!p.frames[next].complete) { p.timer = setTimeout(tick, 50); return; }
    showFrame(next);
    p.timer = setTimeout(tick, 1000 / FPS);
  }
  function setPlaying(on) {
    player.playing = on && player.frames.length > 1;
    clearTimeout(player.timer);
    $('player-play').textContent = player.playing ? 'Pause' : 'Play';
    $('player-play').disabled = player.frames.length <= 1;
    if (player.playing) player.timer = setTimeout(tick, 1000 / FPS);
  }
  function openPlayer(c) {
    player.c = c;
    // Preload every frame (a capture is at most 150 small JPEGs).
    player.frames = c.files.map((f) => { const im = new Image(); im.src = '/spycam/captures/' + encodeURIComponent(f); return im; });
    $('player-h').textContent = (c.kind === 'motion' ? 'Motion' : 'Snapshot') + ' · ' + new Date(c.event).toLocaleString();
    pimg.alt = c.kind + ' capture of ' + new Date(c.event).toLocaleString();
    $('player-seek').max = String(c.files.length - 1);
    $('player-zip').href = '/spycam/captures/' + encodeURIComponent(c.id) + '.zip';
    $('player-zip').hidden = !editable;
    $('player-delete').hidden = !editable;
    showFrame(0);
    $('player').showModal();
    setPlaying(true);
  }
  $('player-play').addEventListener('click', () => setPlaying(!player.playing));
  $('player-seek').addEventListener('input', () => { setPlaying(false); showFrame(Number($('player-seek').value)); });
  $('player').addEventListener('close', () => { setPlaying(false); player.frames = []; });
  $('player-delete').addEventListener('click', async () => {
    const c = player.c;
    if (!c || !confirm('Delete this capture (' + c.files.length + ' frames)?')) return;
    const r = await tinkerbox.post('/api/spycam/captures/' + encodeURIComponent(c.id) + '/delete', {});
    if (!r.ok) { toast(r.data.error); return; }
    $('player').close();
    toast('Capture deleted.');
    loadCaptures();
  });

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
  loadCaptures();
  setInterval(watchdog, 2000); // looks at the picture on screen, asks the server nothing
})();
