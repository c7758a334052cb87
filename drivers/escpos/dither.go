package escpos

import (
	"image"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"
)

// Dither renders img as a width-dot bitmap the way Print does: transparency
// is flattened onto white, wider images are scaled down (aspect kept,
// Catmull-Rom), narrower ones centred, gamma/contrast applied, then dithered
// with opts.Dither. width <= 0 means opts.Width. Invalid opts are replaced by
// the defaults (keeping a valid Width) rather than failing; New reports them.
func Dither(img image.Image, width int, opts *Opts) *Bitmap {
	o, err := opts.normalized()
	if err != nil {
		o, _ = DefaultOpts().normalized()
		if opts != nil && opts.Width > 0 && opts.Width <= MaxWidth {
			o.Width = opts.Width
		}
	}
	if width <= 0 {
		width = o.Width
	}
	if img == nil || img.Bounds().Empty() {
		return NewBitmap(width, 0)
	}
	row, h := greyRows(img, width, &o)
	b := NewBitmap(width, h)
	// One grey row at a time, dithered while it is still in the cache: no
	// canvas of the whole picture unless it must be scaled.
	var step func(grey, out []byte)
	switch o.Dither {
	case Atkinson:
		step = newAtkinson(width).row
	case Bayer:
		step = (&bayer{}).row
	case Threshold:
		step = threshold
	default:
		step = newFloydSteinberg(width).row
	}
	buf := make([]byte, width)
	for y := range h {
		step(row(y, buf), b.Bits[y*b.Stride:(y+1)*b.Stride])
	}
	return b
}

// greyRows returns the picture's height at width dots and a function that
// gives row y of it: grey, flattened onto white, scaled down or centred,
// tone-curved. The row is written into buf (width bytes) or, when the
// picture already is that row, is the picture's own memory: read, never
// written. Only a picture wider than width is converted whole first (the
// scaler reads around each dot).
func greyRows(img image.Image, width int, o *Opts) (func(y int, buf []byte) []byte, int) {
	r := img.Bounds()
	conv := greyConv(img)
	if conv == nil || r.Dx() > width {
		g := toGray(img)
		if g.Rect.Dx() > width {
			g = scaleGray(g, width)
		}
		r, conv = g.Rect, greyConv(g)
	}
	w, h := r.Dx(), r.Dy()
	lut, identity := toneCurve(o.Gamma, o.Contrast)
	if w == width && identity {
		return conv, h
	}
	x0 := (width - w) / 2
	return func(y int, buf []byte) []byte {
		// The margins are rewritten each row: buf is the caller's.
		for i := range buf[:x0] {
			buf[i] = 255
		}
		for i := range buf[x0+w:] {
			buf[x0+w+i] = 255
		}
		d := buf[x0 : x0+w]
		src := conv(y, d)
		if identity {
			copy(d, src)
		} else {
			for i, v := range src[:len(d)] {
				d[i] = lut[v]
			}
		}
		return buf
	}, h
}

// toneCurve builds the gamma-then-contrast lookup table.
func toneCurve(gamma, contrast float64) (lut [256]byte, identity bool) {
	if gamma == 1 && contrast == 1 {
		return lut, true
	}
	for i := range lut {
		v := math.Pow(float64(i)/255, 1/gamma) * 255
		v = (v-127.5)*contrast + 127.5
		lut[i] = uint8(math.Max(0, math.Min(255, math.Round(v))))
	}
	return lut, false
}

// scaleGray scales g down to width, keeping the aspect ratio. Big
// reductions (a 1800-dot archive comic to 384) first average k x k boxes,
// which is exact for area sampling and cheap, then Catmull-Rom covers the
// remaining factor below 2. x/image/draw has fast paths for Gray sources
// into RGBA destinations, not Gray ones.
func scaleGray(g *image.Gray, width int) *image.Gray {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	h := int((int64(sh)*int64(width) + int64(sw)/2) / int64(sw))
	if h < 1 {
		h = 1
	}
	if k := sw / width; k >= 2 && sh/k >= h {
		g = boxShrink(g, k)
		if g.Rect.Dx() == width && g.Rect.Dy() == h {
			return g
		}
	}
	tmp := image.NewRGBA(image.Rect(0, 0, width, h))
	xdraw.CatmullRom.Scale(tmp, tmp.Rect, g, g.Rect, xdraw.Src, nil)
	out := image.NewGray(tmp.Rect)
	for i := range out.Pix {
		out.Pix[i] = tmp.Pix[4*i] // grey in, so R = G = B
	}
	return out
}

// boxShrink averages k x k blocks; leftover edge pixels are dropped (less
// than k source pixels, i.e. under one output pixel).
func boxShrink(g *image.Gray, k int) *image.Gray {
	w, h := g.Rect.Dx()/k, g.Rect.Dy()/k
	out := image.NewGray(image.Rect(0, 0, w, h))
	sum := make([]uint32, w)
	n := uint32(k * k)
	for y := 0; y < h; y++ {
		clear(sum)
		for dy := 0; dy < k; dy++ {
			row := g.Pix[(y*k+dy)*g.Stride:]
			for x := range sum {
				s := uint32(0)
				for _, v := range row[x*k : x*k+k] {
					s += uint32(v)
				}
				sum[x] += s
			}
		}
		d := out.Pix[y*w : (y+1)*w]
		for x, s := range sum {
			d[x] = uint8((s + n/2) / n)
		}
	}
	return out
}

// toGray converts img to an 8-bit grey image at origin (0, 0), compositing
// any transparency onto white paper: transparent PNGs must not print black.
func toGray(img image.Image) *image.Gray {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	conv := greyConv(img)
	if conv == nil {
		// Rare formats (Gray16, RGBA64, CMYK...): one interface call per
		// pixel is acceptable here.
		if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
			draw.Draw(out, out.Rect, img, r.Min, draw.Src)
			return out
		}
		for y := 0; y < h; y++ {
			d := out.Pix[y*w : (y+1)*w]
			for x := range d {
				d[x] = grayOf(img.At(r.Min.X+x, r.Min.Y+y).RGBA())
			}
		}
		return out
	}
	for y := 0; y < h; y++ {
		d := out.Pix[y*w : (y+1)*w]
		copy(d, conv(y, d)) // a grey picture's own row; else d onto itself

	}
	return out
}

// greyConv returns a function that gives row y (counted from the top of the
// bounds) of img in grey, composited onto white: written into d (the bounds'
// width) or, for grey pictures, img's own row. Nil for the rare types that
// go through image.Image's per-pixel interface.
func greyConv(img image.Image) func(y int, d []byte) []byte {
	r := img.Bounds()
	w := r.Dx()
	switch src := img.(type) {
	case *image.Gray:
		return func(y int, _ []byte) []byte {
			i := src.PixOffset(r.Min.X, r.Min.Y+y)
			return src.Pix[i : i+w : i+w]
		}
	case *image.YCbCr:
		// Y' is the luma the grey model would compute from R'G'B'.
		return func(y int, _ []byte) []byte {
			i := src.YOffset(r.Min.X, r.Min.Y+y)
			return src.Y[i : i+w : i+w]
		}
	case *image.RGBA:
		return func(y int, d []byte) []byte {
			i := src.PixOffset(r.Min.X, r.Min.Y+y)
			s := src.Pix[i : i+4*w]
			d = d[:w]
			for x := range d {
				p := (*[4]uint8)(s[4*x:]) // one bounds check a dot
				// Premultiplied: lum(rgb) <= a, so adding the paper
				// showing through (255-a) stays within 255.
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				d[x] = uint8(l + 255 - uint32(p[3]))
			}
			return d
		}
	case *image.NRGBA:
		return func(y int, d []byte) []byte {
			i := src.PixOffset(r.Min.X, r.Min.Y+y)
			s := src.Pix[i : i+4*w]
			d = d[:w]
			for x := range d {
				p := (*[4]uint8)(s[4*x:])
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				a := uint32(p[3])
				d[x] = uint8((l*a + 255*(255-a) + 127) / 255)
			}
			return d
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range src.Palette {
			lut[i] = grayOf(c.RGBA())
		}
		return func(y int, d []byte) []byte {
			i := src.PixOffset(r.Min.X, r.Min.Y+y)
			s := src.Pix[i : i+w]
			d = d[:w]
			for x := range d {
				d[x] = lut[s[x]]
			}
			return d
		}
	}
	return nil
}

// grayOf flattens a premultiplied 16-bit colour onto white and returns its
// 8-bit luminance.
func grayOf(r, g, b, a uint32) uint8 {
	l := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	v := l + 0xffff - a
	if v > 0xffff {
		v = 0xffff
	}
	return uint8(v >> 8)
}

// The dithers take one grey row at a time and set the black bits of its
// packed output row (MSB first, padding left white). Error diffusion keeps
// its state in int32 row buffers made once per picture.

// floydSteinberg diffuses 7/16 of a dot's error right, 3/16, 5/16 and 1/16
// to the row below, each share truncated towards zero and the rounding
// left in the 7/16: no error is lost or made.
type floydSteinberg struct {
	// err[x+1] holds the error diffused into dot x of this row from the
	// row above. The row below's is written into the same buffer one dot
	// behind the reading (err[x] once dot x is done, when err[x] has been
	// read), so its three contributions to a dot travel in registers.
	err []int32
}

func newFloydSteinberg(w int) *floydSteinberg {
	return &floydSteinberg{err: make([]int32, w+1)}
}

// fsShare is how a dot spreads its error; fsShares has one for every sum
// (grey + error) a dot can reach. That range is closed: a dot's error e
// is within ±127 (black below 128 leaves e = v, white e = v - 255), each
// share has e's sign and at most its part (7/16 of 127 rounds up to 58,
// the others 7, 39, 23), so the four a dot receives add up to at most 127
// and v stays in -127..382. Indexing by v replaces the quantising and
// three divisions on the dot-to-dot path with one load.
type fsShare struct{ right, downLeft, down, downRight int16 }

const fsBias = 128 // fsShares[v+fsBias]: v+fsBias is in 1..510

var fsShares = func() (t [512]fsShare) {
	for i := range t {
		v := int32(i - fsBias)
		e := v - 255
		if v < 128 {
			e = v
		}
		e1, e3, e5 := e/16, e*3/16, e*5/16
		t[i] = fsShare{int16(e - e1 - e3 - e5), int16(e3), int16(e5), int16(e1)}
	}
	return
}()

func (d *floydSteinberg) row(grey, out []byte) {
	err := d.err
	w := len(err) - 1
	grey = grey[:w]
	var carry, a, c int32
	var acc uint32
	for x, g := range grey {
		v := int32(g) + err[x+1] + carry
		s := &fsShares[uint32(v+fsBias)&511]
		acc = acc<<1 | uint32(v-128)>>31 // 1 (black) when v < 128
		carry = int32(s.right)
		err[x] = a + int32(s.downLeft) // dot x-1 of the next row, now final
		a = c + int32(s.down)
		c = int32(s.downRight)
		if x&7 == 7 {
			out[x>>3] = byte(acc)
		}
	}
	err[w] = a
	if r := w & 7; r != 0 {
		out[w>>3] = byte(acc << uint(8-r))
	}
}

// atkinson passes on 6/8 of the error: 1/8 to the next two dots, three of
// the row below and one two rows down.
type atkinson struct {
	r0, r1, r2 []int32 // error for this row and the next two, two dots of margin each side
}

func newAtkinson(w int) *atkinson {
	return &atkinson{make([]int32, w+4), make([]int32, w+4), make([]int32, w+4)}
}

func (d *atkinson) row(grey, out []byte) {
	r0, r1, r2 := d.r0, d.r1, d.r2
	w := len(r0) - 4
	r1, r2 = r1[:w+4], r2[:w+4] // the same length, for the bounds checks
	var acc byte
	for x, g := range grey[:w] {
		i := x + 2
		v := int32(g) + r0[i]
		e := v - 255
		if v < 128 {
			acc |= 0x80 >> uint(x&7)
			e = v
		}
		e /= 8
		r0[i+1] += e
		r0[i+2] += e
		r1[i-1] += e
		r1[i] += e
		r1[i+1] += e
		r2[i] += e
		if x&7 == 7 {
			out[x>>3] = acc
			acc = 0
		}
	}
	if w&7 != 0 {
		out[w>>3] = acc
	}
	clear(r0)
	d.r0, d.r1, d.r2 = r1, r2, r0
}

// bayer8 is the classic recursive 8x8 index matrix (values 0..63).
var bayer8 = [8][8]uint8{
	{0, 32, 8, 40, 2, 34, 10, 42},
	{48, 16, 56, 24, 50, 18, 58, 26},
	{12, 44, 4, 36, 14, 46, 6, 38},
	{60, 28, 52, 20, 62, 30, 54, 22},
	{3, 35, 11, 43, 1, 33, 9, 41},
	{51, 19, 59, 27, 49, 17, 57, 25},
	{15, 47, 7, 39, 13, 45, 5, 37},
	{63, 31, 55, 23, 61, 29, 53, 21},
}

// bayer counts rows for the ordered dither's matrix.
type bayer struct{ y int }

func (d *bayer) row(grey, out []byte) {
	m := &bayer8[d.y&7]
	d.y++
	var acc uint32
	for x, g := range grey {
		// Black when g/256 < (m+0.5)/64: level 0 is all black, 255 all
		// white. Branch-free: photographs defeat the predictor.
		acc = acc<<1 | uint32(int32(g)-4*int32(m[x&7])-2)>>31
		if x&7 == 7 {
			out[x>>3] = byte(acc)
		}
	}
	if r := len(grey) & 7; r != 0 {
		out[len(grey)>>3] = byte(acc << uint(8-r))
	}
}

func threshold(grey, out []byte) {
	var acc uint32
	for x, g := range grey {
		acc = acc<<1 | uint32(g>>7^1) // black below 128
		if x&7 == 7 {
			out[x>>3] = byte(acc)
		}
	}
	if r := len(grey) & 7; r != 0 {
		out[len(grey)>>3] = byte(acc << uint(8-r))
	}
}
