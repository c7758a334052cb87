package escpos

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"os"
	"testing"
)

// TestBenchImage keeps testdata/bench.png (shared with
// scripts/bench-pillow-dither.py) identical to benchImage.
func TestBenchImage(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, benchImage(384, 1536)); err != nil {
		t.Fatal(err)
	}
	golden(t, "bench.png", buf.Bytes())
}

func loadBenchImage(b *testing.B) image.Image {
	f, err := os.Open("testdata/bench.png")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkDitherEncode384x1536 is the figure compared with Pillow's C
// Floyd–Steinberg: grey conversion, dithering and packing, encoding.
func BenchmarkDitherEncode384x1536(b *testing.B) {
	img := loadBenchImage(b)
	o := DefaultOpts()
	b.SetBytes(384 * 1536)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		bm := Dither(img, 384, o)
		if err := Encode(io.Discard, bm, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDither(b *testing.B) {
	img := loadBenchImage(b)
	for _, a := range []Algorithm{FloydSteinberg, Atkinson, Bayer, Threshold} {
		b.Run(a.String(), func(b *testing.B) {
			o := &Opts{Dither: a}
			b.ReportAllocs()
			defer cpuTimer(b)()
			for b.Loop() {
				Dither(img, 384, o)
			}
		})
	}
}

// BenchmarkDitherScale covers the scaling path: a 1800-wide archive image
// (the comic scene's) printed at 384 dots.
func BenchmarkDitherScale1800(b *testing.B) {
	img := benchImage(1800, 2400)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		Dither(img, 384, nil)
	}
}
