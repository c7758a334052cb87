package comic

import (
	"bytes"
	"errors"
	"image"
	"io/fs"
	"testing"
	"testing/fstest"

	art "tinkerbox/images/comic"
	"tinkerbox/images/imgdecode"
)

// TestBuiltinPackPrecomputed: what the built-in pack's build-time check
// says (checked.json) and its reductions are what checking the pack now
// gives, file for file: a drawing, a frame or the loader changed without
// go generate ./images/comic fails here.
func TestBuiltinPackPrecomputed(t *testing.T) {
	checkFile, levels, err := precompute(art.Pack())
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := fs.ReadFile(art.Pack(), CheckedFile); err != nil || !bytes.Equal(raw, checkFile) {
		t.Fatalf("%s is not what checking the pack gives now (%v): run go generate ./images/comic", CheckedFile, err)
	}
	stale := 0
	for name, want := range levels {
		got, err := readPNG(art.Pack(), name, func(imgdecode.Info) error { return nil })
		if err == nil && !samePixels(got, want) {
			err = errors.New("other pixels")
		}
		if err != nil {
			if stale++; stale <= 5 {
				t.Errorf("%s: not what checking the pack gives now: %v", name, err)
			}
		}
	}
	err = fs.WalkDir(art.Pack(), ReducedDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && levels[p] == nil {
			stale++
			t.Errorf("%s: embedded, but checking the pack makes no such file", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if stale > 0 {
		t.Fatalf("%d of %d reductions are stale: run go generate ./images/comic", stale, len(levels))
	}
	// And they are used: the built-in pack loads from them.
	p, _, err := LoadBuiltinPack(art.Pack())
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range p.Images {
		if !im.clean || im.levels[partOutline] == 0 || im.levels[partArt] == 0 {
			t.Fatalf("%s: loaded without its build-time check (clean %v, levels %v)", im.File, im.clean, im.levels)
		}
	}
	for _, g := range p.Grids {
		for _, bs := range g.borders {
			for _, b := range bs {
				if b.levels[partArt] == 0 || b.levels[partMask] == 0 {
					t.Fatalf("%s: loaded without its reductions", b.File)
				}
			}
		}
	}
}

// A stale or foreign check file is not used: a check of another version,
// or one that says another size for a drawing, is ignored and the files
// are checked as LoadPack would.
func TestBuiltinPackIgnoresAStaleCheck(t *testing.T) {
	raw, err := fs.ReadFile(art.Pack(), CheckedFile)
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Replace(raw, []byte(`"version": 1`), []byte(`"version": 99`), 1)
	p, probs, err := LoadBuiltinPack(overlay{fstest.MapFS{CheckedFile: {Data: other}}, art.Pack()})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	for _, im := range p.Images {
		if im.clean || im.levels != (partLevels{}) {
			t.Fatalf("%s: a check of another version was used", im.File)
		}
	}
	full := defaultPack(t)
	for i, im := range p.Images {
		if im.Bounds != full.Images[i].Bounds || im.Focal != full.Images[i].Focal {
			t.Fatalf("%s: %v %v, LoadPack: %v %v", im.File, im.Bounds, im.Focal, full.Images[i].Bounds, full.Images[i].Focal)
		}
	}
}

// samePixels compares a decoded reduction with one as it is made: grey
// planes by value, art as NRGBA (an opaque one decodes as RGBA).
func samePixels(got, want image.Image) bool {
	if got.Bounds() != want.Bounds() {
		return false
	}
	switch w := want.(type) {
	case *image.Gray:
		g, ok := got.(*image.Gray)
		return ok && bytes.Equal(g.Pix, w.Pix)
	case *image.NRGBA:
		return bytes.Equal(toNRGBA(got).Pix, w.Pix)
	}
	return false
}
