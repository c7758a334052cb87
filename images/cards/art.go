package cards

import (
	"image"
	"math"
	"math/rand/v2"
)

// paintArt paints the illustration for seed into region of cv: a sky and
// ground gradient, noise-mottled colour fields, soft cloud masses, a ridge,
// a central subject, dozens of overlapping soft shapes and brush strokes and
// a fine canvas grain, so different seeds differ at all spatial frequencies
// like paintings do. The painting is defined over the whole face in face
// coordinates and region only clips it: the art box of a bordered card and
// the same area of a borderless one are the same picture.
func paintArt(cv *canvas, region image.Rectangle, seed uint64) {
	old := cv.lim
	cv.lim = region.Intersect(old)
	defer func() { cv.lim = old }()
	r := cv.lim
	rnd := rand.New(rand.NewPCG(seed, seed>>17|1))
	pal := palette(rnd)
	art := FaceLayout(BorderBlack).Art
	ax, ay := float64(art.Min.X), float64(art.Min.Y)
	aw, ah := float64(art.Dx()), float64(art.Dy())

	// Background: sky to horizon to ground, colour mixed by large-scale
	// noise and modulated by medium-scale noise.
	horizon := ay + ah*(0.3+0.45*rnd.Float64())
	sky0, sky1, ground0, ground1 := pal[0], pal[1], pal[2], pal[3]
	big := fbm(r.Min.X, r.Min.Y, r.Dx(), r.Dy(), 48+40*rnd.Float64(), 2, rnd.Uint64())
	mid := fbm(r.Min.X, r.Min.Y, r.Dx(), r.Dy(), 10+8*rnd.Float64(), 2, rnd.Uint64())
	mixCol := pal[4]
	lx, ly := math.Sincos(rnd.Float64() * 2 * math.Pi)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		fy := float64(y)
		var base rgb
		if fy < horizon {
			base = mix(sky0, sky1, float32(math.Max(0, (fy-(ay-100))/(horizon-(ay-100)))))
		} else {
			base = mix(ground0, ground1, float32(math.Min(1, (fy-horizon)/(ah*0.8))))
		}
		i := (y - r.Min.Y) * r.Dx()
		for x := r.Min.X; x < r.Max.X; x++ {
			b, m := big[i], mid[i]
			i++
			t := b*0.6 + 0.35
			if t < 0 {
				t = 0
			} else if t > 0.8 {
				t = 0.8
			}
			c := mix(base, mixCol, t)
			light := 1 + 0.16*m + float32(0.22*(((float64(x)-ax)/aw-0.5)*lx+((fy-ay)/ah-0.5)*ly))
			o := 3 * (y*cv.w + x)
			cv.p[o], cv.p[o+1], cv.p[o+2] = c[0]*light, c[1]*light, c[2]*light
		}
	}

	// Shapes are scattered over the whole face (art box plus a margin), so
	// their density in the art box is the same for every border style.
	const x0, y0, x1, y1 = -20.0, -20.0, FaceWidth + 20.0, FaceHeight + 20.0
	pick := func() rgb {
		c := pal[rnd.IntN(len(pal))]
		j := float32(0.8 + 0.4*rnd.Float64())
		return c.scale(j)
	}
	visible := func(cx, cy, rad float64) bool {
		return cx+rad >= float64(r.Min.X) && cx-rad < float64(r.Max.X) && cy+rad >= float64(r.Min.Y) && cy-rad < float64(r.Max.Y)
	}
	// Cloud masses.
	for n := 6 + rnd.IntN(5); n > 0; n-- {
		cx, cy := x0+(x1-x0)*rnd.Float64(), y0+(y1-y0)*rnd.Float64()
		rx, ry := 20+60*rnd.Float64(), 12+40*rnd.Float64()
		soft := 8 + 16*rnd.Float64()
		col, a := pick(), float32(0.25+0.4*rnd.Float64())
		th := rnd.Float64() * math.Pi
		if visible(cx, cy, math.Max(rx, ry)+soft) {
			cv.ellipse(cx, cy, rx, ry, th, soft, col, a)
		}
	}
	// A ridge of peaks along the horizon.
	for n := 2 + rnd.IntN(5); n > 0; n-- {
		cx := ax - 20 + (aw+40)*rnd.Float64()
		w, hgt := 25+55*rnd.Float64(), 15+50*rnd.Float64()
		col := mix(pick(), ground0, 0.4)
		if visible(cx, horizon, w+hgt) {
			cv.poly([][2]float64{{cx, horizon - hgt}, {cx + w, horizon + 4}, {cx - w, horizon + 4}}, 1.5, col, 0.85)
		}
	}
	// Medium shapes. Every shape draws all its numbers before the
	// visibility test, so clipping never shifts the random sequence.
	for n := 70 + rnd.IntN(50); n > 0; n-- {
		cx, cy := x0+(x1-x0)*rnd.Float64(), y0+(y1-y0)*rnd.Float64()
		s := 3 + 18*rnd.Float64()*rnd.Float64()
		col, a := pick(), float32(0.3+0.6*rnd.Float64())
		soft := 0.8 + 5*rnd.Float64()*rnd.Float64()
		tri := rnd.IntN(4) == 0
		th, squash := rnd.Float64()*2*math.Pi, 0.35+0.65*rnd.Float64()
		j := [3]float64{rnd.Float64(), rnd.Float64(), rnd.Float64()}
		if !visible(cx, cy, 2*s+soft) {
			continue
		}
		if tri {
			pts := make([][2]float64, 3)
			for k := range pts {
				sn, cs := math.Sincos(th + float64(k)*2.1 + 0.3*j[k])
				pts[k] = [2]float64{cx + s*1.4*cs, cy + s*1.4*sn}
			}
			cv.poly(pts, soft, col, a)
		} else {
			cv.ellipse(cx, cy, s, s*squash, th, soft, col, a)
		}
	}
	// The subject: a stacked figure in a contrasting colour near the middle
	// of the art box, with a highlight.
	sx, sy := ax+aw*(0.3+0.4*rnd.Float64()), ay+ah*(0.35+0.35*rnd.Float64())
	subj := mix(pal[1+rnd.IntN(4)], rgb{20, 18, 24}, float32(0.2+0.5*rnd.Float64()))
	for n := 3 + rnd.IntN(4); n > 0; n-- {
		px, py := sx+30*(rnd.Float64()-0.5), sy+40*(rnd.Float64()-0.5)
		cv.ellipse(px, py, 8+22*rnd.Float64(), 6+26*rnd.Float64(), rnd.Float64()*math.Pi, 1.2, subj.scale(float32(0.8+0.4*rnd.Float64())), 0.95)
	}
	cv.ellipse(sx-6, sy-10, 6+6*rnd.Float64(), 3+4*rnd.Float64(), rnd.Float64()*math.Pi, 4, mix(subj, rgb{255, 250, 235}, 0.6), 0.7)
	// Brush strokes.
	for n := 160 + rnd.IntN(120); n > 0; n-- {
		cx, cy := x0+(x1-x0)*rnd.Float64(), y0+(y1-y0)*rnd.Float64()
		l := 4 + 18*rnd.Float64()
		sn, cs := math.Sincos(rnd.Float64() * math.Pi)
		col := pick()
		if rnd.IntN(5) == 0 {
			col = mix(col, rgb{250, 248, 240}, 0.5)
		}
		w, a := 1+3*rnd.Float64(), float32(0.3+0.5*rnd.Float64())
		if visible(cx, cy, l+4) {
			cv.line(cx-l*cs/2, cy-l*sn/2, cx+l*cs/2, cy+l*sn/2, w, 1, col, a)
		}
	}
	// Canvas grain: fine noise, and per-pixel jitter hashed from position.
	grain := fbm(r.Min.X, r.Min.Y, r.Dx(), r.Dy(), 2.5, 1, seed^0x5bd1e995)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := (y - r.Min.Y) * r.Dx()
		for x := r.Min.X; x < r.Max.X; x++ {
			h := hash64(seed ^ uint64(y)<<20 ^ uint64(x))
			g := 9*grain[i] + float32(h&15) - 7.5
			i++
			o := 3 * (y*cv.w + x)
			cv.p[o] += g
			cv.p[o+1] += g + float32(h>>8&3) - 1.5
			cv.p[o+2] += g
		}
	}
}

// palette draws five related colours: a base hue and harmonies of it.
func palette(rnd *rand.Rand) []rgb {
	h := rnd.Float64() * 360
	offs := [][]float64{{0, 20, -20, 180, 200}, {0, 120, 240, 30, 150}, {0, 30, 60, 90, -30}, {0, 180, 15, 195, 90}}[rnd.IntN(4)]
	out := make([]rgb, 5)
	for i, o := range offs {
		s := 0.25 + 0.65*rnd.Float64()
		v := 0.25 + 0.7*rnd.Float64()
		out[i] = hsv(h+o+20*(rnd.Float64()-0.5), s, v)
	}
	return out
}

func hsv(h, s, v float64) rgb {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch int(h / 60) {
	case 0:
		r, g, b = c, x, 0
	case 1:
		r, g, b = x, c, 0
	case 2:
		r, g, b = 0, c, x
	case 3:
		r, g, b = 0, x, c
	case 4:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return rgb{float32((r + m) * 255), float32((g + m) * 255), float32((b + m) * 255)}
}
