package tcs3472

import (
	"math"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene/fakeclock"
)

// initOps is New with DefaultOpts per the datasheet register map: ID read,
// ATIME = 256-64, CONTROL AGAIN = 4x, ENABLE PON, (2.4 ms), ENABLE PON|AEN.
func initOps(id byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x29, W: []byte{0x92}, R: []byte{id}},
		{Addr: 0x29, W: []byte{0x81, 0xC0}},
		{Addr: 0x29, W: []byte{0x8F, 0x01}},
		{Addr: 0x29, W: []byte{0x80, 0x01}},
		{Addr: 0x29, W: []byte{0x80, 0x03}},
	}
}

// start runs New on a fake clock, checks the ADC is only enabled after the
// 2.4 ms warm-up, and returns the device.
func start(t *testing.T, pb *i2ctest.Playback, opts *Opts) *Dev {
	t.Helper()
	clk := fakeclock.New(time.Unix(0, 0))
	o := DefaultOpts()
	if opts != nil {
		o = *opts
	}
	o.Clock = clk
	type res struct {
		d   *Dev
		err error
	}
	done := make(chan res, 1)
	go func() {
		d, err := New(pb, &o)
		done <- res{d, err}
	}()
	clk.BlockUntil(1)
	pb.Lock()
	n := pb.Count
	pb.Unlock()
	if n != 4 {
		t.Fatalf("before warm-up %d transactions done, want 4 (AEN must wait for 2.4 ms)", n)
	}
	clk.Advance(cycle - time.Microsecond)
	select {
	case <-done:
		t.Fatal("New returned before the 2.4 ms warm-up elapsed")
	default:
	}
	clk.Advance(time.Microsecond)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.d
}

func TestNewSenseHalt(t *testing.T) {
	for _, id := range []byte{0x44, 0x4D} {
		ops := append(initOps(id),
			i2ctest.IO{Addr: 0x29, W: []byte{0x93}, R: []byte{0x11}},
			// C=1000 R=400 G=350 B=300, little-endian.
			i2ctest.IO{Addr: 0x29, W: []byte{0xB4}, R: []byte{0xE8, 0x03, 0x90, 0x01, 0x5E, 0x01, 0x2C, 0x01}},
			i2ctest.IO{Addr: 0x29, W: []byte{0x80, 0x00}},
		)
		pb := &i2ctest.Playback{Ops: ops}
		d := start(t, pb, nil)
		r, err := d.Sense()
		if err != nil {
			t.Fatal(err)
		}
		if r.Clear != 1000 || r.Red != 400 || r.Green != 350 || r.Blue != 300 || r.Saturated {
			t.Fatalf("got %+v", r)
		}
		// DN40 by hand: IR=25; G''=0.136*375+325-0.444*275=253.9; CPL=153.6*4/310.
		if want := 253.9 / (153.6 * 4 / 310); math.Abs(r.Lux-want) > 1e-9 {
			t.Errorf("lux %v, want %v", r.Lux, want)
		}
		// CCT = 3810*275/375 + 1391 = 4185 K.
		if want := 4185 * physic.Kelvin; absT(r.ColorTemp-want) > physic.MilliKelvin {
			t.Errorf("cct %v, want %v", r.ColorTemp, want)
		}
		if err := d.Halt(); err != nil {
			t.Fatal(err)
		}
		if err := pb.Close(); err != nil {
			t.Fatal(err)
		}
		wantName := map[byte]string{0x44: "TCS34725", 0x4D: "TCS34727"}[id]
		if s := d.String(); !strings.Contains(s, wantName) || !strings.Contains(s, "0x29") {
			t.Errorf("String() = %q", s)
		}
	}
}

func absT(t physic.Temperature) physic.Temperature {
	if t < 0 {
		return -t
	}
	return t
}

func TestBadID(t *testing.T) {
	pb := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x29, W: []byte{0x92}, R: []byte{0x55}}}, DontPanic: true}
	_, err := New(pb, nil)
	if err == nil || !strings.Contains(err.Error(), "0x55") || !strings.HasPrefix(err.Error(), "tcs3472: ") {
		t.Fatalf("err = %v, want one naming id 0x55", err)
	}
}

func TestNoDevice(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true}
	_, err := New(pb, nil)
	if err == nil || !strings.Contains(err.Error(), "no sensor at 0x29 on playback") {
		t.Fatalf("err = %v", err)
	}
}

func TestOptions(t *testing.T) {
	// 60x gain, 614.4 ms (256 cycles: ATIME 0), other address.
	ops := []i2ctest.IO{
		{Addr: 0x39, W: []byte{0x92}, R: []byte{0x44}},
		{Addr: 0x39, W: []byte{0x81, 0x00}},
		{Addr: 0x39, W: []byte{0x8F, 0x03}},
		{Addr: 0x39, W: []byte{0x80, 0x01}},
		{Addr: 0x39, W: []byte{0x80, 0x03}},
	}
	pb := &i2ctest.Playback{Ops: ops}
	d := start(t, pb, &Opts{Addr: 0x39, Gain: Gain60x, Integration: 614400 * time.Microsecond})
	if d.Integration() != 614400*time.Microsecond {
		t.Errorf("integration %v", d.Integration())
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Opts{{Gain: 4}, {Integration: time.Millisecond}, {Integration: time.Second}, {Integration: -time.Second}} {
		if _, err := New(&i2ctest.Playback{DontPanic: true}, &o); err == nil {
			t.Errorf("New(%+v) accepted bad options", o)
		}
	}
}

func TestSenseWaitsForValid(t *testing.T) {
	ops := append(initOps(0x44),
		i2ctest.IO{Addr: 0x29, W: []byte{0x93}, R: []byte{0x00}}, // no integration finished yet
		i2ctest.IO{Addr: 0x29, W: []byte{0x93}, R: []byte{0x11}},
		i2ctest.IO{Addr: 0x29, W: []byte{0xB4}, R: []byte{0xFF, 0xFF, 1, 0, 2, 0, 3, 0}},
	)
	pb := &i2ctest.Playback{Ops: ops}
	clk := fakeclock.New(time.Unix(0, 0))
	o := DefaultOpts()
	o.Clock = clk
	go func() { clk.BlockUntil(1); clk.Advance(cycle) }()
	d, err := New(pb, &o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan RGBC, 1)
	errc := make(chan error, 1)
	go func() {
		r, err := d.Sense()
		errc <- err
		done <- r
	}()
	clk.BlockUntil(1)
	clk.Advance(d.Integration())
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !r.Saturated || r.Lux != 0 || r.Clear != 0xFFFF {
		t.Errorf("saturated reading: %+v", r)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSenseNeverValid(t *testing.T) {
	ops := initOps(0x44)
	for range 3 {
		ops = append(ops, i2ctest.IO{Addr: 0x29, W: []byte{0x93}, R: []byte{0x00}})
	}
	pb := &i2ctest.Playback{Ops: ops}
	clk := fakeclock.New(time.Unix(0, 0))
	o := DefaultOpts()
	o.Clock = clk
	go func() { clk.BlockUntil(1); clk.Advance(cycle) }()
	d, err := New(pb, &o)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := d.Sense(); errc <- err }()
	for range 2 {
		clk.BlockUntil(1)
		clk.Advance(d.Integration())
	}
	if err := <-errc; err == nil || !strings.HasPrefix(err.Error(), "tcs3472: no valid reading") {
		t.Fatalf("err = %v", err)
	}
}

func TestBusErrorWrapped(t *testing.T) {
	pb := &i2ctest.Playback{Ops: initOps(0x44), DontPanic: true}
	d := start(t, pb, nil)
	_, err := d.Sense()
	if err == nil || !strings.HasPrefix(err.Error(), "tcs3472: read status: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestGainString(t *testing.T) {
	for g, want := range map[Gain]string{Gain1x: "1x", Gain4x: "4x", Gain16x: "16x", Gain60x: "60x", 7: "Gain(7)"} {
		if g.String() != want {
			t.Errorf("%d: %q want %q", g, g.String(), want)
		}
	}
}

// regBus is a minimal register-file TCS3472 for the benchmark (Playback
// allocates per call and would dominate).
type regBus struct{ regs [32]byte }

func (b *regBus) String() string { return "regbus" }
func (b *regBus) Tx(addr uint16, w, r []byte) error {
	reg := w[0] & 0x1F
	if len(w) > 1 {
		b.regs[reg] = w[1]
	}
	copy(r, b.regs[reg:])
	return nil
}
func (b *regBus) SetSpeed(physic.Frequency) error { return nil }

func BenchmarkSense(b *testing.B) {
	bus := &regBus{}
	bus.regs[regID] = 0x44
	bus.regs[regStatus] = 0x11
	copy(bus.regs[regCData:], []byte{0xE8, 0x03, 0x90, 0x01, 0x5E, 0x01, 0x2C, 0x01})
	o := DefaultOpts()
	clk := fakeclock.New(time.Unix(0, 0))
	o.Clock = clk
	go func() { clk.BlockUntil(1); clk.Advance(cycle) }()
	d, err := New(bus, &o)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Sense(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzSense feeds arbitrary data registers through Sense: no panic, and the
// estimates stay finite and non-negative.
func FuzzSense(f *testing.F) {
	f.Add([]byte{0xE8, 0x03, 0x90, 0x01, 0x5E, 0x01, 0x2C, 0x01}, uint8(64), uint8(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0}, uint8(1), uint8(0))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, uint8(255), uint8(3))
	f.Add([]byte{1, 0, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF}, uint8(10), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, cycles, gain uint8) {
		if len(data) < 8 || cycles == 0 {
			return
		}
		bus := &regBus{}
		bus.regs[regID] = 0x44
		bus.regs[regStatus] = 0x01
		copy(bus.regs[regCData:], data[:8])
		o := Opts{Gain: Gain(gain % 4), Integration: time.Duration(cycles) * cycle, Clock: instant{}}
		d, err := New(bus, &o)
		if err != nil {
			t.Fatal(err)
		}
		r, err := d.Sense()
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(r.Lux) || math.IsInf(r.Lux, 0) || r.Lux < 0 || r.ColorTemp < 0 {
			t.Fatalf("bad estimate %+v", r)
		}
		if r.Saturated && r.Lux != 0 {
			t.Fatalf("saturated reading with lux %v", r.Lux)
		}
	})
}

type instant struct{}

func (instant) Now() time.Time { return time.Time{} }
func (instant) After(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}
