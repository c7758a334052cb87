package led

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"tinkerbox/scenes/scene/fakeclock"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type change struct {
	at time.Duration // since t0
	l  gpio.Level
}

// logPin records every Out with the fake clock's time; fail makes Out fail
// from the given call on.
type logPin struct {
	*gpiotest.Pin
	clk *fakeclock.Clock

	mu    sync.Mutex
	log   []change
	fail  int // 0: never
	calls int
}

func newLogPin(clk *fakeclock.Clock) *logPin {
	return &logPin{Pin: &gpiotest.Pin{N: "GPIO16", Num: 16}, clk: clk}
}

func (p *logPin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.fail > 0 && p.calls >= p.fail {
		return errors.New("pin gone")
	}
	p.log = append(p.log, change{p.clk.Now().Sub(t0), l})
	return p.Pin.Out(l)
}

func (p *logPin) changes() []change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]change(nil), p.log...)
}

func newDev(t *testing.T, activeLow bool) (*Dev, *logPin, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(t0)
	p := newLogPin(clk)
	d, err := New(p, &Opts{ActiveLow: activeLow, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Halt() })
	return d, p, clk
}

func equal(a, b []change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOnOff(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		d, p, _ := newDev(t, activeLow)
		on, off := gpio.High, gpio.Low
		if activeLow {
			on, off = off, on
		}
		if err := d.On(); err != nil {
			t.Fatal(err)
		}
		if p.Read() != on {
			t.Fatalf("activeLow=%v: On left pin %v", activeLow, p.Read())
		}
		if err := d.Off(); err != nil {
			t.Fatal(err)
		}
		if p.Read() != off {
			t.Fatalf("activeLow=%v: Off left pin %v", activeLow, p.Read())
		}
		// New starts dark.
		if want := []change{{0, off}, {0, on}, {0, off}}; !equal(p.changes(), want) {
			t.Fatalf("activeLow=%v: levels %v, want %v", activeLow, p.changes(), want)
		}
	}
}

// step waits for the blinker to arm its timer, advances to its deadline and
// waits until it has toggled and armed the next one.
func step(clk *fakeclock.Clock, d time.Duration) {
	clk.BlockUntil(1)
	clk.Advance(d)
	clk.BlockUntil(1)
}

func TestBlinkSequence(t *testing.T) {
	d, p, clk := newDev(t, false)
	if err := d.Blink(time.Second); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		step(clk, 500*time.Millisecond)
	}
	want := []change{
		{0, gpio.Low}, // New
		{0, gpio.High},
		{500 * time.Millisecond, gpio.Low},
		{1000 * time.Millisecond, gpio.High},
		{1500 * time.Millisecond, gpio.Low},
		{2000 * time.Millisecond, gpio.High},
	}
	if got := p.changes(); !equal(got, want) {
		t.Fatalf("levels\n got %v\nwant %v", got, want)
	}
}

func TestPatternNoDrift(t *testing.T) {
	d, p, clk := newDev(t, true)
	// Heartbeat: two short flashes, then a pause.
	if err := d.Pattern([]time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 700 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	// Late by 30 ms: the next deadline still counts from the start.
	clk.Advance(130 * time.Millisecond)
	step(clk, 70*time.Millisecond)
	step(clk, 100*time.Millisecond)
	step(clk, 700*time.Millisecond)
	want := []change{
		{0, gpio.High}, // New, active low: off
		{0, gpio.Low},
		{130 * time.Millisecond, gpio.High},
		{200 * time.Millisecond, gpio.Low},
		{300 * time.Millisecond, gpio.High},
		{1000 * time.Millisecond, gpio.Low},
	}
	if got := p.changes(); !equal(got, want) {
		t.Fatalf("levels\n got %v\nwant %v", got, want)
	}
}

func TestBlinkThenOnStopsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	d, p, clk := newDev(t, false)
	if err := d.Blink(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	step(clk, 100*time.Millisecond) // now off
	done := d.done
	if err := d.On(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Fatal("blinker still running after On")
	}
	if d.stop != nil || d.done != nil {
		t.Fatal("blinker state left behind")
	}
	n := len(p.changes())
	clk.Advance(10 * time.Second) // the dead blinker's timer fires into nothing
	if p.Read() != gpio.High || len(p.changes()) != n {
		t.Fatalf("pin %v after On and %d writes since, want High and none", p.Read(), len(p.changes())-n)
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i > 1000 {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
	}
}

func TestBlinkReplacesBlink(t *testing.T) {
	d, p, clk := newDev(t, false)
	if err := d.Blink(time.Second); err != nil {
		t.Fatal(err)
	}
	first := d.done
	if err := d.Blink(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first:
	default:
		t.Fatal("first blinker still running")
	}
	// The first blinker's timer is still pending in the fake clock: count it.
	clk.BlockUntil(2)
	clk.Advance(50 * time.Millisecond)
	clk.BlockUntil(2)
	got := p.changes()
	if last := got[len(got)-1]; last != (change{50 * time.Millisecond, gpio.Low}) {
		t.Fatalf("last change %v, want low at 50ms from the new rhythm", last)
	}
}

func TestHaltStopsAndDarkens(t *testing.T) {
	d, p, clk := newDev(t, false)
	if err := d.Blink(time.Second); err != nil {
		t.Fatal(err)
	}
	clk.BlockUntil(1)
	done := d.done
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	<-done // closed: Halt waited for it
	if p.Read() != gpio.Low {
		t.Fatal("Halt left the LED on")
	}
}

func TestBlinkWriteErrorReported(t *testing.T) {
	d, p, clk := newDev(t, false)
	if err := d.Blink(time.Second); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.fail = p.calls + 1 // the blinker's first toggle fails
	p.mu.Unlock()
	clk.BlockUntil(1)
	clk.Advance(500 * time.Millisecond)
	<-d.done
	err := d.Off()
	if err == nil || !strings.Contains(err.Error(), "led: GPIO16(16): blinking stopped: pin gone") {
		t.Fatalf("Off after a failed blink = %v", err)
	}
	// Reported once.
	p.mu.Lock()
	p.fail = 0
	p.mu.Unlock()
	if err := d.Off(); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(nil, nil); err == nil || !strings.HasPrefix(err.Error(), "led: ") {
		t.Fatalf("New(nil) = %v", err)
	}
	d, p, _ := newDev(t, false)
	for _, steps := range [][]time.Duration{nil, {time.Second}, {time.Second, 0}, {time.Second, -time.Second}} {
		if err := d.Pattern(steps); err == nil || !strings.HasPrefix(err.Error(), "led: pattern") {
			t.Errorf("Pattern(%v) = %v", steps, err)
		}
	}
	if err := d.Blink(time.Millisecond); err == nil {
		t.Error("Blink(1ms) accepted")
	}
	if d.stop != nil {
		t.Fatal("a rejected pattern started a blinker")
	}
	p.mu.Lock()
	p.fail = 1
	p.mu.Unlock()
	if err := d.On(); err == nil || !strings.Contains(err.Error(), "pin gone") {
		t.Fatalf("On with a broken pin = %v", err)
	}
}

func TestString(t *testing.T) {
	d, _, _ := newDev(t, true)
	if got, want := d.String(), "led(GPIO16(16), active low)"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}
