package comic

import (
	"image"
	"image/color"
	"math"

	"github.com/fogleman/gg"
)

// Dots and hatching cover a whole panel: drawn by gg's DrawCircle and
// Stroke they were most of a yonkoma's print on a Pi Zero (thousands of
// circles, each 96 sines and cosines in software floating point; long
// strokes rasterised cell by cell).

// drawDots is the halftone: dots of radius rad every step, odd rows offset
// by half a step. The circles are gg's (DrawCircle: sixteen quadratic arcs)
// to the bit, rasterised by gg as one path, but their arcs' sines and
// cosines are computed once, not 96 times a dot: in software floating point
// they were most of the texture's time.
func drawDots(dst *image.RGBA, step, rad float64) {
	const n = 16
	var arc [n][6]float64 // cos, sin of each arc's start, middle and end
	for i := range n {
		a1 := 2 * math.Pi * (float64(i) / n)
		a2 := 2 * math.Pi * (float64(i+1) / n)
		m := (a1 + a2) / 2
		arc[i] = [6]float64{math.Cos(a1), math.Sin(a1), math.Cos(m), math.Sin(m), math.Cos(a2), math.Sin(a2)}
	}
	dc := gg.NewContextForRGBA(dst)
	dc.SetColor(color.Black)
	w, h := float64(dst.Rect.Dx()), float64(dst.Rect.Dy())
	for y, row := step/2, 0; y < h; y, row = y+step, row+1 {
		off := 0.0
		if row%2 == 1 {
			off = step / 2
		}
		for x := step/2 + off; x < w; x += step {
			dc.NewSubPath()
			for i, c := range arc {
				x0, y0 := x+rad*c[0], y+rad*c[1]
				x1, y1 := x+rad*c[2], y+rad*c[3]
				x2, y2 := x+rad*c[4], y+rad*c[5]
				if i == 0 {
					dc.MoveTo(x0, y0)
				}
				dc.QuadraticTo(2*x1-x0/2-x2/2, 2*y1-y0/2-y2/2, x2, y2)
			}
			dc.ClosePath()
		}
	}
	dc.Fill()
}

// mulLevel is a·b/255, rounded (exact when a is 255), without a divide.
func mulLevel(a uint8, b uint32) uint8 {
	return uint8((uint32(a)*b*257 + 0x8080) >> 16)
}

// drawHatch is diagonal hatching: lines of width lw from the bottom edge
// up to the right, every step along the bottom, from x = -h. A pixel's
// ink depends only on its diagonal x+y, so it is one table of the lines'
// exact coverage, looked up per pixel: within a few levels of gg's stroke
// inside, its round caps and clipping aside at the panel's edge (under the
// frame).
func drawHatch(dst *image.RGBA, step, lw float64) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	if w == 0 || h == 0 {
		return
	}
	// Line k is u = x+y = k·step; it covers |u − k·step| ≤ lw/√2. Over a
	// pixel's square [s, s+2) u is spread as a tent: its coverage is the
	// tent's integral over the line's span.
	half := lw / math.Sqrt2
	cov := make([]float64, w+h-1)
	for c := 0.0; c < float64(w+h); c += step {
		for s := max(0, int(math.Floor(c-half))-2); s <= min(len(cov)-1, int(math.Ceil(c+half))); s++ {
			cov[s] += tent(c+half-float64(s)) - tent(c-half-float64(s))
		}
	}
	// The grey on white paper, rounded as gg's painter rounds.
	grey := make([]uint8, len(cov))
	for s, a := range cov {
		const m = 1<<16 - 1
		ma := uint32(math.Round(min(1, max(0, a)) * m))
		grey[s] = uint8((255 * ((m - ma) * 0x101)) / m >> 8)
	}
	for y := range h {
		o := dst.Pix[y*dst.Stride:][:w*4]
		g := grey[y : y+w]
		for x, v := range g {
			if v != 0xff {
				p := o[x*4 : x*4+3 : x*4+3]
				p[0], p[1], p[2] = mulLevel(p[0], uint32(v)), mulLevel(p[1], uint32(v)), mulLevel(p[2], uint32(v))
			}
		}
	}
}

// tent is the share of a unit square whose x+y, from its corner, is below t.
func tent(t float64) float64 {
	switch {
	case t <= 0:
		return 0
	case t <= 1:
		return t * t / 2
	case t < 2:
		return 1 - (2-t)*(2-t)/2
	}
	return 1
}
