package escpos

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		n := min(len(got), len(want))
		i := 0
		for i < n && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: %d bytes differ from the golden %d bytes, first difference at offset %d", name, len(got), len(want), i)
	}
}

// goldenImage compares the pixels of img with testdata/name (a PNG).
func goldenImage(t *testing.T, name string, img *image.Gray) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("%s: size %v, golden %v", name, img.Bounds(), want.Bounds())
	}
	diff := 0
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if color.GrayModel.Convert(want.At(x, y)).(color.Gray).Y != img.GrayAt(x, y).Y {
				diff++
			}
		}
	}
	if diff > 0 {
		t.Fatalf("%s: %d pixels differ from the golden image", name, diff)
	}
}

// gradient is a horizontal black-to-white ramp with a vertical ramp mixed in.
func gradient(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.Pix[y*g.Stride+x] = uint8((x*255/(w-1))*3/4 + (y*255/(h-1))/4)
		}
	}
	return g
}

// testImage is a small opaque picture: a frame, a diagonal and grey patches.
func testImage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(255)
			switch {
			case x == 0 || y == 0 || x == w-1 || y == h-1:
				v = 0
			case x == y:
				v = 0
			case x > w/2 && y > h/2:
				v = 100
			}
			g.Pix[y*g.Stride+x] = v
		}
	}
	return g
}

// benchImage is the deterministic photo-like picture of the benchmark:
// gradients, shapes, fine detail and noise.
func benchImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var seed uint32 = 0x9e3779b9
	rnd := func() uint32 { // xorshift32
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return seed
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 255 * fx
			g := 255 * fy
			b := 127 + 127*math.Sin(fx*9+fy*23)
			// Shapes: a dark disc, a light ring, a mid-grey box, a checker.
			dx, dy := float64(x-w/2), float64(y-h/4)
			d := math.Hypot(dx, dy)
			switch {
			case d < float64(w)/6:
				r, g, b = r*0.2, g*0.2, b*0.3
			case d > float64(w)/4 && d < float64(w)/4+12:
				r, g, b = 240, 230, 220
			}
			if y > h/2 && y < h/2+200 && x > w/8 && x < w*7/8 {
				r, g, b = 128, 128, 128
			}
			if y > h*3/4 && (x/16+y/16)%2 == 0 {
				r, g, b = r*0.5, g*0.5, b*0.5
			}
			n := float64(int(rnd()%41) - 20)
			p := img.PixOffset(x, y)
			img.Pix[p+0] = clamp8(r + n)
			img.Pix[p+1] = clamp8(g + n)
			img.Pix[p+2] = clamp8(b + n)
			img.Pix[p+3] = 255
		}
	}
	return img
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}
