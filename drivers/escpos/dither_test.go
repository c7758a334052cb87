package escpos

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"
)

func TestDitherGolden(t *testing.T) {
	g := gradient(128, 64)
	for _, a := range []Algorithm{FloydSteinberg, Atkinson, Bayer, Threshold} {
		t.Run(a.String(), func(t *testing.T) {
			b := Dither(g, 128, &Opts{Dither: a})
			if b.Width != 128 || b.Height != 64 {
				t.Fatalf("size %dx%d", b.Width, b.Height)
			}
			goldenImage(t, "dither-"+a.String()+".png", b.Gray())
		})
	}
}

// blackFraction is the share of black dots in a bitmap region.
func blackFraction(b *Bitmap, r image.Rectangle) float64 {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if b.Black(x, y) {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

func TestDitherPreservesTone(t *testing.T) {
	// Flat grey patches: diffusion and ordered dithers must reproduce the
	// level as a proportion of black dots; threshold must not.
	for _, level := range []uint8{0, 32, 64, 128, 192, 250, 255} {
		g := image.NewGray(image.Rect(0, 0, 64, 64))
		for i := range g.Pix {
			g.Pix[i] = level
		}
		want := 1 - float64(level)/255
		for _, a := range []Algorithm{FloydSteinberg, Atkinson, Bayer} {
			b := Dither(g, 64, &Opts{Dither: a})
			got := blackFraction(b, b.Bounds())
			tol := 0.03
			if a == Atkinson {
				tol = 0.13 // it drops 1/4 of the error: level 32 and below go solid black
			}
			if math.Abs(got-want) > tol {
				t.Errorf("%v at level %d: %.3f black, want %.3f", a, level, got, want)
			}
		}
	}
}

func TestTransparentPNGPrintsWhite(t *testing.T) {
	// Transparent pixels whose colour is black: the classic "prints a black
	// box" bug when alpha is ignored.
	src := image.NewNRGBA(image.Rect(0, 0, 40, 20))
	for i := 0; i < len(src.Pix); i += 4 {
		src.Pix[i+3] = 0
	}
	// A solid black square and a 50 % black square.
	for y := 2; y < 10; y++ {
		for x := 2; x < 10; x++ {
			src.SetNRGBA(x, y, color.NRGBA{A: 255})
			src.SetNRGBA(x+20, y, color.NRGBA{A: 128})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	premul := image.NewRGBA(src.Rect)
	draw.Draw(premul, premul.Rect, src, image.Point{}, draw.Src)
	pal := image.NewPaletted(src.Rect, color.Palette{color.NRGBA{}, color.NRGBA{A: 255}, color.NRGBA{A: 128}})
	draw.Draw(pal, pal.Rect, src, image.Point{}, draw.Src)
	for name, im := range map[string]image.Image{"png": img, "rgba": premul, "paletted": pal, "generic": genericImage{src}} {
		b := Dither(im, 40, &Opts{Width: 40, Dither: Threshold})
		if f := blackFraction(b, image.Rect(12, 0, 20, 20)); f != 0 {
			t.Errorf("%s: transparent area %.2f black", name, f)
		}
		if f := blackFraction(b, image.Rect(2, 2, 10, 10)); f != 1 {
			t.Errorf("%s: opaque black square %.2f black", name, f)
		}
		g := toGray(im)
		if v := g.GrayAt(25, 5).Y; v < 120 || v > 135 {
			t.Errorf("%s: 50 %% black on white = %d, want ≈ 127", name, v)
		}
		if v := g.GrayAt(30, 15).Y; v != 255 {
			t.Errorf("%s: transparent = %d, want 255", name, v)
		}
	}
}

// genericImage hides the concrete type to force the slow path.
type genericImage struct{ image.Image }

func TestGrayFastPathsMatchGeneric(t *testing.T) {
	rgba := benchImage(64, 48)
	nrgba := image.NewNRGBA(rgba.Rect)
	draw.Draw(nrgba, nrgba.Rect, rgba, image.Point{}, draw.Src)
	gray := image.NewGray(rgba.Rect)
	draw.Draw(gray, gray.Rect, rgba, image.Point{}, draw.Src)
	pal := image.NewPaletted(rgba.Rect, palette.Plan9)
	draw.Draw(pal, pal.Rect, rgba, image.Point{}, draw.Src)
	// A sub-image checks the origin handling.
	sub := rgba.SubImage(image.Rect(5, 7, 60, 40))
	for name, im := range map[string]image.Image{"rgba": rgba, "nrgba": nrgba, "gray": gray, "paletted": pal, "sub": sub} {
		fast := toGray(im)
		slow := toGray(genericImage{im})
		for i := range fast.Pix {
			if d := int(fast.Pix[i]) - int(slow.Pix[i]); d < -1 || d > 1 {
				t.Fatalf("%s: pixel %d fast %d generic %d", name, i, fast.Pix[i], slow.Pix[i])
			}
		}
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	fast, slow := toGray(ycc), toGray(genericImage{ycc})
	for i := range fast.Pix {
		if d := int(fast.Pix[i]) - int(slow.Pix[i]); d < -1 || d > 1 {
			t.Fatalf("ycbcr: pixel %d fast %d generic %d", i, fast.Pix[i], slow.Pix[i])
		}
	}
}

func TestScaleDownAndCentre(t *testing.T) {
	// 768x200 black-left/white-right: scaled to 384x100.
	wide := image.NewGray(image.Rect(0, 0, 768, 200))
	for y := 0; y < 200; y++ {
		for x := 384; x < 768; x++ {
			wide.Pix[y*768+x] = 255
		}
	}
	b := Dither(wide, 384, &Opts{Dither: Threshold})
	if b.Width != 384 || b.Height != 100 {
		t.Fatalf("scaled to %dx%d, want 384x100", b.Width, b.Height)
	}
	if f := blackFraction(b, image.Rect(0, 0, 180, 100)); f != 1 {
		t.Errorf("left half %.2f black", f)
	}
	if f := blackFraction(b, image.Rect(204, 0, 384, 100)); f != 0 {
		t.Errorf("right half %.2f black", f)
	}
	// A 100-dot black image is centred on a 384-dot head with white margins.
	narrow := image.NewGray(image.Rect(0, 0, 100, 10))
	b = Dither(narrow, 384, nil)
	if b.Width != 384 || b.Height != 10 {
		t.Fatalf("centred to %dx%d", b.Width, b.Height)
	}
	if f := blackFraction(b, image.Rect(142, 0, 242, 10)); f != 1 {
		t.Errorf("image area %.2f black", f)
	}
	if blackFraction(b, image.Rect(0, 0, 142, 10)) != 0 || blackFraction(b, image.Rect(242, 0, 384, 10)) != 0 {
		t.Error("margins not white")
	}
}

func TestToneCurve(t *testing.T) {
	lut, id := toneCurve(1, 1)
	if !id {
		t.Fatal("gamma 1 contrast 1 is not the identity")
	}
	lut, _ = toneCurve(2, 1)
	if lut[0] != 0 || lut[255] != 255 || lut[64] <= 64 {
		t.Errorf("gamma 2 should lighten: 64 -> %d", lut[64])
	}
	lut, _ = toneCurve(1, 2)
	if lut[64] >= 64 || lut[192] <= 192 || lut[0] != 0 || lut[255] != 255 {
		t.Errorf("contrast 2: 64 -> %d, 192 -> %d", lut[64], lut[192])
	}
	// Lighter gamma gives fewer black dots.
	g := gradient(64, 32)
	dark := blackFraction(Dither(g, 64, nil), image.Rect(0, 0, 64, 32))
	light := blackFraction(Dither(g, 64, &Opts{Gamma: 1.8}), image.Rect(0, 0, 64, 32))
	if light >= dark-0.05 {
		t.Errorf("gamma 1.8 prints %.2f black vs %.2f at 1", light, dark)
	}
}

func TestDitherDegenerate(t *testing.T) {
	if b := Dither(nil, 384, nil); b.Height != 0 || b.Width != 384 {
		t.Errorf("nil image: %dx%d", b.Width, b.Height)
	}
	if b := Dither(image.NewGray(image.Rect(3, 3, 3, 9)), 0, nil); b.Height != 0 {
		t.Errorf("empty image: height %d", b.Height)
	}
	// Very tall and thin: scaling keeps at least one row.
	b := Dither(image.NewGray(image.Rect(0, 0, 5000, 1)), 384, nil)
	if b.Height != 1 {
		t.Errorf("5000x1 scaled to height %d", b.Height)
	}
	// Invalid opts fall back to defaults instead of panicking.
	if b := Dither(gradient(16, 4), 0, &Opts{Width: 16, BandRows: -3}); b.Width != 16 {
		t.Errorf("width %d", b.Width)
	}
}

func TestBitmapAccessors(t *testing.T) {
	b := NewBitmap(10, 3)
	b.Set(9, 2, true)
	b.Set(-1, 0, true)
	b.Set(10, 0, true)
	if !b.Black(9, 2) || b.Black(8, 2) || b.Black(10, 2) || b.Black(-1, 0) {
		t.Fatal("Set/Black mismatch")
	}
	if b.Bits[2*2+1] != 0x40 {
		t.Fatalf("bit layout % x", b.Bits)
	}
	g := b.Gray()
	if g.GrayAt(9, 2).Y != 0 || g.GrayAt(0, 0).Y != 255 {
		t.Fatal("Gray: 0 must be black, 255 white")
	}
	if c := color.GrayModel.Convert(b.At(9, 2)).(color.Gray); c.Y != 0 {
		t.Fatal("At")
	}
	b.Set(9, 2, false)
	if b.Black(9, 2) {
		t.Fatal("clear")
	}
}

// TestFloydSteinbergReference compares the table-driven diffusion with the
// textbook loop it replaces (a whole-picture error array, each share
// computed and added where it lands), on noise, flat levels and the
// mid-grey checkerboards that push the error furthest.
// fsReference is the textbook Floyd-Steinberg loop the table-driven one
// replaces: a whole-picture error array, each share computed (truncated
// towards zero, the rounding left in the 7/16) and added where it lands.
func fsReference(g *image.Gray) *Bitmap {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	b := NewBitmap(w, h)
	errs := make([]int32, (w+2)*(h+1))
	at := func(x, y int) *int32 { return &errs[y*(w+2)+x+1] }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := int32(g.Pix[y*g.Stride+x]) + *at(x, y)
			e := v - 255
			if v < 128 {
				b.Set(x, y, true)
				e = v
			}
			e1, e3, e5 := e/16, e*3/16, e*5/16
			*at(x+1, y) += e - e1 - e3 - e5
			*at(x-1, y+1) += e3
			*at(x, y+1) += e5
			*at(x+1, y+1) += e1
		}
	}
	return b
}

func TestFloydSteinbergReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	pics := map[string]func(x, y int) uint8{
		"noise":   func(x, y int) uint8 { return uint8(rnd.IntN(256)) },
		"extreme": func(x, y int) uint8 { return uint8(255 * rnd.IntN(2)) },
		"checker": func(x, y int) uint8 { return uint8(127 + (x+y)&1) },
		"level":   func(x, y int) uint8 { return uint8(y * 4) },
	}
	for name, pix := range pics {
		for _, w := range []int{1, 7, 8, 37, 384} {
			g := image.NewGray(image.Rect(0, 0, w, 64))
			for y := 0; y < 64; y++ {
				for x := 0; x < w; x++ {
					g.Pix[y*w+x] = pix(x, y)
				}
			}
			got, want := Dither(g, w, &Opts{Dither: FloydSteinberg}), fsReference(g)
			if !bytes.Equal(got.Bits, want.Bits) {
				t.Errorf("%s %d wide: differs from the reference", name, w)
			}
		}
	}
}

// TestFSSharesClosed checks the bound fsShares is indexed by: what a dot
// can receive (the largest share of each kind over every reachable error)
// never takes its sum outside the table.
func TestFSSharesClosed(t *testing.T) {
	var lo, hi [4]int32
	for v := int32(-127); v <= 382; v++ {
		s := fsShares[v+fsBias]
		for k, x := range [4]int16{s.right, s.downLeft, s.down, s.downRight} {
			lo[k], hi[k] = min(lo[k], int32(x)), max(hi[k], int32(x))
		}
	}
	in := [2]int32{lo[0] + lo[1] + lo[2] + lo[3], hi[0] + hi[1] + hi[2] + hi[3]}
	if in[0] < -127 || in[1] > 127 {
		t.Fatalf("a dot receives %d..%d, so its sum leaves -127..382", in[0], in[1])
	}
	if in[0]+fsBias < 0 || int(255+in[1]+fsBias) >= len(fsShares) {
		t.Fatalf("sums %d..%d are outside the table", in[0], 255+in[1])
	}
}

// FuzzFloydSteinberg: any picture dithers as the textbook loop does.
func FuzzFloydSteinberg(f *testing.F) {
	f.Add(uint8(37), []byte{0, 255, 127, 128, 3, 250})
	f.Add(uint8(8), []byte{127, 128})
	f.Fuzz(func(t *testing.T, w uint8, pix []byte) {
		if w == 0 || len(pix) == 0 {
			return
		}
		g := image.NewGray(image.Rect(0, 0, int(w), (len(pix)+int(w)-1)/int(w)))
		copy(g.Pix, pix)
		got, want := Dither(g, int(w), &Opts{Dither: FloydSteinberg}), fsReference(g)
		if !bytes.Equal(got.Bits, want.Bits) {
			t.Fatalf("%dx%d: differs from the reference", g.Rect.Dx(), g.Rect.Dy())
		}
	})
}
