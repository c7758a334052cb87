package loop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// fakeScene reports its life on channels so tests can follow it without sleeping.
type fakeScene struct {
	name    string
	started chan struct{}
	events  chan scene.Event
	run     func(ctx context.Context) error // nil: wait for ctx
	log     *journal
}

func newScene(name string, j *journal) *fakeScene {
	return &fakeScene{name: name, started: make(chan struct{}, 16), events: make(chan scene.Event, 16), log: j}
}

func (s *fakeScene) Name() string { return s.name }

func (s *fakeScene) Run(ctx context.Context, events <-chan scene.Event) error {
	s.log.add("start " + s.name)
	defer s.log.add("stop " + s.name)
	s.started <- struct{}{}
	if s.run != nil {
		return s.run(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			s.events <- ev
		}
	}
}

// journal records what happened, in order.
type journal struct {
	mu      sync.Mutex
	entries []string
	records chan string
}

func newJournal() *journal { return &journal{records: make(chan string, 64)} }

func (j *journal) add(e string) {
	j.mu.Lock()
	j.entries = append(j.entries, e)
	j.mu.Unlock()
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.entries...)
}

type harness struct {
	loop   *Loop
	clock  *fakeclock.Clock
	j      *journal
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, scenes []scene.Scene, def string) *harness {
	t.Helper()
	j := scenes[0].(*fakeScene).log
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l, err := New(scenes, Options{
		Clock:   clk,
		Default: def,
		Safe:    func() { j.add("safe") },
		Halt:    func() { j.add("halt") },
		Record:  func(level, source, msg string) { j.records <- level + " " + source + ": " + msg },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{loop: l, clock: clk, j: j, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-h.done })
	return h
}

func (h *harness) record(t *testing.T, want string) {
	t.Helper()
	for {
		select {
		case r := <-h.j.records:
			if strings.Contains(r, want) {
				return
			}
		case <-time.After(30 * time.Second): // a hang guard, not a wait for work
			t.Fatalf("no record containing %q; journal %v", want, h.j.list())
		}
	}
}

func wait(t *testing.T, c chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		t.Fatal("scene did not start")
	}
}

func press(b string, p scene.Press) scene.Event {
	return scene.Event{Kind: scene.KindPress, Button: b, Press: p}
}

func TestButtonBCyclesScenesAndAGoesToTheScene(t *testing.T) {
	j := newJournal()
	a, b, c := newScene("a", j), newScene("b", j), newScene("c", j)
	h := start(t, []scene.Scene{a, b, c}, "b")
	wait(t, b.started)
	if got := h.loop.Status().Scene; got != "b" {
		t.Fatalf("scene = %q, want b", got)
	}
	h.loop.Send(press(scene.ButtonA, scene.Long))
	if ev := <-b.events; ev.Button != scene.ButtonA || ev.Press != scene.Long {
		t.Fatalf("scene b got %+v", ev)
	}
	h.loop.Send(press(scene.ButtonB, scene.Short))
	wait(t, c.started)
	h.loop.Send(press(scene.ButtonB, scene.Short))
	wait(t, a.started)
	if got := h.loop.Status().Scene; got != "a" {
		t.Fatalf("scene = %q after wrapping, want a", got)
	}
	// B long is not a switch: it belongs to the scene.
	h.loop.Send(press(scene.ButtonB, scene.Long))
	if ev := <-a.events; ev.Button != scene.ButtonB || ev.Press != scene.Long {
		t.Fatalf("scene a got %+v", ev)
	}
	if err := h.loop.Switch("c"); err != nil {
		t.Fatal(err)
	}
	wait(t, c.started)
	if err := h.loop.Switch("nope"); err == nil {
		t.Fatal("switch to an unknown scene succeeded")
	}
	want := []string{"start b", "stop b", "safe", "start c", "stop c", "safe", "start a", "stop a", "safe", "start c"}
	if got := h.j.list(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("journal\n got %v\nwant %v", got, want)
	}
}

func TestCrashRestartsWithBackoff(t *testing.T) {
	j := newJournal()
	s := newScene("flaky", j)
	s.run = func(ctx context.Context) error { return errors.New("sensor on fire") }
	h := start(t, []scene.Scene{s}, "")
	wait(t, s.started)
	for _, want := range []string{"1s", "2s", "4s", "8s", "16s", "30s", "30s"} {
		h.record(t, "flaky: failed: sensor on fire; restarting in "+want)
		d, _ := time.ParseDuration(want)
		h.clock.Advance(d - time.Millisecond)
		select {
		case <-s.started:
			t.Fatalf("restarted before the %s backoff ran out", want)
		default:
		}
		h.clock.Advance(time.Millisecond)
		wait(t, s.started)
	}
	h.record(t, "restarting in 30s") // the eighth failure
	st := h.loop.Status()
	if st.Restarts != 8 || st.LastError != "sensor on fire" {
		t.Fatalf("status = %+v", st)
	}
}

func TestPanicIsRestartedNotFatal(t *testing.T) {
	j := newJournal()
	s := newScene("boom", j)
	calls := 0
	s.run = func(ctx context.Context) error {
		calls++
		if calls == 1 {
			panic("nil map")
		}
		<-ctx.Done()
		return nil
	}
	h := start(t, []scene.Scene{s}, "")
	wait(t, s.started)
	h.record(t, "boom: failed: panic: nil map; restarting in 1s")
	h.clock.Advance(time.Second)
	wait(t, s.started)
	if got := h.j.list(); fmt.Sprint(got[:3]) != "[start boom stop boom safe]" {
		t.Fatalf("journal %v: want the devices made safe after the panic", got)
	}
}

func TestHealthyRunResetsBackoff(t *testing.T) {
	j := newJournal()
	s := newScene("s", j)
	fail := make(chan error)
	s.run = func(ctx context.Context) error { return <-fail }
	h := start(t, []scene.Scene{s}, "")
	wait(t, s.started)
	fail <- errors.New("x")
	h.record(t, "restarting in 1s")
	h.clock.Advance(time.Second)
	wait(t, s.started)
	fail <- errors.New("x")
	h.record(t, "restarting in 2s")
	h.clock.Advance(2 * time.Second)
	wait(t, s.started)
	h.clock.Advance(time.Minute) // runs healthy for a minute
	fail <- errors.New("x")
	h.record(t, "restarting in 1s")
}

func TestShutdownStopsSceneThenHalts(t *testing.T) {
	j := newJournal()
	s := newScene("s", j)
	h := start(t, []scene.Scene{s}, "")
	wait(t, s.started)
	h.cancel()
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
	h.done <- nil // for Cleanup
	want := "[start s stop s safe halt]"
	if got := fmt.Sprint(h.j.list()); got != want {
		t.Fatalf("shutdown order %s, want %s", got, want)
	}
}

func TestStuckSceneIsAbandoned(t *testing.T) {
	j := newJournal()
	stuck, next := newScene("stuck", j), newScene("next", j)
	release := make(chan struct{})
	stuck.run = func(ctx context.Context) error { <-release; return nil }
	t.Cleanup(func() { close(release) })
	h := start(t, []scene.Scene{stuck, next}, "")
	wait(t, stuck.started)
	h.loop.Send(press(scene.ButtonB, scene.Short))
	h.clock.BlockUntil(1) // the stop timeout is armed
	h.clock.Advance(5 * time.Second)
	h.record(t, "stuck: did not stop within 5s; abandoned")
	wait(t, next.started)
}

func TestNewRejectsBadLists(t *testing.T) {
	clk := fakeclock.New(time.Time{})
	j := newJournal()
	if _, err := New(nil, Options{Clock: clk}); err == nil {
		t.Error("no scenes accepted")
	}
	if _, err := New([]scene.Scene{newScene("a", j), newScene("a", j)}, Options{Clock: clk}); err == nil || !strings.Contains(err.Error(), `"a" listed twice`) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := New([]scene.Scene{newScene("a", j)}, Options{Clock: clk, Default: "b"}); err == nil || !strings.Contains(err.Error(), `default scene "b"`) {
		t.Errorf("bad default: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 60: 30 * time.Second} {
		if got := backoff(n, time.Second, 30*time.Second); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
}
