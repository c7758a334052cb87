package sheet

import (
	"image"
	"math"
	"math/rand/v2"
)

// PhotoOpts says how Photo takes its picture.
type PhotoOpts struct {
	Width, Height int     // the photo; 0 = 640×480
	Tilt          float64 // degrees of rotation of the sheet in the photo, clockwise
	Skew          float64 // 0..0.3: perspective (one edge nearer the camera)
	Fill          float64 // how much of the photo's height the sheet covers; 0 = 0.8
	Shadow        float64 // 0..1: darkness of a soft shadow across part of the sheet
	Noise         int     // sensor noise amplitude in grey levels
	Seed          uint64
}

// Model constants. Ink reflects about 6 % of what paper does; the shadow of
// Shadow 1 leaves 40 % of the light (a hand between a ceiling lamp and the
// table); the lens has a phone-like field of view of about 60°.
const (
	inkReflect    = 0.06
	shadowDepth   = 0.6
	focalPerPixel = 0.85 // focal length over the photo's longer side
)

func (o PhotoOpts) defaults() PhotoOpts {
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 640, 480
	}
	if o.Fill <= 0 {
		o.Fill = 0.8
	}
	o.Skew = math.Max(0, math.Min(o.Skew, 0.5))
	o.Shadow = math.Max(0, math.Min(o.Shadow, 1))
	o.Noise = max(0, o.Noise)
	return o
}

// photoHom returns the homography from paper pixels to photo pixels for a
// pw × ph paper, and o with the Fill it ended up with. The sheet lies on a
// table that is tilted away from the camera about the photo's horizontal
// axis, by as much as makes the far edge of the unrotated sheet 1-Skew
// times as wide as the near one; on the table it is turned by Tilt and
// moved off-centre a little (from Seed). A pinhole camera of focal length
// focalPerPixel·max(w, h) looks down the middle of the photo. With Fill
// below 1 the sheet is moved away from the camera until it lies wholly in
// the photo, 2 % in from its edges; a Fill of 1 or more may overflow it.
func photoHom(pw, ph int, o PhotoOpts) (mat3, PhotoOpts) {
	w, h := float64(o.Width), float64(o.Height)
	f := focalPerPixel * math.Max(w, h)
	r := rand.New(rand.NewPCG(o.Seed, 0x5ea7))
	dx, dy := (r.Float64()-0.5)*0.08*w, (r.Float64()-0.5)*0.08*h
	sa, ca := math.Sincos(o.Tilt * math.Pi / 180)
	q := o.Skew / (2 - o.Skew) // half the depth of the sheet over its distance
	build := func(fill float64) mat3 {
		th := math.Atan(2 * q * f / (fill * h * (1 - q*q)))
		st, ct := math.Sincos(th)
		z0 := f * ct * float64(ph) / (fill * h * (1 - q*q))
		ox, oy := dx*z0/f, dy*z0/(f*ct)
		cu, cv := float64(pw)/2, float64(ph)/2
		// (u, v, 1) → table (X, Y) → camera (X, Y cos θ, Z0 − Y sin θ).
		x := [3]float64{ca, -sa, -ca*cu + sa*cv + ox}
		y := [3]float64{sa, ca, -sa*cu - ca*cv + oy}
		cam := mat3{
			x[0], x[1], x[2],
			ct * y[0], ct * y[1], ct * y[2],
			-st * y[0], -st * y[1], z0 - st*y[2],
		}
		return mat3{f, 0, w / 2, 0, f, h / 2, 0, 0, 1}.mul(cam)
	}
	m := build(o.Fill)
	for i := 0; i < 80 && o.Fill < 1; i++ {
		c := cornersOf(m, pw, ph)
		in := true
		for _, p := range c {
			mx, my := 0.02*w, 0.02*h
			in = in && p.x >= mx && p.y >= my && p.x <= w-mx && p.y <= h-my
		}
		if in {
			break
		}
		o.Fill *= 0.97
		m = build(o.Fill)
	}
	return m, o
}

func cornersOf(m mat3, pw, ph int) quad {
	w, h := float64(pw), float64(ph)
	return quad{m.apply(pt{0, 0}), m.apply(pt{w, 0}), m.apply(pt{w, h}), m.apply(pt{0, h})}
}

// photoCorners returns where Photo puts the paper's corners (TL, TR, BR,
// BL) in the photo, in continuous pixel coordinates.
func photoCorners(paper image.Rectangle, o PhotoOpts) quad {
	m, _ := photoHom(paper.Dx(), paper.Dy(), o.defaults())
	return cornersOf(m, paper.Dx(), paper.Dy())
}

// Photo is a faithful model of the camera photographing paper on a table,
// used by this package's tests and by the simulator's camera: paper is
// placed on a darker textured table (wood, laminate, cutting mat or slate,
// chosen by Seed) with perspective (see photoHom), lit unevenly (light that
// falls off across the photo and towards its corners, a soft shadow across
// part of the sheet), blurred a little by the lens, with sensor noise; the
// result is w×h. White on paper becomes the paper's own off-white; black
// becomes ink, which still reflects a little. The same opts give the same
// photo.
func Photo(paper image.Image, o PhotoOpts) *image.RGBA {
	o = o.defaults()
	w, h := o.Width, o.Height
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	pb := paper.Bounds()
	pw, ph := pb.Dx(), pb.Dy()
	var hom, inv mat3
	ok := pw > 0 && ph > 0
	if ok {
		hom, o = photoHom(pw, ph, o)
		inv, ok = hom.inv()
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x9107))
	tab := newTable(r, w, h)
	lit := newLight(r, w, h, o.Shadow, hom, pw, ph)
	tint := [3]float64{236 + 4*r.Float64(), 234 + 4*r.Float64(), 226 + 6*r.Float64()}

	var mip *mipmap
	box := image.Rectangle{}
	if ok {
		c := cornersOf(hom, pw, ph)
		x0, y0, x1, y1 := c[0].x, c[0].y, c[0].x, c[0].y
		for _, p := range c[1:] {
			x0, y0 = math.Min(x0, p.x), math.Min(y0, p.y)
			x1, y1 = math.Max(x1, p.x), math.Max(y1, p.y)
		}
		box = image.Rect(int(x0)-1, int(y0)-1, int(x1)+2, int(y1)+2).Intersect(img.Rect)
		// Paper pixels per photo pixel where the sheet is nearest: the
		// paper is box-reduced by that whole factor so that bilinear
		// taps do not skip pen strokes.
		near := math.Max(c[3].dist(c[2])/float64(pw), c[0].dist(c[3])/float64(ph))
		mip = newMipmap(paper, max(1, int(1/near)))
	}
	sub := [4]pt{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			t := tab.at(x, y)
			var c [3]float64
			if image.Pt(x, y).In(box) {
				for _, s := range sub {
					p := inv.apply(pt{float64(x) + s.x, float64(y) + s.y})
					if p.x < 0 || p.y < 0 || p.x >= float64(pw) || p.y >= float64(ph) {
						c[0], c[1], c[2] = c[0]+t[0], c[1]+t[1], c[2]+t[2]
						continue
					}
					v := mip.at(p.x, p.y)
					for k := range c {
						c[k] += tint[k] * (inkReflect + (1-inkReflect)*v[k]/255)
					}
				}
				c[0], c[1], c[2] = c[0]/4, c[1]/4, c[2]/4
			} else {
				c = t
			}
			g := lit.at(x, y)
			for k := range c {
				row[4*x+k] = uint8(math.Min(255, c[k]*g+0.5))
			}
			row[4*x+3] = 255
		}
	}
	blur121(img)
	addNoise(img, r, o.Noise)
	return img
}

// table is a table top's colour field: a base colour, broad blotches, a
// grain in one direction and fine speckle, all value noise.
type table struct {
	base          [3]float64
	blotch, grain *lattice
	fine          *lattice
	ca, sa        float64 // grain direction
	gs            float64 // grain strength
}

func newTable(r *rand.Rand, w, h int) *table {
	tops := [...]struct {
		c     [3]float64
		grain float64
	}{
		{[3]float64{150, 104, 66}, 0.22},  // oak
		{[3]float64{96, 64, 42}, 0.25},    // walnut
		{[3]float64{112, 110, 106}, 0.05}, // grey laminate
		{[3]float64{52, 96, 72}, 0.03},    // green cutting mat
		{[3]float64{70, 78, 92}, 0.08},    // slate
	}
	top := tops[r.IntN(len(tops))]
	s := float64(max(w, h))
	a := r.Float64() * math.Pi
	t := &table{base: top.c, gs: top.grain, ca: math.Cos(a), sa: math.Sin(a)}
	t.blotch = newLattice(r, s*1.5, s*1.5, s/3, s/3)
	t.grain = newLattice(r, s*4, s*4, s/4, s/150)
	t.fine = newLattice(r, s, s, math.Max(2, s/300), math.Max(2, s/300))
	for k := range t.base {
		t.base[k] *= 0.85 + 0.3*r.Float64()
	}
	return t
}

func (t *table) at(x, y int) [3]float64 {
	fx, fy := float64(x), float64(y)
	// Grain runs along (ca, sa): stretched noise in rotated coordinates,
	// shifted to stay inside the lattice.
	u := fx*t.ca + fy*t.sa
	v := -fx*t.sa + fy*t.ca
	k := 1 + 0.18*t.blotch.at(fx, fy) + t.gs*t.grain.at(u+t.grain.w/2, v+t.grain.h/2) + 0.06*t.fine.at(fx, fy)
	return [3]float64{t.base[0] * k, t.base[1] * k, t.base[2] * k}
}

// lattice is value noise: random values in [-1, 1] on a grid of cw × ch
// cells, interpolated smoothly.
type lattice struct {
	w, h   float64 // extent covered, in pixels
	cw, ch float64
	gw     int
	v      []float64
}

func newLattice(r *rand.Rand, w, h, cw, ch float64) *lattice {
	gw, gh := int(w/cw)+3, int(h/ch)+3
	l := &lattice{w: w, h: h, cw: cw, ch: ch, gw: gw, v: make([]float64, gw*gh)}
	for i := range l.v {
		l.v[i] = 2*r.Float64() - 1
	}
	return l
}

func (l *lattice) at(x, y float64) float64 {
	gx := math.Max(0, math.Min(x/l.cw, float64(l.gw-2)-1e-9))
	gy := math.Max(0, math.Min(y/l.ch, float64(len(l.v)/l.gw-2)-1e-9))
	i, j := int(gx), int(gy)
	tx, ty := smooth(gx-float64(i)), smooth(gy-float64(j))
	o := j*l.gw + i
	a := l.v[o] + (l.v[o+1]-l.v[o])*tx
	b := l.v[o+l.gw] + (l.v[o+l.gw+1]-l.v[o+l.gw])*tx
	return a + (b-a)*ty
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// light is the illumination: a linear falloff across the photo in a random
// direction, vignetting, and a soft-edged shadow whose edge crosses the
// sheet near its middle.
type light struct {
	cx, cy, span float64
	lc, ls       float64 // falloff direction
	fall         float64
	sx, sy       float64 // a point on the shadow's edge
	nc, ns       float64 // the edge's normal, pointing into the shadow
	soft, depth  float64
}

func newLight(r *rand.Rand, w, h int, shadow float64, hom mat3, pw, ph int) *light {
	a := r.Float64() * 2 * math.Pi
	l := &light{
		cx: float64(w) / 2, cy: float64(h) / 2, span: math.Hypot(float64(w), float64(h)) / 2,
		lc: math.Cos(a), ls: math.Sin(a), fall: 0.1 + 0.1*r.Float64(),
		soft: 0.03 * float64(max(w, h)), depth: shadowDepth * shadow,
	}
	centre := pt{l.cx, l.cy}
	size := float64(h) / 2
	if pw > 0 && ph > 0 {
		c := cornersOf(hom, pw, ph)
		centre = c[0].lerp(c[2], 0.5)
		size = c[0].dist(c[2]) / 2
	}
	b := r.Float64() * 2 * math.Pi
	l.nc, l.ns = math.Cos(b), math.Sin(b)
	off := (r.Float64() - 0.5) * 0.3 * size
	l.sx, l.sy = centre.x+off*l.nc, centre.y+off*l.ns
	return l
}

func (l *light) at(x, y int) float64 {
	fx, fy := float64(x)+0.5-l.cx, float64(y)+0.5-l.cy
	g := 1 + l.fall*(fx*l.lc+fy*l.ls)/l.span
	g *= 1 - 0.2*(fx*fx+fy*fy)/(l.span*l.span)
	if l.depth > 0 {
		d := ((float64(x)+0.5-l.sx)*l.nc + (float64(y)+0.5-l.sy)*l.ns) / l.soft
		t := math.Max(0, math.Min(1, (d+1)/2))
		g *= 1 - l.depth*smooth(t)
	}
	return g
}

// mipmap is the paper box-reduced by a whole factor, RGB, sampled bilinearly.
type mipmap struct {
	k    float64 // paper pixels per mip pixel
	w, h int
	p    []uint8
}

func newMipmap(paper image.Image, k int) *mipmap {
	b := paper.Bounds()
	w, h := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	m := &mipmap{k: float64(k), w: w, h: h, p: make([]uint8, 3*w*h)}
	read := rgbRow(paper)
	row := make([]uint8, 3*b.Dx())
	sum := make([]uint32, 3*w)
	for my := 0; my < h; my++ {
		clear(sum)
		n := 0
		for y := b.Min.Y + my*k; y < min(b.Max.Y, b.Min.Y+(my+1)*k); y++ {
			read(y, b.Min.X, row)
			for x := 0; x < b.Dx(); x++ {
				for c := 0; c < 3; c++ {
					sum[3*(x/k)+c] += uint32(row[3*x+c])
				}
			}
			n++
		}
		for mx := 0; mx < w; mx++ {
			cnt := uint32(n * (min(b.Dx(), (mx+1)*k) - mx*k))
			for c := 0; c < 3; c++ {
				m.p[3*(my*w+mx)+c] = uint8(sum[3*mx+c] / cnt)
			}
		}
	}
	return m
}

// at samples the paper at (u, v) in paper pixels.
func (m *mipmap) at(u, v float64) [3]float64 {
	x := math.Max(0, math.Min(u/m.k-0.5, float64(m.w-1)))
	y := math.Max(0, math.Min(v/m.k-0.5, float64(m.h-1)))
	i, j := int(x), int(y)
	i1, j1 := min(i+1, m.w-1), min(j+1, m.h-1)
	tx, ty := x-float64(i), y-float64(j)
	var c [3]float64
	for k := 0; k < 3; k++ {
		a := float64(m.p[3*(j*m.w+i)+k])*(1-tx) + float64(m.p[3*(j*m.w+i1)+k])*tx
		b := float64(m.p[3*(j1*m.w+i)+k])*(1-tx) + float64(m.p[3*(j1*m.w+i1)+k])*tx
		c[k] = a + (b-a)*ty
	}
	return c
}

// blur121 softens img in place with a [1 2 1]/4 kernel each way: the lens
// and the demosaicing of a small camera.
func blur121(img *image.RGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < 3 || h < 3 {
		return
	}
	tmp := make([]uint8, 4*w)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		copy(tmp, row)
		for x := 1; x < w-1; x++ {
			for k := 0; k < 3; k++ {
				row[4*x+k] = uint8((uint32(tmp[4*x-4+k]) + 2*uint32(tmp[4*x+k]) + uint32(tmp[4*x+4+k]) + 2) / 4)
			}
		}
	}
	prev := make([]uint8, 4*w)
	cur := make([]uint8, 4*w)
	copy(prev, img.Pix[:4*w])
	for y := 1; y < h-1; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		next := img.Pix[(y+1)*img.Stride : (y+1)*img.Stride+4*w]
		copy(cur, row)
		for i := range row {
			row[i] = uint8((uint32(prev[i]) + 2*uint32(cur[i]) + uint32(next[i]) + 2) / 4)
		}
		prev, cur = cur, prev
	}
}

// addNoise adds sensor noise of standard deviation n grey levels to every
// channel (a sum of two uniforms: near enough a gaussian, and cheap).
func addNoise(img *image.RGBA, r *rand.Rand, n int) {
	if n <= 0 {
		return
	}
	k := float64(n) * math.Sqrt(6) / 1024
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*img.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			u := r.Uint64()
			for c := 0; c < 3; c++ {
				s := float64(int(u&0x3ff)+int(u>>10&0x3ff)-1023) * k
				u >>= 20
				row[i+c] = uint8(math.Max(0, math.Min(255, float64(row[i+c])+s+0.5)))
			}
		}
	}
}
