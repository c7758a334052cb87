package sim

import (
	"fmt"
	"sync"
	"time"
)

// LED modes reported by LEDState.Mode.
const (
	LEDOff   = "off"
	LEDOn    = "on"
	LEDBlink = "blink"
)

// LEDState is what an LED is doing at one instant.
type LEDState struct {
	Mode   string        // LEDOff, LEDOn or LEDBlink
	Period time.Duration // blink period; 0 unless blinking
	Lit    bool          // whether it is lit right now
}

// LED is a status LED. Blinking needs no goroutine: the lit state is computed
// from the clock whenever it is asked for.
type LED struct {
	mu      sync.Mutex
	name    string
	clk     Clock
	mode    string
	period  time.Duration
	since   time.Time // blink start: lit for the first half period
	version uint64
}

// NewLED returns an LED that is off. A nil clk is the wall clock.
func NewLED(name string, clk Clock) *LED {
	return &LED{name: name, clk: orSystem(clk), mode: LEDOff}
}

func (l *LED) String() string { return fmt.Sprintf("sim.LED(%s)", l.name) }

// Name is the LED's name.
func (l *LED) Name() string { return l.name }

// On lights the LED.
func (l *LED) On() error { l.set(LEDOn, 0); return nil }

// Off turns the LED off.
func (l *LED) Off() error { l.set(LEDOff, 0); return nil }

// Halt turns the LED off.
func (l *LED) Halt() error { return l.Off() }

// Blink flashes the LED with a 50 % duty cycle, starting lit. Asking for the
// blink it already does keeps its phase, so repeated calls do not stutter.
func (l *LED) Blink(period time.Duration) error {
	if period <= 0 {
		return fmt.Errorf("sim: led %s: blink period %v must be positive", l.name, period)
	}
	l.set(LEDBlink, period)
	return nil
}

func (l *LED) set(mode string, period time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mode == mode && l.period == period {
		return
	}
	l.mode, l.period = mode, period
	l.since = l.clk.Now()
	l.version++
}

// State returns the mode and whether the LED is lit now.
func (l *LED) State() LEDState {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LEDState{Mode: l.mode, Period: l.period, Lit: l.mode == LEDOn}
	if l.mode == LEDBlink {
		phase := l.clk.Now().Sub(l.since) % l.period
		if phase < 0 {
			phase += l.period // a clock stepped backwards
		}
		s.Lit = phase < l.period/2
	}
	return s
}

// Version increases when the mode changes (not on every blink).
func (l *LED) Version() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}
