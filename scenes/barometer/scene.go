package barometer

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene"
)

// Display timing.
const (
	frameStep   = 125 * time.Millisecond // scroll speed and flash granularity
	flashFrames = 4                      // frames per flash phase: 2 Hz
	labelFrames = 8                      // a sparkline's label shows for 1 s
	compactGap  = 24 * time.Hour         // compaction runs once a (sample) day
)

// sparkSpans are the sparkline views' time spans.
var sparkSpans = map[viewKind]time.Duration{
	viewSpark3:  3 * time.Hour,
	viewSpark12: 12 * time.Hour,
	viewSpark24: 24 * time.Hour,
}

// Status is the scene's state for the dashboard.
type Status struct {
	Report       Report
	View         string // current display view
	Alarm        bool   // a warning is flashing, not yet acknowledged
	Acknowledged Level  // the level last acknowledged
	Err          string // the last store or display error, if any
}

// Scene is the barometer. Build it with New.
type Scene struct {
	env     scene.Environment
	display scene.Display
	lights  scene.Lights
	store   SampleStore
	clock   scene.Clock
	opts    Opts
	view    *View
	sensor  string // the sensor's name for error messages

	mu     sync.Mutex
	status Status
	warned Level // the level last reported to the event log
}

// New returns the scene. display and lights may be nil (missing hardware);
// a nil env records every sample as a failed read.
func New(env scene.Environment, display scene.Display, lights scene.Lights, store SampleStore, clock scene.Clock, opts Opts) *Scene {
	opts = opts.withDefaults()
	if clock == nil {
		clock = scene.SystemClock{}
	}
	if opts.Stamp == nil {
		opts.Stamp = clock.Now
	}
	s := &Scene{env: env, display: display, lights: lights, store: store, clock: clock, opts: opts, sensor: "pressure sensor"}
	if st, ok := env.(fmt.Stringer); ok && env != nil {
		s.sensor = "pressure sensor " + st.String()
	}
	s.view = NewView(store, opts.Stamp, opts)
	return s
}

// Name implements scene.Scene.
func (s *Scene) Name() string { return Name }

// String describes the scene.
func (s *Scene) String() string { return fmt.Sprintf("barometer(every %v)", s.opts.Interval) }

// View is the scene's view on its store, for the dashboard.
func (s *Scene) View() *View { return s.view }

// Status returns a copy of the scene's state.
func (s *Scene) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Scene) setStatus(f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.status)
}

// state is what Run tracks between frames.
type state struct {
	screen
	viewStep  int // frame at which the view was chosen
	frame     int
	ackLevel  Level
	alarm     bool
	light     scene.LightMode
	compacted time.Time
	sparks    map[viewKind][]Point
}

// Run implements scene.Scene: it samples every Interval, redraws every
// frameStep and handles A (short: next view, long: acknowledge a warning).
func (s *Scene) Run(ctx context.Context, events <-chan scene.Event) error {
	if s.store == nil {
		return errNoStore
	}
	st := &state{sparks: map[viewKind][]Point{}, light: scene.LightOff}
	st.dim = 255
	r := newRenderer()
	frame := image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
	var shown []byte
	s.setLight(scene.LightReady, scene.LightOn)
	defer s.setLight(scene.LightWarn, scene.LightOff)

	sampleC := s.clock.After(0)
	tick := s.clock.After(frameStep)
	for {
		if s.display != nil {
			s.compose(st)
			r.render(frame, &st.screen)
			if !bytes.Equal(frame.Pix, shown) { // the bus is the cost: send changes only
				if err := s.display.Show(frame); err != nil {
					return fmt.Errorf("barometer: display: %w", err)
				}
				shown = append(shown[:0], frame.Pix...)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			st.frame++
			tick = s.clock.After(frameStep)
		case <-sampleC:
			if !s.opts.Recorded {
				if err := s.record(ctx, &st.compacted); err != nil {
					return err
				}
			}
			if err := s.refresh(ctx, st); err != nil {
				return err
			}
			// Re-armed after the sample, so a slow bus or disk never
			// queues samples behind each other.
			sampleC = s.clock.After(s.opts.Interval)
		case ev := <-events:
			s.handle(st, ev)
		}
	}
}

// compose fills the screen fields that depend on the frame counter.
func (s *Scene) compose(st *state) {
	st.step = st.frame - st.viewStep
	_, isSpark := sparkSpans[st.view]
	st.label = isSpark && st.step < labelFrames
	st.spark = st.sparks[st.view]
	st.inverted = st.alarm && !st.failing && (st.frame/flashFrames)%2 == 1
	st.dim = 255
	if s.opts.Dim != nil {
		st.dim = s.opts.Dim(s.clock.Now())
	}
}

func (s *Scene) handle(st *state, ev scene.Event) {
	if ev.Kind != scene.KindPress || ev.Button != scene.ButtonA {
		return
	}
	switch ev.Press {
	case scene.Short:
		st.view = (st.view + 1) % numViews
		st.viewStep = st.frame
	case scene.Long:
		if st.alarm {
			st.ackLevel = st.report.Level
			s.updateAlarm(st)
		}
	}
	s.setStatus(func(x *Status) { x.View = st.view.String() })
}

// Record samples every Interval until ctx ends, whichever scene is on; use
// it with Opts.Recorded. A store failure ends it with the error.
func (s *Scene) Record(ctx context.Context) error {
	var compacted time.Time
	for {
		if err := s.record(ctx, &compacted); err != nil {
			return err
		}
		if s.opts.Reporter != nil {
			if rep, err := s.view.Report(ctx); err == nil {
				s.noteLevel(rep)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.clock.After(s.opts.Interval):
		}
	}
}

// record reads the sensor and stores the sample (a failed read as a gap),
// compacting old samples now and then.
func (s *Scene) record(ctx context.Context, compacted *time.Time) error {
	at := s.opts.Stamp()
	smp := Sample{At: at}
	var env physic.Env
	switch {
	case s.env == nil:
		smp.Err = s.sensor + ": not connected"
	default:
		if err := s.env.Sense(&env); err != nil {
			smp.Err = fmt.Sprintf("%s: %v", s.sensor, err)
		} else {
			smp.Pressure, smp.Temperature = env.Pressure, env.Temperature
		}
	}
	if err := s.store.AddSample(ctx, smp); err != nil {
		return fmt.Errorf("barometer: store sample: %w", err)
	}
	if at.Sub(*compacted) >= compactGap {
		*compacted = at
		if err := s.store.Compact(ctx, at.Add(-s.opts.Keep)); err != nil {
			s.setStatus(func(x *Status) { x.Err = fmt.Sprintf("barometer: compact: %v", err) })
		}
	}
	return nil
}

// refresh reloads the report and sparklines from the store.
func (s *Scene) refresh(ctx context.Context, st *state) error {
	rep, err := s.view.Report(ctx)
	if err != nil {
		return err
	}
	st.report, st.valid, st.failing = rep, rep.Valid, rep.Failing
	for v, span := range sparkSpans {
		pts, err := s.view.History(ctx, span, scene.DisplayWidth)
		if err != nil {
			return err
		}
		st.sparks[v] = pts
	}
	s.updateAlarm(st)
	s.setStatus(func(x *Status) { x.Report = rep; x.View = st.view.String() })
	return nil
}

// updateAlarm applies the acknowledge rule: an acknowledged level stays quiet
// until the level rises above it; once it eases, the acknowledgement eases
// with it so a new rise alarms again.
func (s *Scene) updateAlarm(st *state) {
	lvl := st.report.Level
	s.noteLevel(st.report)
	st.ackLevel = min(st.ackLevel, lvl)
	st.alarm = lvl > LevelNone && lvl > st.ackLevel
	mode := scene.LightOff
	switch {
	case st.alarm:
		mode = scene.LightBlinkFast
	case lvl > LevelNone:
		mode = scene.LightOn
	}
	if mode != st.light {
		st.light = mode
		s.setLight(scene.LightWarn, mode)
	}
	s.setStatus(func(x *Status) { x.Alarm, x.Acknowledged = st.alarm, st.ackLevel })
}

// noteLevel reports a warning level that rose above the last one reported,
// and the all-clear once it is gone; Run and Record both call it, so the log
// has the warnings whichever scene is on.
func (s *Scene) noteLevel(r Report) {
	if !r.Valid || s.opts.Reporter == nil {
		return
	}
	s.mu.Lock()
	prev := s.warned
	s.warned = r.Level
	s.mu.Unlock()
	hpa := float64(r.Change3h) / float64(HPa)
	switch {
	case r.Level > prev:
		lvl := scene.LevelWarn
		if r.Level == LevelGale {
			lvl = scene.LevelError
		}
		s.opts.Reporter.Report(lvl, fmt.Sprintf("%s: pressure %+.1f hPa in 3 h", levelWords(r.Level), hpa))
	case r.Level == LevelNone && prev > LevelNone:
		s.opts.Reporter.Report(scene.LevelInfo, fmt.Sprintf("all clear: pressure %+.1f hPa in 3 h", hpa))
	}
}

func levelWords(l Level) string {
	switch l {
	case LevelGale:
		return "gale warning"
	case LevelWarning:
		return "storm warning"
	}
	return "storm watch"
}

// Help implements scene.Helper.
func (s *Scene) Help() scene.Help {
	return scene.Help{
		A:     "next view (pressure, trend, sparklines)",
		ALong: "acknowledge a flashing warning",
		Lights: map[string]string{
			scene.LightReady: "on: sampling",
			scene.LightWarn:  "on: storm watch or warning; fast blink: a new one, hold A to acknowledge",
		},
	}
}

// setLight sets a status light; a missing light is not the scene's failure
// but is recorded for the dashboard.
func (s *Scene) setLight(name string, m scene.LightMode) {
	if s.lights == nil {
		return
	}
	if err := s.lights.SetLight(name, m); err != nil {
		s.setStatus(func(x *Status) { x.Err = fmt.Sprintf("barometer: light %s: %v", name, err) })
	}
}
