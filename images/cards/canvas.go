package cards

import (
	"image"
	"math"
)

// rgb is a colour in 0..255 per channel, kept in floats so layers blend
// without banding.
type rgb [3]float32

func (c rgb) scale(k float32) rgb { return rgb{c[0] * k, c[1] * k, c[2] * k} }

func mix(a, b rgb, t float32) rgb {
	return rgb{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t, a[2] + (b[2]-a[2])*t}
}

// canvas is an RGB float image the face is painted on before it is
// quantised once into an *image.RGBA.
type canvas struct {
	w, h int
	p    []float32       // 3 per pixel, row-major
	lim  image.Rectangle // drawing is clipped to it
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, p: make([]float32, 3*w*h), lim: image.Rect(0, 0, w, h)}
}

// blend puts col over pixel (x, y) with opacity a; x, y must be inside.
func (c *canvas) blend(x, y int, col rgb, a float32) {
	o := 3 * (y*c.w + x)
	p := c.p[o : o+3 : o+3]
	p[0] += (col[0] - p[0]) * a
	p[1] += (col[1] - p[1]) * a
	p[2] += (col[2] - p[2]) * a
}

func (c *canvas) clip(r image.Rectangle) image.Rectangle {
	return r.Intersect(c.lim)
}

func (c *canvas) fill(r image.Rectangle, col rgb, a float32) {
	r = c.clip(r)
	if a >= 1 {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			row := c.p[3*(y*c.w+r.Min.X) : 3*(y*c.w+r.Max.X)]
			for i := 0; i < len(row); i += 3 {
				row[i], row[i+1], row[i+2] = col[0], col[1], col[2]
			}
		}
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c.blend(x, y, col, a)
		}
	}
}

// mask paints col through an alpha mask whose top-left lands on (x, y).
func (c *canvas) mask(x, y int, m *image.Alpha, col rgb) {
	r := c.clip(m.Rect.Add(image.Pt(x, y)))
	for py := r.Min.Y; py < r.Max.Y; py++ {
		row := m.Pix[(py-y)*m.Stride:]
		for px := r.Min.X; px < r.Max.X; px++ {
			if a := row[px-x]; a != 0 {
				c.blend(px, py, col, float32(a)/255)
			}
		}
	}
}

// shape paints col with opacity a wherever the signed distance d (pixels,
// positive inside) says so, over the box [x0, x1) x [y0, y1). soft widens
// the anti-aliased edge into a feather of that many pixels.
func (c *canvas) shape(x0, y0, x1, y1 float64, soft float64, col rgb, a float32, d func(x, y float64) float64) {
	r := c.clip(image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))))
	inv := 1 / math.Max(soft, 1)
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			k := d(float64(px)+0.5, float64(py)+0.5)*inv + 0.5
			if k <= 0 {
				continue
			}
			if k > 1 {
				k = 1
			}
			c.blend(px, py, col, a*float32(k))
		}
	}
}

// roundRect paints a rectangle with corners of radius rad. Only the corner
// squares need the distance function: the rest is covered fully.
func (c *canvas) roundRect(r image.Rectangle, rad float64, col rgb, a float32) {
	x0, y0, x1, y1 := float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)
	k := int(math.Ceil(rad))
	in := r.Inset(k)
	c.fill(image.Rect(in.Min.X, r.Min.Y, in.Max.X, r.Max.Y), col, a)
	c.fill(image.Rect(r.Min.X, in.Min.Y, in.Min.X, in.Max.Y), col, a)
	c.fill(image.Rect(in.Max.X, in.Min.Y, r.Max.X, in.Max.Y), col, a)
	d := func(x, y float64) float64 { return roundRectDist(x, y, x0, y0, x1, y1, rad) }
	for _, q := range []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, in.Min.X, in.Min.Y), image.Rect(in.Max.X, r.Min.Y, r.Max.X, in.Min.Y),
		image.Rect(r.Min.X, in.Max.Y, in.Min.X, r.Max.Y), image.Rect(in.Max.X, in.Max.Y, r.Max.X, r.Max.Y),
	} {
		c.shape(float64(q.Min.X), float64(q.Min.Y), float64(q.Max.X), float64(q.Max.Y), 1, col, a, d)
	}
}

// roundRectDist is the signed distance of (x, y) to the rounded rectangle,
// positive inside.
func roundRectDist(x, y, x0, y0, x1, y1, rad float64) float64 {
	cx, cy := (x0+x1)/2, (y0+y1)/2
	hx, hy := (x1-x0)/2-rad, (y1-y0)/2-rad
	qx, qy := math.Abs(x-cx)-hx, math.Abs(y-cy)-hy
	mx, my := math.Max(qx, 0), math.Max(qy, 0)
	out := math.Sqrt(mx*mx+my*my) + math.Min(math.Max(qx, qy), 0)
	return rad - out
}

func (c *canvas) disc(cx, cy, rad, soft float64, col rgb, a float32) {
	c.ellipse(cx, cy, rad, rad, 0, soft, col, a)
}

// ellipse paints an ellipse with radii rx, ry turned by th radians, its
// edge feathered over soft pixels. It is the painter's workhorse, so it
// walks its bounding box incrementally instead of calling shape.
func (c *canvas) ellipse(cx, cy, rx, ry, th, soft float64, col rgb, a float32) {
	s, co := math.Sincos(th)
	// The turned ellipse's own bounding box: much smaller than the circle
	// round it when the ellipse is long.
	soft = math.Max(soft, 1)
	ex := math.Sqrt(rx*co*rx*co+ry*s*ry*s) + soft
	ey := math.Sqrt(rx*s*rx*s+ry*co*ry*co) + soft
	r := c.clip(image.Rect(int(math.Floor(cx-ex)), int(math.Floor(cy-ey)), int(math.Ceil(cx+ex)), int(math.Ceil(cy+ey))))
	rmin := math.Min(rx, ry)
	// Coverage is (1 - |(u, v)|) * rmin / soft + 0.5 clamped to [0, 1].
	kin := 1 - 0.5*soft/rmin  // |(u,v)| below this: fully covered
	kout := 1 + 0.5*soft/rmin // above this: not covered
	kin2, kout2 := kin*kin, kout*kout
	if kin < 0 {
		kin2 = -1
	}
	du, dv := co/rx, -s/ry
	for py := r.Min.Y; py < r.Max.Y; py++ {
		dx, dy := float64(r.Min.X)+0.5-cx, float64(py)+0.5-cy
		u, v := (co*dx+s*dy)/rx, (-s*dx+co*dy)/ry
		for px := r.Min.X; px < r.Max.X; px++ {
			q := u*u + v*v
			u += du
			v += dv
			if q >= kout2 {
				continue
			}
			if q <= kin2 {
				c.blend(px, py, col, a)
				continue
			}
			k := (1-math.Sqrt(q))*rmin/soft + 0.5
			c.blend(px, py, col, a*float32(min(max(k, 0), 1)))
		}
	}
}

// poly paints a convex polygon given clockwise (on screen) vertices; its
// distance is the smallest of the edges' distances, stepped along rows.
func (c *canvas) poly(pts [][2]float64, soft float64, col rgb, a float32) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	type edge struct{ x, y, nx, ny float64 }
	es := make([]edge, len(pts))
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		dx, dy := q[0]-p[0], q[1]-p[1]
		l := math.Sqrt(dx*dx + dy*dy)
		if l == 0 {
			l = 1
		}
		es[i] = edge{p[0], p[1], -dy / l, dx / l}
		x0, y0, x1, y1 = math.Min(x0, p[0]), math.Min(y0, p[1]), math.Max(x1, p[0]), math.Max(y1, p[1])
	}
	soft = math.Max(soft, 1)
	r := c.clip(image.Rect(int(math.Floor(x0-soft)), int(math.Floor(y0-soft)), int(math.Ceil(x1+soft)), int(math.Ceil(y1+soft))))
	d := make([]float64, len(es))
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for i, e := range es {
			d[i] = (float64(r.Min.X)+0.5-e.x)*e.nx + (float64(py)+0.5-e.y)*e.ny
		}
		for px := r.Min.X; px < r.Max.X; px++ {
			m := math.Inf(1)
			for i := range d {
				m = math.Min(m, d[i])
				d[i] += es[i].nx
			}
			k := m/soft + 0.5
			if k <= 0 {
				continue
			}
			c.blend(px, py, col, a*float32(math.Min(k, 1)))
		}
	}
}

// line paints a thick segment with round caps.
func (c *canvas) line(ax, ay, bx, by, width, soft float64, col rgb, a float32) {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		l2 = 1
	}
	hw := width / 2
	m := hw + soft
	c.shape(math.Min(ax, bx)-m, math.Min(ay, by)-m, math.Max(ax, bx)+m, math.Max(ay, by)+m, soft, col, a, func(x, y float64) float64 {
		t := math.Max(0, math.Min(1, ((x-ax)*dx+(y-ay)*dy)/l2))
		ex, ey := x-ax-t*dx, y-ay-t*dy
		return hw - math.Sqrt(ex*ex+ey*ey)
	})
}

// rgba quantises the canvas.
func (c *canvas) rgba() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	pix, src := img.Pix, c.p
	for i, j := 0, 0; i+2 < len(src) && j+3 < len(pix); i, j = i+3, j+4 {
		pix[j] = clamp8(src[i])
		pix[j+1] = clamp8(src[i+1])
		pix[j+2] = clamp8(src[i+2])
		pix[j+3] = 255
	}
	return img
}

func clamp8(v float32) uint8 {
	n := int32(v + 0.5)
	if uint32(n) > 255 {
		if n < 0 {
			return 0
		}
		return 255
	}
	return uint8(n)
}
