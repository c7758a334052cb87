package sheet

import (
	"image"
	"math"
)

// greySrc is a grey plane the flattening samples from: the photo's own luma
// plane when it has one and needs no reduction, else a copy of the sheet's
// part of the photo box-reduced by a whole factor.
type greySrc struct {
	pix    []uint8
	stride int
	w, h   int
	org    pt      // photo coordinates of the plane's (0, 0)
	k      float64 // photo pixels per plane pixel
}

// newGreySrc prepares the photo's region r (photo coordinates) reduced by k.
func newGreySrc(photo image.Image, r image.Rectangle, k int) greySrc {
	b := photo.Bounds()
	if k == 1 && b.Dx() < 1<<15 && b.Dy() < 1<<15 {
		switch p := photo.(type) {
		case *image.YCbCr:
			return greySrc{pix: p.Y, stride: p.YStride, w: b.Dx(), h: b.Dy(), org: pt{float64(b.Min.X), float64(b.Min.Y)}, k: 1}
		case *image.Gray:
			return greySrc{pix: p.Pix, stride: p.Stride, w: b.Dx(), h: b.Dy(), org: pt{float64(b.Min.X), float64(b.Min.Y)}, k: 1}
		}
	}
	w, h := (r.Dx()+k-1)/k, (r.Dy()+k-1)/k
	s := greySrc{pix: make([]uint8, w*h), stride: w, w: w, h: h, org: pt{float64(r.Min.X), float64(r.Min.Y)}, k: float64(k)}
	read := greyRow(photo)
	row := make([]uint8, r.Dx())
	sum := make([]uint32, w)
	// Every pixel counts up to a factor of 8, so that no pen stroke falls
	// between taps; beyond that (a MaxSide far below the photo's size) the
	// cost of reading them all is not worth it.
	xs, last := taps8(k), taps8(r.Dx()-(w-1)*k) // columns of a block, of the last one
	for y := 0; y < h; y++ {
		clear(sum)
		y0 := r.Min.Y + y*k
		ys := taps8(min(k, r.Max.Y-y0))
		for _, dy := range ys {
			read(y0+dy, r.Min.X, row)
			for x := 0; x < w-1; x++ {
				for _, dx := range xs {
					sum[x] += uint32(row[x*k+dx])
				}
			}
			for _, dx := range last {
				sum[w-1] += uint32(row[(w-1)*k+dx])
			}
		}
		n, nl := uint32(len(ys)*len(xs)), uint32(len(ys)*len(last))
		for x := range w - 1 {
			s.pix[y*w+x] = uint8((sum[x] + n/2) / n)
		}
		s.pix[y*w+w-1] = uint8((sum[w-1] + nl/2) / nl)
	}
	return s
}

// taps8 is taps with every pixel of blocks up to 8 wide counted.
func taps8(n int) []int {
	if n <= 8 {
		t := make([]int, n)
		for i := range t {
			t[i] = i
		}
		return t
	}
	return taps(n)
}

// flatten samples the sheet q (photo coordinates) into a w × h grey image,
// bilinearly, from the full-resolution photo (box-reduced first where it has
// more than two pixels for each output pixel). The homography is evaluated
// exactly every 16 pixels and linearly in 16.16 fixed point in between, which
// is within a hundredth of a pixel for any sheet a camera sees and keeps the
// per-pixel work to integer adds and multiplies.
func flatten(photo image.Image, q quad, w, h int) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, w, h))
	hom := rectToQuad(float64(w), float64(h), q)
	// Photo pixels per output pixel along the sheet's least magnified side.
	scale := math.Min(
		math.Min(q[0].dist(q[1]), q[3].dist(q[2]))/float64(w),
		math.Min(q[0].dist(q[3]), q[1].dist(q[2]))/float64(h))
	k := max(1, int(scale))
	b := photo.Bounds()
	x0, y0, x1, y1 := q[0].x, q[0].y, q[0].x, q[0].y
	for _, p := range q[1:] {
		x0, y0 = math.Min(x0, p.x), math.Min(y0, p.y)
		x1, y1 = math.Max(x1, p.x), math.Max(y1, p.y)
	}
	r := image.Rect(int(math.Floor(x0))-2, int(math.Floor(y0))-2, int(math.Ceil(x1))+2, int(math.Ceil(y1))+2).Intersect(b)
	if r.Empty() {
		r = b
	}
	src := newGreySrc(photo, r, k)
	// Plane coordinates (pixel centres at integers) of output pixel (i, j).
	at := func(i, j int) (int, int) {
		p := hom.apply(pt{float64(i) + 0.5, float64(j) + 0.5})
		x := (p.x-src.org.x)/src.k - 0.5
		y := (p.y-src.org.y)/src.k - 0.5
		x = math.Max(0, math.Min(x, float64(src.w-1)))
		y = math.Max(0, math.Min(y, float64(src.h-1)))
		if math.IsNaN(x) || math.IsNaN(y) {
			x, y = 0, 0
		}
		return int(x * 65536), int(y * 65536)
	}
	const seg = 16
	pix, st := src.pix, src.stride
	for j := 0; j < h; j++ {
		o := out.Pix[j*out.Stride : j*out.Stride+w]
		xa, ya := at(0, j)
		for i0 := 0; i0 < w; i0 += seg {
			n := min(seg, w-i0)
			xb, yb := at(i0+n, j)
			dx, dy := (xb-xa)/n, (yb-ya)/n
			x, y := xa, ya
			for i := i0; i < i0+n; i++ {
				xi, yi := x>>16, y>>16
				fx, fy := (x>>8)&0xff, (y>>8)&0xff
				xi1, yi1 := min(xi+1, src.w-1), min(yi+1, src.h-1)
				r0, r1 := yi*st, yi1*st
				top := int(pix[r0+xi])*(256-fx) + int(pix[r0+xi1])*fx
				bot := int(pix[r1+xi])*(256-fx) + int(pix[r1+xi1])*fx
				o[i] = uint8((top*(256-fy) + bot*fy + 1<<15) >> 16)
				x, y = x+dx, y+dy
			}
			xa, ya = xb, yb
		}
	}
	return out
}
