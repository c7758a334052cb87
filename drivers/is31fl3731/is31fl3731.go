package is31fl3731

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"periph.io/x/conn/v3/display"
	"periph.io/x/conn/v3/i2c"
)

// Size of the Scroll pHAT HD matrix.
const (
	Width  = 17
	Height = 7
)

// DefaultAddr is the chip's address with AD tied to GND, as on the pHAT.
const DefaultAddr = 0x74

// Registers (datasheet tables 2–3).
const (
	regCommand   = 0xFD // selects the page the other registers address
	pageFunction = 0x0B

	// Function register page.
	regConfig     = 0x00 // mode: 0 = picture mode
	regPicture    = 0x01 // frame shown in picture mode
	regDisplayOpt = 0x05 // blink enable, intensity control
	regAudioSync  = 0x06
	regBreath2    = 0x09 // breath enable
	regShutdown   = 0x0A // 0 = software shutdown, 1 = normal operation

	// Frame pages 0–7.
	regEnable = 0x00 // 18 bytes, one bit per LED
	regPWM    = 0x24 // 144 bytes, one per LED

	numLEDs     = 144
	enableBytes = numLEDs / 8
	frameBytes  = 2*enableBytes + numLEDs // enable, blink, PWM: 0x00–0xB3
)

// Opts configures the driver. Start from DefaultOpts and change fields: the
// zero Brightness is dark.
type Opts struct {
	// Addr is the I²C address: 0x74 (AD to GND, the pHAT), 0x75–0x77.
	Addr uint16
	// Brightness scales every pixel, 0 (dark) to 255 (full).
	Brightness uint8
	// Gamma applies GammaTable (or a γ 2.2 curve when it is nil) after the
	// brightness, so brightness steps look even to the eye. Without it PWM is
	// linear.
	Gamma      bool
	GammaTable *[256]uint8
	// Rotate180 is for a pHAT mounted upside down.
	Rotate180 bool
}

// DefaultOpts returns the options for a Scroll pHAT HD at 0x74, full
// brightness through a γ 2.2 curve.
func DefaultOpts() *Opts {
	return &Opts{Addr: DefaultAddr, Brightness: 255, Gamma: true}
}

// GammaTable returns a lookup table for the given gamma. Non-zero inputs give
// at least 1 so that dim pixels stay visibly lit. gamma <= 0 (or NaN) gives a
// linear table.
func GammaTable(gamma float64) [256]uint8 {
	var t [256]uint8
	for i := range t {
		v := float64(i)
		if gamma > 0 {
			v = math.Round(255 * math.Pow(float64(i)/255, gamma))
		}
		if i > 0 && v < 1 {
			v = 1
		}
		t[i] = uint8(v)
	}
	return t
}

// Dev is a Scroll pHAT HD. It is safe for concurrent use.
type Dev struct {
	c     i2c.Dev
	gamma [256]uint8 // identity when Opts.Gamma is false
	leds  [Width * Height]uint8

	mu         sync.Mutex
	brightness uint8
	lut        [256]uint8 // pixel value → PWM (brightness and gamma)
	fb         *image.Gray
	buf        [1 + numLEDs]byte // regPWM then the PWM bytes: one burst
	reg        [2]byte           // register writes; a field so they do not allocate
	last       [numLEDs]byte     // PWM of the displayed frame
	lastOK     bool              // last matches the chip
	shown      byte              // frame being displayed: 0 or 1
	halted     bool
}

var _ display.Drawer = (*Dev)(nil)

// ledIndex maps pixel (x, y) of the 17x7 matrix, (0, 0) top left, to the
// chip's LED number (PWM register 0x24+n, enable bit n%8 of register n/8).
// The pHAT routes the left 9 columns through matrix A and the right 8 through
// matrix B, the left half rotated.
func ledIndex(x, y int) int {
	if x <= 8 {
		return 16*(8-x) + (6 - y)
	}
	return 16*(x-9) + 8 + y
}

// enableMask is the LED on/off register block: exactly the mapped LEDs.
func enableMask() [enableBytes]byte {
	var m [enableBytes]byte
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			i := ledIndex(x, y)
			m[i/8] |= 1 << (i % 8)
		}
	}
	return m
}

// New probes the chip at opts.Addr and initialises it: picture mode, frame 0
// shown, audio sync and blink off, the 119 LEDs of the matrix enabled and dark
// in frames 0 and 1. opts nil means DefaultOpts.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	if bus == nil {
		return nil, errors.New("is31fl3731: nil bus")
	}
	if opts == nil {
		opts = DefaultOpts()
	}
	addr := opts.Addr
	if addr == 0 {
		addr = DefaultAddr
	}
	if addr < 0x74 || addr > 0x77 {
		return nil, fmt.Errorf("is31fl3731: address %#x out of range 0x74–0x77", addr)
	}
	d := &Dev{
		c:          i2c.Dev{Bus: bus, Addr: addr},
		brightness: opts.Brightness,
		fb:         image.NewGray(image.Rect(0, 0, Width, Height)),
	}
	switch {
	case !opts.Gamma:
		d.gamma = GammaTable(0)
	case opts.GammaTable != nil:
		d.gamma = *opts.GammaTable
	default:
		d.gamma = GammaTable(2.2)
	}
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			sx, sy := x, y
			if opts.Rotate180 {
				sx, sy = Width-1-x, Height-1-y
			}
			d.leds[sy*Width+sx] = uint8(ledIndex(x, y))
		}
	}
	d.buf[0] = regPWM
	d.setLUT()

	// Selecting the function page is the probe: on a real bus a missing chip
	// NACKs it.
	if err := d.page(pageFunction); err != nil {
		return nil, fmt.Errorf("is31fl3731: no answer at %#x on %s: is the Scroll pHAT HD fitted?: %w", addr, bus, err)
	}
	if err := d.init(); err != nil {
		return nil, fmt.Errorf("is31fl3731: init: %w", err)
	}
	return d, nil
}

// init runs with the function page selected. The chip stays in shutdown while
// the frames are cleared so stale PWM data never flashes up.
func (d *Dev) init() error {
	for _, w := range [][2]byte{
		{regShutdown, 0},
		{regConfig, 0}, // picture mode
		{regPicture, 0},
		{regDisplayOpt, 0}, // blink off
		{regAudioSync, 0},
		{regBreath2, 0},
	} {
		if err := d.write(w[0], w[1]); err != nil {
			return err
		}
	}
	// One burst per frame from register 0: enable bits, blink bits (zero) and
	// PWM (zero); the address auto-increments.
	var frame [1 + frameBytes]byte
	mask := enableMask()
	frame[0] = regEnable
	copy(frame[1:], mask[:])
	for f := byte(0); f < 2; f++ {
		if err := d.page(f); err != nil {
			return err
		}
		if err := d.c.Tx(frame[:], nil); err != nil {
			return err
		}
	}
	if err := d.page(pageFunction); err != nil {
		return err
	}
	if err := d.write(regShutdown, 1); err != nil {
		return err
	}
	d.shown = 0
	d.lastOK = true // both frames hold zero PWM, as does last
	return nil
}

func (d *Dev) page(p byte) error {
	return d.write(regCommand, p)
}

// write sets one register of the selected page.
func (d *Dev) write(reg, v byte) error {
	d.reg = [2]byte{reg, v}
	return d.c.Tx(d.reg[:], nil)
}

func (d *Dev) setLUT() {
	b := uint32(d.brightness)
	for v := range d.lut {
		d.lut[v] = d.gamma[(uint32(v)*b+127)/255]
	}
}

// String names the device and its bus.
func (d *Dev) String() string {
	return fmt.Sprintf("is31fl3731{%s, %#x}", d.c.Bus, d.c.Addr)
}

// ColorModel is grey: each LED has one brightness.
func (d *Dev) ColorModel() color.Model { return color.GrayModel }

// Bounds is the 17x7 matrix.
func (d *Dev) Bounds() image.Rectangle { return image.Rect(0, 0, Width, Height) }

// Show displays a 17x7 brightness frame (0 off to 255 full) and wakes the chip
// after Halt. It satisfies the scenes' Display contract. An unchanged frame
// costs no bus traffic.
func (d *Dev) Show(frame *image.Gray) error {
	if frame == nil {
		return errors.New("is31fl3731: show: nil frame")
	}
	if r := frame.Bounds(); r.Dx() != Width || r.Dy() != Height {
		return fmt.Errorf("is31fl3731: show: frame is %dx%d, want %dx%d", r.Dx(), r.Dy(), Width, Height)
	}
	// Checked without multiplying: a hostile stride could overflow.
	if n := len(frame.Pix); frame.Stride < Width || n < Width || Height-1 > (n-Width)/frame.Stride {
		return fmt.Errorf("is31fl3731: show: malformed frame (stride %d, %d bytes)", frame.Stride, len(frame.Pix))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := frame.Bounds()
	for y := 0; y < Height; y++ {
		src := frame.Pix[frame.PixOffset(r.Min.X, r.Min.Y+y):]
		copy(d.fb.Pix[y*Width:(y+1)*Width], src[:Width])
	}
	if err := d.flush(); err != nil {
		return fmt.Errorf("is31fl3731: show: %w", err)
	}
	return nil
}

// Draw implements display.Drawer: src at sp is drawn into r of the matrix
// (other pixels keep their value), converted to grey, then shown.
func (d *Dev) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	if src == nil {
		return errors.New("is31fl3731: draw: nil image")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	draw.Draw(d.fb, r, src, sp, draw.Src)
	if err := d.flush(); err != nil {
		return fmt.Errorf("is31fl3731: draw: %w", err)
	}
	return nil
}

// SetBrightness changes the global brightness and redraws the current image
// with it (unless halted; the next Show uses it).
func (d *Dev) SetBrightness(b uint8) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.brightness = b
	d.setLUT()
	if d.halted {
		return nil
	}
	if err := d.flush(); err != nil {
		return fmt.Errorf("is31fl3731: brightness: %w", err)
	}
	return nil
}

// flush encodes fb into the hidden frame and switches to it. Called with mu
// held.
func (d *Dev) flush() error {
	pwm := d.buf[1:]
	for i, led := range d.leds {
		pwm[led] = d.lut[d.fb.Pix[i]]
	}
	if d.lastOK && !d.halted && [numLEDs]byte(pwm) == d.last {
		return nil
	}
	// Until the switch succeeds the chip's state is unknown: force the next
	// call to write.
	d.lastOK = false
	hidden := d.shown ^ 1
	if err := d.page(hidden); err != nil {
		return err
	}
	if err := d.c.Tx(d.buf[:], nil); err != nil {
		return err
	}
	if err := d.page(pageFunction); err != nil {
		return err
	}
	if err := d.write(regPicture, hidden); err != nil {
		return err
	}
	d.shown = hidden
	if d.halted {
		if err := d.write(regShutdown, 1); err != nil {
			return err
		}
		d.halted = false
	}
	d.last = [numLEDs]byte(pwm)
	d.lastOK = true
	return nil
}

// Halt turns every LED off: PWM zero in frames 0 and 1, then software
// shutdown. The next Show or Draw wakes the chip.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Whatever fails below, the next Show rewrites the frame and wakes the chip.
	d.lastOK = false
	d.halted = true
	var zero [1 + numLEDs]byte
	zero[0] = regPWM
	var errs []error
	for f := byte(0); f < 2; f++ {
		if err := d.page(f); err != nil {
			errs = append(errs, err)
			break
		}
		if err := d.c.Tx(zero[:], nil); err != nil {
			errs = append(errs, err)
			break
		}
	}
	// Shut down even if zeroing failed: it alone darkens the LEDs.
	if err := d.page(pageFunction); err != nil {
		errs = append(errs, err)
	} else if err := d.write(regShutdown, 0); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("is31fl3731: halt: %w", errors.Join(errs...))
	}
	return nil
}
