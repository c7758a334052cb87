// Package imgdecode decodes PNG and JPEG files within limits a Pi Zero
// (512 MB for everything) can afford: the dimensions are read from the
// header and checked before a single pixel is allocated, the file is read
// through a bound, and devices or pipes (whose stat size is 0) are read no
// further than that bound.
//
// The standard decoders allocate the whole image at once, so the budget is
// on the decoded size: a PNG of a few kilobytes can claim 60000×60000 pixels
// (14 GB as RGBA) in its header.
package imgdecode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // the formats tinkerbox reads
	_ "image/png"
	"io"
	"io/fs"
	"os"
)

// Limits bound one decode. A zero field means no limit of that kind.
type Limits struct {
	MaxFileBytes int64 // the encoded file
	MaxPixels    int64 // width × height from the header
	MaxDecoded   int64 // bytes the decoder allocates for the pixels (progressive JPEG coefficients included)
}

// Photo limits: inputs of print, catalog identify and catalog reference
// images. 24 Mpixel is a 6000×4000 camera photo; 96 MiB decoded lets that
// photo in as a baseline JPEG (36 MB) or a grey or 4:2:0 progressive one,
// and an RGBA PNG up to 24 Mpixel, which is all a 512 MB board can spare
// next to the running appliance.
const (
	PhotoFileBytes = 64 << 20
	PhotoPixels    = 24_000_000
	PhotoDecoded   = 96 << 20
)

// Photo returns the limits for photos and reference images.
func Photo() Limits {
	return Limits{MaxFileBytes: PhotoFileBytes, MaxPixels: PhotoPixels, MaxDecoded: PhotoDecoded}
}

// ErrTooLarge matches (errors.Is) every error about a limit.
var ErrTooLarge = errors.New("imgdecode: too large")

// tooLarge is a limit's message, which matches ErrTooLarge.
type tooLarge string

func (e tooLarge) Error() string        { return string(e) }
func (e tooLarge) Is(target error) bool { return target == ErrTooLarge }

func tooLargef(format string, args ...any) error { return tooLarge(fmt.Sprintf(format, args...)) }

// Info is what the header says about an image.
type Info struct {
	image.Config
	Format  string
	Decoded int64 // bytes the decoder will allocate for it
}

// Check refuses an image whose header asks for more than lim; name starts
// the message ("photo.png is 60000×60000, more than the 24 Mpixel limit").
func (in Info) Check(name string, lim Limits) error {
	w, h := int64(in.Width), int64(in.Height)
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%s is %d×%d: no pixels", name, w, h)
	}
	if lim.MaxPixels > 0 && (w > lim.MaxPixels || h > lim.MaxPixels || w*h > lim.MaxPixels) {
		return tooLargef("%s is %d×%d, more than the %s limit", name, w, h, mpixel(lim.MaxPixels))
	}
	if lim.MaxDecoded > 0 && in.Decoded > lim.MaxDecoded {
		return tooLargef("%s is %d×%d and needs %d MiB decoded, more than the %s limit",
			name, w, h, (in.Decoded+1<<20-1)>>20, mib(lim.MaxDecoded))
	}
	return nil
}

func mpixel(n int64) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d Mpixel", n/1_000_000)
	}
	return fmt.Sprintf("%.1f Mpixel", float64(n)/1e6)
}

// DecodeConfig reads the header of a PNG or JPEG from r and says how much
// decoding it would cost.
func DecodeConfig(r io.ReadSeeker) (Info, error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return Info{}, err
	}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return Info{}, err
	}
	in := Info{Config: cfg, Format: format}
	px := int64(cfg.Width) * int64(cfg.Height)
	in.Decoded = px * bytesPerPixel(cfg.ColorModel)
	if format == "jpeg" {
		if _, err := r.Seek(start, io.SeekStart); err != nil {
			return Info{}, err
		}
		if n, ok := jpegCost(bufio.NewReader(r)); ok {
			in.Decoded = n
		}
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return Info{}, err
	}
	return in, nil
}

// bytesPerPixel is what the standard decoders allocate per pixel for a
// colour model (JPEG's is refined from its frame header).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.YCbCrModel:
		return 3
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // RGBA64, NRGBA64 and anything unknown
}

// Decode checks the header of r against lim and decodes it; r is read from
// its current offset.
func Decode(r io.ReadSeeker, name string, lim Limits) (image.Image, Info, error) {
	in, err := DecodeConfig(r)
	if err != nil {
		return nil, in, fmt.Errorf("%s: not a PNG or JPEG image: %w", name, err)
	}
	if err := in.Check(name, lim); err != nil {
		return nil, in, err
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, in, fmt.Errorf("%s: corrupt %s: %w", name, in.Format, err)
	}
	return img, in, nil
}

// DecodeBytes is Decode for an image held in memory.
func DecodeBytes(b []byte, name string, lim Limits) (image.Image, error) {
	if lim.MaxFileBytes > 0 && int64(len(b)) > lim.MaxFileBytes {
		return nil, tooLargef("%s is %d bytes, more than the %d MiB limit", name, len(b), lim.MaxFileBytes>>20)
	}
	img, _, err := Decode(bytes.NewReader(b), name, lim)
	return img, err
}

// ReadFile decodes the image file at path within lim.
func ReadFile(path string, lim Limits) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := DecodeFile(f, path, lim)
	return img, err
}

// ReadFS decodes the image file name in fsys within lim.
func ReadFS(fsys fs.FS, name string, lim Limits) (image.Image, Info, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	return DecodeFile(f, name, lim)
}

// ConfigFS reads only the header of the image file name in fsys.
func ConfigFS(fsys fs.FS, name string, lim Limits) (Info, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	r, err := Bounded(f, name, lim.MaxFileBytes)
	if err != nil {
		return Info{}, err
	}
	in, err := DecodeConfig(r)
	if err != nil {
		return in, fmt.Errorf("%s: not a PNG or JPEG image: %w", name, err)
	}
	return in, nil
}

// DecodeFile decodes an open file within lim.
func DecodeFile(f fs.File, name string, lim Limits) (image.Image, Info, error) {
	r, err := Bounded(f, name, lim.MaxFileBytes)
	if err != nil {
		return nil, Info{}, err
	}
	return Decode(r, name, lim)
}

// Bounded returns f as a ReadSeeker that never yields more than max bytes
// (0: no bound). A regular file that can be read at offsets is read in
// place, refused up front if its size is above max; anything else (a
// device, a pipe: stat says 0 bytes) is read into memory up to max and
// refused beyond it, so /dev/zero ends at once.
func Bounded(f fs.File, name string, max int64) (io.ReadSeeker, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", name)
	}
	if ra, ok := f.(io.ReaderAt); ok && st.Mode().IsRegular() {
		if max > 0 && st.Size() > max {
			return nil, tooLargef("%s is %d bytes, more than the %s limit", name, st.Size(), mib(max))
		}
		// A section ends at the size stat gave: a file that grows while it
		// is read cannot take more.
		return io.NewSectionReader(ra, 0, st.Size()), nil
	}
	var rd io.Reader = f
	if max > 0 {
		rd = io.LimitReader(f, max+1)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	if max > 0 && int64(len(b)) > max {
		return nil, tooLargef("%s is larger than the %s limit", name, mib(max))
	}
	return bytes.NewReader(b), nil
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// jpegCost walks a JPEG's markers to its frame header and returns what
// image/jpeg allocates: the planes at their sampling factors, plus, for a
// progressive file, a 256-byte coefficient block per 8×8 block of every
// component (four bytes a sample: a 4:4:4 progressive photo costs 15 bytes
// a pixel, which the colour model alone does not say).
func jpegCost(r *bufio.Reader) (int64, bool) {
	var b [2]byte
	if _, err := io.ReadFull(r, b[:]); err != nil || b[0] != 0xff || b[1] != 0xd8 {
		return 0, false
	}
	for range 1 << 16 { // markers before the frame: bounded, a hostile file may repeat them
		c, err := r.ReadByte()
		if err != nil {
			return 0, false
		}
		if c != 0xff {
			continue // stray bytes: image/jpeg skips them too
		}
		m, err := r.ReadByte()
		for err == nil && m == 0xff {
			m, err = r.ReadByte()
		}
		if err != nil {
			return 0, false
		}
		if m == 0x00 || m == 0x01 || m >= 0xd0 && m <= 0xd8 {
			continue // no length
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, false
		}
		n := int(b[0])<<8 | int(b[1]) - 2
		if n < 0 {
			return 0, false
		}
		sof := m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
		if !sof {
			if _, err := r.Discard(n); err != nil {
				return 0, false
			}
			continue
		}
		seg := make([]byte, n)
		if _, err := io.ReadFull(r, seg); err != nil || n < 6 {
			return 0, false
		}
		h, w, nc := int64(seg[1])<<8|int64(seg[2]), int64(seg[3])<<8|int64(seg[4]), int(seg[5])
		if nc < 1 || n < 6+3*nc {
			return 0, false
		}
		var hmax, vmax int64 = 1, 1
		for i := range nc {
			hv := seg[6+3*i+1]
			hmax, vmax = max(hmax, int64(hv>>4)), max(vmax, int64(hv&15))
		}
		// Blocks of the whole MCUs, as the decoder allocates them.
		mcuX, mcuY := (w+8*hmax-1)/(8*hmax), (h+8*vmax-1)/(8*vmax)
		var planes, blocks int64
		for i := range nc {
			hv := seg[6+3*i+1]
			hi, vi := max(int64(hv>>4), 1), max(int64(hv&15), 1)
			bx, by := mcuX*hi, mcuY*vi
			blocks += bx * by
			planes += bx * by * 64
		}
		if nc == 4 {
			planes += w * h * 4 // the CMYK image made from the planes
		}
		if m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce {
			planes += blocks * 256
		}
		return planes, true
	}
	return 0, false
}
