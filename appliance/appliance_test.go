package appliance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects Run's console output.
type syncBuffer struct {
	mu   sync.Mutex
	b    strings.Builder
	seen chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	select {
	case s.seen <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlRE = regexp.MustCompile(`open (http://[^ \n]+)`)
var pwRE = regexp.MustCompile(`admin password \(shown once[^)]*\): (\S+)`)

// startSim runs the appliance in simulation on a free port and returns its
// URL, the console output and a stop function that waits for Run to return.
func startSim(t *testing.T, data string) (string, *syncBuffer, func() error) {
	t.Helper()
	t.Setenv("TINKERBOX_PASSWORD", "")
	out := &syncBuffer{seen: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Sim: true, DataDir: data, Listen: "127.0.0.1:0", Version: "test", Stdout: out, Stderr: io.Discard})
	}()
	deadline := time.After(20 * time.Second) // hang guard
	for {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil && strings.Count(out.String(), "\n") >= 2 {
			stop := func() error { cancel(); return <-done }
			t.Cleanup(func() { cancel() })
			return m[1], out, stop
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

func TestRunSimEndToEnd(t *testing.T) {
	data := t.TempDir()
	url, out, stop := startSim(t, data)
	m := pwRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("first start printed no generated password:\n%s", out)
	}
	password := m[1]

	resp, err := http.Get(url + "healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", url+"api/state", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("state without auth: %v %v", resp, err)
	}

	// Watch the event stream, then press B on the front panel's API.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sreq, _ := http.NewRequestWithContext(ctx, "GET", url+"api/state/stream", nil)
	sreq.SetBasicAuth("admin", password)
	stream, err := http.DefaultClient.Do(sreq)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("stream: %v %v", stream, err)
	}
	defer stream.Body.Close()
	preq, _ := http.NewRequest("POST", url+"api/buttons/B", strings.NewReader(`{"press":"short"}`))
	preq.SetBasicAuth("admin", password)
	preq.Header.Set("Content-Type", "application/json")
	presp, err := http.DefaultClient.Do(preq)
	if err != nil || presp.StatusCode != 200 {
		t.Fatalf("press B: %v %v", presp, err)
	}
	presp.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	found := false
	for !found && sc.Scan() {
		found = strings.Contains(sc.Text(), "scene cardfeed (button B)")
	}
	if !found {
		t.Fatalf("the event log never showed the switch by button B: %v", sc.Err())
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "devices halted") {
		t.Fatalf("no clean stop:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(data, "tinkerbox.db")); err != nil {
		t.Fatal(err)
	}

	// Second start: the password is not shown again.
	_, out2, stop2 := startSim(t, data)
	if pwRE.MatchString(out2.String()) {
		t.Fatalf("password shown on the second start:\n%s", out2)
	}
	stop2()
}

func TestBadConfigIsAUsageError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tinkerbox.toml")
	os.WriteFile(p, []byte("[web]\nlisen = \":80\"\n"), 0o644)
	err := Run(context.Background(), Options{Sim: true, ConfigPath: p, Stdout: io.Discard, Stderr: io.Discard})
	var ue UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "tinkerbox.toml:2: web.lisen: unknown key") {
		t.Fatalf("err = %v", err)
	}
	err = Run(context.Background(), Options{Sim: true, ConfigPath: filepath.Join(t.TempDir(), "nope.toml"), Stdout: io.Discard, Stderr: io.Discard})
	if !errors.As(err, &ue) {
		t.Fatalf("missing --config file: %v", err)
	}
}

func TestSelftestSim(t *testing.T) {
	var out strings.Builder
	if err := Selftest(context.Background(), Options{Sim: true, DataDir: t.TempDir(), Stdout: &out, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DEVICE", "printer", "camera", "OK"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("selftest table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSlipFitsThePaper(t *testing.T) {
	img := slip([]string{"http://tinkerbox.local/", "user: admin"}, 384)
	b := img.Bounds()
	if b.Dx() != 384 || b.Dy() < 40 {
		t.Fatalf("slip %v", b)
	}
	black := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				black++
			}
		}
	}
	if black < 500 {
		t.Fatalf("only %d black dots: the text is missing", black)
	}
}

// TestComicGalleryEndToEnd: A on the comic scene archives a strip and prints
// it; the gallery lists it, serves the full-resolution PNG, reprints and
// deletes it.
func TestComicGalleryEndToEnd(t *testing.T) {
	t.Setenv("TINKERBOX_PASSWORD", "gallery-test-pw")
	out := &syncBuffer{seen: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Sim: true, DataDir: t.TempDir(), Listen: "127.0.0.1:0", Version: "test", Stdout: out, Stderr: io.Discard})
	}()
	defer func() { cancel(); <-done }()
	var url string
	for url == "" {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case <-out.seen:
		case err := <-done:
			t.Fatalf("Run: %v", err)
		case <-time.After(30 * time.Second): // hang guard
			t.Fatal("no URL")
		}
	}
	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.SetBasicAuth("admin", "gallery-test-pw")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	// Follow the state stream until the printer's roll has grown.
	sctx, scancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer scancel()
	sreq, _ := http.NewRequestWithContext(sctx, "GET", url+"api/state/stream", nil)
	sreq.SetBasicAuth("admin", "gallery-test-pw")
	stream, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if r := do("POST", "api/buttons/A", `{"press":"short"}`); r.StatusCode != 200 {
		t.Fatalf("press A: %s", r.Status)
	}
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	printed := false
	for !printed && sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || !strings.HasPrefix(line, "{") {
			continue
		}
		var st struct {
			Printer struct {
				Rows int `json:"rows"`
			} `json:"printer"`
		}
		if json.Unmarshal([]byte(line), &st) == nil && st.Printer.Rows > 200 {
			printed = true
		}
	}
	if !printed {
		t.Fatalf("the strip never reached the simulated printer: %v", sc.Err())
	}

	// The paper comes first; the gallery lists the strip once its archive
	// is written (the busy light going off is one more state).
	var list []struct {
		N     int64 `json:"n"`
		Width int   `json:"width"`
	}
	for {
		list = nil
		r := do("GET", "api/comics", "")
		err := json.NewDecoder(r.Body).Decode(&list)
		r.Body.Close()
		if err != nil || len(list) > 1 {
			t.Fatalf("gallery = %+v, %v", list, err)
		}
		if len(list) == 1 {
			break
		}
		if !sc.Scan() {
			t.Fatalf("the strip printed but never archived: %v", sc.Err())
		}
	}
	if list[0].Width < 1800 {
		t.Fatalf("gallery = %+v", list)
	}
	var r *http.Response
	n := strconv.FormatInt(list[0].N, 10)
	r = do("GET", "comics/"+n+".png", "")
	img, err := png.Decode(r.Body)
	if err != nil || img.Bounds().Dx() < 1800 {
		t.Fatalf("archive PNG: %v %v", img.Bounds(), err)
	}
	if r := do("POST", "api/comics/"+n+"/reprint", ""); r.StatusCode != http.StatusAccepted {
		t.Fatalf("reprint: %s", r.Status)
	}
	if r := do("DELETE", "api/comics/"+n, ""); r.StatusCode != http.StatusOK {
		t.Fatalf("delete: %s", r.Status)
	}
	r = do("GET", "api/comics", "")
	list = nil
	if err := json.NewDecoder(r.Body).Decode(&list); err != nil || len(list) != 0 {
		t.Fatalf("after delete: %+v, %v", list, err)
	}
	if r := do("GET", "comics/"+n+".png", ""); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted PNG still served: %s", r.Status)
	}
}
