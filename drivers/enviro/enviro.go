package enviro

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"

	"tinkerbox/drivers/tcs3472"
)

// ErrNoLight is returned by Light when the board has no working colour sensor.
var ErrNoLight = errors.New("enviro: no light sensor")

// Clock is the time source handed to the TCS3472; fakeclock.Clock satisfies it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Opts configures the board.
type Opts struct {
	// BMP280Addr is the pressure sensor's address; 0 means 0x77 (Enviro pHAT).
	// Enviro+ boards have a BME280 at 0x76.
	BMP280Addr uint16
	// TCS3472Addr is the colour sensor's address; 0 means none.
	TCS3472Addr uint16
	// Light configures the colour sensor's gain and integration (its Addr
	// and Clock are ignored); start from DefaultOpts for 4x gain.
	Light tcs3472.Opts
	// Clock is handed to the colour sensor; nil means the wall clock.
	Clock Clock
	// Logger reports a missing colour sensor; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultOpts returns the Enviro pHAT's addresses: BMP280 at 0x77, TCS3472 at 0x29.
func DefaultOpts() Opts {
	return Opts{BMP280Addr: 0x77, TCS3472Addr: tcs3472.Addr, Light: tcs3472.DefaultOpts()}
}

// sensorOpts are the settings of Pimoroni's enviro-phat library (bmp280.py:
// ctrl_meas 0xB7, config 0x90): ×16 pressure and temperature oversampling,
// IIR filter coefficient 16, normal mode with 500 ms standby. Against the
// datasheet's weather-monitoring setting (forced, ×1, no filter) the
// resolution goes from 2.62 to 0.16 Pa and the RMS noise from about 3 Pa
// to 0.2 Pa (datasheet tables 4 and 7), for a barometer that warns on a
// 1.6 hPa fall; the filter needs 22 samples (12 s at 1.8 Hz) to follow a
// step, nothing next to a sample a minute. Humidity stays off: the BMP280
// has none, and an Enviro+ BME280 is read for pressure only.
func sensorOpts() *bmxx80.Opts {
	return &bmxx80.Opts{
		Temperature: bmxx80.O16x,
		Pressure:    bmxx80.O16x,
		Humidity:    bmxx80.Off,
		Filter:      bmxx80.F16,
		Standby:     500 * time.Millisecond,
	}
}

// firstResult is the longest a first ×16/×16 measurement takes after the
// sensor enters normal mode (datasheet §3.8.1: 1.25 + 2.3·16 + 2.3·16 +
// 0.575 ms = 75.4 ms), rounded up: before it the data registers still
// hold their reset value.
const firstResult = 80 * time.Millisecond

// ctrlMeasSleep is ctrl_meas with the same oversampling in sleep mode:
// bmxx80's Halt sends it only after SenseContinuous.
const ctrlMeasSleep = byte(bmxx80.O16x)<<5 | byte(bmxx80.O16x)<<2

// Dev is an Enviro pHAT.
type Dev struct {
	mu      sync.Mutex
	bus     string
	bmpAddr uint16
	bmp     *bmxx80.Dev
	regs    i2c.Dev      // the BMP280, for what bmxx80 does not do
	clock   Clock        // waits for the first result
	ready   time.Time    // when the first result is in
	tcs     *tcs3472.Dev // nil when absent
	leds    gpio.PinOut  // nil when not wired
	lit     bool
}

// New switches the LEDs off, probes the BMP280 (required) and the TCS3472
// (optional: a missing one is logged and Light returns ErrNoLight). leds may
// be nil when the LED pin is not wired.
func New(bus i2c.Bus, leds gpio.PinOut, opts *Opts) (*Dev, error) {
	o := DefaultOpts()
	if opts != nil {
		o = *opts
	}
	if o.BMP280Addr == 0 {
		o.BMP280Addr = 0x77
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &Dev{bus: bus.String(), bmpAddr: o.BMP280Addr, leds: leds}
	if leds != nil {
		if err := leds.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("enviro: LEDs on %s: %w", leds, err)
		}
	}

	// Probe the chip id ourselves: bmxx80 flattens bus errors into text, and
	// "nothing answers" deserves an error that says what to check.
	var id [1]byte
	if err := (&i2c.Dev{Bus: bus, Addr: o.BMP280Addr}).Tx([]byte{0xD0}, id[:]); err != nil {
		return nil, fmt.Errorf("enviro: no BMP280 at %#02x on %s: is the Enviro pHAT fitted? (Enviro+ boards have a BME280 at 0x76: set enviro.bmp280_address): %w", o.BMP280Addr, bus, err)
	}
	switch id[0] {
	case 0x58, 0x60: // BMP280, BME280
	default:
		return nil, fmt.Errorf("enviro: chip at %#02x on %s has id %#02x, not a BMP280 (0x58) or BME280 (0x60)", o.BMP280Addr, bus, id[0])
	}
	bmp, err := bmxx80.NewI2C(bus, o.BMP280Addr, sensorOpts())
	if err != nil {
		return nil, fmt.Errorf("enviro: BMP280 at %#02x on %s: %w", o.BMP280Addr, bus, err)
	}
	d.bmp = bmp
	d.regs = i2c.Dev{Bus: bus, Addr: o.BMP280Addr}
	d.clock = o.Clock
	if d.clock == nil {
		d.clock = systemClock{}
	}
	d.ready = d.clock.Now().Add(firstResult)

	if o.TCS3472Addr != 0 {
		lo := o.Light
		lo.Addr = o.TCS3472Addr
		lo.Clock = o.Clock
		tcs, err := tcs3472.New(bus, &lo)
		if err != nil {
			o.Logger.Warn("enviro: carrying on without the light sensor", "err", err)
		} else {
			d.tcs = tcs
		}
	}
	return d, nil
}

// Sense reads the latest filtered pressure and temperature; the sensor
// measures on its own about twice a second. Only the first call after New
// may wait, up to 80 ms, for the first result. It satisfies the scene's
// Environment interface.
func (d *Dev) Sense(env *physic.Env) error {
	if wait := d.ready.Sub(d.clock.Now()); wait > 0 {
		<-d.clock.After(wait)
	}
	if err := d.bmp.Sense(env); err != nil {
		return fmt.Errorf("enviro: %w", err)
	}
	return nil
}

// HasLight reports whether the colour sensor was found.
func (d *Dev) HasLight() bool { return d.tcs != nil }

// Light reads the colour sensor.
func (d *Dev) Light() (tcs3472.RGBC, error) {
	if d.tcs == nil {
		return tcs3472.RGBC{}, ErrNoLight
	}
	r, err := d.tcs.Sense()
	if err != nil {
		return r, fmt.Errorf("enviro: %w", err)
	}
	return r, nil
}

// SetLights switches the two white LEDs.
func (d *Dev) SetLights(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.leds == nil {
		if !on {
			return nil
		}
		return errors.New("enviro: no LED pin configured")
	}
	if err := d.leds.Out(gpio.Level(on)); err != nil {
		return fmt.Errorf("enviro: LEDs on %s: %w", d.leds, err)
	}
	d.lit = on
	return nil
}

// LightsOn switches the white LEDs on.
func (d *Dev) LightsOn() error { return d.SetLights(true) }

// LightsOff switches the white LEDs off.
func (d *Dev) LightsOff() error { return d.SetLights(false) }

// Lit reports whether the LEDs were last switched on.
func (d *Dev) Lit() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lit
}

// Halt switches the LEDs off and powers the sensors down. It tries all three
// and reports every failure.
func (d *Dev) Halt() error {
	var errs []error
	if err := d.SetLights(false); err != nil {
		errs = append(errs, err)
	}
	if d.tcs != nil {
		if err := d.tcs.Halt(); err != nil {
			errs = append(errs, fmt.Errorf("enviro: %w", err))
		}
	}
	if err := d.bmp.Halt(); err != nil {
		errs = append(errs, fmt.Errorf("enviro: %w", err))
	}
	if err := d.regs.Tx([]byte{0xF4, ctrlMeasSleep}, nil); err != nil {
		errs = append(errs, fmt.Errorf("enviro: BMP280 sleep: %w", err))
	}
	return errors.Join(errs...)
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (d *Dev) String() string {
	light := "no light sensor"
	if d.tcs != nil {
		light = d.tcs.String()
	}
	return fmt.Sprintf("enviro{%s, %s}", d.bmp, light)
}
