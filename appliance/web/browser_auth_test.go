package web

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/web/webtest"
)

// TestBrowserSessionLoss: in real chromium behind the shipping http.Server,
// an API URL opened without a session shows the way to log in (no Basic
// dialog), and a front panel whose session is gone goes to the login page
// instead of reconnecting for ever.
func TestBrowserSessionLoss(t *testing.T) {
	ctx := webtest.Browser(t)
	f := newFixture(t)
	hs, wrap := NewHTTPServer(f.h, DefaultServeOpts())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.Listener.Close()
	ts.Listener, ts.Config = wrap(ln), hs
	ts.Start()
	t.Cleanup(func() {
		f.srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// A Basic challenge would stall the navigation on a dialog.
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/api/state")); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || !strings.Contains(body, `"login required"`) || !strings.Contains(body, `/login?next=`) {
		t.Fatalf("/api/state without a session shows %q (%v), want the login JSON", body, err)
	}

	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.getElementById('conn') !== null && document.getElementById('conn').dataset.state === 'live'`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("stream never went live: %v", err)
	}
	// The appliance restarts: every session is gone and the stream drops.
	f.srv.sess.mu.Lock()
	clear(f.srv.sess.m)
	f.srv.sess.mu.Unlock()
	ts.CloseClientConnections()
	// The page navigates away by itself: wait for the login form to appear
	// (it survives the navigation, a script poll would not).
	lctx, lcancel := context.WithTimeout(tctx, 20*time.Second)
	defer lcancel()
	err = chromedp.Do(lctx, chromedp.WaitVisible(chromedp.ID("password")))
	where, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil || where != "/login" {
		t.Fatalf("after losing its session the panel is at %q (%v), want the login page", where, err)
	}
}
