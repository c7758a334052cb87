package appliance

import (
	"context"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/comic"
)

// seedStrips puts n archived strips (a small PNG each) in the data dir's
// archive and index, as the comic scene leaves them; withFile false leaves
// the last one without its PNG (a hand-deleted file).
func seedStrips(t *testing.T, data string, n int, withFile bool) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir := filepath.Join(data, "comics")
	img := image.NewGray(image.Rect(0, 0, 384, 100))
	for i := range n {
		k, err := st.ReserveComic(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rec := comic.Record{N: k, Seed: uint64(k), At: time.Unix(1e9, 0), Theme: "test", Grid: "test"}
		if withFile || i < n-1 {
			if err := comic.WriteArchive(dir, rec, img); err != nil {
				t.Fatal(err)
			}
		}
		rec.Width, rec.Height = img.Rect.Dx(), img.Rect.Dy()
		if err := st.AddComic(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
}

// runWithConfig runs the appliance in simulation with the given config
// (barometer first, so the comic scene's printer worker is idle and queued
// jobs stay queued) and returns its URL.
func runWithConfig(t *testing.T, data, config string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "tinkerbox.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{seen: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Sim: true, ConfigPath: cfg, DataDir: data, Listen: "127.0.0.1:0", Version: "test", Stdout: out, Stderr: io.Discard})
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.After(60 * time.Second) // hang guard
	for {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case <-out.seen:
		case err := <-done:
			t.Fatalf("Run returned early: %v\n%s", err, out)
		case <-deadline:
			t.Fatalf("no URL printed:\n%s", out)
		}
	}
}

const idleComicConfig = `[appliance]
scenes = ["barometer", "comic"]
default_scene = "barometer"
`

// 60 simultaneous reprints from the web queue exactly the limit (5), the
// rest are refused with 409, and /api/state reports the real queue.
func TestConcurrentReprintsNeverExceedTheQueue(t *testing.T) {
	t.Setenv("TINKERBOX_PASSWORD", "queue-test-pw")
	data := t.TempDir()
	seedStrips(t, data, 2, false) // strip 2 has no PNG
	url := runWithConfig(t, data, idleComicConfig)
	// A few connections at a time is plenty to race the handlers, and
	// stays under any per-client connection cap the server has.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 8}, Timeout: 60 * time.Second}
	do := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, url+path, nil)
		req.SetBasicAuth("admin", "queue-test-pw")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "api/comics/2/reprint"); code != http.StatusGone || !strings.Contains(body, "missing") {
		t.Fatalf("reprint of a strip without its file: %d %s", code, body)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			code, _ := do("POST", "api/comics/1/reprint")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("60 concurrent reprints: %v", codes)
	if codes[http.StatusAccepted] != 5 || codes[http.StatusConflict] != 55 {
		t.Fatalf("answers %v; want 5 × 202 and 55 × 409", codes)
	}
	code, body := do("GET", "api/state")
	var st struct {
		Printer struct {
			Queue int `json:"queue"`
		} `json:"printer"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || st.Printer.Queue != 5 {
		t.Fatalf("state: %d queue %d", code, st.Printer.Queue)
	}
}
