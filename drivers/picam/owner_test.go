package picam

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

// guard fails a test that waits far longer than it should; it is a safety
// net, never a way of waiting for something.
const guard = 10 * time.Second

// chanSource is a Source driven by the test.
type chanSource struct {
	frames  chan []byte
	fail    chan error
	started chan struct{}
	stopped chan error
}

func newChanSource() *chanSource {
	return &chanSource{
		frames:  make(chan []byte),
		fail:    make(chan error),
		started: make(chan struct{}, 10),
		stopped: make(chan error, 10),
	}
}

func (s *chanSource) String() string { return "chan source" }

func (s *chanSource) Stream(ctx context.Context, emit func([]byte)) error {
	s.started <- struct{}{}
	for {
		select {
		case <-ctx.Done():
			s.stopped <- ctx.Err()
			return ctx.Err()
		case f := <-s.frames:
			emit(f)
		case err := <-s.fail:
			s.stopped <- err
			return err
		}
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	src   *chanSource
	clk   *fakeclock.Clock
	log   *syncBuffer
	o     *Owner
	ctx   context.Context
	runEr chan error
}

func startOwner(t *testing.T, opts OwnerOpts) *harness {
	t.Helper()
	h := &harness{src: newChanSource(), clk: fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), log: &syncBuffer{}}
	opts.Clock = h.clk
	opts.Log = slog.New(slog.NewTextHandler(h.log, nil))
	h.o = NewOwner(h.src, &opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	h.runEr = make(chan error, 1)
	go func() { h.runEr <- h.o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		h.o.Halt()
	})
	return h
}

func TestOwnerNextNewestNotQueue(t *testing.T) {
	h := startOwner(t, OwnerOpts{})
	recv(t, h.src.started, "start")
	frames := testFrames(t, 3)
	for _, f := range frames {
		h.src.frames <- f
	}
	ctx := context.Background()
	f3, err := h.o.Next(ctx, 2)
	if err != nil || f3.Seq != 3 || !bytes.Equal(f3.JPEG, frames[2]) {
		t.Fatalf("Next(2) = seq %d, %v", f3.Seq, err)
	}
	// A slow reader that last saw nothing gets the newest frame, not the first.
	f, err := h.o.Next(ctx, 0)
	if err != nil || f.Seq != 3 || !f.At.Equal(h.clk.Now()) {
		t.Fatalf("slow reader got seq %d at %v, %v", f.Seq, f.At, err)
	}
	st := h.o.Stats()
	if st.Frames != 3 || st.Width != 96 || st.Height != 64 || !st.Running || st.Restarts != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestOwnerNextCancel(t *testing.T) {
	h := startOwner(t, OwnerOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := h.o.Next(ctx, 0)
		got <- err
	}()
	cancel()
	if err := recv(t, got, "Next to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next = %v, want context.Canceled", err)
	}
	// The reader left the waiting list, its channel kept for the next one.
	h.o.mu.Lock()
	defer h.o.mu.Unlock()
	if len(h.o.waiters) != 0 || len(h.o.spareWake) != 1 {
		t.Fatalf("after a cancelled Next: %d waiting, %d spare channels", len(h.o.waiters), len(h.o.spareWake))
	}
}

// TestOwnerNextAllocs: in the steady state, a frame and the readers waiting
// for it cost nothing on the heap (a channel per frame, before). Measured in
// a process of its own: the count is the whole process's.
func TestOwnerNextAllocs(t *testing.T) {
	if os.Getenv(isolatedEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOwnerNextAllocs$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), isolatedEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestOwnerNextAllocs") {
			t.Fatalf("measured alone: %v\n%s", err, out)
		}
		t.Logf("measured alone:\n%s", out)
		return
	}
	o := NewOwner(newChanSource(), &OwnerOpts{Log: slog.New(slog.DiscardHandler)})
	frame := makeJPEG(t, 32, 32, 1)
	const readers = 8
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range readers {
		go func() {
			var last uint64
			for {
				f, err := o.Next(ctx, last)
				if err != nil {
					return
				}
				last = f.Seq
				wg.Done()
			}
		}()
	}
	frameOut := func() {
		wg.Add(readers)
		o.emit(frame)
		wg.Wait()
	}
	for range 3 {
		frameOut() // the wake channels are made once
	}
	allocs := testing.AllocsPerRun(200, frameOut)
	t.Logf("%.2f allocations per frame to %d readers", allocs, readers)
	if allocs > 0.2 { // 0, but the runtime may allocate on its own now and then
		t.Fatalf("%.2f allocations per frame, want 0", allocs)
	}
}

func TestOwnerFanoutAndCorrupt(t *testing.T) {
	h := startOwner(t, OwnerOpts{})
	recv(t, h.src.started, "start")
	const viewers = 20
	got := make(chan Frame, viewers)
	var ready sync.WaitGroup
	for range viewers {
		ready.Add(1)
		go func() {
			ready.Done()
			f, err := h.o.Next(context.Background(), 0)
			if err != nil {
				t.Error(err)
			}
			got <- f
		}()
	}
	ready.Wait()
	// A frame without SOF wakes nobody and is counted.
	h.src.frames <- []byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9}
	good := makeJPEG(t, 40, 30, 1)
	h.src.frames <- good
	for range viewers {
		f := recv(t, got, "viewer")
		if f.Seq != 1 || !bytes.Equal(f.JPEG, good) {
			t.Fatalf("viewer got seq %d", f.Seq)
		}
	}
	if st := h.o.Stats(); st.Corrupt != 1 || st.Frames != 1 || st.Width != 40 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestOwnerBackoff(t *testing.T) {
	h := startOwner(t, OwnerOpts{BackoffMin: 500 * time.Millisecond, BackoffMax: 2 * time.Second, Healthy: time.Minute})
	for i, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second} {
		recv(t, h.src.started, "start")
		h.src.fail <- errors.New("picam: fake: exit status 1")
		h.clk.BlockUntil(1)
		if st := h.o.Stats(); st.Restarts != i+1 || st.Running || st.LastError != "picam: fake: exit status 1" {
			t.Fatalf("after failure %d: Stats = %+v", i+1, st)
		}
		h.clk.Advance(want - time.Millisecond)
		if h.clk.Waiters() != 1 {
			t.Fatalf("failure %d: restarted before the %v backoff", i+1, want)
		}
		h.clk.Advance(time.Millisecond)
	}
	// A healthy period resets the backoff.
	recv(t, h.src.started, "start")
	h.clk.Advance(time.Minute)
	h.src.fail <- errors.New("again")
	h.clk.BlockUntil(1)
	h.clk.Advance(500 * time.Millisecond)
	recv(t, h.src.started, "restart after reset backoff")
	lines := strings.Count(h.log.String(), "camera source failed")
	if lines != 5 || !strings.Contains(h.log.String(), "retry_in=2s") {
		t.Fatalf("log has %d failure lines:\n%s", lines, h.log)
	}
}

func TestOwnerSetActive(t *testing.T) {
	h := startOwner(t, OwnerOpts{Inactive: true})
	if st := h.o.Stats(); st.Running || st.Active {
		t.Fatalf("inactive owner: %+v", st)
	}
	h.o.SetActive(true)
	recv(t, h.src.started, "start on SetActive(true)")
	h.src.frames <- makeJPEG(t, 40, 30, 1)
	h.o.SetActive(false)
	if err := recv(t, h.src.stopped, "stop on SetActive(false)"); !errors.Is(err, context.Canceled) {
		t.Fatalf("source stopped with %v", err)
	}
	// Readers keep the last frame; pausing is not a failure: no backoff.
	if f, err := h.o.Next(context.Background(), 0); err != nil || f.Seq != 1 {
		t.Fatalf("Next = %d, %v", f.Seq, err)
	}
	h.o.SetActive(true)
	recv(t, h.src.started, "restart on SetActive(true)")
	if st := h.o.Stats(); st.Restarts != 0 || h.clk.Waiters() != 0 || h.log.String() != "" {
		t.Fatalf("pause counted as failure: %+v, log %q", st, h.log)
	}
}

func TestOwnerHalt(t *testing.T) {
	h := startOwner(t, OwnerOpts{})
	recv(t, h.src.started, "start")
	got := make(chan error, 1)
	go func() {
		_, err := h.o.Next(context.Background(), 0)
		got <- err
	}()
	if err := h.o.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, h.runEr, "Run to return"); err != nil {
		t.Fatalf("Run = %v after Halt", err)
	}
	if err := recv(t, got, "Next to return"); !errors.Is(err, ErrHalted) {
		t.Fatalf("Next = %v, want ErrHalted", err)
	}
	if err := h.o.Run(context.Background()); err != nil {
		t.Fatalf("Run after Halt = %v", err)
	}
}

func TestOwnerFPS(t *testing.T) {
	h := startOwner(t, OwnerOpts{})
	recv(t, h.src.started, "start")
	f := makeJPEG(t, 16, 16, 1)
	for i := range 10 {
		h.src.frames <- f
		if _, err := h.o.Next(context.Background(), uint64(i)); err != nil {
			t.Fatal(err)
		}
		h.clk.Advance(100 * time.Millisecond)
	}
	if fps := h.o.Stats().FPS; fps < 9.99 || fps > 10.01 {
		t.Fatalf("FPS = %v, want 10", fps)
	}
	h.clk.Advance(2 * time.Second)
	if fps := h.o.Stats().FPS; fps != 0 {
		t.Fatalf("FPS of a silent camera = %v", fps)
	}
}

func BenchmarkOwnerFanout(b *testing.B) {
	o := NewOwner(newChanSource(), &OwnerOpts{Log: slog.New(slog.DiscardHandler)})
	frame := makeJPEG(b, 32, 32, 1)
	const viewers = 20
	var wg sync.WaitGroup
	start := make(chan uint64)
	ctx := context.Background()
	for range viewers {
		go func() {
			for after := range start {
				if f, err := o.Next(ctx, after); err != nil || f.Seq <= after {
					b.Error(f.Seq, err)
				}
				wg.Done()
			}
		}()
	}
	b.ReportAllocs()
	for b.Loop() {
		after := o.Latest().Seq
		wg.Add(viewers)
		for range viewers {
			start <- after
		}
		o.emit(frame)
		wg.Wait()
	}
	close(start)
}

// lendSource lends every frame from one buffer it overwrites, as the
// splitter does.
type lendSource struct {
	*chanSource
	buf []byte
}

func (s *lendSource) StreamBorrowed(ctx context.Context, emit func([]byte)) error {
	return s.chanSource.Stream(ctx, func(f []byte) {
		s.buf = append(s.buf[:0], f...)
		emit(s.buf)
	})
}

// TestOwnerRecyclesFrames: a lent frame is copied, so the source may
// overwrite its buffer; a frame given back by every holder is reused for a
// later one; a frame someone got from Next is never reused.
func TestOwnerRecyclesFrames(t *testing.T) {
	src := &lendSource{chanSource: newChanSource()}
	o := NewOwner(src, &OwnerOpts{Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	defer func() { cancel(); o.Halt(); <-done }()
	recv(t, src.started, "start")
	frames := testFrames(t, 3)
	bg := context.Background()

	src.frames <- frames[0]
	f1, err := o.Hold(bg, 0)
	if err != nil || !bytes.Equal(f1.JPEG, frames[0]) {
		t.Fatalf("Hold = %d bytes, %v", len(f1.JPEG), err)
	}
	src.frames <- frames[1]
	f2, _ := o.Hold(bg, f1.Seq)
	if !bytes.Equal(f1.JPEG, frames[0]) || !bytes.Equal(f2.JPEG, frames[1]) {
		t.Fatal("a held frame changed when the source reused its buffer")
	}
	o.Release(f1) // f1's buffer is free now: the next frame goes into it
	mem1 := &f1.JPEG[0]
	src.frames <- frames[2]
	f3, _ := o.Hold(bg, f2.Seq)
	if &f3.JPEG[0] != mem1 || !bytes.Equal(f3.JPEG, frames[2]) || !bytes.Equal(f2.JPEG, frames[1]) {
		t.Fatalf("frame 3 not in frame 1's released buffer, or frame 2 (still held) changed")
	}
	o.Release(f2)
	o.Release(f3)
	o.Release(f3) // once too often: the newest frame stays

	// Next's frame is the caller's for good.
	kept, _ := o.Next(bg, f3.Seq-1)
	memKept := &kept.JPEG[0]
	for i := range 2 * maxSpareBufs {
		src.frames <- frames[i%2]
		f, _ := o.Hold(bg, kept.Seq+uint64(i))
		if &f.JPEG[0] == memKept {
			t.Fatal("a frame handed out by Next was reused")
		}
		o.Release(f)
	}
	if !bytes.Equal(kept.JPEG, frames[2]) {
		t.Fatal("a frame handed out by Next changed")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.live) != 1 || len(o.spareBufs) > maxSpareBufs {
		t.Fatalf("%d frames live (want the newest only), %d spare", len(o.live), len(o.spareBufs))
	}
}

// TestOwnerBorrowedAllocs: frames lent by the camera and held by readers
// that give them back cost nothing on the heap in the steady state: the
// copy goes into a buffer the owner reuses. Measured alone.
func TestOwnerBorrowedAllocs(t *testing.T) {
	if os.Getenv(isolatedEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOwnerBorrowedAllocs$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), isolatedEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestOwnerBorrowedAllocs") {
			t.Fatalf("measured alone: %v\n%s", err, out)
		}
		t.Logf("measured alone:\n%s", out)
		return
	}
	o := NewOwner(newChanSource(), &OwnerOpts{Log: slog.New(slog.DiscardHandler)})
	frames := testFrames(t, 2)
	const readers = 8
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range readers {
		go func() {
			var last uint64
			for {
				f, err := o.Hold(ctx, last)
				if err != nil {
					return
				}
				last = f.Seq
				o.Release(f)
				wg.Done()
			}
		}()
	}
	i := 0
	frameOut := func() {
		wg.Add(readers)
		o.emitBorrowed(frames[i%2])
		i++
		wg.Wait()
	}
	for range 3 {
		frameOut()
	}
	allocs := testing.AllocsPerRun(200, frameOut)
	t.Logf("%.2f allocations per lent frame to %d readers", allocs, readers)
	if allocs > 0.2 {
		t.Fatalf("%.2f allocations per frame, want 0", allocs)
	}
}
