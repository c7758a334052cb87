// tinkerbox settings page: the firmware update section. The slots and the
// last outcome come from GET /api/update (at load, after every action and
// when the stream comes back); a bundle is uploaded with XHR (its upload
// progress is the "Upload" bar) as the raw body of POST /api/update, and the
// install's phases arrive as the stream's "update" events
// (tinkerbox.onUpdate). After a successful install or a rollback the
// appliance reboots: live.js shows it offline, and the page asks again when
// it is back.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const box = $('upd');
  if (!box) return;
  const available = box.dataset.available === 'true';
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : '';

  // The same words as slotState in settings.go.
  const SLOT = {
    active: 'running, committed',
    ready: 'ready: holds a verified firmware',
    trying: 'on trial: not committed yet',
    incomplete: 'incomplete: an install was interrupted or failed',
    empty: 'empty',
  };
  const PHASE = {
    checking: 'Checking the bundle',
    'writing boot': 'Writing the boot partition',
    'writing root': 'Writing the system',
    verifying: 'Verifying what was written',
    rebooting: 'Restarting',
  };
  // uploading: this page's XHR runs; before: the id of the last install
  // the server had reported when it started (a later one is this upload's:
  // there is one at a time); ending: how the stream said it ended, before
  // the XHR did; watching: an install from another page runs;
  // rebootingInto: the version the appliance is restarting into.
  const ui = { xhr: null, uploading: false, before: 0, ending: null, watching: false, rebootingInto: '', status: null };
  const lastID = () => Math.max((tinkerbox.update && tinkerbox.update.id) || 0,
    (ui.status && ui.status.install && ui.status.install.id) || 0);

  const setText = (id, t) => { const e = $(id); if (e) e.textContent = t; };
  const mb = (n) => (n / 1048576).toFixed(n >= 100 * 1048576 ? 0 : 1) + ' MB';
  const when = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleString(); };

  function showError(msg) {
    const e = $('upd-error');
    if (!e) return;
    e.textContent = msg || '';
    e.hidden = !msg;
  }
  function say(msg, kind) {
    const m = $('upd-msg');
    if (!m) return;
    m.textContent = msg || '';
    if (kind) m.dataset.kind = kind; else delete m.dataset.kind;
  }

  // ---- drawing the status ----

  function canRollback() {
    const st = ui.status;
    return !!(st && st.can_rollback && !st.busy && !(st.install && st.install.running));
  }
  function setBusy(on) {
    for (const id of ['upd-file', 'upd-send']) { const e = $(id); if (e) e.disabled = on; }
    const rb = $('upd-rollback');
    if (rb) rb.disabled = on || !canRollback();
  }
  const busyNow = () => ui.uploading || ui.rebootingInto !== '' ||
    !!(ui.status && (ui.status.busy || (ui.status.install && ui.status.install.running)));

  function render(st) {
    ui.status = st;
    setText('upd-version', st.version || '–');
    setText('upd-slot', (st.running && st.running.name) || '–');
    setText('upd-trial', st.tryboot ? 'on trial (tryboot): committed once it proves healthy' : 'committed: boots by default');
    const o = st.other || {};
    setText('upd-other', o.name ? [o.name, o.version, SLOT[o.state] || o.state].filter(Boolean).join(' · ') : '–');
    setText('upd-board', st.board || '–');
    const last = $('upd-last');
    if (last) {
      const l = st.last;
      if (!l) {
        last.textContent = 'No update since this card was flashed.';
      } else {
        const r = document.createElement('span');
        r.className = 'upd-result';
        r.dataset.result = l.result;
        r.textContent = l.result;
        const t = document.createElement('time');
        t.dateTime = l.at;
        t.textContent = when(l.at);
        const head = (l.version ? ' ' + l.version : '') + (l.from ? ' (from ' + l.from + ')' : '') + ' · ';
        last.replaceChildren(r, head, t, l.detail ? ' · ' + l.detail : '');
      }
    }
    const rb = $('upd-rollback');
    if (rb) {
      rb.dataset.version = o.version || '';
      rb.textContent = 'Go back to the previous firmware' + (o.version ? ' (' + o.version + ')' : '');
    }
    if (st.install) activity(st.install);
    if (st.busy && !ui.uploading && !(st.install && st.install.running)) {
      say('The update service is busy with another install (' + (PHASE[st.busy.phase] || st.busy.phase).toLowerCase() + ').');
    }
    setBusy(busyNow());
  }

  async function refresh() {
    let res;
    try {
      res = await fetch('/api/update', { credentials: 'same-origin', cache: 'no-store' });
    } catch (e) {
      return null; // offline: live.js shows it, and onOnline asks again
    }
    if (res.status === 401) { tinkerbox.toLogin(); return null; }
    const data = await res.json().catch(() => ({}));
    if (!available) {
      if (data.version) setText('upd-version', data.version);
      if (data.reason) setText('upd-reason', data.reason);
      return data;
    }
    const down = $('upd-down');
    if (!res.ok) {
      down.textContent = data.error || ('The update service answered HTTP ' + res.status + '.');
      down.hidden = false;
      return null;
    }
    down.hidden = true;
    render(data);
    return data;
  }

  // ---- progress ----

  function setSent(done, total) {
    const bar = $('upd-sent');
    bar.max = total > 0 ? total : 1;
    bar.value = Math.min(done, bar.max);
    setText('upd-sent-text', total > 0 ? Math.floor(100 * done / total) + ' % of ' + mb(total) : mb(done));
  }
  function setStep(p) {
    const bar = $('upd-step');
    if (!p) {
      setText('upd-step-label', 'Install');
      setText('upd-step-text', 'waiting for the bundle');
      bar.max = 1;
      bar.value = 0;
      return;
    }
    setText('upd-step-label', PHASE[p.phase] || p.phase);
    if (p.total > 0) {
      bar.max = p.total;
      bar.value = Math.min(p.done, p.total);
      setText('upd-step-text', Math.floor(100 * p.done / p.total) + ' % of ' + mb(p.total));
    } else if (p.phase === 'rebooting') {
      bar.max = 1;
      bar.value = 1;
      setText('upd-step-text', '');
    } else {
      bar.removeAttribute('value'); // no figures: an indeterminate bar
      setText('upd-step-text', '');
    }
  }

  // An install's activity, from the stream or GET /api/update.
  function activity(a) {
    const ours = ui.uploading && a.id > ui.before;
    if (a.running) {
      if (ui.uploading && !ours) return; // the previous one, still
      $('upd-progress').hidden = false;
      if (!ours) { // uploaded from another page
        ui.watching = true;
        setSent(a.received, a.size);
      }
      setStep(a.progress || null);
      setBusy(true);
      return;
    }
    if (ours) {
      if (a.result) {
        ui.ending = { result: a.result };
        setStep({ phase: 'rebooting', done: 0, total: 0 });
      } else if (a.error) {
        // Refused: no need to send the rest of the bundle.
        ui.ending = { error: a.error };
        if (ui.xhr) ui.xhr.abort();
      }
      return;
    }
    if (ui.watching && !ui.uploading) { // another page's install ended
      ui.watching = false;
      if (a.result) {
        succeeded(a.result.version);
        return;
      }
      $('upd-progress').hidden = true;
      if (a.error) say('The update sent from another page was not installed: ' + a.error);
      refresh();
    }
  }

  function succeeded(version) {
    ui.rebootingInto = version || 'the new firmware';
    showError('');
    setStep({ phase: 'rebooting', done: 0, total: 0 });
    say('Installed. Rebooting into ' + ui.rebootingInto + ' — this page reconnects by itself.', 'ok');
    setBusy(true);
  }

  function failed(msg) {
    $('upd-progress').hidden = true;
    say('');
    showError('The update was not installed: ' + msg);
    setBusy(false);
    refresh();
  }

  function upload(file) {
    showError('');
    say('');
    Object.assign(ui, { uploading: true, before: lastID(), ending: null });
    setBusy(true);
    $('upd-progress').hidden = false;
    setSent(0, file.size);
    setStep(null);
    const x = new XMLHttpRequest();
    ui.xhr = x;
    x.open('POST', '/api/update');
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.setRequestHeader('X-CSRF-Token', csrf);
    x.upload.addEventListener('progress', (e) => { if (e.lengthComputable) setSent(e.loaded, e.total); });
    x.upload.addEventListener('load', () => setSent(file.size, file.size));
    const end = (status) => {
      if (ui.xhr !== x) return;
      ui.xhr = null;
      ui.uploading = false;
      let data = {};
      try { data = JSON.parse(x.responseText || '{}'); } catch (e) { /* not JSON */ }
      if (status === 200 && data.rebooting) { succeeded(data.version); return; }
      if (ui.ending && ui.ending.result) { succeeded(ui.ending.result.version); return; } // the answer was lost to the reboot
      if (status === 401) { tinkerbox.toLogin(); return; }
      const msg = (ui.ending && ui.ending.error) || data.error ||
        (status === 0 ? 'the upload broke off: the appliance stopped answering.' : 'HTTP ' + status + '.');
      failed(msg);
    };
    x.addEventListener('load', () => end(x.status));
    x.addEventListener('error', () => end(0));
    x.addEventListener('abort', () => end(0));
    x.send(file);
  }

  // ---- wiring ----

  if (available) {
    const form = $('upd-form');
    const max = Number(form.dataset.max) || Infinity;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (busyNow()) return;
      const file = $('upd-file').files[0];
      if (!file) {
        showError('Choose an update bundle (a .tbup file) first.');
        $('upd-file').focus();
        return;
      }
      if (file.size > max) {
        showError('That file is larger than 1 GiB: it is not a tinkerbox update bundle.');
        return;
      }
      upload(file);
    });
    $('upd-rollback').addEventListener('click', async () => {
      const rb = $('upd-rollback');
      const v = rb.dataset.version;
      const what = 'the previous firmware' + (v ? ' (' + v + ')' : '');
      if (!confirm('Go back to ' + what + '? The appliance restarts into it, on trial; your data is kept.')) return;
      showError('');
      rb.disabled = true;
      const r = await tinkerbox.post('/api/update/rollback', { confirm: true });
      if (!r.ok) {
        showError('Could not go back: ' + r.data.error);
        refresh();
        return;
      }
      ui.rebootingInto = r.data.version || v || 'the previous firmware';
      say('Going back to ' + ui.rebootingInto + ': rebooting — this page reconnects by itself.', 'ok');
      setBusy(true);
    });
    tinkerbox.onUpdate(activity);
    window.addEventListener('beforeunload', (e) => {
      if (ui.uploading) { e.preventDefault(); e.returnValue = ''; }
    });
  }

  let wasOffline = false;
  tinkerbox.onOffline(() => {
    wasOffline = true;
    if (ui.rebootingInto) say('Restarting into ' + ui.rebootingInto + '… this page reconnects by itself.', 'ok');
  });
  tinkerbox.onOnline(async () => {
    if (!wasOffline) return; // the first connection: the load's refresh covers it
    const want = ui.rebootingInto;
    const st = await refresh();
    if (!want || !st) return;
    if (st.version === want) {
      ui.rebootingInto = '';
      say('Back: running ' + want + (st.tryboot ? ' on trial. It becomes the default once it proves healthy.' : '.'), 'ok');
      $('upd-progress').hidden = true;
      setBusy(busyNow());
    } else if (st.version) {
      // Still the old one: the restart has not happened yet, or the new
      // firmware did not start and the appliance came back.
      say('Running ' + st.version + ' — waiting for the restart into ' + want + '. If it does not come, see the last update above.', 'ok');
    }
  });
  refresh();
})();

// The Home Assistant (MQTT) section: the connection from the stream's
// "mqtt" (tinkerbox.onState), the form saved with POST /api/mqtt. A
// password is sent only when one is typed (empty keeps the one set).
(() => {
  const $ = (id) => document.getElementById(id);
  const box = $('mqtt');
  if (!box) return;
  const when = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleString(); };

  // The same words as mqttWords in mqtt.go, in local time.
  function words(st) {
    switch (st.state) {
      case 'off': return 'Off: nothing is published';
      case 'connecting': return 'Connecting…';
      case 'connected': return 'Connected since ' + when(st.since);
      case 'down': return 'Down since ' + when(st.since) + (st.next_try ? ' · next try ' + when(st.next_try) : '');
    }
    return st.state || '–';
  }
  function render(st) {
    if (!st) return;
    const s = $('mqtt-state');
    if (s) { s.textContent = words(st); s.dataset.state = st.state; }
    const at = $('mqtt-at');
    if (at) at.textContent = st.broker || '–';
    const err = $('mqtt-error');
    if (err) err.textContent = st.last_error ? st.last_error + (st.last_error_at ? ' (' + when(st.last_error_at) + ')' : '') : 'none';
    const q = $('mqtt-queue');
    if (q) q.textContent = st.queued + ' messages · ' + st.dropped + ' dropped · ' + st.replaced + ' replaced by newer';
  }
  function fill(f) {
    $('mqtt-enabled').checked = !!f.enabled;
    $('mqtt-broker').value = f.broker || '';
    $('mqtt-user').value = f.user || '';
    $('mqtt-base').value = f.base_topic || '';
    $('mqtt-prefix').value = f.discovery_prefix || '';
    const pw = $('mqtt-password');
    pw.value = '';
    pw.placeholder = f.password_set ? 'unchanged' : 'none';
  }
  function say(msg, ok) {
    const m = $('mqtt-msg');
    m.textContent = ok ? msg : '';
    if (ok) m.dataset.kind = 'ok'; else delete m.dataset.kind;
    const e = $('mqtt-fail');
    e.textContent = ok ? '' : msg;
    e.hidden = ok || !msg;
  }

  tinkerbox.onState((s) => render(s.mqtt));

  const form = $('mqtt-form');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      enabled: $('mqtt-enabled').checked,
      broker: $('mqtt-broker').value.trim(),
      user: $('mqtt-user').value,
      base_topic: $('mqtt-base').value.trim(),
      discovery_prefix: $('mqtt-prefix').value.trim(),
    };
    const pw = $('mqtt-password');
    if (!pw.disabled && pw.value !== '') body.password = pw.value;
    const save = $('mqtt-save');
    save.disabled = true;
    say('', true);
    const res = await tinkerbox.post('/api/mqtt', body);
    save.disabled = false;
    if (!res.ok) {
      say(res.data.error || 'The settings were not saved.', false);
      return;
    }
    fill(res.data.settings);
    render(res.data.status);
    say(res.data.settings.enabled ? 'Saved: connecting to the broker.' : 'Saved: publishing is off.', true);
  });
})();
