package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakePrinter keeps what it was asked to print.
type fakePrinter struct {
	mu   sync.Mutex
	jobs []image.Image
}

func (p *fakePrinter) Print(_ context.Context, img image.Image) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs = append(p.jobs, img)
	return nil
}
func (p *fakePrinter) Width() int { return 384 }

func startControl(t *testing.T, sim bool) (string, *fakePrinter, *[]string) {
	t.Helper()
	dir := t.TempDir()
	ln, path, err := listenControl(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v mode %v", err, st.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	p := &fakePrinter{}
	var events []string
	var mu sync.Mutex
	cs := &controlServer{printer: p, sim: sim, log: slog.New(slog.DiscardHandler), record: func(level, source, msg string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, msg)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cs.serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; os.Remove(path) })
	return dir, p, &events
}

func TestControlPrint(t *testing.T) {
	dir, p, events := startControl(t, true)
	ctx := context.Background()
	// A photo wider than any printer arrives scaled to 832 dots, gray.
	wide := image.NewRGBA(image.Rect(0, 0, 2000, 1000))
	msg, err := printViaControl(ctx, dir, "wide.png", true, wide)
	if err != nil || !strings.Contains(msg, "simulator's paper roll") {
		t.Fatalf("%q %v", msg, err)
	}
	if len(p.jobs) != 1 || p.jobs[0].Bounds() != image.Rect(0, 0, 832, 416) {
		t.Fatalf("jobs %v", p.jobs)
	}
	if len(*events) != 1 || !strings.Contains((*events)[0], "printed wide.png from the command line") {
		t.Errorf("events %q", *events)
	}
	// A second appliance on the same data dir does not take the socket.
	if _, _, err := listenControl(dir); !errors.Is(err, errControlInUse) {
		t.Errorf("second listen: %v", err)
	}
}

func TestControlRefusesSimOnHardware(t *testing.T) {
	dir, p, _ := startControl(t, false)
	_, err := printViaControl(context.Background(), dir, "x.png", true, image.NewGray(image.Rect(0, 0, 8, 8)))
	var refused *controlRefused
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "real hardware") || len(p.jobs) != 0 {
		t.Errorf("%v, %d jobs", err, len(p.jobs))
	}
	// Without --sim the hardware appliance prints it: through its queue.
	if _, err := printViaControl(context.Background(), dir, "x.png", false, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil || len(p.jobs) != 1 {
		t.Errorf("%v, %d jobs", err, len(p.jobs))
	}
}

// TestControlBadRequests: only a print of a bounded raster is accepted.
func TestControlBadRequests(t *testing.T) {
	dir, p, _ := startControl(t, true)
	send := func(hdr string, body []byte) controlReply {
		t.Helper()
		c, err := net.Dial("unix", filepath.Join(dir, ControlSocket))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(append([]byte(hdr+"\n"), body...))
		c.(*net.UnixConn).CloseWrite()
		var r controlReply
		json.NewDecoder(c).Decode(&r)
		return r
	}
	for _, tc := range []struct {
		hdr  string
		body []byte
		want string
	}{
		{`{"op":"exec","width":1,"height":1}`, []byte{0}, "unknown op"},
		{`{"op":"print","width":5000,"height":1}`, make([]byte, 5000), "out of bounds"},
		{`{"op":"print","width":800,"height":100000}`, nil, "out of bounds"},
		{`{"op":"print","width":0,"height":1}`, nil, "out of bounds"},
		{`{"op":"print","width":10,"height":10}`, make([]byte, 99), "pixels"},
		{`not json`, nil, "header"},
		{strings.Repeat("x", 8000), nil, "header"},
	} {
		if r := send(tc.hdr, tc.body); r.OK || !strings.Contains(r.Error, tc.want) {
			t.Errorf("%.40s: %+v, want %q", tc.hdr, r, tc.want)
		}
	}
	if len(p.jobs) != 0 {
		t.Errorf("%d jobs printed", len(p.jobs))
	}
}

func TestControlNoAppliance(t *testing.T) {
	dir := t.TempDir()
	if _, err := printViaControl(context.Background(), dir, "x.png", true, image.NewGray(image.Rect(0, 0, 8, 8))); !errors.Is(err, errNoAppliance) {
		t.Errorf("no socket: %v", err)
	}
	// A stale socket (an appliance killed with -9) is no appliance either,
	// and the next start replaces it.
	ln, err := net.Listen("unix", filepath.Join(dir, ControlSocket))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := printViaControl(context.Background(), dir, "x.png", true, image.NewGray(image.Rect(0, 0, 8, 8))); !errors.Is(err, errNoAppliance) {
		t.Errorf("stale socket: %v", err)
	}
	ln2, _, err := listenControl(dir)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	ln2.Close()
}

// TestPrintReachesRunningSimulator: `print --sim` while `run --sim` runs on
// the same data dir lands on that simulator's roll; once it stops, print
// says so and uses a one-off simulated printer.
func TestPrintReachesRunningSimulator(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "in.png")
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 100, 40)))
	os.WriteFile(file, buf.Bytes(), 0o644)
	_, _, stop := startSim(t, data)
	var out bytes.Buffer
	if err := Print(context.Background(), Options{Sim: true, DataDir: data, Stdout: &out, Stderr: io.Discard}, file); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sent to the tinkerbox running on data dir "+data) {
		t.Errorf("output %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(data, "sim-roll.png")); err == nil {
		t.Error("a one-off roll was written while the simulator ran")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, ControlSocket)); err == nil {
		t.Error("the socket outlived the appliance")
	}
	out.Reset()
	if err := Print(context.Background(), Options{Sim: true, DataDir: data, Stdout: &out, Stderr: io.Discard}, file); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no tinkerbox is running on data dir "+data) || !strings.Contains(out.String(), filepath.Join(data, "sim-roll.png")) {
		t.Errorf("output %q", out.String())
	}
}
