package enviro

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// BMP280 datasheet §3.12 calibration (0x88–0x9F) plus the two bytes bmxx80
// also reads (0xA0 reserved, 0xA1 dig_H1, unused on a BMP280).
var calib = []byte{
	0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b,
	0x27, 0x0b, 0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17,
	0x00, 0x00,
}

// bmpInit is our probe followed by what bmxx80 v3.7.4 NewI2C issues for a
// BMP280 in normal mode: chip id, one 26-byte calibration burst, then in one
// write ctrl_meas = sleep, config, ctrl_meas = normal (config is written
// asleep: the datasheet says writes to it in normal mode may be ignored).
//
// The register values are from the datasheet's register map: ctrl_meas
// 0xF4 is osrs_t[7:5] osrs_p[4:2] mode[1:0] with ×16 = 0b101 and normal =
// 0b11, so 0xB4 asleep and 0xB7 running; config 0xF5 is t_sb[7:5]
// filter[4:2] with 500 ms = 0b100 and coefficient 16 = 0b100, so 0x90.
// Cross-checked by reading Pimoroni's enviro-phat library/envirophat/
// bmp280.py: CTRL_MEAS = (OSRS_T<<5)+(OSRS_P<<2)+POWER_MODE with 5, 5, 3 is
// 0xB7 and CONFIG = (T_SB<<5)+(FILTER<<2) with 4, 4 is 0x90. Pimoroni
// also soft-resets first (0xE0 = 0xB6) and writes ctrl_meas before config;
// the values are the same. Run once (not committed) on a fake smbus holding
// the datasheet's calibration and raw burst, it wrote E0=B6, F4=B7, F5=90
// and read 25.08 °C and 100653.27 Pa: the datasheet's double form, where
// bmxx80's int64 form gives the 100653.25 Pa TestWorkedExample expects.
func bmpInit() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x77, W: []byte{0x88}, R: calib},
		{Addr: 0x77, W: []byte{0xF4, 0xB4, 0xF5, 0x90, 0xF4, 0xB7}},
	}
}

// bmpSense is bmxx80's Sense in normal mode: the 6-byte data burst of the
// latest result, no trigger (the datasheet §3.12 raw values).
func bmpSense() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x77, W: []byte{0xF7}, R: []byte{0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00}},
	}
}

// bmpHalt puts the BMP280 to sleep: ctrl_meas mode 0.
func bmpHalt() []i2ctest.IO {
	return []i2ctest.IO{{Addr: 0x77, W: []byte{0xF4, 0xB4}}}
}

// tcsInit is tcs3472.New with default options.
func tcsInit() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x29, W: []byte{0x92}, R: []byte{0x44}},
		{Addr: 0x29, W: []byte{0x81, 0xC0}},
		{Addr: 0x29, W: []byte{0x8F, 0x01}},
		{Addr: 0x29, W: []byte{0x80, 0x01}},
		{Addr: 0x29, W: []byte{0x80, 0x03}},
	}
}

func cat(parts ...[]i2ctest.IO) []i2ctest.IO {
	var out []i2ctest.IO
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// instantClock fires every timer at once: the TCS3472 warm-up timing is
// tested in its own package, here it only has to pass.
type instantClock struct{ t time.Time }

func (c instantClock) Now() time.Time { return c.t }
func (c instantClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func newDev(t *testing.T, pb *i2ctest.Playback, pin gpio.PinOut, o Opts) (*Dev, error) {
	t.Helper()
	o.Clock = instantClock{}
	return New(pb, pin, &o)
}

func TestWorkedExample(t *testing.T) {
	pb := &i2ctest.Playback{Ops: cat(bmpInit(), tcsInit(), bmpSense(),
		[]i2ctest.IO{
			{Addr: 0x29, W: []byte{0x93}, R: []byte{0x11}},
			{Addr: 0x29, W: []byte{0xB4}, R: []byte{0xE8, 0x03, 0x90, 0x01, 0x5E, 0x01, 0x2C, 0x01}},
			{Addr: 0x29, W: []byte{0x80, 0x00}}, // Halt: TCS3472 power off
		}, bmpHalt())}
	pin := &gpiotest.Pin{N: "GPIO4", Num: 4, L: gpio.High}
	d, err := newDev(t, pb, pin, DefaultOpts())
	if err != nil {
		t.Fatal(err)
	}
	if pin.L != gpio.Low {
		t.Error("New must switch the LEDs off")
	}
	var env physic.Env
	if err := d.Sense(&env); err != nil {
		t.Fatal(err)
	}
	if want := 2508*10*physic.MilliCelsius + physic.ZeroCelsius; env.Temperature != want {
		t.Errorf("T = %s, want %s", env.Temperature, want)
	}
	// Datasheet int64 form: 25767233/256 Pa = 100653.25 Pa.
	pa := float64(env.Pressure) / float64(physic.Pascal)
	if math.Abs(pa-100653.25) > 0.01 {
		t.Errorf("P = %.4f Pa, want 100653.25 ±0.01", pa)
	}
	if !d.HasLight() {
		t.Fatal("light sensor not found")
	}
	r, err := d.Light()
	if err != nil {
		t.Fatal(err)
	}
	if r.Clear != 1000 || r.Red != 400 || r.Green != 350 || r.Blue != 300 {
		t.Errorf("light %+v", r)
	}
	if err := d.LightsOn(); err != nil || pin.L != gpio.High || !d.Lit() {
		t.Errorf("LightsOn: err %v, pin %v", err, pin.L)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if pin.L != gpio.Low || d.Lit() {
		t.Error("Halt must switch the LEDs off")
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	if s := d.String(); !strings.Contains(s, "BMP280") || !strings.Contains(s, "TCS34725") {
		t.Errorf("String() = %q", s)
	}
}

func TestNoBMP280(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true}
	_, err := New(pb, nil, nil)
	want := "enviro: no BMP280 at 0x77 on playback: is the Enviro pHAT fitted? (Enviro+ boards have a BME280 at 0x76: set enviro.bmp280_address): "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
}

func TestWrongChip(t *testing.T) {
	pb := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x55}}}}
	_, err := New(pb, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "has id 0x55") {
		t.Fatalf("err = %v", err)
	}
}

func TestEnviroPlusAddress(t *testing.T) {
	ops := bmpInit()
	for i := range ops {
		ops[i].Addr = 0x76
	}
	pb := &i2ctest.Playback{Ops: ops}
	d, err := newDev(t, pb, nil, Opts{BMP280Addr: 0x76})
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err) // and nothing was sent to 0x29
	}
	if d.HasLight() {
		t.Error("no light sensor was configured")
	}
}

func TestMissingLightIsLogged(t *testing.T) {
	// The TCS3472 probe fails (nothing at 0x29); the board still works.
	pb := &i2ctest.Playback{Ops: cat(bmpInit(), []i2ctest.IO{{Addr: 0x29, W: []byte{0x92}, R: []byte{0x00}}}, bmpSense(), bmpHalt()), DontPanic: true}
	var logbuf bytes.Buffer
	o := DefaultOpts()
	o.Logger = slog.New(slog.NewTextHandler(&logbuf, nil))
	d, err := newDev(t, pb, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logbuf.String(), "tcs3472: unexpected id 0x00") {
		t.Errorf("log = %q", logbuf.String())
	}
	if _, err := d.Light(); !errors.Is(err, ErrNoLight) {
		t.Errorf("Light err = %v, want ErrNoLight", err)
	}
	var env physic.Env
	if err := d.Sense(&env); err != nil {
		t.Fatal(err)
	}
	// No LED pin: switching on is an error, off and Halt are fine.
	if err := d.LightsOn(); err == nil {
		t.Error("LightsOn without a pin must fail")
	}
	if err := d.Halt(); err != nil {
		t.Error(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSenseErrorWrapped(t *testing.T) {
	pb := &i2ctest.Playback{Ops: bmpInit(), DontPanic: true}
	d, err := newDev(t, pb, nil, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	var env physic.Env
	if err := d.Sense(&env); err == nil || !strings.HasPrefix(err.Error(), "enviro: bmp280: ") {
		t.Fatalf("err = %v", err)
	}
}

// recordClock fires every timer at once and records what was asked.
type recordClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *recordClock) Now() time.Time { return c.now }
func (c *recordClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestFirstResultWait(t *testing.T) {
	// Until the first ×16/×16 measurement is done (75.4 ms at most) the
	// data registers hold their reset value: the first Sense waits for it,
	// the next ones read at once.
	pb := &i2ctest.Playback{Ops: cat(bmpInit(), bmpSense(), bmpSense(), bmpHalt())}
	clk := &recordClock{now: time.Unix(0, 0)}
	d, err := New(pb, nil, &Opts{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var env physic.Env
	for range 2 {
		if err := d.Sense(&env); err != nil {
			t.Fatal(err)
		}
	}
	if len(clk.waits) != 1 || clk.waits[0] < 75400*time.Microsecond {
		t.Errorf("waits %v, want one of at least 75.4 ms", clk.waits)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}
