package main

import (
	"math"

	"github.com/fogleman/gg"
)

// pen draws in units: the canvas is 100 units tall (u = h/100 pixels), as
// wide as its aspect says. Line widths stay in pixels whatever the scale.
type pen struct {
	dc   *gg.Context
	w, h float64
	set  bool
}

func (p *pen) unit() {
	if !p.set {
		p.dc.Scale(p.h/100, p.h/100)
		p.set = true
	}
}

// W is the canvas width in units.
func (p *pen) W() float64 { return p.w / p.h * 100 }

// shape fills the path built by f with paper and outlines it in ink.
func (p *pen) shape(f func()) {
	p.unit()
	f()
	p.dc.SetColor(paper)
	p.dc.FillPreserve()
	p.dc.SetColor(ink)
	p.dc.SetLineWidth(thick)
	p.dc.Stroke()
}

// solid fills the path in ink.
func (p *pen) solid(f func()) {
	p.unit()
	f()
	p.dc.SetColor(ink)
	p.dc.Fill()
}

// line strokes the path built by f in ink at width px.
func (p *pen) line(width float64, f func()) {
	p.unit()
	f()
	p.dc.SetColor(ink)
	p.dc.SetLineWidth(width)
	p.dc.Stroke()
}

func (p *pen) seg(width, x1, y1, x2, y2 float64) {
	p.line(width, func() { p.dc.MoveTo(x1, y1); p.dc.LineTo(x2, y2) })
}

func (p *pen) circle(x, y, r float64) { p.shape(func() { p.dc.DrawCircle(x, y, r) }) }
func (p *pen) dot(x, y, r float64)    { p.solid(func() { p.dc.DrawCircle(x, y, r) }) }

func (p *pen) rrect(x, y, w, h, r float64) {
	p.shape(func() { p.dc.DrawRoundedRectangle(x, y, w, h, r) })
}

// eye is a white eyeball with a pupil looking (dx, dy).
func (p *pen) eye(x, y, r, dx, dy float64) {
	p.shape(func() { p.dc.DrawCircle(x, y, r) })
	p.dot(x+dx, y+dy, r*0.45)
}

// closedEye is a sleeping arc.
func (p *pen) closedEye(x, y, r float64) {
	p.line(thin, func() { p.dc.DrawArc(x, y, r, 0.15*math.Pi, 0.85*math.Pi) })
}

// zzz draws sleeping Zs rising to the upper right.
func (p *pen) zzz(x, y, s float64) {
	for i, k := range []float64{1, 0.75, 0.55} {
		cx, cy := x+float64(i)*s*1.1, y-float64(i)*s*1.2
		z := s * k
		p.line(thin, func() {
			p.dc.MoveTo(cx, cy)
			p.dc.LineTo(cx+z, cy)
			p.dc.LineTo(cx, cy+z)
			p.dc.LineTo(cx+z, cy+z)
		})
	}
}

// bang is an exclamation mark.
func (p *pen) bang(x, y, s float64) {
	p.solid(func() {
		p.dc.MoveTo(x-s*0.18, y)
		p.dc.LineTo(x+s*0.18, y)
		p.dc.LineTo(x+s*0.07, y+s*0.7)
		p.dc.LineTo(x-s*0.07, y+s*0.7)
		p.dc.ClosePath()
	})
	p.dot(x, y+s*0.88, s*0.1)
}

// heart is a filled heart centred on (x, y).
func (p *pen) heart(x, y, s float64, filled bool) {
	f := func() {
		p.dc.MoveTo(x, y+s*0.45)
		p.dc.CubicTo(x-s*0.9, y-s*0.1, x-s*0.4, y-s*0.8, x, y-s*0.25)
		p.dc.CubicTo(x+s*0.4, y-s*0.8, x+s*0.9, y-s*0.1, x, y+s*0.45)
		p.dc.ClosePath()
	}
	if filled {
		p.solid(f)
	} else {
		p.shape(f)
	}
}

// motion draws speed lines trailing to the left of (x, y).
func (p *pen) motion(x, y, length, gap float64, n int) {
	for i := 0; i < n; i++ {
		yy := y + float64(i)*gap
		off := float64(i%2) * length * 0.25
		p.seg(thin, x-off, yy, x-off-length, yy)
	}
}

// waves draws a band of scalloped water from x0 to x1 at y.
func (p *pen) waves(x0, x1, y, a float64) {
	p.line(thick, func() {
		p.dc.MoveTo(x0, y)
		for x := x0; x < x1; x += 4 * a {
			p.dc.QuadraticTo(x+a, y-a, x+2*a, y)
			p.dc.QuadraticTo(x+3*a, y+a*0.6, x+4*a, y)
		}
	})
}

// grass draws tufts along y.
func (p *pen) grass(x0, x1, y float64) {
	for x := x0; x < x1; x += 9 {
		p.line(thin, func() {
			p.dc.MoveTo(x, y)
			p.dc.LineTo(x+1.5, y-4)
			p.dc.MoveTo(x+2.5, y)
			p.dc.LineTo(x+4.5, y-5)
		})
	}
}

// rotate runs f rotated by deg degrees about (x, y).
func (p *pen) rotate(deg, x, y float64, f func()) {
	p.unit()
	p.dc.Push()
	p.dc.RotateAbout(gg.Radians(deg), x, y)
	f()
	p.dc.Pop()
}
