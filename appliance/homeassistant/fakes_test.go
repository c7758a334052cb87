package homeassistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/appliance/homeassistant/brokertest"
)

// fakeApp refuses what the appliance refuses: an unknown scene with the
// web API's words, a press that is not short, long or double.
type fakeApp struct {
	mu       sync.Mutex
	scene    string
	scenes   []string
	printer  string
	queue    int
	presses  []string
	statuses int
}

func newFakeApp() *fakeApp {
	return &fakeApp{scene: "comic", scenes: []string{"comic", "cardfeed", "barometer", "spycam"}, printer: "ready"}
}

func (a *fakeApp) Status(ctx context.Context) AppStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statuses++
	return AppStatus{Scene: a.scene, Scenes: slices.Clone(a.scenes), Printer: a.printer, PrintQueue: a.queue}
}

func (a *fakeApp) SwitchScene(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(a.scenes, name) {
		return fmt.Errorf("unknown scene %q", name)
	}
	a.scene = name
	return nil
}

func (a *fakeApp) Press(button, press string) error {
	if button != "A" && button != "B" {
		return fmt.Errorf("no button %q", button)
	}
	if !slices.Contains([]string{"short", "long", "double"}, press) {
		return fmt.Errorf("unknown press %q; want short, long or double", press)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.presses = append(a.presses, button+":"+press)
	return nil
}

func (a *fakeApp) set(f func(a *fakeApp)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func (a *fakeApp) get() fakeApp {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fakeApp{scene: a.scene, queue: a.queue, presses: slices.Clone(a.presses), statuses: a.statuses}
}

type fakeStrips struct {
	mu      sync.Mutex
	n       int
	refusal error
}

func (s *fakeStrips) PrintStrip(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusal != nil {
		return s.refusal
	}
	s.n++
	return nil
}

func (s *fakeStrips) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

type fakeWeather struct {
	mu sync.Mutex
	w  Weather
}

func hPa(v float64) physic.Pressure { return physic.Pressure(v * float64(100*physic.Pascal)) }

func newFakeWeather() *fakeWeather {
	return &fakeWeather{w: Weather{Valid: true, SeaLevel: hPa(1013.27), Temperature: physic.ZeroCelsius + 21*physic.Celsius + 440*physic.MilliCelsius,
		TendencyKnown: true, Change3h: hPa(-1.94), Warning: "watch"}}
}

func (f *fakeWeather) Weather(ctx context.Context) (Weather, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w, nil
}

func (f *fakeWeather) set(p float64) {
	f.mu.Lock()
	f.w.SeaLevel = hPa(p)
	f.mu.Unlock()
}

type fakeCards struct{}

func (fakeCards) Cards(ctx context.Context) (Cards, error) {
	return Cards{Count: 412, ValueUSD: 1234.567}, nil
}

type fakeCamera struct {
	mu     sync.Mutex
	snaps  int
	id     int
	motion time.Time
	jpeg   []byte
}

func (c *fakeCamera) Snapshot(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snaps++
	c.id++
	return nil
}

func (c *fakeCamera) LatestCapture(ctx context.Context) (Capture, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == 0 {
		return Capture{LastMotion: c.motion}, nil
	}
	return Capture{ID: fmt.Sprint(c.id), LastMotion: c.motion}, nil
}

func (c *fakeCamera) CaptureJPEG(ctx context.Context, id string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id != fmt.Sprint(c.id) {
		return nil, errors.New("no such capture")
	}
	if c.jpeg != nil {
		return c.jpeg, nil
	}
	return []byte("\xff\xd8 fake jpeg " + id + " \xff\xd9"), nil
}

func (c *fakeCamera) capture(motion time.Time, jpeg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.id++
	c.motion, c.jpeg = motion, jpeg
}

func (c *fakeCamera) snapshots() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snaps
}

// rig is a bridge with every feature, on fakes.
type rig struct {
	app     *fakeApp
	strips  *fakeStrips
	weather *fakeWeather
	camera  *fakeCamera
	logs    *lockedBuffer
	o       Opts
}

const testDevice = "tinkerbox-0123456789ab"

func newRig(brokerURL string) *rig {
	r := &rig{app: newFakeApp(), strips: &fakeStrips{}, weather: newFakeWeather(), camera: &fakeCamera{}, logs: &lockedBuffer{}}
	o := DefaultOpts()
	o.Broker = brokerURL
	o.BaseTopic = "tinkerbox/attic"
	o.Device = Device{ID: testDevice, Name: "attic", Version: "v1.2.3", URL: "http://attic.local/"}
	o.App, o.Strips, o.Weather, o.Cards, o.Camera = r.app, r.strips, r.weather, fakeCards{}, r.camera
	o.Log = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Fast enough for tests, slow enough for a loaded machine.
	o.Poll, o.SlowPoll, o.ImageEvery = 20*time.Millisecond, 50*time.Millisecond, 20*time.Millisecond
	o.BackoffMin, o.BackoffMax = 50*time.Millisecond, 500*time.Millisecond
	o.KeepAlive, o.ConnectTimeout, o.PublishTimeout = 3*time.Second, 2*time.Second, 2*time.Second
	r.o = o
	return r
}

// run starts the bridge until the test ends; stop ends it earlier.
func (r *rig) run(t testing.TB) (b *Bridge, stop func()) {
	t.Helper()
	b, err := New(r.o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return b, stop
}

// stateOf is the newest state w saw on base, decoded; nil before one.
func stateOf(t testing.TB, w *brokertest.Watcher, base string) map[string]any {
	m, ok := w.Last(base + "/state")
	if !ok {
		return nil
	}
	var s map[string]any
	if err := json.Unmarshal(m.Payload, &s); err != nil {
		t.Fatalf("state %s: %v", m.Payload, err)
	}
	return s
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// eventually polls cond until it holds or the deadline passes: generous,
// for a machine with every core busy.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func countLines(s, substr string) int {
	n := 0
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}
