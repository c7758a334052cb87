package spycam

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeCam hands out frames the test pushes. push returns once the scene has
// taken the frame, so no frame is skipped and nothing sleeps.
type fakeCam struct {
	mu    sync.Mutex
	cond  *sync.Cond
	cur   scene.Frame
	ready chan struct{}
	asked uint64 // the highest after a Next was called with
}

func newFakeCam() *fakeCam {
	c := &fakeCam{ready: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeCam) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	for {
		c.mu.Lock()
		if after > c.asked {
			c.asked = after
			c.cond.Broadcast()
		}
		f, ready := c.cur, c.ready
		c.mu.Unlock()
		if f.Seq > after {
			return f, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return scene.Frame{}, ctx.Err()
		}
	}
}

func (c *fakeCam) push(jpeg []byte, at time.Time) {
	c.mu.Lock()
	c.cur = scene.Frame{Seq: c.cur.Seq + 1, At: at, JPEG: jpeg}
	seq := c.cur.Seq
	close(c.ready)
	c.ready = make(chan struct{})
	for c.asked < seq {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

type fakeStore struct {
	mu     sync.Mutex
	frames []CaptureFrame
	events []string
	full   bool
}

func (s *fakeStore) SaveCapture(ctx context.Context, f CaptureFrame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full {
		return fmt.Errorf("store: write capture: %w", ErrDiskFull)
	}
	s.frames = append(s.frames, f)
	return nil
}

func (s *fakeStore) LogEvent(ctx context.Context, level, source, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if source != Name {
		return errors.New("wrong source " + source)
	}
	s.events = append(s.events, level+": "+msg)
	return nil
}

func (s *fakeStore) snapshot() ([]CaptureFrame, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames), slices.Clone(s.events)
}

type fakeLights struct {
	mu    sync.Mutex
	calls []string
}

func (l *fakeLights) SetLight(name string, m scene.LightMode) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("%s=%d", name, m))
	return nil
}

type harness struct {
	t      *testing.T
	dealt  chan uint64
	cam    *fakeCam
	store  *fakeStore
	lights *fakeLights
	events chan scene.Event
	at     time.Time
	done   chan error
	cancel context.CancelFunc
	quiet  []byte
	busy   func(i int) []byte
}

func newHarness(t *testing.T, opts Opts, edit ...func(*Scene)) *harness {
	h := &harness{t: t, cam: newFakeCam(), store: &fakeStore{}, lights: &fakeLights{}, events: make(chan scene.Event), at: t0, done: make(chan error, 1), dealt: make(chan uint64)}
	s := New(h.cam, h.lights, h.store, fakeclock.New(t0), opts)
	s.dealt = h.dealt
	for _, e := range edit {
		e(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- s.Run(ctx, h.events) }()
	t.Cleanup(func() { h.stop() })
	h.quiet = encode(t, wall(0))
	h.busy = func(i int) []byte {
		g := wall(0)
		x := (i % 6) * 40
		fillBox(g, image.Rect(x, 80, x+40, 160), 230)
		return encode(t, g)
	}
	return h
}

// step shows the scene one frame 200 ms after the previous one and returns
// once the scene has dealt with it (stored it and, if it was due, analysed
// it).
func (h *harness) step(jpeg []byte) {
	h.at = h.at.Add(200 * time.Millisecond)
	h.cam.push(jpeg, h.at)
	if seq := <-h.dealt; seq != h.cam.cur.Seq {
		h.t.Fatalf("scene dealt with frame %d, want %d", seq, h.cam.cur.Seq)
	}
}

// sync returns when the scene is idle: it takes an event only between frames.
func (h *harness) sync() {
	h.events <- scene.Event{Kind: scene.KindCommand, Command: "noop"}
}

func (h *harness) press() {
	h.events <- scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: scene.Short}
	h.sync()
}

func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	return <-h.done
}

func TestMotionCaptureWithPreFrames(t *testing.T) {
	h := newHarness(t, Opts{PreFrames: 3})
	for range 5 {
		h.step(h.quiet)
	}
	if f, ev := h.store.snapshot(); len(f) != 0 || len(ev) != 0 {
		t.Fatalf("captures %d, events %v on a still picture", len(f), ev)
	}
	for i := range 4 {
		h.step(h.busy(i))
	}
	for range 12 { // 2.4 s quiet: the 2 s gap ends the capture
		h.step(h.quiet)
	}
	frames, events := h.store.snapshot()
	// 3 frames up to and including the first motion frame, 3 more moving,
	// then quiet frames until the gap (2 s = 10 frames) has passed.
	if want := 3 + 3 + 10; len(frames) != want {
		t.Fatalf("saved %d frames, want %d", len(frames), want)
	}
	motionAt := t0.Add(6 * 200 * time.Millisecond)
	for i, f := range frames {
		if f.Kind != KindMotion || f.Index != i || !f.Event.Equal(motionAt) {
			t.Fatalf("frame %d: %+v", i, f)
		}
	}
	if !frames[0].At.Equal(t0.Add(4*200*time.Millisecond)) || !frames[2].At.Equal(motionAt) {
		t.Fatalf("pre-frames at %v..%v, want the two frames before the motion and the motion frame", frames[0].At, frames[2].At)
	}
	if len(events) != 2 || !strings.HasPrefix(events[0], "warn: motion:") || events[1] != "info: motion capture ended: 16 frames" {
		t.Fatalf("events = %q", events)
	}
	// Dark by default: a spy-cam never lights up.
	if len(h.lights.calls) != 0 {
		t.Fatalf("lights touched without Indicator: %v", h.lights.calls)
	}
}

func TestMaxFramesEndsCapture(t *testing.T) {
	h := newHarness(t, Opts{PreFrames: 2, MaxFrames: 6})
	h.step(h.quiet)
	for i := range 10 {
		h.step(h.busy(i))
	}
	frames, events := h.store.snapshot()
	// One capture of 6, then (still moving) a new one starts at the next
	// analysed frame.
	if len(frames) < 6 || frames[5].Index != 5 || frames[6].Index != 0 {
		t.Fatalf("frames: %d, want a capture of 6 then a new one", len(frames))
	}
	if !slices.Contains(events, "info: motion capture ended: 6 frames (reached the frame limit)") {
		t.Fatalf("events = %q", events)
	}
}

func TestIndicator(t *testing.T) {
	h := newHarness(t, Opts{Indicator: true, Gap: 400 * time.Millisecond})
	h.step(h.quiet)
	h.step(h.busy(0))
	for range 3 {
		h.step(h.quiet)
	}
	h.lights.mu.Lock()
	defer h.lights.mu.Unlock()
	want := []string{fmt.Sprintf("busy=%d", scene.LightOn), fmt.Sprintf("busy=%d", scene.LightOff)}
	if !slices.Equal(h.lights.calls, want) {
		t.Fatalf("lights = %v, want %v", h.lights.calls, want)
	}
}

func TestSnapshotButton(t *testing.T) {
	h := newHarness(t, Opts{NoMotion: true})
	h.press() // before any frame: the first frame is the snapshot
	h.step(h.quiet)
	h.step(h.busy(0)) // motion detection is off
	h.press()
	frames, events := h.store.snapshot()
	if len(frames) != 2 || frames[0].Kind != KindSnapshot || frames[1].Kind != KindSnapshot ||
		!frames[1].At.Equal(h.at) || &frames[1].JPEG[0] != &h.cam.cur.JPEG[0] {
		t.Fatalf("snapshots: %+v", frames)
	}
	if !slices.Equal(events, []string{"info: snapshot saved", "info: snapshot saved"}) {
		t.Fatalf("events = %q", events)
	}
}

func TestDiskFullStopsCaptures(t *testing.T) {
	h := newHarness(t, Opts{Retry: time.Minute})
	h.store.mu.Lock()
	h.store.full = true
	h.store.mu.Unlock()
	h.step(h.quiet)
	for i := range 10 {
		h.step(h.busy(i))
	}
	_, events := h.store.snapshot()
	full := 0
	for _, e := range events {
		if strings.Contains(e, "disk full: captures stopped") {
			full++
		}
	}
	if full != 1 {
		t.Fatalf("events = %q, want one disk-full event", events)
	}
	// The scene keeps running (streaming is not its business) and captures
	// again once the retry time has passed and the disk has room.
	h.store.mu.Lock()
	h.store.full = false
	h.store.mu.Unlock()
	h.at = h.at.Add(time.Minute)
	h.step(h.quiet)
	h.step(h.busy(3))
	if frames, _ := h.store.snapshot(); len(frames) == 0 {
		t.Fatal("no capture after the retry time")
	}
	select {
	case err := <-h.done:
		t.Fatalf("scene ended: %v", err)
	default:
	}
}

func TestCorruptFramesDropped(t *testing.T) {
	h := newHarness(t, Opts{})
	h.step(h.quiet)
	h.step([]byte("garbage"))
	h.step([]byte{0xff, 0xd8, 0xff, 0xd9})
	h.step(h.quiet)
	_, events := h.store.snapshot()
	if len(events) != 1 || !strings.Contains(events[0], "dropped") {
		t.Fatalf("events = %q, want one dropped-frame warning", events)
	}
}

type deadCam struct{}

func (deadCam) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	return scene.Frame{}, errors.New("picam: camera owner halted")
}

func TestCameraErrorEndsRun(t *testing.T) {
	s := New(deadCam{}, nil, &fakeStore{}, nil, Opts{})
	err := s.Run(context.Background(), make(chan scene.Event))
	if err == nil || !strings.HasPrefix(err.Error(), "spycam: camera: ") {
		t.Fatalf("Run = %v, want a spycam camera error", err)
	}
}

func TestNoCameraIdles(t *testing.T) {
	st := &fakeStore{}
	s := New(nil, nil, st, nil, Opts{})
	ctx, cancel := context.WithCancel(context.Background())
	ev := make(chan scene.Event)
	done := make(chan error)
	go func() { done <- s.Run(ctx, ev) }()
	ev <- scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: scene.Short}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, events := st.snapshot(); len(events) != 1 || !strings.Contains(events[0], "no camera") {
		t.Fatalf("events = %q", events)
	}
}

// gatedFeed is the detector, each analysis waiting for the test to let it
// finish, after the clock moves on by took.
type gatedFeed struct {
	clock   *fakeclock.Clock
	took    time.Duration
	started chan uint64 // the analysed frame's number, from its first byte
	finish  chan struct{}
}

func (g *gatedFeed) feed(d *Detector, jpeg []byte) (float64, bool, error) {
	g.started <- 0
	<-g.finish
	g.clock.Advance(g.took)
	return d.FeedJPEG(jpeg)
}

// TestSlowAnalysisDoesNotHoldUpFrames: while one frame is analysed (a
// decode on a Pi Zero takes a good part of a second), the frames that come
// are stored, not analysed; when the analysis finds motion, the capture
// starts with the frames before the motion frame and goes on with those
// that came while it was analysed, none missing.
func TestSlowAnalysisDoesNotHoldUpFrames(t *testing.T) {
	g := &gatedFeed{started: make(chan uint64), finish: make(chan struct{})}
	h := newHarness(t, Opts{PreFrames: 3}, func(s *Scene) {
		g.clock = s.clock.(*fakeclock.Clock)
		s.feed = g.feed
	})
	for range 4 {
		h.at = h.at.Add(200 * time.Millisecond)
		h.cam.push(h.quiet, h.at)
		<-g.started
		g.finish <- struct{}{}
		<-h.dealt
	}
	// The motion frame (5) goes to the analyser, which takes its time ...
	h.at = h.at.Add(200 * time.Millisecond)
	motionAt := h.at
	h.cam.push(h.busy(0), h.at)
	<-g.started
	// ... while 6 frames come and are stored (none analysed: it is busy).
	for i := range 6 {
		h.step(h.busy(i + 1))
	}
	if frames, _ := h.store.snapshot(); len(frames) != 0 {
		t.Fatalf("%d frames saved before the motion was found", len(frames))
	}
	g.finish <- struct{}{}
	if seq := <-h.dealt; seq != 5 {
		t.Fatalf("dealt with %d, want the motion frame 5", seq)
	}
	frames, events := h.store.snapshot()
	// Frames 3 and 4 before the motion, 5, and 6..11 from while it was analysed.
	if len(frames) != 2+1+6 {
		t.Fatalf("saved %d frames, want 9", len(frames))
	}
	for i, f := range frames {
		if want := t0.Add(time.Duration(3+i) * 200 * time.Millisecond); f.Index != i || !f.At.Equal(want) || !f.Event.Equal(motionAt) {
			t.Fatalf("frame %d: index %d at %v, want at %v", i, f.Index, f.At, want)
		}
	}
	if len(events) != 1 || !strings.HasPrefix(events[0], "warn: motion:") {
		t.Fatalf("events = %q", events)
	}
	// The next frame is saved at once, and analysed.
	h.at = h.at.Add(200 * time.Millisecond)
	h.cam.push(h.busy(7), h.at)
	<-g.started
	if frames, _ := h.store.snapshot(); len(frames) != 10 {
		t.Fatalf("the frame after the verdict not saved before its analysis: %d frames", len(frames))
	}
	g.finish <- struct{}{}
	<-h.dealt
}

// TestAnalysisShareCapped: an analysis that took 1 s of the clock (a
// starved CPU) is followed by 3 s without any, so that motion analysis never
// takes more than a quarter of the time.
func TestAnalysisShareCapped(t *testing.T) {
	g := &gatedFeed{took: time.Second, started: make(chan uint64), finish: make(chan struct{})}
	h := newHarness(t, Opts{}, func(s *Scene) {
		g.clock = s.clock.(*fakeclock.Clock)
		s.feed = g.feed
	})
	analysed := 0
	// Frames every 200 ms from t0+200ms; the first analysis ends at t0+1s,
	// so none until t0+4s, the 20th frame.
	for i := range 21 {
		h.at = h.at.Add(200 * time.Millisecond)
		h.cam.push(h.quiet, h.at)
		select {
		case <-g.started:
			analysed++
			if i != 0 && i != 19 {
				t.Fatalf("frame %d (at +%v) analysed", i+1, h.at.Sub(t0))
			}
			g.finish <- struct{}{}
			<-h.dealt
		case <-h.dealt:
		}
	}
	if analysed != 2 {
		t.Fatalf("%d frames analysed, want 2", analysed)
	}
}

// holdingCam is fakeCam with Hold and Release, counting what is held.
type holdingCam struct {
	*fakeCam
	mu   sync.Mutex
	held map[uint64]int
	most int
	err  error
}

func (c *holdingCam) Hold(ctx context.Context, after uint64) (scene.Frame, error) {
	f, err := c.fakeCam.Next(ctx, after)
	if err == nil {
		c.mu.Lock()
		c.held[f.Seq]++
		n := 0
		for _, k := range c.held {
			n += k
		}
		c.most = max(c.most, n)
		c.mu.Unlock()
	}
	return f, err
}

func (c *holdingCam) Release(f scene.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[f.Seq] == 0 && c.err == nil {
		c.err = fmt.Errorf("frame %d released but not held", f.Seq)
	}
	if c.held[f.Seq]--; c.held[f.Seq] <= 0 {
		delete(c.held, f.Seq)
	}
}

// TestFramesGivenBack: with a camera that takes frames back, the scene holds
// no more than its ring (and the frame it is handing on), gives each frame
// back once, and all of them when it ends.
func TestFramesGivenBack(t *testing.T) {
	var cam *holdingCam
	h := newHarness(t, Opts{PreFrames: 3}, func(s *Scene) {
		cam = &holdingCam{fakeCam: s.camera.(*fakeCam), held: map[uint64]int{}}
		s.camera = cam
	})
	for i := range 40 {
		if i%10 < 5 {
			h.step(h.quiet)
		} else {
			h.step(h.busy(i))
		}
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	cam.mu.Lock()
	defer cam.mu.Unlock()
	if cam.err != nil || len(cam.held) != 0 {
		t.Fatalf("%v; still held after Run: %v", cam.err, cam.held)
	}
	if limit := 3 + ringSlack + 1; cam.most > limit {
		t.Fatalf("held %d frames at once, want at most %d", cam.most, limit)
	}
	if frames, _ := h.store.snapshot(); len(frames) == 0 {
		t.Fatal("no capture: the test never saw motion")
	}
}
