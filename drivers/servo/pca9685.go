package servo

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/devices/v3/pca9685"
)

// PCA9685 is a 16-channel PWM controller shared by up to 16 servos.
type PCA9685 struct {
	mu   sync.Mutex // serialises bus traffic from the channels
	dev  *pca9685.Dev
	regs i2c.Dev // for what periph's driver does not offer
	name string
	tick time.Duration // one of the 4096 steps of a period
}

// oscTick is one cycle of the PCA9685's 25 MHz internal oscillator.
const oscTick = 40 * time.Nanosecond

// NewPCA9685 initialises the controller at addr (usually 0x40) for 50 Hz:
// all channels off, totem-pole outputs, auto-increment. periph's driver
// sleeps about 205 ms for the oscillator during this.
//
// periph's init leaves ALL_LED ON = OFF = 0, equal counts that the
// datasheet (§7.3.3) and Adafruit forbid; the full-off bit is set right
// after it so no output is ever left in that state.
func NewPCA9685(bus i2c.Bus, addr uint16) (*PCA9685, error) {
	dev, err := pca9685.NewI2C(bus, addr)
	if err != nil {
		return nil, fmt.Errorf("servo: no PCA9685 at %#02x on %s: %w", addr, bus, err)
	}
	// Read back PRE_SCALE rather than trust a formula: the period is
	// (prescale+1)·4096 oscillator cycles (datasheet §7.3.5), and periph's
	// rounding differs from the datasheet's, so 50 Hz is really ~49.6 Hz.
	var pre [1]byte
	if err := (&i2c.Dev{Bus: bus, Addr: addr}).Tx([]byte{0xFE}, pre[:]); err != nil {
		return nil, fmt.Errorf("servo: PCA9685 at %#02x on %s: read PRE_SCALE: %w", addr, bus, err)
	}
	if pre[0] < 3 {
		return nil, fmt.Errorf("servo: PCA9685 at %#02x on %s: PRE_SCALE %d below the minimum 3", addr, bus, pre[0])
	}
	p := &PCA9685{
		dev:  dev,
		regs: i2c.Dev{Bus: bus, Addr: addr},
		name: fmt.Sprintf("PCA9685{%s %#02x}", bus, addr),
		tick: time.Duration(int(pre[0])+1) * oscTick,
	}
	if err := p.allOff(); err != nil {
		return nil, err
	}
	return p, nil
}

// Period returns the actual PWM period.
func (p *PCA9685) Period() time.Duration { return 4096 * p.tick }

// Channel returns output ch (0..15).
func (p *PCA9685) Channel(ch int) (*PCA9685Channel, error) {
	if ch < 0 || ch > 15 {
		return nil, fmt.Errorf("servo: PCA9685 has channels 0..15, not %d", ch)
	}
	return &PCA9685Channel{p: p, ch: ch}, nil
}

// Halt switches every channel off with the ALL_LED full-off bit
// (ALL_LED_OFF_H bit 4, datasheet §7.3.3), as Adafruit's library does:
// ON and OFF counts must never be equal, which SetAllPwm(0, 0) would make.
func (p *PCA9685) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.allOff()
}

// allOff writes ALL_LED_ON_L..ALL_LED_OFF_H in one auto-increment write
// with the full-off bit: outputs low, counts never equal.
func (p *PCA9685) allOff() error {
	if err := p.regs.Tx([]byte{0xFA, 0x00, 0x00, 0x00, 0x10}, nil); err != nil {
		return fmt.Errorf("servo: %s: all off: %w", p.name, err)
	}
	return nil
}

func (p *PCA9685) String() string { return p.name }

// PCA9685Channel is one output of a PCA9685.
type PCA9685Channel struct {
	p  *PCA9685
	ch int
}

// SetPulse turns the output on at step 0 and off after d, rounded to the
// nearest step (~4.9 µs at 50 Hz).
func (c *PCA9685Channel) SetPulse(d time.Duration) error {
	steps := (d + c.p.tick/2) / c.p.tick
	if d <= 0 || steps < 1 || steps >= 4096 {
		return fmt.Errorf("servo: %s: pulse %s outside 0..%s", c, d, c.p.Period())
	}
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if err := c.p.dev.SetPwm(c.ch, 0, gpio.Duty(steps)); err != nil {
		return fmt.Errorf("servo: %s: %w", c, err)
	}
	return nil
}

// Stop sets the channel's full-off bit: no more pulses.
func (c *PCA9685Channel) Stop() error {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if err := c.p.dev.SetFullOff(c.ch); err != nil {
		return fmt.Errorf("servo: %s: %w", c, err)
	}
	return nil
}

func (c *PCA9685Channel) String() string { return fmt.Sprintf("%s/ch%d", c.p.name, c.ch) }

var _ Output = (*PCA9685Channel)(nil)
