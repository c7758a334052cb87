package comic

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// memStore is the comic.Store in memory; it outlives scenes like the
// database outlives a restart. jobs holds both kinds of job in queue
// order: reprints (ID > 0) and strips' first prints (Making set).
type memStore struct {
	mu     sync.Mutex
	next   int64
	comics map[int64]Record
	making map[int64]*memMaking
	jobs   []Job
	jobID  int64
}

// memMaking is a strip begun and not done: printed, archived, or neither.
type memMaking struct {
	rec     Record
	printed bool
}

func newMemStore() *memStore {
	return &memStore{comics: map[int64]Record{}, making: map[int64]*memMaking{}}
}

// ReserveComic hands out a number without a strip (the tests' archivedStrip).
func (m *memStore) ReserveComic(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	return m.next, nil
}
func (m *memStore) BeginComic(_ context.Context, r Record) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	r.N, r.Width, r.Height = m.next, 0, 0
	m.making[r.N] = &memMaking{rec: r}
	rec := r
	m.jobs = append(m.jobs, Job{Comic: r.N, Making: &rec})
	return r.N, nil
}
func (m *memStore) AddComic(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.N <= 0 || r.N > m.next || r.Width <= 0 {
		return errors.New("add comic: not reserved or no size")
	}
	if _, ok := m.comics[r.N]; ok {
		return errors.New("add comic: already indexed")
	}
	m.comics[r.N] = r
	if mk := m.making[r.N]; mk != nil {
		if mk.printed {
			delete(m.making, r.N)
		} else {
			mk.rec.Width, mk.rec.Height = r.Width, r.Height
			for i := range m.jobs {
				if j := &m.jobs[i]; j.Making != nil && j.Comic == r.N {
					rec := mk.rec
					j.Making = &rec
				}
			}
		}
	}
	return nil
}
func (m *memStore) UnarchivedComics(context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, mk := range m.making {
		if mk.rec.Width == 0 {
			out = append(out, mk.rec)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return int(a.N - b.N) })
	return out, nil
}
func (m *memStore) DeleteComic(_ context.Context, n int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.comics, n)
	delete(m.making, n)
	m.jobs = slices.DeleteFunc(m.jobs, func(j Job) bool { return j.Comic == n })
	return nil
}
func (m *memStore) LastComic(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last int64
	for n := range m.comics {
		last = max(last, n)
	}
	return last, nil
}
func (m *memStore) Comic(_ context.Context, n int64) (Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.comics[n]
	if !ok {
		return r, errors.New("no comic")
	}
	return r, nil
}
func (m *memStore) EnqueuePrint(_ context.Context, n int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobID++
	m.jobs = append(m.jobs, Job{ID: m.jobID, Comic: n})
	return m.jobID, nil
}
func (m *memStore) PendingPrints(context.Context) ([]Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Job(nil), m.jobs...), nil
}

// same is the job j names in the queue.
func same(a, b Job) bool {
	if a.Making != nil || b.Making != nil {
		return a.Making != nil && b.Making != nil && a.Comic == b.Comic
	}
	return a.ID == b.ID
}
func (m *memStore) PrintDone(_ context.Context, j Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs = slices.DeleteFunc(m.jobs, func(q Job) bool { return same(q, j) })
	if mk := m.making[j.Comic]; j.Making != nil && mk != nil {
		mk.printed = true
		if _, ok := m.comics[j.Comic]; ok {
			delete(m.making, j.Comic)
		}
	}
	return nil
}
func (m *memStore) PrintFailed(_ context.Context, j Job, msg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.jobs {
		if same(m.jobs[i], j) {
			m.jobs[i].Attempts++
			m.jobs[i].LastError = msg
		}
	}
	return nil
}
func (m *memStore) pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.jobs)
}

// done reports whether strip n is archived and printed: no longer being made.
func (m *memStore) done(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, archived := m.comics[n]
	return archived && m.making[n] == nil
}

// printer fails while unplugged; every attempt is reported on calls.
type printer struct {
	mu        sync.Mutex
	unplugged bool
	block     chan struct{} // non-nil: Print waits for it
	calls     chan image.Image
	enter     func() // non-nil: called as Print starts
}

func (p *printer) Width() int { return 384 }
func (p *printer) Print(ctx context.Context, img image.Image) error {
	p.mu.Lock()
	bad, block, enter := p.unplugged, p.block, p.enter
	p.mu.Unlock()
	if enter != nil {
		enter()
	}
	p.calls <- img
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if bad {
		return errors.New("escpos: write: printer unplugged")
	}
	return nil
}
func (p *printer) plug(in bool) {
	p.mu.Lock()
	p.unplugged = !in
	p.mu.Unlock()
}

type lights struct {
	mu sync.Mutex
	m  map[string]scene.LightMode
	ch chan string
}

func (l *lights) SetLight(name string, m scene.LightMode) error {
	l.mu.Lock()
	l.m[name] = m
	l.mu.Unlock()
	select {
	case l.ch <- name:
	default:
	}
	return nil
}

// waitLight waits until name is in mode m.
func (l *lights) waitLight(t *testing.T, name string, m scene.LightMode) {
	t.Helper()
	deadline := time.After(2 * time.Minute) // hang guard only
	for {
		l.mu.Lock()
		got := l.m[name]
		l.mu.Unlock()
		if got == m {
			return
		}
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("light %s is %d, want %d", name, got, m)
		}
	}
}

func recv[T any](t *testing.T, c chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(2 * time.Minute): // hang guard only: a strip under -race on a loaded 2-core machine took over 30 s
		t.Fatal("nothing received")
		panic("unreachable")
	}
}

type running struct {
	cancel context.CancelFunc
	done   chan error
	events chan scene.Event
}

func start(s *Scene) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), events: make(chan scene.Event)}
	go func() { r.done <- s.Run(ctx, r.events) }()
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := recv(t, r.done); err != nil {
		t.Fatal(err)
	}
}

func pressA(p scene.Press) scene.Event {
	return scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: p}
}

func TestQueueSurvivesUnplugAndRestart(t *testing.T) {
	pack := defaultPack(t)
	dir := t.TempDir()
	st := newMemStore()
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	pr := &printer{calls: make(chan image.Image, 16), unplugged: true}
	li := &lights{m: map[string]scene.LightMode{}, ch: make(chan string, 64)}
	opts := &Opts{Dir: dir, QueueMax: 5, RetryMin: 2 * time.Second, RetryMax: 8 * time.Second}

	run := start(New(pack, pr, nil, li, st, clk, opts))
	run.events <- pressA(scene.Short)
	img := recv(t, pr.calls) // first attempt: unplugged
	if w := img.Bounds().Dx(); w > 384 || w < 370 {
		t.Fatalf("printed %v, want the paper's 384 dots wide", img.Bounds())
	}
	li.waitLight(t, scene.LightWarn, scene.LightBlinkFast)
	// Archived after the print began, at full resolution, with its
	// metadata (the press returns once the archive is written).
	arch, err := ReadArchive(dir, 1)
	if err != nil || arch.Bounds().Dx() < ArchiveWidth {
		t.Fatalf("archive: %v %v", arch.Bounds(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "1.json")); err != nil {
		t.Fatal(err)
	}
	// Still unplugged: the retry fails too, after the backoff.
	clk.BlockUntil(1)
	clk.Advance(2 * time.Second)
	recv(t, pr.calls)
	if st.pending() != 1 {
		t.Fatalf("%d jobs pending", st.pending())
	}
	// Restart while unplugged: the job must not be lost.
	run.stop(t)
	if st.pending() != 1 || st.jobs[0].Attempts != 2 {
		t.Fatalf("after stop: %+v", st.jobs)
	}

	pr.plug(true)
	run = start(New(pack, pr, nil, li, st, clk, opts))
	got := recv(t, pr.calls) // printed from the archive copy on start
	if b := got.Bounds(); max(b.Dx(), b.Dy()) < ArchiveWidth {
		t.Fatalf("after restart printed %v, want the archive copy", got.Bounds())
	}
	li.waitLight(t, scene.LightWarn, scene.LightOff)
	for st.pending() != 0 {
		li.waitLight(t, scene.LightBusy, scene.LightOff)
	}

	// Unplug during a run, then plug back in: it prints without a press.
	pr.plug(false)
	run.events <- pressA(scene.Short)
	recv(t, pr.calls)
	li.waitLight(t, scene.LightWarn, scene.LightBlinkFast)
	pr.plug(true)
	clk.BlockUntil(1)
	clk.Advance(2 * time.Second)
	recv(t, pr.calls)
	li.waitLight(t, scene.LightWarn, scene.LightOff)

	// A reprint of the last strip (the gallery's; A long is the drawing mode).
	run.events <- scene.Event{Kind: scene.KindCommand, Command: CommandReprint}
	if img := recv(t, pr.calls); max(img.Bounds().Dx(), img.Bounds().Dy()) < ArchiveWidth {
		t.Fatalf("reprint %v", img.Bounds())
	}
	run.stop(t)
	if len(st.comics) != 2 {
		t.Fatalf("%d strips archived", len(st.comics))
	}
}

func TestQueueBounded(t *testing.T) {
	pack := defaultPack(t)
	st := newMemStore()
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	pr := &printer{calls: make(chan image.Image, 16), block: make(chan struct{})}
	s := New(pack, pr, nil, nil, st, clk, &Opts{Dir: t.TempDir(), QueueMax: 3})
	run := start(s)
	for i := 0; i < 5; i++ {
		run.events <- pressA(scene.Short)
	}
	recv(t, pr.calls)                                                        // the first is printing, blocked
	run.events <- scene.Event{Kind: scene.KindCommand, Command: CommandWake} // a full round trip
	if n := st.pending(); n != 3 {
		t.Fatalf("%d queued, want 3", n)
	}
	if len(st.comics) != 3 {
		t.Fatalf("%d strips archived for refused presses", len(st.comics))
	}
	close(pr.block)
	for i := 0; i < 2; i++ {
		recv(t, pr.calls)
	}
	run.stop(t)
}

type frames chan *image.Gray

func (f frames) Show(g *image.Gray) error {
	c := image.NewGray(g.Rect)
	copy(c.Pix, g.Pix)
	select {
	case f <- c:
	default:
	}
	return nil
}

func TestNoPackShowsError(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	d := make(frames, 4)
	s := New(nil, nil, d, nil, newMemStore(), clk, &Opts{PackErr: errors.New("comic: pack: no usable grid")})
	run := start(s)
	f := recv(t, d)
	lit := 0
	for _, v := range f.Pix {
		if v > 0 {
			lit++
		}
	}
	if lit == 0 {
		t.Fatal("nothing on the display")
	}
	run.events <- pressA(scene.Short) // ignored, no crash
	run.stop(t)
}
