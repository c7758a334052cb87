package appliance

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/web/webtest"
)

// browserPages is every page a maker opens, as the nav links them, plus the
// 404 page.
var browserPages = []struct{ name, path, ready string }{
	{"panel", "/", `document.getElementById('conn').dataset.state === 'live' && document.getElementById('scene-name').textContent !== ''`},
	{"comics", "/comics", ``},
	{"barometer", "/barometer", ``},
	{"spycam", "/spycam", ``},
	{"cards", "/cards", ``},
	{"settings", "/settings", ``},
	{"404", "/no-such-page", ``},
}

var browserSizes = []struct {
	name   string
	w, h   int64
	scheme string // prefers-color-scheme
}{{"desktop", 1280, 800, "light"}, {"phone", 390, 844, "light"}, {"dark", 1280, 800, "dark"}}

// consoleErrors collects what the page writes to the console as an error or
// throws, for the whole test.
type consoleErrors struct {
	mu   sync.Mutex
	list []string
}

func watchConsole(ctx context.Context) *consoleErrors {
	c := &consoleErrors{}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				c.mu.Lock()
				c.list = append(c.list, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line))
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *consoleErrors) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.list
	c.list = nil
	return l
}

// TestBrowserPages opens every page of the real simulator in real Chromium at
// desktop and phone sizes, runs axe-core on each and fails on a serious or
// critical finding or on a console error; it logs every finding per page.
func TestBrowserPages(t *testing.T) {
	ctx := webtest.Browser(t)
	axe := webtest.Axe(t)
	url, out, stop := startSim(t, t.TempDir())
	defer stop()
	m := pwRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password:\n%s", out)
	}
	base := strings.TrimSuffix(url, "/")
	tctx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	console := watchConsole(tctx)

	check := func(page, path, size string) {
		t.Helper()
		found, err := webtest.RunAxe(tctx, axe)
		if err != nil {
			t.Fatalf("%s at %s: %v", page, size, err)
		}
		counts := map[string]int{}
		for _, f := range found {
			counts[f.Impact]++
			if f.Serious() {
				t.Errorf("axe %s at %s: %s", page, size, f)
			} else {
				t.Logf("axe %s at %s: %s", page, size, f)
			}
		}
		t.Logf("axe %-9s %-7s critical %d, serious %d, moderate %d, minor %d", page, size,
			counts["critical"], counts["serious"], counts["moderate"], counts["minor"])
		for _, e := range console.take() {
			if page == "404" && strings.Contains(e, "status of 404") && strings.Contains(e, path) {
				continue // the browser logs the 404 page's own status
			}
			t.Errorf("console error on %s at %s: %s", page, size, e)
		}
	}
	viewport := func(w, h int64, scheme string) {
		t.Helper()
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(w, h), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		})); err != nil {
			t.Fatal(err)
		}
	}

	// TINKERBOX_SCREENSHOTS=DIR saves every page at every size, to look at.
	shoot := func(page, size string) {
		t.Helper()
		dir := os.Getenv("TINKERBOX_SCREENSHOTS")
		if dir == "" {
			return
		}
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, page+"-"+size+".png"), png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}
	for _, sz := range browserSizes {
		viewport(sz.w, sz.h, sz.scheme)
		if err := chromedp.Do(tctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
			t.Fatal(err)
		}
		check("login", "/login", sz.name)
		shoot("login", sz.name)
	}
	if err := webtest.Login(tctx, base, m[1]); err != nil {
		t.Fatal(err)
	}
	for _, sz := range browserSizes {
		viewport(sz.w, sz.h, sz.scheme)
		for _, p := range browserPages {
			// Pages with the frame wait for their stream, so what they
			// render from it is there for axe.
			ready := `document.readyState === 'complete' && (!document.getElementById('conn') || document.getElementById('conn').dataset.state === 'live')`
			if p.ready != "" {
				ready += " && " + p.ready
			}
			if err := chromedp.Do(tctx, chromedp.Navigate(base+p.path)); err != nil {
				t.Fatalf("open %s: %v", p.path, err)
			}
			if _, err := chromedp.Run(tctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
				t.Fatalf("%s at %s never got ready: %v", p.name, sz.name, err)
			}
			wide, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
			if err == nil && wide > 0 {
				t.Logf("%s at %s is %d px wider than the window", p.name, sz.name, wide)
			}
			check(p.name, p.path, sz.name)
			shoot(p.name, sz.name)
		}
	}
}

// startSimOn runs the simulator on listen (host:port) like startSim; stop
// ends it and waits.
func startSimOn(t *testing.T, data, listen string) (*syncBuffer, func() error) {
	t.Helper()
	t.Setenv("TINKERBOX_PASSWORD", "")
	out := &syncBuffer{seen: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Sim: true, DataDir: data, Listen: listen, Version: "test", Stdout: out, Stderr: io.Discard})
	}()
	t.Cleanup(cancel)
	deadline := time.After(20 * time.Second) // hang guard
	for !urlRE.MatchString(out.String()) {
		select {
		case <-out.seen:
		case err := <-done:
			t.Fatalf("Run returned early: %v\n%s", err, out)
		case <-deadline:
			t.Fatalf("no URL printed:\n%s", out)
		}
	}
	return out, func() error { cancel(); return <-done }
}

// TestBrowserScenePageRestart: a scene page (the barometer) shows the
// appliance offline while it is down, and goes to the login page, coming
// back to itself, when it restarts (no session survives a restart).
func TestBrowserScenePageRestart(t *testing.T) {
	ctx := webtest.Browser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the simulator listens here, twice
	data := t.TempDir()
	out, stop := startSimOn(t, data, addr)
	m := pwRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password:\n%s", out)
	}
	base := "http://" + addr
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			where, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.href + ' ' + (document.getElementById('conn') || {}).textContent`))
			t.Fatalf("%s: %v (page: %s)", what, err, where)
		}
	}
	if err := webtest.Login(tctx, base, m[1]); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(base+"/barometer")); err != nil {
		t.Fatal(err)
	}
	poll("live", `document.getElementById('conn') !== null && document.getElementById('conn').dataset.state === 'live'`)
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	poll("offline", `document.body.classList.contains('offline') && document.getElementById('conn-text').textContent.startsWith('offline · last seen ')`)
	if _, stop2 := startSimOn(t, data, addr); stop2 != nil {
		defer stop2()
	}
	lctx, lcancel := context.WithTimeout(tctx, 30*time.Second)
	defer lcancel()
	if err := chromedp.Do(lctx, chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
		t.Fatalf("after the restart the barometer page did not go to the login page: %v", err)
	}
	where, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if where != "/login?next=%2Fbarometer" {
		t.Errorf("login page at %q, want /login?next=%%2Fbarometer", where)
	}
}
