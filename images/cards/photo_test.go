package cards

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// checkerFace is a face of 25 px squares in distinct colours, so a sampled
// frame pixel tells which square it came from.
func checkerFace() (*image.RGBA, func(u, v float64) color.RGBA) {
	col := func(u, v float64) color.RGBA {
		i, j := int(u)/25, int(v)/25
		return color.RGBA{uint8(40 + 20*i), uint8(40 + 13*j), uint8(200 - 30*((i+j)%5)), 255}
	}
	f := image.NewRGBA(image.Rect(0, 0, FaceWidth, FaceHeight))
	for y := 0; y < FaceHeight; y++ {
		for x := 0; x < FaceWidth; x++ {
			f.SetRGBA(x, y, col(float64(x), float64(y)))
		}
	}
	return f, col
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

// TestShotMapMatchesPhoto: a face point mapped by ShotMap lands on a frame
// pixel of that point's colour, for points 1.5 face px from square edges,
// so a mapping error of 0.5 px would show.
func TestShotMapMatchesPhoto(t *testing.T) {
	face, col := checkerFace()
	r := rand.New(rand.NewPCG(5, 5))
	for k := 0; k < 12; k++ {
		s := Shot{Angle: 360 * r.Float64(), Height: 360, TiltX: 25 * (2*r.Float64() - 1), TiltY: 25 * (2*r.Float64() - 1),
			DX: 20 * (2*r.Float64() - 1), DY: 10 * (2*r.Float64() - 1), Bed: BedGrey, Seed: 1}
		img := Photo(face, s, 640, 480)
		m := ShotMap(s, 640, 480)
		bad := 0
		for n := 0; n < 400; n++ {
			u := float64(25*r.IntN(10)) + 1.5 + 22*r.Float64()
			v := float64(25*r.IntN(13)) + 1.5 + 22*r.Float64()
			if (u < CornerRadius || u > FaceWidth-CornerRadius) && (v < CornerRadius || v > FaceHeight-CornerRadius) {
				continue
			}
			x, y := m(u, v)
			if got := img.RGBAAt(int(x), int(y)); !near(got, col(u, v), 3) {
				bad++
				if bad < 4 {
					t.Errorf("shot %d: face (%.1f,%.1f) -> frame (%.1f,%.1f) is %v, want %v", k, u, v, x, y, got, col(u, v))
				}
			}
		}
	}
}

// TestShotCornersMatchPhoto: the card's straight edges run between the
// corners ShotCorners reports: just inside an edge is card, just outside
// is bed.
func TestShotCornersMatchPhoto(t *testing.T) {
	face := image.NewRGBA(image.Rect(0, 0, FaceWidth, FaceHeight))
	red := color.RGBA{220, 20, 20, 255}
	for i := 0; i < len(face.Pix); i += 4 {
		face.Pix[i], face.Pix[i+1], face.Pix[i+2], face.Pix[i+3] = red.R, red.G, red.B, 255
	}
	r := rand.New(rand.NewPCG(6, 6))
	for k := 0; k < 20; k++ {
		s := Shot{Angle: 360 * r.Float64(), Height: 300 + 100*r.Float64(), TiltX: 20 * (2*r.Float64() - 1), TiltY: 20 * (2*r.Float64() - 1), Bed: BedGrey, Seed: 2}
		img := Photo(face, s, 640, 480)
		c := ShotCorners(s, 640, 480)
		for e := 0; e < 4; e++ {
			a, b := c[e], c[(e+1)%4]
			for _, f := range []float64{0.2, 0.5, 0.8} {
				px, py := a[0]+(b[0]-a[0])*f, a[1]+(b[1]-a[1])*f
				// Inward normal: the edges run clockwise on screen.
				dx, dy := b[0]-a[0], b[1]-a[1]
				l := math.Hypot(dx, dy)
				nx, ny := -dy/l, dx/l
				in := img.RGBAAt(int(px+1.2*nx), int(py+1.2*ny))
				out := img.RGBAAt(int(px-1.2*nx), int(py-1.2*ny))
				if !near(in, red, 40) || near(out, red, 60) {
					t.Errorf("shot %d edge %d at %.2f: inside %v, outside %v", k, e, f, in, out)
				}
			}
		}
	}
}

func lum(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

// bedStats measures the bed in a strip round the frame's edge, away from
// the card.
func bedStats(img *image.RGBA, strip int) (mean, sd float64) {
	var sum, sum2, n float64
	b := img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if x > strip && x < b.Max.X-strip && y > strip && y < b.Max.Y-strip {
				continue
			}
			l := lum(img.RGBAAt(x, y))
			sum, sum2, n = sum+l, sum2+l*l, n+1
		}
	}
	mean = sum / n
	return mean, math.Sqrt(sum2/n - mean*mean)
}

func TestBedLuminance(t *testing.T) {
	face := Render(Demo()[1])
	want := map[Bed][2]float64{BedDark: {20, 35}, BedGrey: {110, 140}, BedLight: {215, 245}}
	for bed, rng := range want {
		for seed := uint64(0); seed < 12; seed++ {
			img := Photo(face, Shot{Height: 200, Noise: 4, Bed: bed, Seed: seed}, 640, 480)
			if m, _ := bedStats(img, 40); m < rng[0] || m > rng[1] {
				t.Errorf("bed %s seed %d: luminance %.1f, want %v", bed, seed, m, rng)
			}
		}
	}
	// Textured beds are busy and differ from seed to seed.
	var means []float64
	for seed := uint64(0); seed < 12; seed++ {
		img := Photo(face, Shot{Height: 200, Bed: BedTextured, Seed: seed}, 640, 480)
		m, sd := bedStats(img, 40)
		if sd < 8 {
			t.Errorf("textured bed seed %d: sd %.1f, want a busy surface", seed, sd)
		}
		means = append(means, m)
	}
	lo, hi := means[0], means[0]
	for _, m := range means {
		lo, hi = math.Min(lo, m), math.Max(hi, m)
	}
	if hi-lo < 30 {
		t.Errorf("textured beds all look alike: mean luminance %.0f..%.0f", lo, hi)
	}
}

func inside(c [4][2]float64, w, h int) bool {
	for _, p := range c {
		if p[0] < 0 || p[1] < 0 || p[0] > float64(w) || p[1] > float64(h) {
			return false
		}
	}
	return true
}

func TestFeederAndPhoneShots(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const n, w, h = 400, 640, 480
	for _, kind := range []string{"feeder", "phone"} {
		glared, beds, quads := 0, map[Bed]int{}, [4]int{}
		for i := 0; i < n; i++ {
			var s Shot
			maxTilt, minH, maxH := 4.0, 0.3, 0.85
			if kind == "feeder" {
				s = FeederShot(r, w, h)
			} else {
				s, maxTilt, minH, maxH = PhoneShot(r, w, h), 25, 0.25, 0.8
			}
			if !inside(ShotCorners(s, w, h), w, h) {
				t.Errorf("%s shot %d leaves the frame: %+v", kind, i, s)
			}
			if tl := math.Hypot(s.TiltX, s.TiltY); tl > maxTilt+1e-9 {
				t.Errorf("%s tilt %.1f", kind, tl)
			}
			if s.Height < minH*h || s.Height > maxH*h {
				t.Errorf("%s height %.0f of %d", kind, s.Height, h)
			}
			if s.Glare[0].Strength > 0 {
				glared++
			}
			beds[s.Bed]++
			quads[int(s.Angle)/90]++
		}
		t.Logf("%s: glare %d/%d, beds %v, quadrants %v", kind, glared, n, beds, quads)
		wantGlare := map[string]float64{"feeder": 0.2, "phone": 0.35}[kind]
		if g := float64(glared) / n; math.Abs(g-wantGlare) > 0.08 {
			t.Errorf("%s: glare in %.0f %% of shots, want about %.0f %%", kind, 100*g, 100*wantGlare)
		}
		for _, q := range quads {
			if q < n/8 {
				t.Errorf("%s: angles by quadrant %v, want all orientations", kind, quads)
			}
		}
		if kind == "feeder" && (beds[BedDark] < n/5 || beds[BedGrey] < n/5 || beds[BedLight] < n/5 || beds[BedTextured] > 0) {
			t.Errorf("feeder beds %v", beds)
		}
		if kind == "phone" && beds[BedTextured] != n {
			t.Errorf("phone beds %v", beds)
		}
	}
}

// Glare burns the card towards white at its centre.
func TestGlareSaturates(t *testing.T) {
	face := Render(Demo()[2])
	s := Shot{Angle: 30, Height: 300, Bed: BedDark, Seed: 1, Glare: [2]Glare{{U: 0.5, V: 0.3, Radius: 0.12, Strength: 1.3}}}
	img := Photo(face, s, 640, 480)
	x, y := ShotMap(s, 640, 480)(0.5*FaceWidth, 0.3*FaceHeight)
	if c := img.RGBAAt(int(x), int(y)); lum(c) < 250 {
		t.Errorf("glare centre %v, want near white", c)
	}
	s.Glare = [2]Glare{}
	if c := Photo(face, s, 640, 480).RGBAAt(int(x), int(y)); lum(c) > 240 {
		t.Errorf("without glare the art is %v: test point is not art", c)
	}
}

// Old literals without the new fields still shoot a dark-bed, upright card.
func TestOldShotLiteral(t *testing.T) {
	img := Photo(Render(Demo()[7]), Shot{Angle: 4, Height: 200, Noise: 3, Seed: 1}, 320, 240)
	if m, _ := bedStats(img, 12); m < 20 || m > 35 {
		t.Errorf("default bed luminance %.1f, want dark", m)
	}
	c := ShotCorners(Shot{Height: 200}, 320, 240)
	if math.Abs(c[0][1]-20) > 1e-9 || math.Abs(c[2][1]-220) > 1e-9 || math.Abs(c[0][0]-(160-100*FaceWidth/float64(FaceHeight))) > 1e-9 {
		t.Errorf("upright corners %v", c)
	}
}

func TestPhotoDeterministic(t *testing.T) {
	face := Render(Demo()[9])
	r := rand.New(rand.NewPCG(8, 8))
	s := PhoneShot(r, 320, 240)
	a, b := Photo(face, s, 320, 240), Photo(face, s, 320, 240)
	if string(a.Pix) != string(b.Pix) {
		t.Error("Photo differs between calls")
	}
}
