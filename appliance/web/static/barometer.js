// tinkerbox barometer page: the simulated-weather selector and a periodic
// refresh (the page is rendered on the server, chart included).
'use strict';
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const toast = (msg) => {
    const t = document.getElementById('toast');
    t.textContent = msg;
    t.hidden = false;
    setTimeout(() => { t.hidden = true; }, 4000);
  };
  const sel = document.getElementById('baro-scenario');
  if (sel) {
    sel.addEventListener('change', async () => {
      try {
        const res = await fetch('/api/barometer/scenario', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify({ name: sel.value }),
        });
        if (res.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname); return; }
        const data = await res.json().catch(() => ({}));
        toast(res.ok ? 'Weather: ' + data.scenario : (data.error || res.statusText));
      } catch (e) {
        toast('The appliance is not answering.');
      }
    });
  }
  // Refresh while visible, not while someone is choosing a scenario.
  setInterval(() => {
    if (document.visibilityState === 'visible' && document.activeElement !== sel) location.reload();
  }, 30000);
})();
