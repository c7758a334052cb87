package appliance

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web/webtest"
	"tinkerbox/scenes/comic"
)

// seedDrawnStrip archives the default pack's strip for seed in the data
// dir, as the comic scene leaves it.
func seedDrawnStrip(t *testing.T, data string, seed uint64) int64 {
	t.Helper()
	ctx := context.Background()
	pack, err := loadComicPack("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s, err := pack.Compose(seed)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.ReserveComic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	left, right := comic.Footer(n, at)
	img := pack.Render(s, comic.ArchiveSize(s), left, right)
	rec := comic.Record{N: n, Seed: seed, At: at, Theme: s.Theme, Character: s.Character, Grid: s.Grid.ID, Width: img.Rect.Dx(), Height: img.Rect.Dy()}
	if err := comic.WriteArchive(filepath.Join(data, "comics"), rec, img); err != nil {
		t.Fatal(err)
	}
	if err := st.AddComic(ctx, rec); err != nil {
		t.Fatal(err)
	}
	return n
}

// The gallery shows a strip on screen and, opened, as it prints: a wide
// strip turned along the 58 mm roll (comic.orientation auto), its size in
// millimetres on the card and in the viewer; axe finds nothing serious in
// the open viewer. TINKERBOX_SCREENSHOTS=DIR saves it.
func TestBrowserComicOnPaper(t *testing.T) {
	ctx := webtest.Browser(t)
	axe := webtest.Axe(t)
	data := t.TempDir()
	seedDrawnStrip(t, data, 8) // a wide strip
	url, out, stop := startSim(t, data)
	defer stop()
	m := pwRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password:\n%s", out)
	}
	base := strings.TrimSuffix(url, "/")
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	console := watchConsole(tctx)
	if err := webtest.Login(tctx, base, m[1]); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/comics")); err != nil {
		t.Fatal(err)
	}
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll("the strip in the gallery", `document.querySelectorAll('#gallery li .strip-paper').length === 1`)
	card, err := chromedp.Run(tctx, chromedp.Text(`#gallery li .strip-paper`))
	if err != nil || card != "Prints 48 × 84.5 mm, turned along the roll" {
		t.Errorf("card says %q, %v", card, err)
	}
	if err := chromedp.Do(tctx, chromedp.Click(`#gallery li .strip-open`)); err != nil {
		t.Fatal(err)
	}
	poll("both forms in the viewer", `document.getElementById('viewer').open && !document.getElementById('viewer-paper').hidden &&
		document.getElementById('viewer-img').complete && document.getElementById('viewer-img').naturalWidth >= 1800 &&
		document.getElementById('viewer-paper-img').complete && document.getElementById('viewer-paper-img').naturalWidth === 384`)
	tall, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => { const i = document.getElementById('viewer-paper-img'); return i.naturalHeight > 1.5 * i.naturalWidth; })()`))
	if err != nil || !tall {
		t.Errorf("the paper form is not turned along the roll: %v", err)
	}
	if cap, err := chromedp.Run(tctx, chromedp.Text(`#viewer-paper-cap`)); err != nil || !strings.Contains(cap, "On paper: 48 × 84.5 mm, turned along the roll") {
		t.Errorf("viewer caption %q, %v", cap, err)
	}
	found, err := webtest.RunAxe(tctx, axe)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if f.Serious() {
			t.Errorf("axe, viewer open: %s", f)
		} else {
			t.Logf("axe, viewer open: %s", f)
		}
	}
	if dir := os.Getenv("TINKERBOX_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "comics-on-paper.png"), png, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}
	for _, e := range console.take() {
		t.Errorf("console error: %s", e)
	}
}
