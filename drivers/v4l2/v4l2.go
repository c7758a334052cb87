package v4l2

import (
	"fmt"
	"time"
)

// Opts configures the capture format.
type Opts struct {
	Width, Height int
	FrameRate     int // frames per second; the camera may pick the nearest
	Buffers       int // mmap buffers queued in the driver
	// Timeout ends a Stream with an error when no frame arrives for this
	// long (a stalled or unplugged camera), so the owner can restart it.
	Timeout time.Duration
}

// DefaultOpts() suits the spy-cam on a Pi Zero: 640x480 at 15 fps.
func DefaultOpts() Opts {
	return Opts{Width: 640, Height: 480, FrameRate: 15, Buffers: 4, Timeout: 5 * time.Second}
}

func (o *Opts) withDefaults() Opts {
	d := DefaultOpts()
	if o == nil {
		return d
	}
	r := *o
	if r.Width <= 0 || r.Height <= 0 {
		r.Width, r.Height = d.Width, d.Height
	}
	if r.FrameRate <= 0 {
		r.FrameRate = d.FrameRate
	}
	if r.Buffers <= 0 {
		r.Buffers = d.Buffers
	}
	if r.Buffers > 32 {
		r.Buffers = 32
	}
	if r.Timeout <= 0 {
		r.Timeout = d.Timeout
	}
	return r
}

// String describes the device and its negotiated format.
func (d *Dev) String() string {
	if d.card == "" {
		return fmt.Sprintf("v4l2 %s", d.path)
	}
	return fmt.Sprintf("v4l2 %s (%s) %dx%d %s", d.path, d.card, d.width, d.height, d.pixFmt)
}

// Size returns the negotiated frame size, which may differ from the one asked.
func (d *Dev) Size() (width, height int) { return d.width, d.height }
