package sim

import (
	"fmt"
	"image"
	"sync"
)

// Size of the Scroll pHAT HD matrix.
const (
	DisplayWidth  = 17
	DisplayHeight = 7
)

// Display is the 17x7 scroll display: a brightness buffer the front panel
// shows. Pixel values are brightness 0 (off) to 255 (full).
type Display struct {
	mu         sync.Mutex
	frame      [DisplayWidth * DisplayHeight]uint8
	brightness uint8
	version    uint64
}

// NewDisplay returns a dark display at full brightness.
func NewDisplay() *Display { return &Display{brightness: 255} }

func (d *Display) String() string {
	return fmt.Sprintf("sim.Display(%dx%d)", DisplayWidth, DisplayHeight)
}

// Show copies frame onto the display. It must be exactly 17x7 at the origin,
// as the real driver requires.
func (d *Display) Show(frame *image.Gray) error {
	if frame == nil {
		return fmt.Errorf("sim: display: nil frame")
	}
	if want := image.Rect(0, 0, DisplayWidth, DisplayHeight); frame.Bounds() != want {
		return fmt.Errorf("sim: display: frame bounds %v, want %v", frame.Bounds(), want)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for y := 0; y < DisplayHeight; y++ {
		copy(d.frame[y*DisplayWidth:][:DisplayWidth], frame.Pix[y*frame.Stride:])
	}
	d.version++
	return nil
}

// SetBrightness scales every pixel by b/255 (the global brightness).
func (d *Display) SetBrightness(b uint8) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.brightness != b {
		d.brightness = b
		d.version++
	}
}

// Brightness is the global brightness set by SetBrightness.
func (d *Display) Brightness() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.brightness
}

// Frame returns a copy of what the display shows, brightness applied.
func (d *Display) Frame() *image.Gray {
	img := image.NewGray(image.Rect(0, 0, DisplayWidth, DisplayHeight))
	d.mu.Lock()
	defer d.mu.Unlock()
	b := uint32(d.brightness)
	for i, v := range d.frame {
		img.Pix[i] = uint8((uint32(v)*b + 127) / 255)
	}
	return img
}

// Version increases on every change, so a UI can poll it cheaply.
func (d *Display) Version() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Halt clears the display to black.
func (d *Display) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.frame = [DisplayWidth * DisplayHeight]uint8{}
	d.version++
	return nil
}
