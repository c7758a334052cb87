// Package loop is the scene state machine: one scene runs at a time, button
// and web events are routed to it, B switches scenes, a crashing scene is
// restarted with backoff, and every exit leaves the devices safe.
package loop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"tinkerbox/scenes/scene"
)

// Options configure a Loop. Clock is required; the hooks are optional.
type Options struct {
	Clock scene.Clock
	Log   *slog.Logger
	// Default is the scene to start with (the first one when empty).
	Default string
	// Safe puts the devices in a safe state (servos stopped, lights off,
	// display blank). It runs after every scene exit: switch, crash or stop.
	Safe func()
	// Halt halts every device; it runs once, last, when Run returns.
	Halt func()
	// Announce shows a scene's name (scrolls it on the display) before the
	// scene starts; it must return when ctx ends.
	Announce func(ctx context.Context, name string)
	// Record is told about scene switches and failures (the event log).
	Record func(level, source, message string)
	// Chord handles A+B held (show the URL and the password hint).
	Chord func()
	// MinBackoff and MaxBackoff bound the restart delay of a failing scene;
	// Healthy is how long a scene must run before its backoff resets.
	MinBackoff, MaxBackoff, Healthy time.Duration
	// StopTimeout is how long a scene gets to return after cancellation.
	StopTimeout time.Duration
}

// Loop runs the scenes. Create it with New, run it with Run.
type Loop struct {
	scenes []scene.Scene
	opts   Options
	in     chan scene.Event
	sw     chan string

	mu       sync.Mutex
	current  string
	restarts int
	lastErr  string
}

// Status is a snapshot of the loop for the dashboard.
type Status struct {
	Scene     string
	Scenes    []string
	Restarts  int    // restarts of the current scene since it was chosen
	LastError string // the current scene's last failure
	Next      string // the scene B switches to
	// Help is the current scene's own word on its buttons and lights (zero
	// when it does not implement scene.Helper).
	Help scene.Help
}

// New checks the scene list and returns a loop ready to Run.
func New(scenes []scene.Scene, opts Options) (*Loop, error) {
	if len(scenes) == 0 {
		return nil, errors.New("loop: no scenes")
	}
	if opts.Clock == nil {
		return nil, errors.New("loop: no clock")
	}
	seen := map[string]bool{}
	for _, s := range scenes {
		if seen[s.Name()] {
			return nil, fmt.Errorf("loop: scene %q listed twice", s.Name())
		}
		seen[s.Name()] = true
	}
	if opts.Default == "" {
		opts.Default = scenes[0].Name()
	}
	if !seen[opts.Default] {
		return nil, fmt.Errorf("loop: default scene %q is not in the scene list", opts.Default)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.MinBackoff, time.Second)
	def(&opts.MaxBackoff, 30*time.Second)
	def(&opts.Healthy, 30*time.Second)
	def(&opts.StopTimeout, 5*time.Second)
	return &Loop{
		scenes:  scenes,
		opts:    opts,
		in:      make(chan scene.Event, 16),
		sw:      make(chan string, 4),
		current: opts.Default,
	}, nil
}

// ErrBusy is returned when the loop's input queue is full.
var ErrBusy = errors.New("loop: busy, event dropped")

// Send queues a button or web event. It never blocks.
func (l *Loop) Send(ev scene.Event) error {
	if ev.At.IsZero() {
		ev.At = l.opts.Clock.Now()
	}
	select {
	case l.in <- ev:
		return nil
	default:
		return ErrBusy
	}
}

// Switch asks the loop to run the named scene.
func (l *Loop) Switch(name string) error {
	if l.index(name) < 0 {
		return fmt.Errorf("loop: no scene %q", name)
	}
	select {
	case l.sw <- name:
		return nil
	default:
		return ErrBusy
	}
}

// Status reports the running scene.
func (l *Loop) Status() Status {
	l.mu.Lock()
	st := Status{Scene: l.current, Scenes: l.Names(), Restarts: l.restarts, LastError: l.lastErr}
	l.mu.Unlock()
	// Outside the lock: Help is the scene's code, with locks of its own.
	if i := l.index(st.Scene); i >= 0 {
		st.Next = l.scenes[(i+1)%len(l.scenes)].Name()
		if h, ok := l.scenes[i].(scene.Helper); ok {
			st.Help = h.Help()
		}
	}
	return st
}

// Names lists the scenes in order.
func (l *Loop) Names() []string {
	names := make([]string, len(l.scenes))
	for i, s := range l.scenes {
		names[i] = s.Name()
	}
	return names
}

func (l *Loop) index(name string) int {
	for i, s := range l.scenes {
		if s.Name() == name {
			return i
		}
	}
	return -1
}

// running is one started scene.
type running struct {
	cancel  context.CancelFunc
	events  chan scene.Event
	done    chan error
	started time.Time
}

// Run runs scenes until ctx ends, then stops the scene, makes the devices
// safe and halts them. It returns nil on a clean stop.
func (l *Loop) Run(ctx context.Context) error {
	defer func() {
		if l.opts.Halt != nil {
			l.opts.Halt()
		}
	}()
	cur := l.index(l.current)
	failures := 0
	var run *running
	var retry <-chan time.Time // set while waiting to restart a failed scene

	start := func(i int) {
		cur = i
		s := l.scenes[i]
		l.setCurrent(s.Name())
		sctx, cancel := context.WithCancel(ctx)
		r := &running{cancel: cancel, events: make(chan scene.Event, 8), done: make(chan error, 1), started: l.opts.Clock.Now()}
		go func() {
			if l.opts.Announce != nil {
				l.opts.Announce(sctx, s.Name())
			}
			r.done <- l.safeRun(sctx, s, r.events)
		}()
		run = r
		retry = nil
	}
	stop := func() {
		if run == nil {
			return
		}
		run.cancel()
		select {
		case <-run.done:
		case <-l.opts.Clock.After(l.opts.StopTimeout):
			// A scene that ignores its context cannot hold the appliance:
			// abandon its goroutine, make the hardware safe and go on.
			l.record("error", l.scenes[cur].Name(), fmt.Sprintf("did not stop within %s; abandoned", l.opts.StopTimeout))
		}
		run = nil
		l.safe()
	}
	switchTo := func(i int, why string) {
		stop()
		failures = 0
		l.mu.Lock()
		l.restarts, l.lastErr = 0, ""
		l.mu.Unlock()
		l.record("info", "loop", fmt.Sprintf("scene %s (%s)", l.scenes[i].Name(), why))
		start(i)
	}

	l.record("info", "loop", "start scene "+l.scenes[cur].Name())
	start(cur)
	for {
		var done <-chan error
		if run != nil {
			done = run.done
		}
		select {
		case <-ctx.Done():
			stop()
			return nil
		case name := <-l.sw:
			if i := l.index(name); i >= 0 {
				switchTo(i, "chosen on the web")
			}
		case ev := <-l.in:
			switch {
			case ev.Kind == scene.KindPress && ev.Button == scene.ButtonB && ev.Press == scene.Short:
				switchTo((cur+1)%len(l.scenes), "button B")
			case ev.Kind == scene.KindPress && ev.Button == "A+B":
				if l.opts.Chord != nil {
					l.opts.Chord()
				}
			case run != nil:
				select {
				case run.events <- ev:
				default:
					l.opts.Log.Warn("scene busy, event dropped", "scene", l.scenes[cur].Name(), "button", ev.Button, "command", ev.Command)
				}
			}
		case err := <-done:
			ran := l.opts.Clock.Now().Sub(run.started)
			run = nil
			l.safe()
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = errors.New("returned before it was stopped")
			}
			if ran >= l.opts.Healthy {
				failures = 0
			}
			failures++
			wait := backoff(failures, l.opts.MinBackoff, l.opts.MaxBackoff)
			l.mu.Lock()
			l.restarts++
			l.lastErr = err.Error()
			l.mu.Unlock()
			// Arm the timer before recording, so whoever reads the record
			// (tests, the dashboard) sees a restart that is already scheduled.
			retry = l.opts.Clock.After(wait)
			l.record("error", l.scenes[cur].Name(), fmt.Sprintf("failed: %v; restarting in %s", err, wait))
		case <-retry:
			start(cur)
		}
	}
}

func (l *Loop) setCurrent(name string) {
	l.mu.Lock()
	l.current = name
	l.mu.Unlock()
}

func (l *Loop) safe() {
	if l.opts.Safe != nil {
		l.opts.Safe()
	}
}

func (l *Loop) record(level, source, msg string) {
	switch level {
	case "error":
		l.opts.Log.Error(msg, "source", source)
	case "warn":
		l.opts.Log.Warn(msg, "source", source)
	default:
		l.opts.Log.Info(msg, "source", source)
	}
	if l.opts.Record != nil {
		l.opts.Record(level, source, msg)
	}
}

// backoff doubles from min for each consecutive failure, up to max.
func backoff(failures int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// safeRun turns a scene's panic into an error so it is restarted, not fatal.
func (l *Loop) safeRun(ctx context.Context, s scene.Scene, events <-chan scene.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			l.opts.Log.Error("scene panicked", "scene", s.Name(), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	err = s.Run(ctx, events)
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}
