package sheet

import (
	"image"
	"image/color"
)

// greyRow returns a function that fills dst with the luma of photo's pixels
// (x0, y) .. (x0+len(dst)-1, y), in image coordinates. Transparent pixels
// count as white: a PNG scan with an alpha channel is paper where it is
// clear. The common decoder outputs are read directly; anything else goes
// through At, slowly but correctly.
func greyRow(photo image.Image) func(y, x0 int, dst []uint8) {
	switch p := photo.(type) {
	case *image.YCbCr:
		return func(y, x0 int, dst []uint8) { copy(dst, p.Y[p.YOffset(x0, y):]) }
	case *image.Gray:
		return func(y, x0 int, dst []uint8) { copy(dst, p.Pix[p.PixOffset(x0, y):]) }
	case *image.RGBA:
		return func(y, x0 int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range dst {
				c := s[4*i : 4*i+4 : 4*i+4]
				// Premultiplied over white adds 255-a to every channel,
				// and the luma weights sum to one.
				dst[i] = uint8(min(255, luma(c[0], c[1], c[2])+255-uint32(c[3])))
			}
		}
	case *image.NRGBA:
		return func(y, x0 int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range dst {
				c := s[4*i : 4*i+4 : 4*i+4]
				l, a := luma(c[0], c[1], c[2]), uint32(c[3])
				dst[i] = uint8((l*a + 255*(255-a) + 127) / 255)
			}
		}
	case *image.Gray16:
		return func(y, x0 int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range dst {
				dst[i] = s[2*i]
			}
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range p.Palette {
			lut[i] = grey16(c)
		}
		return func(y, x0 int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := range dst {
				dst[i] = lut[s[i]]
			}
		}
	}
	return func(y, x0 int, dst []uint8) {
		for i := range dst {
			dst[i] = grey16(photo.At(x0+i, y))
		}
	}
}

// rgbRow is greyRow for colour: dst holds 3 bytes a pixel.
func rgbRow(photo image.Image) func(y, x0 int, dst []uint8) {
	switch p := photo.(type) {
	case *image.YCbCr:
		return func(y, x0 int, dst []uint8) {
			for i := 0; i < len(dst)/3; i++ {
				yi, ci := p.YOffset(x0+i, y), p.COffset(x0+i, y)
				dst[3*i], dst[3*i+1], dst[3*i+2] = color.YCbCrToRGB(p.Y[yi], p.Cb[ci], p.Cr[ci])
			}
		}
	case *image.RGBA:
		return func(y, x0 int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := 0; i < len(dst)/3; i++ {
				k := uint32(255 - s[4*i+3])
				dst[3*i] = uint8(min(255, uint32(s[4*i])+k))
				dst[3*i+1] = uint8(min(255, uint32(s[4*i+1])+k))
				dst[3*i+2] = uint8(min(255, uint32(s[4*i+2])+k))
			}
		}
	case *image.NRGBA:
		return func(y, x0 int, dst []uint8) {
			s := p.Pix[p.PixOffset(x0, y):]
			for i := 0; i < len(dst)/3; i++ {
				a := uint32(s[4*i+3])
				for k := 0; k < 3; k++ {
					dst[3*i+k] = uint8((uint32(s[4*i+k])*a + 255*(255-a) + 127) / 255)
				}
			}
		}
	case *image.Gray, *image.Gray16, *image.Paletted:
		grey := greyRow(photo)
		return func(y, x0 int, dst []uint8) {
			n := len(dst) / 3
			grey(y, x0, dst[2*n:])
			for i := 0; i < n; i++ {
				v := dst[2*n+i]
				dst[3*i], dst[3*i+1], dst[3*i+2] = v, v, v
			}
		}
	}
	return func(y, x0 int, dst []uint8) {
		for i := 0; i < len(dst)/3; i++ {
			r, g, b, a := photo.At(x0+i, y).RGBA()
			k := 0xffff - a
			dst[3*i] = uint8(min(0xffff, r+k) >> 8)
			dst[3*i+1] = uint8(min(0xffff, g+k) >> 8)
			dst[3*i+2] = uint8(min(0xffff, b+k) >> 8)
		}
	}
}

// luma is ITU-R 601 luma of 8-bit RGB, as color.GrayModel computes it.
func luma(r, g, b uint8) uint32 {
	return (19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16
}

// grey16 is the luma of any colour over white, 8 bits.
func grey16(c color.Color) uint8 {
	r, g, b, a := c.RGBA()
	l := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	return uint8(min(0xffff, l+0xffff-a) >> 8)
}

// taps returns the offsets inside a block of n pixels that are averaged:
// all of them up to 4, else 4 spread evenly. Capping the taps keeps the
// cost of reducing a huge (or unbounded, like image.Uniform) photo
// proportional to the reduced size; aliasing does not matter for finding the
// sheet, and the flattening step averages whole blocks where it counts.
func taps(n int) []int {
	if n <= 4 {
		t := make([]int, n)
		for i := range t {
			t[i] = i
		}
		return t
	}
	return []int{n / 8, 3 * n / 8, 5 * n / 8, 7 * n / 8}
}

// whiteness reduces photo by the whole factor f (the last block in each
// direction may be partial) into a plane of min(R, G, B): paper is bright in
// every channel, while wood, cork and most table tops are dim in at least
// one, so the minimum separates them better than luma does.
func whiteness(photo image.Image, f int) *image.Gray {
	if p, ok := photo.(*image.YCbCr); ok {
		return whitenessYCbCr(p, f)
	}
	b := photo.Bounds()
	w, h := (b.Dx()+f-1)/f, (b.Dy()+f-1)/f
	out := image.NewGray(image.Rect(0, 0, w, h))
	read := rgbRow(photo)
	// Columns are read as runs: whole rows while every pixel is a tap,
	// else one run per tap.
	type span struct{ x, n, to int } // first column, length, reduced column
	var spans []span
	if f <= 4 {
		spans = []span{{b.Min.X, b.Dx(), -1}}
	} else {
		for ox := 0; ox < w; ox++ {
			x0 := ox * f
			for _, dx := range taps(min(f, b.Dx()-x0)) {
				spans = append(spans, span{b.Min.X + x0 + dx, 1, ox})
			}
		}
	}
	row := make([]uint8, 3*spans[0].n)
	sum := make([]uint32, 3*w)
	cnt := make([]uint32, w)
	add := func(ox int, c []uint8) {
		sum[3*ox] += uint32(c[0])
		sum[3*ox+1] += uint32(c[1])
		sum[3*ox+2] += uint32(c[2])
		cnt[ox]++
	}
	for oy := 0; oy < h; oy++ {
		clear(sum)
		clear(cnt)
		y0 := b.Min.Y + oy*f
		for _, dy := range taps(min(f, b.Max.Y-y0)) {
			for _, s := range spans {
				read(y0+dy, s.x, row[:3*s.n])
				if s.to >= 0 {
					add(s.to, row)
					continue
				}
				for i := 0; i < s.n; i++ {
					add(i/f, row[3*i:])
				}
			}
		}
		dst := out.Pix[oy*out.Stride:]
		for ox := 0; ox < w; ox++ {
			n := cnt[ox]
			m := min(sum[3*ox], sum[3*ox+1], sum[3*ox+2])
			dst[ox] = uint8((m + n/2) / n)
		}
	}
	return out
}

// whitenessYCbCr is whiteness for a JPEG's planes: Y, Cb and Cr are
// averaged over each block's taps and converted once, which is the same as
// converting every tap (the conversion is linear but for clamping) at a
// fraction of the cost.
func whitenessYCbCr(p *image.YCbCr, f int) *image.Gray {
	b := p.Rect
	w, h := (b.Dx()+f-1)/f, (b.Dy()+f-1)/f
	out := image.NewGray(image.Rect(0, 0, w, h))
	xs, last := taps(f), taps(b.Dx()-(w-1)*f) // columns of a block, of the last one
	for oy := 0; oy < h; oy++ {
		y0 := b.Min.Y + oy*f
		ys := taps(min(f, b.Max.Y-y0))
		for ox := 0; ox < w; ox++ {
			x0 := b.Min.X + ox*f
			cols := xs
			if ox == w-1 {
				cols = last
			}
			var sy, sb, sr, n uint32
			for _, dy := range ys {
				for _, dx := range cols {
					ci := p.COffset(x0+dx, y0+dy)
					sy += uint32(p.Y[p.YOffset(x0+dx, y0+dy)])
					sb += uint32(p.Cb[ci])
					sr += uint32(p.Cr[ci])
					n++
				}
			}
			r, g, bl := color.YCbCrToRGB(uint8((sy+n/2)/n), uint8((sb+n/2)/n), uint8((sr+n/2)/n))
			out.Pix[oy*out.Stride+ox] = min(r, g, bl)
		}
	}
	return out
}
