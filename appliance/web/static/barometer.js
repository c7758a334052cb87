// tinkerbox barometer page: the reading and a chart drawn here, at the size
// it is shown (so its labels stay readable on a phone), with date-and-time
// axes, the unit, the warning thresholds and the current value. Updates come
// with the live State: when one arrives, /api/barometer is fetched (at most
// every few seconds) and the chart's history only when the reading changed.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const root = $('baro');
  const sim = root.dataset.sim === 'true';
  const { toast, sceneStatus, sceneRunning } = tinkerbox.scene;

  const HOURS = { '3h': 3, '24h': 24, '7d': 168, '30d': 720 };
  let range = HOURS[root.dataset.range] ? root.dataset.range : '24h';
  let report = null;
  let choosing = false; // a scenario change is on its way
  let hist = null;

  const pad = (n) => String(n).padStart(2, '0');
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const hhmm = (d) => pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  const day = (d) => d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()];
  const stamp = (iso) => { const d = new Date(iso); return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + hhmm(d) + ' UTC'; };
  const setText = (id, t) => { const e = $(id); if (e && e.textContent !== t) e.textContent = t; };
  const LEVEL = { watch: 'Storm watch', warning: 'Storm warning', gale: 'Gale warning' };

  function renderReport(r) {
    report = r;
    $('baro-valid').hidden = !r.valid;
    $('baro-none').hidden = r.valid;
    if (r.valid) {
      setText('baro-sea', r.sea_level_hpa.toFixed(1));
      setText('baro-station', r.pressure_hpa.toFixed(1));
      setText('baro-temp', r.temperature_c.toFixed(1));
      const t = r.tendency;
      const sign = t.hpa_3h > 0 ? '+' : (t.hpa_3h < 0 ? '−' : '±');
      setText('baro-tendency', t.known ? t.term + ', ' + sign + Math.abs(t.hpa_3h).toFixed(1) + ' hPa' + (t.estimated ? ' (estimated)' : '') : 'not enough history yet');
      setText('baro-letter', r.forecast.letter || '');
      setText('baro-forecast-text', r.forecast.text || '');
      setText('baro-at', r.at ? stamp(r.at) : '');
    }
    const w = $('baro-warning');
    w.className = 'banner baro-level-' + r.warning;
    w.hidden = r.warning === 'none';
    if (r.warning !== 'none') {
      const s = r.tendency.hpa_3h > 0 ? '+' : '';
      w.replaceChildren();
      const b = document.createElement('strong');
      b.textContent = LEVEL[r.warning] || r.warning;
      w.append(b, ': pressure ' + r.tendency.term + ', ' + s + r.tendency.hpa_3h.toFixed(1) + ' hPa in 3 h.');
    }
    const sensor = $('baro-sensor');
    sensor.hidden = r.sensor.ok;
    if (!r.sensor.ok) setText('baro-sensor', 'Sensor failure: ' + r.sensor.error + ' (' + r.sensor.failures + ' failed reads in a row). Sampling resumes by itself when it answers again.');
    $('baro-stale').hidden = !r.stale;
    if (r.stale && r.at) setText('baro-stale', 'Paused: no new reading for a while (the last is from ' + stamp(r.at) + '). The values shown are not current.');
    const sel = $('baro-scenario');
    if (sel && r.scenario && document.activeElement !== sel && !choosing) sel.value = r.scenario;
  }

  // ---- the chart ----
  const NS = 'http://www.w3.org/2000/svg';
  function node(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Time ticks: the first step that leaves room for the labels.
  const MIN = 60e3, HOUR = 60 * MIN, DAY = 24 * HOUR;
  const STEPS = [15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 5 * DAY, 7 * DAY, 14 * DAY];
  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  function draw() {
    const box = $('baro-chart-box');
    if (!hist) return;
    const pts = hist.points.filter((p) => p.sea_level_hpa !== null);
    if (pts.length === 0) {
      const p = document.createElement('p');
      p.className = 'baro-empty';
      p.textContent = 'No readings in this range.';
      box.replaceChildren(p);
      return;
    }
    const W = Math.max(280, Math.round(box.clientWidth || 600));
    const narrow = W < 480;
    const H = narrow ? 260 : 300;
    const m = { l: narrow ? 46 : 56, r: narrow ? 44 : 64, t: 16, b: 44 };
    const x0 = m.l, x1 = W - m.r, y0 = m.t, y1 = H - m.b;
    const t0 = new Date(hist.points[0].t).getTime();
    const tEnd = new Date(hist.points[hist.points.length - 1].t).getTime() + hist.step_s * 1000;
    let lo = Infinity, hi = -Infinity;
    for (const p of pts) { lo = Math.min(lo, p.sea_level_hpa); hi = Math.max(hi, p.sea_level_hpa); }
    const th = report && report.thresholds;
    // The watch line is always in view when known: it is what to look for.
    if (th) { lo = Math.min(lo, th.watch_hpa); hi = Math.max(hi, th.from_hpa); }
    if (hi - lo < 4) { const mid = (hi + lo) / 2; lo = mid - 2; hi = mid + 2; }
    const padY = (hi - lo) * 0.08;
    lo -= padY; hi += padY;
    const X = (t) => x0 + (t - t0) / (tEnd - t0) * (x1 - x0);
    const Y = (v) => y1 - (v - lo) / (hi - lo) * (y1 - y0);

    const svg = node('svg', { id: 'baro-chart', class: 'baro-chart', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    const last = pts[pts.length - 1];
    svg.setAttribute('aria-label', 'Sea-level pressure over the last ' + (hist.hours >= 48 ? hist.hours / 24 + ' days' : hist.hours + ' hours') +
      ', from ' + lo.toFixed(0) + ' to ' + hi.toFixed(0) + ' hPa. Gaps are missing readings.');
    // y axis: grid, labels, unit.
    const step = niceStep((hi - lo) / (narrow ? 4 : 5));
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      const y = Y(v).toFixed(1);
      svg.append(node('line', { class: 'grid', x1: x0, x2: x1, y1: y, y2: y }));
      svg.append(node('text', { class: 'tick tick-y', x: x0 - 6, y, dy: 4 }, String(Math.round(v * 10) / 10)));
    }
    svg.append(node('text', { class: 'unit-label', x: x0 - 6, y: y0 - 4 }, 'hPa'));
    // x axis: time, and the date under midnight (or under every tick of a day or more).
    const span = tEnd - t0;
    const room = narrow ? 62 : 78;
    const tstep = STEPS.find((s) => (x1 - x0) * s / span >= room) || STEPS[STEPS.length - 1];
    const first = Math.ceil(t0 / tstep) * tstep;
    let lastDay = '';
    for (let t = first; t <= tEnd; t += tstep) {
      const x = X(t).toFixed(1);
      const d = new Date(t);
      svg.append(node('line', { class: 'grid grid-x', x1: x, x2: x, y1: y0, y2: y1 }));
      const label = node('text', { class: 'tick tick-x', x, y: y1 + 16 });
      if (tstep < DAY) {
        label.append(node('tspan', { x, dy: 0 }, hhmm(d)));
        const dd = day(d);
        if (dd !== lastDay) { label.append(node('tspan', { x, dy: 14, class: 'tick-date' }, dd)); lastDay = dd; }
      } else {
        label.append(node('tspan', { x, dy: 0 }, day(d)));
      }
      svg.append(label);
    }
    svg.append(node('line', { class: 'axis', x1: x0, x2: x1, y1, y2: y1 }));
    // Thresholds.
    if (th) {
      for (const [k, v] of [['watch', th.watch_hpa], ['warning', th.warning_hpa], ['gale', th.gale_hpa]]) {
        if (v < lo || v > hi) continue;
        const y = Y(v).toFixed(1);
        svg.append(node('line', { class: 'threshold threshold-' + k, x1: x0, x2: x1, y1: y, y2: y }));
        svg.append(node('text', { class: 'threshold-label threshold-label-' + k, x: x1 + 4, y, dy: 4 }, k));
      }
    }
    // The line; gaps break it.
    let d = '';
    let pen = false;
    for (const p of hist.points) {
      if (p.sea_level_hpa === null) { pen = false; continue; }
      const x = X(new Date(p.t).getTime() + hist.step_s * 500).toFixed(1);
      d += (pen ? 'L' : 'M') + x + ' ' + Y(p.sea_level_hpa).toFixed(1);
      if (!pen) d += 'h0.1';
      pen = true;
    }
    svg.append(node('path', { class: 'line', d }));
    // The current value: the reading, where it is in time (the last point
    // when there is none).
    let nowT = new Date(last.t).getTime() + hist.step_s * 500, nowV = last.sea_level_hpa;
    if (report && report.valid && report.at) { nowT = Math.min(new Date(report.at).getTime(), tEnd); nowV = report.sea_level_hpa; }
    const cx = X(nowT), cy = Y(Math.min(Math.max(nowV, lo), hi));
    svg.append(node('circle', { class: 'now-dot', cx: cx.toFixed(1), cy: cy.toFixed(1), r: 4.5 }));
    const nowText = node('text', { class: 'now-label', x: Math.min(cx, x1 - 4).toFixed(1), y: (cy < y0 + 24 ? cy + 20 : cy - 10).toFixed(1) }, nowV.toFixed(1) + ' hPa');
    svg.append(nowText);
    box.replaceChildren(svg);
  }

  let histBusy = false;
  async function loadHistory() {
    if (histBusy) return;
    histBusy = true;
    try {
      const res = await fetch('/api/barometer/history?hours=' + HOURS[range], { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { tinkerbox.toLogin(); return; }
      if (res.ok) { hist = await res.json(); draw(); }
    } catch (e) { /* offline */ } finally { histBusy = false; }
  }

  let repBusy = false, repAt = 0;
  async function loadReport() {
    if (repBusy) return;
    repBusy = true;
    repAt = Date.now();
    try {
      const res = await fetch('/api/barometer', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { tinkerbox.toLogin(); return; }
      if (!res.ok) return;
      const r = await res.json();
      const changed = !report || r.at !== report.at || r.scenario !== report.scenario;
      renderReport(r);
      if (changed) loadHistory();
    } catch (e) { /* offline */ } finally { repBusy = false; }
  }

  // Readings come every few seconds in simulation, every minute or more on
  // hardware: look again at most that often while States arrive.
  const every = sim ? 2000 : 15000;
  tinkerbox.onState(() => { if (Date.now() - repAt >= every) loadReport(); });
  tinkerbox.onOnline(() => loadReport());
  sceneStatus((on) => { $('baro-scene-note').hidden = on; });

  // Ranges switch without a reload; the address follows for bookmarks.
  for (const a of document.querySelectorAll('.baro-ranges a')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      range = a.dataset.range;
      for (const b of document.querySelectorAll('.baro-ranges a')) {
        const cur = b === a;
        b.classList.toggle('current', cur);
        if (cur) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
      }
      window.history.replaceState(null, '', '/barometer?range=' + range);
      loadHistory();
    });
  }
  let resizeTimer = 0;
  new ResizeObserver(() => { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 100); }).observe($('baro-chart-box'));

  const sel = $('baro-scenario');
  if (sel) {
    sel.addEventListener('change', async () => {
      choosing = true;
      const r = await tinkerbox.post('/api/barometer/scenario', { name: sel.value });
      choosing = false;
      toast(r.ok ? 'Weather: ' + r.data.scenario : r.data.error);
      loadReport();
    });
  }
  loadReport();
})();
