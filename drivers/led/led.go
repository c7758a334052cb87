package led

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
)

// Clock is the time source for blinking.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Opts configures an LED.
type Opts struct {
	// ActiveLow is for an LED wired from 3V3 to the pin: low lights it.
	ActiveLow bool
	// Clock times blinking; nil is the wall clock.
	Clock Clock
}

// DefaultOpts returns the options for an LED wired from the pin to GND.
func DefaultOpts() *Opts { return &Opts{} }

// MinStep is the shortest on or off time accepted: below it a GPIO LED just
// looks dimmed and the goroutine burns CPU.
const MinStep = time.Millisecond

// Dev is one LED.
type Dev struct {
	pin       gpio.PinOut
	activeLow bool
	clock     Clock

	mu   sync.Mutex
	stop chan struct{} // closes to stop the blinker; nil when not blinking
	done chan struct{} // closed by the blinker when it has returned
	err  error         // the blinker's write error, set before done closes
}

var _ conn.Resource = (*Dev)(nil)

// New returns the LED on pin, switched off. opts nil means DefaultOpts.
func New(pin gpio.PinOut, opts *Opts) (*Dev, error) {
	if pin == nil {
		return nil, errors.New("led: nil pin")
	}
	if opts == nil {
		opts = DefaultOpts()
	}
	d := &Dev{pin: pin, activeLow: opts.ActiveLow, clock: opts.Clock}
	if d.clock == nil {
		d.clock = systemClock{}
	}
	if err := d.set(false); err != nil {
		return nil, err
	}
	return d, nil
}

// On lights the LED (stopping any blinking).
func (d *Dev) On() error { return d.steady(true) }

// Off darkens the LED (stopping any blinking).
func (d *Dev) Off() error { return d.steady(false) }

func (d *Dev) steady(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return errors.Join(d.stopBlinker(), d.set(on))
}

// Blink flashes the LED: on for half of period, off for the other half,
// starting on now.
func (d *Dev) Blink(period time.Duration) error {
	if period < 2*MinStep {
		return fmt.Errorf("led: blink period %v shorter than %v", period, 2*MinStep)
	}
	return d.Pattern([]time.Duration{period / 2, period - period/2})
}

// Pattern repeats steps forever: on for steps[0], off for steps[1], on for
// steps[2], ... It needs an even number of steps, each at least MinStep. The
// LED is on when Pattern returns. If the previous blinking had stopped on a
// write error, that error is returned and nothing starts.
func (d *Dev) Pattern(steps []time.Duration) error {
	if len(steps) == 0 || len(steps)%2 != 0 {
		return fmt.Errorf("led: pattern needs an even, non-zero number of steps, got %d", len(steps))
	}
	for i, s := range steps {
		if s < MinStep {
			return fmt.Errorf("led: pattern step %d is %v, shorter than %v", i, s, MinStep)
		}
	}
	steps = append([]time.Duration(nil), steps...)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.stopBlinker(); err != nil {
		return err
	}
	if err := d.set(true); err != nil {
		return err
	}
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go d.blink(steps, d.stop, d.done)
	return nil
}

// blink toggles the pin through steps until stop closes. Deadlines are
// counted from the start, so the rhythm does not drift with scheduling delays.
func (d *Dev) blink(steps []time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	next := d.clock.Now()
	for i := 0; ; i = (i + 1) % len(steps) {
		next = next.Add(steps[i])
		select {
		case <-stop:
			return
		case <-d.clock.After(next.Sub(d.clock.Now())):
		}
		// Step i+1 is an on step when it is even.
		if err := d.out((i+1)%2 == 0); err != nil {
			d.err = fmt.Errorf("led: %s: blinking stopped: %w", d.pin, err)
			return
		}
	}
}

// stopBlinker ends the blinking goroutine and waits for it. It returns the
// error that stopped it early, if any. Callers hold d.mu.
func (d *Dev) stopBlinker() error {
	if d.stop == nil {
		return nil
	}
	close(d.stop)
	<-d.done
	d.stop, d.done = nil, nil
	err := d.err
	d.err = nil
	return err
}

func (d *Dev) set(on bool) error {
	if err := d.out(on); err != nil {
		return fmt.Errorf("led: %s: %w", d.pin, err)
	}
	return nil
}

func (d *Dev) out(on bool) error { return d.pin.Out(gpio.Level(on != d.activeLow)) }

// Halt stops blinking and switches the LED off.
func (d *Dev) Halt() error { return d.Off() }

func (d *Dev) String() string {
	if d.activeLow {
		return fmt.Sprintf("led(%s, active low)", d.pin)
	}
	return fmt.Sprintf("led(%s)", d.pin)
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
