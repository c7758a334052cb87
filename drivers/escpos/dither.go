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
	canvas, h := prepare(img, width, &o)
	b := NewBitmap(width, h)
	switch o.Dither {
	case Atkinson:
		ditherAtkinson(b, canvas)
	case Bayer:
		ditherBayer(b, canvas)
	case Threshold:
		ditherThreshold(b, canvas)
	default:
		ditherFloydSteinberg(b, canvas)
	}
	return b
}

// prepare returns the grey canvas, width wide (row stride = width), and its
// height: flattened, scaled, centred, adjusted.
func prepare(img image.Image, width int, o *Opts) ([]byte, int) {
	g := toGray(img)
	if g.Rect.Dx() > width {
		g = scaleGray(g, width)
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	lut, identity := toneCurve(o.Gamma, o.Contrast)
	if w == width && identity {
		return g.Pix, h // toGray's stride is its width
	}
	canvas := make([]byte, width*h)
	x0 := (width - w) / 2
	for y := 0; y < h; y++ {
		dst := canvas[y*width : (y+1)*width]
		src := g.Pix[y*g.Stride : y*g.Stride+w]
		for i := 0; i < x0; i++ {
			dst[i] = 255
		}
		for i := x0 + w; i < width; i++ {
			dst[i] = 255
		}
		d := dst[x0 : x0+w]
		if identity {
			copy(d, src)
			continue
		}
		for i, v := range src {
			d[i] = lut[v]
		}
	}
	return canvas, h
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
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			i := src.PixOffset(r.Min.X, r.Min.Y+y)
			copy(out.Pix[y*w:(y+1)*w], src.Pix[i:i+w])
		}
	case *image.YCbCr:
		// Y' is the luma the grey model would compute from R'G'B'.
		for y := 0; y < h; y++ {
			i := src.YOffset(r.Min.X, r.Min.Y+y)
			copy(out.Pix[y*w:(y+1)*w], src.Y[i:i+w])
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):]
			s = s[:4*w]
			d := out.Pix[y*w : (y+1)*w]
			for x := range d {
				p := s[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: lum(rgb) <= a, so adding the paper
				// showing through (255-a) stays within 255.
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				d[x] = uint8(l + 255 - uint32(p[3]))
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):]
			s = s[:4*w]
			d := out.Pix[y*w : (y+1)*w]
			for x := range d {
				p := s[4*x : 4*x+4 : 4*x+4]
				l := (19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16
				a := uint32(p[3])
				d[x] = uint8((l*a + 255*(255-a) + 127) / 255)
			}
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range src.Palette {
			lut[i] = grayOf(c.RGBA())
		}
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+y):]
			d := out.Pix[y*w : (y+1)*w]
			for x := range d {
				d[x] = lut[s[x]]
			}
		}
	default:
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
	}
	return out
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

// The dithers read the grey canvas (stride = b.Width) and set black bits.
// Error diffusion runs in int32 row buffers with two dots of margin on each
// side so the inner loop needs no edge tests.

func ditherFloydSteinberg(b *Bitmap, canvas []byte) {
	w := b.Width
	// cur[x+1] holds the error diffused into dot x of this row from the row
	// above; next is written (not accumulated) one dot behind, so the row
	// below's three contributions travel in registers.
	cur := make([]int32, w+1)
	next := make([]int32, w+1)
	for y := 0; y < b.Height; y++ {
		row := canvas[y*w : (y+1)*w]
		out := b.Bits[y*b.Stride : (y+1)*b.Stride]
		in := cur[1 : w+1]
		below := next[:w]
		var carry, a, c, acc int32
		for x, g := range row {
			v := int32(g) + in[x] + carry
			// Branch-free quantise: dithered dots defeat the predictor.
			black := (v - 128) >> 31 // -1 when black, else 0
			e := v - 255&^black
			acc = acc<<1 | black&1
			e1 := e / 16
			e3 := e * 3 / 16
			e5 := e * 5 / 16
			carry = e - e1 - e3 - e5
			below[x] = a + e3 // dot x-1 of the next row, now final
			a = c + e5
			c = e1
			if x&7 == 7 {
				out[x>>3] = byte(acc)
				acc = 0
			}
		}
		next[w] = a
		if r := w & 7; r != 0 {
			out[w>>3] = byte(acc << uint(8-r))
		}
		cur, next = next, cur
	}
}

func ditherAtkinson(b *Bitmap, canvas []byte) {
	w := b.Width
	r0 := make([]int32, w+4)
	r1 := make([]int32, w+4)
	r2 := make([]int32, w+4)
	for y := 0; y < b.Height; y++ {
		row := canvas[y*w : (y+1)*w]
		out := b.Bits[y*b.Stride : (y+1)*b.Stride]
		var acc byte
		for x, g := range row {
			i := x + 2
			v := int32(g) + r0[i]
			e := v - 255
			if v < 128 {
				acc |= 0x80 >> uint(x&7)
				e = v
			}
			e /= 8 // only 6/8 of the error travels on
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
		r0, r1, r2 = r1, r2, r0
		clear(r2)
	}
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

func ditherBayer(b *Bitmap, canvas []byte) {
	w := b.Width
	for y := 0; y < b.Height; y++ {
		row := canvas[y*w : (y+1)*w]
		out := b.Bits[y*b.Stride : (y+1)*b.Stride]
		m := &bayer8[y&7]
		var acc byte
		for x, g := range row {
			// Black when g/256 < (m+0.5)/64: level 0 is all black, 255 all white.
			if int(g) < 4*int(m[x&7])+2 {
				acc |= 0x80 >> uint(x&7)
			}
			if x&7 == 7 {
				out[x>>3] = acc
				acc = 0
			}
		}
		if w&7 != 0 {
			out[w>>3] = acc
		}
	}
}

func ditherThreshold(b *Bitmap, canvas []byte) {
	w := b.Width
	for y := 0; y < b.Height; y++ {
		row := canvas[y*w : (y+1)*w]
		out := b.Bits[y*b.Stride : (y+1)*b.Stride]
		var acc byte
		for x, g := range row {
			if g < 128 {
				acc |= 0x80 >> uint(x&7)
			}
			if x&7 == 7 {
				out[x>>3] = acc
				acc = 0
			}
		}
		if w&7 != 0 {
			out[w>>3] = acc
		}
	}
}
