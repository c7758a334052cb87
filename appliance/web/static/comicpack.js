// tinkerbox comic pack editor: the maker's own drawings on /comics
// (/api/comics/pack). Add them from the camera or as uploaded photos; open
// one to set its role, theme, character, facing, anchor, horizon, minimum
// panel and weight, and its focal rectangle by dragging on it (pointer
// events: mouse, pen or touch; in the drawing's own pixels whatever size it
// is shown at); a preview strip follows the unsaved settings. The server's
// refusals (comic check's words) show next to their fields.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const box = $('pack');
  if (!box) return;
  const { toast } = tinkerbox.scene;
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : '';
  const OPEN = 'tinkerbox.comics.pack.open';

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // call sends JSON (or nothing) with the CSRF token; it never rejects.
  async function call(method, url, body, signal) {
    let res;
    try {
      const opts = { method, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf }, signal };
      if (body !== undefined) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
      }
      res = await fetch(url, opts);
    } catch (e) {
      if (e.name === 'AbortError') return { ok: false, status: -1, data: {} };
      return { ok: false, status: 0, data: { error: 'The appliance is not answering.' } };
    }
    if (res.status === 401) { tinkerbox.toLogin(); return { ok: false, status: 401, data: {} }; }
    const type = res.headers.get('Content-Type') || '';
    if (res.ok && type.startsWith('image/')) return { ok: true, status: res.status, blob: await res.blob() };
    const data = await res.json().catch(() => ({}));
    if (!res.ok && !data.error) data.error = res.statusText || ('HTTP ' + res.status);
    return { ok: res.ok, status: res.status, data };
  }

  const status = (msg, kind) => {
    const s = $('pack-status');
    s.textContent = msg;
    s.dataset.kind = kind || '';
  };

  // ---- the pack ----

  let pack = null;
  let busy = false, again = false;
  async function load() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await call('GET', '/api/comics/pack');
      if (!r.ok) { if (r.status !== 401) status(r.data.error, 'bad'); return; }
      pack = r.data;
      render();
    } finally {
      busy = false;
      if (again) { again = false; load(); }
    }
  }

  const label = (d) => d.theme + ' · ' + d.role + (d.character ? ' · ' + d.character : '');

  function render() {
    const off = !pack.available;
    $('pack-off').hidden = !off;
    $('pack-off').textContent = pack.reason || '';
    $('pack-add').hidden = off;
    if (off) { $('pack-grid').replaceChildren(); $('pack-count').textContent = ''; return; }
    const n = pack.drawings.length;
    $('pack-count').textContent = n === 1 ? '1 drawing' : n + ' drawings';
    $('pack-empty').hidden = n > 0;
    const byFile = new Map();
    for (const p of pack.problems) {
      if (!byFile.has(p.file)) byFile.set(p.file, []);
      byFile.get(p.file).push(p.message);
    }
    const list = $('pack-problem-list');
    const msgs = pack.problems.map((p) => p.message);
    if (pack.error && n > 0) msgs.push(pack.error);
    list.replaceChildren(...msgs.map((m) => el('li', '', m)));
    $('pack-problems').hidden = msgs.length === 0;
    $('pack-grid').replaceChildren(...pack.drawings.map((d, i) => {
      const li = el('li', 'pack-item');
      li.dataset.file = d.file;
      const b = el('button', 'pack-open');
      b.type = 'button';
      const img = el('img');
      img.src = d.url;
      img.alt = '';
      img.loading = 'lazy';
      if (d.width && d.height) { img.width = d.width; img.height = d.height; }
      b.setAttribute('aria-label', 'Edit drawing ' + (i + 1) + ': ' + label(d));
      b.append(img);
      b.addEventListener('click', () => edit(d));
      const cap = el('span', 'pack-cap', label(d));
      li.append(b, cap);
      const probs = byFile.get(d.file);
      if (probs) {
        li.classList.add('bad');
        li.append(el('span', 'pack-bad', probs.join(' ')));
      }
      if (cur && cur.file === d.file) li.classList.add('current');
      return li;
    }));
    $('pe-themes').replaceChildren(...pack.themes.map((t) => { const o = el('option'); o.value = t; return o; }));
  }

  // ---- adding drawings ----

  function added(r, from) {
    if (!r.ok) { status(r.data.error, 'bad'); return; }
    const n = r.data.added.length;
    let msg = n === 1 ? 'Added 1 drawing' : 'Added ' + n + ' drawings';
    msg += from + '.';
    if (r.data.error) msg += ' ' + r.data.error;
    status(msg, r.data.error ? 'warn' : 'ok');
    load();
  }

  $('pack-capture').addEventListener('click', async () => {
    const b = $('pack-capture');
    b.disabled = true;
    status('Put the sheet under the camera… taking the photo and finding the drawings.');
    const r = await call('POST', '/api/comics/pack/capture', {});
    b.disabled = false;
    added(r, ' from the camera');
  });

  // The upload goes by XMLHttpRequest: fetch cannot tell how much is sent.
  $('pack-file').addEventListener('change', () => {
    const input = $('pack-file');
    const files = [...input.files];
    if (files.length === 0) return;
    const form = new FormData();
    for (const f of files) form.append('photo', f, f.name);
    const bar = $('pack-bar');
    bar.value = 0;
    bar.hidden = false;
    input.disabled = true;
    const what = files.length === 1 ? files[0].name : files.length + ' pictures';
    status('Uploading ' + what + '…');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/comics/pack/photos');
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; });
    xhr.upload.addEventListener('load', () => { bar.value = 1; status('Cleaning up ' + what + ': finding the sheet and the drawings on it…'); });
    const done = (r) => {
      bar.hidden = true;
      input.disabled = false;
      input.value = '';
      if (r.status === 401) { tinkerbox.toLogin(); return; }
      added(r, ' from ' + what);
    };
    xhr.addEventListener('load', () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = { error: 'HTTP ' + xhr.status }; }
      done({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, data });
    });
    xhr.addEventListener('error', () => done({ ok: false, status: 0, data: { error: 'The upload failed: the appliance is not answering.' } }));
    xhr.send(form);
  });

  // ---- the editor ----

  let cur = null; // the drawing being edited: its spec as the form has it, with width, height, url
  let saved = ''; // its settings as saved, as JSON: the preview says when they differ
  let seed = 0;
  const img = $('pe-img');
  const stage = $('pe-stage');
  const num = (id, dflt) => { const v = $(id).value.trim(); return v === '' ? dflt : Number(v); };

  // Messages next to the fields, keyed by comic check's field names.
  const msgKey = { 'min_w/min_h': 'min' };
  function clearMsgs() {
    for (const m of document.querySelectorAll('#pe .pe-msg')) m.textContent = '';
  }
  function showProblems(probs) {
    for (const p of probs || []) {
      const m = $('pe-msg-' + (msgKey[p.field] || p.field)) || $('pe-msg-file');
      m.textContent = p.message;
    }
  }

  function edit(d) {
    cur = {
      file: d.file, theme: d.theme || '', character: d.character || '', role: d.role || 'action',
      focal: d.focal ? d.focal.slice() : null, min_w: d.min_w || 1, min_h: d.min_h || 1,
      anchor: d.anchor === 'none' ? '' : (d.anchor || ''), horizon: d.horizon ? d.horizon.slice() : null,
      facing: d.facing || '', flip: !!d.flip, weight: d.weight || 1,
      width: d.width, height: d.height,
    };
    seed = Math.floor(Math.random() * 1e9);
    $('pe-h').textContent = 'Drawing ' + d.file;
    // Shown as large as the column allows, but a tall one no taller than
    // most of the screen.
    if (d.width && d.height) stage.style.maxWidth = 'min(32rem, ' + (60 * d.width / d.height).toFixed(2) + 'vh)';
    img.src = d.url;
    img.alt = 'Drawing ' + d.file + ', ' + d.width + ' × ' + d.height + ' pixels: drag across it to mark its focal area';
    $('pe-role').value = cur.role;
    $('pe-theme').value = cur.theme;
    $('pe-character').value = cur.character;
    $('pe-facing').value = cur.facing;
    $('pe-flip').checked = cur.flip;
    $('pe-anchor').value = cur.anchor;
    $('pe-horizon').checked = !!cur.horizon;
    $('pe-h0').value = cur.horizon ? cur.horizon[0] : 0.5;
    $('pe-h1').value = cur.horizon ? cur.horizon[1] : 0.8;
    $('pe-minw').value = cur.min_w;
    $('pe-minh').value = cur.min_h;
    $('pe-weight').value = cur.weight;
    focalFields();
    drawFocal();
    horizonFields();
    clearMsgs();
    saved = JSON.stringify(spec());
    for (const li of document.querySelectorAll('#pack-grid li')) li.classList.toggle('current', li.dataset.file === d.file);
    $('pe').hidden = false;
    $('pe-delete').hidden = !d.removable;
    $('pe').scrollIntoView({ block: 'start', behavior: 'smooth' });
    preview(0);
  }

  function horizonFields() {
    const on = $('pe-horizon').checked;
    $('pe-h0').disabled = !on;
    $('pe-h1').disabled = !on;
  }

  // spec is the settings as the form says, as the API takes them.
  function spec() {
    const s = { file: cur.file, theme: $('pe-theme').value.trim(), role: $('pe-role').value, flip: $('pe-flip').checked };
    const ch = $('pe-character').value.trim();
    if (ch) s.character = ch;
    if (cur.focal) s.focal = cur.focal.slice();
    s.min_w = num('pe-minw', 1);
    s.min_h = num('pe-minh', 1);
    if ($('pe-anchor').value) s.anchor = $('pe-anchor').value;
    if ($('pe-horizon').checked) s.horizon = [num('pe-h0', 0), num('pe-h1', 1)];
    if ($('pe-facing').value) s.facing = $('pe-facing').value;
    s.weight = num('pe-weight', 1);
    return s;
  }

  // ---- the focal rectangle ----

  function focalFields() {
    const f = cur.focal;
    $('pe-fx').value = f ? f[0] : '';
    $('pe-fy').value = f ? f[1] : '';
    $('pe-fw').value = f ? f[2] : '';
    $('pe-fh').value = f ? f[3] : '';
  }

  function drawFocal() {
    const box = $('pe-focal');
    const f = cur.focal;
    if (!f || !cur.width || !cur.height) { box.hidden = true; return; }
    box.hidden = false;
    box.style.left = (100 * f[0] / cur.width) + '%';
    box.style.top = (100 * f[1] / cur.height) + '%';
    box.style.width = (100 * f[2] / cur.width) + '%';
    box.style.height = (100 * f[3] / cur.height) + '%';
  }

  // at is where a pointer is, in the drawing's own pixels.
  function at(e) {
    const r = img.getBoundingClientRect();
    const w = img.naturalWidth || cur.width, h = img.naturalHeight || cur.height;
    const x = (e.clientX - r.left) / r.width * w;
    const y = (e.clientY - r.top) / r.height * h;
    return [Math.round(Math.min(Math.max(x, 0), w)), Math.round(Math.min(Math.max(y, 0), h))];
  }

  let drag = null;
  stage.addEventListener('pointerdown', (e) => {
    if (!cur || e.button !== 0) return;
    e.preventDefault();
    stage.setPointerCapture(e.pointerId);
    drag = { id: e.pointerId, from: at(e), before: cur.focal };
  });
  const dragTo = (e) => {
    const [x0, y0] = drag.from;
    const [x1, y1] = at(e);
    cur.focal = [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)];
    drawFocal();
  };
  stage.addEventListener('pointermove', (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    dragTo(e);
  });
  const endDrag = (e, cancel) => {
    if (!drag || e.pointerId !== drag.id) return;
    if (!cancel) dragTo(e);
    // A tap, or a sliver, is no rectangle: the one before stays.
    if (cancel || !cur.focal || cur.focal[2] < 3 || cur.focal[3] < 3) cur.focal = drag.before;
    drag = null;
    drawFocal();
    focalFields();
    $('pe-msg-focal').textContent = '';
    preview();
  };
  stage.addEventListener('pointerup', (e) => endDrag(e, false));
  stage.addEventListener('pointercancel', (e) => endDrag(e, true));

  for (const id of ['pe-fx', 'pe-fy', 'pe-fw', 'pe-fh']) {
    $(id).addEventListener('input', () => {
      const v = ['pe-fx', 'pe-fy', 'pe-fw', 'pe-fh'].map((i) => $(i).value.trim());
      cur.focal = v.every((x) => x !== '') ? v.map(Number) : null;
      drawFocal();
      preview();
    });
  }
  $('pe-focal-clear').addEventListener('click', () => {
    cur.focal = null;
    focalFields();
    drawFocal();
    $('pe-msg-focal').textContent = '';
    preview();
  });

  // ---- the preview ----

  let timer = 0, inflight = null, shown = '';
  // preview fetches the strip again after the fields rest for wait ms; the
  // last request wins, earlier ones are aborted.
  function preview(wait) {
    clearTimeout(timer);
    timer = setTimeout(fetchPreview, wait === undefined ? 350 : wait);
  }
  async function fetchPreview() {
    if (!cur) return;
    if (inflight) inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    const s = spec();
    $('pe-preview-cap').textContent = 'Drawing a strip with it…';
    const r = await call('POST', '/api/comics/pack/preview', { spec: s, seed }, ctl.signal);
    if (inflight === ctl) inflight = null;
    if (r.status === -1 || !cur || s.file !== cur.file) return; // superseded
    // The preview checks the settings as a save would: its verdict is the
    // fields' messages.
    clearMsgs();
    if (!r.ok) {
      $('pe-preview-cap').textContent = 'No preview: ' + r.data.error;
      showProblems(r.data.problems);
      return;
    }
    const p = $('pe-preview');
    const url = URL.createObjectURL(r.blob);
    p.addEventListener('load', () => {
      if (shown) URL.revokeObjectURL(shown);
      shown = url;
      p.dataset.n = String(Number(p.dataset.n || 0) + 1);
    }, { once: true });
    p.src = url;
    p.alt = 'A strip in the theme “' + s.theme + '” showing this drawing';
    p.hidden = false;
    $('pe-preview-cap').textContent = 'A strip in the theme “' + s.theme + '” with this drawing' + (JSON.stringify(s) === saved ? '.' : ' (not saved yet).');
  }
  $('pe-shuffle').addEventListener('click', () => { seed = Math.floor(Math.random() * 1e9); preview(0); });

  const form = $('pe-form');
  form.addEventListener('input', (e) => {
    if (e.target.id === 'pe-horizon') horizonFields();
    const m = e.target.getAttribute('aria-describedby');
    if (m && $(m)) $(m).textContent = '';
    preview();
  });
  form.addEventListener('change', (e) => { if (e.target.id === 'pe-horizon') horizonFields(); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!cur) return;
    const b = $('pe-save');
    b.disabled = true;
    clearMsgs();
    const s = spec();
    const r = await call('PUT', '/api/comics/pack/drawings/' + s.file.split('/').map(encodeURIComponent).join('/'), s);
    b.disabled = false;
    if (!r.ok) {
      if (r.status === 401) return;
      showProblems(r.data.problems);
      if (!r.data.problems) $('pe-msg-file').textContent = r.data.error;
      status('Not saved: ' + r.data.error, 'bad');
      return;
    }
    saved = JSON.stringify(s);
    const cap = $('pe-preview-cap');
    cap.textContent = cap.textContent.replace(' (not saved yet).', '.');
    status('Saved ' + s.file + '. New strips use it.', 'ok');
    toast('Saved: new strips use it.');
    load();
  });

  $('pe-delete').addEventListener('click', async () => {
    if (!cur || !confirm('Delete this drawing from your pack? Its file is deleted too.')) return;
    const file = cur.file;
    const r = await call('DELETE', '/api/comics/pack/drawings/' + file.split('/').map(encodeURIComponent).join('/'));
    if (!r.ok) { if (r.status !== 401) status(r.data.error, 'bad'); return; }
    close();
    status('Deleted ' + file + '.', 'ok');
    load();
  });

  function close() {
    cur = null;
    clearTimeout(timer);
    if (inflight) inflight.abort();
    $('pe').hidden = true;
    for (const li of document.querySelectorAll('#pack-grid li')) li.classList.remove('current');
  }
  $('pe-close').addEventListener('click', close);

  // ---- open or closed ----

  box.addEventListener('toggle', () => {
    try { localStorage.setItem(OPEN, box.open ? '1' : '0'); } catch (e) { /* private mode */ }
    if (box.open && !pack) load();
  });
  let wasOpen = false;
  try { wasOpen = localStorage.getItem(OPEN) === '1'; } catch (e) { /* private mode */ }
  if (wasOpen || location.hash === '#drawings') box.open = true;
  tinkerbox.onOnline(() => { if (box.open) load(); });
})();
