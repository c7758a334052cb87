package sheet

import (
	"errors"
	"image"
	"image/color"
	"math"
	"runtime"
	"strings"
	"testing"
)

// check runs Clean on photo and compares the result with the sheet drawn:
// as many drawings as figures, each lying on its figure (IoU ≥ 0.7 once
// mapped back onto the paper, the figure's box grown by the margin), and
// almost no ink outside the figures.
func check(t *testing.T, s *testSheet, photo shot, o *Opts) *Result {
	t.Helper()
	res, err := Clean(photo.img, o)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	for i, d := range res.Drawings {
		var darkest uint8 = 255
		for _, v := range d.Image.Pix {
			darkest = min(darkest, v)
		}
		if darkest > 40 {
			t.Errorf("drawing %d at %v is grey: its darkest pixel is %d", i, d.Rect, darkest)
		}
	}
	if len(res.Drawings) != len(s.boxes) {
		for _, d := range res.Drawings {
			t.Logf("drawing at %v (paper %v)", d.Rect, toPaper(res, photo, d.Rect))
		}
		t.Fatalf("%d drawings, want %d", len(res.Drawings), len(s.boxes))
	}
	// Rect holds the margin around the ink: so does the box it is held to.
	margin := 12
	if o != nil && o.Margin > 0 {
		margin = o.Margin
	}
	used := make([]bool, len(res.Drawings))
	for i, box := range s.boxes {
		want := box.Inset(-margin * paperW / res.Size.X).Intersect(s.paper.Rect)
		best, at := 0.0, -1
		for j, d := range res.Drawings {
			if v := iou(toPaper(res, photo, d.Rect), want); v > best && !used[j] {
				best, at = v, j
			}
		}
		if best < 0.7 {
			t.Errorf("figure %d at %v: best drawing IoU %.2f", i, want, best)
			continue
		}
		used[at] = true
	}
	// Ink outside the figures, with 2 % of the sheet's width of slack for
	// the mapping.
	slack := paperW / 50
	stray := 0
	for _, d := range res.Drawings {
		for y := 0; y < d.Rect.Dy(); y++ {
			for x := 0; x < d.Rect.Dx(); x++ {
				if d.Image.GrayAt(x, y).Y >= 128 {
					continue
				}
				p := toPaper(res, photo, image.Rect(d.Rect.Min.X+x, d.Rect.Min.Y+y, d.Rect.Min.X+x+1, d.Rect.Min.Y+y+1)).Min
				inside := false
				for _, b := range s.boxes {
					inside = inside || p.In(b.Inset(-slack))
				}
				if !inside {
					stray++
				}
			}
		}
	}
	if frac := float64(stray) / float64(res.Size.X*res.Size.Y); frac > 0.005 {
		t.Errorf("%.2f %% of the sheet is ink outside the figures", 100*frac)
	}
	return res
}

// toPaper maps a rectangle of the flattened sheet onto the test paper
// through the corners Clean found and the truth of how the photo was taken,
// and returns the box around it.
func toPaper(res *Result, photo shot, r image.Rectangle) image.Rectangle {
	var q quad
	for i, c := range res.Corners {
		q[i] = pt{float64(c.X), float64(c.Y)}
	}
	m := photo.toPaper.mul(rectToQuad(float64(res.Size.X), float64(res.Size.Y), q))
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [4]pt{{float64(r.Min.X), float64(r.Min.Y)}, {float64(r.Max.X), float64(r.Min.Y)}, {float64(r.Max.X), float64(r.Max.Y)}, {float64(r.Min.X), float64(r.Max.Y)}} {
		p := m.apply(c)
		x0, y0, x1, y1 = math.Min(x0, p.x), math.Min(y0, p.y), math.Max(x1, p.x), math.Max(y1, p.y)
	}
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1)))
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	ai := float64(in.Dx() * in.Dy())
	return ai / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ai)
}

// checkCorners wants each corner within 1.5 % of the sheet's diagonal of
// where Photo put it.
func checkCorners(t *testing.T, res *Result, s *testSheet, o PhotoOpts) {
	t.Helper()
	if !res.Found {
		t.Fatal("sheet not found")
	}
	want := photoCorners(s.paper.Rect, o)
	tol := 0.015 * want[0].dist(want[2])
	for i, c := range res.Corners {
		if d := want[i].dist(pt{float64(c.X), float64(c.Y)}); d > tol {
			t.Errorf("corner %d at %v, want %.1f,%.1f (%.1f px off, tolerance %.1f)", i, c, want[i].x, want[i].y, d, tol)
		}
	}
}

func TestCameraPhotos(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		sheet func() *testSheet
		o     PhotoOpts
	}{
		{"one straight", sheetOne, PhotoOpts{Noise: 3, Seed: 1}},
		{"one tilted", sheetOne, PhotoOpts{Tilt: -15, Skew: 0.1, Shadow: 0.3, Noise: 4, Seed: 2}},
		{"three", sheetThree, PhotoOpts{Tilt: 7, Skew: 0.15, Shadow: 0.5, Noise: 5, Seed: 3}},
		{"three skewed", sheetThree, PhotoOpts{Tilt: -4, Skew: 0.3, Shadow: 0.2, Noise: 4, Seed: 4}},
		{"six", sheetSix, PhotoOpts{Tilt: 10, Skew: 0.2, Shadow: 0.6, Noise: 6, Seed: 5}},
		{"six far", sheetSix, PhotoOpts{Tilt: 3, Skew: 0.05, Fill: 0.6, Noise: 3, Seed: 6, Width: 1296, Height: 972}},
		{"six 5MP", sheetSix, PhotoOpts{Tilt: -20, Skew: 0.25, Shadow: 0.8, Noise: 8, Seed: 7, Width: 2592, Height: 1944}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.sheet()
			res := check(t, s, camera(t, s, tc.o), nil)
			checkCorners(t, res, s, tc.o)
		})
	}
}

// The tables of every seed: oak, walnut, laminate, cutting mat, slate.
func TestTables(t *testing.T) {
	t.Parallel()
	s := sheetThree()
	for seed := uint64(10); seed < 20; seed++ {
		o := PhotoOpts{Tilt: float64(seed) - 15, Skew: 0.1, Shadow: 0.4, Noise: 5, Seed: seed}
		res := check(t, s, camera(t, s, o), nil)
		checkCorners(t, res, s, o)
	}
}

// A deep shadow across half the sheet leaves no ink of its own.
func TestShadow(t *testing.T) {
	t.Parallel()
	s := sheetThree()
	for seed := uint64(30); seed < 34; seed++ {
		o := PhotoOpts{Tilt: 5, Skew: 0.1, Shadow: 1, Noise: 6, Seed: seed}
		res := check(t, s, camera(t, s, o), nil)
		checkCorners(t, res, s, o)
	}
}

func TestFlatScan(t *testing.T) {
	t.Parallel()
	s := sheetSix()
	// A scanner's page: the paper is the whole image, a little grey and
	// noisy, as a JPEG.
	page := image.NewRGBA(s.paper.Rect)
	for i, v := range s.paper.Pix {
		n := uint8(int(v)*232/255 + 12 + (i*7919)%5)
		page.Pix[4*i], page.Pix[4*i+1], page.Pix[4*i+2], page.Pix[4*i+3] = n, n, n-4, 255
	}
	res := check(t, s, scan(jpegRoundTrip(t, page), 1), nil)
	if res.Found {
		t.Errorf("found a sheet at %v in a flat scan", res.Corners)
	}
	want := [4]image.Point{{0, 0}, {paperW, 0}, {paperW, paperH}, {0, paperH}}
	if res.Corners != want {
		t.Errorf("corners %v, want the scan's own %v", res.Corners, want)
	}
	// A phone photo that the paper fills, in uneven light: no table.
	o := PhotoOpts{Width: 480, Height: 680, Fill: 1.02, Shadow: 0.3, Noise: 4, Seed: 8}
	res = check(t, s, camera(t, s, o), nil)
	if res.Found {
		t.Errorf("found a sheet at %v in a photo the paper fills", res.Corners)
	}
}

// A sheet that runs off the top and bottom of the photo: its sides are
// found, the frame stands in for the rest.
func TestCloseUp(t *testing.T) {
	t.Parallel()
	s := sheetSix()
	o := PhotoOpts{Fill: 1.08, Tilt: 2, Noise: 4, Seed: 12}
	res := check(t, s, camera(t, s, o), nil)
	if !res.Found {
		t.Fatal("sheet not found")
	}
	for i, want := range []int{0, 0, 480, 480} {
		if res.Corners[i].Y != want {
			t.Errorf("corner %d at %v, want it on the frame's edge", i, res.Corners[i])
		}
	}
}

// A close-up that shows one edge of the sheet and the table beyond it: the
// table is left out. The crop also moves the photo's origin.
func TestOneEdge(t *testing.T) {
	t.Parallel()
	s := sheetThree()
	o := PhotoOpts{Width: 1296, Height: 972, Fill: 0.9, Noise: 4, Seed: 13}
	full := camera(t, s, o)
	c := photoCorners(s.paper.Rect, o)
	hom, _ := full.toPaper.inv()
	at := func(u, v float64) pt { return hom.apply(pt{u * paperW, v * paperH}) }
	crop := image.Rect(int(c[0].x)-80, int(at(0, 0.06).y), int(at(0.95, 0).x), int(at(0, 0.94).y))
	photo := shot{full.img.(*image.YCbCr).SubImage(crop), full.toPaper}
	res := check(t, s, photo, nil)
	if !res.Found {
		t.Fatal("sheet not found")
	}
	for _, i := range []int{0, 3} {
		if d := float64(res.Corners[i].X) - c[0].x; math.Abs(d) > 4 {
			t.Errorf("corner %d at %v, want x %.0f", i, res.Corners[i], c[0].x)
		}
	}
}

func TestBlankSheet(t *testing.T) {
	t.Parallel()
	s := newTestSheet()
	for seed := uint64(40); seed < 43; seed++ {
		res, err := Clean(camera(t, s, PhotoOpts{Tilt: 8, Skew: 0.2, Shadow: 0.8, Noise: 6, Seed: seed}).img, nil)
		if !errors.Is(err, ErrNoDrawing) {
			t.Fatalf("seed %d: %v, want ErrNoDrawing", seed, err)
		}
		if res == nil || !res.Found {
			t.Errorf("seed %d: %+v: the sheet should still be found", seed, res)
		}
	}
}

func TestBadPhotos(t *testing.T) {
	black := image.NewGray(image.Rect(0, 0, 640, 480))
	grey := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	for _, tc := range []struct {
		name  string
		photo image.Image
		want  string
	}{
		{"nil", nil, "sheet: no photo"},
		{"empty", image.NewRGBA(image.Rectangle{}), "sheet: the photo is empty"},
		{"1×1", image.NewRGBA(image.Rect(0, 0, 1, 1)), "too small"},
		{"31×400", image.NewGray(image.Rect(0, 0, 31, 400)), "too small"},
		{"black", black, "too dark"},
		{"grey", grey, ErrNoDrawing.Error()},
		{"uniform", image.NewUniform(color.White), "larger than any camera"},
	} {
		res, err := Clean(tc.photo, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sheet: ") {
			t.Errorf("%s: %v, %v; want an error with %q", tc.name, res, err, tc.want)
		}
	}
}

// A photo bigger than the camera's (a 24 Mpixel phone) is worked on
// reduced, not refused, within the memory the package comment promises.
// Not parallel: the allocation count is the whole program's.
func TestLargePhoto(t *testing.T) {
	s := sheetThree()
	big := image.NewGray(image.Rect(0, 0, 4000, 6000))
	for y := 0; y < 6000; y++ {
		src := s.paper.Pix[(y*paperH/6000)*s.paper.Stride:]
		for x := 0; x < 4000; x++ {
			big.Pix[y*big.Stride+x] = src[x*paperW/4000]
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := check(t, s, scan(big, 4000.0/paperW), nil)
	runtime.ReadMemStats(&after)
	if res.Size.Y != 1600 {
		t.Errorf("size %v, want 1600 high", res.Size)
	}
	// check itself allocates next to nothing.
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("Clean allocated %.1f MB", float64(n)/(1<<20))
	if n > 20<<20 {
		t.Errorf("Clean allocated %d MB for a 24 Mpixel photo", n>>20)
	}
}

func TestOpts(t *testing.T) {
	t.Parallel()
	s := sheetThree()
	photo := camera(t, s, PhotoOpts{Tilt: 3, Noise: 3, Seed: 50})
	res := check(t, s, photo, &Opts{MaxSide: 500, Margin: 30})
	if max(res.Size.X, res.Size.Y) != 500 {
		t.Errorf("size %v, want 500 on the long side", res.Size)
	}
	for _, d := range res.Drawings {
		if d.Image.Rect.Min != (image.Point{}) || d.Image.Rect.Size() != d.Rect.Size() {
			t.Errorf("image %v for rect %v", d.Image.Rect, d.Rect)
		}
		// The margin is white.
		for x := 0; x < d.Rect.Dx(); x++ {
			if v := d.Image.GrayAt(x, 0).Y; v != 255 && d.Rect.Min.Y > 0 {
				t.Fatalf("margin pixel %d is %d", x, v)
			}
		}
	}
	// Everything is dust when drawings must cover half the sheet.
	if _, err := Clean(photo.img, &Opts{MinInk: 0.5}); !errors.Is(err, ErrNoDrawing) {
		t.Errorf("MinInk 0.5: %v", err)
	}
}

func TestReadingOrder(t *testing.T) {
	t.Parallel()
	s := sheetSix()
	photo := camera(t, s, PhotoOpts{Tilt: -6, Skew: 0.1, Noise: 3, Seed: 60})
	res := check(t, s, photo, nil)
	for i, d := range res.Drawings {
		if v := iou(toPaper(res, photo, d.Rect), s.boxes[i].Inset(-12*paperW/res.Size.X)); v < 0.7 {
			t.Errorf("drawing %d (%v) is not figure %d (%v)", i, toPaper(res, photo, d.Rect), i, s.boxes[i])
		}
	}
	r := func(x, y, w, h int) image.Rectangle { return image.Rect(x, y, x+w, y+h) }
	// A tall figure beside two short ones: one row, left to right, then
	// the row below.
	boxes := []image.Rectangle{r(500, 120, 100, 100), r(0, 100, 100, 300), r(250, 90, 100, 80), r(10, 500, 100, 100)}
	got := readingOrder(boxes)
	if want := []int{1, 2, 0, 3}; !equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
