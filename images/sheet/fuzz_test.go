package sheet

import (
	"image"
	"strings"
	"testing"
)

// fuzzPhoto builds a small photo from b: its size, a bright quadrilateral
// (a sheet) on a background, and strokes and pixel values from the rest, as
// grey, RGBA or YCbCr.
func fuzzPhoto(b []byte) image.Image {
	at := func(i int) int {
		if len(b) == 0 {
			return 0
		}
		return int(b[i%len(b)])
	}
	w, h := 1+at(0)%120, 1+at(1)%120
	if at(2)&1 == 0 { // mostly big enough to look for a sheet in
		w, h = 32+w, 32+h
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	bg, paper := uint8(at(3)), uint8(at(4)|0x80)
	q := quad{
		{float64(at(5) % w), float64(at(6) % h)},
		{float64(w - at(7)%w), float64(at(8) % h)},
		{float64(w - at(9)%w), float64(h - at(10)%h)},
		{float64(at(11) % w), float64(h - at(12)%h)},
	}
	for y := 0; y < h; y++ {
		x0, x1 := quadSpan(q, float64(y)+0.5)
		for x := 0; x < w; x++ {
			v := bg
			if c := float64(x) + 0.5; c >= x0 && c < x1 {
				v = paper
			}
			g.Pix[y*g.Stride+x] = v
		}
	}
	// Ink: runs of dark pixels, and raw bytes for the rest.
	for i := 13; i+2 < len(b); i += 3 {
		x, y, n := at(i)%w, at(i+1)%h, at(i+2)
		if n < 128 {
			for k := 0; k < n%24 && x+k < w; k++ {
				g.Pix[y*g.Stride+x+k] = uint8(n)
			}
		} else {
			g.Pix[y*g.Stride+x] = uint8(n)
		}
	}
	switch at(2) >> 1 % 3 {
	case 1:
		rgba := image.NewRGBA(g.Rect)
		for i, v := range g.Pix {
			rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = v, v/2+uint8(at(i)), v, 255
		}
		return rgba
	case 2:
		ycc := image.NewYCbCr(g.Rect, image.YCbCrSubsampleRatio420)
		copy(ycc.Y, g.Pix)
		for i := range ycc.Cb {
			ycc.Cb[i], ycc.Cr[i] = 128, uint8(at(i))
		}
		return ycc
	}
	return g
}

// FuzzClean checks that Clean never panics and that what it returns lies
// within the photo and the sheet.
func FuzzClean(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{80, 60, 0, 40, 230, 10, 8, 12, 6, 9, 11, 7, 10, 30, 30, 2, 31, 30, 2, 40, 50, 20})
	f.Add([]byte{119, 119, 2, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 60, 60, 100, 61, 61, 100})
	f.Add([]byte{50, 90, 4, 200, 250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})
	opts := &Opts{MaxSide: 256}
	f.Fuzz(func(t *testing.T, b []byte) {
		photo := fuzzPhoto(b)
		res, err := Clean(photo, opts)
		if err != nil && !strings.HasPrefix(err.Error(), "sheet: ") {
			t.Fatalf("error %q", err)
		}
		if res == nil {
			return
		}
		pb := photo.Bounds()
		for _, c := range res.Corners {
			if c.X < pb.Min.X || c.Y < pb.Min.Y || c.X > pb.Max.X || c.Y > pb.Max.Y {
				t.Fatalf("corner %v outside %v", c, pb)
			}
		}
		if res.Size.X <= 0 || res.Size.Y <= 0 || max(res.Size.X, res.Size.Y) > opts.MaxSide {
			t.Fatalf("size %v", res.Size)
		}
		sheet := image.Rectangle{Max: res.Size}
		for _, d := range res.Drawings {
			if d.Rect.Empty() || !d.Rect.In(sheet) || d.Image.Rect != (image.Rectangle{Max: d.Rect.Size()}) {
				t.Fatalf("drawing %v, image %v, sheet %v", d.Rect, d.Image.Rect, res.Size)
			}
		}
		if err == nil && len(res.Drawings) == 0 {
			t.Fatal("no error and no drawings")
		}
	})
}
