package web

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web/webtest"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/spycam"
)

// browserErrors collects console errors and uncaught exceptions.
type browserErrors struct {
	mu   sync.Mutex
	list []string
}

func watchErrors(ctx context.Context) *browserErrors {
	c := &browserErrors{}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// A refusal (409) is what the test asks for; Chromium logs
			// every failed request.
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !strings.Contains(m.Text, "status of 409") {
				c.mu.Lock()
				c.list = append(c.list, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line))
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *browserErrors) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.list
	c.list = nil
	return l
}

// TestBrowserScenePages drives /comics, /cards, /barometer and /spycam in
// real Chromium at desktop and phone sizes: each fits the screen and goes
// live; a scene action while another scene runs is refused with "switch
// first" and does nothing; the print queue shows; the weather scenarios
// change the barometer; a capture plays as a clip and is deleted; and no page
// logs an error.
func TestBrowserScenePages(t *testing.T) {
	start := time.Now()
	ctx := webtest.Browser(t)

	app := newFakeApp()
	demoApp(app)
	srv, err := New(Options{
		App:          app,
		Events:       &fakeEvents{},
		Roll:         fakeRoll{receipt()},
		Camera:       &fakeCamera{frame: scene.Frame{Seq: 1, At: time.Now(), JPEG: cameraJPEG(t)}},
		PasswordHash: testHash(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	strips := t.TempDir()
	for n := 1; n <= 3; n++ {
		writePNG(t, filepath.Join(strips, fmt.Sprintf("%d.png", n)), receipt())
	}
	gallery := &fakeGallery{max: 3, dir: strips, jobs: []PrintJob{{ID: 10, Strip: 2}, {ID: 11, Strip: 1}}}
	srv.MountComic(gallery)
	rejects := t.TempDir()
	if err := os.WriteFile(filepath.Join(rejects, "20260314-150926.123.jpg"), cameraJPEG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	feed := &fakeFeed{}
	cardStore := &rejectStore{dir: rejects}
	srv.MountCards(feed, cardStore, &fakeCardSim{}, func(string) image.Image { return solid(40, 56, color.Gray{128}) }, rejects)
	weather := &fakeWeather{name: "steady"}
	srv.MountBarometer(&fakeBaro{report: stormReport()}, 0, weather)
	data := t.TempDir()
	st, err := store.Open(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	caps, err := st.SpycamCaptures(filepath.Join(data, "captures"), 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	ev := time.Date(2026, 3, 14, 15, 9, 26, 200e6, time.UTC)
	for i := range 6 {
		caps.SaveCapture(context.Background(), spycam.CaptureFrame{Event: ev, Kind: spycam.KindMotion, Index: i, At: ev, JPEG: spyJPEG(t, 160, 120, uint8(40*i))})
	}
	snaps := &snapCaptures{Captures: caps}
	srv.MountSpycam(snaps)

	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})
	tctx, cancel := context.WithTimeout(ctx, 80*time.Second)
	defer cancel()
	errs := watchErrors(tctx)
	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	click := func(sel string) {
		t.Helper()
		// Centred first: the sticky top bar covers what is scrolled under it.
		if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsQuote(sel)+`).scrollIntoView({block: 'center'})`),
			chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	toast := func(what, want string) {
		t.Helper()
		poll(what, `!document.getElementById('toast').hidden && document.getElementById('toast').textContent.includes(`+jsQuote(want)+`)`)
	}

	// Every page at both sizes: it goes live, has its heading, and nothing
	// sticks out sideways.
	pages := []struct{ path, ready string }{
		{"/comics", `document.querySelectorAll('#gallery li').length === 3 && document.getElementById('queue-count').textContent !== '…'`},
		{"/cards", `document.querySelectorAll('#cards-recent tr').length === 3`},
		{"/barometer", `!!document.querySelector('#baro-chart .now-dot')`},
		{"/spycam", `!!document.querySelector('#captures .cap-play')`},
	}
	for _, size := range []struct{ w, h int64 }{{1280, 800}, {390, 844}} {
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+p.path)); err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("%s at %dx%d", p.path, size.w, size.h)
			poll(where+": live", `document.getElementById('conn').dataset.state === 'live' && `+p.ready)
			if got := eval(`document.querySelector('main h1').textContent + '|' + (document.documentElement.scrollWidth <= window.innerWidth ? 'fits' : 'overflows ' + document.documentElement.scrollWidth)`); !strings.HasSuffix(got, "|fits") {
				t.Errorf("%s: %s", where, got)
			}
			if e := errs.take(); len(e) > 0 {
				t.Errorf("%s: console errors: %v", where, e)
			}
			if *screenshots != "" {
				png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("%s-%d.png", strings.TrimPrefix(p.path, "/"), size.w)
				if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// The barometer's chart is drawn at its shown size on a phone: its
	// labels keep their 12 px.
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/barometer")); err != nil {
		t.Fatal(err)
	}
	poll("phone chart", `!!document.querySelector('#baro-chart .now-dot')`)
	got := eval(`(() => { const s = document.getElementById('baro-chart'); const r = s.getBoundingClientRect();
		const t = s.querySelector('.tick-x'); return [Math.round(r.width) === Number(s.getAttribute('width')), getComputedStyle(t).fontSize,
		s.querySelectorAll('.threshold').length, s.querySelector('.unit-label').textContent, s.querySelectorAll('.tick-date').length > 0, s.querySelector('.now-label').textContent].join(' '); })()`)
	if got != "true 12px 3 hPa true 1005.2 hPa" {
		t.Errorf("phone chart: unscaled, font, thresholds, unit, dates, now = %q", got)
	}
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}

	// The weather scenarios: choosing one reaches the simulator.
	for _, sc := range []string{"storm", "clearing", "steady"} {
		// As a person choosing does: one step, so no update lands between.
		if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('baro-scenario');
			s.focus(); s.value = `+jsQuote(sc)+`; s.dispatchEvent(new Event('change')); })()`)); err != nil {
			t.Fatal(err)
		}
		toast("scenario "+sc, "Weather: "+sc)
		if weather.Scenario() != sc {
			t.Errorf("scenario %s: the simulator has %q", sc, weather.Scenario())
		}
	}
	if !strings.Contains(eval(`document.getElementById('scene-status-text').textContent`), "not running (comic is)") {
		t.Error("/barometer does not say its scene is not running")
	}

	// /cards while the comic scene runs: Start is refused, nothing printed
	// or pressed.
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/cards")); err != nil {
		t.Fatal(err)
	}
	poll("cards live", `document.getElementById('conn').dataset.state === 'live' && document.querySelectorAll('#cards-recent tr').length === 3`)
	click("#cards-start")
	toast("start under comic", "switch to cardfeed first")
	if len(feed.commands) != 0 || len(app.pressLog()) != 0 || gallery.printed != 0 {
		t.Fatalf("start under comic: commands %v, presses %v, strips %d", feed.commands, app.pressLog(), gallery.printed)
	}
	// The reject is in plain words, without price or confidence, with its photo.
	if got := eval(`(() => { const tr = document.querySelector('#cards-recent tr.reject'); return [...tr.cells].slice(1, 5).map((c) => c.textContent).join('|') + '|' + tr.querySelector('img').getAttribute('src'); })()`); got !=
		"Not recognised — no catalog card looks close enough||—|—|/api/cards/rejects/20260314-150926.123.jpg" {
		t.Errorf("reject row = %q", got)
	}
	// Switching scene from the page: the status follows through the stream.
	click("#scene-switch")
	poll("switched", `document.getElementById('scene-status').dataset.running === 'true'`)
	if app.scene() != "cardfeed" {
		t.Fatalf("scene = %q after the switch button", app.scene())
	}
	// A correction opens under its row and keeps its focus and text while
	// a new scan arrives above it.
	click(`#cards-recent tr[data-id="7"] .fix button`)
	poll("fix row", `document.querySelector('#cards-recent tr[data-id="7"]').nextElementSibling.classList.contains('fix-row') && document.activeElement.id === 'fix-q-7'`)
	if err := chromedp.Do(tctx, chromedp.SendKeys(chromedp.ID("fix-q-7"), " Bolt")); err != nil {
		t.Fatal(err)
	}
	cardStore.more.Store(true)
	app.set(func(s *State) { s.LEDs["busy"] = LED{Mode: ModeOn, Lit: true} }) // a State change: the page looks again
	poll("new scan", `document.querySelectorAll('#cards-recent tr[data-id]').length === 4 && document.querySelector('#cards-recent tr[data-id]').dataset.id === '10'`)
	if got := eval(`document.activeElement.id + '|' + document.getElementById('fix-q-7').value`); got != "fix-q-7|Iron Cog Bolt" {
		t.Errorf("focus and text of the correction after an update = %q, want fix-q-7|Iron Cog Bolt", got)
	}
	click("#cards-start")
	toast("start under cardfeed", "Feeding")
	if !slices.Equal(feed.commands, []string{"start"}) || len(app.pressLog()) != 0 {
		t.Errorf("start under cardfeed: commands %v, presses %v", feed.commands, app.pressLog())
	}

	// /comics under cardfeed: the queue with positions, "prints when the
	// comic scene runs", and a new strip refused.
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/comics")); err != nil {
		t.Fatal(err)
	}
	poll("comics", `document.getElementById('queue-count').textContent === '2 of at most 3 waiting' && !document.getElementById('queue-waiting').hidden`)
	if got := eval(`document.querySelector('#gallery li[data-n="2"] .strip-queued').textContent`); got != "next to print (prints when the comic scene runs)" {
		t.Errorf("strip 2 queued text = %q", got)
	}
	click("#print-new")
	toast("print new under cardfeed", "switch to comic first")
	click(`#gallery li[data-n="3"] .reprint`)
	toast("reprint", "Strip #3 queued: number 3 of 3 in the queue. It prints when the comic scene runs.")
	poll("queue full", `document.getElementById('queue-count').textContent === '3 of at most 3 waiting' && document.getElementById('print-new').disabled`)
	if gallery.printed != 0 {
		t.Errorf("%d strips composed under cardfeed", gallery.printed)
	}

	// /spycam: motion detection is off; a capture plays and is deleted.
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/spycam")); err != nil {
		t.Fatal(err)
	}
	poll("spycam", `!document.getElementById('spy-motion').hidden && !!document.querySelector('#captures .cap-play')`)
	click("#snap")
	toast("snapshot under cardfeed", "switch to spycam first")
	click("#captures .cap-play")
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('player').open && document.getElementById('player-pos').textContent.startsWith('4 / 6')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("clip does not play: %v; %v %s", err, errs.take(), eval(`document.getElementById('player').open + ' ' + document.getElementById('player-pos').textContent + ' ' + document.getElementById('player-play').textContent + ' ' + document.getElementById('player-img').src`))
	}
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`)); err != nil {
		t.Fatal(err)
	}
	click("#player-delete")
	poll("deleted", `!document.getElementById('player').open && document.querySelector('#captures li.empty') !== null`)
	if g, _ := caps.CaptureGroups(context.Background(), 5); len(g) != 0 {
		t.Errorf("%d captures left after delete", len(g))
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("console errors: %v", e)
	}
	t.Logf("scene pages browser test: %.1f s", time.Since(start).Seconds())
}

func jsQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writePNG(t *testing.T, name string, img image.Image) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
