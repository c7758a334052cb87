package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web/webtest"
)

// restartable is a web server on an address that survives a restart of the
// server behind it, as the appliance's does.
type restartable struct {
	t    *testing.T
	addr string
	srv  *Server
	hs   *http.Server
	done chan error
}

func startRestartable(t *testing.T, addr string, app *fakeApp, events *fakeEvents) *restartable {
	t.Helper()
	srv, err := New(Options{App: app, Events: events, PasswordHash: testHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	l := &restartable{t: t, addr: ln.Addr().String(), srv: srv, hs: &http.Server{Handler: srv.Handler()}, done: make(chan error, 1)}
	l.hs.RegisterOnShutdown(srv.EndStreams)
	go func() { l.done <- l.hs.Serve(ln) }()
	t.Cleanup(l.stop)
	return l
}

func (l *restartable) url() string { return "http://" + l.addr }

// stop closes the listener and every connection at once, like a crash.
func (l *restartable) stop() {
	l.srv.EndStreams()
	l.hs.Close()
	if err := <-l.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		l.t.Errorf("serve: %v", err)
	}
	l.done <- http.ErrServerClosed // for the Cleanup's second stop
}

// TestBrowserOfflineThenRestart: the front panel, live, loses its appliance:
// it says offline with the time it last heard from it, dims the page and
// marks the display, lights and camera stale. When the appliance comes back
// (a restart: no session survives it) the page goes to the login page, and
// back to the panel after signing in.
func TestBrowserOfflineThenRestart(t *testing.T) {
	ctx := webtest.Browser(t)
	app := newFakeApp()
	demoApp(app)
	events := &fakeEvents{}
	l := startRestartable(t, "127.0.0.1:0", app, events)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	poll := func(what, js string, d time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(d))); err != nil {
			state, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.href + ' ' + (document.getElementById('conn') || {}).textContent`))
			t.Fatalf("%s: %v (page: %s)", what, err, state)
		}
	}
	if err := webtest.Login(tctx, l.url(), testPassword); err != nil {
		t.Fatal(err)
	}
	poll("live", `document.getElementById('conn').dataset.state === 'live' && !document.body.classList.contains('offline')`, 10*time.Second)

	l.stop()
	poll("offline", `document.body.classList.contains('offline') && document.getElementById('conn').dataset.state === 'offline'`, 10*time.Second)
	text, err := chromedp.Run(tctx, chromedp.TextContent(chromedp.ID("conn-text")))
	if err != nil || !regexp.MustCompile(`^offline · last seen \d\d:\d\d:\d\d$`).MatchString(text) {
		t.Errorf("indicator says %q (%v), want offline · last seen HH:MM:SS", text, err)
	}
	stale, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-live]')].map((e) => getComputedStyle(e, '::after').content)`))
	if err != nil || len(stale) < 3 {
		t.Fatalf("stale marks: %v %v", stale, err)
	}
	for i, c := range stale {
		if c != `"stale"` {
			t.Errorf("live element %d is not marked stale while offline (content %s)", i, c)
		}
	}
	dim, err := chromedp.Run(tctx, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.querySelector('main')).opacity)`))
	if err != nil || dim >= 1 {
		t.Errorf("main's opacity offline = %v (%v), want dimmed", dim, err)
	}
	if meta, _ := chromedp.Run(tctx, chromedp.TextContent(chromedp.ID("camera-meta"))); strings.Contains(meta, "fps") {
		t.Errorf("camera still claims %q while offline", meta)
	}

	// The appliance restarts on the same address with no sessions.
	l2 := startRestartable(t, l.addr, app, events)
	lctx, lcancel := context.WithTimeout(tctx, 30*time.Second)
	defer lcancel()
	if err := chromedp.Do(lctx, chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
		where, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.href`))
		t.Fatalf("after the restart the page is at %s (%v), want the login page", where, err)
	}
	where, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if where != "/login?next=%2F" {
		t.Errorf("login page at %q, want /login?next=%%2F", where)
	}
	if err := chromedp.Do(tctx,
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
	); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.ID("btn-b"))); err != nil {
		t.Fatalf("no front panel after signing in again: %v", err)
	}
	poll("back live after signing in", `location.pathname === '/' && document.getElementById('conn') !== null && document.getElementById('conn').dataset.state === 'live'`, 15*time.Second)
	_ = l2
}

// TestBrowserHelpQueueNotify: the front panel says what A and B do in the
// running scene, what the lights mean, that queued strips wait for the
// comic scene, and, once "Notify me" is on, raises a notification for a
// warning that arrives, not for what was already in the log.
func TestBrowserHelpQueueNotify(t *testing.T) {
	ctx := webtest.Browser(t)
	app := newFakeApp()
	app.set(func(s *State) {
		s.Scene = "barometer"
		s.Help = Help{A: "next view", ALong: "acknowledge a warning", B: "next scene: spycam",
			Lights: map[string]string{"ready": "on: sampling", "warn": "fast blink: a new warning"}}
		s.Printer.Queue = 2
	})
	events := &fakeEvents{}
	events.add(store.Event{At: time.Now(), Level: "warn", Source: "cardfeed", Message: "old jam"})
	l := startRestartable(t, "127.0.0.1:0", app, events)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// A stand-in for the Notification API, granted, in place before the
	// page's scripts run: headless Chromium has no notification service.
	const fakeNotification = `(() => {
		window.__notes = [];
		const fake = function (title, opts) { window.__notes.push(title + ' | ' + opts.body); };
		fake.permission = 'granted';
		fake.requestPermission = () => Promise.resolve('granted');
		window.Notification = fake;
	})()`
	if err := chromedp.Do(tctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeNotification})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if err := webtest.Login(tctx, l.url(), testPassword); err != nil {
		t.Fatal(err)
	}
	poll("live", `document.getElementById('conn').dataset.state === 'live' && document.querySelectorAll('#events li time').length === 1`)
	got, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`['help-a', 'help-a-long', 'help-b'].map((id) => document.getElementById(id).textContent)
		.concat([...document.querySelectorAll('[data-legend]')].map((e) => e.dataset.legend + ': ' + e.textContent))
		.concat([document.getElementById('queue-note').hidden ? '' : document.getElementById('queue-note').textContent])`))
	want := []string{"next view", "acknowledge a warning", "next scene: spycam",
		"ready: on: sampling", "busy: not used in this scene", "warn: fast blink: a new warning",
		"2 strips wait: they print when the comic scene runs."}
	if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("help, legend and queue note:\n%q\nwant\n%q (%v)", got, want, err)
	}
	app.set(func(s *State) { s.Scene = "comic" })
	poll("queue note hidden in the comic scene", `document.getElementById('queue-note').hidden`)

	if err := chromedp.Do(tctx, chromedp.Click(`[data-notify]`)); err != nil {
		t.Fatal(err)
	}
	poll("notify on", `document.querySelector('[data-notify]').getAttribute('aria-pressed') === 'true'`)
	events.add(store.Event{At: time.Now(), Level: "info", Source: "comic", Message: "printed strip #3"})
	events.add(store.Event{At: time.Now(), Level: "error", Source: "barometer", Message: "gale warning: pressure -6.2 hPa in 3 h"})
	poll("new events shown", `document.querySelectorAll('#events li time').length === 3 && document.querySelector('#events li').classList.contains('ev-error')`)
	poll("notified", `window.__notes.length > 0`)
	notes, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`window.__notes`))
	if err != nil || len(notes) != 1 || notes[0] != "Error: barometer | gale warning: pressure -6.2 hPa in 3 h" {
		t.Errorf("notifications = %q (%v), want the gale only", notes, err)
	}
}
