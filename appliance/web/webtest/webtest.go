// Package webtest drives the front panel from Go tests with headless Debian
// chromium (github.com/chromedp/chromedp).
package webtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian installs chromium.
const ChromiumPath = "/usr/bin/chromium"

// lockedBuffer collects the browser's output for failure reports.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Browser starts headless chromium for the test and returns a chromedp
// context with the browser running; it is stopped when the test ends. Without
// chromium the test is skipped, except under CI (CI=true), where that is a
// failure: CI installs chromium, so its absence is a broken setup.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("webtest: %s is missing under CI: %v", ChromiumPath, err)
		}
		t.Skipf("webtest: skipping browser test: %s is not installed (apt-get install chromium)", ChromiumPath)
	}
	out := &lockedBuffer{}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
		chromedp.NoSandbox, // tests run as root
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), // the machine is offline
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit, before TempDir is removed
		if t.Failed() {
			t.Logf("webtest: chromium output:\n%s", out)
		}
	})
	// The first Run starts the browser; it must not carry a timeout (that
	// would kill the browser), so a watchdog bounds the start instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("webtest: start chromium: %v\n%s", err, out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("webtest: chromium did not start within a minute\n%s", out)
	}
	return ctx
}

// Login signs in through the login form at baseURL with password and waits
// for the front panel (a page with the csrf-token meta) to load.
func Login(ctx context.Context, baseURL, password string) error {
	err := chromedp.Do(ctx,
		chromedp.Navigate(baseURL+"/login"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitReady(chromedp.CSS(`meta[name="csrf-token"]`)),
	)
	if err != nil {
		return fmt.Errorf("webtest: login: %w", err)
	}
	return nil
}
