// Package recog identifies trading cards in camera frames offline: it finds
// the card's outline on any bed (FindQuads), warps it upright with a full
// perspective transform, equalises the lighting and computes two 256-bit
// perceptual hashes — of the whole card and of its art — plus a colour
// signature that tells same-art printings apart. A reference scan is hashed
// through the same warp over exactly the same window of the card. Index finds
// the nearest catalog entry by Hamming distance, trying both ways up, and
// accepts a name only with a clear margin over every other name.
package recog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/bits"
)

// Hash is a 256-bit perceptual hash.
type Hash [4]uint64

// Distance is the Hamming distance between two hashes (0..256).
func (h Hash) Distance(o Hash) int {
	return bits.OnesCount64(h[0]^o[0]) + bits.OnesCount64(h[1]^o[1]) +
		bits.OnesCount64(h[2]^o[2]) + bits.OnesCount64(h[3]^o[3])
}

// Bytes is the hash as 32 bytes, for storage.
func (h Hash) Bytes() []byte {
	b := make([]byte, 32)
	for i, w := range h {
		for j := 0; j < 8; j++ {
			b[i*8+j] = byte(w >> (56 - 8*j))
		}
	}
	return b
}

// HashFromBytes is the inverse of Hash.Bytes.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != 32 {
		return h, fmt.Errorf("recog: hash is %d bytes, want 32", len(b))
	}
	for i := range h {
		for j := 0; j < 8; j++ {
			h[i] = h[i]<<8 | uint64(b[i*8+j])
		}
	}
	return h, nil
}

// Colour grid of the signature: chromaticity per cell.
const (
	colourCols = 6
	colourRows = 8
	// ColourLen is the length of a colour signature in bytes.
	ColourLen = colourCols * colourRows * 2
)

// Features describe one card image.
type Features struct {
	Hash   Hash // the whole card
	Art    Hash // the art window, where cards of one frame differ most
	Colour [ColourLen]uint8
	// Where is the card in the frame (zero for reference images).
	Where Geometry
}

// Geometry is where a card lies in a frame.
type Geometry struct {
	CX, CY float64 // centre, pixels
	W, H   float64 // short and long side, pixels
	// Angle is the card's rotation, clockwise from upright, 0..360 degrees
	// (180: fed upside down).
	Angle   float64
	Corners Quad // top-left, top-right, bottom-right, bottom-left of the card
}

// ErrNoCard means no card outline was found: the bed is empty.
var ErrNoCard = errors.New("recog: no card in the frame")

// Windows of the card, in card coordinates (0..1 across and down). The card
// window stays off the rounded corners and the outermost edge, where the bed
// shows in a photo and the scanner's background in a scan; the art window
// lies inside the art box of every Magic frame since 1993 (and of the demo
// cards).
var (
	cardWindow = [4]float64{0.03, 0.025, 0.97, 0.975}
	artWindow  = [4]float64{0.12, 0.13, 0.88, 0.50}
)

// borderGrowth is the width of a card's black or white border as a share of the
// card's width and height: on a bed of the same colour the border leaves no
// edge, the frame inside it is found, and the outline grown by this much is
// tried as well.
var borderGrowth = [2]float64{0.04, 0.031}

const (
	hashSize = 64 // a window is resampled to hashSize² before the DCT
	dctSize  = 16 // the hash keeps the dctSize² lowest frequencies
	// The canonical grid covers the card plus a margin on every side, so
	// that a grown outline can be read from the same warp.
	gridMargin = 1.0 / 16
	gridW      = 96
	gridH      = 136
	maxSuper   = 2 // samples per axis per grid cell, read at level 0
)

// grid is a card warped upright: RGB per cell over u, v in
// [-gridMargin, 1+gridMargin].
type grid struct {
	rgb [gridW * gridH][3]float32
	lum [gridW * gridH]float32 // luminance of rgb
}

// FromFace computes the features of an upright, cropped card image (a
// catalog scan or a rendered demo card): the image's edges are the card's.
func FromFace(img image.Image) Features {
	rgba := toRGBA(img)
	w, h := float64(rgba.Rect.Dx()), float64(rgba.Rect.Dy())
	q := Quad{{0, 0}, {w, 0}, {w, h}, {0, h}}
	var g grid
	newPyramid(&frame{rgba: rgba}).warp(q, &g)
	return g.features(view{}, false)
}

// FromFrame finds the card in a camera frame and computes its features
// from the best outline, upright as found (Index.Identify also tries the
// other outlines and the card upside down).
func FromFrame(img image.Image) (Features, error) {
	rgba := toRGBA(img)
	qs, err := FindQuads(rgba, 1)
	if err != nil {
		return Features{}, err
	}
	var g grid
	newPyramid(&frame{rgba: rgba}).warp(qs[0], &g)
	f := g.features(view{}, false)
	f.Where = qs[0].Geometry()
	return f, nil
}

func toRGBA(img image.Image) *image.RGBA { return toRGBAIn(img, new(scratch)) }

// toRGBAIn converts img in sc's memory (draw.Src writes every byte).
func toRGBAIn(img image.Image, sc *scratch) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	b := img.Bounds()
	sc.rgba = grow(sc.rgba, 4*b.Dx()*b.Dy())
	r := &image.RGBA{Pix: sc.rgba, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	if y, ok := img.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 && b.Min.X%2 == 0 && b.Min.Y%2 == 0 {
		from420(r, y)
		return r
	}
	draw.Draw(r, r.Rect, img, b.Min, draw.Src)
	return r
}

// from420 converts a 4:2:0 frame (a camera's JPEG) to dst with the very
// arithmetic of draw.Draw, but each chroma sample's products worked out once
// for the four pixels it covers rather than for each, and a pixel stored as
// one word.
func from420(dst *image.RGBA, src *image.YCbCr) { convert420(dst, src, dst.Rect) }

// convert420 is from420 of the pixels in r (its corner even, so that its
// rows pair up on chroma rows).
func convert420(dst *image.RGBA, src *image.YCbCr, r image.Rectangle) {
	h := src.Rect.Dy()
	x0, x1 := r.Min.X, r.Max.X
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		ci := (y / 2) * src.CStride
		ya := src.Y[y*src.YStride+x0 : y*src.YStride+x1]
		da := dst.Pix[y*dst.Stride+4*x0 : y*dst.Stride+4*x1]
		yb, db := ya, da // an odd last row is written twice, as its own pair
		if y+1 < h {
			yb = src.Y[(y+1)*src.YStride+x0 : (y+1)*src.YStride+x1]
			db = dst.Pix[(y+1)*dst.Stride+4*x0 : (y+1)*dst.Stride+4*x1]
		}
		rows420(da, db, ya, yb, src.Cb[ci+x0/2:ci+(x1+1)/2], src.Cr[ci+x0/2:ci+(x1+1)/2])
	}
}

// rows420 converts two rows of luma that share a row of chroma.
func rows420(da, db []uint8, ya, yb, cbs, crs []uint8) {
	// px is (y + the chroma terms) >> 16 per channel limited to 0..255, as
	// image/color's YCbCrToRGB, packed as RGBA bytes in memory order.
	clamp := func(v int32) uint32 {
		if uint32(v)&0xff000000 == 0 {
			return uint32(v>>16) & 0xff
		}
		return uint32(^(v >> 31)) & 0xff
	}
	px := func(y uint8, rc, gc, bc int32) uint64 {
		v := int32(y) * 0x10101
		r, g, b := v+rc, v+gc, v+bc
		if uint32(r|g|b)&0xff000000 == 0 { // all three in range: no clamping
			return uint64(uint32(r)>>16 | uint32(g)>>8&0xff00 | uint32(b)&0xff0000 | 0xff<<24)
		}
		return uint64(clamp(r) | clamp(g)<<8 | clamp(b)<<16 | 0xff<<24)
	}
	n := len(ya) / 2
	cp, rp := cbs[:n], crs[:n]
	for cx := range cp {
		cb, cr := int32(cp[cx])-128, int32(rp[cx])-128
		rc, gc, bc := 91881*cr, -22554*cb-46802*cr, 116130*cb
		a, b := ya[2*cx:2*cx+2:2*cx+2], yb[2*cx:2*cx+2:2*cx+2]
		binary.LittleEndian.PutUint64(da[8*cx:8*cx+8], px(a[0], rc, gc, bc)|px(a[1], rc, gc, bc)<<32)
		binary.LittleEndian.PutUint64(db[8*cx:8*cx+8], px(b[0], rc, gc, bc)|px(b[1], rc, gc, bc)<<32)
	}
	if len(ya)%2 == 1 { // an odd last column
		cb, cr := int32(cbs[n])-128, int32(crs[n])-128
		rc, gc, bc := 91881*cr, -22554*cb-46802*cr, 116130*cb
		binary.LittleEndian.PutUint32(da[8*n:8*n+4], uint32(px(ya[2*n], rc, gc, bc)))
		binary.LittleEndian.PutUint32(db[8*n:8*n+4], uint32(px(yb[2*n], rc, gc, bc)))
	}
}

// pyramid is the frame at halving resolutions, so the warp reads each grid
// cell from a level where it covers a few pixels: no aliasing, whatever the
// camera's resolution.
type pyramid struct {
	fr     *frame
	levels []*image.RGBA
}

func newPyramid(fr *frame) *pyramid {
	p := &pyramid{fr: fr, levels: []*image.RGBA{fr.rgba}}
	if fr.half != nil {
		p.levels = append(p.levels, fr.half)
	}
	return p
}

func (p *pyramid) level(k int) *image.RGBA {
	if k > 0 && len(p.levels) == 1 {
		p.fr.needAll() // each level halves the whole of the last
	}
	for len(p.levels) <= k {
		src := p.levels[len(p.levels)-1]
		w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
		if w < 8 || h < 8 {
			return src
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			o0 := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+2*y)
			o1 := o0 + src.Stride
			d := dst.Pix[y*dst.Stride:]
			for x := 0; x < w; x++ {
				for c := 0; c < 3; c++ {
					i := 8*x + c
					d[4*x+c] = uint8((int(src.Pix[o0+i]) + int(src.Pix[o0+i+4]) + int(src.Pix[o1+i]) + int(src.Pix[o1+i+4]) + 2) / 4)
				}
				d[4*x+3] = 255
			}
		}
		p.levels = append(p.levels, dst)
	}
	return p.levels[k]
}

// warp samples the quad (and its margin) into g.
func (p *pyramid) warp(q Quad, g *grid) {
	h := homographyFrom(q)
	// Frame pixels per grid cell, along the card's longer dimension.
	side := math.Max(math.Hypot(q[1][0]-q[0][0], q[1][1]-q[0][1]), math.Hypot(q[2][0]-q[1][0], q[2][1]-q[1][1])*gridW/gridH)
	cell := side * (1 + 2*gridMargin) / gridW
	k := 0
	for cell/float64(int(1)<<(k+1)) >= 2 {
		k++
	}
	super := maxSuper
	if k == 0 && len(p.levels) > 1 {
		// Level 1 came with the outline search: one tap a cell there (its
		// pixels are 2x2 boxes) in place of four at level 0, and no
		// conversion of the frame under the card.
		k, super = 1, 1
	}
	img := p.level(k)
	if k == 0 {
		// The frame under the grid (its corners map to the corners of
		// the grid's extent: the quad is convex), and a pixel beyond for
		// the bilinear taps.
		var ext Quad
		for i, uv := range [4][2]float64{{-gridMargin, -gridMargin}, {1 + gridMargin, -gridMargin}, {1 + gridMargin, 1 + gridMargin}, {-gridMargin, 1 + gridMargin}} {
			ext[i] = h.apply(uv[0], uv[1])
		}
		p.fr.needQuad(ext, 2)
	}
	s := 1 / float64(int(1)<<k)
	span := 1 + 2*gridMargin
	// The sample positions along each axis, worked out once per warp
	// rather than once per sample (the same expressions, so the same bits).
	var us [gridW * maxSuper]float64
	for i := 0; i < gridW; i++ {
		for si := 0; si < super; si++ {
			us[i*super+si] = -gridMargin + (float64(i)+(float64(si)+0.5)/float64(super))/gridW*span
		}
	}
	// Bilinear taps in fixed point (8-bit fractions, weights summing to
	// 1<<16): integer arithmetic per pixel, cheap on a Pi Zero's FPU too.
	pix, stride := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y):], img.Stride
	w, hgt := img.Rect.Dx(), img.Rect.Dy()
	mx, my := float64(img.Rect.Min.X)+0.5, float64(img.Rect.Min.Y)+0.5
	// The map scaled to 1/256ths of the level's pixels, and the terms in v
	// once per sample row.
	ax, ay := h[0]*s*256, h[3]*s*256
	bx, by := h[1]*s*256, h[4]*s*256
	cx, cy := h[2]*s*256, h[5]*s*256
	mx, my = mx*256, my*256
	xlim, ylim := float64(256*(w-1)), float64(256*(hgt-1))
	for j := 0; j < gridH; j++ {
		var vxa, vya, vwa [maxSuper]float64
		vx, vy, vw := vxa[:super], vya[:super], vwa[:super]
		for sj := range vx {
			v := -gridMargin + (float64(j)+(float64(sj)+0.5)/float64(super))/gridH*span
			vx[sj], vy[sj], vw[sj] = bx*v+cx, by*v+cy, h[7]*v+h[8]
		}
		for i := 0; i < gridW; i++ {
			var acc0, acc1, acc2 int
			for sj := range vx {
				for _, u := range us[i*super : (i+1)*super] {
					d := 1 / (h[6]*u + vw[sj])
					x := (ax*u+vx[sj])*d - mx
					y := (ay*u+vy[sj])*d - my
					if x >= 0 && y >= 0 && x < xlim && y < ylim {
						// Two pixels of two rows: a bounds check a row.
						xi, yi := int(x), int(y)
						fx, fy := xi&255, yi&255
						o := (yi>>8)*stride + 4*(xi>>8)
						r0, r1 := pix[o:o+7:o+7], pix[o+stride:o+stride+7:o+stride+7]
						w00, w10 := (256-fx)*(256-fy), fx*(256-fy)
						w01, w11 := (256-fx)*fy, fx*fy
						acc0 += int(r0[0])*w00 + int(r0[4])*w10 + int(r1[0])*w01 + int(r1[4])*w11
						acc1 += int(r0[1])*w00 + int(r0[5])*w10 + int(r1[1])*w01 + int(r1[5])*w11
						acc2 += int(r0[2])*w00 + int(r0[6])*w10 + int(r1[2])*w01 + int(r1[6])*w11
						continue
					}
					// Off the edge: the nearest pixel's value.
					xi := int(min(max(x, 0), xlim))
					yi := int(min(max(y, 0), ylim))
					x0, y0 := xi>>8, yi>>8
					fx, fy := xi&255, yi&255
					x1, y1 := min(x0+1, w-1), min(y0+1, hgt-1)
					a, b := pix[y0*stride+4*x0:y0*stride+4*x0+3], pix[y0*stride+4*x1:y0*stride+4*x1+3]
					c, e := pix[y1*stride+4*x0:y1*stride+4*x0+3], pix[y1*stride+4*x1:y1*stride+4*x1+3]
					w00, w10 := (256-fx)*(256-fy), fx*(256-fy)
					w01, w11 := (256-fx)*fy, fx*fy
					acc0 += int(a[0])*w00 + int(b[0])*w10 + int(c[0])*w01 + int(e[0])*w11
					acc1 += int(a[1])*w00 + int(b[1])*w10 + int(c[1])*w01 + int(e[1])*w11
					acc2 += int(a[2])*w00 + int(b[2])*w10 + int(c[2])*w01 + int(e[2])*w11
				}
			}
			cellp := &g.rgb[j*gridW+i]
			unit := 1 / float32(super*super<<16)
			cellp[0], cellp[1], cellp[2] = float32(acc0)*unit, float32(acc1)*unit, float32(acc2)*unit
			g.lum[j*gridW+i] = 0.299*cellp[0] + 0.587*cellp[1] + 0.114*cellp[2]
		}
	}
}

// view says how a hypothesis reads the grid: each side of the outline
// moved out (or in, when negative) by a share of the card's width (left,
// right) or height (top, bottom), in the grid's own orientation.
type view struct {
	out [4]float64 // left, top, right, bottom
}

// grownView is the outline grown by a border's width on every side.
var grownView = view{out: [4]float64{borderGrowth[0], borderGrowth[1], borderGrowth[0], borderGrowth[1]}}

// quad is the outline q moved as the view says.
func (vw view) quad(q Quad) Quad {
	if vw.out == ([4]float64{}) {
		return q
	}
	h := homographyFrom(q)
	o := vw.out
	var r Quad
	for i, uv := range [4][2]float64{{-o[0], -o[1]}, {1 + o[2], -o[1]}, {1 + o[2], 1 + o[3]}, {-o[0], 1 + o[3]}} {
		r[i] = h.apply(uv[0], uv[1])
	}
	return r
}

// at maps card coordinates (u, v) of a hypothesis to grid coordinates.
func (vw view) at(u, v float64, flip bool) (float64, float64) {
	if flip {
		u, v = 1-u, 1-v
	}
	o := &vw.out
	u = -o[0] + u*(1+o[0]+o[2])
	v = -o[1] + v*(1+o[1]+o[3])
	span := 1 + 2*gridMargin
	return (u+gridMargin)/span*gridW - 0.5, (v+gridMargin)/span*gridH - 0.5
}

func (g *grid) sample(x, y float64) [3]float32 {
	x = max(0, min(x, gridW-1.001))
	y = max(0, min(y, gridH-1.001))
	x0, y0 := int(x), int(y)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	a, b := &g.rgb[y0*gridW+x0], &g.rgb[y0*gridW+x0+1]
	c, d := &g.rgb[(y0+1)*gridW+x0], &g.rgb[(y0+1)*gridW+x0+1]
	var out [3]float32
	for k := range out {
		out[k] = (a[k]*(1-fx)+b[k]*fx)*(1-fy) + (c[k]*(1-fx)+d[k]*fx)*fy
	}
	return out
}

// features hashes the card and art windows of a hypothesis and takes its
// colour signature.
func (g *grid) features(vw view, flip bool) Features {
	f := g.hashes(vw, flip)
	f.Colour = g.colour(vw, flip)
	return f
}

// colour is a hypothesis's colour signature.
func (g *grid) colour(vw view, flip bool) (out [ColourLen]uint8) {
	// Colour: chromaticity per cell after a grey-world balance, so a warm
	// lamp or a phone's white balance does not move it.
	var cells [colourRows * colourCols][3]float64
	var mean [3]float64
	const per = 4
	w := cardWindow
	for j := 0; j < colourRows*per; j++ {
		v := w[1] + (float64(j)+0.5)/(colourRows*per)*(w[3]-w[1])
		for i := 0; i < colourCols*per; i++ {
			u := w[0] + (float64(i)+0.5)/(colourCols*per)*(w[2]-w[0])
			c := g.sample(vw.at(u, v, flip))
			cell := &cells[(j/per)*colourCols+i/per]
			for k := range c {
				cell[k] += float64(c[k])
				mean[k] += float64(c[k])
			}
		}
	}
	for k := range mean {
		mean[k] = mean[k]/(colourRows*colourCols) + 1e-6
	}
	for n, c := range cells {
		r, gg, b := c[0]/mean[0], c[1]/mean[1], c[2]/mean[2]
		s := r + gg + b + 1e-9
		out[2*n] = uint8(min(255, r/s*3*85))
		out[2*n+1] = uint8(min(255, gg/s*3*85))
	}
	return out
}

// hashes is the card and art hash of a hypothesis (no colour signature).
func (g *grid) hashes(vw view, flip bool) Features {
	var f Features
	var lum [hashSize * hashSize]float64
	f.Hash = phash(&lum, g.window(vw, flip, cardWindow, &lum))
	f.Art = phash(&lum, g.window(vw, flip, artWindow, &lum))
	return f
}

// window resamples one window of the card to hashSize² luminance,
// equalised but for the clip at the limit it returns. A view
// moves and flips along each axis on its own, so the bilinear taps are
// worked out once per column and once per row.
func (g *grid) window(vw view, flip bool, w [4]float64, lum *[hashSize * hashSize]float64) (lim float64) {
	type tap struct {
		i int     // first cell
		f float32 // weight of the next
	}
	axis := func(k int, lo, hi float64, isV bool) tap {
		t := lo + (float64(k)+0.5)/hashSize*(hi-lo)
		var x float64
		if isV {
			_, x = vw.at(0, t, flip)
			x = max(0, min(x, gridH-1.001))
		} else {
			x, _ = vw.at(t, 0, flip)
			x = max(0, min(x, gridW-1.001))
		}
		i := int(x)
		return tap{i, float32(x - float64(i))}
	}
	var cols [hashSize]tap
	for i := range cols {
		cols[i] = axis(i, w[0], w[2], false)
	}
	// equalise's column sums are added up here, as each value is made.
	var col, colY [hashSize]float64
	for j := 0; j < hashSize; j++ {
		r := axis(j, w[1], w[3], true)
		top := g.lum[r.i*gridW : (r.i+1)*gridW]
		bot := g.lum[(r.i+1)*gridW : (r.i+2)*gridW]
		out := lum[j*hashSize : (j+1)*hashSize]
		y := float64(j) - (hashSize-1)/2.0
		for i, c := range cols {
			a := top[c.i] + (top[c.i+1]-top[c.i])*c.f
			b := bot[c.i] + (bot[c.i+1]-bot[c.i])*c.f
			v := float64(a + (b-a)*r.f)
			out[i] = v
			col[i] += v
			colY[i] += y * v
		}
	}
	return equalise(lum, &col, &colY)
}

func bilinear(img *image.RGBA, x, y float64) [3]float64 {
	b := img.Rect
	if x >= float64(b.Min.X) && y >= float64(b.Min.Y) && x < float64(b.Max.X-1) && y < float64(b.Max.Y-1) {
		// Inside: all four pixels exist (the common case, kept cheap).
		x0, y0 := int(x), int(y)
		fx, fy := x-float64(x0), y-float64(y0)
		o := (y0-b.Min.Y)*img.Stride + (x0-b.Min.X)*4
		p := img.Pix[o : o+img.Stride+8]
		q := p[img.Stride:]
		w00, w10, w01, w11 := (1-fx)*(1-fy), fx*(1-fy), (1-fx)*fy, fx*fy
		return [3]float64{
			float64(p[0])*w00 + float64(p[4])*w10 + float64(q[0])*w01 + float64(q[4])*w11,
			float64(p[1])*w00 + float64(p[5])*w10 + float64(q[1])*w01 + float64(q[5])*w11,
			float64(p[2])*w00 + float64(p[6])*w10 + float64(q[2])*w01 + float64(q[6])*w11,
		}
	}
	x = max(float64(b.Min.X), min(x, float64(b.Max.X-1)))
	y = max(float64(b.Min.Y), min(y, float64(b.Max.Y-1)))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, b.Max.X-1), min(y0+1, b.Max.Y-1)
	fx, fy := x-float64(x0), y-float64(y0)
	o00, o10 := img.PixOffset(x0, y0), img.PixOffset(x1, y0)
	o01, o11 := img.PixOffset(x0, y1), img.PixOffset(x1, y1)
	var out [3]float64
	for k := 0; k < 3; k++ {
		top := float64(img.Pix[o00+k])*(1-fx) + float64(img.Pix[o10+k])*fx
		bot := float64(img.Pix[o01+k])*(1-fx) + float64(img.Pix[o11+k])*fx
		out[k] = top*(1-fy) + bot*fy
	}
	return out
}

// equalise removes a linear lighting gradient by dividing by the best-fit
// plane, normalises to zero mean and clips at 2.5 standard deviations, so
// the hash compares structure, not exposure, and a glare spot weighs no more
// than any other bright patch.
//
// col and colY are the plane's column sums, of l and of l·y (y from the
// middle row), in the order of rows: kept per column, 64 independent
// additions a row rather than a chain of 4096 that each waits on the last.
// The clip is left to the hash, which reads each value once: equalise
// returns its limit.
func equalise(l *[hashSize * hashSize]float64, col, colY *[hashSize]float64) (lim float64) {
	const mid = (hashSize - 1) / 2.0
	var mean, bx, by, sxx float64
	for i := range col {
		x := float64(i) - mid
		mean += col[i]
		bx += x * col[i]
		by += colY[i]
		sxx += x * x * hashSize
	}
	mean /= hashSize * hashSize
	bx /= sxx
	by /= sxx
	if mean <= 0 {
		return math.Inf(1)
	}
	// (Comparisons, not the float min and max, which order NaNs and signed
	// zeros at several instructions each: neither can change a result here,
	// as the plane's floor is positive.)
	var sq [hashSize]float64
	floor := mean / 4
	// The plane's part in x, once a column: mean + bx·x is the first sum of
	// the plane's expression, so the same bits.
	var inX [hashSize]float64
	for i := range inX {
		inX[i] = mean + bx*(float64(i)-mid)
	}
	for j := 0; j < hashSize; j++ {
		inY := by * (float64(j) - mid)
		row := l[j*hashSize : (j+1)*hashSize]
		for i := range row {
			p := inX[i] + inY
			if p < floor {
				p = floor
			}
			v := row[i]/p - 1
			row[i] = v
			sq[i] += v * v
		}
	}
	var total float64
	for _, v := range sq {
		total += v
	}
	return 2.5 * math.Sqrt(total/(hashSize*hashSize))
}

// dctTable[u][x] = cos((2x+1)uπ/2N): computed once, never written after.
var dctTable = func() (t [dctSize][hashSize]float64) {
	for u := 0; u < dctSize; u++ {
		for x := 0; x < hashSize; x++ {
			t[u][x] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / (2 * hashSize))
		}
	}
	return t
}()

// clip is v limited to ±lim, as equalise leaves it.
func clip(v, lim float64) float64 {
	if v > lim {
		return lim
	} else if v < -lim {
		return -lim
	}
	return v
}

// phash is the 256-bit pHash of l clipped at ±lim: the 16x16 lowest DCT
// frequencies, each bit set when the coefficient is above their median.
func phash(l *[hashSize * hashSize]float64, lim float64) Hash {
	// Rows first: tmp[y][u] = Σx l[y][x] cos_u(x). cos_u is even about the
	// row's middle for even u and odd for odd u: each half-row sum and
	// difference is multiplied once, half the work.
	const half = hashSize / 2
	var tmp [dctSize][hashSize]float64 // tmp[u][y], a column at a time below
	for y := 0; y < hashSize; y++ {
		row := l[y*hashSize : (y+1)*hashSize]
		var sum, dif [half]float64
		for x := range sum {
			a, b := clip(row[x], lim), clip(row[hashSize-1-x], lim)
			sum[x], dif[x] = a+b, a-b
		}
		var out [dctSize]float64
		dct4(&sum, &dif, &out)
		for u, v := range out {
			tmp[u][y] = v
		}
	}
	var coef [dctSize * dctSize]float64
	for u := 0; u < dctSize; u++ {
		col := &tmp[u]
		var sum, dif [half]float64
		for y := range sum {
			a, b := col[y], col[hashSize-1-y]
			sum[y], dif[y] = a+b, a-b
		}
		var out [dctSize]float64
		dct4(&sum, &dif, &out)
		for v, c := range out {
			coef[v*dctSize+u] = c
		}
	}
	med := middle(coef)
	var h Hash
	for i, c := range coef {
		if c > med {
			h[i/64] |= 1 << (63 - i%64)
		}
	}
	return h
}

// dct4 is out[u] = Σx src[x]·cos_u(x) over a folded half (sum for even u,
// dif for odd), four frequencies at a time: each sum is added up in the
// order of one loop over x, so the same bits, but four independent chains
// of additions keep the FPU busy where one chain waits on each add.
func dct4(sum, dif *[hashSize / 2]float64, out *[dctSize]float64) {
	for u := 0; u < dctSize; u += 8 {
		// u, u+2, u+4, u+6 read sum; u+1, u+3, u+5, u+7 read dif.
		for par := 0; par < 2; par++ {
			src := sum
			if par == 1 {
				src = dif
			}
			c0, c1, c2, c3 := &dctTable[u+par], &dctTable[u+par+2], &dctTable[u+par+4], &dctTable[u+par+6]
			var s0, s1, s2, s3 float64
			for x, v := range src {
				s0 += v * c0[x]
				s1 += v * c1[x]
				s2 += v * c2[x]
				s3 += v * c3[x]
			}
			out[u+par], out[u+par+2], out[u+par+4], out[u+par+6] = s0, s1, s2, s3
		}
	}
}

// middle is the mean of the middle two of c, as a sort would rank them: a
// selection finds them in a fraction of a sort's comparisons.
func middle(c [dctSize * dctSize]float64) float64 {
	k := len(c)/2 - 1
	lo, hi := 0, len(c)-1
	for lo < hi {
		// The median of three as pivot, moved to hi.
		mid := lo + (hi-lo)/2
		if c[mid] < c[lo] {
			c[mid], c[lo] = c[lo], c[mid]
		}
		if c[hi] < c[lo] {
			c[hi], c[lo] = c[lo], c[hi]
		}
		if c[mid] < c[hi] {
			c[mid], c[hi] = c[hi], c[mid]
		}
		p, i := c[hi], lo
		for j := lo; j < hi; j++ {
			if c[j] < p {
				c[i], c[j] = c[j], c[i]
				i++
			}
		}
		c[i], c[hi] = c[hi], c[i]
		switch {
		case k == i:
			lo = hi
		case k < i:
			hi = i - 1
		default:
			lo = i + 1
		}
	}
	// c[k] is the k-th smallest and nothing after it is smaller.
	next := c[k+1]
	for _, v := range c[k+2:] {
		next = min(next, v)
	}
	return (c[k] + next) / 2
}

// FeatureVersion names the recogniser that computed a Features value:
// features from another version are not comparable and must be recomputed
// from the reference images.
const FeatureVersion = 3

// encodedLen is the length of Features.Encode's output.
const encodedLen = 1 + 32 + 32 + ColourLen

// Encode is f (without Where) as bytes, for storage and export.
func (f Features) Encode() []byte {
	b := make([]byte, 0, encodedLen)
	b = append(b, FeatureVersion)
	b = append(b, f.Hash.Bytes()...)
	b = append(b, f.Art.Bytes()...)
	return append(b, f.Colour[:]...)
}

// ErrOldFeatures means stored features come from another recogniser version.
var ErrOldFeatures = errors.New("recog: reference features are from another recogniser version: hash the reference images again")

// DecodeFeatures is the inverse of Features.Encode.
func DecodeFeatures(b []byte) (Features, error) {
	var f Features
	if len(b) == 0 || b[0] != FeatureVersion {
		return f, ErrOldFeatures
	}
	if len(b) != encodedLen {
		return f, fmt.Errorf("recog: features are %d bytes, want %d", len(b), encodedLen)
	}
	f.Hash, _ = HashFromBytes(b[1:33])
	f.Art, _ = HashFromBytes(b[33:65])
	copy(f.Colour[:], b[65:])
	return f, nil
}
