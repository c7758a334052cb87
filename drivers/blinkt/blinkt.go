package blinkt

import (
	"errors"
	"fmt"
	"image/color"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
)

// NumPixels is the number of pixels on a Blinkt.
const NumPixels = 8

// MaxBrightness is the top of the APA102's 5-bit global brightness.
const MaxBrightness = 31

// Clock pulses around the pixel data.
const (
	startClocks = 32
	endClocks   = 36
)

// Opts configures a Blinkt.
type Opts struct {
	// Brightness is the initial brightness of every pixel, 0–31. The Blinkt is
	// bright enough to dazzle at 31 and draws up to 60 mA per pixel.
	Brightness uint8
}

// DefaultOpts returns brightness 7.
func DefaultOpts() *Opts { return &Opts{Brightness: 7} }

type pixel struct {
	r, g, b    uint8
	brightness uint8
}

// Dev is a Blinkt. Its methods are safe for concurrent use.
type Dev struct {
	data, clock gpio.PinOut

	mu     sync.Mutex
	pixels [NumPixels]pixel
	dat    gpio.Level // last level written to data
}

var _ conn.Resource = (*Dev)(nil)

// New returns the Blinkt on the data and clock pins (GPIO23, GPIO24), with
// both lines driven low and nothing shown yet. opts nil means DefaultOpts.
func New(data, clock gpio.PinOut, opts *Opts) (*Dev, error) {
	if data == nil || clock == nil {
		return nil, errors.New("blinkt: nil pin")
	}
	if opts == nil {
		opts = DefaultOpts()
	}
	if opts.Brightness > MaxBrightness {
		return nil, fmt.Errorf("blinkt: brightness %d above %d", opts.Brightness, MaxBrightness)
	}
	d := &Dev{data: data, clock: clock}
	for i := range d.pixels {
		d.pixels[i].brightness = opts.Brightness
	}
	if err := clock.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("blinkt: clock %s: %w", clock, err)
	}
	if err := data.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("blinkt: data %s: %w", data, err)
	}
	return d, nil
}

func checkIndex(i int) error {
	if i < 0 || i >= NumPixels {
		return fmt.Errorf("blinkt: pixel %d out of range 0..%d", i, NumPixels-1)
	}
	return nil
}

// SetPixel sets the colour of pixel i (0 is the first on the chain, as in
// Pimoroni's library). Alpha is ignored: color.RGBA is already
// premultiplied. It takes effect on the next Show.
func (d *Dev) SetPixel(i int, c color.RGBA) error {
	if err := checkIndex(i); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := &d.pixels[i]
	p.r, p.g, p.b = c.R, c.G, c.B
	return nil
}

// SetPixelBrightness sets the 5-bit brightness (0–31) of pixel i.
func (d *Dev) SetPixelBrightness(i int, b uint8) error {
	if err := checkIndex(i); err != nil {
		return err
	}
	if b > MaxBrightness {
		return fmt.Errorf("blinkt: brightness %d above %d", b, MaxBrightness)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pixels[i].brightness = b
	return nil
}

// SetBrightness sets the brightness (0–31) of every pixel.
func (d *Dev) SetBrightness(b uint8) error {
	if b > MaxBrightness {
		return fmt.Errorf("blinkt: brightness %d above %d", b, MaxBrightness)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.pixels {
		d.pixels[i].brightness = b
	}
	return nil
}

// Clear sets every pixel to black (brightness is kept). Call Show to apply.
func (d *Dev) Clear() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.pixels {
		p := &d.pixels[i]
		p.r, p.g, p.b = 0, 0, 0
	}
}

// Frame returns the bytes Show clocks out between the start and end clocks:
// 4 per pixel.
func (d *Dev) Frame() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.frame(make([]byte, 0, 4*NumPixels))
}

func (d *Dev) frame(buf []byte) []byte {
	for _, p := range d.pixels {
		buf = append(buf, 0xE0|p.brightness, p.b, p.g, p.r)
	}
	return buf
}

// Show sends the pixels to the Blinkt.
func (d *Dev) Show() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var buf [4 * NumPixels]byte
	// Written unconditionally: after a failed Show the line's level is unknown.
	if err := d.data.Out(gpio.Low); err != nil {
		return fmt.Errorf("blinkt: data %s: %w", d.data, err)
	}
	d.dat = gpio.Low
	if err := d.clocks(startClocks); err != nil {
		return err
	}
	for _, b := range d.frame(buf[:0]) {
		for bit := 7; bit >= 0; bit-- {
			if err := d.bit(b>>bit&1 != 0); err != nil {
				return err
			}
		}
	}
	return d.clocks(endClocks)
}

// clocks sends n zero bits: DAT low for the start frame and for the trailing
// pulses (the pixels shift those on and ignore them).
func (d *Dev) clocks(n int) error {
	for range n {
		if err := d.bit(false); err != nil {
			return err
		}
	}
	return nil
}

// bit presents one bit on DAT, then pulses CLK: the APA102 samples DAT on the
// rising edge. DAT is only written when it changes.
func (d *Dev) bit(v bool) error {
	if l := gpio.Level(v); l != d.dat {
		if err := d.data.Out(l); err != nil {
			return fmt.Errorf("blinkt: data %s: %w", d.data, err)
		}
		d.dat = l
	}
	if err := d.clock.Out(gpio.High); err != nil {
		return fmt.Errorf("blinkt: clock %s: %w", d.clock, err)
	}
	if err := d.clock.Out(gpio.Low); err != nil {
		return fmt.Errorf("blinkt: clock %s: %w", d.clock, err)
	}
	return nil
}

// Halt switches every pixel off and shows it.
func (d *Dev) Halt() error {
	d.Clear()
	return d.Show()
}

func (d *Dev) String() string {
	return fmt.Sprintf("blinkt(DAT %s, CLK %s)", d.data, d.clock)
}
