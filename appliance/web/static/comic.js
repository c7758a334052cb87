// tinkerbox comic gallery: the archive (/api/comics) and the print queue
// (/api/comics/queue), fetched again when the live State says the queue or
// the scene changed; view (on screen and as printed on paper), download,
// reprint, delete, print a new strip.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const { toast, sceneStatus, sceneRunning } = tinkerbox.scene;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  let queue = { count: 0, max: 0, jobs: [], running: sceneRunning() };
  // Where strip n is in the queue: "next to print", "3rd in the queue".
  function where(n) {
    const pos = queue.jobs.filter((j) => j.strip === n).map((j) => j.position);
    if (pos.length === 0) return '';
    const say = pos.map((p) => (p === 1 ? 'next to print' : 'number ' + p + ' in the queue')).join(', ');
    return queue.running ? say : say + ' (prints when the comic scene runs)';
  }

  // "48 × 84.5 mm, along the roll": a strip's size on paper (c.paper is
  // there when the appliance knows its printer).
  function paperSize(p) {
    const mm = (v) => String(v).replace(/\.0$/, '');
    return mm(p.across_mm) + ' × ' + mm(p.along_mm) + ' mm, ' + (p.along ? 'turned along the roll' : 'across the roll');
  }

  function view(c, img) {
    $('viewer-img').src = img.src;
    $('viewer-img').alt = img.alt + ', on screen';
    const paper = $('viewer-paper');
    paper.hidden = !c.paper;
    if (c.paper) {
      // Drawn from the archive copy when asked for: only on opening.
      $('viewer-paper-img').src = '/comics/' + c.n + '-paper.png';
      $('viewer-paper-img').alt = 'Comic strip #' + c.n + ' as printed: ' + paperSize(c.paper);
      $('viewer-paper-cap').textContent = 'On paper: ' + paperSize(c.paper);
    }
    $('viewer').showModal();
  }

  const cards = new Map(); // strip number -> {li, queued}
  function card(c) {
    const li = el('li', 'strip');
    li.dataset.n = c.n;
    const img = el('img');
    img.src = '/comics/' + c.n + '.png';
    img.alt = 'Comic strip #' + c.n + (c.theme ? ' (' + c.theme + ')' : '');
    img.loading = 'lazy';
    img.width = 240; img.height = Math.round(240 * (c.height || 1) / (c.width || 1));
    const open = el('button', 'strip-open');
    open.type = 'button';
    open.setAttribute('aria-label', 'View strip #' + c.n + ' larger');
    open.appendChild(img);
    open.addEventListener('click', () => view(c, img));
    const title = el('div', 'strip-title');
    title.append(el('span', '', '#' + c.n));
    const q = el('span', 'strip-queued');
    title.append(q);
    const who = c.character ? c.theme + ' · ' + c.character : c.theme;
    const meta = el('div', 'strip-meta', new Date(c.at).toLocaleString() + ' · ' + who + ' · ' + c.grid + ' · seed ' + c.seed);
    if (c.paper) meta.append(el('span', 'strip-paper', 'Prints ' + paperSize(c.paper)));
    const actions = el('div', 'strip-actions');
    const dl = el('a', 'btn btn-small', 'Download');
    dl.href = '/comics/' + c.n + '.png?download=1';
    dl.setAttribute('aria-label', 'Download strip #' + c.n);
    const again = el('button', 'btn btn-small reprint', 'Reprint');
    again.type = 'button';
    again.setAttribute('aria-label', 'Reprint strip #' + c.n);
    again.addEventListener('click', async () => {
      again.disabled = true;
      const r = await tinkerbox.post('/api/comics/' + c.n + '/reprint', {});
      again.disabled = false;
      if (!r.ok) { toast(r.data.error); return; }
      let msg = 'Strip #' + c.n + ' queued';
      if (r.data.position) msg += r.data.position === 1 ? ': it prints next' : ': number ' + r.data.position + ' of ' + r.data.queue + ' in the queue';
      if (r.data.running === false) msg += '. It prints when the comic scene runs.';
      toast(msg);
      load();
    });
    const del = el('button', 'btn btn-small btn-danger delete', 'Delete');
    del.type = 'button';
    del.setAttribute('aria-label', 'Delete strip #' + c.n);
    del.addEventListener('click', async () => {
      if (!confirm('Delete strip #' + c.n + ' from the archive?')) return;
      const r = await tinkerbox.post('/api/comics/' + c.n + '/delete', {});
      if (!r.ok) { toast(r.data.error); return; }
      toast('Strip #' + c.n + ' deleted.');
      load();
    });
    actions.append(dl, again, del);
    li.append(open, title, meta, actions);
    return { li, q };
  }

  function renderQueue() {
    $('queue-count').textContent = queue.count === 0 ? 'empty' : queue.count + ' of at most ' + queue.max + ' waiting';
    $('queue-waiting').hidden = queue.running || queue.count === 0;
    const list = $('queue-list');
    list.replaceChildren(...queue.jobs.map((j) => {
      const li = el('li', '', '#' + j.strip + (j.position === 1 ? ' — next to print' : ''));
      if (j.last_error) li.append(el('span', 'queue-error', ' · last try failed: ' + j.last_error));
      return li;
    }));
    $('print-new').disabled = queue.max > 0 && queue.count >= queue.max;
    $('print-new').title = $('print-new').disabled ? 'The queue is full: wait for the printer' : '';
    for (const [n, c] of cards) c.q.textContent = where(n);
  }

  let busy = false, again = false;
  async function load() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const [lr, qr] = await Promise.all([
        fetch('/api/comics', { credentials: 'same-origin', cache: 'no-store' }),
        fetch('/api/comics/queue', { credentials: 'same-origin', cache: 'no-store' }),
      ]);
      if (lr.status === 401 || qr.status === 401) { tinkerbox.toLogin(); return; }
      const list = await lr.json();
      if (qr.ok) queue = await qr.json();
      // Strips are kept by number: only new ones are added, gone ones removed.
      const g = $('gallery');
      const seen = new Set();
      let prev = null;
      for (const c of list) {
        seen.add(c.n);
        let x = cards.get(c.n);
        if (!x) { x = card(c); cards.set(c.n, x); }
        const want = prev ? prev.nextElementSibling : g.firstElementChild;
        if (want !== x.li) g.insertBefore(x.li, want);
        prev = x.li;
      }
      for (const [n, x] of cards) if (!seen.has(n)) { x.li.remove(); cards.delete(n); }
      $('gallery-empty').hidden = list.length > 0;
      renderQueue();
    } catch (e) {
      /* offline: live.js shows it */
    } finally {
      busy = false;
      if (again) { again = false; load(); }
    }
  }

  $('print-new').addEventListener('click', async () => {
    const b = $('print-new');
    b.disabled = true;
    const r = await tinkerbox.post('/api/comics/print', {});
    b.disabled = false;
    if (!r.ok) { toast(r.data.error); return; }
    toast('A new strip is being drawn: it prints at once and joins the gallery once archived.');
  });

  sceneStatus(() => load());
  // The State carries the queue's length and the roll's version: a change
  // in either is a strip queued, printed or archived.
  let sig = '';
  tinkerbox.onState((s) => {
    const now = JSON.stringify([s.printer.queue, s.printer.version]);
    if (now === sig) return;
    const first = sig === '';
    sig = now;
    if (!first) load();
  });
  tinkerbox.onOnline(() => load());
  load();
})();
