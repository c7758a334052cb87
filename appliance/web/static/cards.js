// tinkerbox card feeder page: polls /api/cards, shows the camera, sends
// corrections, rules and simulator faults.
(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const toast = (msg) => { const t = $('toast'); t.textContent = msg; t.hidden = false; setTimeout(() => { t.hidden = true; }, 3000); };
  // A lost session goes to the login page (the server never asks a browser
  // for Basic credentials).
  const toLogin = () => { location.href = '/login?next=' + encodeURIComponent(location.pathname); };
  const post = async (url, body) => {
    const res = await fetch(url, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(body) });
    if (res.status === 401) { toLogin(); throw new Error('Signed out'); }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.statusText);
    return data;
  };
  const money = (p) => (p > 0 ? '$' + p.toFixed(2) : '—');
  const pct = (v) => Math.round(v * 100) + '%';
  const cell = (tr, text) => { const td = document.createElement('td'); td.textContent = text; tr.appendChild(td); return td; };
  let fixScan = 0;

  function renderRecent(recent) {
    const body = $('cards-recent');
    body.replaceChildren();
    for (const s of recent) {
      const tr = document.createElement('tr');
      if (!s.accepted) tr.className = 'reject';
      const td = document.createElement('td');
      if (s.card_id) { const img = document.createElement('img'); img.src = '/api/cards/face/' + encodeURIComponent(s.card_id) + '.png'; img.alt = ''; img.loading = 'lazy'; td.appendChild(img); }
      tr.appendChild(td);
      cell(tr, s.accepted ? s.name : '? ' + (s.name || '') + ' — ' + (s.reason || 'rejected'));
      cell(tr, s.set ? s.set.toUpperCase() + ' ' + s.number : '');
      cell(tr, money(s.price));
      cell(tr, pct(s.name_confidence));
      cell(tr, pct(s.printing_confidence));
      cell(tr, String(s.bin));
      const b = document.createElement('button');
      b.type = 'button'; b.className = 'btn btn-small'; b.textContent = 'Fix';
      b.addEventListener('click', () => { fixScan = s.id; $('cards-fix-scan').textContent = '#' + s.id; $('cards-fix').hidden = false; $('cards-fix-q').value = s.name || ''; $('cards-fix-q').focus(); search(); });
      tr.appendChild(document.createElement('td')).appendChild(b);
      body.appendChild(tr);
    }
  }

  function renderCollection(cs) {
    const body = $('cards-collection');
    body.replaceChildren();
    for (const c of cs) {
      const tr = document.createElement('tr');
      [String(c.qty), c.name, c.set.toUpperCase(), c.number, c.finish, c.lang, c.condition, money(c.price)].forEach((t) => cell(tr, t));
      body.appendChild(tr);
    }
  }

  async function refresh() {
    try {
      const res = await fetch('/api/cards', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { toLogin(); return; }
      if (!res.ok) throw new Error(res.statusText);
      const d = await res.json();
      const f = d.feed;
      $('cards-state').textContent = f ? f.state : 'scene not configured';
      $('cards-reason').textContent = f ? f.reason : '';
      const banner = $('cards-banner');
      banner.hidden = !f || (f.state !== 'jammed' && f.state !== 'empty');
      banner.textContent = f ? f.reason : '';
      if (f) { $('cards-count').textContent = f.stats.cards; $('cards-rate').textContent = f.stats.per_minute; $('cards-unknown').textContent = f.stats.unknown; }
      renderRecent(d.recent);
      renderCollection(d.collection);
      $('cards-owned').textContent = d.cards;
      $('cards-value').textContent = d.total_value.toFixed(2);
      $('cards-catalog').textContent = '· catalog: ' + d.catalog.all + ' printings, ' + d.catalog.recognisable + ' recognisable';
    } catch (e) { $('cards-state').textContent = 'offline'; }
  }

  async function search() {
    const q = $('cards-fix-q').value.trim();
    if (q.length < 2) return;
    const res = await fetch('/api/cards/search?q=' + encodeURIComponent(q), { credentials: 'same-origin' });
    if (!res.ok) return;
    const pick = $('cards-fix-pick');
    pick.replaceChildren();
    for (const c of await res.json()) {
      const o = document.createElement('option');
      o.value = c.id; o.textContent = c.name + ' (' + c.set.toUpperCase() + ' ' + c.number + ', ' + c.lang + ')';
      pick.appendChild(o);
    }
  }

  $('cards-fix-q').addEventListener('input', search);
  $('cards-fix').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await post('/api/cards/correct', { scan: fixScan, card: $('cards-fix-pick').value }); $('cards-fix').hidden = true; toast('Corrected'); refresh(); } catch (e) { toast(e.message); }
  });
  $('cards-rules').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { const r = await post('/api/cards/rules', { deck: $('cards-deck').value, threshold: parseFloat($('cards-threshold').value) || 0 }); toast('Rules: ' + r.deck_cards + ' deck cards, value from $' + r.threshold); } catch (e) { toast(e.message); }
  });
  $('cards-start').addEventListener('click', async () => {
    try { await post('/api/buttons/A', { press: 'short' }); } catch (e) { toast(e.message); }
  });
  document.querySelectorAll('[data-sim]').forEach((b) => b.addEventListener('click', async () => {
    try { await post('/api/cards/sim', { action: b.dataset.sim }); toast(b.textContent); } catch (e) { toast(e.message); }
  }));

  // The live view: a fresh snapshot each second (the camera runs while watched).
  const view = $('cards-view');
  let url = '';
  async function snap() {
    try {
      const res = await fetch('/snapshot.jpg', { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok) { const u = URL.createObjectURL(await res.blob()); view.src = u; if (url) URL.revokeObjectURL(url); url = u; }
    } catch (e) { /* camera offline: keep the last picture */ }
  }
  refresh(); snap();
  setInterval(refresh, 1500);
  setInterval(snap, 1000);
})();
