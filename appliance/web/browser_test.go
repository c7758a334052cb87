package web

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web/webtest"
	"tinkerbox/scenes/scene"
)

var screenshots = flag.String("screenshots", "", "directory to write front panel screenshots to (browser test)")

// demoApp dresses the fake appliance up like a running simulator so the
// screenshots show every part of the panel.
func demoApp(app *fakeApp) {
	app.set(func(s *State) {
		w, h := scene.DisplayWidth, scene.DisplayHeight
		px := make([]uint8, w*h)
		for x := range w {
			top := h - 1 - int(math.Round(2.5+2.2*math.Sin(float64(x)/2.6)))
			for y := top; y < h; y++ {
				px[y*w+x] = uint8(255 - 30*(y-top))
			}
		}
		s.Display.Pixels = px
		s.Printer = PrinterState{Online: true, Status: "ready", Width: 384, Rows: 520, Version: 3}
		s.Camera = CameraState{Online: true, FPS: 10, Width: 640, Height: 480, Frames: 1234}
	})
}

// receipt is a stand-in printer roll: a comic strip of three framed panels.
func receipt() image.Image {
	img := solid(384, 520, color.White)
	black := color.Black
	for p := range 3 {
		y0 := 20 + p*165
		for x := 20; x < 364; x++ {
			for t := range 4 {
				img.Set(x, y0+t, black)
				img.Set(x, y0+150-t, black)
			}
		}
		for y := y0; y <= y0+150; y++ {
			for t := range 4 {
				img.Set(20+t, y, black)
				img.Set(363-t, y, black)
			}
		}
		cx, cy, r := 120+p*70, y0+80, 30.0
		for y := cy - 40; y < cy+40; y++ {
			for x := cx - 40; x < cx+40; x++ {
				d := math.Hypot(float64(x-cx), float64(y-cy))
				if d < r && (x+y)%3 == 0 || math.Abs(d-r) < 2 {
					img.Set(x, y, black)
				}
			}
		}
	}
	return img
}

func cameraJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(40 + x/4), uint8(60 + y/3), 120, 255})
		}
	}
	for y := 80; y < 160; y++ {
		for x := 120; x < 200; x++ {
			img.Set(x, y, color.RGBA{255, 90, 31, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBrowserFrontPanel logs in through the form in real chromium, presses B
// on the drawn appliance and watches the scene name change, then changes the
// scene on the server side and watches the SSE stream bring it to the page.
func TestBrowserFrontPanel(t *testing.T) {
	ctx := webtest.Browser(t)

	app := newFakeApp()
	app.notify = make(chan string, 16)
	demoApp(app)
	events := &fakeEvents{}
	events.add(store.Event{At: time.Now().Add(-time.Minute), Level: "info", Source: "loop", Message: "scene comic started"})
	events.add(store.Event{At: time.Now().Add(-30 * time.Second), Level: "info", Source: "comic", Message: "printed comic #41 (3 panels)"})
	events.add(store.Event{At: time.Now(), Level: "warn", Source: "printer", Message: "paper is running low"})
	srv, err := New(Options{
		App:          app,
		Events:       events,
		Roll:         fakeRoll{receipt()},
		Camera:       &fakeCamera{frame: scene.Frame{Seq: 1, At: time.Now(), JPEG: cameraJPEG(t)}},
		PasswordHash: testHash(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		// Close waits for open requests; the page's stream is one of them
		// until the connection goes.
		ts.CloseClientConnections()
		ts.Close()
	})

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	shot := func(name, ready string) {
		if *screenshots == "" {
			return
		}
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Logf("screenshot %s: page not complete: %v", name, err)
		}
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/login"), chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
		t.Fatal(err)
	}
	shot("login.png", "true")
	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.ID("btn-b"))); err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(tctx, chromedp.TextContent(chromedp.ID("scene-name")))
	if err != nil || name != "comic" {
		t.Fatalf("scene name = %q, %v; want comic", name, err)
	}
	// Wait for the stream to be live, so the page is fully wired.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('conn').dataset.state === 'live'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("stream never went live: %v", err)
	}
	// Let the roll image, a camera frame and the events arrive first.
	const panelReady = `document.getElementById('roll').complete && !document.getElementById('roll').hidden &&
		document.getElementById('camera').naturalWidth > 0 && document.querySelectorAll('#events li time').length > 0`
	shot("panel.png", panelReady)

	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("btn-b"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('scene-name').textContent === 'cardfeed'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got, _ := chromedp.Run(tctx, chromedp.TextContent(chromedp.ID("scene-name")))
		t.Fatalf("after clicking B the scene name is %q, want cardfeed: %v", got, err)
	}
	if got := app.pressLog(); !slices.Equal(got, []string{"B:short"}) {
		t.Errorf("presses = %v, want [B:short]", got)
	}

	// A change on the appliance reaches the page through the stream.
	if err := app.SwitchScene("spycam"); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
		`document.getElementById('scene-name').textContent === 'spycam' && document.getElementById('scene-select').value === 'spycam'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("server-side scene switch did not reach the page: %v", err)
	}

	// Holding A for a second is a long press, sent while still held.
	<-app.notify // the B click
	xy, err := chromedp.Run(tctx, chromedp.Evaluate[[]float64](
		`(() => { const r = document.getElementById('btn-a').getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2]; })()`))
	if err != nil || len(xy) != 2 {
		t.Fatalf("locate A: %v %v", xy, err)
	}
	if err := chromedp.Do(tctx, chromedp.MouseEvent(chromedp.MousePressed, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1))); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-app.notify:
		if p != "A:long" {
			t.Fatalf("holding A sent %q, want A:long", p)
		}
	case <-tctx.Done():
		t.Fatal("holding A sent nothing")
	}
	if err := chromedp.Do(tctx, chromedp.MouseEvent(chromedp.MouseReleased, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`!document.getElementById('btn-a').classList.contains('pressed')`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("A still looks pressed after release: %v", err)
	}
	if got := app.pressLog(); !slices.Equal(got, []string{"B:short", "A:long"}) {
		t.Errorf("presses = %v, want [B:short A:long] (no short press after a long one)", got)
	}

	if *screenshots != "" {
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
			t.Fatal(err)
		}
		shot("panel-mobile.png", panelReady)
	}
}
