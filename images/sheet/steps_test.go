package sheet

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// Photo puts the sheet where photoCorners says: just inside each side the
// photo is paper, just outside it is table.
func TestPhotoCorners(t *testing.T) {
	s := newTestSheet()
	for _, o := range []PhotoOpts{
		{Seed: 1},
		{Tilt: 25, Skew: 0.3, Shadow: 0.5, Seed: 2, Width: 800, Height: 600},
		{Tilt: -40, Skew: 0.1, Fill: 0.95, Seed: 3}, // shrunk to fit
	} {
		img := Photo(s.paper, o)
		q := photoCorners(s.paper.Rect, o)
		lum := func(p pt) int {
			c := img.RGBAAt(int(p.x), int(p.y))
			return int(min(c.R, c.G, c.B))
		}
		for i := range q {
			a, b := q[i], q[(i+1)%4]
			n := outward(a, b)
			for _, t0 := range []float64{0.25, 0.5, 0.75} {
				m := a.lerp(b, t0)
				in, out := lum(m.add(n.scale(-3))), lum(m.add(n.scale(3)))
				if in < out+40 {
					t.Errorf("%+v side %d at %.0f%%: paper %d, table %d", o, i, 100*t0, in, out)
				}
			}
		}
		for _, p := range q {
			if p.x < 0 || p.y < 0 || p.x > float64(img.Rect.Dx()) || p.y > float64(img.Rect.Dy()) {
				t.Errorf("%+v: corner %v outside the photo", o, p)
			}
		}
	}
	// Skew makes the far (top) edge 1-Skew times the near one.
	q := photoCorners(s.paper.Rect, PhotoOpts{Skew: 0.2})
	if r := q[0].dist(q[1]) / q[3].dist(q[2]); math.Abs(r-0.8) > 0.01 {
		t.Errorf("far/near edge %.3f, want 0.8", r)
	}
}

func TestPhotoDeterministic(t *testing.T) {
	s := sheetOne()
	o := PhotoOpts{Tilt: 3, Shadow: 0.5, Noise: 5, Seed: 9}
	a, b := Photo(s.paper, o), Photo(s.paper, o)
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatal("two photos with one seed differ")
		}
	}
}

func TestRectToQuad(t *testing.T) {
	q := quad{{10, 20}, {300, 5}, {350, 400}, {-20, 380}}
	m := rectToQuad(200, 100, q)
	for i, p := range [4]pt{{0, 0}, {200, 0}, {200, 100}, {0, 100}} {
		if got := m.apply(p); got.dist(q[i]) > 1e-9 {
			t.Errorf("corner %d → %v, want %v", i, got, q[i])
		}
	}
	inv, ok := m.inv()
	if !ok {
		t.Fatal("singular")
	}
	if p := inv.apply(m.apply(pt{37, 81})); p.dist(pt{37, 81}) > 1e-9 {
		t.Errorf("round trip gave %v", p)
	}
}

// The sheet's proportions come back from its perspective photo, which the
// edge lengths alone get wrong by the foreshortening.
func TestAspect(t *testing.T) {
	const want = float64(paperW) / paperH
	for _, o := range []PhotoOpts{
		{},
		{Skew: 0.15, Tilt: 10},
		{Skew: 0.3, Tilt: -5},
		{Skew: 0.3, Tilt: 30, Width: 2592, Height: 1944},
	} {
		o = o.defaults()
		q := photoCorners(image.Rect(0, 0, paperW, paperH), o)
		c := pt{float64(o.Width) / 2, float64(o.Height) / 2}
		got := aspect(q, c, focalPerPixel*float64(max(o.Width, o.Height)))
		if math.Abs(got/want-1) > 0.02 {
			t.Errorf("%+v: aspect %.3f, want %.3f", o, got, want)
		}
		if s := snapRatio(got); math.Abs(s-1/math.Sqrt2) > 1e-12 {
			t.Errorf("%+v: %.3f snapped to %.3f, want A4", o, got, s)
		}
	}
	if r := snapRatio(1.6); r != 1.6 {
		t.Errorf("1.6 snapped to %v", r)
	}
}

func TestOtsu(t *testing.T) {
	p := make([]uint8, 1000)
	for i := range p {
		p[i] = 40 + uint8(i%7)
		if i%3 == 0 {
			p[i] = 200 + uint8(i%11)
		}
	}
	th, dark := otsu(p)
	if th <= 46 || th > 200 || dark < 40 || dark > 47 {
		t.Errorf("threshold %d, dark mean %.1f", th, dark)
	}
}

// mask paints the quad q into a w × h mask.
func maskOf(q quad, w, h int) []bool {
	m := make([]bool, w*h)
	for y := 0; y < h; y++ {
		x0, x1 := quadSpan(q, float64(y)+0.5)
		for x := 0; x < w; x++ {
			c := float64(x) + 0.5
			m[y*w+x] = c >= x0 && c < x1
		}
	}
	return m
}

func TestMaxQuad(t *testing.T) {
	q := quad{{130, 40}, {390, 75}, {350, 380}, {95, 340}}
	got := maxQuad(rowHull(maskOf(q, 500, 420), 500, 420))
	for i := range q {
		if d := got[i].dist(q[i]); d > 1.5 {
			t.Errorf("corner %d at %v, want %v", i, got[i], q[i])
		}
	}
}

// grey paints a w × h plane with v(x, y).
func grey(w, h int, v func(x, y int) int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.Pix[y*g.Stride+x] = uint8(max(0, min(255, v(x, y))))
		}
	}
	return g
}

func TestFindSheet(t *testing.T) {
	const w, h = 480, 360
	q := quad{{120, 30}, {370, 50}, {350, 330}, {100, 310}}
	in := maskOf(q, w, h)
	r := rand.New(rand.NewPCG(1, 2))
	// Paper under a soft shadow on a darker table, with ink on it.
	sheet := grey(w, h, func(x, y int) int {
		light := 1 - 0.55*smooth(math.Max(0, math.Min(1, float64(x+y-350)/60)))
		v := 70.0
		if in[y*w+x] {
			v = 225
			if (x-230)*(x-230)+(y-170)*(y-170) < 900 {
				v = 30
			}
		}
		return int(v*light) + r.IntN(7) - 3
	})
	got, ok := findSheet(sheet)
	if !ok {
		t.Fatal("sheet not found")
	}
	for i := range q {
		if d := got[i].dist(q[i]); d > 2 {
			t.Errorf("corner %d at %v, want %v", i, got[i], q[i])
		}
	}

	for _, tc := range []struct {
		name string
		g    *image.Gray
	}{
		// Brighter on one side, no edge: a flat scan in uneven light.
		{"gradient", grey(w, h, func(x, y int) int { return 150 + x/5 })},
		{"blank", grey(w, h, func(x, y int) int { return 230 })},
		{"small", grey(w, h, func(x, y int) int {
			if x > 200 && x < 300 && y > 150 && y < 230 {
				return 230
			}
			return 60
		})},
		{"triangle", grey(w, h, func(x, y int) int {
			if y > 20 && x > 40 && x-40 < (y-20)*4/3 && y < 340 {
				return 230
			}
			return 60
		})},
		{"tiny", grey(5, 5, func(x, y int) int { return 200 })},
	} {
		if q, ok := findSheet(tc.g); ok {
			t.Errorf("%s: found a sheet at %v", tc.name, q)
		}
	}
}

func TestEvenLight(t *testing.T) {
	const w, h = 600, 800
	r := rand.New(rand.NewPCG(3, 4))
	in := func(x, y int) bool { return (x-200)*(x-200)+(y-500)*(y-500) < 120*120 }
	g := grey(w, h, func(x, y int) int {
		light := (1 - 0.3*float64(y)/h) * (1 - 0.6*smooth(math.Max(0, math.Min(1, float64(x-300)/80))))
		v := 230.0
		if in(x, y) {
			v = 18 // a filled shape wider than many tiles
		}
		return int(v*light) + r.IntN(5) - 2
	})
	if !evenLight(g) {
		t.Fatal("no paper")
	}
	var worst, dark uint8 = 255, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := g.Pix[y*g.Stride+x]
			d := (x-200)*(x-200) + (y-500)*(y-500)
			switch {
			case d > 135*135:
				worst = min(worst, v)
			case d < 105*105:
				dark = max(dark, v)
			}
		}
	}
	if worst < 225 || dark > 60 {
		t.Errorf("paper down to %d, the filled shape up to %d", worst, dark)
	}
	if evenLight(grey(64, 64, func(x, y int) int { return 3 })) {
		t.Error("a black image has paper")
	}
}

func TestInkRuns(t *testing.T) {
	// Two strokes touching only diagonally are one blob; a faint mark with
	// nothing dark in it is not strong.
	rows := []string{
		"..........",
		".##.......",
		"...#...ff.",
		"....#..ff.",
		"..........",
	}
	g := grey(10, 5, func(x, y int) int {
		return map[byte]int{'.': 250, '#': 20, 'f': 180}[rows[y][x]]
	})
	runs, comp, blobs := inkRuns(g, g.Rect)
	if len(runs) != 5 || len(blobs) != 2 {
		t.Fatalf("%d runs, %d blobs: %+v", len(runs), len(blobs), blobs)
	}
	if b := blobs[comp[0]]; b.area != 4 || b.dark != 20 || b.box != image.Rect(1, 1, 5, 4) {
		t.Errorf("stroke %+v", b)
	}
	if b := blobs[comp[2]]; b.area != 4 || b.dark < inkStrong {
		t.Errorf("faint mark %+v", b)
	}
}

func TestGroup(t *testing.T) {
	const w, h = 400, 400
	// Strokes 10 px apart join; 60 px apart do not (join gap 20).
	g := grey(w, h, func(x, y int) int {
		switch {
		case y >= 100 && y < 104 && x >= 50 && x < 150,
			y >= 114 && y < 118 && x >= 50 && x < 150,
			y >= 178 && y < 182 && x >= 50 && x < 150:
			return 0
		}
		return 255
	})
	runs, comp, blobs := inkRuns(g, g.Rect)
	keep := make([]bool, len(blobs))
	for i := range keep {
		keep[i] = true
	}
	if n := group(runs, comp, blobs, keep, w, h, 20); n != 2 {
		t.Fatalf("%d groups, want 2", n)
	}
	if blobs[0].group != blobs[1].group || blobs[1].group == blobs[2].group {
		t.Errorf("groups %d %d %d", blobs[0].group, blobs[1].group, blobs[2].group)
	}
}

func TestSliver(t *testing.T) {
	in := image.Rect(10, 10, 990, 1390)
	for _, tc := range []struct {
		b    image.Rectangle
		want bool
	}{
		{image.Rect(10, 300, 25, 900), true},     // along the left edge
		{image.Rect(200, 1380, 800, 1390), true}, // along the bottom
		{image.Rect(10, 300, 200, 500), false},   // a drawing touching the edge
		{image.Rect(400, 300, 410, 900), false},  // a line in the middle
	} {
		if got := sliver(tc.b, in); got != tc.want {
			t.Errorf("%v: %v", tc.b, got)
		}
	}
}

// Every image type reads as its grey over white.
func TestGreyRow(t *testing.T) {
	r := image.Rect(3, 5, 40, 9)
	rgba := image.NewRGBA(r)
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 37)
	}
	for i := 3; i < len(rgba.Pix); i += 4 { // valid premultiplied
		rgba.Pix[i] = max(rgba.Pix[i-1], rgba.Pix[i-2], rgba.Pix[i-3])
	}
	nrgba := image.NewNRGBA(r)
	copy(nrgba.Pix, rgba.Pix)
	g16 := image.NewGray16(r)
	for i := range g16.Pix {
		g16.Pix[i] = uint8(i * 53)
	}
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White, color.RGBA{200, 30, 30, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(30 + i*11%200)
	}
	for i := range ycc.Cb { // colours a camera sees, not the gamut's edge
		ycc.Cb[i], ycc.Cr[i] = uint8(110+i%30), uint8(140-i%25)
	}
	cmyk := image.NewCMYK(r)
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(i * 29)
	}
	for _, img := range []image.Image{rgba, nrgba, g16, pal, ycc, cmyk} {
		grey, col := greyRow(img), rgbRow(img)
		row, rgb := make([]uint8, 30), make([]uint8, 90)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			grey(y, 5, row)
			col(y, 5, rgb)
			for i, v := range row {
				want := grey16(img.At(5+i, y))
				lum := uint8(luma(rgb[3*i], rgb[3*i+1], rgb[3*i+2]))
				if d := int(v) - int(want); d < -1 || d > 1 {
					t.Fatalf("%T at %d,%d: grey %d, want %d", img, 5+i, y, v, want)
				}
				if d := int(lum) - int(want); d < -2 || d > 2 {
					t.Fatalf("%T at %d,%d: colour %v is grey %d, want %d", img, 5+i, y, rgb[3*i:3*i+3], lum, want)
				}
			}
		}
	}
}

// counting is an image that counts how often it is read.
type counting struct {
	image.Uniform
	r     image.Rectangle
	reads int
}

func (c *counting) Bounds() image.Rectangle { return c.r }
func (c *counting) At(x, y int) color.Color { c.reads++; return c.Uniform.At(x, y) }

// Reducing a huge photo reads a bounded number of its pixels.
func TestWhitenessBounded(t *testing.T) {
	c := &counting{Uniform: *image.NewUniform(color.Gray{200}), r: image.Rect(0, 0, 40000, 30000)}
	g := whiteness(c, 80)
	if g.Rect.Dx() != 500 || g.Rect.Dy() != 375 || g.Pix[0] != 200 {
		t.Fatalf("%v %d", g.Rect, g.Pix[0])
	}
	if c.reads > 16*500*375 {
		t.Errorf("%d reads", c.reads)
	}
}
