package comic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tinkerbox/images/font"
	"tinkerbox/images/imgdecode"
	"tinkerbox/scenes/scene"
)

// Name of the scene in the config and the UI.
const Name = "comic"

// Commands the scene accepts (scene.KindCommand).
const (
	CommandPrint   = "print"   // compose and print a new strip (like A short)
	CommandReprint = "reprint" // Arg: the strip number; "" = the last one
	CommandWake    = "wake"    // the print queue changed in the store
	// CommandCapture photographs the sheet under the camera and adds its
	// drawings to the maker's pack (like A long).
	CommandCapture = "capture"
	// CommandReload loads the pack again (the maker's pack was edited).
	CommandReload = "reload"
)

// Drawings adds the maker's drawings from the camera: the scene's drawing
// mode. The appliance implements it (camera, sheet clean-up, the maker's
// pack) for the scene and the web page alike.
type Drawings interface {
	// Capture photographs the sheet under the camera and adds each drawing
	// found on it to the maker's pack; it returns how many it added.
	Capture(ctx context.Context) (int, error)
}

// PackSource gives the scene its pack again when the maker changes it.
type PackSource interface {
	// Version changes whenever the pack does.
	Version() uint64
	// Load loads the pack as it is now.
	Load() (*Pack, error)
}

// Record is an archived strip.
type Record struct {
	N         int64 // the strip number (assigned by the store)
	Seed      uint64
	At        time.Time
	Theme     string
	Character string
	Grid      string
	Width     int // archive PNG size
	Height    int
}

// Job is a queued print.
type Job struct {
	ID        int64 // 0 for the first print of a strip being made (Making)
	Comic     int64
	Attempts  int
	LastError string
	// Making is set for the first print of a strip still being made: its
	// record (Width 0 while its archive files are not written), so the
	// printer can draw it again from its seed after a power cut.
	Making *Record
}

// Store is the archive index and the print queue. Jobs survive restarts: a
// job leaves the queue only through PrintDone.
//
// A press makes a strip in three steps, so paper moves within a second
// while nothing is lost to a power cut: BeginComic records the strip (its
// seed is enough to draw it again) and queues its first print; the printer
// prints it; its archive PNG and JSON are written and AddComic indexes it.
// The strip is done once it is both printed and indexed, in either order.
type Store interface {
	// BeginComic hands out the next strip number (never reused, even when
	// the strip is never finished) and records r (its seed, time, theme,
	// character and grid; r.N is ignored) as being made: it is on the
	// card when BeginComic returns, and its first print is the newest job
	// (a Job with Making set) until PrintDone.
	BeginComic(ctx context.Context, r Record) (int64, error)
	// AddComic puts strip r.N in the archive index (Comic, LastComic, the
	// gallery). Its PNG and JSON must already be written: a row never
	// points at a missing file.
	AddComic(ctx context.Context, r Record) error
	// UnarchivedComics lists the strips begun whose archive was never
	// written (a power cut, or the scene stopped mid-strip), oldest first.
	UnarchivedComics(ctx context.Context) ([]Record, error)
	// DeleteComic removes strip n, archived or being made, and its jobs.
	DeleteComic(ctx context.Context, n int64) error
	LastComic(ctx context.Context) (int64, error) // 0: none
	Comic(ctx context.Context, n int64) (Record, error)
	EnqueuePrint(ctx context.Context, n int64) (int64, error)
	PendingPrints(ctx context.Context) ([]Job, error) // oldest first
	PrintDone(ctx context.Context, job Job) error
	PrintFailed(ctx context.Context, job Job, msg string) error
}

// Opts configure the scene.
type Opts struct {
	// Dir is where strips are archived as <n>.png (with <n>.json beside).
	Dir string
	// QueueMax bounds the jobs waiting to print: presses beyond it are
	// refused (the strips already queued still print).
	QueueMax int
	// Queue is the gate every new job goes through; nil: the scene makes
	// its own from the store, Dir and QueueMax. Share one with whatever
	// else queues prints (the web gallery's reprints).
	Queue *Queue
	// Backoff bounds the retry delay after a printer error (doubling from
	// RetryMin).
	RetryMin, RetryMax time.Duration
	// PackErr is shown on the display when the pack is unusable (nil pack).
	PackErr error
	Log     *slog.Logger
	// Reporter gets what the maker must not miss: strips printed, a printer
	// that fails (once per fault, not per retry), a queue full. nil: none.
	Reporter scene.Reporter
	// Orientation of strips on the paper; "" is OrientAuto.
	Orientation Orientation
	// Drawings is the drawing mode (A long); nil: A long does nothing.
	Drawings Drawings
	// Source reloads the pack when its version moves (checked when the
	// scene starts and on CommandReload); nil: the pack given to New stays.
	Source PackSource
}

// DefaultOpts: 5 queued presses, retries from 2 s up to a minute.
func DefaultOpts() *Opts {
	return &Opts{QueueMax: 5, RetryMin: 2 * time.Second, RetryMax: time.Minute}
}

// Scene composes, archives and prints strips.
type Scene struct {
	// pack is read by the print worker and the web while the loop may
	// replace it (a reload); a strip keeps the pack that composed it.
	pack    atomic.Pointer[Pack]
	packVer uint64 // the Source version pack was loaded at (the loop's)
	packErr error  // why there is no pack
	printer scene.Printer
	display scene.Display
	lights  scene.Lights
	store   Store
	clock   scene.Clock
	opts    Opts
	log     *slog.Logger

	queue *Queue

	// fresh holds the print forms of strips pressed for in this run, drawn
	// before their archive copy, so the printer starts at once.
	fresh *freshStrips
	wake  chan struct{} // the print queue changed: the worker looks again
}

// freshStrips hands print forms from the press to the print worker, and
// tells the press when the worker has picked its next job, so that the
// archive is drawn once the paper moves, not before.
type freshStrips struct {
	mu   sync.Mutex
	imgs map[int64]image.Image
	// drawing is the strip whose print form is being drawn now (-1: one
	// being begun, its number not known yet; 0: none): the worker waits
	// for it rather than draw it a second time.
	drawing int64
	// The worker: running (Run's), busy with a job, and how many jobs it
	// has picked (or lists it failed to read).
	running, busy bool
	picks         uint64
	changed       chan struct{} // closed and replaced on every change
}

// maxFresh bounds the print forms kept for strips waiting for a printer
// that fails; beyond it the oldest is drawn again when its turn comes.
const maxFresh = 8

func newFreshStrips() *freshStrips {
	return &freshStrips{imgs: map[int64]image.Image{}, changed: make(chan struct{})}
}

func (f *freshStrips) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// begin says a strip is being drawn for the printer (n -1 until it has a
// number).
func (f *freshStrips) begin(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drawing = n
	f.signalLocked()
}

// put hands strip n's print form over (nil: it will not come) and ends
// the drawing. wait says whether the worker will pick a job soon (it runs
// and is not busy with another): then after is the pick count to wait
// past.
func (f *freshStrips) put(n int64, img image.Image) (after uint64, wait bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img != nil {
		if len(f.imgs) >= maxFresh {
			oldest := n
			for k := range f.imgs {
				oldest = min(oldest, k)
			}
			delete(f.imgs, oldest)
		}
		f.imgs[n] = img
	}
	f.drawing = 0
	f.signalLocked()
	return f.picks, f.running && !f.busy
}

// awaitPick waits until the worker has picked a job after the pick count
// after, or stopped, or ctx ends.
func (f *freshStrips) awaitPick(ctx context.Context, after uint64) {
	for {
		f.mu.Lock()
		done, ch := f.picks > after || !f.running, f.changed
		f.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// take returns strip n's print form if it was drawn, or the channel to
// wait on when it is being drawn now; neither: draw it yourself.
func (f *freshStrips) take(n int64) (image.Image, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img, ok := f.imgs[n]; ok {
		return img, nil
	}
	if f.drawing == n || f.drawing == -1 {
		return nil, f.changed
	}
	return nil, nil
}

func (f *freshStrips) drop(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.imgs, n)
}

// worker reports the print worker's state: running, busy with a job, and
// a job picked (or a list it could not read: the press must not wait).
func (f *freshStrips) worker(running, busy, picked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running, f.busy = running, busy
	if picked {
		f.picks++
	}
	f.signalLocked()
}

// New returns the scene. pack nil means the pack could not be loaded (the
// scene shows opts.PackErr and waits); printer, display and lights may be nil.
func New(pack *Pack, printer scene.Printer, display scene.Display, lights scene.Lights, st Store, clock scene.Clock, opts *Opts) *Scene {
	o := *DefaultOpts()
	if opts != nil {
		o = *opts
		d := DefaultOpts()
		if o.QueueMax <= 0 {
			o.QueueMax = d.QueueMax
		}
		if o.RetryMin <= 0 {
			o.RetryMin = d.RetryMin
		}
		if o.RetryMax < o.RetryMin {
			o.RetryMax = max(d.RetryMax, o.RetryMin)
		}
	}
	if o.Dir == "" {
		o.Dir = "comics"
	}
	if o.Orientation == "" {
		o.Orientation = OrientAuto
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := o.Queue
	if q == nil {
		q = NewQueue(st, o.Dir, o.QueueMax)
	}
	sc := &Scene{printer: printer, display: display, lights: lights, store: st, clock: clock,
		opts: o, log: log, queue: q, fresh: newFreshStrips(), wake: make(chan struct{}, 1), packErr: o.PackErr}
	sc.pack.Store(pack)
	if o.Source != nil {
		sc.packVer = o.Source.Version()
	}
	return sc
}

// Help implements scene.Helper.
func (s *Scene) Help() scene.Help {
	if s.pack.Load() == nil {
		return scene.Help{A: "nothing: the art pack could not be loaded (see the event log)",
			Lights: map[string]string{scene.LightWarn: "on: the art pack is unusable"}}
	}
	return scene.Help{
		A:     "compose and print a new strip",
		ALong: s.aLong(),
		Lights: map[string]string{
			scene.LightReady: "on: ready to print",
			scene.LightBusy:  "blinking: composing or printing",
			scene.LightWarn:  "fast blink: the printer failed (retrying)",
		},
	}
}

func (s *Scene) aLong() string {
	if s.opts.Drawings == nil {
		return ""
	}
	return "photograph the sheet under the camera: its drawings join your pack"
}

// reload loads the pack again if its source changed since it was loaded.
// Called from the loop, between presses: a strip in the making keeps the
// pack it was composed with.
func (s *Scene) reload() {
	src := s.opts.Source
	if src == nil {
		return
	}
	v := src.Version()
	if v == s.packVer && s.pack.Load() != nil {
		return
	}
	s.packVer = v
	p, err := src.Load()
	if err != nil {
		// The pack in use stays: an edit that breaks the pack must not
		// stop the printing.
		s.log.Warn("comic: pack reload", "err", err)
		scene.Report(s.opts.Reporter, scene.LevelWarn, "the art pack was changed but cannot be used: "+err.Error()+"; the previous one stays")
		if s.pack.Load() == nil {
			s.packErr = err
		}
		return
	}
	s.pack.Store(p)
	s.packErr = nil
	s.log.Info("comic: pack reloaded", "images", len(p.Images), "grids", len(p.Grids))
}

// Name implements scene.Scene.
func (s *Scene) Name() string { return Name }

// String describes the scene.
func (s *Scene) String() string { return fmt.Sprintf("comic.Scene{%s}", s.opts.Dir) }

// status is what the print worker reports to the scene's loop.
type status struct {
	printing bool
	fault    error // nil: the printer works (or nothing to do)
	printed  int64
}

// Run implements scene.Scene.
func (s *Scene) Run(ctx context.Context, events <-chan scene.Event) error {
	defer s.light(scene.LightBusy, scene.LightOff)
	defer s.light(scene.LightWarn, scene.LightOff)
	s.light(scene.LightReady, scene.LightOn)
	s.reload()
	for s.pack.Load() == nil {
		err := s.packErr
		if err == nil {
			err = errors.New("comic: no art pack")
		}
		s.log.Error("comic: cannot compose", "err", err)
		if !s.showError(ctx, events, "no comic: "+err.Error()) {
			return nil
		}
		s.reload() // the maker changed the pack: try it
	}
	// Nothing is warmed up here: a print reads the pack's reductions and
	// draws them in integer arithmetic, fast enough from cold for a first
	// press to print within a second on a Pi Zero, so the start stays idle
	// and small.
	if s.store == nil {
		return errors.New("comic: no store")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stat := make(chan status, 1)
	done := make(chan struct{})
	// Running before the first press can come: a press waits for the
	// worker to pick its strip before it draws the archive.
	s.fresh.worker(true, false, false)
	go func() {
		defer close(done)
		s.worker(ctx, stat)
	}()
	defer func() { cancel(); <-done }()

	txt := newTicker(s.display, s.clock)
	if n, err := s.store.LastComic(ctx); err == nil && n > 0 {
		txt.set("#" + strconv.FormatInt(n, 10))
	} else {
		txt.set("--")
	}
	if err := txt.show(); err != nil {
		s.log.Warn("comic: display", "err", err)
	}
	// Strips a power cut (or a scene switch) left without their archive:
	// the worker prints them first if they were not printed; here their
	// archive is written from their seed.
	s.finishInterrupted(ctx)
	poke := s.poke
	// The drawing mode's photo and clean-up take seconds on a Pi Zero: they
	// run beside the loop, which goes on printing.
	capturing := false
	captured := make(chan captureResult, 1)
	defer func() {
		if capturing {
			<-captured
		}
	}()
	for {
		if err := txt.show(); err != nil {
			s.log.Warn("comic: display", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-txt.tick():
		case r := <-captured:
			capturing = false
			s.light(scene.LightBusy, scene.LightOff)
			if r.err != nil {
				s.log.Warn("comic: drawing mode", "err", r.err)
				txt.set("no drawing: " + r.err.Error())
				s.light(scene.LightWarn, scene.LightBlinkFast)
				continue
			}
			txt.set("+" + strconv.Itoa(r.n) + " drawn")
			s.reload()
		case st := <-stat:
			switch {
			case st.fault != nil:
				s.light(scene.LightWarn, scene.LightBlinkFast)
			default:
				s.light(scene.LightWarn, scene.LightOff)
			}
			if st.printing {
				s.light(scene.LightBusy, scene.LightBlink)
			} else {
				s.light(scene.LightBusy, scene.LightOff)
			}
		case ev := <-events:
			var err error
			switch {
			case ev.Kind == scene.KindPress && ev.Button == scene.ButtonA && ev.Press == scene.Short,
				ev.Kind == scene.KindCommand && ev.Command == CommandPrint:
				var n int64
				n, err = s.NewStrip(ctx, uint64(s.clock.Now().UnixNano()))
				if err == nil {
					txt.set("#" + strconv.FormatInt(n, 10))
				}
			case ev.Kind == scene.KindPress && ev.Button == scene.ButtonA && ev.Press == scene.Long,
				ev.Kind == scene.KindCommand && ev.Command == CommandCapture:
				if s.opts.Drawings == nil || capturing {
					continue
				}
				capturing = true
				txt.set("photo")
				s.light(scene.LightBusy, scene.LightBlinkFast)
				go func() {
					n, err := s.opts.Drawings.Capture(ctx)
					captured <- captureResult{n, err}
				}()
			case ev.Kind == scene.KindCommand && ev.Command == CommandReload:
				s.reload()
			case ev.Kind == scene.KindCommand && ev.Command == CommandReprint:
				var n int64
				if ev.Arg != "" {
					if n, err = strconv.ParseInt(ev.Arg, 10, 64); err != nil || n <= 0 {
						err = fmt.Errorf("comic: reprint: bad strip number %q", ev.Arg)
						break
					}
				}
				err = s.reprint(ctx, n)
			case ev.Kind == scene.KindCommand && ev.Command == CommandWake:
			default:
				continue
			}
			if err != nil {
				s.log.Warn("comic: "+ev.Command, "err", err)
				if errors.Is(err, ErrQueueFull) {
					txt.set("queue full")
					scene.Report(s.opts.Reporter, scene.LevelWarn, "print queue full: press refused until a strip prints")
				}
			}
			poke()
		}
	}
}

// captureResult is what the drawing mode's photo gave.
type captureResult struct {
	n   int
	err error
}

// ErrQueueFull refuses a press while QueueMax strips wait for the printer.
var ErrQueueFull = errors.New("comic: print queue full")

// ErrNoArchive refuses a reprint of a strip whose archive PNG is missing
// (removed by hand, or lost to a version that indexed strips before writing
// them): there is nothing to print.
var ErrNoArchive = errors.New("comic: the strip's archive file is missing")

// Queue is the one gate of the print queue: it counts the jobs in the store
// plus the slots reserved for strips being composed, and never lets that
// exceed its limit. Counting and adding happen under one mutex, so
// simultaneous presses and reprints cannot all see room and all add (60 at
// once once queued 30). Jobs leave through the store (PrintDone, or a
// deleted strip), which only makes room.
type Queue struct {
	st  Store
	dir string
	max int

	mu       sync.Mutex
	reserved int // slots taken by strips being composed
	// jobs caches the store's job count for Len, which the web's state
	// stream asks ten times a second per viewer; valid is cleared when jobs
	// leave the store behind the queue's back (printed, strip deleted).
	jobs  int
	valid bool
}

// NewQueue returns the gate for st's print queue; dir is the archive.
func NewQueue(st Store, dir string, max int) *Queue {
	if max <= 0 {
		max = DefaultOpts().QueueMax
	}
	return &Queue{st: st, dir: dir, max: max}
}

// Max is the limit.
func (q *Queue) Max() int { return q.max }

// Len is the number of jobs waiting plus the strips being composed for
// the printer: what the limit counts. It reads the store only when jobs
// may have left it since the last look.
func (q *Queue) Len(ctx context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.valid {
		return q.jobs + q.reserved, nil
	}
	return q.length(ctx)
}

// Invalidate tells the queue jobs left the store without it (a print done,
// a strip deleted with its jobs): the next Len reads the store again.
func (q *Queue) Invalidate() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.valid = false
}

// length counts from the store (the limit is always checked against it);
// q.mu held.
func (q *Queue) length(ctx context.Context) (int, error) {
	jobs, err := q.st.PendingPrints(ctx)
	if err != nil {
		q.valid = false
		return 0, err
	}
	q.jobs, q.valid = len(jobs), true
	return len(jobs) + q.reserved, nil
}

// added records a job added through the queue; q.mu held.
func (q *Queue) added(err error) {
	if err != nil {
		q.valid = false // it may or may not be in
	} else if q.valid {
		q.jobs++
	}
}

// room fails with ErrQueueFull when the queue is at its limit; q.mu held.
func (q *Queue) room(ctx context.Context) error {
	n, err := q.length(ctx)
	if err != nil {
		return err
	}
	if n >= q.max {
		return fmt.Errorf("%w (%d waiting)", ErrQueueFull, n)
	}
	return nil
}

// Slot is a place in the queue reserved for a strip still being composed.
type Slot struct {
	q    *Queue
	used bool
}

// Reserve takes a slot before a strip is composed, so a press is refused at
// once rather than after seconds of drawing, and a strip that was drawn
// always has its place.
func (q *Queue) Reserve(ctx context.Context) (*Slot, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.room(ctx); err != nil {
		return nil, err
	}
	q.reserved++
	return &Slot{q: q}, nil
}

// Begin fills the slot with a new strip (Store.BeginComic): its first
// print takes the slot's place in the queue. It returns the strip's number.
func (sl *Slot) Begin(ctx context.Context, r Record) (int64, error) {
	q := sl.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if sl.used {
		return 0, errors.New("comic: queue slot used twice")
	}
	sl.used = true
	q.reserved-- // the job takes the slot's place in the count
	n, err := q.st.BeginComic(ctx, r)
	q.added(err)
	return n, err
}

// Release gives an unused slot back (the strip failed); a no-op after
// Enqueue.
func (sl *Slot) Release() {
	q := sl.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if !sl.used {
		sl.used = true
		q.reserved--
	}
}

// Reprint queues strip n again (0: the last one), if there is room and its
// archive PNG exists.
func (q *Queue) Reprint(ctx context.Context, n int64) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n == 0 {
		last, err := q.st.LastComic(ctx)
		if err != nil {
			return 0, err
		}
		if last == 0 {
			return 0, errors.New("comic: reprint: no strip yet")
		}
		n = last
	}
	if _, err := q.st.Comic(ctx, n); err != nil {
		return 0, err
	}
	if _, err := os.Stat(ArchiveFile(q.dir, n)); err != nil {
		return 0, fmt.Errorf("%w: strip #%d: %w", ErrNoArchive, n, err)
	}
	if err := q.room(ctx); err != nil {
		return 0, err
	}
	id, err := q.st.EnqueuePrint(ctx, n)
	q.added(err)
	return id, err
}

// NewStrip composes a strip from seed, prints it and archives it, paper
// first: the queue slot is taken, the strip recorded in the store
// (BeginComic: from then on a power cut loses nothing, the seed draws it
// again) with its print queued, its print form drawn and handed to the
// print worker, and only then the full-resolution archive PNG and JSON
// drawn, written, synced and indexed (AddComic). A row in the index never
// lacks its files; a strip recorded but not archived is finished from its
// seed by the next run (finishInterrupted). NewStrip returns once the
// archive is written, or once ctx ends (the scene stops): the strip is
// then made, its archive left to the next run.
func (s *Scene) NewStrip(ctx context.Context, seed uint64) (int64, error) {
	slot, err := s.queue.Reserve(ctx)
	if err != nil {
		return 0, err
	}
	defer slot.Release()
	s.light(scene.LightBusy, scene.LightBlink)
	pack := s.pack.Load()
	strip, err := pack.Compose(seed)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	rec := Record{Seed: seed, At: now, Theme: strip.Theme, Character: strip.Character, Grid: strip.Grid.ID}
	if s.printer != nil {
		s.fresh.begin(-1) // the worker waits for this print form, never draws it too
	}
	// Asked for: recorded even if the scene is stopping (a scene switch
	// mid-press), so it prints and is archived when the comic scene runs.
	rec.N, err = slot.Begin(context.WithoutCancel(ctx), rec)
	if err != nil {
		if s.printer != nil {
			s.fresh.put(0, nil)
		}
		return 0, err
	}
	left, right := Footer(rec.N, now)
	s.log.Info("comic: strip queued for printing", "n", rec.N, "seed", seed, "theme", strip.Theme, "grid", strip.Grid.ID)
	if s.printer != nil {
		s.fresh.begin(rec.N)
		after, wait := s.fresh.put(rec.N, pack.RenderPrint(strip, s.printer.Width(), s.opts.Orientation, left, right))
		s.poke()
		if wait {
			// The printer is free: let it start before the archive takes
			// the CPU (a Pi Zero has one core).
			s.fresh.awaitPick(ctx, after)
		}
	} else {
		s.poke()
	}
	if err := s.archive(ctx, pack, strip, rec); err != nil {
		if ctx.Err() != nil {
			s.log.Info("comic: stopped before the archive was written; the next run writes it", "n", rec.N)
			return rec.N, nil
		}
		return rec.N, err
	}
	return rec.N, nil
}

// poke wakes the print worker.
func (s *Scene) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// archive draws strip (recorded as rec, composed from pack) at full
// resolution, writes its PNG and JSON and indexes it.
func (s *Scene) archive(ctx context.Context, pack *Pack, strip *Strip, rec Record) error {
	left, right := Footer(rec.N, rec.At)
	img, err := pack.RenderContext(ctx, strip, ArchiveSize(strip), left, right)
	if err == nil {
		rec.Width, rec.Height = img.Rect.Dx(), img.Rect.Dy()
		err = WriteArchiveContext(ctx, s.opts.Dir, rec, img)
	}
	img = nil
	// The archive render decoded full-size art: return it to the system
	// rather than keep a Pi Zero's memory for the next press.
	debug.FreeOSMemory()
	if err == nil {
		// Written is worth indexing even if the scene is stopping.
		err = s.store.AddComic(context.WithoutCancel(ctx), rec)
		if err != nil {
			if _, cerr := s.store.Comic(context.WithoutCancel(ctx), rec.N); cerr == nil {
				err = nil // committed, though the answer was an error: the files stay
			}
		}
		if err == nil {
			// (The kill trials wait for this line: keep its words.)
			s.log.Info("comic: strip archived and queued", "n", rec.N, "seed", rec.Seed, "theme", rec.Theme, "grid", rec.Grid)
			return nil
		}
	}
	// Not indexed: its files go (the record stays, finished by a later run).
	return errors.Join(err, RemoveArchive(s.opts.Dir, rec.N))
}

// recompose draws strip r again from its seed; the pack must still give
// the strip that was recorded.
func (s *Scene) recompose(pack *Pack, r Record) (*Strip, error) {
	strip, err := pack.Compose(r.Seed)
	if err != nil {
		return nil, err
	}
	if strip.Grid.ID != r.Grid || strip.Theme != r.Theme || strip.Character != r.Character {
		return nil, fmt.Errorf("comic: strip #%d: the art pack no longer draws seed %d as recorded (grid %s, theme %s; now %s, %s)",
			r.N, r.Seed, r.Grid, r.Theme, strip.Grid.ID, strip.Theme)
	}
	return strip, nil
}

// finishInterrupted writes the archive of every strip begun but never
// archived (a power cut, a kill, a scene switch mid-strip), drawn again
// from its seed; one the pack cannot draw again is removed. It stops when
// ctx ends: what is left is finished by the next run.
func (s *Scene) finishInterrupted(ctx context.Context) {
	recs, err := s.store.UnarchivedComics(ctx)
	if err != nil {
		s.log.Error("comic: interrupted strips", "err", err)
		return
	}
	for _, r := range recs {
		if ctx.Err() != nil {
			return
		}
		pack := s.pack.Load()
		strip, err := s.recompose(pack, r)
		if err != nil {
			if derr := s.store.DeleteComic(context.WithoutCancel(ctx), r.N); derr != nil {
				s.log.Error("comic: interrupted strips", "err", derr)
				continue
			}
			s.queue.Invalidate()
			s.log.Warn("comic: interrupted strip removed", "n", r.N, "err", err)
			scene.Report(s.opts.Reporter, scene.LevelWarn, fmt.Sprintf("strip #%d was interrupted (power cut?) before its archive was written and cannot be drawn again: %v; removed", r.N, err))
			continue
		}
		if err := s.archive(ctx, pack, strip, r); err != nil {
			if ctx.Err() == nil {
				s.log.Error("comic: interrupted strip", "n", r.N, "err", err)
			}
			continue
		}
		scene.Report(s.opts.Reporter, scene.LevelWarn, fmt.Sprintf("strip #%d was interrupted (power cut?) before its archive was written; drawn again from its seed and archived", r.N))
	}
}

func (s *Scene) reprint(ctx context.Context, n int64) error {
	_, err := s.queue.Reprint(ctx, n)
	return err
}

// Footer is the text under a strip.
func Footer(n int64, at time.Time) (string, string) {
	return fmt.Sprintf("tinkerbox comic #%d", n), at.Format("2006-01-02")
}

// ArchiveSize is the archive width for a strip: the master resolution, at
// least ArchiveWidth.
func ArchiveSize(s *Strip) int { return max(s.Size.X, ArchiveWidth) }

// ArchiveFile is strip n's archive PNG in dir.
func ArchiveFile(dir string, n int64) string {
	return filepath.Join(dir, strconv.FormatInt(n, 10)+".png")
}

// RemoveArchive removes strip n's files (PNG and JSON sidecar); missing
// ones are not an error.
func RemoveArchive(dir string, n int64) error {
	base := filepath.Join(dir, strconv.FormatInt(n, 10))
	var errs []error
	for _, ext := range []string{".png", ".json"} {
		if err := os.Remove(base + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("comic: archive: %w", err))
		}
	}
	return errors.Join(errs...)
}

// TempPrefix starts the names of archive files being written; one left
// behind is from an interrupted write (CleanTemp removes them at start).
const TempPrefix = ".tmp-"

// CleanTemp removes the temporary files interrupted writes left in dir.
func CleanTemp(dir string) (int, error) {
	tmps, err := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if err != nil {
		return 0, fmt.Errorf("comic: archive: %w", err)
	}
	n := 0
	var errs []error
	for _, f := range tmps {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("comic: archive: %w", err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// WriteArchive writes <dir>/<n>.png and <n>.json atomically (temporary file,
// sync, rename, directory sync): a power cut leaves the old file or the new
// one, never half, and once it returns both are on the card.
func WriteArchive(dir string, r Record, img image.Image) error {
	return WriteArchiveContext(context.Background(), dir, r, img)
}

// WriteArchiveContext is WriteArchive that gives up while it encodes once
// ctx ends (seconds on a Pi Zero), leaving the files as they were.
func WriteArchiveContext(ctx context.Context, dir string, r Record, img image.Image) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("comic: archive: %w", err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(ctxWriter{ctx, &buf}, img); err != nil {
		return fmt.Errorf("comic: archive: encode: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("comic: archive: %w", err)
	}
	meta := fmt.Sprintf("{\n  \"n\": %d,\n  \"seed\": %d,\n  \"at\": %q,\n  \"theme\": %q,\n  \"character\": %q,\n  \"grid\": %q,\n  \"width\": %d,\n  \"height\": %d\n}\n",
		r.N, r.Seed, r.At.UTC().Format(time.RFC3339), r.Theme, r.Character, r.Grid, img.Bounds().Dx(), img.Bounds().Dy())
	base := filepath.Join(dir, strconv.FormatInt(r.N, 10))
	if err := atomicWrite(base+".json", []byte(meta)); err != nil {
		return err
	}
	return atomicWrite(base+".png", buf.Bytes())
}

// ctxWriter fails its writes once ctx ends, which stops an encoder.
type ctxWriter struct {
	ctx context.Context
	w   *bytes.Buffer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

func atomicWrite(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), TempPrefix+"*")
	if err != nil {
		return fmt.Errorf("comic: archive: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err == nil {
		err = syncDir(filepath.Dir(name))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("comic: archive: write %s: %w", filepath.Base(name), err)
	}
	return nil
}

// syncDir makes a rename in dir durable: until the directory is synced, a
// power cut can bring back the old name.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// worker prints queued jobs one at a time, oldest first, retrying with
// backoff while the printer fails. It reports to the loop through stat.
func (s *Scene) worker(ctx context.Context, stat chan status) {
	// Each status is the whole state: the latest replaces one the loop has
	// not read (it may be busy drawing an archive), so the worker never
	// waits for the loop before printing the next job.
	report := func(st status) {
		for {
			select {
			case stat <- st:
				return
			default:
			}
			select {
			case <-stat:
			default:
			}
		}
	}
	defer s.fresh.worker(false, false, false)
	backoff := time.Duration(0)
	faulted := false
	for ctx.Err() == nil {
		s.fresh.worker(true, false, false)
		jobs, err := s.store.PendingPrints(ctx)
		if err != nil {
			s.log.Error("comic: print queue", "err", err)
			s.fresh.worker(true, false, true) // a press waiting for a pick goes on
		}
		if err != nil || len(jobs) == 0 || s.printer == nil {
			if s.printer == nil && len(jobs) > 0 && !faulted {
				faulted = true
				s.log.Warn("comic: no printer: strips stay queued", "queued", len(jobs))
				report(status{fault: errors.New("no printer")})
			}
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
			continue
		}
		job := jobs[0]
		s.fresh.worker(true, true, true)
		report(status{printing: true, fault: errIf(faulted)})
		img, err := s.paperImage(ctx, job)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// The archive is gone (deleted from the gallery), or the pack
			// cannot draw the strip again: nothing left to print. Drop the
			// job rather than block the queue.
			s.log.Error("comic: dropping print job", "job", job.ID, "comic", job.Comic, "err", err)
			if err := s.store.PrintDone(ctx, job); err != nil {
				s.log.Error("comic: print queue", "err", err)
			}
			s.queue.Invalidate()
			continue
		}
		err = s.printer.Print(ctx, img)
		if ctx.Err() != nil {
			return // the job stays queued for the next run
		}
		if err != nil {
			if !faulted {
				scene.Report(s.opts.Reporter, scene.LevelError, fmt.Sprintf("printer failed on strip #%d: %v; retrying", job.Comic, err))
			}
			faulted = true
			if ferr := s.store.PrintFailed(ctx, job, err.Error()); ferr != nil {
				s.log.Error("comic: print queue", "err", ferr)
			}
			backoff = min(max(backoff*2, s.opts.RetryMin), s.opts.RetryMax)
			s.log.Warn("comic: print failed, will retry", "comic", job.Comic, "attempt", job.Attempts+1, "retry_in", backoff, "err", err)
			report(status{fault: err})
			// Presses meanwhile only add jobs: the printer is retried on
			// the backoff's schedule, not hammered once per press.
			select {
			case <-ctx.Done():
				return
			case <-s.clock.After(backoff):
			}
			continue
		}
		faulted, backoff = false, 0
		if job.Making != nil {
			s.fresh.drop(job.Comic)
		}
		if err := s.store.PrintDone(ctx, job); err != nil {
			s.log.Error("comic: print queue", "err", err)
		}
		s.queue.Invalidate()
		s.log.Info("comic: printed", "comic", job.Comic)
		scene.Report(s.opts.Reporter, scene.LevelInfo, fmt.Sprintf("printed strip #%d", job.Comic))
		report(status{printed: job.Comic})
	}
}

// paperImage is what job prints: a new strip's print form as the press
// drew it (waiting for it while it is drawn), or drawn again from its seed
// (after a restart) until it is archived; the archive copy, turned for the
// paper, for a reprint or an archived strip.
func (s *Scene) paperImage(ctx context.Context, job Job) (image.Image, error) {
	if m := job.Making; m != nil {
		for {
			img, wait := s.fresh.take(job.Comic)
			if img != nil {
				return img, nil
			}
			if wait == nil {
				break
			}
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if m.Width == 0 {
			pack := s.pack.Load()
			strip, err := s.recompose(pack, *m)
			if err != nil {
				return nil, err
			}
			left, right := Footer(m.N, m.At)
			return pack.RenderPrintContext(ctx, strip, s.printer.Width(), s.opts.Orientation, left, right)
		}
	}
	img, err := ReadArchive(s.opts.Dir, job.Comic)
	if err != nil {
		return nil, err
	}
	return PaperForm(img, s.opts.Orientation), nil
}

func errIf(b bool) error {
	if b {
		return errors.New("printer fault")
	}
	return nil
}

// ReadArchive loads an archived strip.
func ReadArchive(dir string, n int64) (image.Image, error) {
	// Bounded like every decode: the archive folder is the maker's to edit.
	img, err := imgdecode.ReadFile(ArchiveFile(dir, n), imgdecode.Photo())
	if err != nil {
		return nil, fmt.Errorf("comic: archive: strip %d: %w", n, err)
	}
	return img, nil
}

// showError scrolls msg until the scene ends (false) or the pack is to be
// loaded again (true): the appliance runs on.
func (s *Scene) showError(ctx context.Context, events <-chan scene.Event, msg string) bool {
	s.light(scene.LightWarn, scene.LightOn)
	txt := newTicker(s.display, s.clock)
	txt.set(msg)
	for {
		if err := txt.show(); err != nil {
			s.log.Warn("comic: display", "err", err)
		}
		select {
		case <-ctx.Done():
			return false
		case ev := <-events:
			if ev.Kind == scene.KindCommand && ev.Command == CommandReload {
				return true
			}
		case <-txt.tick():
		}
	}
}

func (s *Scene) light(name string, m scene.LightMode) {
	if s.lights != nil {
		if err := s.lights.SetLight(name, m); err != nil {
			s.log.Debug("comic: light", "name", name, "err", err)
		}
	}
}

// ticker shows short text still, long text scrolling.
type ticker struct {
	d     scene.Display
	clock scene.Clock
	sc    *font.Scroller
	step  int
	frame *image.Gray
	dirty bool
}

const scrollStep = 60 * time.Millisecond

func newTicker(d scene.Display, c scene.Clock) *ticker {
	return &ticker{d: d, clock: c, frame: image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))}
}

func (t *ticker) set(text string) {
	sc := font.NewScroller(font.Font5x7(), text, scene.DisplayWidth, scene.DisplayHeight)
	if !sc.Fits() {
		if small := font.NewScroller(font.Font3x5(), text, scene.DisplayWidth, scene.DisplayHeight); small.Fits() {
			sc = small
		}
	}
	t.sc, t.step, t.dirty = sc, 0, true
}

func (t *ticker) show() error {
	if t.d == nil || !t.dirty {
		return nil
	}
	t.sc.Frame(t.step%t.sc.Len(), t.frame)
	t.dirty = false
	return t.d.Show(t.frame)
}

// tick fires when a scrolling text needs its next frame; nil (never) when
// the text stands still.
func (t *ticker) tick() <-chan time.Time {
	if t.d == nil || t.sc.Fits() {
		return nil
	}
	t.step++
	t.dirty = true
	return t.clock.After(scrollStep)
}
