package appliance

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/web/webtest"
)

// TestBrowserButtonB is the maker's first minute, end to end: the real
// appliance in simulation, a real browser, log in, press A on the comic
// scene and watch a strip come out of the printer on the paper roll, then
// click B and see the scene name change.
func TestBrowserButtonB(t *testing.T) {
	ctx := webtest.Browser(t) // skips without chromium, fails under CI
	url, out, stop := startSim(t, t.TempDir())
	defer stop()
	m := pwRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password:\n%s", out)
	}
	base := strings.TrimSuffix(url, "/")
	if err := webtest.Login(ctx, base, m[1]); err != nil {
		t.Fatal(err)
	}
	poll := func(js string) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second)))
		return err
	}
	if err := poll(`document.getElementById('scene-name').textContent === 'comic' && document.getElementById('conn').dataset.state === 'live'`); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("scene-name")))
		t.Fatalf("front panel not live on comic (scene %q): %v", got, err)
	}
	// A prints a comic: the simulated printer decodes the ESC/POS stream and
	// the roll on the page grows by a strip (hundreds of dot rows).
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("btn-a"))); err != nil {
		t.Fatal(err)
	}
	if err := poll(`(() => { const r = document.getElementById('roll'); return !r.hidden && r.complete && r.naturalHeight > 200 })()`); err != nil {
		h, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById('roll').naturalHeight`))
		t.Fatalf("no strip on the paper roll (height %d): %v", h, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("btn-b"))); err != nil {
		t.Fatal(err)
	}
	if err := poll(`document.getElementById('scene-name').textContent === 'cardfeed'`); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("scene-name")))
		t.Fatalf("after clicking B the page shows %q, want cardfeed: %v", got, err)
	}
	// The A+B hold, which a mouse cannot do on the drawn buttons, has its
	// own button: the appliance logs where to reach it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("btn-chord"))); err != nil {
		t.Fatal(err)
	}
	if err := poll(`[...document.querySelectorAll('#events .msg')].some((m) => m.textContent.startsWith('A+B: open http://'))`); err != nil {
		t.Fatalf("A+B left no event in the log: %v", err)
	}
}
