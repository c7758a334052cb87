// Package spycam is the spy-cam scene: the camera streams to browsers (the
// web server serves it), and the scene watches the same frames for motion.
// On motion it saves JPEG captures, including a few frames from before the
// motion, and logs an event; button A short saves a snapshot. The status LED
// stays dark unless a recording indicator is asked for: it is a spy-cam.
package spycam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"tinkerbox/scenes/scene"
)

// Name of the scene in the config and the UI.
const Name = "spycam"

// Capture kinds.
const (
	KindMotion   = "motion"
	KindSnapshot = "snapshot"
)

// ErrDiskFull is what a CaptureStore returns (wrapped) when a capture does
// not fit on the disk even after removing the oldest captures.
var ErrDiskFull = errors.New("spycam: disk full")

// CaptureFrame is one JPEG of a capture. The frames of one capture share
// Event and Kind and are numbered from 0.
type CaptureFrame struct {
	Event time.Time // when the capture started: groups its frames
	Kind  string    // KindMotion or KindSnapshot
	Index int
	At    time.Time // when the camera took the frame
	JPEG  []byte    // shared with the camera: never modify
}

// FrameHolder is a camera whose frames can be given back: Hold is Next, and
// the JPEG stays the caller's until Release, after which the camera may
// reuse its memory. The scene holds the frames of its pre-motion ring and
// the one being analysed, and gives each back when done with it, if its
// camera can take them back.
type FrameHolder interface {
	Hold(ctx context.Context, after uint64) (scene.Frame, error)
	Release(f scene.Frame)
}

// CaptureStore keeps captures under a disk quota (removing the oldest first)
// and the event log.
type CaptureStore interface {
	SaveCapture(ctx context.Context, f CaptureFrame) error
	LogEvent(ctx context.Context, level, source, message string) error
}

// Opts configures the scene. Zero fields take the values of DefaultOpts.
type Opts struct {
	Motion MotionOpts
	// NoMotion turns motion detection off: the scene only takes snapshots.
	NoMotion bool
	// AnalyzeEvery spaces the frames that are decoded for motion: decoding
	// every frame would cost a Pi Zero most of a core.
	AnalyzeEvery time.Duration
	// PreFrames is how many frames from before the motion a capture starts with.
	PreFrames int
	// MaxFrames caps one motion capture.
	MaxFrames int
	// Gap ends a capture after this long without motion.
	Gap time.Duration
	// Retry is how long captures stay stopped after the disk was full.
	Retry time.Duration
	// Indicator lights the busy LED while recording. Off by default.
	Indicator bool
	// Log gets what cannot go to the event log; nil discards.
	Log *slog.Logger
}

// DefaultOpts: 5 analysed frames a second, 5 pre-motion frames, captures of
// at most 150 frames (10 s at 15 fps) ending 2 s after the motion.
func DefaultOpts() Opts {
	return Opts{
		Motion:       DefaultMotionOpts(),
		AnalyzeEvery: 200 * time.Millisecond,
		PreFrames:    5,
		MaxFrames:    150,
		Gap:          2 * time.Second,
		Retry:        5 * time.Minute,
	}
}

// Scene watches the camera for motion and saves captures.
type Scene struct {
	camera   scene.Camera
	lights   scene.Lights
	captures CaptureStore
	clock    scene.Clock
	opts     Opts
	log      *slog.Logger

	// Set by tests: dealt gets each frame's Seq once the scene is done with
	// it (stored, and analysed if it was to be); feed stands in for the
	// detector's FeedJPEG.
	dealt chan<- uint64
	feed  func(d *Detector, jpeg []byte) (changed float64, motion bool, err error)
}

// ringSlack is how many frames beyond PreFrames the ring keeps: those that
// arrive while a frame is analysed, so that a capture still starts with the
// frames before the motion.
const ringSlack = 8

// analyzeRest makes motion analysis take at most a quarter of the time:
// after an analysis that took d (of the clock: longer when the CPU is
// starved), none starts for 3d, so that a starved CPU goes to the camera
// and the viewers first.
const analyzeRest = 3

// Help implements scene.Helper.
func (s *Scene) Help() scene.Help {
	h := scene.Help{A: "take a snapshot"}
	if s.opts.Indicator {
		h.Lights = map[string]string{scene.LightBusy: "on: recording motion"}
	}
	if s.opts.NoMotion {
		h.A = "take a snapshot (motion detection is off)"
	}
	return h
}

// New returns the scene. lights may be nil; a nil camera or store leaves the
// scene idle with an event saying why (the stream needs neither).
func New(camera scene.Camera, lights scene.Lights, captures CaptureStore, clock scene.Clock, opts Opts) *Scene {
	d := DefaultOpts()
	if opts.Motion.Threshold == 0 {
		opts.Motion.Threshold = d.Motion.Threshold
	}
	if opts.Motion.MinArea <= 0 {
		opts.Motion.MinArea = d.Motion.MinArea
	}
	if opts.AnalyzeEvery <= 0 {
		opts.AnalyzeEvery = d.AnalyzeEvery
	}
	if opts.PreFrames <= 0 {
		opts.PreFrames = d.PreFrames
	}
	if opts.MaxFrames <= 0 {
		opts.MaxFrames = d.MaxFrames
	}
	opts.MaxFrames = max(opts.MaxFrames, opts.PreFrames+1)
	if opts.Gap <= 0 {
		opts.Gap = d.Gap
	}
	if opts.Retry <= 0 {
		opts.Retry = d.Retry
	}
	if clock == nil {
		clock = scene.SystemClock{}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scene{camera: camera, lights: lights, captures: captures, clock: clock, opts: opts, log: log}
}

// Name implements scene.Scene.
func (s *Scene) Name() string { return Name }

func (s *Scene) String() string { return "spycam scene" }

// run is the state of one Run. Only Run's own goroutine touches it, but
// for det, which is the analyser's.
type run struct {
	*Scene
	holder      FrameHolder // the camera, if it takes frames back
	det         *Detector
	ring        []scene.Frame // the last frames, oldest first; the newest is latest
	latest      scene.Frame
	analyzed    time.Time // At of the last frame given to the analyser
	analyzeFrom time.Time // no analysis of frames before this (analyzeRest)
	analyzing   uint64    // Seq of the frame with the analyser; 0: it is free
	snapshot    bool      // a snapshot waits for the next frame
	recording   bool
	event       time.Time
	index       int
	lastMove    time.Time
	stopped     time.Time // captures stopped (disk full) at; zero: running
	corrupt     int
}

// analysis is the analyser's verdict on one frame.
type analysis struct {
	f       scene.Frame
	changed float64
	motion  bool
	err     error
	took    time.Duration
	done    time.Time
}

// Run implements scene.Scene. Frames are stored by Run's own goroutine;
// motion is analysed by another, on the newest frame whenever it is free,
// so that a slow decode (most of a Pi Zero's core at 5 frames a second)
// delays neither the captures nor anybody else: frames that arrive meanwhile
// are stored, not analysed.
func (s *Scene) Run(ctx context.Context, events <-chan scene.Event) error {
	r := &run{Scene: s, det: NewDetector(s.opts.Motion)}
	r.holder, _ = s.camera.(FrameHolder)
	defer r.stopRecording(context.WithoutCancel(ctx), "")
	if s.camera == nil {
		r.logEvent(ctx, "warn", "no camera: nothing to watch")
	}
	if s.captures == nil {
		s.log.Warn("spycam: no capture store: motion captures and snapshots are off")
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait() // nobody reads a frame any more: they can all go back
		for _, f := range r.ring {
			r.release(f)
		}
		if r.analyzing != 0 && !r.inRing(r.analyzing) {
			r.release(scene.Frame{Seq: r.analyzing})
		}
	}()
	frames := make(chan scene.Frame)
	camErr := make(chan error, 1)
	if s.camera != nil {
		wg.Go(func() {
			var last uint64
			for {
				f, err := r.hold(ctx, last)
				if err != nil {
					if ctx.Err() == nil {
						camErr <- fmt.Errorf("spycam: camera: %w", err)
					}
					return
				}
				last = f.Seq
				// Unbuffered: while the scene is busy, the camera skips to
				// the newest frame instead of queueing.
				select {
				case frames <- f:
				case <-ctx.Done():
					r.release(f)
					return
				}
			}
		})
	}
	var toAnalyze chan scene.Frame
	results := make(chan analysis)
	if !s.opts.NoMotion && s.camera != nil {
		toAnalyze = make(chan scene.Frame)
		wg.Go(func() { r.analyzer(ctx, toAnalyze, results) })
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-camErr:
			return err
		case f := <-frames:
			r.frame(ctx, f, toAnalyze)
		case a := <-results:
			r.verdict(ctx, a)
		case ev := <-events:
			if ev.Kind == scene.KindPress && ev.Button == scene.ButtonA && ev.Press == scene.Short ||
				ev.Kind == scene.KindCommand && ev.Command == "snapshot" {
				r.takeSnapshot(ctx)
			}
		}
	}
}

// analyzer feeds the frames it is given to the detector, one at a time.
func (r *run) analyzer(ctx context.Context, in <-chan scene.Frame, out chan<- analysis) {
	for {
		var f scene.Frame
		select {
		case <-ctx.Done():
			return
		case f = <-in:
		}
		start := r.clock.Now()
		var changed float64
		var motion bool
		var err error
		if r.feed != nil {
			changed, motion, err = r.feed(r.det, f.JPEG)
		} else {
			changed, motion, err = r.det.FeedJPEG(f.JPEG)
		}
		done := r.clock.Now()
		select {
		case out <- analysis{f: f, changed: changed, motion: motion, err: err, took: done.Sub(start), done: done}:
		case <-ctx.Done():
			return
		}
	}
}

func (r *run) hold(ctx context.Context, after uint64) (scene.Frame, error) {
	if r.holder != nil {
		return r.holder.Hold(ctx, after)
	}
	return r.camera.Next(ctx, after)
}

func (r *run) release(f scene.Frame) {
	if r.holder != nil {
		r.holder.Release(f)
	}
}

func (r *run) inRing(seq uint64) bool {
	return slices.ContainsFunc(r.ring, func(f scene.Frame) bool { return f.Seq == seq })
}

// done tells a test that frame seq has been dealt with.
func (r *run) done(seq uint64) {
	if r.dealt != nil {
		r.dealt <- seq
	}
}

func (r *run) logEvent(ctx context.Context, level, msg string) {
	if r.captures == nil {
		r.log.Info("spycam: "+msg, "level", level)
		return
	}
	if err := r.captures.LogEvent(ctx, level, Name, msg); err != nil {
		r.log.Error("spycam: event log", "msg", msg, "err", err)
	}
}

func (r *run) takeSnapshot(ctx context.Context) {
	if r.captures == nil {
		r.logEvent(ctx, "warn", "snapshot: no capture store")
		return
	}
	if r.latest.Seq == 0 {
		r.snapshot = true // the first frame will be the snapshot
		return
	}
	f := r.latest
	err := r.save(ctx, CaptureFrame{Event: f.At, Kind: KindSnapshot, At: f.At, JPEG: f.JPEG})
	if err == nil {
		r.logEvent(ctx, "info", "snapshot saved")
	}
}

// save stores one capture frame; a full disk stops captures with an event,
// other failures are logged. Streaming is never affected.
func (r *run) save(ctx context.Context, f CaptureFrame) error {
	if r.captures == nil {
		return errors.New("spycam: no capture store")
	}
	err := r.captures.SaveCapture(ctx, f)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDiskFull):
		r.stopped = f.At
		r.stopRecording(ctx, "")
		r.logEvent(ctx, "error", fmt.Sprintf("disk full: captures stopped for %s, streaming goes on (%v)", r.opts.Retry, err))
	default:
		r.logEvent(ctx, "error", fmt.Sprintf("save %s capture: %v", f.Kind, err))
	}
	return err
}

// frame stores f: in the ring, as a snapshot, in the capture being
// recorded; and gives it to the analyser if one is due and it is free.
func (r *run) frame(ctx context.Context, f scene.Frame, toAnalyze chan<- scene.Frame) {
	r.latest = f
	if len(r.ring) == r.opts.PreFrames+ringSlack {
		old := r.ring[0]
		r.ring = slices.Delete(r.ring, 0, 1)
		if old.Seq != r.analyzing { // else it goes back with its analysis
			r.release(old)
		}
	}
	r.ring = append(r.ring, f)
	if r.snapshot {
		r.snapshot = false
		r.takeSnapshot(ctx)
	}
	if r.recording {
		r.saveNext(ctx, f)
	}
	if toAnalyze == nil || r.analyzing != 0 || f.At.Before(r.analyzeFrom) ||
		!r.analyzed.IsZero() && f.At.Sub(r.analyzed) < r.opts.AnalyzeEvery {
		r.done(f.Seq)
		return
	}
	r.analyzed, r.analyzing = f.At, f.Seq
	// The analyser is free (or about to be: it has just sent its last
	// verdict), so this does not wait.
	select {
	case toAnalyze <- f:
	case <-ctx.Done():
	}
}

// saveNext adds f to the capture being recorded.
func (r *run) saveNext(ctx context.Context, f scene.Frame) {
	r.index++
	if r.save(ctx, CaptureFrame{Event: r.event, Kind: KindMotion, Index: r.index, At: f.At, JPEG: f.JPEG}) != nil {
		r.stopRecording(ctx, "")
	} else if r.index+1 >= r.opts.MaxFrames {
		r.stopRecording(ctx, "reached the frame limit")
	}
}

// verdict acts on the analyser's verdict on one frame.
func (r *run) verdict(ctx context.Context, a analysis) {
	f := a.f
	r.analyzing = 0
	r.analyzeFrom = a.done.Add(analyzeRest * a.took)
	if !r.inRing(f.Seq) {
		r.release(f) // left the ring while it was analysed
	}
	defer r.done(f.Seq)
	if a.err != nil {
		// A corrupt frame is dropped; say so once per run, not 15 times a second.
		if r.corrupt++; r.corrupt == 1 {
			r.logEvent(ctx, "warn", fmt.Sprintf("motion: frame %d dropped: %v", f.Seq, a.err))
		}
		return
	}
	if a.motion {
		r.lastMove = f.At
		if !r.recording {
			r.startRecording(ctx, f, a.changed)
		}
	} else if r.recording && f.At.Sub(r.lastMove) >= r.opts.Gap {
		r.stopRecording(ctx, "")
	}
}

func (r *run) startRecording(ctx context.Context, f scene.Frame, changed float64) {
	if r.captures == nil {
		return
	}
	if !r.stopped.IsZero() {
		if f.At.Sub(r.stopped) < r.opts.Retry {
			return
		}
		r.stopped = time.Time{}
	}
	// warn, not info: motion is what a spy-cam's maker wants to be told of
	// (the browser notifies on warn and error).
	r.logEvent(ctx, "warn", fmt.Sprintf("motion: %.1f %% of the picture changed; recording", changed*100))
	r.recording, r.event, r.index = true, f.At, -1
	// PreFrames frames up to the motion frame f, then those that came while
	// f was analysed.
	from := 0
	if i := slices.IndexFunc(r.ring, func(p scene.Frame) bool { return p.Seq >= f.Seq }); i < 0 {
		from = len(r.ring)
	} else if r.ring[i].Seq == f.Seq {
		from = max(0, i-r.opts.PreFrames+1)
	} else {
		from = i // f itself has left the ring: what came after it
	}
	for _, p := range r.ring[from:] {
		r.index++
		if r.save(ctx, CaptureFrame{Event: r.event, Kind: KindMotion, Index: r.index, At: p.At, JPEG: p.JPEG}) != nil {
			r.stopRecording(ctx, "")
			return
		}
		if r.index+1 >= r.opts.MaxFrames {
			r.stopRecording(ctx, "reached the frame limit")
			return
		}
	}
	if r.opts.Indicator && r.lights != nil {
		if err := r.lights.SetLight(scene.LightBusy, scene.LightOn); err != nil {
			r.log.Warn("spycam: recording indicator", "err", err)
		}
	}
}

// stopRecording ends a capture; why, if not "", is added to the event.
func (r *run) stopRecording(ctx context.Context, why string) {
	if !r.recording {
		return
	}
	r.recording = false
	msg := fmt.Sprintf("motion capture ended: %d frames", r.index+1)
	if why != "" {
		msg += " (" + why + ")"
	}
	r.logEvent(ctx, "info", msg)
	if r.opts.Indicator && r.lights != nil {
		if err := r.lights.SetLight(scene.LightBusy, scene.LightOff); err != nil {
			r.log.Warn("spycam: recording indicator", "err", err)
		}
	}
}
