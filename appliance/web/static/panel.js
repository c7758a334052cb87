// tinkerbox front panel: renders the appliance from the /api/state/stream
// Server-Sent Events and sends button presses and scene switches.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const LONG_MS = 1000;

  let last = null; // last rendered state

  // ---- talking to the server (live.js) ----

  const tb = window.tinkerbox;

  async function post(url, body) {
    const r = await tb.post(url, body);
    if (r.status === 401) return;
    if (!r.ok) { toast(r.status === 0 ? r.data.error : (r.data.error || 'failed')); return; }
    render(r.data); // immediate feedback; the stream confirms
  }

  function press(button, kind) { post('/api/buttons/' + button, { press: kind }); }

  let toastTimer = 0;
  function toast(msg) {
    const t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  // ---- rendering ----

  function render(s) {
    if (!s || typeof s !== 'object') return;
    const prev = last;
    last = s;
    $('paper-wrap').hidden = !s.sim; // only the simulator has a roll to show
    renderScene(s, prev);
    renderHelp(s.help || {});
    renderLEDs(s.leds || {});
    renderDisplay(s.display);
    renderPrinter(s.printer || {}, s.scene);
    renderCamera(s.camera || {});
  }

  // What the buttons do and the lights mean in the running scene.
  function renderHelp(h) {
    $('help-a').textContent = h.a || '—';
    $('help-a-long').textContent = h.a_long || 'nothing in this scene';
    $('help-b').textContent = h.b || 'next scene';
    const lights = h.lights || {};
    for (const el of document.querySelectorAll('[data-legend]')) {
      el.textContent = lights[el.dataset.legend] || 'not used in this scene';
    }
  }

  function renderScene(s, prev) {
    $('scene-name').textContent = s.scene || '—';
    // A scene that keeps failing says why, and how often it was restarted.
    const err = $('scene-error');
    const x = s.extra || {};
    err.hidden = !x.scene_error;
    err.textContent = x.scene_error ? 'Restarted ' + (x.scene_restarts || 1) + '×: ' + x.scene_error : '';
    const sel = $('scene-select');
    const names = s.scenes || [];
    if (!prev || (prev.scenes || []).join('\n') !== names.join('\n')) {
      sel.replaceChildren(...names.map((n) => new Option(n, n)));
    }
    if (document.activeElement !== sel) sel.value = s.scene;
  }

  function renderLEDs(leds) {
    for (const el of document.querySelectorAll('[data-led]')) {
      const led = leds[el.dataset.led] || { mode: 'off' };
      const cls = 'mode-' + (['on', 'blink', 'blink-fast'].includes(led.mode) ? led.mode : 'off');
      if (!el.classList.contains(cls)) {
        el.classList.remove('mode-off', 'mode-on', 'mode-blink', 'mode-blink-fast');
        el.classList.add(cls);
      }
    }
  }

  const matrix = $('matrix');
  const mctx = matrix.getContext('2d');
  let lastPixels = '';
  function renderDisplay(d) {
    const w = (d && d.w) || 17, h = (d && d.h) || 7;
    const px = (d && d.pixels) || [];
    const key = w + 'x' + h + ':' + px.join(',');
    if (key === lastPixels) return;
    lastPixels = key;
    const pitch = 20;
    const dpr = window.devicePixelRatio || 1;
    if (matrix.width !== w * pitch * dpr) {
      matrix.width = w * pitch * dpr;
      matrix.height = h * pitch * dpr;
    }
    mctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    mctx.clearRect(0, 0, w * pitch, h * pitch);
    const r = pitch * 0.36;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = (px[y * w + x] || 0) / 255;
        const cx = x * pitch + pitch / 2, cy = y * pitch + pitch / 2;
        mctx.shadowBlur = 0;
        mctx.fillStyle = '#23262a';
        mctx.beginPath(); mctx.arc(cx, cy, r, 0, Math.PI * 2); mctx.fill();
        if (v > 0) {
          mctx.shadowColor = `rgba(255, 236, 200, ${0.9 * v})`;
          mctx.shadowBlur = 10 * v;
          mctx.fillStyle = `rgba(255, 246, 228, ${0.25 + 0.75 * v})`;
          mctx.beginPath(); mctx.arc(cx, cy, r, 0, Math.PI * 2); mctx.fill();
        }
      }
    }
  }

  function renderPrinter(p, sceneName) {
    $('printer-status').textContent = p.online ? (p.status || 'ready') : (p.status || 'offline');
    const q = p.queue || 0;
    $('printer-queue').textContent = String(q);
    // Strips wait in the queue until the comic scene runs its printer.
    const note = $('queue-note');
    note.hidden = q === 0 || sceneName === 'comic';
    note.textContent = q + (q === 1 ? ' strip waits' : ' strips wait') + ': they print when the comic scene runs.';
    $('printer-width').textContent = (p.width || 0) + ' dots';
    const roll = $('roll');
    if (!p.rows) {
      roll.hidden = true;
      $('paper-empty').hidden = false;
      return;
    }
    if (roll.dataset.version === String(p.version)) return;
    roll.dataset.version = String(p.version);
    roll.onload = () => {
      roll.hidden = false;
      $('paper-empty').hidden = true;
      const paper = $('paper');
      paper.scrollTop = paper.scrollHeight; // newest print is at the end
    };
    roll.onerror = () => { roll.hidden = true; };
    roll.src = '/api/printer/roll.png?v=' + encodeURIComponent(p.version);
  }

  // Camera: fetch a snapshot ~3 times a second while the card is on screen
  // and the tab is visible; one request at a time, so a slow link never piles
  // up requests.
  const cam = { online: false, visible: true, busy: false, url: '' };
  function renderCamera(c) {
    const card = $('camera-card');
    card.hidden = !c.online;
    cam.online = !!c.online;
    const bits = [];
    if (c.width && c.height) bits.push(c.width + '×' + c.height);
    if (c.fps) bits.push(c.fps.toFixed(1) + ' fps');
    $('camera-meta').textContent = bits.join(' · ');
    const err = $('camera-error');
    err.textContent = c.error || '';
    err.hidden = !c.error;
    if (cam.online) pumpCamera();
  }
  async function pumpCamera() {
    if (cam.busy || !cam.online || !cam.visible || document.hidden) return;
    cam.busy = true;
    const started = performance.now();
    try {
      const res = await fetch('/snapshot.jpg', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { tb.toLogin(); return; }
      if (res.ok) {
        const url = URL.createObjectURL(await res.blob());
        const img = $('camera');
        img.onload = () => { if (cam.url) URL.revokeObjectURL(cam.url); cam.url = url; };
        img.src = url;
      }
    } catch (e) { /* the next round tries again */ }
    const wait = Math.max(0, 333 - (performance.now() - started));
    setTimeout(() => { cam.busy = false; pumpCamera(); }, wait);
  }
  if ('IntersectionObserver' in window) {
    new IntersectionObserver((entries) => {
      cam.visible = entries.some((e) => e.isIntersecting);
      pumpCamera();
    }).observe($('camera-card'));
  }
  document.addEventListener('visibilitychange', pumpCamera);

  function renderEvents(list) {
    const ol = $('events');
    if (!Array.isArray(list) || list.length === 0) {
      const li = document.createElement('li');
      li.className = 'events-empty';
      li.textContent = 'No events yet.';
      ol.replaceChildren(li);
      return;
    }
    const items = list.map((ev) => {
      const li = document.createElement('li');
      const t = document.createElement('time');
      const at = new Date(ev.at);
      t.dateTime = ev.at;
      t.textContent = isNaN(at) ? '' : at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
      const lvl = document.createElement('span');
      const level = ['info', 'warn', 'error'].includes(ev.level) ? ev.level : 'info';
      li.className = 'ev-' + level;
      lvl.className = 'lvl lvl-' + level;
      lvl.textContent = ev.level || 'info';
      const src = document.createElement('span');
      src.className = 'src';
      src.textContent = ev.source || '';
      const msg = document.createElement('span');
      msg.className = 'msg';
      msg.textContent = ev.message || '';
      li.append(t, lvl, src, msg);
      return li;
    });
    ol.replaceChildren(...items);
  }

  // ---- controls ----

  // A click is a short press; holding for a second is a long press, sent as
  // soon as the second is up so it feels like the real button.
  function wireButton(el, name) {
    let timer = 0, down = false, fired = false;
    const reset = () => {
      clearTimeout(timer);
      down = false;
      el.classList.remove('pressed', 'holding', 'long');
    };
    el.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      el.setPointerCapture(e.pointerId);
      down = true; fired = false;
      el.classList.add('pressed', 'holding');
      timer = setTimeout(() => {
        fired = true;
        el.classList.add('long');
        press(name, 'long');
      }, LONG_MS);
    });
    el.addEventListener('pointerup', () => {
      if (!down) return;
      const short = !fired;
      reset();
      if (short) press(name, 'short');
    });
    el.addEventListener('pointercancel', reset);
    el.addEventListener('contextmenu', (e) => e.preventDefault());
    el.addEventListener('keydown', (e) => {
      if ((e.key === 'Enter' || e.key === ' ') && !e.repeat) {
        e.preventDefault();
        press(name, 'short');
      }
    });
  }
  $('btn-chord').addEventListener('click', () => press('A+B', 'long'));
  wireButton($('btn-a'), 'A');
  wireButton($('btn-b'), 'B');

  document.addEventListener('keydown', (e) => {
    if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target && e.target.tagName) || '';
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON') return;
    const k = e.key.toUpperCase();
    if (k === 'A' || k === 'B') {
      const btn = $('btn-' + k.toLowerCase());
      btn.classList.add('pressed');
      setTimeout(() => btn.classList.remove('pressed'), 120);
      press(k, 'short');
    }
  });

  $('scene-select').addEventListener('change', (e) => {
    const name = e.target.value;
    if (last && name === last.scene) return;
    post('/api/scene', { name });
    e.target.blur();
  });

  // The simulator's camera: a sheet of drawings from a file, under the lens.
  const sheetFile = $('sheet-file');
  if (sheetFile) {
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
    const sheet = async (method, file) => {
      let res;
      try {
        res = await fetch('/api/sim/camera/sheet', {
          method, credentials: 'same-origin', body: file,
          headers: Object.assign({ 'X-CSRF-Token': csrf }, file ? { 'Content-Type': file.type } : {}),
        });
      } catch (e) { toast('no answer from the appliance'); return; }
      if (res.status === 401) { tb.toLogin(); return; }
      const data = await res.json().catch(() => ({}));
      if (!res.ok) { toast(data.error || 'failed'); return; }
      toast(data.sheet ? 'The sheet is under the camera.' : 'The sheet is gone.');
    };
    sheetFile.addEventListener('change', () => {
      const f = sheetFile.files[0];
      if (f) sheet('POST', f);
      sheetFile.value = '';
    });
    $('sheet-clear').addEventListener('click', () => sheet('DELETE'));
  }

  // Initial paint from the page's own state, then live.
  fetch('/api/events?n=20', { credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : null))
    .then((list) => { if (list) renderEvents(list); })
    .catch(() => {});
  // Offline: the last picture stays, marked stale by base.css; nothing that
  // reads as live (fps, a moving camera) is kept up.
  tb.onOffline(() => {
    cam.online = false;
    $('camera-meta').textContent = 'offline';
  });
  tb.onState(render);
  tb.onEvents(renderEvents);
})();
