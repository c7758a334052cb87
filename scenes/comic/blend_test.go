package comic

import (
	"image"
	"image/draw"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBlendAsImageDraw: maskOver and uniformOver give image/draw's pixels
// to the bit, clipping included.
func TestBlendAsImageDraw(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() uint8 { // mostly 0 and 255, as a print's masks are
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return 0xff
		}
		return uint8(r.IntN(256))
	}
	for range 50 {
		dst := image.NewRGBA(image.Rect(0, 0, 40, 30))
		src := image.NewRGBA(image.Rect(0, 0, 1+r.IntN(50), 1+r.IntN(40)))
		mask := image.NewAlpha(image.Rect(0, 0, 1+r.IntN(50), 1+r.IntN(40)))
		for i := range dst.Pix {
			dst.Pix[i] = uint8(r.IntN(256))
		}
		for i := 0; i < len(src.Pix); i += 4 {
			a := pick()
			src.Pix[i+3] = a
			for c := range 3 {
				src.Pix[i+c] = uint8(r.IntN(int(a) + 1))
			}
		}
		for i := range mask.Pix {
			mask.Pix[i] = pick()
		}
		rect := image.Rect(r.IntN(50)-10, r.IntN(40)-10, r.IntN(50), r.IntN(40))
		sp, mp := image.Pt(r.IntN(5), r.IntN(5)), image.Pt(r.IntN(5), r.IntN(5))
		want := &image.RGBA{Pix: slices.Clone(dst.Pix), Stride: dst.Stride, Rect: dst.Rect}
		draw.DrawMask(want, rect, src, sp, mask, mp, draw.Over)
		got := &image.RGBA{Pix: slices.Clone(dst.Pix), Stride: dst.Stride, Rect: dst.Rect}
		maskOver(got, rect, src, sp, mask, mp)
		if !slices.Equal(got.Pix, want.Pix) {
			t.Fatalf("maskOver %v differs from image/draw", rect)
		}
		for _, u := range []*image.Uniform{image.Black, image.White} {
			draw.DrawMask(want, rect, u, image.Point{}, mask, mp, draw.Over)
			grey := uint8(0)
			if u == image.White {
				grey = 0xff
			}
			uniformOver(got, rect, grey, mask, mp)
			if !slices.Equal(got.Pix, want.Pix) {
				t.Fatalf("uniformOver %v %v differs from image/draw", rect, grey)
			}
		}
	}
}
