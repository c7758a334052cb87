package web

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/web/webtest"
	"tinkerbox/drivers/picam"
	"tinkerbox/drivers/sim"
)

// spyMoving is true once the picture in #live has changed since the first
// time it was seen: the MJPEG stream plays in the browser.
const spyMoving = `(() => {
  const img = document.getElementById('live');
  if (!img.complete || img.naturalWidth === 0) return false;
  const c = document.createElement('canvas');
  c.width = 32; c.height = 24;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0, c.width, c.height);
  const h = Array.from(g.getImageData(0, 0, c.width, c.height).data).join(',');
  if (window.spyFirst === undefined) { window.spyFirst = h; return false; }
  return h !== window.spyFirst;
})()`

// TestBrowserSpycam logs in, opens the spy-cam page and watches the simulated
// camera's moving picture arrive over /stream.mjpg.
func TestBrowserSpycam(t *testing.T) {
	ctx := webtest.Browser(t)

	cam := sim.NewCamera(&sim.CameraOpts{Width: 160, Height: 120, FPS: 10})
	owner := picam.NewOwner(cam, nil)
	octx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- owner.Run(octx) }()
	defer func() { stop(); owner.Halt(); <-done }()

	app := newFakeApp()
	app.set(func(s *State) { s.Camera = CameraState{Online: true, FPS: 10, Width: 160, Height: 120} })
	srv, err := New(Options{App: app, Camera: ownerCam{owner}, PasswordHash: testHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	v := srv.mountSpycam(nil, streamWriteTimeout)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/spycam"), chromedp.WaitVisible(chromedp.ID("live"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](spyMoving, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the live picture never changed: %v", err)
	}
	mode, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('live').dataset.mode`))
	if err != nil || mode != "stream" {
		t.Fatalf("mode = %q, %v; want the MJPEG stream", mode, err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
		`document.getElementById('stat-viewers').textContent === '1' && document.getElementById('stat-res').textContent === '160×120'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got, _ := chromedp.Run(tctx, chromedp.TextContent(chromedp.ID("stat-viewers")))
		t.Fatalf("stats never showed one viewer (%q): %v", got, err)
	}
	if n := v.viewers.Load(); n != 1 {
		t.Fatalf("server counts %d viewers", n)
	}
	// Snapshot mode (the iOS fallback) keeps the picture moving too.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("mode")), chromedp.Evaluate[chromedp.Void](`window.spyFirst = undefined`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('live').dataset.mode === 'snapshot' && `+spyMoving,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("snapshot mode shows no moving picture: %v", err)
	}
}
