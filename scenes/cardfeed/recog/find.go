package recog

import (
	"cmp"
	"fmt"
	"image"
	"math"
	"slices"
	"sort"
)

// Quad is a card outline in frame pixels: the corners where its straight
// edges meet (not the rounded corners themselves), in order around it, the
// first two joined by a short side. Which short side is the top is not
// known until the card is matched.
type Quad [4][2]float64

// Working size: the frame is box-downsampled until its long side is at most
// this, which keeps edge finding to a few milliseconds on any camera.
const workSide = 320

// finder holds the working image of one frame.
type finder struct {
	w, h   int
	scale  float64   // frame pixels per working pixel
	gx, gy []float32 // gradient of the strongest colour channel
	mag    []float32
	thr    float32 // an edge: magnitude above this
	sc     *scratch
}

// scratch is a frame's working memory (the finder's planes, the Hough
// accumulator, a converted frame), handed from frame to frame by Index so
// that a frame allocates no large buffers. Not for concurrent use.
type scratch struct {
	planes, acc []float32
	ints        []int32
	rows        []int32 // the blur's and the Sobel's rows in passing
	rgba        []uint8
	tiles       []bool  // which of rgba's tiles are converted
	half        []uint8 // the frame at half size, from the finder's sums
	// The outline search's tables, grown to the largest frame's needs.
	peaks  []line
	pairs  [][2]int
	meet   []corner
	across []bool
	sup    []support
	counts []int32
	cands  []scored
	sorted []scored
	order  []int32
	grids  []grid
	sides  []fitted // this frame's refined sides
}

// fitted is a side refine has fitted, by its corners: outlines that share
// three lines share a side (a fifth of the sides refined), and the fit is
// the same.
type fitted struct {
	a, b [2]float64
	ln   line
}

// grow returns b with length n, reusing its memory when it is big enough.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// FindQuads returns up to k card outlines in img, best first. The edges are
// found in colour (a red frame on a green mat has little luminance edge),
// straight lines by a gradient-oriented Hough transform, and every set of
// four lines that makes a card-shaped quadrilateral is scored by how much of
// its perimeter is an edge. A card's black border on a black bed leaves no
// edge: the frame inside the border is found instead, and Identify also tries
// the outline grown by a border's width.
func FindQuads(img *image.RGBA, k int) ([]Quad, error) {
	qs, scale, err := findQuads(&frame{rgba: img}, k, new(scratch))
	for i := range qs {
		refineFull(img, &qs[i], scale)
	}
	return qs, err
}

// findQuads is FindQuads without the last step, refineFull(img, &q, scale)
// of each outline: Identify refines only the outlines it reads.
func findQuads(img *frame, k int, sc *scratch) ([]Quad, float64, error) {
	b := img.rgba.Rect
	if b.Dx() < 32 || b.Dy() < 32 {
		return nil, 1, fmt.Errorf("recog: frame %dx%d too small", b.Dx(), b.Dy())
	}
	f := newFinder(img, sc)
	lines := f.lines(32)
	qs := f.quads(lines, k)
	if len(qs) == 0 {
		return nil, 1, ErrNoCard
	}
	return qs, f.scale, nil
}

// refineFull fits each side of q again on the full-resolution frame: the
// working image is a few times coarser than the camera, and a hash window
// off by a few pixels costs tens of bits.
func refineFull(img *image.RGBA, q *Quad, scale float64) {
	if scale <= 1 {
		return // the working image is the frame
	}
	var ls [4]line
	for i := 0; i < 4; i++ {
		a, b := q[i], q[(i+1)%4]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l, dx/l
		guess := line{theta: math.Atan2(ny, nx), rho: a[0]*nx + a[1]*ny}
		ls[i] = guess
		r := 1.5 * scale
		n := int(l / 2)
		var sx, sy, sxx, syy, sxy, sw float64
		prof := make([]float64, 0, 64)
		var atBuf [64][3]float64
		at := atBuf[:0]
		for s := 0; s < n; s++ {
			t := 0.08 + 0.84*(float64(s)+0.5)/float64(n)
			x, y := a[0]+t*dx, a[1]+t*dy
			// The colour at d - ½ for each d of the profile and two more: the
			// step at d is at[i+2] - at[i] (d + ½ is the next d but one's
			// d - ½, exactly: the d are halves), so each is read once.
			at = at[:0]
			for d := -r; d <= r+1; d += 0.5 {
				at = append(at, bilinear(img, x+(d-0.5)*nx, y+(d-0.5)*ny))
			}
			prof = prof[:0]
			for i, d := 0, -r; d <= r; i, d = i+1, d+0.5 {
				c0, c1 := at[i], at[i+2]
				g := 0.0
				for k := range c0 {
					g = max(g, math.Abs(c1[k]-c0[k]))
				}
				prof = append(prof, g)
			}
			bi := 0
			for k, v := range prof {
				if v > prof[bi] {
					bi = k
				}
			}
			if bi == 0 || bi == len(prof)-1 || prof[bi] < 6 {
				continue
			}
			den := prof[bi-1] - 2*prof[bi] + prof[bi+1]
			off := 0.0
			if den < 0 {
				off = 0.5 * (prof[bi-1] - prof[bi+1]) / den
			}
			d := -r + (float64(bi)+off)*0.5
			px, py := x+d*nx, y+d*ny
			w := prof[bi]
			sx += w * px
			sy += w * py
			sxx += w * px * px
			syy += w * py * py
			sxy += w * px * py
			sw += w
		}
		if sw == 0 {
			continue
		}
		mx, my := sx/sw, sy/sw
		cxx, cyy, cxy := sxx/sw-mx*mx, syy/sw-my*my, sxy/sw-mx*my
		theta := 0.5*math.Atan2(2*cxy, cxx-cyy) + math.Pi/2
		ln := line{theta: theta, rho: mx*math.Cos(theta) + my*math.Sin(theta)}
		if dt, dr := lineGap(ln, guess); dt < 2*math.Pi/180 && dr < 2*scale {
			ls[i] = ln
		}
	}
	var out Quad
	for i := 0; i < 4; i++ {
		p, ok := intersect(ls[(i+3)%4], ls[i])
		if !ok {
			return
		}
		out[i] = p
	}
	*q = out
}

func newFinder(fr *frame, sc *scratch) *finder {
	img := fr.rgba
	b := img.Rect
	step := max(1, (max(b.Dx(), b.Dy())+workSide-1)/workSide)
	w, h := b.Dx()/step, b.Dy()/step
	f := &finder{w: w, h: h, scale: float64(step), sc: sc}
	sc.sides = sc.sides[:0]
	n := w * h
	// The channels are box sums and the blur and Sobel taps integers, all
	// in int32: exact (the float32 planes this replaces held the same values
	// over 16·step²) and cheap on a Pi Zero.
	sc.planes = grow(sc.planes, 3*n)
	pl := sc.planes
	sc.rows = grow(sc.rows, 27*w)
	row := func(k int) []int32 { return sc.rows[k*w : (k+1)*w : (k+1)*w] }
	// raw is row y of each channel's sums, unblurred: for the camera's
	// usual 640x480 JPEG worked out from its planes as the blur reaches the
	// row (the sums are never stored whole), else read from planes made
	// below.
	var ch [3][]int32
	var raw func(y int) [3][]int32
	if step == 2 && fr.src != nil {
		sc.half = grow(sc.half, 4*n)
		fr.half = &image.RGBA{Pix: sc.half, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
		r := [3][]int32{row(24), row(25), row(26)}
		raw = func(y int) [3][]int32 {
			sums420(r[0], r[1], r[2], sc.half[4*y*w:4*(y+1)*w], fr.src, y)
			return r
		}
	} else {
		sc.ints = grow(sc.ints, 3*n)
		ip := sc.ints
		ch = [3][]int32{ip[:n:n], ip[n : 2*n : 2*n], ip[2*n : 3*n : 3*n]}
		raw = func(y int) [3][]int32 {
			return [3][]int32{ch[0][y*w : (y+1)*w], ch[1][y*w : (y+1)*w], ch[2][y*w : (y+1)*w]}
		}
		fr.needAll()
	}
	switch {
	case ch[0] == nil:
		// The camera's frame: raw makes each row.
	case step == 2:
		// The same sums, written out.
		for y := 0; y < h; y++ {
			o := img.PixOffset(b.Min.X, b.Min.Y+2*y)
			r0, r1 := img.Pix[o:o+8*w], img.Pix[o+img.Stride:o+img.Stride+8*w]
			c0, c1, c2 := ch[0][y*w:(y+1)*w], ch[1][y*w:(y+1)*w], ch[2][y*w:(y+1)*w]
			for x := range c0 {
				p, q := r0[8*x:8*x+8:8*x+8], r1[8*x:8*x+8:8*x+8]
				c0[x] = int32(p[0]) + int32(p[4]) + int32(q[0]) + int32(q[4])
				c1[x] = int32(p[1]) + int32(p[5]) + int32(q[1]) + int32(q[5])
				c2[x] = int32(p[2]) + int32(p[6]) + int32(q[2]) + int32(q[6])
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s [3]int32
				for j := 0; j < step; j++ {
					o := img.PixOffset(b.Min.X+x*step, b.Min.Y+y*step+j)
					p := img.Pix[o : o+4*step : o+4*step]
					for i := 0; i < step; i++ {
						s[0] += int32(p[4*i])
						s[1] += int32(p[4*i+1])
						s[2] += int32(p[4*i+2])
					}
				}
				for c := range ch {
					ch[c][y*w+x] = s[c]
				}
			}
		}
	}
	if step == 2 && fr.half == nil {
		fr.half = halfFrom(ch, w, h, sc)
	}
	f.gx, f.gy, f.mag = pl[:n:n], pl[n:2*n:2*n], pl[2*n:3*n:3*n]
	// The border stays 0: only it is cleared (the rest is written below,
	// and clearing the whole planes wrote 0.9 MB a frame).
	for _, p := range [3][]float32{f.gx, f.gy, f.mag} {
		clear(p[:w])
		clear(p[(h-1)*w:])
		for y := 1; y < h-1; y++ {
			p[y*w], p[y*w+w-1] = 0, 0
		}
	}
	unit := 1 / float32(16*step*step)
	// The [1 2 1] blur and the Sobel taps, a row at a time through rings
	// of rows that stay in the cache (the blurred planes are never written
	// out). The Sobel taps split: down each column, the [1 2 1] sum and the
	// difference of the rows below and above, once per pixel and channel
	// (each was read by three pixels' taps); across, the difference of the
	// sums and the [1 2 1] sum of the differences. The same integers.
	var across, blurred [3][3][]int32 // per channel, rows y mod 3
	var vs, ds [3][]int32
	for c := range vs {
		for k := range 3 {
			across[c][k], blurred[c][k] = row(8*c+k), row(8*c+3+k)
		}
		vs[c], ds[c] = row(8*c+6), row(8*c+7)
	}
	// blurAcross blurs row y of every channel along the row.
	blurAcross := func(y int) {
		rs := raw(y)
		for c, r := range rs {
			t := across[c][y%3][:len(r)]
			t[0], t[len(r)-1] = 4*r[0], 4*r[len(r)-1]
			for x := 1; x < len(r)-1; x++ {
				t[x] = r[x-1] + 2*r[x] + r[x+1]
			}
		}
	}
	// blurDown blurs row y down the columns, from the rows above and below
	// blurred across (the first and last rows: four times their own).
	blurDown := func(y int) {
		for c := range ch {
			out, mid := blurred[c][y%3], across[c][y%3][:w]
			if y == 0 || y == h-1 {
				for x := range out {
					out[x] = 4 * mid[x]
				}
				continue
			}
			up, dn := across[c][(y+2)%3][:len(out)], across[c][(y+1)%3][:len(out)]
			mid = mid[:len(out)]
			for x := range out {
				out[x] = up[x] + 2*mid[x] + dn[x]
			}
		}
	}
	blurAcross(0)
	for yb := 0; yb < h; yb++ {
		if yb+1 < h {
			blurAcross(yb + 1)
		}
		blurDown(yb)
		y := yb - 1 // the Sobel's row: the blurred rows y-1, y, y+1 are ready
		if y < 1 || y >= h-1 {
			continue
		}
		for c := range ch {
			u := blurred[c][(y+2)%3]
			m, d := blurred[c][y%3][:len(u)], blurred[c][(y+1)%3][:len(u)]
			v, dd := vs[c][:len(u)], ds[c][:len(u)]
			for x := range u {
				v[x], dd[x] = u[x]+2*m[x]+d[x], d[x]-u[x]
			}
		}
		v0, v1, v2 := vs[0], vs[1][:len(vs[0])], vs[2][:len(vs[0])]
		d0, d1, d2 := ds[0][:len(v0)], ds[1][:len(v0)], ds[2][:len(v0)]
		gxr, gyr, magr := f.gx[y*w : (y+1)*w][:len(v0)], f.gy[y*w : (y+1)*w][:len(v0)], f.mag[y*w : (y+1)*w][:len(v0)]
		for x := 1; x < len(v0)-1; x++ {
			// The strongest channel by its exact squared magnitude (the
			// first of equals); only its gradient is converted to float.
			bx, by := v0[x+1]-v0[x-1], d0[x-1]+2*d0[x]+d0[x+1]
			bm := int64(bx)*int64(bx) + int64(by)*int64(by)
			if gx, gy := v1[x+1]-v1[x-1], d1[x-1]+2*d1[x]+d1[x+1]; int64(gx)*int64(gx)+int64(gy)*int64(gy) > bm {
				bx, by, bm = gx, gy, int64(gx)*int64(gx)+int64(gy)*int64(gy)
			}
			if gx, gy := v2[x+1]-v2[x-1], d2[x-1]+2*d2[x]+d2[x+1]; int64(gx)*int64(gx)+int64(gy)*int64(gy) > bm {
				bx, by, bm = gx, gy, int64(gx)*int64(gx)+int64(gy)*int64(gy)
			}
			mf := float32(bm)
			gxr[x], gyr[x], magr[x] = float32(bx)*unit, float32(by)*unit, float32(math.Sqrt(float64(mf)))*unit
		}
	}
	// The edge threshold follows the frame's own noise and texture: well
	// above the median gradient, but never so high that a black border on a
	// dark bed (a step of ~10 levels, Sobel ~40) is lost.
	// (The median from a histogram of whole levels: a sort of every pixel
	// costs more than the rest of edge finding.)
	var hist [256]int
	for _, m := range f.mag {
		hist[min(int(m), 255)]++
	}
	med, seen := float32(0), 0
	for v, n := range hist {
		if seen += n; 2*seen > len(f.mag) {
			med = float32(v)
			break
		}
	}
	f.thr = max(16, min(3*med, 48))
	return f
}

// halfFrom is the frame at half size from its 2x2 sums, as the pyramid's
// level 1 would halve it: the warp reads it for free.
func halfFrom(ch [3][]int32, w, h int, sc *scratch) *image.RGBA {
	sc.half = grow(sc.half, 4*w*h)
	pix := sc.half
	c0, c1, c2 := ch[0][:w*h], ch[1][:w*h], ch[2][:w*h]
	for i := range c0 {
		p := pix[4*i : 4*i+4 : 4*i+4]
		p[0], p[1], p[2], p[3] = halve(c0[i]), halve(c1[i]), halve(c2[i]), 255
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

// line is x·cos θ + y·sin θ = rho in working pixels, θ in [0, π).
type line struct {
	theta, rho, votes float64
}

const thetaBins = 180

var trig = func() (t [thetaBins][2]float64) {
	for i := range t {
		t[i][1], t[i][0] = math.Sincos(float64(i) * math.Pi / thetaBins)
	}
	return
}()

// lines is a Hough transform where each edge pixel votes only near its own
// gradient direction: cheap, and texture does not smear over all angles.
func (f *finder) lines(n int) []line {
	diag := int(math.Ceil(math.Hypot(float64(f.w), float64(f.h))))
	nr := 2*diag + 1
	f.sc.acc = grow(f.sc.acc, thetaBins*nr)
	acc := f.sc.acc
	clear(acc)
	// The five bins around each pixel's own, wrapped once here rather than
	// per vote: their cosine, sine and offset into acc.
	var near [thetaBins + 4]struct {
		cos, sin float64
		off      int
	}
	for k := range near {
		t := (k - 2 + thetaBins) % thetaBins
		near[k].cos, near[k].sin, near[k].off = trig[t][0], trig[t][1], t*nr+diag
	}
	for y := 1; y < f.h-1; y++ {
		row := y * f.w
		mag, gx, gy := f.mag[row:row+f.w], f.gx[row:row+f.w], f.gy[row:row+f.w]
		fy := float64(y)
		for x := 1; x < f.w-1; x++ {
			m := mag[x]
			if m < f.thr {
				continue
			}
			// Strong texture must not outvote a long, weak card edge.
			wgt := min(m/f.thr, 3)
			t0 := angleBin(float64(gx[x]), float64(gy[x]))
			fx := float64(x)
			for _, b := range near[t0 : t0+5] {
				// r + diag is never negative: int(v + 0.5) rounds it as
				// math.Round does (but for exact halves, which a sum of
				// products of sines never is).
				acc[b.off+int(fx*b.cos+fy*b.sin+float64(diag)+0.5)-diag] += wgt
			}
		}
	}
	// Peaks: local maxima over ±2° and ±2 px (θ wraps with ρ negated).
	at := func(t, r int) float32 {
		if t < 0 {
			t += thetaBins
			r = nr - 1 - r
		} else if t >= thetaBins {
			t -= thetaBins
			r = nr - 1 - r
		}
		if r < 0 || r >= nr {
			return 0
		}
		return acc[t*nr+r]
	}
	minVotes := float32(min(f.w, f.h)) * 0.12
	peaks := f.sc.peaks[:0]
	for t := 0; t < thetaBins; t++ {
		for r, v := range acc[t*nr : (t+1)*nr] {
			if v < minVotes {
				continue
			}
			peak := true
			for dt := -2; dt <= 2 && peak; dt++ {
				for dr := -2; dr <= 2; dr++ {
					if (dt != 0 || dr != 0) && at(t+dt, r+dr) > v {
						peak = false
						break
					}
				}
			}
			if peak {
				peaks = append(peaks, line{theta: float64(t) * math.Pi / thetaBins, rho: float64(r - diag), votes: float64(v)})
			}
		}
	}
	f.sc.peaks = peaks
	sort.Slice(peaks, func(i, j int) bool { return peaks[i].votes > peaks[j].votes })
	var out []line
	for _, p := range peaks {
		dup := false
		for _, q := range out {
			if dt, dr := lineGap(p, q); dt < 3*math.Pi/180 && dr < 4 {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// angleBin is the θ bin of a gradient's direction folded into [0, π), as
// int(a·thetaBins/π + 0.5) % thetaBins of a = atan2(gy, gx) (plus π when
// negative), which it is bit for bit: a polynomial arctangent (Abramowitz
// and Stegun 4.4.49, within 1e-5 rad) settles all but the directions
// within 3e-5 rad of a bin's edge, and those take math.Atan2.
func angleBin(gx, gy float64) int {
	fx, fy := gx, gy
	if fy < 0 {
		fx, fy = -fx, -fy
	}
	poly := func(z float64) float64 {
		z2 := z * z
		return z * (0.9998660 + z2*(-0.3302995+z2*(0.1801410+z2*(-0.0851330+z2*0.0208351))))
	}
	var a float64
	switch {
	case fx >= fy:
		a = poly(fy / fx)
	case -fx >= fy:
		a = math.Pi - poly(fy/-fx)
	default:
		a = math.Pi/2 - poly(fx/fy)
	}
	const band = 3e-5 * thetaBins / math.Pi
	v := a*thetaBins/math.Pi + 0.5
	if fr := v - float64(int(v)); fr > band && fr < 1-band {
		return int(v) % thetaBins
	}
	e := math.Atan2(gy, gx)
	if e < 0 {
		e += math.Pi
	}
	return int(e*thetaBins/math.Pi+0.5) % thetaBins
}

// lineGap is the angle between two lines and the gap between them, with
// θ near 0 and near π treated as neighbours.
func lineGap(a, b line) (dtheta, drho float64) {
	dt := math.Abs(a.theta - b.theta)
	if dt > math.Pi/2 {
		return math.Pi - dt, math.Abs(a.rho + b.rho)
	}
	return dt, math.Abs(a.rho - b.rho)
}

func intersect(a, b line) ([2]float64, bool) {
	ca, sa := math.Cos(a.theta), math.Sin(a.theta)
	cb, sb := math.Cos(b.theta), math.Sin(b.theta)
	det := ca*sb - sa*cb
	if math.Abs(det) < 1e-6 {
		return [2]float64{}, false
	}
	return [2]float64{(a.rho*sb - b.rho*sa) / det, (ca*b.rho - cb*a.rho) / det}, true
}

type scored struct {
	q     Quad // working pixels
	score float64
	area  float64
}

// quads pairs near-parallel lines and pairs the pairs into card-shaped
// quadrilaterals, scored by edge coverage of their sides.
func (f *finder) quads(ls []line, k int) []Quad {
	minSide := 0.12 * float64(min(f.w, f.h))
	pairs := f.sc.pairs[:0]
	for i := range ls {
		for j := i + 1; j < len(ls); j++ {
			dt, dr := lineGap(ls[i], ls[j])
			if dt < 22*math.Pi/180 && dr > minSide {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	f.sc.pairs = pairs
	frame := float64(f.w * f.h)
	// Every pair of lines meets once: the corners are looked up, not solved
	// again for each of the thousands of outlines.
	n := len(ls)
	f.sc.meet = grow(f.sc.meet, n*n)
	meet := f.sc.meet
	for i := range ls {
		for j := i + 1; j < n; j++ {
			p, ok := intersect(ls[i], ls[j])
			meet[i*n+j], meet[j*n+i] = corner{p, ok}, corner{p, ok}
		}
	}
	// Whether two lines are far enough from parallel to be neighbouring
	// sides, also once per pair of lines rather than per outline.
	f.sc.across = grow(f.sc.across, n*n)
	across := f.sc.across
	for i := range ls {
		for j := range ls {
			dt, _ := lineGap(ls[i], ls[j])
			across[i*n+j] = dt >= 55*math.Pi/180
		}
	}
	f.sc.sup = grow(f.sc.sup, n)
	sup := f.sc.sup
	counts := f.sc.counts[:0]
	for i := range ls {
		sup[i], counts = f.support(ls[i], counts)
	}
	f.sc.counts = counts
	cands := f.sc.cands[:0]
	for pi, p := range pairs {
		for _, q := range pairs[pi+1:] {
			if !across[p[0]*n+q[0]] {
				continue
			}
			var c Quad
			ok := true
			sides := [4][2]int{{p[0], q[0]}, {q[0], p[1]}, {p[1], q[1]}, {q[1], p[0]}}
			for n2, lp := range sides {
				m := meet[lp[0]*n+lp[1]]
				if !m.ok {
					ok = false
					break
				}
				c[n2] = m.p
			}
			if !ok {
				continue
			}
			// Side k runs from corner k-1 to corner k along line sides[k][0]
			// (corner k is where sides[k][0] meets sides[k][1]). Coverage
			// first: two lookups a side reject most outlines, before the
			// shape test's square roots.
			var cov [4]float64
			for k := 0; k < 4; k++ {
				if cov[k] = sup[sides[k][0]].cover(c[(k+3)%4], c[k]); cov[k] < 0.4 {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			area, good := f.cardShaped(&c, minSide)
			if !good || area < 0.03*frame || area > 0.97*frame {
				continue
			}
			var total, per float64
			for k := 0; k < 4; k++ {
				a, b := c[(k+3)%4], c[k]
				l := math.Hypot(b[0]-a[0], b[1]-a[1])
				total += cov[k] * l
				per += l
			}
			if total > 0 {
				cands = append(cands, scored{q: c, score: total / per, area: area})
			}
		}
	}
	f.sc.cands = cands
	if len(cands) == 0 {
		return nil
	}
	// Refine the best-covered ones (Hough bins are a pixel and a degree
	// wide) and score them again, tightly: a line a degree off the card's
	// edge covers its near half only.
	top := 0.0
	for _, c := range cands {
		top = max(top, c.score)
	}
	var good []scored
	take := func(limit int, ok func(c scored) bool) {
		n := 0
		for _, c := range cands {
			if n == limit {
				return
			}
			if !ok(c) {
				continue
			}
			dup := false
			for _, o := range good {
				if sameQuad(&c.q, &o.q) {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			n++
			f.refine(&c.q)
			if c.score = f.coverageTol(&c.q, 0.75, 0.6); c.score == 0 {
				continue
			}
			c.area = quadArea(&c.q)
			good = append(good, c)
		}
	}
	// Best covered first, the larger first among equals (an order over
	// small keys: the outlines themselves are too big to shuffle around).
	f.sc.order = grow(f.sc.order, len(cands))
	order := f.sc.order
	for i := range order {
		order[i] = int32(i)
	}
	better := func(i, j int32) int {
		a, b := &cands[i], &cands[j]
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		if a.area != b.area {
			return cmp.Compare(b.area, a.area)
		}
		return cmp.Compare(i, j)
	}
	// Only the best 160 are wanted, of thousands: they are selected, then
	// sorted (the order is total, so this is the full sort's head).
	order = bestOf(order, 160, better)
	sorted := f.sc.sorted[:0]
	for _, i := range order {
		sorted = append(sorted, cands[i])
	}
	f.sc.sorted = sorted
	cands = sorted
	take(12, func(scored) bool { return true })
	// Inner boxes (art, text box, a frame inside a border) are as well
	// edged as the card itself: among equally well covered outlines the
	// largest is the card; the others are kept for the catalog to judge.
	rank := func(c scored) int { return int(c.score*20 + 0.5) }
	sort.SliceStable(good, func(i, j int) bool {
		if ri, rj := rank(good[i]), rank(good[j]); ri != rj {
			return ri > rj
		}
		return good[i].area > good[j].area
	})
	var out []Quad
	var kept []scored
	for _, c := range good {
		dup := false
		for _, o := range kept {
			if sameQuad(&c.q, &o.q) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		kept = append(kept, c)
		if len(kept) == k {
			break
		}
	}
	for _, c := range kept {
		var q Quad
		for i, p := range c.q {
			q[i] = [2]float64{(p[0] + 0.5) * f.scale, (p[1] + 0.5) * f.scale}
		}
		out = append(out, portrait(q))
	}
	return out
}

// bestOf is the k first of xs in the total order cmp, sorted; xs is
// reordered. Quickselect: the outlines are too many to sort whole.
func bestOf(xs []int32, k int, cmp func(a, b int32) int) []int32 {
	if len(xs) > k {
		lo, hi := 0, len(xs)
		for hi-lo > 1 {
			// Median of three keeps sorted input from going quadratic.
			m := lo + (hi-lo)/2
			if cmp(xs[m], xs[lo]) < 0 {
				xs[m], xs[lo] = xs[lo], xs[m]
			}
			if cmp(xs[hi-1], xs[lo]) < 0 {
				xs[hi-1], xs[lo] = xs[lo], xs[hi-1]
			}
			if cmp(xs[hi-1], xs[m]) < 0 {
				xs[hi-1], xs[m] = xs[m], xs[hi-1]
			}
			pivot := xs[m]
			xs[m], xs[hi-1] = xs[hi-1], xs[m]
			st := lo
			for i := lo; i < hi-1; i++ {
				if cmp(xs[i], pivot) < 0 {
					xs[i], xs[st] = xs[st], xs[i]
					st++
				}
			}
			xs[st], xs[hi-1] = xs[hi-1], xs[st]
			switch {
			case st == k:
				hi = lo // done: xs[:k] are the k first
			case st < k:
				lo = st + 1
			default:
				hi = st
			}
		}
		xs = xs[:k]
	}
	slices.SortFunc(xs, cmp)
	return xs
}

// cardShaped checks that c is convex, inside the frame (a little beyond it
// is fine: a rounded corner's virtual point may be) and of a card's
// proportions under perspective, and returns its area.
func (f *finder) cardShaped(c *Quad, minSide float64) (float64, bool) {
	mx, my := 0.04*float64(f.w), 0.04*float64(f.h)
	for _, p := range c {
		if p[0] < -mx || p[1] < -my || p[0] > float64(f.w)+mx || p[1] > float64(f.h)+my {
			return 0, false
		}
	}
	var area float64
	sign := 0.0
	var side [4]float64
	for i := 0; i < 4; i++ {
		a, b, n := c[i], c[(i+1)%4], c[(i+2)%4]
		cross := (b[0]-a[0])*(n[1]-b[1]) - (b[1]-a[1])*(n[0]-b[0])
		if sign == 0 {
			sign = math.Copysign(1, cross)
		} else if cross*sign <= 0 {
			return 0, false
		}
		area += a[0]*b[1] - b[0]*a[1]
		side[i] = math.Hypot(b[0]-a[0], b[1]-a[1])
		if side[i] < minSide {
			return 0, false
		}
	}
	s1, s2 := (side[0]+side[2])/2, (side[1]+side[3])/2
	r := min(s1, s2) / max(s1, s2)
	// A card is 63 x 88 mm (0.716); a tilted camera squeezes one way or the
	// other, and opposite sides may differ in length by the perspective.
	if r < 0.5 || r > 0.95 || min(side[0], side[2])/max(side[0], side[2]) < 0.7 ||
		min(side[1], side[3])/max(side[1], side[3]) < 0.7 {
		return 0, false
	}
	return math.Abs(area) / 2, true
}

// support is where a line lies on an edge running along it, a pixel at a
// time from where it enters the frame: prefix counts, so that the share of
// any segment of it is two lookups.
type support struct {
	x0, y0, dx, dy float64 // the line's first point in the frame and its direction
	count          []int32 // count[t]: edge pixels among the first t
}

// corner is where two lines meet, if they do.
type corner struct {
	p  [2]float64
	ok bool
}

// support is the line's support, its counts appended to buf (which is
// returned grown).
func (f *finder) support(ln line, buf []int32) (support, []int32) {
	nx, ny := math.Cos(ln.theta), math.Sin(ln.theta)
	dx, dy := -ny, nx
	// The foot of the perpendicular from the origin, then back along the
	// line to beyond the frame.
	diag := math.Hypot(float64(f.w), float64(f.h))
	s := support{x0: ln.rho*nx - diag*dx, y0: ln.rho*ny - diag*dy, dx: dx, dy: dy}
	n := int(2 * diag)
	k := len(buf)
	buf = append(buf, make([]int32, n+1)...)
	s.count = buf[k : k+n+1 : k+n+1] // zeroed by the append
	const tol = 1.5
	// Only the stretch of the line near the frame can meet an edge pixel
	// (the taps are within tol of it): about half of the 2·diag samples.
	lo, hi := 0.0, float64(n)
	for _, a := range [2][3]float64{{s.x0, dx, float64(f.w)}, {s.y0, dy, float64(f.h)}} {
		p0, d, size := a[0], a[1], a[2]
		if math.Abs(d) < 1e-9 {
			if p0 < -3 || p0 > size+3 {
				hi = lo
			}
			continue
		}
		t0, t1 := (-3-p0)/d, (size+3-p0)/d
		lo, hi = max(lo, min(t0, t1)), min(hi, max(t0, t1))
	}
	t0, t1 := max(0, int(lo)-1), min(n, int(hi)+2)
	if t1 < t0 {
		t1 = t0
	}
	for t := t0; t < t1; t++ {
		x, y := s.x0+float64(t)*dx, s.y0+float64(t)*dy
		hit := int32(0)
		for d := -tol; d <= tol; d += tol {
			xi, yi := int(x+d*nx+0.5), int(y+d*ny+0.5)
			if xi < 1 || yi < 1 || xi >= f.w-1 || yi >= f.h-1 {
				continue
			}
			j := yi*f.w + xi
			along := float32(math.Abs(float64(f.gx[j])*nx + float64(f.gy[j])*ny))
			if along > 0.85*f.mag[j] && along >= f.thr {
				hit = 1
				break
			}
		}
		s.count[t+1] = s.count[t] + hit
	}
	for t := t1; t < n; t++ {
		s.count[t+1] = s.count[t]
	}
	return s, buf
}

// cover is the share of the segment a-b of the line (its middle 80 %: real
// cards are rounded at the corners) that lies on an edge.
func (s *support) cover(a, b [2]float64) float64 {
	ta := (a[0]-s.x0)*s.dx + (a[1]-s.y0)*s.dy
	tb := (b[0]-s.x0)*s.dx + (b[1]-s.y0)*s.dy
	lo, hi := ta+0.1*(tb-ta), ta+0.9*(tb-ta)
	if lo > hi {
		lo, hi = hi, lo
	}
	i, j := max(0, int(lo+0.5)), min(len(s.count)-1, int(hi+0.5))
	if j <= i {
		return 0
	}
	return float64(s.count[j]-s.count[i]) / float64(j-i)
}

func quadArea(c *Quad) float64 {
	var a float64
	for i := 0; i < 4; i++ {
		p, q := c[i], c[(i+1)%4]
		a += p[0]*q[1] - q[0]*p[1]
	}
	return math.Abs(a) / 2
}

// coverageTol looks for the edge within ±tol working pixels of each side.
func (f *finder) coverageTol(c *Quad, tol, least float64) float64 {
	return f.coverageN(c, tol, least, 32)
}

// coverageN samples n points per side; the first pass over thousands of
// candidate outlines samples few.
func (f *finder) coverageN(c *Quad, tol, least float64, n int) float64 {
	var total, per float64
	for i := 0; i < 4; i++ {
		a, b := c[i], c[(i+1)%4]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l, dx/l
		hit := 0
		for s := 0; s < n; s++ {
			// Keep off the corners: real cards are rounded there.
			t := 0.1 + 0.8*(float64(s)+0.5)/float64(n)
			x, y := a[0]+t*dx, a[1]+t*dy
			best := float32(0)
			for d := -tol; d <= tol; d += tol {
				xi, yi := int(x+d*nx+0.5), int(y+d*ny+0.5)
				if xi < 1 || yi < 1 || xi >= f.w-1 || yi >= f.h-1 {
					continue
				}
				j := yi*f.w + xi
				along := float32(math.Abs(float64(f.gx[j])*nx + float64(f.gy[j])*ny))
				if along > 0.85*f.mag[j] && along > best {
					best = along
				}
			}
			if best >= f.thr {
				hit++
			}
		}
		cov := float64(hit) / float64(n)
		if cov < least {
			return 0
		}
		total += cov * l
		per += l
	}
	return total / per
}

func sameQuad(a, b *Quad) bool {
	// Same corners in any rotation of the order.
	size := math.Hypot(a[0][0]-a[2][0], a[0][1]-a[2][1])
	for r := 0; r < 8; r++ {
		far := false
		for i := 0; i < 4; i++ {
			j := (i + r) % 4
			if r >= 4 { // the other way round
				j = (4 - i + r) % 4
			}
			p, q := a[i], b[j]
			if math.Hypot(p[0]-q[0], p[1]-q[1]) > 0.05*size {
				far = true
				break
			}
		}
		if !far {
			return true
		}
	}
	return false
}

// portrait orders q clockwise on screen with a short side first.
func portrait(q Quad) Quad {
	cross := (q[1][0]-q[0][0])*(q[2][1]-q[1][1]) - (q[1][1]-q[0][1])*(q[2][0]-q[1][0])
	if cross < 0 { // counter-clockwise in image coordinates (y down)
		q[1], q[3] = q[3], q[1]
	}
	d := func(a, b [2]float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }
	if d(q[0], q[1])+d(q[2], q[3]) > d(q[1], q[2])+d(q[3], q[0]) {
		q = Quad{q[1], q[2], q[3], q[0]}
	}
	// Start from the corner nearest the frame's top-left, for stable output.
	best, bi := math.Inf(1), 0
	for i := 0; i < 4; i += 2 {
		if v := q[i][0] + q[i][1]; v < best {
			best, bi = v, i
		}
	}
	if bi == 2 {
		q = Quad{q[2], q[3], q[0], q[1]}
	}
	return q
}

// Geometry of q: centre, sides and the angle of its long axis from vertical.
func (q Quad) Geometry() Geometry {
	var g Geometry
	for _, p := range q {
		g.CX += p[0] / 4
		g.CY += p[1] / 4
	}
	d := func(a, b [2]float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }
	g.W = (d(q[0], q[1]) + d(q[2], q[3])) / 2
	g.H = (d(q[1], q[2]) + d(q[3], q[0])) / 2
	// Top edge midpoint to bottom edge midpoint is "down" on the card.
	tx, ty := (q[0][0]+q[1][0])/2, (q[0][1]+q[1][1])/2
	bx, by := (q[2][0]+q[3][0])/2, (q[2][1]+q[3][1])/2
	g.Angle = math.Atan2(-(bx-tx), by-ty) * 180 / math.Pi
	if g.Angle < 0 {
		g.Angle += 360
	}
	g.Corners = q
	return g
}

// homography maps the unit square (u right, v down) onto a quad.
type homography [9]float64

// homographyFrom solves for the projective map taking (0,0), (1,0), (1,1),
// (0,1) to q's corners (Heckbert's closed form for a square).
func homographyFrom(q Quad) homography {
	x0, y0 := q[0][0], q[0][1]
	x1, y1 := q[1][0], q[1][1]
	x2, y2 := q[2][0], q[2][1]
	x3, y3 := q[3][0], q[3][1]
	sx := x0 - x1 + x2 - x3
	sy := y0 - y1 + y2 - y3
	var g, h float64
	if math.Abs(sx) > 1e-9 || math.Abs(sy) > 1e-9 {
		dx1, dx2 := x1-x2, x3-x2
		dy1, dy2 := y1-y2, y3-y2
		den := dx1*dy2 - dx2*dy1
		if den != 0 {
			g = (sx*dy2 - dx2*sy) / den
			h = (dx1*sy - sx*dy1) / den
		}
	}
	return homography{
		x1 - x0 + g*x1, x3 - x0 + h*x3, x0,
		y1 - y0 + g*y1, y3 - y0 + h*y3, y0,
		g, h, 1,
	}
}

func (m homography) apply(u, v float64) [2]float64 {
	w := m[6]*u + m[7]*v + m[8]
	return [2]float64{(m[0]*u + m[1]*v + m[2]) / w, (m[3]*u + m[4]*v + m[5]) / w}
}

// refine fits each side of c to the edge points along it (the strongest
// gradient across the side, to a fraction of a pixel) and moves the corners
// to where the fitted lines meet: the Hough bins are a pixel and a degree
// wide, too coarse for a hash window.
func (f *finder) refine(c *Quad) {
	var ls [4]line
	for i := 0; i < 4; i++ {
		ls[i] = f.fitSides(c[i], c[(i+1)%4])
	}
	var out Quad
	for i := 0; i < 4; i++ {
		p, ok := intersect(ls[(i+3)%4], ls[i])
		if !ok {
			return
		}
		out[i] = p
	}
	*c = out
}

// fitSides is refine's fit of the side a-b, once per frame.
func (f *finder) fitSides(a, b [2]float64) line {
	for _, s := range f.sc.sides {
		if s.a == a && s.b == b {
			return s.ln
		}
	}
	ln := f.fitSide(a, b, 3)
	ln = f.fitSideLine(ln, a, b, 2)
	ln = f.fitSideLine(ln, a, b, 1)
	f.sc.sides = append(f.sc.sides, fitted{a, b, ln})
	return ln
}

// fitSide fits a line to edge points within ±r of the segment a-b.
func (f *finder) fitSide(a, b [2]float64, r float64) line {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	nx, ny := -dy/l, dx/l
	return f.fit(a, b, nx, ny, r, line{theta: math.Atan2(ny, nx), rho: a[0]*nx + a[1]*ny})
}

func (f *finder) fitSideLine(ln line, a, b [2]float64, r float64) line {
	nx, ny := math.Cos(ln.theta), math.Sin(ln.theta)
	// Project the old corners onto the line, so the segment is the fitted one.
	pa := a[0]*nx + a[1]*ny - ln.rho
	pb := b[0]*nx + b[1]*ny - ln.rho
	a = [2]float64{a[0] - pa*nx, a[1] - pa*ny}
	b = [2]float64{b[0] - pb*nx, b[1] - pb*ny}
	return f.fit(a, b, nx, ny, r, ln)
}

func (f *finder) fit(a, b [2]float64, nx, ny, r float64, fallback line) line {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	// A sample every fourth working pixel:
	// the fit is to a fraction of a pixel all the same, and the outline is
	// fitted again on the frame (refineFull) before it is read. (Every
	// other pixel was no better over 2400 test photos; every sixth was
	// worse at the corners.)
	n := int(l) / 4
	var sx, sy, sxx, syy, sxy, sw float64
	const step = 0.5
	steps := int(r / step)
	// The taps' offsets across the side, once per side; the profile in a
	// fixed array (r up to 3), so the loop holds its floats in registers
	// with no growing slice's call to spill them around.
	nv := min(2*steps+1, 13)
	var offs [13][2]float64
	for i := range nv {
		k := float64(i - steps)
		offs[i] = [2]float64{k * step * nx, k * step * ny}
	}
	w, gxs, gys := f.w, f.gx, f.gy
	xmax, ymax := float64(f.w-2), float64(f.h-2)
	for s := 0; s < n; s++ {
		t := 0.08 + 0.84*(float64(s)+0.5)/float64(n)
		x, y := a[0]+t*dx, a[1]+t*dy
		// Strongest gradient across the side, with a parabola through its
		// neighbours for the sub-pixel position.
		// (across, written out: a call per tap cost more than its sums.)
		var buf [13]float64
		vals := buf[:nv]
		for i, o := range offs[:nv] {
			px, py := x+o[0], y+o[1]
			v := 0.0
			if px >= 1 && py >= 1 && px < xmax && py < ymax {
				x0, y0 := int(px), int(py)
				fx, fy := px-float64(x0), py-float64(y0)
				wx0, wx1 := 1-fx, 1-fx+(2*fx-1)
				wy0, wy1 := 1-fy, 1-fy+(2*fy-1)
				j := y0*w + x0
				g0, h0 := gxs[j:j+2:j+2], gys[j:j+2:j+2]
				g1, h1 := gxs[j+w:j+w+2:j+w+2], gys[j+w:j+w+2:j+w+2]
				v += wx0 * wy0 * math.Abs(float64(g0[0])*nx+float64(h0[0])*ny)
				v += wx1 * wy0 * math.Abs(float64(g0[1])*nx+float64(h0[1])*ny)
				v += wx0 * wy1 * math.Abs(float64(g1[0])*nx+float64(h1[0])*ny)
				v += wx1 * wy1 * math.Abs(float64(g1[1])*nx+float64(h1[1])*ny)
			}
			vals[i] = v
		}
		bi := 0
		for k, v := range vals {
			if v > vals[bi] {
				bi = k
			}
		}
		if vals[bi] < float64(f.thr) || bi == 0 || bi == len(vals)-1 {
			continue
		}
		den := vals[bi-1] - 2*vals[bi] + vals[bi+1]
		off := 0.0
		if den < 0 {
			off = 0.5 * (vals[bi-1] - vals[bi+1]) / den
		}
		d := (float64(bi-steps) + off) * step
		px, py := x+d*nx, y+d*ny
		w := vals[bi]
		sx += w * px
		sy += w * py
		sxx += w * px * px
		syy += w * py * py
		sxy += w * px * py
		sw += w
	}
	if sw == 0 {
		return fallback
	}
	mx, my := sx/sw, sy/sw
	cxx, cyy, cxy := sxx/sw-mx*mx, syy/sw-my*my, sxy/sw-mx*my
	// The normal is the eigenvector of the smaller eigenvalue.
	theta := 0.5*math.Atan2(2*cxy, cxx-cyy) + math.Pi/2
	ln := line{theta: theta, rho: mx*math.Cos(theta) + my*math.Sin(theta)}
	// Keep the fitted line only if it stays near the first guess.
	if dt, _ := lineGap(ln, fallback); dt > 4*math.Pi/180 {
		return fallback
	}
	return ln
}
