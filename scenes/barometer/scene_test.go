package barometer

import (
	"context"
	"errors"
	"image"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

type fakeSensor struct {
	mu   sync.Mutex
	hpa  float64
	fail bool
}

func (f *fakeSensor) Sense(env *physic.Env) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("bmp280: i2c: no ack")
	}
	env.Pressure, env.Temperature = hp(f.hpa), physic.ZeroCelsius+15*physic.Celsius
	return nil
}

func (f *fakeSensor) String() string { return "BMP280" }

func (f *fakeSensor) set(hpa float64, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hpa, f.fail = hpa, fail
}

type fakeDisplay struct {
	mu    sync.Mutex
	last  *image.Gray
	shows int
}

func (d *fakeDisplay) Show(f *image.Gray) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := image.NewGray(f.Rect)
	copy(c.Pix, f.Pix)
	d.last, d.shows = c, d.shows+1
	return nil
}

func (d *fakeDisplay) frame() (string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last == nil {
		return "", 0
	}
	return ascii(d.last), d.shows
}

type fakeLights struct {
	mu    sync.Mutex
	modes map[string]scene.LightMode
	log   []string
}

func (l *fakeLights) SetLight(name string, m scene.LightMode) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.modes == nil {
		l.modes = map[string]scene.LightMode{}
	}
	l.modes[name] = m
	l.log = append(l.log, name)
	return nil
}

func (l *fakeLights) mode(name string) scene.LightMode {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.modes[name]
}

// rig runs a scene on a fake clock. Every helper returns only once the scene
// has drawn the frame that follows: events are unbuffered, so a delivered
// event proves the scene finished its previous loop iteration.
type rig struct {
	t      *testing.T
	clk    *fakeclock.Clock
	sensor *fakeSensor
	disp   *fakeDisplay
	lights *fakeLights
	store  *memStore
	scene  *Scene
	events chan scene.Event
	done   chan error
	cancel context.CancelFunc
}

func newRig(t *testing.T, store *memStore, opts Opts) *rig {
	r := &rig{t: t, clk: fakeclock.New(t0), sensor: &fakeSensor{hpa: 1013}, disp: &fakeDisplay{}, lights: &fakeLights{},
		store: store, events: make(chan scene.Event), done: make(chan error, 1)}
	r.scene = New(r.sensor, r.disp, r.lights, store, r.clk, opts)
	return r
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.scene.Run(ctx, r.events) }()
	r.settle()
}

// settle waits until both timers are armed (the sample is done) and the
// frame after it is drawn.
func (r *rig) settle() {
	r.clk.BlockUntil(2)
	r.send(scene.Event{Kind: scene.KindCommand, Command: "sync"})
}

func (r *rig) send(ev scene.Event) {
	r.t.Helper()
	select {
	case r.events <- ev:
	case err := <-r.done:
		r.t.Fatalf("scene ended: %v", err)
	case <-time.After(30 * time.Second): // hang guard only
		r.t.Fatal("scene not taking events")
	}
	// A second event proves the first one's frame was drawn.
	if ev.Command != "sync2" {
		r.send(scene.Event{Kind: scene.KindCommand, Command: "sync2"})
	}
}

func (r *rig) press(p scene.Press) {
	r.send(scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: p})
}

func (r *rig) advance(d time.Duration) {
	r.clk.Advance(d)
	r.settle()
}

func (r *rig) stop() {
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) wantFrame(name string) {
	r.t.Helper()
	got, _ := r.disp.frame()
	golden(r.t, name, got)
}

func TestErrAfterThreeFailuresAndRecovery(t *testing.T) {
	r := newRig(t, &memStore{}, DefaultOpts())
	r.sensor.set(0, true)
	r.start()
	defer r.stop()
	r.wantFrame("pressure-none") // one failure: no reading yet, not yet ERR
	r.advance(time.Minute)
	r.wantFrame("pressure-none")
	r.advance(time.Minute)
	r.wantFrame("err")
	st := r.scene.Status().Report
	if !st.Failing || st.Failures != 3 || !strings.Contains(st.SensorError, "pressure sensor BMP280: bmp280: i2c: no ack") {
		t.Errorf("status = %+v", st)
	}
	latest, _ := r.store.Latest(context.Background(), 10)
	if len(latest) != 3 || latest[0].OK() || latest[0].Pressure != 0 {
		t.Errorf("stored %+v, want 3 gaps", latest)
	}
	r.sensor.set(1013.4, false)
	r.advance(time.Minute)
	r.wantFrame("pressure")
	if st := r.scene.Status().Report; st.Failing || !st.Valid {
		t.Errorf("after recovery: %+v", st)
	}
	if r.store.len() != 4 {
		t.Errorf("%d samples stored, want 4", r.store.len())
	}
}

func TestWarningFlashesUntilAcknowledged(t *testing.T) {
	m := &memStore{}
	// History kept from before a restart: a storm front, 1013 → 1005.2 hPa.
	m.fill(t0.Add(-time.Minute), 4*60, func(ago int) float64 {
		return 1005 + 8*math.Min(float64(ago+1), 180)/180
	})
	r := newRig(t, m, DefaultOpts())
	r.sensor.set(1005, false)
	r.start()
	defer r.stop()
	if got := r.scene.Status(); got.Report.Level != LevelGale || !got.Alarm {
		t.Fatalf("status = %+v, want an unacknowledged gale", got)
	}
	if r.lights.mode(scene.LightWarn) != scene.LightBlinkFast {
		t.Fatalf("warn light = %v, want fast blink", r.lights.mode(scene.LightWarn))
	}
	r.wantFrame("alarm-normal")
	for range flashFrames {
		r.advance(frameStep)
	}
	r.wantFrame("alarm-flash")
	for range flashFrames {
		r.advance(frameStep)
	}
	r.wantFrame("alarm-normal")
	for range flashFrames {
		r.advance(frameStep)
	}
	r.press(scene.Long) // acknowledge during the inverted phase
	r.wantFrame("alarm-normal")
	if r.lights.mode(scene.LightWarn) != scene.LightOn {
		t.Errorf("warn light after acknowledging = %v, want on", r.lights.mode(scene.LightWarn))
	}
	_, shows := r.disp.frame()
	for range 3 * flashFrames {
		r.advance(frameStep)
	}
	if _, n := r.disp.frame(); n != shows {
		t.Errorf("%d frames shown after acknowledging, want none (no flashing)", n-shows)
	}
	if st := r.scene.Status(); st.Alarm || st.Acknowledged != LevelGale {
		t.Errorf("status after acknowledging = %+v", st)
	}
}

func TestAcknowledgedUntilLevelRises(t *testing.T) {
	m := &memStore{}
	// 2 hPa down in 3 h: a watch.
	m.fill(t0.Add(-time.Minute), 4*60, func(ago int) float64 {
		return 1010 + 2*math.Min(float64(ago+1), 180)/180
	})
	r := newRig(t, m, DefaultOpts())
	r.sensor.set(1010, false)
	r.start()
	defer r.stop()
	if st := r.scene.Status(); st.Report.Level != LevelWatch || !st.Alarm {
		t.Fatalf("status = %+v, want a watch alarm", st)
	}
	r.press(scene.Long)
	if st := r.scene.Status(); st.Alarm {
		t.Fatal("still alarming after acknowledging")
	}
	// The same level stays quiet …
	r.advance(time.Minute)
	if r.scene.Status().Alarm {
		t.Fatal("alarm came back at the same level")
	}
	// … a plunge raises it to gale and alarms again.
	r.sensor.set(980, false) // one sample in the 10-minute window: ≈ −3 hPa more
	r.advance(time.Minute)
	if st := r.scene.Status(); st.Report.Level <= LevelWatch || !st.Alarm || r.lights.mode(scene.LightWarn) != scene.LightBlinkFast {
		t.Errorf("after a plunge: %+v, light %v", st, r.lights.mode(scene.LightWarn))
	}
}

func TestShortPressCyclesViews(t *testing.T) {
	m := &memStore{}
	m.fill(t0.Add(-time.Minute), 4*60, func(ago int) float64 { return 1013.4 })
	r := newRig(t, m, DefaultOpts())
	r.sensor.set(1013.4, false)
	r.start()
	defer r.stop()
	r.wantFrame("pressure")
	want := []string{"3h", "12h", "24h", "tendency", "pressure"}
	for i, v := range want {
		r.press(scene.Short)
		if got := r.scene.Status().View; got != v {
			t.Fatalf("press %d: view %q, want %q", i+1, got, v)
		}
		if i == 0 {
			r.wantFrame("label-3h")
			for range labelFrames {
				r.advance(frameStep)
			}
			r.wantFrame("view-3h-steady")
		}
	}
	// Other buttons and presses are not the scene's business.
	r.send(scene.Event{Kind: scene.KindPress, Button: scene.ButtonB, Press: scene.Short})
	if got := r.scene.Status().View; got != "pressure" {
		t.Errorf("B changed the view to %q", got)
	}
}

func TestNightDimmingAndMissingDevices(t *testing.T) {
	r := newRig(t, &memStore{}, Opts{Dim: func(time.Time) uint8 { return 64 }})
	r.sensor.set(1013.4, false)
	r.start()
	r.wantFrame("dimmed")
	r.stop()

	// No display, no lights, no sensor: it still records (gaps) and runs.
	m := &notifyStore{memStore: &memStore{}, added: make(chan struct{}, 1)}
	s := New(nil, nil, nil, m, fakeclock.New(t0), DefaultOpts())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, nil) }()
	select { // the first sample is immediate
	case <-m.added:
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-time.After(30 * time.Second): // hang guard only
		t.Fatal("no sample stored")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l, _ := m.Latest(context.Background(), 1); len(l) != 1 || l[0].OK() || !strings.Contains(l[0].Err, "not connected") {
		t.Errorf("stored %+v, want a gap naming the missing sensor", l)
	}
}

func TestStoreFailureEndsRun(t *testing.T) {
	s := New(&fakeSensor{hpa: 1000}, nil, nil, &memStore{failAdd: errors.New("disk full")}, fakeclock.New(t0), DefaultOpts())
	err := s.Run(context.Background(), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "barometer: store sample: ") {
		t.Fatalf("Run = %v", err)
	}
	if err := New(nil, nil, nil, nil, nil, DefaultOpts()).Run(context.Background(), nil); err == nil {
		t.Fatal("Run without a store succeeded")
	}
}

// notifyStore signals every stored sample.
type notifyStore struct {
	*memStore
	added chan struct{}
}

func (n *notifyStore) AddSample(ctx context.Context, s Sample) error {
	err := n.memStore.AddSample(ctx, s)
	select {
	case n.added <- struct{}{}:
	default:
	}
	return err
}

// TestRecordKeepsHistoryWhileOtherScenesRun: with Record running beside the
// appliance, samples are stored whether or not the scene is on, and the scene
// in Recorded mode reads them without sampling twice.
func TestRecordKeepsHistoryWhileOtherScenesRun(t *testing.T) {
	m := &memStore{}
	opts := DefaultOpts()
	opts.Recorded = true
	r := newRig(t, m, opts)
	ctx, cancel := context.WithCancel(context.Background())
	recDone := make(chan error, 1)
	go func() { recDone <- r.scene.Record(ctx) }()
	defer func() { cancel(); <-recDone }()

	r.clk.BlockUntil(1) // first sample stored, next one armed
	for i := 0; i < 9; i++ {
		r.clk.Advance(time.Minute)
		r.clk.BlockUntil(1)
	}
	if n := m.len(); n != 10 {
		t.Fatalf("%d samples after 10 minutes with the scene off, want 10", n)
	}
	// The scene comes on: it shows the recorded reading. Three timers are
	// then pending: the recorder's, the scene's frame tick and its refresh.
	sctx, scancel := context.WithCancel(context.Background())
	r.cancel = scancel
	go func() { r.done <- r.scene.Run(sctx, r.events) }()
	r.clk.BlockUntil(3)
	r.send(scene.Event{Kind: scene.KindCommand, Command: "sync"})
	r.wantFrame("pressure")
	r.stop()
	if n := m.len(); n != 10 {
		t.Fatalf("%d samples: the scene sampled too, want 10", n)
	}
}
