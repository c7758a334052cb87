package spycam

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fullGrid is the grid from a full decode, as FeedJPEG made it before.
func fullGrid(t testing.TB, b []byte) []uint8 {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g := make([]uint8, GridWidth*GridHeight)
	if err := downscale(img, g); err != nil {
		t.Fatal(err)
	}
	return g
}

// camera640 is a 640x480 frame from image/jpeg: textured, a box, noise.
func camera640(t testing.TB, w, h int, gray bool, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	y := image.NewGray(image.Rect(0, 0, w, h))
	for i := range y.Pix {
		x, yy := i%w, i/w
		v := 40 + 120*x/w + 60*yy/h + rng.IntN(24)
		if x%40 < 3 || yy%40 < 3 {
			v -= 35
		}
		y.Pix[i] = uint8(max(0, min(255, v)))
	}
	fillBox(y, image.Rect(w/3, h/3, w/3+w/8, h/3+h/6), 240)
	var img image.Image = y
	if !gray {
		c := image.NewYCbCr(y.Rect, image.YCbCrSubsampleRatio420)
		copy(c.Y, y.Pix)
		for i := range c.Cb {
			c.Cb[i], c.Cr[i] = uint8(100+rng.IntN(40)), uint8(120+rng.IntN(30))
		}
		img = c
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// lumaOf is the luma plane of a full decode.
func lumaOf(t testing.TB, b []byte) (pix []uint8, stride, w, h int) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	switch m := img.(type) {
	case *image.YCbCr:
		return m.Y, m.YStride, m.Rect.Dx(), m.Rect.Dy()
	case *image.Gray:
		return m.Pix, m.Stride, m.Rect.Dx(), m.Rect.Dy()
	}
	t.Fatalf("decoded to %T", img)
	return nil, 0, 0, 0
}

// differ compares two sets of values: the largest and the mean difference.
func differ(got, want []int) (worst int, mean float64) {
	sum := 0
	for i := range got {
		d := max(got[i]-want[i], want[i]-got[i])
		worst, sum = max(worst, d), sum+d
	}
	return worst, float64(sum) / float64(len(got))
}

func cameraFrames(t *testing.T) map[string][]byte {
	frames := map[string][]byte{
		"image/jpeg 640x480 4:2:0":  camera640(t, 640, 480, false, 1),
		"image/jpeg 640x480 grey":   camera640(t, 640, 480, true, 2),
		"image/jpeg 1280x720 4:2:0": camera640(t, 1280, 720, false, 3),
		"image/jpeg 1296x972 4:2:0": camera640(t, 1296, 972, false, 4), // partial MCUs at the edges
	}
	for _, n := range []string{"rst7b.jpg", "s444rst.jpg", "s422.jpg", "gray.jpg"} {
		frames["cjpeg "+n] = fixture(t, n)
	}
	return frames
}

// TestDCBlockMeans: each block's mean read from its DC coefficient is the
// mean of the block's decoded pixels (to within their clamping to 0..255),
// for image/jpeg's frames and libjpeg-turbo's: restart markers, 4:2:0,
// 4:4:4, 4:2:2, grey, MCUs cut by the picture's edge.
func TestDCBlockMeans(t *testing.T) {
	var dc dcDecoder // one decoder for all: its buffers are reused
	for name, b := range cameraFrames(t) {
		if err := dc.decode(b); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		pix, stride, w, h := lumaOf(t, b)
		var got, want []int
		for by := range h / 8 {
			for bx := range w / 8 {
				sum := 0
				for y := by * 8; y < by*8+8; y++ {
					for _, v := range pix[y*stride+bx*8 : y*stride+bx*8+8] {
						sum += int(v)
					}
				}
				want = append(want, (sum+32)/64)
				got = append(got, int(dc.blocks[by*dc.bw+bx]))
			}
		}
		worst, mean := differ(got, want)
		if worst > 6 || mean > 0.2 {
			t.Errorf("%s: block means differ from the decoded pixels' by up to %d (mean %.2f)", name, worst, mean)
		}
	}
}

// TestDCGridMatchesDecode: where the grid's cells are whole blocks (640x480,
// the camera's default), FeedJPEG's grid is the one a full decode gave.
func TestDCGridMatchesDecode(t *testing.T) {
	var dc dcDecoder
	for name, b := range cameraFrames(t) {
		if _, _, w, h := lumaOf(t, b); w != 640 || h != 480 {
			continue
		}
		got := make([]uint8, GridWidth*GridHeight)
		if err := dc.lumaGrid(b, got); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := fullGrid(t, b)
		g, w := make([]int, len(got)), make([]int, len(want))
		for i := range got {
			g[i], w[i] = int(got[i]), int(want[i])
		}
		if worst, mean := differ(g, w); worst > 6 || mean > 0.6 {
			t.Errorf("%s: grid differs from the full decode by up to %d (mean %.2f)", name, worst, mean)
		}
	}
}

// TestDCGridLeavesOthers: what is not a baseline JPEG of a camera's size is
// decoded in full, and broken frames are errors, never a grid.
func TestDCGridLeavesOthers(t *testing.T) {
	var dc dcDecoder
	out := make([]uint8, GridWidth*GridHeight)
	if err := dc.lumaGrid(fixture(t, "prog.jpg"), out); err != errNotBaseline {
		t.Errorf("progressive: %v, want errNotBaseline", err)
	}
	if err := dc.lumaGrid(camera640(t, 320, 240, false, 5), out); err != errNotBaseline {
		t.Errorf("320x240: %v, want errNotBaseline", err)
	}
	good := fixture(t, "rst7b.jpg")
	for _, n := range []int{len(good) / 2, len(good) - 200} {
		if err := dc.lumaGrid(good[:n], out); err == nil {
			t.Errorf("cut at %d of %d bytes: no error", n, len(good))
		}
	}
	// The progressive frame still feeds the detector, decoded in full.
	if _, _, err := NewDetector(MotionOpts{}).FeedJPEG(fixture(t, "prog.jpg")); err != nil {
		t.Errorf("progressive frame: %v", err)
	}
}

// TestDetectorOnCameraFrames: at a camera's size, through the DC path, a
// still scene with sensor noise is still and a moving box is motion.
func TestDetectorOnCameraFrames(t *testing.T) {
	d := NewDetector(MotionOpts{})
	for i := range 4 {
		if _, motion, err := d.FeedJPEG(camera640(t, 640, 480, false, 10+uint64(i))); err != nil || motion {
			t.Fatalf("still frame %d: motion %v, %v", i, motion, err)
		}
	}
	g := image.NewGray(image.Rect(0, 0, 640, 480))
	if err := jpeg.Encode(new(bytes.Buffer), g, nil); err != nil {
		t.Fatal(err)
	}
	b := camera640(t, 640, 480, false, 20)
	img, _ := jpeg.Decode(bytes.NewReader(b))
	moved := image.NewYCbCr(img.Bounds(), image.YCbCrSubsampleRatio420)
	src := img.(*image.YCbCr)
	copy(moved.Y, src.Y)
	copy(moved.Cb, src.Cb)
	copy(moved.Cr, src.Cr)
	for y := 300; y < 420; y++ {
		for x := 420; x < 560; x++ {
			moved.Y[y*moved.YStride+x] = 250
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, moved, &jpeg.Options{Quality: 75})
	changed, motion, err := d.FeedJPEG(buf.Bytes())
	if err != nil || !motion {
		t.Fatalf("a box moved in: changed %.3f, motion %v, %v", changed, motion, err)
	}
}

func FuzzDCGrid(f *testing.F) {
	for _, n := range []string{"rst7b.jpg", "s444rst.jpg", "gray.jpg"} {
		f.Add(fixture(f, n))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var dc dcDecoder
		out := make([]uint8, GridWidth*GridHeight)
		dc.lumaGrid(b, out) // must not panic or hang
	})
}

func BenchmarkDCGrid640x480(b *testing.B) {
	frame := fixture(b, "rst7b.jpg")
	var dc dcDecoder
	out := make([]uint8, GridWidth*GridHeight)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := dc.lumaGrid(frame, out); err != nil {
			b.Fatal(err)
		}
	}
}
