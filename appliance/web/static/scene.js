// tinkerbox scene pages (/comics, /barometer, /spycam, /cards): what they
// share, after live.js and before the page's own script. tinkerbox.scene
// gives toast(msg) for the page's #toast, sceneStatus(onChange) for the
// "scene-status" strip (onChange(running, current) on every scene change)
// and sceneRunning().
'use strict';
(() => {
  let toastTimer = 0;
  const toast = (msg) => {
    const t = document.getElementById('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 5000);
  };
  // The scene-status strip: whether the page's scene runs, from the live
  // State, and "switch to it".
  function sceneStatus(onChange) {
    const box = document.getElementById('scene-status');
    const want = box.dataset.scene;
    const label = box.dataset.label;
    const text = document.getElementById('scene-status-text');
    const sw = document.getElementById('scene-switch');
    let current = box.dataset.current;
    sw.addEventListener('click', async () => {
      sw.disabled = true;
      const r = await tinkerbox.post('/api/scene', { name: want });
      sw.disabled = false;
      if (!r.ok) toast(r.data.error);
    });
    tinkerbox.onState((s) => {
      if (s.scene === current) return;
      current = s.scene;
      const running = s.scene === want;
      box.dataset.running = String(running);
      box.dataset.current = current;
      text.textContent = running ? 'The ' + label + ' scene is running.' : 'The ' + label + ' scene is not running (' + current + ' is).';
      sw.hidden = running;
      onChange(running, current);
    });
  }
  const sceneRunning = () => document.getElementById('scene-status').dataset.running === 'true';
  window.tinkerbox.scene = { toast, sceneStatus, sceneRunning };
})();
