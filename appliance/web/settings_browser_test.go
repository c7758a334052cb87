package web

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/update"
	"tinkerbox/appliance/web/webtest"
)

// TestBrowserSettingsUpdate drives /settings in real Chromium with a fake
// update service: the page passes axe-core; a refused bundle shows the
// service's words; going back to the previous firmware asks first; a bundle
// uploads with both progress bars moving, the success message names the new
// version, and when the appliance comes back the page says what runs.
func TestBrowserSettingsUpdate(t *testing.T) {
	start := time.Now()
	ctx := webtest.Browser(t)
	axe := webtest.Axe(t)

	u := &fakeUpdater{status: deviceStatus()}
	app := newFakeApp()
	app.set(func(s *State) { s.Sim = false })
	srv, err := New(Options{App: app, Updater: u, FirmwareVersion: "v1.4.0", PasswordHash: testHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})
	const size = 8 << 20
	bundle := filepath.Join(t.TempDir(), "tinkerbox-v2.0.0-pi0w.tbup")
	if err := os.WriteFile(bundle, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	errs := watchErrors(tctx)
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			got, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('upd-msg').textContent + ' | ' + document.getElementById('upd-error').textContent`))
			t.Fatalf("%s: %v (message | error: %q)", what, err, got)
		}
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.TextContent(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("#%s: %v", id, err)
		}
		return s
	}
	checkAxe := func(when string) {
		t.Helper()
		found, err := webtest.RunAxe(tctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			if f.Serious() {
				t.Errorf("axe /settings %s: %s", when, f)
			} else {
				t.Logf("axe /settings %s: %s", when, f)
			}
		}
	}
	shot := func(name string) {
		t.Helper()
		if *screenshots == "" {
			return
		}
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Only the refusal's own 400 may be logged.
	noErrors := func(when string) {
		t.Helper()
		for _, e := range errs.take() {
			if !strings.Contains(e, "status of 400") {
				t.Errorf("console error %s: %s", when, e)
			}
		}
	}
	open := func() {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/settings")); err != nil {
			t.Fatal(err)
		}
		poll("settings live", `document.getElementById('conn').dataset.state === 'live' && document.getElementById('upd-version').textContent === 'v1.4.0'`)
	}
	choose := func() {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.SetUploadFiles(chromedp.ID("upd-file"), []string{bundle}), chromedp.Click(chromedp.ID("upd-send"))); err != nil {
			t.Fatal(err)
		}
	}

	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	open()
	if got := text("upd-other") + " | " + text("upd-trial"); got != "B · v1.3.0 · ready: holds a verified firmware | committed: boots by default" {
		t.Errorf("slots = %q", got)
	}
	checkAxe("at rest")
	shot("settings-1280.png")
	// On a phone: nothing sticks out sideways.
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if fits, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !fits {
		t.Error("/settings overflows a 390 px wide screen")
	}
	checkAxe("on a phone")
	shot("settings-390.png")
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}

	// A refused bundle: the service's words, and the form back.
	const refusal = "update: this bundle is for pi4, not pi0w"
	u.set(func(u *fakeUpdater) {
		u.install = func(ctx context.Context, b io.Reader, progress func(update.Progress)) (update.Result, error) {
			io.ReadFull(b, make([]byte, 4096))
			progress(update.Progress{Phase: "checking"})
			return update.Result{}, errors.New(refusal)
		}
	})
	choose()
	poll("refusal shown", `!document.getElementById('upd-error').hidden && document.getElementById('upd-error').textContent.includes(`+jsQuote(refusal)+`) && !document.getElementById('upd-send').disabled`)
	shot("settings-refused.png")
	checkAxe("after a refusal")
	noErrors("after a refusal")

	// Going back asks first; cancelled, nothing happens.
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => false`), chromedp.Click(chromedp.ID("upd-rollback"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`window.confirm = (q) => { window.asked = q; return true; }`), chromedp.Click(chromedp.ID("upd-rollback"))); err != nil {
		t.Fatal(err)
	}
	poll("rollback", `document.getElementById('upd-msg').textContent.startsWith('Going back to v1.3.0: rebooting')`)
	if asked, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`window.asked`)); !strings.Contains(asked, "(v1.3.0)") || u.rollbackCount() != 1 {
		t.Errorf("rollback: asked %q, %d rollbacks; want one, after asking about v1.3.0", asked, u.rollbackCount())
	}

	// An install: the upload bar fills, the service's phases show, then the
	// success message; when the appliance is back, what runs.
	half, release := make(chan struct{}), make(chan struct{})
	u.set(func(u *fakeUpdater) {
		u.install = func(ctx context.Context, b io.Reader, progress func(update.Progress)) (update.Result, error) {
			progress(update.Progress{Phase: "checking"})
			buf := make([]byte, 256<<10)
			var n int64
			for {
				k, err := b.Read(buf)
				n += int64(k)
				if err == io.EOF {
					break
				}
				if err != nil {
					return update.Result{}, err
				}
				time.Sleep(10 * time.Millisecond) // an SD card's pace, roughly
			}
			progress(update.Progress{Phase: "writing root", Done: n / 2, Total: n})
			close(half)
			<-release
			progress(update.Progress{Phase: "verifying", Done: n, Total: n})
			return update.Result{Slot: "B", Version: "v2.0.0", Board: "pi0w"}, nil
		}
	})
	open()
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`window.sent = [];
		new MutationObserver(() => window.sent.push(Number(document.getElementById('upd-sent').value)))
			.observe(document.getElementById('upd-sent'), { attributes: true, attributeFilter: ['value'] });`)); err != nil {
		t.Fatal(err)
	}
	choose()
	<-half
	poll("half way", `document.getElementById('upd-step-label').textContent === 'Writing the system' &&
		Math.round(document.getElementById('upd-step').value) === `+strconv.Itoa(size/2)+` && document.getElementById('upd-send').disabled &&
		document.getElementById('upd-sent').value === `+strconv.Itoa(size)+` && document.getElementById('upd-sent-text').textContent === '100 % of 8.0 MB'`)
	sent, _ := chromedp.Run(tctx, chromedp.Evaluate[[]float64](`window.sent`))
	t.Logf("upload bar values: %v", sent)
	if len(sent) < 2 || sent[len(sent)-1] != size {
		t.Errorf("the upload bar went %v, want it to move up to %d", sent, size)
	}
	checkAxe("installing")
	shot("settings-installing.png")
	close(release)
	poll("success", `document.getElementById('upd-msg').textContent === 'Installed. Rebooting into v2.0.0 — this page reconnects by itself.'`)
	checkAxe("after the install")
	shot("settings-installed.png")

	// The reboot: the connection drops, the appliance comes back on v2.0.0.
	u.set(func(u *fakeUpdater) {
		u.status.Version, u.status.Tryboot = "v2.0.0", true
		u.status.Running = update.SlotStatus{Name: "B", Version: "v2.0.0", State: update.SlotTrying}
		u.status.Other = update.SlotStatus{Name: "A", Version: "v1.4.0", State: update.SlotActive}
	})
	ts.CloseClientConnections()
	poll("back", `document.getElementById('upd-msg').textContent === 'Back: running v2.0.0 on trial. It becomes the default once it proves healthy.' &&
		document.getElementById('upd-version').textContent === 'v2.0.0' && !document.getElementById('upd-send').disabled`)
	for _, e := range errs.take() {
		// The dropped connections are the reboot.
		if !strings.Contains(e, "ERR_") && !strings.Contains(e, "status of 400") {
			t.Errorf("console error: %s", e)
		}
	}
	t.Logf("settings browser test: %.1f s", time.Since(start).Seconds())
}
