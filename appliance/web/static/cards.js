// tinkerbox card feeder page. Live updates come from the shared stream
// (tinkerbox.onState): when the State changes, /api/cards is fetched again
// (at most once a second) and the tables are updated in place, row by row,
// so nothing being typed or focused is replaced.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const { toast, sceneStatus, sceneRunning } = tinkerbox.scene;

  const money = (p) => (p > 0 ? '$' + p.toFixed(2) : '—');
  const pct = (v) => Math.round(v * 100) + ' %';
  const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };

  // ---- last identified: one <tr> per scan, kept by id ----
  const rows = new Map(); // scan id -> {tr, cells, key}
  let fixOpen = null; // {id, tr}

  function scanCells(s) {
    if (!s.accepted) {
      // A reject has no price or confidence worth showing: only what it
      // looked like to the recogniser, in plain words, and its photo.
      return { card: s.verdict, set: '', price: '—', conf: '—', bin: String(s.bin) };
    }
    const name = s.verdict === 'Recognised' ? s.name : s.name + ' — ' + s.verdict.toLowerCase();
    return {
      card: name,
      set: s.set ? s.set.toUpperCase() + ' ' + s.number : '',
      price: money(s.price),
      conf: pct(Math.min(s.name_confidence, s.printing_confidence || s.name_confidence)),
      bin: String(s.bin),
    };
  }

  function td(label, cls) {
    const c = document.createElement('td');
    c.dataset.label = label;
    if (cls) c.className = cls;
    return c;
  }

  function newRow(s) {
    const tr = document.createElement('tr');
    tr.dataset.id = s.id;
    const cells = { pic: td('', 'pic'), card: td('Card'), set: td('Set'), price: td('Price'), conf: td('Confidence'), bin: td('Bin'), fix: td('', 'fix') };
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn btn-small';
    b.textContent = 'Correct';
    b.setAttribute('aria-label', 'Correct scan #' + s.id);
    b.addEventListener('click', () => openFix(s.id, tr, b));
    cells.fix.appendChild(b);
    tr.append(cells.pic, cells.card, cells.set, cells.price, cells.conf, cells.bin, cells.fix);
    return { tr, cells, key: '' };
  }

  function fillPicture(cell, s) {
    cell.replaceChildren();
    const when = new Date(s.at).toLocaleString();
    if (s.photo) {
      const a = document.createElement('a');
      a.href = s.photo;
      a.className = 'photo-link';
      const img = document.createElement('img');
      img.src = s.photo; img.loading = 'lazy';
      img.alt = 'Photo of the card that was not recognised, ' + when;
      a.appendChild(img);
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        $('cards-photo-img').src = s.photo;
        $('cards-photo-img').alt = img.alt;
        $('cards-photo').showModal();
      });
      cell.appendChild(a);
    } else if (s.card_id && s.accepted) {
      const img = document.createElement('img');
      img.src = '/api/cards/face/' + encodeURIComponent(s.card_id) + '.png';
      img.alt = ''; img.loading = 'lazy';
      cell.appendChild(img);
    }
  }

  function renderRecent(recent) {
    const body = $('cards-recent');
    const seen = new Set();
    let prev = null;
    for (const s of recent) {
      seen.add(s.id);
      let r = rows.get(s.id);
      if (!r) { r = newRow(s); rows.set(s.id, r); }
      const key = JSON.stringify(s);
      if (r.key !== key) {
        r.key = key;
        r.tr.classList.toggle('reject', !s.accepted);
        const c = scanCells(s);
        for (const k of ['card', 'set', 'price', 'conf', 'bin']) setText(r.cells[k], c[k]);
        fillPicture(r.cells.pic, s);
      }
      // Keep order newest first; move only what is out of place (a focused
      // button or an open correction stays put).
      const want = prev ? nextRowAfter(prev) : body.firstElementChild;
      if (want !== r.tr) body.insertBefore(r.tr, want);
      prev = r.tr;
      if (fixOpen && fixOpen.id === s.id && r.tr.nextElementSibling !== fixOpen.tr) body.insertBefore(fixOpen.tr, r.tr.nextElementSibling);
      if (fixOpen && fixOpen.id === s.id) prev = fixOpen.tr;
    }
    for (const [id, r] of rows) {
      if (!seen.has(id)) { r.tr.remove(); rows.delete(id); if (fixOpen && fixOpen.id === id) closeFix(); }
    }
    $('cards-recent-empty').hidden = recent.length > 0;
    $('cards-recent').closest('table').hidden = recent.length === 0;
  }
  const nextRowAfter = (tr) => tr.nextElementSibling;

  // The correction form opens right under its row.
  function openFix(id, tr, opener) {
    if (fixOpen && fixOpen.id === id) { closeFix(); return; }
    closeFix();
    const row = document.createElement('tr');
    row.className = 'fix-row';
    const cell = document.createElement('td');
    cell.colSpan = 7;
    const form = document.createElement('form');
    form.className = 'cards-fix';
    const qid = 'fix-q-' + id, pid = 'fix-pick-' + id;
    const ql = document.createElement('label'); ql.htmlFor = qid; ql.textContent = 'Search the catalog';
    const q = document.createElement('input'); q.id = qid; q.type = 'search'; q.autocomplete = 'off'; q.minLength = 2; q.placeholder = 'card name';
    const pl = document.createElement('label'); pl.htmlFor = pid; pl.textContent = 'It is';
    const pick = document.createElement('select'); pick.id = pid;
    const save = document.createElement('button'); save.type = 'submit'; save.className = 'btn btn-small btn-primary'; save.textContent = 'Save correction';
    const cancel = document.createElement('button'); cancel.type = 'button'; cancel.className = 'btn btn-small'; cancel.textContent = 'Cancel';
    cancel.addEventListener('click', () => { closeFix(); opener.focus(); });
    form.append(ql, q, pl, pick, save, cancel);
    cell.appendChild(form);
    row.appendChild(cell);
    tr.after(row);
    fixOpen = { id, tr: row };
    let seq = 0;
    const search = async () => {
      const text = q.value.trim();
      if (text.length < 2) return;
      const mine = ++seq;
      const res = await fetch('/api/cards/search?q=' + encodeURIComponent(text), { credentials: 'same-origin' }).catch(() => null);
      if (!res || !res.ok || mine !== seq) return;
      const opts = (await res.json()).map((c) => {
        const o = document.createElement('option');
        o.value = c.id;
        o.textContent = c.name + ' (' + c.set.toUpperCase() + ' ' + c.number + ', ' + c.lang + ')';
        return o;
      });
      pick.replaceChildren(...opts);
    };
    q.addEventListener('input', search);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!pick.value) { toast('Search for the card first, then pick it.'); return; }
      const r = await tinkerbox.post('/api/cards/correct', { scan: id, card: pick.value });
      if (!r.ok) { toast(r.data.error); return; }
      toast('Scan #' + id + ' corrected to ' + (r.data.name || pick.value) + '.');
      closeFix();
      opener.focus();
      refresh(true);
    });
    const r = rows.get(id);
    if (r) { try { const s = JSON.parse(r.key); if (s.accepted) q.value = s.name || ''; } catch (e) { /* no prefill */ } }
    q.focus();
    search();
  }

  function closeFix() {
    if (fixOpen) fixOpen.tr.remove();
    fixOpen = null;
  }

  // ---- collection: one <tr> per owned printing ----
  const owned = new Map();
  function renderCollection(cs) {
    const body = $('cards-collection');
    const seen = new Set();
    let prev = null;
    for (const c of cs) {
      const id = [c.card_id, c.finish, c.lang, c.condition].join('|');
      seen.add(id);
      let r = owned.get(id);
      if (!r) {
        const tr = document.createElement('tr');
        const cells = ['Qty', 'Name', 'Set', 'No.', 'Finish', 'Lang', 'Cond.', 'Each'].map((l) => { const x = td(l); tr.appendChild(x); return x; });
        r = { tr, cells };
        owned.set(id, r);
      }
      [String(c.qty), c.name, c.set.toUpperCase(), c.number, c.finish, c.lang, c.condition, money(c.price)].forEach((t, i) => setText(r.cells[i], t));
      const want = prev ? prev.nextElementSibling : body.firstElementChild;
      if (want !== r.tr) body.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [id, r] of owned) if (!seen.has(id)) { r.tr.remove(); owned.delete(id); }
    $('cards-collection').closest('table').hidden = cs.length === 0;
  }

  // ---- the feeder ----
  const thresholdInput = $('cards-threshold');
  let thresholdFilled = false;
  function renderFeed(f) {
    setText($('cards-state'), f ? f.state : 'not configured');
    setText($('cards-reason'), f ? f.reason : 'The card feeder scene is not in this appliance\'s scene list.');
    const banner = $('cards-banner');
    const bad = f && (f.state === 'jammed' || f.state === 'empty' || f.double_feed);
    banner.hidden = !bad;
    if (bad) {
      // A double feed (cards lost unseen) says so before "stack empty"; a
      // stack that was miscounted is only a warning.
      let text = 'Stack empty: ' + f.reason;
      if (f.state === 'jammed') text = 'Jammed: ' + f.reason;
      else if (f.double_feed) text = f.double_feed.charAt(0).toUpperCase() + f.double_feed.slice(1);
      setText(banner, text);
      banner.classList.toggle('banner-warn', f.state !== 'jammed' && !!f.double_feed && !(f.stack && f.stack.unscanned > 0));
    }
    const sc = f && f.stack;
    $('cards-stack-fact').hidden = !sc;
    if (sc) setText($('cards-stack-count'), sc.scanned + ' of ' + sc.loaded + ' scanned' + (sc.unscanned > 0 ? ', ' + sc.unscanned + ' missed' : ''));
    if (f) {
      setText($('cards-count'), String(f.stats.cards));
      setText($('cards-rate'), String(f.stats.per_minute));
      setText($('cards-unknown'), String(f.stats.unknown));
      if (!thresholdFilled && document.activeElement !== thresholdInput) { thresholdInput.value = f.threshold; thresholdFilled = true; }
    }
    feedButtons(f);
  }
  let feedState = null;
  function feedButtons(f) {
    if (f !== undefined) feedState = f;
    const on = sceneRunning();
    const st = feedState ? feedState.state : '';
    $('cards-start').disabled = !feedState;
    $('cards-stop').disabled = !feedState;
    $('cards-start').hidden = on && st === 'running';
    $('cards-stop').hidden = !on || st !== 'running';
    $('cards-stack-field').hidden = $('cards-start').hidden; // the count goes with Start
  }

  let lastText = '';
  let busy = false;
  let again = false;
  let last = 0;
  async function refresh(force) {
    if (busy) { again = true; return; }
    busy = true;
    last = Date.now();
    try {
      const res = await fetch('/api/cards', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { tinkerbox.toLogin(); return; }
      if (!res.ok) throw new Error(res.statusText);
      const text = await res.text();
      if (force || text !== lastText) {
        lastText = text;
        const d = JSON.parse(text);
        renderFeed(d.feed);
        renderRecent(d.recent);
        renderCollection(d.collection);
        setText($('cards-owned'), String(d.cards));
        setText($('cards-value'), d.total_value.toFixed(2));
        setText($('cards-catalog'), '· catalog: ' + d.catalog.all + ' printings, ' + d.catalog.recognisable + ' recognisable');
      }
    } catch (e) {
      /* offline: live.js shows it; the next State brings a retry */
    } finally {
      busy = false;
      if (again) { again = false; setTimeout(refresh, 1000); }
    }
  }

  // At most one fetch a second while States arrive (the display and LEDs
  // change with every card).
  let pending = 0;
  function onChange() {
    if (pending) return;
    const wait = Math.max(0, 1000 - (Date.now() - last));
    pending = setTimeout(() => { pending = 0; refresh(); }, wait);
  }

  const view = $('cards-view');
  function camera(on) {
    // The live stream only while the feeder runs: the camera shows the card
    // under the lens then, and the stream costs a connection.
    if (on) { if (!view.getAttribute('src')) view.src = '/stream.mjpg'; }
    else view.removeAttribute('src');
    view.hidden = !on;
    $('cards-view-off').hidden = on;
  }

  sceneStatus((on) => { camera(on); feedButtons(); refresh(); });
  // Scans only happen while the feeder scene runs: other scenes' States
  // (their display, their lights) are no reason to look.
  let seenState = '';
  tinkerbox.onState((s) => {
    if (s.scene !== document.getElementById('scene-status').dataset.scene) return;
    const sig = JSON.stringify([s.scene, s.leds, s.display.pixels]);
    if (sig === seenState) return;
    seenState = sig;
    onChange();
  });
  tinkerbox.onOnline(() => refresh());

  const stackInput = $('cards-stack');
  async function feed(action) {
    const body = { action };
    if (action === 'start') {
      const v = stackInput.value.trim();
      const n = Number(v);
      if (stackInput.validity.badInput || (v !== '' && (!Number.isInteger(n) || n < 1 || n > 10000))) {
        toast('Cards in the stack: a whole number from 1 to 10000, or leave it empty.');
        stackInput.focus();
        return;
      }
      if (v !== '') body.stack = n;
    }
    const r = await tinkerbox.post('/api/cards/feed', body);
    if (!r.ok) { toast(r.data.error); return; }
    // The count belongs to the stack just started: the next one needs its own.
    if (body.stack) stackInput.value = '';
    toast(action !== 'start' ? 'Stopping…' : body.stack ? 'Feeding ' + body.stack + ' cards…' : 'Feeding…');
    refresh();
  }
  $('cards-start').addEventListener('click', () => feed('start'));
  $('cards-stop').addEventListener('click', () => feed('stop'));
  $('cards-rules').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await tinkerbox.post('/api/cards/rules', { deck: $('cards-deck').value, threshold: parseFloat(thresholdInput.value) || 0 });
    if (!r.ok) { toast(r.data.error); return; }
    toast('Rules applied: ' + r.data.deck_cards + ' deck cards, value bin from $' + r.data.threshold + '.');
  });
  document.querySelectorAll('[data-sim]').forEach((b) => b.addEventListener('click', async () => {
    const r = await tinkerbox.post('/api/cards/sim', { action: b.dataset.sim });
    let msg = r.ok ? 'Simulator: ' + b.textContent : r.data.error;
    if (r.ok && typeof r.data.stack === 'number') {
      // The simulated hopper knows its count: offer it for Start.
      stackInput.value = String(r.data.stack);
      msg += ' — ' + r.data.stack + ' in the stack, filled in for Start';
    }
    toast(msg);
    refresh();
  }));

  camera(sceneRunning());
  feedButtons(null);
  refresh();
})();
