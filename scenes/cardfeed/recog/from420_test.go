package recog

import (
	"bytes"
	"image"
	"image/draw"
	"math/rand/v2"
	"testing"
)

// TestFrom420 checks the camera frame conversion against draw.Draw, byte
// for byte, on odd sizes and a sub-image too.
func TestFrom420(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, r := range []image.Rectangle{image.Rect(0, 0, 64, 48), image.Rect(0, 0, 33, 17), image.Rect(2, 4, 41, 30)} {
		src := image.NewYCbCr(image.Rect(0, 0, 48, 40), image.YCbCrSubsampleRatio420)
		for _, p := range [][]uint8{src.Y, src.Cb, src.Cr} {
			for i := range p {
				p[i] = uint8(rnd.IntN(256))
			}
		}
		var img image.Image = src
		if r.Min != (image.Point{}) {
			img = src.SubImage(r)
		} else {
			src = image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
			for _, p := range [][]uint8{src.Y, src.Cb, src.Cr} {
				for i := range p {
					p[i] = uint8(rnd.IntN(256))
				}
			}
			img = src
		}
		b := img.Bounds()
		want := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(want, want.Rect, img, b.Min, draw.Src)
		got := toRGBAIn(img, new(scratch))
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%v: the conversion differs from draw.Draw", r)
		}
	}
}
