package blinkt

import (
	"bytes"
	"errors"
	"image/color"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// write is one Out on one of the two pins.
type write struct {
	pin string
	l   gpio.Level
}

// bus logs the writes of both pins in order.
type bus struct {
	log      []write
	failAt   int // fail the n-th write (1-based); 0: never
	dat, clk *recPin
}

type recPin struct {
	*gpiotest.Pin
	b *bus
}

func (p *recPin) Out(l gpio.Level) error {
	p.b.log = append(p.b.log, write{p.N, l})
	if p.b.failAt > 0 && len(p.b.log) == p.b.failAt {
		return errors.New("stuck")
	}
	return p.Pin.Out(l)
}

func newBus() *bus {
	b := &bus{}
	b.dat = &recPin{&gpiotest.Pin{N: "GPIO23", Num: 23}, b}
	b.clk = &recPin{&gpiotest.Pin{N: "GPIO24", Num: 24}, b}
	return b
}

// decode replays the writes like an APA102: DAT is sampled on every rising
// CLK edge. It fails the test if DAT changes while CLK is high (no setup time
// before the edge, or a change the pixel would see mid-bit).
func (b *bus) decode(t *testing.T) []bool {
	t.Helper()
	var (
		bits     []bool
		dat, clk gpio.Level
	)
	for i, w := range b.log {
		switch w.pin {
		case "GPIO23":
			if clk == gpio.High && w.l != dat {
				t.Fatalf("write %d: DAT changed while CLK high", i)
			}
			dat = w.l
		case "GPIO24":
			if w.l == gpio.High && clk == gpio.Low {
				bits = append(bits, bool(dat))
			}
			clk = w.l
		}
	}
	if clk != gpio.Low {
		t.Fatal("CLK left high")
	}
	return bits
}

func toBytes(bits []bool) []byte {
	out := make([]byte, len(bits)/8)
	for i, v := range bits {
		if v {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

func newDev(t *testing.T, o *Opts) (*Dev, *bus) {
	t.Helper()
	b := newBus()
	d, err := New(b.dat, b.clk, o)
	if err != nil {
		t.Fatal(err)
	}
	b.log = nil
	return d, b
}

// frameBits checks the framing of one Show (32 start clocks with DAT low,
// 8 pixels of 32 bits, 36 trailing clocks with DAT low; numbers from the
// datasheet, not the package constants) and returns the 32 pixel bytes.
func frameBits(t *testing.T, b *bus) []byte {
	t.Helper()
	bits := b.decode(t)
	if want := 32 + 8*32 + 36; len(bits) != want {
		t.Fatalf("%d clock pulses, want %d", len(bits), want)
	}
	for i, v := range bits[:32] {
		if v {
			t.Fatalf("start frame bit %d is 1", i)
		}
	}
	for i, v := range bits[len(bits)-36:] {
		if v {
			t.Fatalf("trailing clock %d has DAT high", i)
		}
	}
	return toBytes(bits[32 : len(bits)-36])
}

// TestShowFrame is golden traffic from the APA102 datasheet, cross-checked
// once by reading Pimoroni's blinkt library (library/blinkt.py): show()
// sends _sof() (32 clocks with DAT low), then per pixel
// 0b11100000 | brightness, B, G, R, each byte MSB first with DAT set before
// the rising CLK edge, then _eof() (36 clocks with DAT low); its default
// brightness is 7 of 31, as the pixels left alone here. Run once (not
// committed) on a fake RPi.GPIO with these pixels, it clocked out exactly
// the want bytes below, framed by 32 and 36 low clocks.
func TestShowFrame(t *testing.T) {
	d, b := newDev(t, nil)
	// A known setting: pixel 0 pure red, 1 green, 2 blue, 3 a mix at full
	// brightness, 7 white at brightness 1, the rest off at the default 7.
	for _, s := range []struct {
		i int
		c color.RGBA
	}{
		{0, color.RGBA{R: 0xFF, A: 0xFF}},
		{1, color.RGBA{G: 0xFF, A: 0xFF}},
		{2, color.RGBA{B: 0xFF, A: 0xFF}},
		{3, color.RGBA{R: 0x12, G: 0x34, B: 0x56, A: 0xFF}},
		{7, color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xFF}},
	} {
		if err := d.SetPixel(s.i, s.c); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetPixelBrightness(3, 31); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPixelBrightness(7, 1); err != nil {
		t.Fatal(err)
	}
	if err := d.Show(); err != nil {
		t.Fatal(err)
	}
	// Per pixel: 0b111bbbbb, B, G, R.
	want := []byte{
		0xE7, 0x00, 0x00, 0xFF,
		0xE7, 0x00, 0xFF, 0x00,
		0xE7, 0xFF, 0x00, 0x00,
		0xFF, 0x56, 0x34, 0x12,
		0xE7, 0x00, 0x00, 0x00,
		0xE7, 0x00, 0x00, 0x00,
		0xE7, 0x00, 0x00, 0x00,
		0xE1, 0x80, 0x80, 0x80,
	}
	if got := frameBits(t, b); !bytes.Equal(got, want) {
		t.Fatalf("frame\n got % x\nwant % x", got, want)
	}
	if got := d.Frame(); !bytes.Equal(got, want) {
		t.Fatalf("Frame() = % x", got)
	}
}

func TestHaltClearsAndShows(t *testing.T) {
	d, b := newDev(t, &Opts{Brightness: 31})
	for i := range NumPixels {
		if err := d.SetPixel(i, color.RGBA{R: 1, G: 2, B: 3, A: 255}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Show(); err != nil {
		t.Fatal(err)
	}
	b.log = nil
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte{0xFF, 0, 0, 0}, NumPixels)
	if got := frameBits(t, b); !bytes.Equal(got, want) {
		t.Fatalf("Halt frame % x", got)
	}
}

func TestSetBrightness(t *testing.T) {
	d, b := newDev(t, &Opts{})
	if err := d.SetBrightness(17); err != nil {
		t.Fatal(err)
	}
	if err := d.Show(); err != nil {
		t.Fatal(err)
	}
	if got := frameBits(t, b); got[0] != 0xE0|17 || got[28] != 0xE0|17 {
		t.Fatalf("brightness bytes %#x %#x", got[0], got[28])
	}
}

func TestNewDrivesLow(t *testing.T) {
	b := newBus()
	b.dat.L, b.clk.L = gpio.High, gpio.High
	if _, err := New(b.dat, b.clk, nil); err != nil {
		t.Fatal(err)
	}
	if b.dat.L != gpio.Low || b.clk.L != gpio.Low {
		t.Fatal("New left a line high")
	}
}

func TestErrors(t *testing.T) {
	b := newBus()
	if _, err := New(nil, b.clk, nil); err == nil {
		t.Error("New(nil data) accepted")
	}
	if _, err := New(b.dat, b.clk, &Opts{Brightness: 32}); err == nil || !strings.Contains(err.Error(), "blinkt: brightness 32") {
		t.Errorf("brightness 32: %v", err)
	}
	d, _ := newDev(t, nil)
	for _, i := range []int{-1, NumPixels, 1 << 30} {
		if err := d.SetPixel(i, color.RGBA{}); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("SetPixel(%d) = %v", i, err)
		}
		if err := d.SetPixelBrightness(i, 1); err == nil {
			t.Errorf("SetPixelBrightness(%d) accepted", i)
		}
	}
	if err := d.SetPixelBrightness(0, 40); err == nil {
		t.Error("SetPixelBrightness(0, 40) accepted")
	}
	if err := d.SetBrightness(255); err == nil {
		t.Error("SetBrightness(255) accepted")
	}
}

func TestShowWriteErrorThenRecovers(t *testing.T) {
	d, b := newDev(t, nil)
	if err := d.SetPixel(0, color.RGBA{R: 0xFF, A: 0xFF}); err != nil {
		t.Fatal(err)
	}
	b.failAt = 100
	if err := d.Show(); err == nil || !strings.Contains(err.Error(), "stuck") || !strings.HasPrefix(err.Error(), "blinkt: ") {
		t.Fatalf("Show with a stuck pin = %v", err)
	}
	// The next frame is complete and correct whatever level DAT was left at.
	b.failAt, b.log = 0, nil
	b.dat.L = gpio.High
	if err := d.Show(); err != nil {
		t.Fatal(err)
	}
	if got := frameBits(t, b); got[3] != 0xFF || got[0] != 0xE7 {
		t.Fatalf("frame after error % x", got)
	}
}

func TestString(t *testing.T) {
	d, _ := newDev(t, nil)
	if got, want := d.String(), "blinkt(DAT GPIO23(23), CLK GPIO24(24))"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}

// noopPin is a pin whose writes cost nothing, to time the bit-banging itself.
type noopPin struct{ gpiotest.Pin }

func (*noopPin) Out(gpio.Level) error { return nil }

func BenchmarkShow(b *testing.B) {
	d, err := New(&noopPin{}, &noopPin{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range NumPixels {
		_ = d.SetPixel(i, color.RGBA{R: uint8(i * 30), G: 0x55, B: 0xAA, A: 0xFF})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Show(); err != nil {
			b.Fatal(err)
		}
	}
}
