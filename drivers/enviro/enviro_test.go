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
// BMP280 with x1/x1 oversampling, no filter, no standby: chip id, one
// 26-byte calibration burst, then ctrl_meas=sleep, config (t_sb 1 s, filter
// off), ctrl_meas=sleep again in one write.
func bmpInit() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x77, W: []byte{0xD0}, R: []byte{0x58}},
		{Addr: 0x77, W: []byte{0x88}, R: calib},
		{Addr: 0x77, W: []byte{0xF4, 0x24, 0xF5, 0xA0, 0xF4, 0x24}},
	}
}

// bmpSense is bmxx80's Sense: ctrl_meas osrs_t=1 osrs_p=1 mode=forced, a
// status poll (measuring bit 3 clear), then the 6-byte data burst.
func bmpSense() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x77, W: []byte{0xF4, 0x25}},
		{Addr: 0x77, W: []byte{0xF3}, R: []byte{0x08}}, // still measuring
		{Addr: 0x77, W: []byte{0xF3}, R: []byte{0x00}},
		{Addr: 0x77, W: []byte{0xF7}, R: []byte{0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00}},
	}
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
		})}
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
	d, err := New(pb, nil, &Opts{BMP280Addr: 0x76})
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
	pb := &i2ctest.Playback{Ops: cat(bmpInit(), []i2ctest.IO{{Addr: 0x29, W: []byte{0x92}, R: []byte{0x00}}}, bmpSense()), DontPanic: true}
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
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	// No LED pin: switching on is an error, off and Halt are fine.
	if err := d.LightsOn(); err == nil {
		t.Error("LightsOn without a pin must fail")
	}
	if err := d.Halt(); err != nil {
		t.Error(err)
	}
}

func TestSenseErrorWrapped(t *testing.T) {
	pb := &i2ctest.Playback{Ops: bmpInit(), DontPanic: true}
	d, err := New(pb, nil, &Opts{})
	if err != nil {
		t.Fatal(err)
	}
	var env physic.Env
	if err := d.Sense(&env); err == nil || !strings.HasPrefix(err.Error(), "enviro: bmp280: ") {
		t.Fatalf("err = %v", err)
	}
}
