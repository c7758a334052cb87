package tcs3472

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// Addr is the fixed I²C address of the TCS3472.
const Addr uint16 = 0x29

// Command byte (datasheet "Command Register"): bit 7 selects the command
// register, bits 6:5 the transaction type.
const (
	cmd     = 0x80 // repeated byte protocol
	cmdAuto = 0xA0 // auto-increment protocol: one burst reads all four channels atomically
)

// Registers.
const (
	regEnable  = 0x00
	regATime   = 0x01
	regControl = 0x0F
	regID      = 0x12
	regStatus  = 0x13
	regCData   = 0x14 // CDATAL; CDATAH, RDATA, GDATA and BDATA follow
)

// ENABLE and STATUS bits.
const (
	enPON     = 0x01
	enAEN     = 0x02
	stAVALID  = 0x01
	cycle     = 2400 * time.Microsecond // one integration cycle, also the PON warm-up
	maxCycles = 256
)

// IDs: 0x44 for TCS34721/TCS34725, 0x4D for TCS34723/TCS34727.
const (
	id34725 = 0x44
	id34727 = 0x4D
)

// Gain is the analogue gain of the RGBC channels (CONTROL.AGAIN).
type Gain uint8

// Gains, in register order.
const (
	Gain1x Gain = iota
	Gain4x
	Gain16x
	Gain60x
)

func (g Gain) factor() float64 {
	switch g {
	case Gain4x:
		return 4
	case Gain16x:
		return 16
	case Gain60x:
		return 60
	}
	return 1
}

func (g Gain) String() string {
	switch g {
	case Gain1x, Gain4x, Gain16x, Gain60x:
		return fmt.Sprintf("%gx", g.factor())
	}
	return fmt.Sprintf("Gain(%d)", uint8(g))
}

// Clock is the time source used for the power-on warm-up and for waiting on
// an integration; fakeclock.Clock satisfies it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Opts configures the sensor.
type Opts struct {
	// Addr is the I²C address; 0 means Addr (0x29).
	Addr uint16
	// Gain is the analogue gain.
	Gain Gain
	// Integration is the RGBC integration time, a multiple of 2.4 ms from
	// 2.4 ms to 614.4 ms (rounded to the nearest cycle). Longer is more
	// sensitive and slower.
	Integration time.Duration
	// Clock times the warm-up and integration waits; nil means the wall clock.
	Clock Clock
}

// DefaultOpts returns 4x gain and a 153.6 ms integration (64 cycles): a lit
// card under the Enviro pHAT LEDs stays well below saturation.
func DefaultOpts() Opts {
	return Opts{Addr: Addr, Gain: Gain4x, Integration: 64 * cycle}
}

// RGBC is one reading.
type RGBC struct {
	// Raw channel counts.
	Clear, Red, Green, Blue uint16
	// Lux is the DN40 illuminance estimate in lux (physic has no lux unit);
	// 0 when the reading is saturated or IR dominates.
	Lux float64
	// ColorTemp is the DN40 correlated colour temperature; 0 when unknown.
	ColorTemp physic.Temperature
	// Saturated is set when the clear channel hit its maximum count: the
	// counts are clipped and Lux is meaningless. Lower the gain or integration.
	Saturated bool
}

func (r RGBC) String() string {
	return fmt.Sprintf("C%d R%d G%d B%d %.1f lx", r.Clear, r.Red, r.Green, r.Blue, r.Lux)
}

// Dev is a TCS3472 on an I²C bus.
type Dev struct {
	mu     sync.Mutex
	d      i2c.Dev
	clock  Clock
	gain   Gain
	cycles int // integration cycles (256 - ATIME)
	name   string
}

// New probes the TCS3472, configures gain and integration time and starts the
// RGBC engine: power on, wait the 2.4 ms warm-up, then enable the ADC.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o := DefaultOpts()
	if opts != nil {
		o = *opts
	}
	if o.Addr == 0 {
		o.Addr = Addr
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Gain > Gain60x {
		return nil, fmt.Errorf("tcs3472: invalid gain %d", uint8(o.Gain))
	}
	if o.Integration == 0 {
		o.Integration = DefaultOpts().Integration
	}
	cycles := int((o.Integration + cycle/2) / cycle)
	if o.Integration < 0 || cycles < 1 || cycles > maxCycles {
		return nil, fmt.Errorf("tcs3472: integration %s outside 2.4ms..614.4ms", o.Integration)
	}
	d := &Dev{d: i2c.Dev{Bus: bus, Addr: o.Addr}, clock: o.Clock, gain: o.Gain, cycles: cycles}

	var id [1]byte
	if err := d.d.Tx([]byte{cmd | regID}, id[:]); err != nil {
		return nil, fmt.Errorf("tcs3472: no sensor at %#02x on %s: %w", o.Addr, bus, err)
	}
	switch id[0] {
	case id34725:
		d.name = "TCS34725"
	case id34727:
		d.name = "TCS34727"
	default:
		return nil, fmt.Errorf("tcs3472: unexpected id %#02x at %#02x on %s (want 0x44 or 0x4d)", id[0], o.Addr, bus)
	}
	if err := d.write(regATime, byte(maxCycles-cycles)); err != nil {
		return nil, err
	}
	if err := d.write(regControl, byte(o.Gain)); err != nil {
		return nil, err
	}
	if err := d.write(regEnable, enPON); err != nil {
		return nil, err
	}
	// The oscillator needs 2.4 ms after PON before the ADC may be enabled.
	<-d.clock.After(cycle)
	if err := d.write(regEnable, enPON|enAEN); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Dev) write(reg, v byte) error {
	if err := d.d.Tx([]byte{cmd | reg, v}, nil); err != nil {
		return fmt.Errorf("tcs3472: write register %#02x: %w", reg, err)
	}
	return nil
}

// Integration returns the configured integration time.
func (d *Dev) Integration() time.Duration { return time.Duration(d.cycles) * cycle }

// maxCount is the full-scale clear count: 1024 per cycle, clipped to 16 bits.
func (d *Dev) maxCount() int {
	return min(d.cycles*1024, math.MaxUint16)
}

// Sense returns the latest completed integration. If none has completed yet
// (just after New), it waits up to two integration times for one.
func (d *Dev) Sense() (RGBC, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for try := 0; ; try++ {
		var st [1]byte
		if err := d.d.Tx([]byte{cmd | regStatus}, st[:]); err != nil {
			return RGBC{}, fmt.Errorf("tcs3472: read status: %w", err)
		}
		if st[0]&stAVALID != 0 {
			break
		}
		if try == 2 {
			return RGBC{}, errors.New("tcs3472: no valid reading after two integration times: is the sensor enabled?")
		}
		<-d.clock.After(d.Integration())
	}
	var b [8]byte
	if err := d.d.Tx([]byte{cmdAuto | regCData}, b[:]); err != nil {
		return RGBC{}, fmt.Errorf("tcs3472: read data: %w", err)
	}
	r := RGBC{
		Clear: binary.LittleEndian.Uint16(b[0:]),
		Red:   binary.LittleEndian.Uint16(b[2:]),
		Green: binary.LittleEndian.Uint16(b[4:]),
		Blue:  binary.LittleEndian.Uint16(b[6:]),
	}
	r.Saturated = int(r.Clear) >= d.maxCount()
	if !r.Saturated {
		r.Lux, r.ColorTemp = dn40(r, d.Integration(), d.gain.factor())
	}
	return r, nil
}

// DN40 open-air coefficients for the TCS3472 (no glass: GA = 1).
const (
	coefR    = 0.136
	coefG    = 1.0
	coefB    = -0.444
	dn40DF   = 310
	ctCoef   = 3810
	ctOffset = 1391
)

// dn40 removes the IR component shared by all channels, weights the channels
// to a photopic response and divides by counts-per-lux.
func dn40(r RGBC, integ time.Duration, gain float64) (float64, physic.Temperature) {
	c, rr, g, b := float64(r.Clear), float64(r.Red), float64(r.Green), float64(r.Blue)
	ir := (rr + g + b - c) / 2
	if ir < 0 {
		ir = 0
	}
	r1, g1, b1 := rr-ir, g-ir, b-ir
	cpl := float64(integ) / float64(time.Millisecond) * gain / dn40DF
	lux := (coefR*r1 + coefG*g1 + coefB*b1) / cpl
	if lux < 0 {
		lux = 0
	}
	var ct physic.Temperature
	if r1 > 0 {
		k := ctCoef*b1/r1 + ctOffset
		if k > 0 {
			ct = physic.Temperature(k * float64(physic.Kelvin))
		}
	}
	return lux, ct
}

// Halt powers the sensor down (ENABLE = 0): about 2.5 µA sleep current.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(regEnable, 0)
}

func (d *Dev) String() string {
	return fmt.Sprintf("%s{%s %#02x}", d.name, d.d.Bus, d.d.Addr)
}
