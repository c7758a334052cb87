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
}

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

// run is the state of one Run.
type run struct {
	*Scene
	det       *Detector
	ring      []scene.Frame // the last PreFrames frames, oldest first
	latest    scene.Frame
	analyzed  time.Time // At of the last analysed frame
	snapshot  bool      // a snapshot waits for the next frame
	recording bool
	event     time.Time
	index     int
	lastMove  time.Time
	stopped   time.Time // captures stopped (disk full) at; zero: running
	corrupt   int
}

// Run implements scene.Scene.
func (s *Scene) Run(ctx context.Context, events <-chan scene.Event) error {
	r := &run{Scene: s, det: NewDetector(s.opts.Motion)}
	defer r.stopRecording(context.WithoutCancel(ctx), "")
	if s.camera == nil {
		r.logEvent(ctx, "warn", "no camera: nothing to watch")
	}
	if s.captures == nil {
		s.log.Warn("spycam: no capture store: motion captures and snapshots are off")
	}

	frames := make(chan scene.Frame)
	camErr := make(chan error, 1)
	if s.camera != nil {
		go func() {
			var last uint64
			for {
				f, err := s.camera.Next(ctx, last)
				if err != nil {
					if ctx.Err() == nil {
						camErr <- fmt.Errorf("spycam: camera: %w", err)
					}
					return
				}
				last = f.Seq
				// Unbuffered: while the scene is busy, Next skips to the
				// newest frame instead of queueing.
				select {
				case frames <- f:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-camErr:
			return err
		case f := <-frames:
			r.frame(ctx, f)
		case ev := <-events:
			if ev.Kind == scene.KindPress && ev.Button == scene.ButtonA && ev.Press == scene.Short ||
				ev.Kind == scene.KindCommand && ev.Command == "snapshot" {
				r.takeSnapshot(ctx)
			}
		}
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

func (r *run) frame(ctx context.Context, f scene.Frame) {
	r.latest = f
	if len(r.ring) == r.opts.PreFrames {
		copy(r.ring, r.ring[1:])
		r.ring = r.ring[:len(r.ring)-1]
	}
	r.ring = append(r.ring, f)
	if r.snapshot {
		r.snapshot = false
		r.takeSnapshot(ctx)
	}
	if r.recording {
		r.index++
		if r.save(ctx, CaptureFrame{Event: r.event, Kind: KindMotion, Index: r.index, At: f.At, JPEG: f.JPEG}) != nil {
			r.stopRecording(ctx, "")
		} else if r.index+1 >= r.opts.MaxFrames {
			r.stopRecording(ctx, "reached the frame limit")
		}
	}
	if r.opts.NoMotion || !r.analyzed.IsZero() && f.At.Sub(r.analyzed) < r.opts.AnalyzeEvery {
		return
	}
	r.analyzed = f.At
	changed, motion, err := r.det.FeedJPEG(f.JPEG)
	if err != nil {
		// A corrupt frame is dropped; say so once per run, not 15 times a second.
		if r.corrupt++; r.corrupt == 1 {
			r.logEvent(ctx, "warn", fmt.Sprintf("motion: frame %d dropped: %v", f.Seq, err))
		}
		return
	}
	if motion {
		r.lastMove = f.At
		if !r.recording {
			r.startRecording(ctx, f, changed)
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
	// The ring ends with f itself: pre-motion frames, then the motion frame.
	for _, p := range r.ring {
		r.index++
		if r.save(ctx, CaptureFrame{Event: r.event, Kind: KindMotion, Index: r.index, At: p.At, JPEG: p.JPEG}) != nil {
			r.stopRecording(ctx, "")
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
