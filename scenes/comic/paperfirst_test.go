package comic

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// hookStore is the memStore with hooks on the writes that finish a strip.
type hookStore struct {
	*memStore
	beforeAdd func(Record) error // nil: none; an error refuses the row
	added     chan int64         // nil: none; told each strip indexed
	printed   chan Job           // nil: none; told each print done
	afterDone func()
}

func (h *hookStore) AddComic(ctx context.Context, r Record) error {
	if h.beforeAdd != nil {
		if err := h.beforeAdd(r); err != nil {
			return err
		}
	}
	err := h.memStore.AddComic(ctx, r)
	if err == nil && h.added != nil {
		h.added <- r.N
	}
	return err
}

func (h *hookStore) PrintDone(ctx context.Context, j Job) error {
	err := h.memStore.PrintDone(ctx, j)
	if h.afterDone != nil {
		h.afterDone()
	}
	if h.printed != nil {
		h.printed <- j
	}
	return err
}

// powerCut models the power going: once cut, the scene's context ends and
// nothing more reaches the store's card. An archive that would be indexed
// first waits for the cut, so the cut always comes before the archive.
type powerCut struct {
	once   sync.Once
	off    chan struct{}
	cancel context.CancelFunc
}

func newPowerCut(cancel context.CancelFunc) *powerCut {
	return &powerCut{off: make(chan struct{}), cancel: cancel}
}

func (c *powerCut) cut() { c.once.Do(func() { close(c.off); c.cancel() }) }

func (c *powerCut) refuseAfter(Record) error {
	<-c.off
	return errors.New("the power is off")
}

func startCtx(ctx context.Context, s *Scene) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{cancel: cancel, done: make(chan error, 1), events: make(chan scene.Event)}
	go func() { r.done <- s.Run(ctx, r.events) }()
	return r
}

// A press prints before its archive is written: the printer is given the
// strip while no archive file exists, and the archive is written and
// indexed while the print is still going; the strip is done once both are.
func TestPaperBeforeArchive(t *testing.T) {
	pack := defaultPack(t)
	dir := t.TempDir()
	st := &hookStore{memStore: newMemStore(), added: make(chan int64, 1), printed: make(chan Job, 1)}
	entered := make(chan error, 1)
	pr := &printer{calls: make(chan image.Image, 4), block: make(chan struct{})}
	pr.enter = func() {
		var err error
		for _, f := range []string{ArchiveFile(dir, 1), filepath.Join(dir, "1.json")} {
			if _, serr := os.Stat(f); !errors.Is(serr, os.ErrNotExist) {
				err = errors.Join(err, errors.New(filepath.Base(f)+" exists when the print starts"))
			}
		}
		if _, cerr := st.Comic(context.Background(), 1); cerr == nil {
			err = errors.Join(err, errors.New("strip 1 indexed when the print starts"))
		}
		entered <- err
	}
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	run := start(New(pack, pr, nil, nil, st, clk, &Opts{Dir: dir}))
	run.events <- pressA(scene.Short)
	if err := recv(t, entered); err != nil {
		t.Fatal(err)
	}
	img := recv(t, pr.calls)
	if w := img.Bounds().Dx(); w < 370 || w > 384 {
		t.Fatalf("printed %v: not the print form", img.Bounds())
	}
	// The print is still going (blocked): the archive is written meanwhile.
	if n := recv(t, st.added); n != 1 {
		t.Fatalf("indexed strip %d", n)
	}
	if a, err := ReadArchive(dir, 1); err != nil || max(a.Bounds().Dx(), a.Bounds().Dy()) < ArchiveWidth {
		t.Fatalf("archive %v, %v", a, err)
	}
	if st.done(1) {
		t.Fatal("strip 1 done before its print ended")
	}
	close(pr.block)
	if j := recv(t, st.printed); j.Comic != 1 || j.Making == nil {
		t.Fatalf("print done %+v", j)
	}
	if !st.done(1) {
		t.Fatal("strip 1 printed and archived, still being made")
	}
	run.stop(t)
}

// The power goes right after a strip has printed, before its archive is
// written: the next start writes the archive from the strip's seed (the
// very image the first run would have written) and does not print it again.
func TestPowerCutAfterPrintingKeepsTheArchive(t *testing.T) {
	pack := defaultPack(t)
	dir := t.TempDir()
	mem := newMemStore()
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	pr := &printer{calls: make(chan image.Image, 4)}

	ctx, cancel := context.WithCancel(context.Background())
	power := newPowerCut(cancel)
	st := &hookStore{memStore: mem, beforeAdd: power.refuseAfter, afterDone: power.cut}
	run := startCtx(ctx, New(pack, pr, nil, nil, st, clk, &Opts{Dir: dir}))
	run.events <- pressA(scene.Short)
	first := recv(t, pr.calls)
	if err := recv(t, run.done); err != nil {
		t.Fatal(err)
	}
	un, _ := mem.UnarchivedComics(context.Background())
	if len(un) != 1 || un[0].N != 1 || mem.pending() != 0 {
		t.Fatalf("after the cut: unarchived %+v, %d jobs; want strip 1 printed, not archived", un, mem.pending())
	}
	if _, err := os.Stat(ArchiveFile(dir, 1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an archive file of a strip never indexed: %v", err)
	}

	// Power back: the archive is written, nothing printed again.
	st2 := &hookStore{memStore: mem, added: make(chan int64, 1)}
	run2 := start(New(pack, pr, nil, nil, st2, clk, &Opts{Dir: dir}))
	if n := recv(t, st2.added); n != 1 {
		t.Fatalf("indexed strip %d", n)
	}
	run2.stop(t)
	if len(pr.calls) != 0 {
		t.Fatal("a printed strip was printed again")
	}
	if !mem.done(1) {
		t.Fatal("strip 1 still being made")
	}
	got, err := ReadArchive(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := pack.Compose(un[0].Seed)
	left, right := Footer(1, un[0].At)
	want := pack.Render(s, ArchiveSize(s), left, right)
	if !bytes.Equal(toRGBA(got).Pix, want.Pix) {
		t.Fatal("the archive written after the cut is not the strip that was printed")
	}
	if w := first.Bounds().Dx(); w > 384 {
		t.Fatalf("first print %v", first.Bounds())
	}
}

// The power goes while a strip prints, before its archive is written: the
// next start prints it again, drawn from its seed exactly as the first
// time, and writes its archive.
func TestPowerCutDuringThePrint(t *testing.T) {
	pack := defaultPack(t)
	dir := t.TempDir()
	mem := newMemStore()
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))

	ctx, cancel := context.WithCancel(context.Background())
	power := newPowerCut(cancel)
	st := &hookStore{memStore: mem, beforeAdd: power.refuseAfter}
	pr := &printer{calls: make(chan image.Image, 4), block: make(chan struct{}), enter: power.cut}
	run := startCtx(ctx, New(pack, pr, nil, nil, st, clk, &Opts{Dir: dir}))
	run.events <- pressA(scene.Short)
	first := recv(t, pr.calls)
	if err := recv(t, run.done); err != nil {
		t.Fatal(err)
	}
	if mem.pending() != 1 {
		t.Fatalf("%d jobs after the cut, want the strip's print", mem.pending())
	}

	st2 := &hookStore{memStore: mem, added: make(chan int64, 1), printed: make(chan Job, 1)}
	pr2 := &printer{calls: make(chan image.Image, 4)}
	run2 := start(New(pack, pr2, nil, nil, st2, clk, &Opts{Dir: dir}))
	again := recv(t, pr2.calls)
	if !bytes.Equal(toRGBA(again).Pix, toRGBA(first).Pix) {
		t.Fatalf("printed again %v, not the strip first printed %v", again.Bounds(), first.Bounds())
	}
	recv(t, st2.printed)
	recv(t, st2.added)
	run2.stop(t)
	if !mem.done(1) {
		t.Fatal("strip 1 still being made")
	}
	if _, err := ReadArchive(dir, 1); err != nil {
		t.Fatal(err)
	}
}

func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			m.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return m
}
