package comic

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// areaReference is the exact area average of src at w×h, in float64: each
// output pixel the mean of the source area it covers.
func areaReference(src *image.Alpha, w, h int) []float64 {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	out := make([]float64, w*h)
	fx, fy := float64(sw)/float64(w), float64(sh)/float64(h)
	for y := range h {
		for x := range w {
			var sum, area float64
			x0, x1 := float64(x)*fx, float64(x+1)*fx
			y0, y1 := float64(y)*fy, float64(y+1)*fy
			for sy := int(y0); sy < int(math.Ceil(y1)) && sy < sh; sy++ {
				oy := math.Min(y1, float64(sy+1)) - math.Max(y0, float64(sy))
				for sx := int(x0); sx < int(math.Ceil(x1)) && sx < sw; sx++ {
					ox := math.Min(x1, float64(sx+1)) - math.Max(x0, float64(sx))
					sum += ox * oy * float64(src.Pix[sy*src.Stride+sx])
					area += ox * oy
				}
			}
			out[y*w+x] = sum / area
		}
	}
	return out
}

// lineArt is a w×h plane of random strokes: edges everywhere.
func lineArt(w, h int, seed uint64) *image.Alpha {
	r := rand.New(rand.NewPCG(seed, 1))
	m := image.NewAlpha(image.Rect(0, 0, w, h))
	for range 40 {
		x, y, vertical, n := r.IntN(w), r.IntN(h), r.IntN(2) == 0, 3+r.IntN(9)
		for k := range n {
			for l := range max(w, h) / 2 {
				px, py := x+k, y+l
				if !vertical {
					px, py = x+l, y+k
				}
				if px < w && py < h {
					m.Pix[py*m.Stride+px] = 255
				}
			}
		}
	}
	return m
}

// Shrinking is the exact area average (rounded): within a level of the
// float reference everywhere.
func TestResizeIsAreaAverage(t *testing.T) {
	for _, c := range []struct{ sw, sh, w, h int }{{456, 456, 89, 89}, {457, 300, 331, 97}, {100, 80, 100, 40}, {7, 5, 3, 2}} {
		src := lineArt(c.sw, c.sh, uint64(c.sw))
		got := resizeAlpha(src, c.w, c.h, from{})
		want := areaReference(src, c.w, c.h)
		for i, v := range want {
			if d := math.Abs(float64(got.Pix[i]) - v); d > 1 {
				t.Fatalf("%dx%d to %dx%d: pixel %d is %d, the area average %.2f", c.sw, c.sh, c.w, c.h, i, got.Pix[i], v)
			}
		}
	}
}

// A reduction by 2 or 4 (its last pixel partly empty) draws where the
// master would: its footprints are the master's, so a line lands where
// the master's would (its centre within a sixth of a pixel, at the far
// edge too), and keeps its weight; only the blur of two box filters
// differs.
func TestResizeFromAReduction(t *testing.T) {
	for _, c := range []struct{ sw, w, level int }{{457, 89, 4}, {1896, 370, 4}, {381, 176, 2}, {455, 300, 2}} {
		for _, x0 := range []int{3, c.sw / 3, c.sw/2 + 1, c.sw - 9} {
			master := image.NewAlpha(image.Rect(0, 0, c.sw, 8))
			for y := range 8 {
				for x := x0; x < x0+5; x++ {
					master.Pix[y*master.Stride+x] = 255
				}
			}
			direct := resizeAlpha(master, c.w, 2, from{})
			reduced := resizeAlpha(shrinkAlpha(master, c.level), c.w, 2, from{c.level, image.Pt(c.sw, 8)})
			centre := func(m *image.Alpha) (float64, float64) {
				var sum, mass float64
				for x := range c.w {
					v := float64(m.Pix[x])
					sum += v * (float64(x) + 0.5)
					mass += v
				}
				return sum / mass, mass
			}
			a, ma := centre(direct)
			b, mb := centre(reduced)
			if math.Abs(a-b) > 0.15 || math.Abs(ma-mb) > 0.01*ma+2 {
				t.Errorf("%d by %d to %d, a line at %d: centre %.3f from the reduction, %.3f from the master (weight %.0f, %.0f)", c.sw, c.level, c.w, x0, b, a, mb, ma)
			}
		}
	}
}

// Weights sum to one: a flat plane stays flat, shrunk or enlarged, in
// every channel.
func TestResizeKeepsFlat(t *testing.T) {
	for _, c := range []struct{ sw, sh, w, h int }{{456, 456, 89, 89}, {33, 17, 100, 61}, {10, 10, 10, 10}} {
		src := image.NewRGBA(image.Rect(0, 0, c.sw, c.sh))
		for i := 0; i < len(src.Pix); i += 4 {
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = 255, 77, 0, 255
		}
		got := resizeRGBA(src, c.w, c.h, from{})
		for i := 0; i < len(got.Pix); i += 4 {
			if p := got.Pix[i : i+4]; p[0] != 255 || p[1] != 77 || p[2] != 0 || p[3] != 255 {
				t.Fatalf("%dx%d to %dx%d: pixel %d is %v", c.sw, c.sh, c.w, c.h, i/4, p)
			}
		}
	}
}

// Enlarging is bilinear: a ramp stays a ramp, its ends held.
func TestResizeEnlargesBilinear(t *testing.T) {
	src := image.NewAlpha(image.Rect(0, 0, 4, 1))
	copy(src.Pix, []uint8{0, 80, 160, 240})
	got := resizeAlpha(src, 8, 1, from{})
	want := []uint8{0, 20, 60, 100, 140, 180, 220, 240}
	for i, v := range want {
		if d := abs(int(got.Pix[i]) - int(v)); d > 1 {
			t.Fatalf("enlarged %v, want %v", got.Pix, want)
		}
	}
}

// premultiplied rounds as image/draw does.
func TestPremultiplied(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 256, 1))
	for a := range 256 {
		src.Pix[a*4], src.Pix[a*4+1], src.Pix[a*4+2], src.Pix[a*4+3] = 255, 128, 1, uint8(a)
	}
	got := premultiplied(src)
	for a := range 256 {
		for c, v := range []int{255, 128, 1} {
			want := (v*a + 127) / 255
			if g := int(got.Pix[a*4+c]); abs(g-want) > 1 {
				t.Fatalf("alpha %d colour %d: %d, want %d", a, v, g, want)
			}
		}
	}
}
