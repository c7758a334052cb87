package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/web/webtest"
	art "tinkerbox/images/comic"
	"tinkerbox/scenes/comic"
)

// TestBrowserComicPack drives the pack editor on /comics in real Chromium,
// on a real maker's pack: a PNG uploaded through the file input joins the
// grid; opened, its focal rectangle is dragged with the mouse on the
// drawing, its role and theme changed, and the preview strip follows; Save
// writes exactly that to manifest.json (the focal area in the drawing's own
// pixels, whatever size it is shown at). The page passes axe-core and fits
// a phone with the editor open.
func TestBrowserComicPack(t *testing.T) {
	start := time.Now()
	ctx := webtest.Browser(t)
	axe := webtest.Axe(t)

	srv, err := New(Options{App: newFakeApp(), Events: &fakeEvents{}, PasswordHash: testHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	strips := t.TempDir()
	for n := 1; n <= 3; n++ {
		writePNG(t, filepath.Join(strips, fmt.Sprintf("%d.png", n)), receipt())
	}
	srv.MountComic(&fakeGallery{max: 3, dir: strips})
	mp := comic.OpenMakerPack(filepath.Join(t.TempDir(), "comic-pack"), art.Pack(), func() time.Time { return testStart })
	pack := &fakeComicPack{mp: mp}
	srv.MountComicPack(pack)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})
	drawing := filepath.Join(t.TempDir(), "hedgehog.png")
	writePNG(t, drawing, sketch(640, 480, 1))

	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	errs := watchErrors(tctx)
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			got, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('pack-status').textContent + ' | ' + document.getElementById('pe-preview-cap').textContent + ' | ' + [...document.querySelectorAll('#pe .pe-msg')].map((m) => m.textContent).join(' ')`))
			t.Fatalf("%s: %v (status | preview | messages: %q)", what, err, got)
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
	checkAxe := func(when string) {
		t.Helper()
		found, err := webtest.RunAxe(tctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			if f.Serious() {
				t.Errorf("axe /comics %s: %s", when, f)
			} else {
				t.Logf("axe /comics %s: %s", when, f)
			}
		}
	}
	fits := func(when string) {
		t.Helper()
		var sw, iw int
		fmt.Sscan(eval(`document.documentElement.scrollWidth + ' ' + window.innerWidth`), &sw, &iw)
		if sw > iw || iw != 390 {
			t.Errorf("%s: /comics is %d px wide on a %d px screen", when, sw, iw)
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
	previews := func() int {
		t.Helper()
		var n int
		fmt.Sscan(eval(`document.getElementById('pe-preview').dataset.n || '0'`), &n)
		return n
	}

	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/comics")); err != nil {
		t.Fatal(err)
	}
	poll("live", `document.getElementById('conn').dataset.state === 'live' && document.querySelectorAll('#gallery li').length === 3`)
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#pack > summary"))); err != nil {
		t.Fatal(err)
	}
	poll("the empty pack", `document.getElementById('pack').open && document.getElementById('pack-count').textContent === '0 drawings' && !document.getElementById('pack-empty').hidden`)

	// Upload through the file input: the drawing joins the grid.
	if err := chromedp.Do(tctx, chromedp.SetUploadFiles(chromedp.ID("pack-file"), []string{drawing})); err != nil {
		t.Fatal(err)
	}
	poll("uploaded", `document.querySelectorAll('#pack-grid li').length === 1 && document.getElementById('pack-status').textContent === 'Added 1 drawing from hedgehog.png.' &&
		document.querySelector('#pack-grid img').complete && document.querySelector('#pack-grid img').naturalWidth > 0`)
	checkAxe("with a drawing")

	// Open it: the editor, the drawing, a first preview.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("#pack-grid .pack-open"))); err != nil {
		t.Fatal(err)
	}
	poll("editor", `!document.getElementById('pe').hidden && document.getElementById('pe-img').complete && document.getElementById('pe-img').naturalWidth > 0 &&
		document.getElementById('pe-role').value === 'action' && document.getElementById('pe-theme').value === 'mine'`)
	poll("first preview", `Number(document.getElementById('pe-preview').dataset.n || 0) >= 1 && document.getElementById('pe-preview').naturalWidth > 0`)

	// Drag the focal rectangle with the mouse, from 15 %, 20 % of the
	// drawing to 70 %, 85 %, measured in its own pixels.
	// Measured once the page has stopped scrolling (the editor scrolls
	// itself into view): the same place for three frames running.
	var geo struct{ Left, Top, W, H, NW, NH float64 }
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`(() => { window.still = ''; const i = document.getElementById('pe-img');
		i.scrollIntoView({block: 'center', behavior: 'instant'}); let last = '', same = 0;
		const look = () => { const r = i.getBoundingClientRect(); const now = JSON.stringify({Left: r.left, Top: r.top, W: r.width, H: r.height, NW: i.naturalWidth, NH: i.naturalHeight});
			same = now === last ? same + 1 : 0; last = now; if (same >= 3) { window.still = now; return; } requestAnimationFrame(look); };
		requestAnimationFrame(look); })()`)); err != nil {
		t.Fatal(err)
	}
	poll("the page at rest", `window.still !== ''`)
	if err := json.Unmarshal([]byte(eval(`window.still`)), &geo); err != nil {
		t.Fatal(err)
	}
	if geo.W < 50 || geo.NW < 50 {
		t.Fatalf("the drawing is shown %v", geo)
	}
	t.Logf("the drawing: %.0f×%.0f pixels shown %.1f×%.1f", geo.NW, geo.NH, geo.W, geo.H)
	want := [4]float64{math.Round(geo.NW * 0.15), math.Round(geo.NH * 0.2), 0, 0}
	want[2], want[3] = math.Round(geo.NW*0.7)-want[0], math.Round(geo.NH*0.85)-want[1]
	screen := func(px, py float64) (float64, float64) {
		return geo.Left + px*geo.W/geo.NW, geo.Top + py*geo.H/geo.NH
	}
	x0, y0 := screen(want[0], want[1])
	x1, y1 := screen(want[0]+want[2], want[1]+want[3])
	before := previews()
	held := func(p *input.DispatchMouseEventParams) { p.Button, p.Buttons = input.MouseButtonLeft, 1 }
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MouseMoved, x0, y0), chromedp.MouseEvent(chromedp.MousePressed, x0, y0, held, chromedp.ClickCount(1))}
	for i := 1; i <= 8; i++ {
		f := float64(i) / 8
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, held))
	}
	steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	for _, s := range steps {
		if err := chromedp.Do(tctx, s); err != nil {
			t.Fatal(err)
		}
	}
	poll("focal set", `document.getElementById('pe-fw').value !== '' && !document.getElementById('pe-focal').hidden`)
	var shown [4]float64
	fmt.Sscan(eval(`['pe-fx', 'pe-fy', 'pe-fw', 'pe-fh'].map((i) => document.getElementById(i).value).join(' ')`), &shown[0], &shown[1], &shown[2], &shown[3])
	near := func(got, want [4]float64) bool {
		for i := range got {
			if math.Abs(got[i]-want[i]) > 3 {
				return false
			}
		}
		return true
	}
	if !near(shown, want) {
		t.Errorf("the dragged focal area reads %v, want %v (± 3 px)", shown, want)
	}
	// The rectangle drawn over the drawing covers what was dragged.
	var box struct{ Left, Top, W, H float64 }
	json.Unmarshal([]byte(eval(`(() => { const r = document.getElementById('pe-focal').getBoundingClientRect(); return JSON.stringify({Left: r.left, Top: r.top, W: r.width, H: r.height}); })()`)), &box)
	if math.Abs(box.Left-x0) > 3 || math.Abs(box.Top-y0) > 3 || math.Abs(box.Left+box.W-x1) > 3 || math.Abs(box.Top+box.H-y1) > 3 {
		t.Errorf("the rectangle is drawn at %+v, dragged from %.0f,%.0f to %.0f,%.0f", box, x0, y0, x1, y1)
	}
	poll("preview after the drag", fmt.Sprintf(`Number(document.getElementById('pe-preview').dataset.n || 0) > %d`, before))

	// Role and theme, as a person changes them; the preview follows.
	before = previews()
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const r = document.getElementById('pe-role'); r.focus(); r.value = 'reaction'; r.dispatchEvent(new Event('input', {bubbles: true})); r.dispatchEvent(new Event('change', {bubbles: true}));
		const th = document.getElementById('pe-theme'); th.focus(); th.value = ''; })()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.SendKeys(chromedp.ID("pe-theme"), "garden")); err != nil {
		t.Fatal(err)
	}
	poll("preview in the new theme", fmt.Sprintf(`Number(document.getElementById('pe-preview').dataset.n || 0) > %d && document.getElementById('pe-preview-cap').textContent.includes('“garden”')`, before))
	checkAxe("editing")
	shot("comicpack-1280.png")

	// A bad value is shown next to its field, in comic check's words.
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`(() => { const w = document.getElementById('pe-minw'); w.value = '9'; w.dispatchEvent(new Event('input', {bubbles: true})); })()`)); err != nil {
		t.Fatal(err)
	}
	poll("refusal shown", `document.getElementById('pe-msg-min').textContent.includes('min_w/min_h: 9x1 out of range 1..8')`)
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`(() => { const w = document.getElementById('pe-minw'); w.value = '1'; w.dispatchEvent(new Event('input', {bubbles: true})); })()`)); err != nil {
		t.Fatal(err)
	}
	poll("refusal gone", `document.getElementById('pe-msg-min').textContent === '' && !document.getElementById('pe-preview-cap').textContent.startsWith('No preview')`)

	// Save: manifest.json has exactly that.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("pe-save"))); err != nil {
		t.Fatal(err)
	}
	poll("saved", `document.getElementById('pack-status').textContent.startsWith('Saved ')`)
	raw2, err := os.ReadFile(filepath.Join(mp.Dir(), comic.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var man comic.Manifest
	if err := json.Unmarshal(raw2, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Images) != 1 {
		t.Fatalf("manifest: %s", raw2)
	}
	got := man.Images[0]
	var focal [4]float64
	if got.Focal != nil {
		for i, v := range got.Focal {
			focal[i] = float64(v)
		}
	}
	if got.Focal == nil || !near(focal, want) || got.Role != comic.Reaction || got.Theme != "garden" || got.MinW != 1 || !got.Flip || got.Anchor != comic.EdgeBottom {
		t.Errorf("saved %+v (focal %v), want focal %v ± 3, role reaction, theme garden, the rest as it was", got, got.Focal, want)
	}
	if pack.changes() < 2 {
		t.Errorf("the scene was told %d times (upload, save)", pack.changes())
	}
	poll("the grid says so", `document.querySelector('#pack-grid .pack-cap').textContent === 'garden · reaction'`)

	// A phone, with the editor open: nothing sticks out sideways.
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	poll("phone layout", `window.innerWidth === 390`)
	fits("editor open")
	checkAxe("on a phone")
	shot("comicpack-390.png")
	// Reloaded, the section is open again and lists the drawing.
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/comics")); err != nil {
		t.Fatal(err)
	}
	poll("open again", `document.getElementById('pack').open && document.querySelectorAll('#pack-grid li').length === 1`)
	fits("after a reload")
	// Only the refusal's own 422 may be logged.
	for _, e := range errs.take() {
		if !strings.Contains(e, "status of 422") {
			t.Errorf("console error: %s", e)
		}
	}
	t.Logf("comic pack browser test: %.1f s", time.Since(start).Seconds())
}
