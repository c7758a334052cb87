package is31fl3731

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"tinkerbox/images/font"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Expected traffic, written from the datasheet rather than from the driver.
//
// Cross-checked once by reading Pimoroni's scroll-phat-hd library
// (library/scrollphathd/__init__.py and is31fl3731.py): show() maps pixel
// (x, y) through _pixel_addr(x, 6-y), which is 16·(8-x) + (6-y) for x ≤ 8
// and (x-8)·16 + y - 8, that is 16·(x-9) + 8 + y, for x ≥ 9: the same
// LED for each of the 119 pixels as ledIndex (TestMapping). Its
// update_frame writes the 144 PWM bytes from register 0x24 of the frame's
// bank in 32-byte blocks (the smbus block limit) where showOps has one
// 144-byte write: the same registers, the same values. It selects banks
// through 0xFD and the function page 0x0B, and sets picture mode and audio
// sync off there, as initOps does. Its _pixel_addr, run once (not
// committed) for every pixel, agreed with ledIndex on all 119.

func w(b ...byte) i2ctest.IO { return i2ctest.IO{Addr: 0x74, W: b} }

// enableBlock is the 18 LED on/off bytes: columns x<=8 use LEDs 16k+0..6
// (bits 0–6 of the even registers), columns x>=9 use 16k+8..14 (bits 0–6 of
// the odd registers); nine even and eight odd registers, register 17 unused.
var enableBlock = []byte{
	0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f,
	0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00,
}

func initOps() []i2ctest.IO {
	frame := make([]byte, 1+18+18+144) // from register 0x00: enable, blink, PWM
	copy(frame[1:], enableBlock)
	return []i2ctest.IO{
		w(0xfd, 0x0b), // function page (the probe)
		w(0x0a, 0x00), // software shutdown while setting up
		w(0x00, 0x00), // picture mode
		w(0x01, 0x00), // show frame 0
		w(0x05, 0x00), // blink off
		w(0x06, 0x00), // audio sync off
		w(0x09, 0x00), // breath off
		w(0xfd, 0x00), w(frame...),
		w(0xfd, 0x01), w(frame...),
		w(0xfd, 0x0b),
		w(0x0a, 0x01), // normal operation
	}
}

// showOps is writing pwm to frame f and displaying it.
func showOps(f byte, pwm [144]byte) []i2ctest.IO {
	return []i2ctest.IO{
		w(0xfd, f),
		w(append([]byte{0x24}, pwm[:]...)...),
		w(0xfd, 0x0b),
		w(0x01, f),
	}
}

func linear() *Opts {
	o := DefaultOpts()
	o.Gamma = false
	return o
}

func newPlayback(t *testing.T, opts *Opts, ops ...[]i2ctest.IO) (*Dev, *i2ctest.Playback) {
	t.Helper()
	pb := &i2ctest.Playback{DontPanic: true}
	pb.Ops = initOps()
	for _, o := range ops {
		pb.Ops = append(pb.Ops, o...)
	}
	d, err := New(pb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, pb
}

func done(t *testing.T, pb *i2ctest.Playback) {
	t.Helper()
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}

func TestMapping(t *testing.T) {
	// LED of the top pixel of each column; down the column it counts down on
	// the left (matrix A, x <= 8) and up on the right (matrix B).
	top := []int{134, 118, 102, 86, 70, 54, 38, 22, 6, 8, 24, 40, 56, 72, 88, 104, 120}
	seen := map[int]bool{}
	for x := 0; x < Width; x++ {
		for y := 0; y < Height; y++ {
			want := top[x] + y
			if x <= 8 {
				want = top[x] - y
			}
			got := ledIndex(x, y)
			if got != want {
				t.Errorf("ledIndex(%d,%d) = %d, want %d", x, y, got, want)
			}
			if got < 0 || got >= 144 {
				t.Errorf("ledIndex(%d,%d) = %d out of range", x, y, got)
			}
			seen[got] = true
		}
	}
	if len(seen) != 119 {
		t.Errorf("%d distinct LEDs, want 119", len(seen))
	}
	for _, c := range []struct{ x, y, led int }{{0, 0, 134}, {8, 6, 0}, {9, 0, 8}, {16, 6, 126}} {
		if got := ledIndex(c.x, c.y); got != c.led {
			t.Errorf("(%d,%d) → %d, want %d", c.x, c.y, got, c.led)
		}
	}
	if m := enableMask(); string(m[:]) != string(enableBlock) {
		t.Errorf("enable mask % x, want % x", m, enableBlock)
	}
}

func TestInit(t *testing.T) {
	d, pb := newPlayback(t, nil)
	done(t, pb)
	if got, want := d.String(), "is31fl3731{playback, 0x74}"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if d.Bounds() != image.Rect(0, 0, 17, 7) || d.ColorModel() != color.GrayModel {
		t.Error("Bounds or ColorModel wrong")
	}
}

func TestInitOtherAddr(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true}
	for _, io := range initOps() {
		io.Addr = 0x77
		pb.Ops = append(pb.Ops, io)
	}
	if _, err := New(pb, &Opts{Addr: 0x77, Brightness: 255}); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
	for _, a := range []uint16{0x20, 0x73, 0x78} {
		if _, err := New(&i2ctest.Playback{DontPanic: true}, &Opts{Addr: a}); err == nil ||
			!strings.HasPrefix(err.Error(), "is31fl3731: address") {
			t.Errorf("addr %#x: err = %v", a, err)
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("nil bus accepted")
	}
}

func TestProbeFailure(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true} // nothing answers
	_, err := New(pb, nil)
	want := "is31fl3731: no answer at 0x74 on playback: is the Scroll pHAT HD fitted?"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want prefix %q", err, want)
	}
	nack := errors.New("remote I/O error")
	_, err = New(&failBus{failAt: 0, err: nack}, nil)
	if !errors.Is(err, nack) {
		t.Errorf("err = %v does not wrap the bus error", err)
	}
}

func TestInitFailure(t *testing.T) {
	nack := errors.New("bus stuck")
	_, err := New(&failBus{failAt: 8, err: nack}, nil) // the frame 0 burst
	if !errors.Is(err, nack) || !strings.HasPrefix(err.Error(), "is31fl3731: init: ") {
		t.Errorf("err = %v", err)
	}
}

func testFrame() (*image.Gray, [144]byte) {
	g := image.NewGray(image.Rect(0, 0, 17, 7))
	var pwm [144]byte
	for _, p := range []struct{ x, y, v, led int }{
		{0, 0, 255, 134}, {8, 6, 10, 0}, {9, 0, 20, 8}, {16, 6, 128, 126}, {4, 3, 77, 67}, {12, 2, 1, 58},
	} {
		g.SetGray(p.x, p.y, color.Gray{Y: uint8(p.v)})
		pwm[p.led] = byte(p.v)
	}
	return g, pwm
}

func TestShowKnownFrame(t *testing.T) {
	frame, pwm := testFrame()
	d, pb := newPlayback(t, linear(), showOps(1, pwm))
	if err := d.Show(frame); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
}

func TestShowSubImage(t *testing.T) {
	frame, pwm := testFrame()
	big := image.NewGray(image.Rect(-3, -2, 30, 20))
	for y := 0; y < 7; y++ {
		for x := 0; x < 17; x++ {
			big.SetGray(x+5, y+4, frame.GrayAt(x, y))
		}
	}
	sub := big.SubImage(image.Rect(5, 4, 22, 11)).(*image.Gray)
	d, pb := newPlayback(t, linear(), showOps(1, pwm))
	if err := d.Show(sub); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
}

func TestDoubleBufferAndSkip(t *testing.T) {
	a, pwmA := testFrame()
	b := image.NewGray(image.Rect(0, 0, 17, 7))
	b.SetGray(16, 6, color.Gray{Y: 200})
	var pwmB [144]byte
	pwmB[126] = 200
	d, pb := newPlayback(t, linear(), showOps(1, pwmA), showOps(0, pwmB), showOps(1, pwmA))
	// A, A again (a copy: skipped), B, A: the hidden frame alternates 1, 0, 1.
	aCopy := image.NewGray(a.Rect)
	copy(aCopy.Pix, a.Pix)
	for i, f := range []*image.Gray{a, aCopy, b, b, a} {
		if err := d.Show(f); err != nil {
			t.Fatalf("show %d: %v", i, err)
		}
	}
	done(t, pb)

	// The initial dark frame is already on the chip.
	d, pb = newPlayback(t, nil)
	if err := d.Show(image.NewGray(image.Rect(0, 0, 17, 7))); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
}

func TestGammaAndBrightness(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 17, 7))
	g.SetGray(0, 0, color.Gray{Y: 255})
	g.SetGray(9, 0, color.Gray{Y: 128})
	g.SetGray(16, 6, color.Gray{Y: 1})
	// γ 2.2: 255 → 255; 128 → 255·(128/255)^2.2 = 55.98 → 56; 1 → 0.0001, lifted to 1.
	var full, half, dark [144]byte
	full[134], full[8], full[126] = 255, 56, 1
	// Brightness 128: 255 → 128 → 56; 128 → 64 → 255·(64/255)^2.2 = 11.94 → 12; 1 → 1·128/255 → 1 → 1.
	half[134], half[8], half[126] = 56, 12, 1
	d, pb := newPlayback(t, nil, showOps(1, full), showOps(0, half), showOps(1, dark))
	if err := d.Show(g); err != nil {
		t.Fatal(err)
	}
	if err := d.SetBrightness(128); err != nil {
		t.Fatal(err)
	}
	if err := d.SetBrightness(128); err != nil { // unchanged: no traffic
		t.Fatal(err)
	}
	if err := d.SetBrightness(0); err != nil {
		t.Fatal(err)
	}
	done(t, pb)

	tab := GammaTable(2.2)
	if tab[0] != 0 || tab[1] != 1 || tab[128] != 56 || tab[255] != 255 {
		t.Errorf("GammaTable(2.2) = %d %d %d %d", tab[0], tab[1], tab[128], tab[255])
	}
	if lin := GammaTable(0); lin[77] != 77 {
		t.Errorf("linear table[77] = %d", lin[77])
	}
	custom := [256]uint8{}
	custom[255] = 42
	opts := DefaultOpts()
	opts.GammaTable = &custom
	var want [144]byte
	want[134] = 42
	d, pb = newPlayback(t, opts, showOps(1, want))
	g = image.NewGray(image.Rect(0, 0, 17, 7))
	g.SetGray(0, 0, color.Gray{Y: 255})
	if err := d.Show(g); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
}

func TestRotate180(t *testing.T) {
	opts := linear()
	opts.Rotate180 = true
	g := image.NewGray(image.Rect(0, 0, 17, 7))
	g.SetGray(0, 0, color.Gray{Y: 9})  // lands on the physical (16,6)
	g.SetGray(16, 0, color.Gray{Y: 7}) // physical (0,6)
	var pwm [144]byte
	pwm[126], pwm[128] = 9, 7
	d, pb := newPlayback(t, opts, showOps(1, pwm))
	if err := d.Show(g); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
}

func TestDrawPartial(t *testing.T) {
	var one, two [144]byte
	one[8] = 255 // (9,0)
	two[8] = 255
	two[134], two[118] = 76, 76 // (0,0), (1,0) in red: luminance 76
	d, pb := newPlayback(t, linear(), showOps(1, one), showOps(0, two))
	white := image.NewUniform(color.White)
	if err := d.Draw(image.Rect(9, 0, 10, 1), white, image.Point{}); err != nil {
		t.Fatal(err)
	}
	red := image.NewUniform(color.RGBA{R: 255, A: 255})
	if err := d.Draw(image.Rect(0, 0, 2, 1), red, image.Point{}); err != nil {
		t.Fatal(err)
	}
	// Outside the matrix: nothing changes, nothing is sent.
	if err := d.Draw(image.Rect(40, 40, 50, 50), white, image.Point{}); err != nil {
		t.Fatal(err)
	}
	done(t, pb)
	if err := d.Draw(d.Bounds(), nil, image.Point{}); err == nil {
		t.Error("nil src accepted")
	}
}

func TestBadFrames(t *testing.T) {
	d, pb := newPlayback(t, nil)
	short := &image.Gray{Pix: make([]uint8, 100), Stride: 17, Rect: image.Rect(0, 0, 17, 7)}
	narrow := &image.Gray{Pix: make([]uint8, 119), Stride: 3, Rect: image.Rect(0, 0, 17, 7)}
	for _, f := range []*image.Gray{nil, image.NewGray(image.Rect(0, 0, 16, 7)), image.NewGray(image.Rect(0, 0, 17, 8)), {}, short, narrow} {
		err := d.Show(f)
		if err == nil || !strings.HasPrefix(err.Error(), "is31fl3731: show: ") {
			t.Errorf("Show(%v) err = %v", f, err)
		}
	}
	done(t, pb)
}

func TestHalt(t *testing.T) {
	frame, pwm := testFrame()
	var zero [144]byte
	halt := []i2ctest.IO{
		w(0xfd, 0x00), w(append([]byte{0x24}, zero[:]...)...),
		w(0xfd, 0x01), w(append([]byte{0x24}, zero[:]...)...),
		w(0xfd, 0x0b), w(0x0a, 0x00),
	}
	wake := append(showOps(0, pwm), w(0x0a, 0x01))
	d, pb := newPlayback(t, linear(), showOps(1, pwm), halt, wake)
	if err := d.Show(frame); err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.SetBrightness(200); err != nil { // halted: no traffic
		t.Fatal(err)
	}
	if err := d.SetBrightness(255); err != nil {
		t.Fatal(err)
	}
	if err := d.Show(frame); err != nil { // same image, but the chip is dark: resend and wake
		t.Fatal(err)
	}
	done(t, pb)
}

func TestHaltShutsDownWhenZeroingFails(t *testing.T) {
	fb := &failBus{failAt: 14, err: errors.New("glitch")} // the first zero burst
	d, err := New(fb, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Halt()
	if err == nil || !strings.Contains(err.Error(), "glitch") {
		t.Fatalf("err = %v", err)
	}
	last := fb.writes[len(fb.writes)-1]
	if string(last) != "\x0a\x00" {
		t.Errorf("last write % x, want 0a 00 (shutdown)", last)
	}
}

func TestShowRetriesAfterError(t *testing.T) {
	frame, _ := testFrame()
	fb := &failBus{failAt: 14, err: errors.New("glitch")} // the PWM burst
	d, err := New(fb, linear())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Show(frame); err == nil || !strings.HasPrefix(err.Error(), "is31fl3731: show: ") {
		t.Fatalf("err = %v", err)
	}
	n := len(fb.writes)
	if err := d.Show(frame); err != nil {
		t.Fatal(err)
	}
	// Same image, but it never reached the chip: all four writes again, to
	// the same hidden frame.
	got := fb.writes[n:]
	if len(got) != 4 || string(got[0]) != "\xfd\x01" || string(got[3]) != "\x01\x01" {
		t.Errorf("retry wrote % x", got)
	}
}

// A failed frame switch may still have reached the chip (a NACK after the
// byte latched), so the next Show must not trust its record of the display.
func TestShowAfterFailedSwitch(t *testing.T) {
	a, _ := testFrame()
	b := image.NewGray(a.Rect)
	fb := &failBus{failAt: 13 + 4 + 3, err: errors.New("nack")} // B's frame select
	d, err := New(fb, linear())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Show(a); err != nil {
		t.Fatal(err)
	}
	if err := d.Show(b); err == nil {
		t.Fatal("want an error")
	}
	n := len(fb.writes)
	if err := d.Show(a); err != nil {
		t.Fatal(err)
	}
	if got := len(fb.writes) - n; got != 4 {
		t.Errorf("Show(a) after the failure wrote %d times, want 4", got)
	}
}

func TestGoldenTraffic(t *testing.T) {
	rec := &i2ctest.Record{}
	d, err := New(rec, DefaultOpts())
	if err != nil {
		t.Fatal(err)
	}
	s := font.NewScroller(font.Font5x7(), "HI 21°", Width, Height)
	frame := image.NewGray(d.Bounds())
	for step := 0; step < 3; step++ {
		s.Frame(step, frame)
		if err := d.Show(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, io := range rec.Ops {
		fmt.Fprintf(&sb, "%#x W % x\n", io.Addr, io.W)
	}
	got := sb.String()
	path := filepath.Join("testdata", "traffic.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("bus traffic differs from %s:\n%s", path, got)
	}
}

func TestConcurrent(t *testing.T) {
	d, err := New(nopBus{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := image.NewGray(d.Bounds())
			for i := 0; i < 50; i++ {
				f.Pix[i%len(f.Pix)] = byte(i + g)
				if err := d.Show(f); err != nil {
					t.Error(err)
					return
				}
				if err := d.SetBrightness(byte(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := d.Halt(); err != nil {
		t.Error(err)
	}
}

// BenchmarkShowFrame is one scroll step: render text into the frame, gamma and
// brightness, build the 145-byte burst and hand it to the bus.
func BenchmarkShowFrame(b *testing.B) {
	d, err := New(nopBus{}, DefaultOpts())
	if err != nil {
		b.Fatal(err)
	}
	s := font.NewScroller(font.Font5x7(), "1013 hPa ↓ storm warning", Width, Height)
	frame := image.NewGray(d.Bounds())
	b.ReportAllocs()
	step := 0
	for b.Loop() {
		s.Frame(step, frame)
		if err := d.Show(frame); err != nil {
			b.Fatal(err)
		}
		step++
	}
}

// nopBus accepts every write.
type nopBus struct{}

func (nopBus) String() string                  { return "nop" }
func (nopBus) Tx(uint16, []byte, []byte) error { return nil }
func (nopBus) SetSpeed(physic.Frequency) error { return nil }

// failBus records writes and fails the Tx numbered failAt (from 0).
type failBus struct {
	failAt int
	err    error
	n      int
	writes [][]byte
}

func (f *failBus) String() string { return "fail" }

func (f *failBus) Tx(_ uint16, w, _ []byte) error {
	n := f.n
	f.n++
	if n == f.failAt {
		return f.err
	}
	f.writes = append(f.writes, append([]byte(nil), w...))
	return nil
}

func (f *failBus) SetSpeed(physic.Frequency) error { return nil }

// FuzzShow feeds hostile image headers and draw requests: errors are fine,
// panics are not.
func FuzzShow(f *testing.F) {
	f.Add(17, 7, 17, 0, 0, []byte{1, 2, 3})
	f.Add(17, 7, 3, 5, -2, make([]byte, 119))
	f.Add(0, 0, 0, 0, 0, []byte(nil))
	f.Add(17, 7, 100, 9, 9, make([]byte, 800))
	f.Add(17, 7, math.MaxInt/3, 0, 0, make([]byte, 200))
	f.Fuzz(func(t *testing.T, w, h, stride, x0, y0 int, pix []byte) {
		d, err := New(nopBus{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		g := &image.Gray{Pix: pix, Stride: stride, Rect: image.Rect(x0, y0, x0+w, y0+h)}
		err = d.Show(g)
		// image.Rect puts the corners in order, so judge the rectangle it
		// made, not w and h: a -17 wide request is a 17 wide frame.
		if r := g.Rect; (r.Dx() != Width || r.Dy() != Height) && err == nil {
			t.Errorf("%v frame accepted", r)
		}
		if err := d.Draw(image.Rect(x0, y0, w, h), image.NewGray(image.Rect(0, 0, 20, 9)), image.Pt(y0, x0)); err != nil {
			t.Error(err)
		}
	})
}
