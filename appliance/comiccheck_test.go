package appliance

import (
	"bytes"
	"context"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	art "tinkerbox/images/comic"
	"tinkerbox/scenes/comic"
)

// TestComicCheckMakerPack: `comic check DIR` loads a maker's pack on the
// built-in one (its manifest names the base), and names a bad entry by the
// maker's file.
func TestComicCheckMakerPack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "comic-pack")
	mp := comic.OpenMakerPack(dir, art.Pack(), func() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC) })
	ring := image.NewGray(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			d := (x-100)*(x-100) + (y-100)*(y-100)
			if d > 60*60 || d < 54*54 {
				ring.Pix[y*200+x] = 255
			}
		}
	}
	specs, err := mp.Add([]image.Image{ring})
	if err != nil {
		t.Fatal(err)
	}
	sheet := filepath.Join(t.TempDir(), "sheet.png")
	check := func() (string, error) {
		var out, errb bytes.Buffer
		err := Comic(context.Background(), Options{Stdout: &out, Stderr: &errb}, []string{"check", dir, "--sheet", sheet})
		return out.String() + errb.String(), err
	}
	out, err := check()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, ": 6 grids, 51 images, themes [") || !strings.Contains(out, " mine ") && !strings.Contains(out, " mine]") {
		t.Errorf("comic check said %q", out)
	}
	if st, err := os.Stat(sheet); err != nil || st.Size() == 0 {
		t.Errorf("contact sheet: %v", err)
	}
	// A bad focal area, written by hand: named by the maker's file.
	b := []byte(`{"name": "my drawings", "cell": 480, "base": "builtin", "grids": [], "images": [{"file": "` + specs[0].File + `", "theme": "mine", "role": "action", "focal": [0, 0, 999, 10]}, {"file": "` + specs[0].File + `", "theme": "mine", "role": "action"}]}`)
	if err := os.WriteFile(filepath.Join(dir, comic.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = check()
	if err == nil || !strings.Contains(err.Error(), "1 items skipped") || !strings.Contains(out, "comic: pack: "+specs[0].File+": focal: [0 0 999 10] is not inside the") {
		t.Errorf("a bad entry: %v\n%s", err, out)
	}
}
