package button

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"tinkerbox/scenes/scene/fakeclock"
)

// fakeLines stands in for a gpiocdev line request: the test calls handler as
// gpiocdev's reader goroutine would.
type fakeLines struct {
	handler  gpiocdev.EventHandler
	closed   int
	closeErr error
}

func (f *fakeLines) Close() error { f.closed++; return f.closeErr }

func (f *fakeLines) request(h gpiocdev.EventHandler) (io.Closer, error) {
	f.handler = h
	return f, nil
}

func noChord(o *Opts) { o.Chord = nil }

func openFake(t *testing.T, lines map[string]int, mod func(*Opts)) (*Set, *fakeLines, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	o := DefaultOpts()
	o.Clock = clk
	if mod != nil {
		mod(o)
	}
	names, offsets, err := layout(lines)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLines{}
	s, err := newSet(describe("gpiochip0", names, offsets), names, offsets, o, f.request)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Halt() })
	return s, f, clk
}

// edge delivers a kernel event whose timestamp follows the fake clock, plus a
// fixed delivery offset the stamper must remove.
func (f *fakeLines) edge(clk *fakeclock.Clock, offset int, pressed bool) {
	typ := gpiocdev.LineEventFallingEdge
	if pressed {
		typ = gpiocdev.LineEventRisingEdge
	}
	f.handler(gpiocdev.LineEvent{Offset: offset, Type: typ, Timestamp: clk.Now().Sub(t0) + 42*time.Hour})
}

func TestSetDeliversPresses(t *testing.T) {
	s, f, clk := openFake(t, map[string]int{"A": 5, "B": 6}, nil)
	f.edge(clk, 6, true)
	clk.Advance(ms(150))
	f.edge(clk, 6, false)
	clk.Advance(time.Second)
	if got, want := recv(t, s.Events()), ev("B", Short, ms(150)); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	// A held past the threshold reports while still held.
	f.edge(clk, 5, true)
	clk.Advance(time.Second)
	clk.Advance(time.Second)
	if got, want := recv(t, s.Events()), ev("A", Long, ms(2150)); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSetChordDefault(t *testing.T) {
	s, f, clk := openFake(t, map[string]int{"A": 5, "B": 6}, nil)
	f.edge(clk, 5, true)
	f.edge(clk, 6, true)
	for range 6 {
		clk.Advance(time.Second)
	}
	if got, want := recv(t, s.Events()), ev("A+B", Long, 5*time.Second); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSetHaltStopsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	s, f, clk := openFake(t, map[string]int{"A": 5}, noChord)
	f.edge(clk, 5, true) // leave a timer pending
	if err := s.Halt(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ended:
	default:
		t.Fatal("goroutine still running after Halt")
	}
	if _, ok := <-s.Events(); ok {
		t.Fatal("Events not closed")
	}
	if f.closed != 1 {
		t.Fatalf("request closed %d times", f.closed)
	}
	if err := s.Halt(); err != nil || f.closed != 1 {
		t.Fatalf("second Halt: %v, closed %d times", err, f.closed)
	}
	// After Halt the handler must not block gpiocdev's reader.
	f.edge(clk, 5, false)
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i > 1000 {
			t.Fatalf("%d goroutines, %d before Open", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
	}
}

func TestSetHaltReportsCloseError(t *testing.T) {
	s, f, _ := openFake(t, map[string]int{"A": 5}, noChord)
	f.closeErr = errors.New("ebadf")
	err := s.Halt()
	if err == nil || !strings.Contains(err.Error(), "button: release lines: ebadf") {
		t.Fatalf("Halt = %v", err)
	}
}

func TestSetRequestErrorStartsNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("boom")
	_, err := newSet("x", []string{"A"}, []int{5}, &Opts{}, func(gpiocdev.EventHandler) (io.Closer, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after a failed open, %d before", n, before)
	}
}

func TestSetString(t *testing.T) {
	s, _, _ := openFake(t, map[string]int{"B": 6, "A": 5}, nil)
	if got, want := s.String(), "button.Set(gpiochip0: A=5, B=6)"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		chip  string
		lines map[string]int
		opts  *Opts
		want  string
	}{
		{"gpiochip-tinkerbox-none", map[string]int{"A": 5, "B": 6}, nil, "button: open gpiochip-tinkerbox-none: "},
		{"gpiochip-tinkerbox-none", map[string]int{"A": 5, "B": 6}, nil, "(is this a Raspberry Pi? try --sim)"},
		{"gpiochip0", nil, nil, "button: no lines given"},
		{"gpiochip0", map[string]int{"A": -1}, nil, "negative line offset"},
		{"gpiochip0", map[string]int{"A": 5, "B": 5}, nil, "A and B both on line 5"},
		{"gpiochip0", map[string]int{"X": 5}, nil, `chord member "A" is not a button`},
		{"gpiochip0", map[string]int{"A": 5}, &Opts{Debounce: -time.Millisecond}, "negative debounce"},
	} {
		s, err := Open(tc.chip, tc.lines, tc.opts)
		if err == nil {
			_ = s.Halt()
			t.Errorf("Open(%q, %v) succeeded", tc.chip, tc.lines)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q, %v) = %v, want %q", tc.chip, tc.lines, err, tc.want)
		}
	}
}

func TestStamper(t *testing.T) {
	var st stamper
	base := 10 * time.Second
	// Delivered 3 ms late, then a burst delivered together: spacing kept.
	if got := st.at(t0.Add(ms(3)), base); !got.Equal(t0.Add(ms(3))) {
		t.Fatalf("first = %v", got)
	}
	// The second edge arrives with no delay: the offset estimate improves.
	if got := st.at(t0.Add(ms(10)), base+ms(10)); !got.Equal(t0.Add(ms(10))) {
		t.Fatalf("second = %v", got)
	}
	if got := st.at(t0.Add(ms(40)), base+ms(12)); !got.Equal(t0.Add(ms(12))) {
		t.Fatalf("late third = %v, want its kernel spacing", got)
	}
	// The kernel clock jumped back an hour: resynchronise instead of dating
	// every edge an hour ago.
	if got := st.at(t0.Add(ms(50)), base-time.Hour); !got.Equal(t0.Add(ms(50))) {
		t.Fatalf("after jump = %v", got)
	}
}
