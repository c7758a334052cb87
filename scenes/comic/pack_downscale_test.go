package comic

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"tinkerbox/images/imgdecode/imgtest"
)

// scanPack is a pack with one 4×3 grid of 480-pixel cells (largest panel
// 1920×1440) and drawing as its only image.
func scanPack(t testing.TB, drawing []byte, spec ImageSpec) fstest.MapFS {
	const cell = 480
	grid := GridSpec{ID: "g", Cols: 4, Rows: 3, Gutter: 8, Margin: 8,
		Borders: []BorderSpec{{W: 1, H: 1, Border: "f1.png"}}}
	if spec.File == "" {
		spec = ImageSpec{File: "scan.png", Theme: "t", Role: Action}
	}
	return testFS(t, Manifest{Cell: cell, Grids: []GridSpec{grid}, Images: []ImageSpec{spec}}, map[string][]byte{
		"f1.png":  pngBytes(t, frame(cell-8, cell-8)),
		spec.File: drawing,
	})
}

func greyScan(t testing.TB, w, h int) []byte {
	var b bytes.Buffer
	if err := imgtest.GreyScanPNG(&b, w, h); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// isolatedEnv marks a test binary run to measure one test alone.
const isolatedEnv = "TINKERBOX_TEST_ISOLATED"

// TestLargeScanReducedAsRead: an 8000×8000 grey scan (64 MB decoded) is
// reduced to fit the largest panel (by 6, to 1334×1334) as soon as it is
// decoded; nothing but the decode itself is made at full size. Before, the
// load made an NRGBA copy (256 MB) and a flood-fill map (64 MB) of it.
func TestLargeScanReducedAsRead(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes an 8000×8000 scan")
	}
	// The allocation count is the whole process's: other tests' goroutines
	// (a scene's warm-up finishing its strip) would count too. Measured
	// alone, in a process of its own.
	if os.Getenv(isolatedEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLargeScanReducedAsRead$", "-test.v")
		cmd.Env = append(os.Environ(), isolatedEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("measured alone: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "--- PASS: TestLargeScanReducedAsRead") {
			t.Fatalf("measured alone, it did not run:\n%s", out)
		}
		t.Logf("measured alone:\n%s", out)
		return
	}
	focal := [4]int{2000, 2000, 4000, 4000} // the ring, in the file's pixels
	fsys := scanPack(t, greyScan(t, 8000, 8000), ImageSpec{File: "scan.png", Theme: "t", Role: Action, Focal: &focal})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, probs, err := LoadPack(fsys)
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	im := p.Images[0]
	art, _, err := im.Pixels()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// The ring runs from 2000 to 6000: 667 pixels once reduced by 6.
	if im.reduce != 6 || im.Bounds.Dx() < 665 || im.Bounds.Dx() > 668 || art.Rect != im.Bounds || im.Focal != im.Bounds {
		t.Fatalf("reduced by %d to %v, focal %v, art %v", im.reduce, im.Bounds, im.Focal, art.Rect)
	}
	if c := art.NRGBAAt(3, 300); c.A != 255 || c.R > 40 {
		t.Errorf("the ring's edge is %v, want black", c)
	}
	if c := art.NRGBAAt(300, 300); c.A != 255 || c.R != 255 {
		t.Errorf("inside the ring is %v, want opaque white", c)
	}
	// Two decodes (the check, then Pixels) of 61 MiB each, and small
	// working copies; the old load allocated over 700 MB.
	if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 200 {
		t.Errorf("allocated %d MiB to load and draw the scan", mb)
	}
	t.Logf("allocated %d MiB in all for two decodes", (after.TotalAlloc-before.TotalAlloc)>>20)
	if s, err := p.Compose(1); err != nil {
		t.Fatal(err)
	} else {
		p.Render(s, 384, "x", "")
	}
}

// TestPackImagesBounded: what cannot be reduced within the memory budget
// is refused from its header, with the dimensions.
func TestPackImagesBounded(t *testing.T) {
	for name, c := range map[string]struct {
		drawing []byte
		want    string
	}{
		"colour bomb":  {imgtest.PNGBomb(8000, 8000), "scan.png: file: the drawing is 8000×8000 and needs 245 MiB decoded, more than the 64 MiB limit (a grey scan fits up to 8192×8192"},
		"header bomb":  {imgtest.PNGBomb(60000, 60000), "the drawing is 60000×60000 and needs 13733 MiB decoded"},
		"grey too big": {greyHeader(9000, 9000), "the drawing is 9000×9000 and needs 78 MiB decoded"},
		"jpeg bomb":    {imgtest.JPEGBomb(60000, 60000, false), "scan.png: file: corrupt PNG: a jpeg file named .png"},
	} {
		_, probs, err := LoadPack(scanPack(t, c.drawing, ImageSpec{}))
		if err == nil || len(probs) != 1 || !strings.Contains(probs[0].String(), c.want) {
			t.Errorf("%s: %v %v, want %q", name, err, probs, c.want)
		}
	}
	_, probs, _ := LoadPack(scanPack(t, imgtest.JPEGBomb(60000, 60000, false), ImageSpec{File: "scan.jpg", Theme: "t", Role: Action}))
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "the drawing is 60000×60000 and needs") {
		t.Errorf("jpeg: %v", probs)
	}
	// A frame must match its panel, so it cannot be reduced: one beyond the
	// working budget is refused (here a 4000×4000 grey one, 16 Mpixel).
	big := testFS(t, Manifest{Cell: 2000, Grids: []GridSpec{{ID: "g", Cols: 2, Rows: 2, Borders: []BorderSpec{{W: 2, H: 2, Border: "f.png"}}, Panels: [][4]int{{0, 0, 2, 2}}}},
		Images: []ImageSpec{{File: "a.png", Theme: "t", Role: Action}}},
		map[string][]byte{"f.png": greyHeader(4000, 4000), "a.png": pngBytes(t, scan(20, 20))})
	for _, load := range []func(fsys fstest.MapFS) ([]Problem, error){
		func(f fstest.MapFS) ([]Problem, error) { _, p, err := LoadPack(f); return p, err },
		func(f fstest.MapFS) ([]Problem, error) { _, p, err := LoadBuiltinPack(f); return p, err },
	} {
		probs, err := load(big)
		if err == nil || len(probs) != 1 || !strings.Contains(probs[0].String(), "f.png: border: the frame is 4000×4000, more than the 8 Mpixel limit (use a smaller cell)") {
			t.Errorf("big frame: %v %v", err, probs)
		}
	}
}

// greyHeader is a grey PNG header claiming w×h, with few rows after it.
func greyHeader(w, h int) []byte { return imgtest.PNGHeader(uint32(w), uint32(h), 0) }

// TestPackDeviceFiles: a pack file that is a device (stat says 0 bytes) is
// read no further than the limit.
func TestPackDeviceFiles(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, ManifestFile)); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadPack(os.DirFS(dir))
	if err == nil || !strings.Contains(err.Error(), "manifest.json is larger than 1048576 bytes") {
		t.Fatal(err)
	}
}

func TestShrink(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	src.SetNRGBA(0, 0, color.NRGBA{200, 100, 0, 255})
	src.SetNRGBA(1, 0, color.NRGBA{0, 0, 0, 0}) // transparent: does not darken
	src.SetNRGBA(2, 0, color.NRGBA{10, 20, 30, 255})
	src.SetNRGBA(2, 1, color.NRGBA{30, 40, 50, 255})
	d := shrink(src, 2)
	if d.Rect.Dx() != 2 || d.Rect.Dy() != 1 {
		t.Fatal(d.Rect)
	}
	if c := d.NRGBAAt(0, 0); c != (color.NRGBA{200, 100, 0, 64}) {
		t.Errorf("left block %v", c)
	}
	if c := d.NRGBAAt(1, 0); c != (color.NRGBA{20, 30, 40, 255}) {
		t.Errorf("right column %v", c)
	}
	if k := reduction(8000, 8000, image.Pt(1920, 1440)); k != 6 {
		t.Errorf("reduction %d", k)
	}
	if k := reduction(100, 100, image.Pt(1920, 1440)); k != 1 {
		t.Errorf("reduction %d", k)
	}
	if k := reduction(60000, 10, image.Pt(1<<20, 1<<20)); (60000+k-1)/k*10 > maxWorkPixels || k != 1 {
		t.Errorf("reduction %d", k)
	}
	if k := reduction(16000, 16000, image.Pt(16000, 16000)); k != 6 {
		t.Errorf("reduction by %d keeps %d pixels", k, (16000/k)*(16000/k))
	}
}
