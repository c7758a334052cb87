// tinkerbox comic gallery: lists /api/comics; view, download, reprint, delete.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  let toastTimer = 0;
  function toast(msg) {
    const t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }

  async function call(method, url) {
    let res;
    try {
      // State changes are JSON, the one body a cross-site form cannot send.
      res = await fetch(url, {
        method,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: '{}',
      });
    } catch (e) {
      toast('The appliance is not answering.');
      return false;
    }
    if (res.status === 401) { location.href = '/login?next=/comics'; return false; }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { toast(data.error || res.statusText); return false; }
    return true;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function card(c) {
    const li = el('li', 'strip');
    li.dataset.n = c.n;
    const img = el('img');
    img.src = '/comics/' + c.n + '.png';
    img.alt = 'Comic strip #' + c.n;
    img.loading = 'lazy';
    img.addEventListener('click', () => {
      $('viewer-img').src = img.src;
      $('viewer-img').alt = img.alt;
      $('viewer').showModal();
    });
    const title = el('div', 'strip-title');
    title.append(el('span', '', '#' + c.n));
    if (c.queued > 0) title.append(el('span', 'strip-queued', c.queued === 1 ? 'queued' : c.queued + ' queued'));
    const who = c.character ? c.theme + ' · ' + c.character : c.theme;
    const meta = el('div', 'strip-meta', new Date(c.at).toLocaleString() + ' · ' + who + ' · ' + c.grid + ' · seed ' + c.seed);
    const actions = el('div', 'strip-actions');
    const dl = el('a', '', 'Download');
    dl.href = '/comics/' + c.n + '.png?download=1';
    const again = el('button', 'reprint', 'Reprint');
    again.type = 'button';
    again.addEventListener('click', async () => {
      if (await call('POST', '/api/comics/' + c.n + '/reprint')) { toast('Strip #' + c.n + ' queued.'); load(); }
    });
    const del = el('button', 'danger delete', 'Delete');
    del.type = 'button';
    del.addEventListener('click', async () => {
      if (!confirm('Delete strip #' + c.n + ' from the archive?')) return;
      if (await call('DELETE', '/api/comics/' + c.n)) load();
    });
    actions.append(dl, again, del);
    li.append(img, title, meta, actions);
    return li;
  }

  async function load() {
    let list = [];
    try {
      const res = await fetch('/api/comics', { credentials: 'same-origin' });
      if (res.status === 401) { location.href = '/login?next=/comics'; return; }
      list = await res.json();
    } catch (e) {
      toast('The appliance is not answering.');
      return;
    }
    const g = $('gallery');
    g.replaceChildren(...list.map(card));
    $('gallery-empty').hidden = list.length > 0;
  }

  load();
})();
