package comic

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

// countingStore records the longest the queue ever was.
type countingStore struct {
	*memStore
	peak atomic.Int64
}

func (c *countingStore) EnqueuePrint(ctx context.Context, n int64) (int64, error) {
	id, err := c.memStore.EnqueuePrint(ctx, n)
	c.count()
	return id, err
}

func (c *countingStore) BeginComic(ctx context.Context, r Record) (int64, error) {
	n, err := c.memStore.BeginComic(ctx, r)
	c.count()
	return n, err
}

func (c *countingStore) count() {
	c.memStore.mu.Lock()
	l := int64(len(c.memStore.jobs))
	c.memStore.mu.Unlock()
	for {
		p := c.peak.Load()
		if l <= p || c.peak.CompareAndSwap(p, l) {
			break
		}
	}
}

// archivedStrip puts a strip in the index with a stand-in PNG, as if
// printed and archived long ago.
func archivedStrip(t *testing.T, st interface {
	ReserveComic(context.Context) (int64, error)
	AddComic(context.Context, Record) error
}, dir string) int64 {
	t.Helper()
	ctx := context.Background()
	n, err := st.ReserveComic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ArchiveFile(dir, n), []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.AddComic(ctx, Record{N: n, Width: 1968, Height: 700, At: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	return n
}

// 60 simultaneous reprints, with presses reserving slots among them, never
// take the queue past its limit; exactly the limit get in, and Len says so.
func TestQueueLimitUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := &countingStore{memStore: newMemStore()}
	n := archivedStrip(t, st, dir)
	q := NewQueue(st, dir, 5)
	var ok, full, reserved atomic.Int64
	var slots sync.Map
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 60 {
		wg.Go(func() {
			<-start
			var err error
			if i%10 == 0 { // a press: a slot for a strip being drawn
				var sl *Slot
				if sl, err = q.Reserve(ctx); err == nil {
					reserved.Add(1)
					slots.Store(i, sl)
				}
			} else {
				_, err = q.Reprint(ctx, n)
				if err == nil {
					ok.Add(1)
				}
			}
			if errors.Is(err, ErrQueueFull) {
				full.Add(1)
			} else if err != nil {
				t.Error(err)
			}
			if l, err := q.Len(ctx); err != nil || l > 5 {
				t.Errorf("queue length %d, %v: over the limit", l, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := ok.Load() + reserved.Load(); got != 5 || full.Load() != 55 {
		t.Fatalf("%d reprints + %d slots got in, %d refused; want 5 in, 55 refused", ok.Load(), reserved.Load(), full.Load())
	}
	if l, _ := q.Len(ctx); l != 5 {
		t.Fatalf("Len = %d, want 5", l)
	}
	// The drawn strips take their slots' places; a failed one gives its
	// slot back.
	first := true
	slots.Range(func(_, v any) bool {
		sl := v.(*Slot)
		if first {
			first = false
			sl.Release()
			sl.Release() // twice is harmless
			return true
		}
		if _, err := sl.Begin(ctx, Record{Seed: 1}); err != nil {
			t.Fatal(err)
		}
		return true
	})
	want := int64(5)
	if reserved.Load() > 0 {
		want = 4
	}
	if l, _ := q.Len(ctx); int64(l) != want {
		t.Fatalf("Len after the slots = %d, want %d", l, want)
	}
	if p := st.peak.Load(); p > 5 {
		t.Fatalf("the store's queue peaked at %d jobs, over the limit of 5", p)
	}
}

// A reprint of a strip whose archive file is missing is refused, never
// accepted and then dropped by the printer; an unknown strip is refused.
func TestReprintNeedsTheArchiveFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newMemStore()
	n := archivedStrip(t, st, dir)
	q := NewQueue(st, dir, 5)
	if err := os.Remove(filepath.Join(dir, "1.png")); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Reprint(ctx, n); !errors.Is(err, ErrNoArchive) {
		t.Fatalf("reprint without a file: %v, want ErrNoArchive", err)
	}
	if _, err := q.Reprint(ctx, 0); !errors.Is(err, ErrNoArchive) {
		t.Fatalf("reprint of the last strip without a file: %v, want ErrNoArchive", err)
	}
	if _, err := q.Reprint(ctx, 42); err == nil {
		t.Fatal("reprint of an unknown strip accepted")
	}
	if jobs, _ := st.PendingPrints(ctx); len(jobs) != 0 {
		t.Fatalf("jobs queued: %+v", jobs)
	}
}

// orderStore checks the write order: when a strip is indexed its PNG and
// JSON sidecar are already in place under their final names, with no
// temporary file left.
type orderStore struct {
	*memStore
	t   *testing.T
	dir string
}

func (o *orderStore) AddComic(ctx context.Context, r Record) error {
	for _, ext := range []string{".png", ".json"} {
		if fi, err := os.Stat(filepath.Join(o.dir, itoa(r.N)+ext)); err != nil || fi.Size() == 0 {
			o.t.Errorf("strip %d indexed before its %s was written: %v", r.N, ext, err)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(o.dir, TempPrefix+"*")); len(tmps) > 0 {
		o.t.Errorf("temporary files left when strip %d was indexed: %v", r.N, tmps)
	}
	return o.memStore.AddComic(ctx, r)
}

// failingAdd fails to index: the strip's files go, its slot is given back.
type failingAdd struct{ *memStore }

func (failingAdd) AddComic(context.Context, Record) error { return errors.New("disk full") }

func TestStripFileBeforeRow(t *testing.T) {
	ctx := context.Background()
	pack := defaultPack(t)
	dir := t.TempDir()
	st := &orderStore{memStore: newMemStore(), t: t, dir: dir}
	s := New(pack, nil, nil, nil, st, fakeclock.New(time.Unix(0, 0)), &Opts{Dir: dir, QueueMax: 2})
	n, err := s.NewStrip(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.Comic(ctx, n); err != nil || r.Width < ArchiveWidth {
		t.Fatalf("strip %d: %+v %v", n, r, err)
	}
	if l, _ := s.queue.Len(ctx); l != 1 {
		t.Fatalf("queue %d, want 1", l)
	}

	// A strip whose archive cannot be indexed leaves no file, but stays
	// recorded: it still prints, and the next run writes its archive.
	fdir := t.TempDir()
	fst := failingAdd{newMemStore()}
	fs := New(pack, nil, nil, nil, fst, fakeclock.New(time.Unix(0, 0)), &Opts{Dir: fdir, QueueMax: 2})
	n, err = fs.NewStrip(ctx, 8)
	if err == nil {
		t.Fatal("a strip that could not be indexed was reported archived")
	}
	if left, _ := os.ReadDir(fdir); len(left) != 0 {
		t.Fatalf("files left of a strip that was never indexed: %v", left)
	}
	if un, _ := fst.UnarchivedComics(ctx); len(un) != 1 || un[0].N != n || un[0].Seed != 8 {
		t.Fatalf("strip %d not kept for a later archive: %+v", n, un)
	}
	if l, _ := fs.queue.Len(ctx); l != 1 {
		t.Fatalf("queue %d, want 1: the strip's print", l)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Len answers from its count while only the queue adds jobs, and reads
// the store again once told jobs left it.
func TestQueueLenFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := newMemStore()
	n := archivedStrip(t, st, dir)
	q := NewQueue(st, dir, 5)
	for range 2 {
		if _, err := q.Reprint(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	sl, err := q.Reserve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := q.Len(ctx); l != 3 {
		t.Fatalf("Len = %d, want 3 (2 jobs, 1 slot)", l)
	}
	jobs, _ := st.PendingPrints(ctx)
	if err := st.PrintDone(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	q.Invalidate()
	if l, _ := q.Len(ctx); l != 2 {
		t.Fatalf("Len after a print = %d, want 2", l)
	}
	if _, err := sl.Begin(ctx, Record{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if l, _ := q.Len(ctx); l != 2 {
		t.Fatalf("Len after the slot's job = %d, want 2", l)
	}
	if got, _ := st.PendingPrints(ctx); len(got) != 2 {
		t.Fatalf("%d jobs in the store, want 2", len(got))
	}
}

// stoppingStore cancels the scene's context once a strip is recorded:
// the scene is switched away while the strip is made.
type stoppingStore struct {
	*memStore
	stop context.CancelFunc
}

func (s stoppingStore) BeginComic(ctx context.Context, r Record) (int64, error) {
	n, err := s.memStore.BeginComic(ctx, r)
	s.stop()
	return n, err
}

// A strip asked for is queued even when the scene stops while it is made;
// its archive, left undrawn, is written from its seed by the next run.
func TestStripQueuedWhenTheSceneStopsMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	st := stoppingStore{memStore: newMemStore(), stop: cancel}
	s := New(defaultPack(t), nil, nil, nil, st, fakeclock.New(time.Unix(0, 0)), &Opts{Dir: dir, QueueMax: 2})
	n, err := s.NewStrip(ctx, 7)
	if err != nil {
		t.Fatalf("strip %d: %v", n, err)
	}
	jobs, err := st.PendingPrints(context.Background())
	if err != nil || len(jobs) != 1 || jobs[0].Comic != n || jobs[0].Making == nil {
		t.Fatalf("pending prints %+v, %v; want strip %d queued", jobs, err, n)
	}
	if _, err := st.Comic(context.Background(), n); err == nil {
		t.Fatal("the strip was archived by a scene told to stop")
	}
	s.finishInterrupted(context.Background())
	if r, err := st.Comic(context.Background(), n); err != nil || r.Seed != 7 || r.Width < ArchiveWidth {
		t.Fatalf("after the next run: %+v %v", r, err)
	}
	if _, err := ReadArchive(dir, n); err != nil {
		t.Fatal(err)
	}
}
