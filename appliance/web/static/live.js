// tinkerbox live.js: the one live connection of every signed-in page.
//
// Contract (loaded by the "head" template, deferred, before the page's own
// deferred script, so window.tinkerbox exists when that script runs):
//
//   tinkerbox.state            the last State from the stream (null before the first)
//   tinkerbox.onState(fn)      fn(state) on every State pushed by /api/state/stream;
//                              called at once with the last one if there is one
//   tinkerbox.onEvents(fn)     fn(list) with the newest event-log entries (newest first)
//   tinkerbox.onUpdate(fn)     fn(activity) while a firmware install runs (and once when it
//                              ends): {running, received, size, progress?, result?, error?},
//                              the "install" of GET /api/update; called at once with the last one
//   tinkerbox.onOffline(fn)    fn(lastSeen Date|null) when the stream is lost
//   tinkerbox.onOnline(fn)     fn() when it is back
//   tinkerbox.online           whether the stream is live now
//   tinkerbox.post(url, body)  POST JSON with the page's CSRF token (<meta name="csrf-token">);
//                              resolves {ok, status, data}, never rejects (status 0: no answer);
//                              on 401 the page goes to /login?next=<this page>
//   tinkerbox.toLogin()        go to the login page, coming back here afterwards
//   tinkerbox.notify           {supported, enabled, enable(), disable()}: browser
//                              notifications for warn/error events (asked on a click)
//
// There is ONE EventSource per page (on /api/state/stream): pages must not
// open their own or poll /api/state. While the stream is lost the body has
// class "offline" (base.css dims <main> and marks [data-live] elements stale),
// #conn says "offline · last seen HH:MM:SS". An EventSource cannot read an
// HTTP status, so when it gives up, one GET /api/state tells a lost session
// (401: to the login page) from an appliance that is down (retry with backoff).
'use strict';
(() => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : '';
  const subs = { state: [], events: [], update: [], offline: [], online: [] };
  const call = (list, ...args) => {
    for (const fn of list) {
      try { fn(...args); } catch (e) { console.error(e); } // one bad handler must not stop the rest
    }
  };

  const tb = {
    state: null,
    events: null,
    update: null,
    online: false,
    lastSeen: null,
    onState(fn) { subs.state.push(fn); if (tb.state) fn(tb.state); },
    onEvents(fn) { subs.events.push(fn); if (tb.events) fn(tb.events); },
    onUpdate(fn) { subs.update.push(fn); if (tb.update) fn(tb.update); },
    onOffline(fn) { subs.offline.push(fn); },
    onOnline(fn) { subs.online.push(fn); },
    toLogin,
    post,
  };
  window.tinkerbox = tb;

  function toLogin() {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  async function post(url, body) {
    let res;
    try {
      res = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify(body === undefined ? {} : body),
      });
    } catch (e) {
      return { ok: false, status: 0, data: { error: 'The appliance is not answering.' } };
    }
    if (res.status === 401) toLogin();
    const data = await res.json().catch(() => ({}));
    if (!res.ok && !data.error) data.error = res.statusText || ('HTTP ' + res.status);
    return { ok: res.ok, status: res.status, data };
  }

  // ---- the indicator ----

  const two = (n) => String(n).padStart(2, '0');
  const clock = (d) => two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());

  function show(state, text) {
    const conn = document.getElementById('conn');
    if (conn) {
      conn.dataset.state = state;
      conn.title = text;
    }
    const t = document.getElementById('conn-text');
    if (t) t.textContent = text;
  }

  function goOnline() {
    tb.lastSeen = new Date();
    if (tb.online) return;
    tb.online = true;
    document.body.classList.remove('offline');
    show('live', 'live');
    call(subs.online);
  }

  function goOffline() {
    if (!tb.online && document.body.classList.contains('offline')) return;
    tb.online = false;
    document.body.classList.add('offline');
    show('offline', tb.lastSeen ? 'offline · last seen ' + clock(tb.lastSeen) : 'offline');
    call(subs.offline, tb.lastSeen);
  }

  // ---- the stream ----

  let es = null;
  let backoff = 1000;
  let retry = 0;

  function connect() {
    clearTimeout(retry);
    es = new EventSource('/api/state/stream');
    es.addEventListener('open', () => { backoff = 1000; goOnline(); });
    es.addEventListener('state', (e) => {
      let s;
      try { s = JSON.parse(e.data); } catch (err) { return; }
      goOnline();
      tb.state = s;
      const badge = document.getElementById('sim-badge');
      if (badge) badge.hidden = !s.sim;
      call(subs.state, s);
    });
    es.addEventListener('events', (e) => {
      let list;
      try { list = JSON.parse(e.data); } catch (err) { return; }
      goOnline();
      tb.events = list;
      notifyNew(list);
      call(subs.events, list);
    });
    es.addEventListener('update', (e) => {
      let a;
      try { a = JSON.parse(e.data); } catch (err) { return; }
      goOnline();
      tb.update = a;
      call(subs.update, a);
    });
    es.addEventListener('error', () => {
      goOffline();
      // The browser retries a dropped connection by itself, but gives up on
      // an HTTP error (401 after a restart, 503 while shutting down).
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        check();
      }
    });
  }

  async function check() {
    try {
      const res = await fetch('/api/state', { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) { toLogin(); return; }
    } catch (e) { /* down: try again later */ }
    retry = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 15000);
  }

  // Leaving the page: close the stream first, so the browser does not report
  // an error for it and the page does not flash "offline".
  window.addEventListener('pagehide', () => { if (es) es.close(); });

  // ---- notifications ----

  const KEY = 'tinkerbox.notify';
  const supported = 'Notification' in window;
  const seen = new Set();
  let baseline = false;
  const notify = {
    supported,
    get enabled() {
      return supported && Notification.permission === 'granted' && localStorage.getItem(KEY) === '1';
    },
    async enable() {
      if (!supported) return false;
      const p = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
      if (p === 'granted') localStorage.setItem(KEY, '1');
      syncNotifyButtons();
      return p === 'granted';
    },
    disable() { localStorage.removeItem(KEY); syncNotifyButtons(); },
  };
  tb.notify = notify;

  // Only events that arrive while the page is open notify, each once; the
  // first list is what already happened.
  function notifyNew(list) {
    if (!Array.isArray(list)) return;
    const fresh = list.filter((ev) => ev && !seen.has(ev.id));
    for (const ev of fresh) seen.add(ev.id);
    if (!baseline) { baseline = true; return; }
    if (!notify.enabled) return;
    for (const ev of fresh.reverse()) {
      if (ev.level !== 'warn' && ev.level !== 'error') continue;
      try {
        new Notification((ev.level === 'error' ? 'Error' : 'Warning') + ': ' + (ev.source || 'tinkerbox'), {
          body: ev.message || '', tag: 'tinkerbox-' + ev.id, icon: '/static/logo.svg',
        });
      } catch (e) { /* some browsers only notify from a service worker */ }
    }
  }

  // Any button with data-notify toggles notifications.
  function syncNotifyButtons() {
    for (const b of document.querySelectorAll('[data-notify]')) {
      b.hidden = !supported;
      const on = notify.enabled;
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.textContent = on ? 'Notifying' : (supported && Notification.permission === 'denied' ? 'Notifications blocked' : 'Notify me');
      b.disabled = supported && Notification.permission === 'denied';
    }
  }

  function start() {
    for (const b of document.querySelectorAll('[data-notify]')) {
      b.addEventListener('click', () => { if (notify.enabled) notify.disable(); else notify.enable(); });
    }
    syncNotifyButtons();
    connect();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
