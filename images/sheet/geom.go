package sheet

import "math"

// pt is a point in continuous pixel coordinates: pixel (i, j) covers
// [i, i+1) × [j, j+1), so its centre is (i+0.5, j+0.5).
type pt struct{ x, y float64 }

func (p pt) sub(q pt) pt             { return pt{p.x - q.x, p.y - q.y} }
func (p pt) add(q pt) pt             { return pt{p.x + q.x, p.y + q.y} }
func (p pt) scale(k float64) pt      { return pt{p.x * k, p.y * k} }
func (p pt) cross(q pt) float64      { return p.x*q.y - p.y*q.x }
func (p pt) dot(q pt) float64        { return p.x*q.x + p.y*q.y }
func (p pt) dist(q pt) float64       { return math.Hypot(p.x-q.x, p.y-q.y) }
func (p pt) lerp(q pt, t float64) pt { return pt{p.x + (q.x-p.x)*t, p.y + (q.y-p.y)*t} }

// quad is a sheet outline: top-left, top-right, bottom-right, bottom-left.
type quad [4]pt

// area is the quad's area, positive when its corners run clockwise on
// screen (y down), as TL, TR, BR, BL do.
func (q quad) area() float64 {
	var a float64
	for i := range q {
		a += q[i].cross(q[(i+1)%4])
	}
	return a / 2
}

// convex reports whether q turns the same way at every corner.
func (q quad) convex() bool {
	for i := range q {
		a, b, c := q[i], q[(i+1)%4], q[(i+2)%4]
		if b.sub(a).cross(c.sub(b)) <= 0 {
			return false
		}
	}
	return true
}

// mat3 is a 3×3 row-major matrix acting on homogeneous points: a homography.
type mat3 [9]float64

func (a mat3) mul(b mat3) mat3 {
	var c mat3
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

// inv returns the inverse of m; ok is false when m is singular.
func (m mat3) inv() (mat3, bool) {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return mat3{}, false
	}
	return mat3{
		(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det,
		(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det,
		(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det,
	}, true
}

func (m mat3) apply(p pt) pt {
	z := m[6]*p.x + m[7]*p.y + m[8]
	return pt{(m[0]*p.x + m[1]*p.y + m[2]) / z, (m[3]*p.x + m[4]*p.y + m[5]) / z}
}

// rectToQuad returns the homography taking the rectangle (0, 0)–(w, h) to q,
// corner to corner (Heckbert's square-to-quad mapping, scaled).
func rectToQuad(w, h float64, q quad) mat3 {
	p0, p1, p2, p3 := q[0], q[1], q[2], q[3]
	sx := p0.x - p1.x + p2.x - p3.x
	sy := p0.y - p1.y + p2.y - p3.y
	dx1, dx2 := p1.x-p2.x, p3.x-p2.x
	dy1, dy2 := p1.y-p2.y, p3.y-p2.y
	var g, hh float64
	if den := dx1*dy2 - dx2*dy1; den != 0 {
		g = (sx*dy2 - dx2*sy) / den
		hh = (dx1*sy - sx*dy1) / den
	}
	sq := mat3{
		p1.x - p0.x + g*p1.x, p3.x - p0.x + hh*p3.x, p0.x,
		p1.y - p0.y + g*p1.y, p3.y - p0.y + hh*p3.y, p0.y,
		g, hh, 1,
	}
	return sq.mul(mat3{1 / w, 0, 0, 0, 1 / h, 0, 0, 0, 1})
}

// aspect estimates the width/height ratio (TL→TR over TL→BL) of the real
// rectangle whose photo is q, for a pinhole camera whose optical axis meets
// the photo at c. The edge lengths alone are off by the foreshortening
// (a sheet photographed at 30° from the vertical looks 14 % shorter); Zhang
// and He's method ("Whiteboard scanning and image enhancement", 2007) takes
// it out by recovering the focal length from the quad's two vanishing
// points. When those are too near infinity to tell it (little perspective)
// or it comes out implausible, a phone-like focal length of focal pixels is
// assumed, which changes little in exactly those cases.
func aspect(q quad, c pt, focal float64) float64 {
	type v3 [3]float64
	m := func(p pt) v3 { return v3{p.x - c.x, p.y - c.y, 1} }
	cross := func(a, b v3) v3 {
		return v3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
	}
	dot := func(a, b v3) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
	m1, m2, m3, m4 := m(q[0]), m(q[1]), m(q[3]), m(q[2]) // TL, TR, BL, BR
	c14 := cross(m1, m4)
	d2, d3 := dot(cross(m2, m4), m3), dot(cross(m3, m4), m2)
	edges := func() float64 {
		w := (q[0].dist(q[1]) + q[3].dist(q[2])) / 2
		h := (q[0].dist(q[3]) + q[1].dist(q[2])) / 2
		return w / h
	}
	if d2 == 0 || d3 == 0 {
		return edges()
	}
	k2, k3 := dot(c14, m3)/d2, dot(c14, m2)/d3
	n2 := v3{k2*m2[0] - m1[0], k2*m2[1] - m1[1], k2*m2[2] - m1[2]}
	n3 := v3{k3*m3[0] - m1[0], k3*m3[1] - m1[1], k3*m3[2] - m1[2]}
	f2 := focal * focal
	if zz := n2[2] * n3[2]; math.Abs(zz) > 1e-6 {
		if est := -(n2[0]*n3[0] + n2[1]*n3[1]) / zz; est > f2/9 && est < 9*f2 {
			f2 = est
		}
	}
	num := (n2[0]*n2[0]+n2[1]*n2[1])/f2 + n2[2]*n2[2]
	den := (n3[0]*n3[0]+n3[1]*n3[1])/f2 + n3[2]*n3[2]
	r := math.Sqrt(num / den)
	if math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
		return edges()
	}
	return r
}

// snapRatio returns the standard paper ratio (or its inverse) within 4 % of
// r, or r itself: the estimate is good to a few per cent, and a drawing is
// better off on its sheet's true proportions than on the estimate's.
func snapRatio(r float64) float64 {
	for _, s := range [...]float64{math.Sqrt2, 11 / 8.5} { // ISO A, US letter
		for _, c := range [2]float64{s, 1 / s} {
			if math.Abs(r/c-1) < 0.04 {
				return c
			}
		}
	}
	return r
}
