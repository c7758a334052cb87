package recog

import (
	"image"
	"math"
)

// frame is a frame as Identify reads it: RGBA for the warp and the edge
// fit, and for a camera's 4:2:0 JPEG its planes too. Those are converted a
// tile at a time as the warp and the fit first read them: they read the
// card and a little around it, about half a feeder's frame, and the outline
// search sums the planes itself.
type frame struct {
	rgba *image.RGBA
	src  *image.YCbCr // nil: rgba is all converted
	done []bool       // the tiles converted, row by row
	tw   int          // tiles a row
	// half is the frame at half size when the outline search made it
	// (from its 2x2 sums), else nil.
	half *image.RGBA
}

// tileSide is even, so that a tile's rows pair up on its chroma rows.
const tileSide = 16

// newFrame is img as a frame in sc's memory.
func newFrame(img image.Image, sc *scratch) *frame {
	y, ok := img.(*image.YCbCr)
	b := img.Bounds()
	if !ok || y.SubsampleRatio != image.YCbCrSubsampleRatio420 || b.Min.X%2 != 0 || b.Min.Y%2 != 0 {
		return &frame{rgba: toRGBAIn(img, sc)}
	}
	sc.rgba = grow(sc.rgba, 4*b.Dx()*b.Dy())
	tw, th := (b.Dx()+tileSide-1)/tileSide, (b.Dy()+tileSide-1)/tileSide
	sc.tiles = grow(sc.tiles, tw*th)
	clear(sc.tiles)
	r := &image.RGBA{Pix: sc.rgba, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	return &frame{rgba: r, src: y, done: sc.tiles, tw: tw}
}

// need converts the tiles that meet [x0, x1] × [y0, y1] in frame pixels
// (clamped to the frame: a read off its edge reads the edge's pixels).
func (f *frame) need(x0, y0, x1, y1 float64) {
	if f.src == nil {
		return
	}
	w, h := f.rgba.Rect.Dx(), f.rgba.Rect.Dy()
	if !(x0 <= x1 && y0 <= y1) { // NaN: a degenerate outline reads anywhere
		x0, y0, x1, y1 = 0, 0, float64(w), float64(h)
	}
	tile := func(v float64, n int) int { return int(max(0, min(v, float64(n-1)))) / tileSide }
	tx0, tx1 := tile(x0, w), tile(x1, w)
	ty0, ty1 := tile(y0, h), tile(y1, h)
	for ty := ty0; ty <= ty1; ty++ {
		for tx := tx0; tx <= tx1; tx++ {
			if i := ty*f.tw + tx; !f.done[i] {
				f.done[i] = true
				convert420(f.rgba, f.src, image.Rect(tx*tileSide, ty*tileSide, min(w, (tx+1)*tileSide), min(h, (ty+1)*tileSide)))
			}
		}
	}
}

// needAll converts what is left of the frame.
func (f *frame) needAll() { f.need(0, 0, math.Inf(1), math.Inf(1)) }

// needQuad converts the tiles within pad pixels of q's bounding box.
func (f *frame) needQuad(q Quad, pad float64) {
	x0, y0, x1, y1 := q[0][0], q[0][1], q[0][0], q[0][1]
	for _, p := range q[1:] {
		x0, y0, x1, y1 = min(x0, p[0]), min(y0, p[1]), max(x1, p[0]), max(y1, p[1])
	}
	f.need(x0-pad, y0-pad, x1+pad, y1+pad)
}

// halve is a 2x2 sum (0..1020) as a pixel of the half-size frame, rounded
// as the pyramid's halving rounds.
func halve(s int32) uint8 { return uint8(uint32(s+2) >> 2) }

// sums420 is row y of the outline search's working image for a 4:2:0
// frame at half its size: each channel's sum over each 2x2 block, from the
// planes (a block's four pixels share one chroma sample, so a block is
// converted as one pixel of four times the luma), and the row of the frame
// at half size (hr). That is within a few levels in 1020 of the sums of the
// frame converted to RGBA, which round and clamp each pixel; the outline
// search's edges are tens of levels.
func sums420(c0, c1, c2 []int32, hr []uint8, src *image.YCbCr, y int) {
	// clamp is v >> 16 limited to a block's 0..4·255.
	clamp := func(v int32) int32 { return min(max(v>>16, 0), 4*255) }
	w := len(c0)
	ya := src.Y[2*y*src.YStride:][:2*w]
	yb := src.Y[(2*y+1)*src.YStride:][:2*w]
	cbs, crs := src.Cb[y*src.CStride:][:w], src.Cr[y*src.CStride:][:w]
	c1, c2, hr = c1[:w], c2[:w], hr[:4*w]
	for x := range c0 {
		a, b := ya[2*x:2*x+2:2*x+2], yb[2*x:2*x+2:2*x+2]
		// The luma term as image/color's, less the half a level each
		// pixel's rounding down loses on average.
		l := (int32(a[0])+int32(a[1])+int32(b[0])+int32(b[1]))*0x10101 - 2<<16
		cb, cr := int32(cbs[x])-128, int32(crs[x])-128
		s0, s1, s2 := clamp(l+4*91881*cr), clamp(l+4*(-22554*cb-46802*cr)), clamp(l+4*116130*cb)
		c0[x], c1[x], c2[x] = s0, s1, s2
		p := hr[4*x : 4*x+4 : 4*x+4]
		p[0], p[1], p[2], p[3] = halve(s0), halve(s1), halve(s2), 255
	}
}
