package escpos

import (
	"context"
	"fmt"
	"io"
)

// ESC/POS bytes.
const (
	esc = 0x1b
	gs  = 0x1d
	dc2 = 0x12
	dle = 0x10
	eot = 0x04
	// wake is the CSN-A2's wake-up byte; the printer needs wakeTime after it.
	wake = 0xff
)

// Encode writes b as a complete print job for opts: `ESC @` (and the Adafruit
// heat/density settings), the image in bands of at most opts.BandRows rows,
// the feed and the cut. Each band goes out in one Write.
func Encode(w io.Writer, b *Bitmap, opts *Opts) error {
	o, err := opts.normalized()
	if err != nil {
		return err
	}
	return encode(context.Background(), b, &o, func(_ context.Context, p []byte, _ int) error {
		_, err := w.Write(p)
		if err != nil {
			return fmt.Errorf("escpos: write: %w", err)
		}
		return nil
	})
}

// chunkFunc sends one piece of a job. header is the number of command bytes
// at the start of p; the rest (if any) is raster data.
type chunkFunc func(ctx context.Context, p []byte, header int) error

// encode produces the job piece by piece, checking ctx before each band.
func encode(ctx context.Context, b *Bitmap, o *Opts, send chunkFunc) error {
	if b == nil {
		return fmt.Errorf("escpos: nil bitmap")
	}
	if b.Stride < (b.Width+7)/8 || len(b.Bits) < b.Stride*b.Height || b.Width < 0 || b.Height < 0 {
		return fmt.Errorf("escpos: malformed bitmap %dx%d stride %d with %d bytes", b.Width, b.Height, b.Stride, len(b.Bits))
	}
	// The bitmap may be narrower than the head (centred by Dither) but
	// never wider: the printer would wrap or drop the rest.
	if b.Width > o.Width {
		return fmt.Errorf("escpos: bitmap %d dots wide exceeds the %d-dot head", b.Width, o.Width)
	}
	// All command bytes: an interrupted init is completed as it is.
	init := initSequence(o)
	if err := send(ctx, init, len(init)); err != nil {
		return err
	}
	rowBytes := (b.Width + 7) / 8
	// One buffer for every band: the longest header is 8 bytes.
	buf := make([]byte, 0, 8+min(o.BandRows, b.Height)*rowBytes)
	for y := 0; y < b.Height; y += o.BandRows {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("escpos: print cancelled at row %d of %d: %w", y, b.Height, err)
		}
		rows := min(o.BandRows, b.Height-y)
		buf = appendBandHeader(buf[:0], o.Profile, rowBytes, rows)
		header := len(buf)
		for r := y; r < y+rows; r++ {
			buf = append(buf, b.Bits[r*b.Stride:r*b.Stride+rowBytes]...)
		}
		if err := send(ctx, buf, header); err != nil {
			return err
		}
	}
	if tail := tailSequence(o); len(tail) > 0 {
		if err := send(ctx, tail, len(tail)); err != nil {
			return err
		}
	}
	return nil
}

// initSequence resets the printer. The Adafruit profile first wakes it as
// Adafruit_Thermal's begin() does for firmware 2.64 and later: the wake byte
// (the pacer then waits 50 ms), `ESC 8 0 0` (never sleep), `ESC @`, tab
// stops every 4 columns (`ESC D 4 8 … 28 0`), the heat settings, then the
// density and, when the busy line is wired, `GS a 32` so the printer
// drives DTR.
func initSequence(o *Opts) []byte {
	if o.Profile != Adafruit {
		return []byte{esc, '@'}
	}
	p := []byte{
		wake,
		esc, '8', 0, 0,
		esc, '@',
		esc, 'D', 4, 8, 12, 16, 20, 24, 28, 0,
		esc, '7', o.Heat.Dots, o.Heat.Time, o.Heat.Interval,
		dc2, '#', o.BreakTime<<5 | o.Density,
	}
	if o.DTR {
		p = append(p, gs, 'a', 1<<5)
	}
	return p
}

func appendBandHeader(p []byte, profile Profile, rowBytes, rows int) []byte {
	if profile == Adafruit {
		return append(p, dc2, '*', byte(rows), byte(rowBytes))
	}
	return append(p, gs, 'v', '0', 0, byte(rowBytes), byte(rowBytes>>8), byte(rows), byte(rows>>8))
}

func tailSequence(o *Opts) []byte {
	var p []byte
	if o.FeedLines > 0 {
		p = append(p, esc, 'd', byte(o.FeedLines))
	}
	if o.Cut {
		p = append(p, gs, 'V', 66, 0)
	}
	return p
}
