package cards

import (
	"math"
	"math/rand/v2"
)

// paintBed fills cv with the surface the card lies on. Plain beds keep to
// their promised luminance (before light falloff and noise); textured ones
// are busy on purpose: strong edges and colours, like a table under a phone.
func paintBed(cv *canvas, kind Bed, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 0xbed))
	tone := rnd.Float64()
	switch kind {
	case BedGrey:
		plainBed(cv, 113+24*tone, rgb{1, 1, 1.02}, 4, rnd.Uint64())
	case BedLight:
		plainBed(cv, 218+24*tone, rgb{1, 1, 0.99}, 2.5, rnd.Uint64())
	case BedTextured:
		switch rnd.IntN(4) {
		case 0:
			woodBed(cv, rnd)
		case 1:
			playmatBed(cv, rnd)
		case 2:
			carpetBed(cv, rnd)
		default:
			clothBed(cv, rnd)
		}
	default:
		plainBed(cv, 22+11*tone, rgb{0.96, 0.98, 1.1}, 2, rnd.Uint64()) // felt, slightly blue
	}
}

// plainBed is a flat surface of luminance lum with a faint mottle of
// amplitude amp; tint multiplies the channels.
func plainBed(cv *canvas, lum float64, tint rgb, amp float32, seed uint64) {
	tex := fbm(0, 0, cv.w, cv.h, 24, 3, seed)
	// Normalise the tint so it does not move the luminance.
	l := 0.299*tint[0] + 0.587*tint[1] + 0.114*tint[2]
	base := tint.scale(float32(lum) / l)
	for i, t := range tex {
		o := 3 * i
		d := amp * t
		cv.p[o], cv.p[o+1], cv.p[o+2] = base[0]+d, base[1]+d, base[2]+d
	}
}

// woodBed is a table of planks: warped grain lines, streaks along the grain
// and dark seams between planks.
func woodBed(cv *canvas, rnd *rand.Rand) {
	dark := hsv(18+20*rnd.Float64(), 0.55+0.2*rnd.Float64(), 0.25+0.2*rnd.Float64())
	light := hsv(25+15*rnd.Float64(), 0.4+0.2*rnd.Float64(), 0.6+0.3*rnd.Float64())
	th := rnd.Float64() * math.Pi
	sn, cs := math.Sincos(th)
	plank := 60 + 80*rnd.Float64()
	freq := 0.25 + 0.3*rnd.Float64()
	warp := fbm(0, 0, cv.w, cv.h, 70, 3, rnd.Uint64())
	seed := rnd.Uint64()
	phase := 0.0
	for y := 0; y < cv.h; y++ {
		lastP, ph := math.NaN(), uint64(0)
		for x := 0; x < cv.w; x++ {
			i := y*cv.w + x
			across := -float64(x)*sn + float64(y)*cs + 1000
			p := math.Floor(across / plank)
			if p != lastP { // planks differ in tone and grain phase
				lastP, ph = p, hash64(seed^uint64(int64(p)))
				phase = float64(ph&255) / 40
			}
			// Growth rings: a parabolic wave (cheaper than a sine) across
			// the grain, warped by noise.
			t := (across+18*float64(warp[i]))*freq/(2*math.Pi) + phase
			t -= math.Floor(t)
			ring := 2*t*(1-t) - 0.25
			streak := float64(hash64(seed^uint64(int64(across*1.3))<<20^uint64(int64(p)))>>52)/4096 - 0.5
			v := float32(0.5 + ring*1.2 + streak*0.35 + 0.15*(float64(ph>>8&255)/255-0.5))
			c := mix(dark, light, min(max(v, 0), 1))
			if e := across - p*plank; e < 2 || e > plank-1 {
				c = c.scale(0.35)
			}
			cv.p[3*i], cv.p[3*i+1], cv.p[3*i+2] = c[0], c[1], c[2]
		}
	}
}

// playmatBed is a printed playmat: a colourful painted background with
// hard-edged discs, rings and bands, and a faint cloth weave.
func playmatBed(cv *canvas, rnd *rand.Rand) {
	pal := palette(rnd)
	for i := range pal {
		pal[i] = mix(pal[i], hsv(rnd.Float64()*360, 0.9, 0.9), 0.4) // printed mats are saturated
	}
	a := fbm(0, 0, cv.w, cv.h, 120, 3, rnd.Uint64())
	b := fbm(0, 0, cv.w, cv.h, 50, 2, rnd.Uint64())
	for i := range a {
		c := mix(mix(pal[0], pal[1], min(max(a[i]+0.5, 0), 1)), pal[2], min(max(b[i], 0), 1))
		cv.p[3*i], cv.p[3*i+1], cv.p[3*i+2] = c[0], c[1], c[2]
	}
	w, h := float64(cv.w), float64(cv.h)
	for n := 6 + rnd.IntN(8); n > 0; n-- {
		col := pal[rnd.IntN(len(pal))]
		if rnd.IntN(3) == 0 {
			col = rgb{245, 240, 230}
		}
		cx, cy := w*rnd.Float64(), h*rnd.Float64()
		switch rnd.IntN(3) {
		case 0:
			r := 20 + 0.3*h*rnd.Float64()
			cv.disc(cx, cy, r, 1, col, 0.9)
		case 1:
			r := 30 + 0.3*h*rnd.Float64()
			cv.disc(cx, cy, r, 1, col, 0.9)
			cv.disc(cx, cy, r-4-10*rnd.Float64(), 1, pal[rnd.IntN(len(pal))], 1)
		default:
			band(cv, cx, cy, rnd.Float64()*math.Pi, 8+30*rnd.Float64(), col, 0.85)
		}
	}
	for y := 0; y < cv.h; y++ {
		for x := 0; x < cv.w; x++ {
			g := float32(((x+y)&1)*6 - 3)
			o := 3 * (y*cv.w + x)
			cv.p[o] += g
			cv.p[o+1] += g
			cv.p[o+2] += g
		}
	}
}

// carpetBed is loop-pile carpet: a base colour with strong per-pixel noise,
// a fine mottle and flecks of a second colour.
func carpetBed(cv *canvas, rnd *rand.Rand) {
	base := hsv(rnd.Float64()*360, 0.2+0.5*rnd.Float64(), 0.3+0.5*rnd.Float64())
	fleck := hsv(rnd.Float64()*360, 0.7, 0.8)
	tex := fbm(0, 0, cv.w, cv.h, 5, 2, rnd.Uint64())
	seed := rnd.Uint64()
	for i, t := range tex {
		hh := hash64(seed ^ uint64(i))
		k := 1 + 0.35*t + float32(hh&255)/255*0.4 - 0.2
		c := base.scale(k)
		if hh>>8&63 == 0 {
			c = fleck
		}
		cv.p[3*i], cv.p[3*i+1], cv.p[3*i+2] = c[0], c[1], c[2]
	}
}

// clothBed is a woven tartan: coloured stripes in two directions, mixed by a
// twill weave, turned by a random angle.
func clothBed(cv *canvas, rnd *rand.Rand) {
	pal := palette(rnd)
	type stripe struct {
		w   float64
		col rgb
	}
	var ss []stripe
	period := 0.0
	for n := 4 + rnd.IntN(4); n > 0; n-- {
		s := stripe{4 + 30*rnd.Float64(), pal[rnd.IntN(len(pal))]}
		ss = append(ss, s)
		period += s.w
	}
	at := func(t float64) rgb {
		t = math.Mod(t, period)
		if t < 0 {
			t += period
		}
		for _, s := range ss {
			if t < s.w {
				return s.col
			}
			t -= s.w
		}
		return ss[0].col
	}
	sn, cs := math.Sincos(rnd.Float64() * math.Pi)
	for y := 0; y < cv.h; y++ {
		for x := 0; x < cv.w; x++ {
			u := float64(x)*cs + float64(y)*sn
			v := -float64(x)*sn + float64(y)*cs
			var c rgb
			if (x+y/2)%4 < 2 { // twill: warp over two, under two
				c = at(u)
			} else {
				c = at(v)
			}
			o := 3 * (y*cv.w + x)
			cv.p[o], cv.p[o+1], cv.p[o+2] = c[0], c[1], c[2]
		}
	}
}

// band paints an endless straight band of width wd through (cx, cy) at
// angle th, its distance stepped along rows.
func band(cv *canvas, cx, cy, th, wd float64, col rgb, a float32) {
	sn, cs := math.Sincos(th)
	nx, ny := -sn, cs // normal
	for y := 0; y < cv.h; y++ {
		d := (0.5-cx)*nx + (float64(y)+0.5-cy)*ny
		for x := 0; x < cv.w; x, d = x+1, d+nx {
			k := wd/2 - math.Abs(d) + 0.5
			if k <= 0 {
				continue
			}
			cv.blend(x, y, col, a*float32(math.Min(k, 1)))
		}
	}
}
