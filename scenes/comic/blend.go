package comic

import (
	"image"
)

// image/draw's Over through an *image.Alpha mask divides by 0xffff five
// times a pixel, and an ARM1176 has no divide instruction: a strip's frames,
// ink and panels cost tens of milliseconds in runtime.udiv. A print's masks
// are almost all 0 or 255, where Over is a skip or a copy; only the pixels
// between are blended, with image/draw's own arithmetic, so the pixels are
// the same to the bit.

// maskOver is draw.DrawMask(dst, r, src, sp, mask, mp, draw.Over).
func maskOver(dst *image.RGBA, r image.Rectangle, src *image.RGBA, sp image.Point, mask *image.Alpha, mp image.Point) {
	r, sp, mp = clipped(dst, r, src.Rect, sp, mask, mp)
	if r.Empty() {
		return
	}
	const m = 1<<16 - 1
	n := r.Dx()
	for y := range r.Dy() {
		d := dst.Pix[dst.PixOffset(r.Min.X, r.Min.Y+y):][:4*n]
		s := src.Pix[src.PixOffset(sp.X, sp.Y+y):][:4*n]
		mk := mask.Pix[mask.PixOffset(mp.X, mp.Y+y):][:n]
		for x, v := range mk {
			switch v {
			case 0:
			case 0xff:
				if s[4*x+3] == 0xff {
					copy(d[4*x:4*x+4], s[4*x:4*x+4])
					continue
				}
				fallthrough
			default:
				ma := uint32(v) * 0x101
				p, q := d[4*x:4*x+4:4*x+4], s[4*x:4*x+4:4*x+4]
				a := (m - (uint32(q[3]) * 0x101 * ma / m)) * 0x101
				for c := range 4 {
					p[c] = uint8((uint32(p[c])*a + uint32(q[c])*0x101*ma) / m >> 8)
				}
			}
		}
	}
}

// uniformOver is draw.DrawMask(dst, r, image.NewUniform(c), _, mask, mp,
// draw.Over) for an opaque grey c (black ink, a white halo).
func uniformOver(dst *image.RGBA, r image.Rectangle, grey uint8, mask *image.Alpha, mp image.Point) {
	r, _, mp = clipped(dst, r, image.Rect(-1e9, -1e9, 1e9, 1e9), image.Point{}, mask, mp)
	if r.Empty() {
		return
	}
	const m = 1<<16 - 1
	sc := uint32(grey) * 0x101
	n := r.Dx()
	for y := range r.Dy() {
		d := dst.Pix[dst.PixOffset(r.Min.X, r.Min.Y+y):][:4*n]
		mk := mask.Pix[mask.PixOffset(mp.X, mp.Y+y):][:n]
		for x, v := range mk {
			p := d[4*x : 4*x+4 : 4*x+4]
			switch v {
			case 0:
			case 0xff:
				p[0], p[1], p[2], p[3] = grey, grey, grey, 0xff
			default:
				ma := uint32(v) * 0x101
				a := (m - ma) * 0x101
				p[0] = uint8((uint32(p[0])*a + sc*ma) / m >> 8)
				p[1] = uint8((uint32(p[1])*a + sc*ma) / m >> 8)
				p[2] = uint8((uint32(p[2])*a + sc*ma) / m >> 8)
				p[3] = uint8((uint32(p[3])*a + m*ma) / m >> 8)
			}
		}
	}
}

// clipped is image/draw's clip: r within dst, the source's bounds sb and
// the mask, sp and mp moved with r's corner.
func clipped(dst *image.RGBA, r, sb image.Rectangle, sp image.Point, mask *image.Alpha, mp image.Point) (image.Rectangle, image.Point, image.Point) {
	orig := r.Min
	r = r.Intersect(dst.Rect).Intersect(sb.Add(orig.Sub(sp))).Intersect(mask.Rect.Add(orig.Sub(mp)))
	d := r.Min.Sub(orig)
	return r, sp.Add(d), mp.Add(d)
}
