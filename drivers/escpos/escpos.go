package escpos

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"sync"
	"sync/atomic"
)

// Dev is an ESC/POS printer behind an io.Writer (USB, Serial, a file, the
// simulator). It is safe for concurrent use; jobs run one at a time.
type Dev struct {
	w    io.Writer
	opts Opts

	// halt cancels the running job, if any: Halt must not wait for a paced
	// serial band that can take seconds.
	halt atomic.Pointer[context.CancelFunc]

	mu sync.Mutex
	// rest is what the printer still expects after an interrupted write: the
	// unsent tail of the command, raster data blanked to white. Halt sends it
	// so the printer does not swallow the next bytes as image data (the
	// "garbage after images" users complain about).
	rest    []byte
	aborted bool // a job stopped half-way: Halt resets the printer
}

// contextWriter is implemented by transports that can give up mid-write
// (Serial's pacing can block for seconds).
type contextWriter interface {
	WriteContext(ctx context.Context, p []byte) (int, error)
}

// New returns a printer writing to w. Nothing is sent until the first Print.
func New(w io.Writer, opts *Opts) (*Dev, error) {
	if w == nil {
		return nil, errors.New("escpos: nil writer")
	}
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	return &Dev{w: w, opts: o}, nil
}

// Width returns the head width in dots.
func (d *Dev) Width() int { return d.opts.Width }

// String describes the printer and its link.
func (d *Dev) String() string {
	// Only our transports' String is known to be short and safe to show
	// (a bytes.Buffer's would dump the job).
	link := fmt.Sprintf("%T", d.w)
	switch w := d.w.(type) {
	case *USB:
		link = w.String()
	case *Serial:
		link = w.String()
	}
	return fmt.Sprintf("escpos.Dev{%s, %d dots, %s}", d.opts.Profile, d.opts.Width, link)
}

// Print dithers img to the head width (transparency on white, wider images
// scaled down, narrower ones centred) and sends it as one job. ctx is checked
// between bands; a cancelled job leaves the printer between commands, and
// Halt resets it.
func (d *Dev) Print(ctx context.Context, img image.Image) error {
	if img == nil {
		return errors.New("escpos: nil image")
	}
	r := img.Bounds()
	if r.Empty() {
		return fmt.Errorf("escpos: empty image %v", r)
	}
	if int64(r.Dx())*int64(r.Dy()) > maxPixels {
		return fmt.Errorf("escpos: image %dx%d too large (max %d pixels)", r.Dx(), r.Dy(), maxPixels)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("escpos: print: %w", err)
	}
	b := Dither(img, d.opts.Width, &d.opts)
	return d.PrintBitmap(ctx, b)
}

// PrintBitmap sends an already dithered bitmap as one job.
func (d *Dev) PrintBitmap(ctx context.Context, b *Bitmap) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.recoverLocked(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.halt.Store(&cancel)
	defer d.halt.Store(nil)
	err := encode(ctx, b, &d.opts, func(ctx context.Context, p []byte, header int) error {
		n, err := d.write(ctx, p)
		if err != nil {
			d.aborted = true
			if n < len(p) {
				rest := append([]byte(nil), p[n:]...)
				for i := max(header-n, 0); i < len(rest); i++ {
					rest[i] = 0 // white
				}
				d.rest = rest
			}
			return fmt.Errorf("escpos: write: %w", err)
		}
		return nil
	})
	if err != nil && ctx.Err() != nil {
		d.aborted = true
	}
	return err
}

func (d *Dev) write(ctx context.Context, p []byte) (int, error) {
	if cw, ok := d.w.(contextWriter); ok {
		return cw.WriteContext(ctx, p)
	}
	return d.w.Write(p)
}

// recoverLocked completes an interrupted command and resets the printer
// before anything else is sent.
func (d *Dev) recoverLocked() error {
	if len(d.rest) > 0 {
		if _, err := d.w.Write(d.rest); err != nil {
			return fmt.Errorf("escpos: finishing interrupted command: %w", err)
		}
		d.rest = nil
	}
	if d.aborted {
		if _, err := d.w.Write([]byte{esc, '@'}); err != nil {
			return fmt.Errorf("escpos: reset after aborted job: %w", err)
		}
		d.aborted = false
	}
	return nil
}

// Halt stops a running Print at the next band and leaves the printer idle:
// an interrupted command is completed with white dots and the printer is
// reset with `ESC @` if a job was aborted.
func (d *Dev) Halt() error {
	if c := d.halt.Load(); c != nil {
		(*c)()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.recoverLocked()
}
