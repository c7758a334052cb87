package picam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Source produces JPEG frames. Stream runs until ctx is done (it returns
// ctx.Err()) or the source fails (it returns an error naming the source).
// emit may keep the slice it is given: a source never touches it again.
type Source interface {
	Stream(ctx context.Context, emit func(jpeg []byte)) error
	String() string
}

// Clock is the time the owner runs on; fakeclock.Clock satisfies it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Frame is one JPEG from the camera; identical in shape to scene.Frame.
type Frame struct {
	Seq  uint64 // increases by one per frame; 0 is never used
	At   time.Time
	JPEG []byte // shared by all readers: never modify
}

// Stats is a snapshot of the owner's state for dashboards.
type Stats struct {
	Frames        uint64  // frames accepted since NewOwner
	Corrupt       uint64  // frames dropped for lack of a valid SOF
	FPS           float64 // over the last few seconds
	Restarts      int     // source failures that led to a restart
	LastError     string  // the last failure, "" if none
	Running       bool    // the source is streaming now
	Active        bool    // someone wants the camera (see SetActive)
	Width, Height int     // from the SOF of the latest frame
}

// OwnerOpts configures an Owner. Zero fields take the defaults.
type OwnerOpts struct {
	Clock      Clock
	BackoffMin time.Duration // first restart delay
	BackoffMax time.Duration // the delay doubles up to this
	// Healthy is how long a source must stream before a failure counts as
	// new again, resetting the backoff to BackoffMin.
	Healthy time.Duration
	Log     *slog.Logger // nil: slog.Default()
	// Inactive starts the owner paused: the source only runs after
	// SetActive(true).
	Inactive bool
}

// DefaultOwnerOpts() are the defaults; NewOwner(src, nil) uses them.
func DefaultOwnerOpts() OwnerOpts {
	return OwnerOpts{
		BackoffMin: 500 * time.Millisecond,
		BackoffMax: 30 * time.Second,
		Healthy:    10 * time.Second,
	}
}

// ErrHalted is returned by Next and Run once the owner has been halted.
var ErrHalted = errors.New("picam: camera owner halted")

// fpsWindow is how many recent frame times FPS is computed from.
const fpsWindow = 16

// Owner is the one component that owns the camera: it keeps a Source running,
// restarting it with backoff, and keeps the latest frame in a single slot that
// any number of readers wait on. Slow readers skip frames; nothing queues.
type Owner struct {
	src  Source
	opts OwnerOpts
	log  *slog.Logger

	halt     chan struct{}
	haltOnce sync.Once

	mu        sync.Mutex
	cur       Frame
	curBuf    *frameBuf       // cur's memory if the owner copied it (BorrowingSource), else nil
	live      []*frameBuf     // copied frames still referenced: the newest and those held
	spareBufs []*frameBuf     // copied frames' memory to reuse
	waiters   []chan struct{} // of the readers blocked in Next: the next frame wakes them
	spareWake []chan struct{} // wake channels to reuse, so a steady stream allocates none
	stats     Stats
	times     [fpsWindow]time.Time
	nTimes    int
	active    bool
	wake      chan struct{} // closed and replaced when active changes
	cancel    context.CancelFunc
	runDone   chan struct{} // non-nil while Run runs
}

// NewOwner returns an owner for src. Call Run to start it.
func NewOwner(src Source, opts *OwnerOpts) *Owner {
	o := DefaultOwnerOpts()
	if opts != nil {
		o = *opts
		if o.BackoffMin <= 0 {
			o.BackoffMin = DefaultOwnerOpts().BackoffMin
		}
		if o.BackoffMax <= 0 {
			o.BackoffMax = DefaultOwnerOpts().BackoffMax
		}
		if o.BackoffMax < o.BackoffMin {
			o.BackoffMax = o.BackoffMin
		}
		if o.Healthy <= 0 {
			o.Healthy = DefaultOwnerOpts().Healthy
		}
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	return &Owner{
		src:    src,
		opts:   o,
		log:    log,
		halt:   make(chan struct{}),
		wake:   make(chan struct{}),
		active: !o.Inactive,
	}
}

func (o *Owner) String() string { return "picam owner of " + o.src.String() }

// Run keeps the source streaming until ctx is done (returns ctx.Err()) or the
// owner is halted (returns nil). Failures are logged, one line each, and the
// source is restarted after an exponential backoff. Run must not be called
// twice at the same time.
func (o *Owner) Run(ctx context.Context) error {
	done := make(chan struct{})
	o.mu.Lock()
	if o.runDone != nil {
		o.mu.Unlock()
		return errors.New("picam: owner already running")
	}
	o.runDone = done
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.runDone = nil
		o.mu.Unlock()
		close(done)
	}()

	backoff := o.opts.BackoffMin
	for {
		// Wait until someone wants the camera.
		for {
			o.mu.Lock()
			active, wake := o.active, o.wake
			o.mu.Unlock()
			if active {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-o.halt:
				return nil
			case <-wake:
			}
		}

		runCtx, cancel := context.WithCancel(ctx)
		o.mu.Lock()
		if o.isHalted() {
			o.mu.Unlock()
			cancel()
			return nil
		}
		if !o.active {
			o.mu.Unlock()
			cancel()
			continue
		}
		o.cancel = cancel
		o.stats.Running = true
		o.mu.Unlock()

		start := o.opts.Clock.Now()
		var err error
		if bs, ok := o.src.(BorrowingSource); ok {
			err = bs.StreamBorrowed(runCtx, o.emitBorrowed)
		} else {
			err = o.src.Stream(runCtx, o.emit)
		}
		cancel()

		o.mu.Lock()
		o.cancel = nil
		o.stats.Running = false
		active := o.active
		o.mu.Unlock()

		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case o.isHalted():
			return nil
		case !active && runCtx.Err() != nil:
			continue // paused by SetActive(false): not a failure
		}
		if err == nil {
			err = fmt.Errorf("picam: %s stopped without an error", o.src)
		}
		if o.opts.Clock.Now().Sub(start) >= o.opts.Healthy {
			backoff = o.opts.BackoffMin
		}
		o.mu.Lock()
		o.stats.Restarts++
		o.stats.LastError = err.Error()
		o.mu.Unlock()
		o.log.Warn("picam: camera source failed, restarting", "source", o.src.String(), "err", err, "retry_in", backoff)

		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-o.halt:
			return nil
		case <-o.opts.Clock.After(backoff):
		}
		backoff = min(2*backoff, o.opts.BackoffMax)
	}
}

func (o *Owner) isHalted() bool {
	select {
	case <-o.halt:
		return true
	default:
		return false
	}
}

// emit takes a frame from the source, which gave it away. Frames without a
// valid SOF are dropped.
func (o *Owner) emit(jpeg []byte) {
	w, h, err := ParseSize(jpeg)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.stats.Corrupt++
		return
	}
	o.publishLocked(jpeg, nil, w, h)
}

// publishLocked makes jpeg (in b, if the owner copied it) the newest frame
// and wakes the readers waiting for one.
func (o *Owner) publishLocked(jpeg []byte, b *frameBuf, w, h int) {
	now := o.opts.Clock.Now()
	o.stats.Frames++
	o.stats.Width, o.stats.Height = w, h
	o.cur = Frame{Seq: o.cur.Seq + 1, At: now, JPEG: jpeg}
	old := o.curBuf
	o.curBuf = b
	if b != nil {
		b.seq = o.cur.Seq
	}
	if old != nil {
		o.freeIfUnusedLocked(old)
	}
	o.times[o.nTimes%fpsWindow] = now
	o.nTimes++
	// Each waiter has a channel of its own with room for one wake-up, so
	// the sends never block; emit holds the lock for a few sends, not for
	// anything a reader does.
	for _, w := range o.waiters {
		w <- struct{}{}
	}
	clear(o.waiters)
	o.waiters = o.waiters[:0]
}

// Next blocks until a frame with Seq > after exists and returns the newest one.
// It returns ctx.Err() when ctx ends and ErrHalted after Halt. Waiting
// allocates nothing once the owner has served as many readers at once. The
// frame's bytes are the caller's to keep (see Hold for a reader that gives
// them back).
func (o *Owner) Next(ctx context.Context, after uint64) (Frame, error) {
	return o.next(ctx, after, false)
}

func (o *Owner) next(ctx context.Context, after uint64, hold bool) (Frame, error) {
	for {
		o.mu.Lock()
		if o.cur.Seq > after {
			f := o.cur
			o.markLocked(hold)
			o.mu.Unlock()
			return f, nil
		}
		var w chan struct{}
		if n := len(o.spareWake); n > 0 {
			w, o.spareWake = o.spareWake[n-1], o.spareWake[:n-1]
		} else {
			w = make(chan struct{}, 1)
		}
		o.waiters = append(o.waiters, w)
		seq := o.cur.Seq
		o.mu.Unlock()

		var err error
		select {
		case <-w:
		case <-ctx.Done():
			err = ctx.Err()
		case <-o.halt:
			err = ErrHalted
		}

		o.mu.Lock()
		if o.cur.Seq == seq {
			// No frame came: w is still on the list (emit empties it).
			if i := slices.Index(o.waiters, w); i >= 0 {
				o.waiters = slices.Delete(o.waiters, i, i+1)
			}
		}
		select {
		case <-w: // a wake-up that raced with ctx or Halt
		default:
		}
		o.spareWake = append(o.spareWake, w)
		o.mu.Unlock()
		if err != nil {
			return Frame{}, err
		}
	}
}

// Latest returns the newest frame without waiting; Seq 0 means none yet.
// Like Next's, its bytes are the caller's to keep.
func (o *Owner) Latest() Frame {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.markLocked(false)
	return o.cur
}

// SetActive starts (true) or stops (false) the source: the camera process only
// runs while some scene wants it. Readers keep the last frame meanwhile.
func (o *Owner) SetActive(active bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.active == active {
		return
	}
	o.active = active
	close(o.wake)
	o.wake = make(chan struct{})
	if !active && o.cancel != nil {
		o.cancel()
	}
}

// Stats returns a snapshot of the counters.
func (o *Owner) Stats() Stats {
	now := o.opts.Clock.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.stats
	s.Active = o.active
	s.FPS = o.fps(now)
	return s
}

// fps averages over the recent frame times; a camera silent for 2 s is at 0.
func (o *Owner) fps(now time.Time) float64 {
	n := min(o.nTimes, fpsWindow)
	if n < 2 {
		return 0
	}
	last := o.times[(o.nTimes-1)%fpsWindow]
	first := o.times[(o.nTimes-n)%fpsWindow]
	if now.Sub(last) > 2*time.Second {
		return 0
	}
	span := last.Sub(first)
	if span <= 0 {
		return 0
	}
	return float64(n-1) / span.Seconds()
}

// Halt stops the source, makes Run return and wakes every waiting reader with
// ErrHalted. It waits for Run to finish and may be called more than once.
func (o *Owner) Halt() error {
	o.haltOnce.Do(func() { close(o.halt) })
	o.mu.Lock()
	if o.cancel != nil {
		o.cancel()
	}
	done := o.runDone
	o.mu.Unlock()
	if done != nil {
		<-done
	}
	return nil
}
