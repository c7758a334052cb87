package comic

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	art "tinkerbox/images/comic"
)

var shared struct {
	once  sync.Once
	p     *Pack
	probs []Problem
	err   error
}

// defaultPack loads the embedded pack once for the whole test binary.
func defaultPack(t testing.TB) *Pack {
	t.Helper()
	shared.once.Do(func() { shared.p, shared.probs, shared.err = LoadPack(art.Pack()) })
	if shared.err != nil || len(shared.probs) > 0 {
		t.Fatalf("default pack: %v %v", shared.err, shared.probs)
	}
	return shared.p
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// frame draws a closed square frame w×h on transparency.
func frame(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < 3 || y < 3 || x >= w-3 || y >= h-3 {
				m.Set(x, y, color.Black)
			}
		}
	}
	return m
}

// scan is a "scanned" drawing: a black ring on an opaque white page.
func scan(w, h int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	for y := h / 4; y < 3*h/4; y++ {
		for x := w / 4; x < 3*w/4; x++ {
			if x < w/4+3 || y < h/4+3 || x >= 3*w/4-3 || y >= 3*h/4-3 {
				m.Pix[y*w+x] = 0
			}
		}
	}
	return m
}

func testFS(t testing.TB, man Manifest, extra map[string][]byte) fstest.MapFS {
	t.Helper()
	b, err := json.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	fs := fstest.MapFS{ManifestFile: {Data: b}}
	for k, v := range extra {
		fs[k] = &fstest.MapFile{Data: v}
	}
	return fs
}

func TestLoadPackSkipsBadItems(t *testing.T) {
	const cell = 64
	grid := GridSpec{ID: "g", Cols: 2, Rows: 2, Gutter: 4, Margin: 4,
		Borders: []BorderSpec{{W: 1, H: 1, Border: "f1.png"}}}
	focal := [4]int{0, 0, 500, 500}
	man := Manifest{Cell: cell, Grids: []GridSpec{grid,
		{ID: "nob", Cols: 2, Rows: 2, Borders: []BorderSpec{{W: 2, H: 1, Border: "f1.png"}}}, // wrong size, skipped
	}, Images: []ImageSpec{
		{File: "ok.png", Theme: "t", Role: Action},
		{File: "corrupt.png", Theme: "t", Role: Action},
		{File: "ok.png", Theme: "t", Role: "climax"},
		{File: "ok.png", Theme: "t", Role: Action, Focal: &focal},
		{File: "missing.png", Theme: "t", Role: Action},
		{File: "ok.png", Role: Action},
		{File: "ok.png", Theme: "t", Role: Action, Anchor: "middle"},
		{File: "ok.png", Theme: "t", Role: Action, Horizon: &[2]float64{0.9, 0.1}},
	}}
	fs := testFS(t, man, map[string][]byte{
		"f1.png":      pngBytes(t, frame(cell-4, cell-4)),
		"ok.png":      pngBytes(t, scan(40, 40)),
		"corrupt.png": []byte("\x89PNG\r\n\x1a\nnot really"),
	})
	p, probs, err := LoadPack(fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Grids) != 1 || len(p.Images) != 1 {
		t.Fatalf("%d grids, %d images", len(p.Grids), len(p.Images))
	}
	want := []string{"f1.png: border: is (60,60)", "corrupt.png: file: corrupt PNG", "ok.png: role", "ok.png: focal", "missing.png: file", "ok.png: theme", "ok.png: anchor", "ok.png: horizon"}
	if len(probs) != len(want) {
		t.Fatalf("problems: %v", probs)
	}
	for i, w := range want {
		if !strings.Contains(probs[i].String(), w) {
			t.Errorf("problem %d = %q, want it to name %q", i, probs[i], w)
		}
	}
	// The scan: white outside the ring is transparent, trimmed to the ring,
	// focal = the bounding box, the white inside kept.
	im := p.Images[0]
	art, _, err := im.Pixels()
	if err != nil {
		t.Fatal(err)
	}
	if im.Bounds != art.Rect || art.Rect.Dx() != 20 || art.Rect.Dy() != 20 || im.Focal != art.Rect {
		t.Fatalf("trimmed to %v (bounds %v), focal %v", art.Rect, im.Bounds, im.Focal)
	}
	if a := art.NRGBAAt(10, 10).A; a != 255 {
		t.Fatalf("inside of the ring has alpha %d, want opaque white", a)
	}
	// The mask was found by flood fill inside the frame.
	_, mask, err := p.Grids[0].borders[image.Pt(1, 1)][0].Pixels()
	if err != nil {
		t.Fatal(err)
	}
	if mask.AlphaAt(30, 30).A != 255 || mask.AlphaAt(0, 0).A != 0 {
		t.Fatal("mask not filled inside the frame")
	}
}

func TestLoadPackUnusable(t *testing.T) {
	for name, fs := range map[string]fstest.MapFS{
		"no manifest": {},
		"bad json":    {ManifestFile: {Data: []byte("{")}},
		"unknown key": {ManifestFile: {Data: []byte(`{"grdis": []}`)}},
		"no grid":     testFS(t, Manifest{Images: []ImageSpec{{File: "a.png", Theme: "t", Role: Action}}}, map[string][]byte{"a.png": pngBytes(t, scan(20, 20))}),
		"open frame": testFS(t, Manifest{Cell: 32, Grids: []GridSpec{{ID: "g", Cols: 1, Rows: 1, Borders: []BorderSpec{{W: 1, H: 1, Border: "f.png"}}}},
			Images: []ImageSpec{{File: "a.png", Theme: "t", Role: Action}}},
			map[string][]byte{"a.png": pngBytes(t, scan(20, 20)), "f.png": pngBytes(t, image.NewNRGBA(image.Rect(0, 0, 32, 32)))}),
		"huge png header": testFS(t, Manifest{Cell: 32, Grids: []GridSpec{{ID: "g", Cols: 1, Rows: 1, Borders: []BorderSpec{{W: 1, H: 1, Border: "f.png"}}}}},
			map[string][]byte{"f.png": hugeHeader()}),
	} {
		p, _, err := LoadPack(fs)
		if err == nil || p != nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// hugeHeader is a PNG claiming 100000x100000 pixels.
func hugeHeader() []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x06\x00\x00\x00")
	return append(b, 0, 0, 0, 0)
}

func FuzzLoadPack(f *testing.F) {
	f.Add([]byte(`{"cell":32,"grids":[{"id":"g","cols":1,"rows":1,"borders":[{"w":1,"h":1,"border":"f.png"}]}],"images":[{"file":"a.png","theme":"t","role":"action","focal":[0,0,5,5]}]}`))
	f.Add([]byte(`{"cell":-1}`))
	f.Add([]byte(`{"grids":[{"id":"g","cols":9,"rows":0,"panels":[[0,0,9,9]]}]}`))
	f.Add([]byte(`{"images":[{"file":"../etc/passwd","theme":"t","role":"action"}]}`))
	fr := pngBytes(f, frame(32, 32))
	a := pngBytes(f, scan(20, 20))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		fs := fstest.MapFS{ManifestFile: {Data: manifest}, "f.png": {Data: fr}, "a.png": {Data: a}}
		p, _, err := LoadPack(fs)
		if err != nil {
			return
		}
		// Whatever loads must compose and render without panicking.
		if s, err := p.Compose(1); err == nil {
			p.Render(s, 64, "x", "")
		}
	})
}

// TestBuiltinPackLoadsTheSame: the header-only load of the embedded pack
// yields the same grids, frames and drawings as the full check, and renders
// the same strip.
func TestBuiltinPackLoadsTheSame(t *testing.T) {
	full := defaultPack(t)
	quick, probs, err := LoadBuiltinPack(art.Pack())
	if err != nil || len(probs) > 0 {
		t.Fatalf("LoadBuiltinPack: %v %v", err, probs)
	}
	if len(quick.Grids) != len(full.Grids) || len(quick.Images) != len(full.Images) {
		t.Fatalf("%d grids, %d images; full check: %d, %d", len(quick.Grids), len(quick.Images), len(full.Grids), len(full.Images))
	}
	a, err := full.Compose(7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := quick.Compose(7)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(full.Render(a, 384, "", "").Pix, quick.Render(b, 384, "", "").Pix) {
		t.Fatal("the strips differ")
	}
}

func TestBuiltinPackStillChecksFrameSizes(t *testing.T) {
	frame := image.NewNRGBA(image.Rect(0, 0, 10, 10)) // a 1x1 panel needs 32-gutter
	fsys := testFS(t, Manifest{Cell: 32, Grids: []GridSpec{{ID: "g", Cols: 1, Rows: 1, Borders: []BorderSpec{{W: 1, H: 1, Border: "f.png"}}}},
		Images: []ImageSpec{{File: "a.png", Theme: "t", Role: Action}}},
		map[string][]byte{"f.png": pngBytes(t, frame), "a.png": pngBytes(t, scan(20, 20))})
	_, probs, err := LoadBuiltinPack(fsys)
	if err == nil || len(probs) != 1 || probs[0].File != "f.png" || !strings.Contains(probs[0].Err.Error(), "needs") {
		t.Fatalf("err %v, problems %v", err, probs)
	}
}

// maskOf reads every pixel type as the colour model does.
func TestMaskOfPixelTypes(t *testing.T) {
	slow := func(src image.Image) *image.Alpha {
		b := src.Bounds()
		out := image.NewAlpha(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				g := color.Gray16Model.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.Gray16).Y
				_, _, _, a := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
				out.Pix[y*out.Stride+x] = uint8((uint32(g) * a / 0xffff) >> 8)
			}
		}
		return out
	}
	r := image.Rect(3, 4, 40, 30)
	srcs := []image.Image{image.NewRGBA(r), image.NewNRGBA(r), image.NewGray(r), image.NewCMYK(r)}
	for i, src := range srcs {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				v := uint8(x*37 + y*91 + i)
				c := color.NRGBA{v, v ^ 0x5a, uint8(x * y), uint8(y * 11)}
				src.(draw.Image).Set(x, y, c)
			}
		}
		if got, want := maskOf(src), slow(src); !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%T: the mask differs from the colour model's", src)
		}
	}
}
