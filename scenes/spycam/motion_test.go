package spycam

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

const testW, testH = 320, 240

// wall is a textured background: gradients and a grid, like a room.
func wall(light int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, testW, testH))
	for y := range testH {
		for x := range testW {
			v := 60 + 80*x/testW + 40*y/testH + light
			if x%32 < 2 || y%32 < 2 {
				v -= 30
			}
			g.Pix[y*g.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	return g
}

func addNoise(g *image.Gray, rng *rand.Rand, amp int) {
	for i, v := range g.Pix {
		g.Pix[i] = uint8(max(0, min(255, int(v)+rng.IntN(2*amp+1)-amp)))
	}
}

func fillBox(g *image.Gray, r image.Rectangle, v uint8) {
	r = r.Intersect(g.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g.Pix[y*g.Stride+x] = v
		}
	}
}

func encode(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// feedAll feeds frames through a detector and returns how many reported motion.
func feedAll(t *testing.T, opts MotionOpts, frames []image.Image) (events int, maxChanged float64) {
	t.Helper()
	d := NewDetector(opts)
	for i, f := range frames {
		changed, motion, err := d.FeedJPEG(encode(t, f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if motion {
			events++
		}
		maxChanged = max(maxChanged, changed)
	}
	return events, maxChanged
}

func TestDetectorIgnoresNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var frames []image.Image
	for range 40 {
		g := wall(0)
		addNoise(g, rng, 40) // heavy per-pixel sensor noise
		frames = append(frames, g)
	}
	if n, c := feedAll(t, MotionOpts{}, frames); n != 0 {
		t.Fatalf("%d motion frames on noise alone (max changed %.4f)", n, c)
	}
}

func TestDetectorIgnoresSlowLightChange(t *testing.T) {
	// Dawn: +2 luma per analysed frame (at 5 frames/s, +100 in 10 s).
	var frames []image.Image
	for i := range 50 {
		frames = append(frames, wall(-50+2*i))
	}
	if n, c := feedAll(t, MotionOpts{}, frames); n != 0 {
		t.Fatalf("%d motion frames on a slow light change (max changed %.4f)", n, c)
	}
}

func TestDetectorSeesMovingObject(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var frames []image.Image
	for i := range 12 {
		g := wall(0)
		addNoise(g, rng, 20)
		if i >= 6 { // someone walks in from the left
			x := (i - 6) * 30
			fillBox(g, image.Rect(x, 80, x+40, 160), 230)
		}
		frames = append(frames, g)
	}
	d := NewDetector(MotionOpts{})
	for i, f := range frames {
		changed, motion, err := d.FeedJPEG(encode(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if want := i >= 6; motion != want {
			t.Fatalf("frame %d: motion %v (changed %.4f), want %v", i, motion, changed, want)
		}
	}
}

func TestDetectorRemovesSpeckle(t *testing.T) {
	// Isolated single-cell changes spread over the picture add up to more
	// than MinArea but are not an object: the opening removes them.
	frames := []image.Image{wall(0)}
	g := wall(0)
	for i := range 60 {
		x, y := (i*37)%76*4+4, (i*23)%56*4+4 // one 4x4 block = one grid cell
		fillBox(g, image.Rect(x, y, x+4, y+4), 255)
	}
	frames = append(frames, g)
	if n, c := feedAll(t, MotionOpts{}, frames); n != 0 || c != 0 {
		t.Fatalf("speckle: %d motion frames, changed %.4f; want none", n, c)
	}
	// The same number of changed cells as one blob is motion.
	g = wall(0)
	fillBox(g, image.Rect(100, 100, 132, 132), 255)
	if n, _ := feedAll(t, MotionOpts{}, []image.Image{wall(0), g}); n != 1 {
		t.Fatal("an 8x8-cell blob is not motion")
	}
}

func TestDetectorOptions(t *testing.T) {
	g := wall(0)
	fillBox(g, image.Rect(100, 100, 132, 132), 255) // 64 cells: 1.3 %
	if n, _ := feedAll(t, MotionOpts{MinArea: 0.02}, []image.Image{wall(0), g}); n != 0 {
		t.Fatal("MinArea 2 % fired on 1.3 % of the picture")
	}
	dim := wall(0)
	fillBox(dim, image.Rect(100, 100, 132, 132), 140) // ~+40 on the wall
	if n, _ := feedAll(t, MotionOpts{Threshold: 100}, []image.Image{wall(0), dim}); n != 0 {
		t.Fatal("threshold 100 fired on a difference of ~40")
	}
	if n, _ := feedAll(t, MotionOpts{}, []image.Image{wall(0), dim}); n != 1 {
		t.Fatal("default threshold missed a difference of ~40")
	}
}

func TestDetectorBadInput(t *testing.T) {
	d := NewDetector(MotionOpts{})
	for name, b := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a jpeg at all"),
		"truncated": encode(t, wall(0))[:300],
		"tiny":      encode(t, image.NewGray(image.Rect(0, 0, 40, 30))),
	} {
		if _, _, err := d.FeedJPEG(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDetector(f *testing.F) {
	f.Add(encode(f, wall(0)))
	f.Add(encode(f, image.NewGray(image.Rect(0, 0, 80, 60))))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xd9})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDetector(MotionOpts{})
		for range 2 {
			c, _, err := d.FeedJPEG(b)
			if err == nil && (c < 0 || c > 1) {
				t.Fatalf("changed %v outside 0..1", c)
			}
		}
	})
}

func BenchmarkDetector640x480(b *testing.B) {
	g := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	img := image.NewYCbCr(g.Rect, image.YCbCrSubsampleRatio420)
	copy(img.Y, g.Pix)
	frame := encode(b, img)
	d := NewDetector(MotionOpts{})
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, _, err := d.FeedJPEG(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMorphIsTheOpening: the separable, branch-free morph gives what the
// 3x3 neighbourhood does, cell by cell, edges included.
func TestMorphIsTheOpening(t *testing.T) {
	n := GridWidth * GridHeight
	naive := func(src []uint8, dilate bool) []uint8 {
		out := make([]uint8, n)
		for y := range GridHeight {
			for x := range GridWidth {
				v := !dilate
				for yy := max(y-1, 0); yy <= min(y+1, GridHeight-1); yy++ {
					for xx := max(x-1, 0); xx <= min(x+1, GridWidth-1); xx++ {
						s := src[yy*GridWidth+xx] == 1
						v = dilate && (v || s) || !dilate && v && s
					}
				}
				if v {
					out[y*GridWidth+x] = 1
				}
			}
		}
		return out
	}
	rng := rand.New(rand.NewPCG(7, 7))
	src, dst, row := make([]uint8, n), make([]uint8, n), make([]uint8, n)
	for round := range 20 {
		for i := range src {
			src[i] = uint8(rng.IntN(100)/(30+round*3)) & 1
		}
		for _, dilate := range []bool{false, true} {
			morph(src, dst, row, dilate)
			if want := naive(src, dilate); !bytes.Equal(dst, want) {
				t.Fatalf("round %d, dilate %v: morph differs from the 3x3 neighbourhood", round, dilate)
			}
		}
	}
}
