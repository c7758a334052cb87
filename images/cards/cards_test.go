package cards

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden hashes in testdata")

func TestDemoDeterministicAndUnique(t *testing.T) {
	a, b := Demo(), Demo()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Demo differs between calls")
	}
	if len(a) != DistinctCards+Reprints {
		t.Fatalf("%d cards, want %d", len(a), DistinctCards+Reprints)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	for i, c := range a {
		if ids[c.ID] {
			t.Errorf("duplicate ID %s", c.ID)
		}
		ids[c.ID] = true
		if want := "demo-" + c.Set + "-" + c.Number; c.ID != want {
			t.Errorf("ID %s, want %s", c.ID, want)
		}
		if i < DistinctCards {
			if names[c.Name] {
				t.Errorf("first printings repeat %q", c.Name)
			}
			names[c.Name] = true
		}
	}
	// IDs are stored in catalogs: the scheme and order must not drift.
	if a[0].ID != "demo-tbx-1" || a[0].Name != "Ancient Automaton" || a[DistinctCards].ID != "demo-gpi-55" {
		t.Errorf("first IDs %s %q, %s: the ID scheme changed", a[0].ID, a[0].Name, a[DistinctCards].ID)
	}
}

func TestReprintsShareNameAndArt(t *testing.T) {
	cs := Demo()
	changed, kept := 0, 0
	for _, r := range cs[DistinctCards:] {
		var orig *Card
		for i := range cs[:DistinctCards] {
			if cs[i].Name == r.Name {
				orig = &cs[i]
			}
		}
		if orig == nil {
			t.Fatalf("reprint %s: no original %q", r.ID, r.Name)
		}
		if orig.Art != r.Art || orig.Set == r.Set {
			t.Errorf("reprint %s of %s: art %x/%x, sets %s/%s", r.ID, orig.ID, r.Art, orig.Art, r.Set, orig.Set)
		}
		if orig.Colour() != r.Colour() || orig.TypeLine() != r.TypeLine() {
			t.Errorf("reprint %s changed colour or type line", r.ID)
		}
		if orig.Border != r.Border {
			changed++
		} else {
			kept++
		}
	}
	if changed < 5 || kept < 5 {
		t.Errorf("reprints: %d change border, %d keep it; want some of each", changed, kept)
	}
}

func TestStrangersAreNotInDemo(t *testing.T) {
	names, arts := map[string]bool{}, map[uint64]bool{}
	for _, c := range Demo() {
		names[c.Name], arts[c.Art] = true, true
	}
	ss := Strangers(500)
	ids := map[string]bool{}
	for _, s := range ss {
		if names[s.Name] || arts[s.Art] {
			t.Errorf("stranger %s %q is in the demo catalog", s.ID, s.Name)
		}
		if ids[s.ID] || !strings.HasPrefix(s.ID, "stranger-") {
			t.Errorf("stranger ID %s duplicate or malformed", s.ID)
		}
		ids[s.ID] = true
	}
	if !reflect.DeepEqual(Strangers(20), ss[:20]) {
		t.Error("Strangers(20) is not a prefix of Strangers(500)")
	}
}

func TestBorderAndColourShares(t *testing.T) {
	cs := Demo()
	borders := map[Border]int{}
	colours := map[Colour]int{}
	for _, c := range cs {
		borders[c.Border]++
		colours[c.Colour()]++
	}
	n := len(cs)
	t.Logf("borders %v, colours %v of %d", borders, colours, n)
	if borders[BorderWhite]*10 < n || borders[Borderless]*10 < n || borders[BorderBlack]*2 < n {
		t.Errorf("border shares %v of %d: want ≥ 10 %% white and borderless, ≥ 50 %% black", borders, n)
	}
	for col := White; col < numColours; col++ {
		if colours[col]*25 < n {
			t.Errorf("colour %s on %d of %d cards, want ≥ 4 %%", col, colours[col], n)
		}
	}
}

// The art box is the same picture whatever the border, so a reprint that
// changes border keeps its art hash.
func TestArtBoxSameAcrossBorders(t *testing.T) {
	c := Demo()[3]
	art := FaceLayout(BorderBlack).Art
	var faces []*image.RGBA
	for _, b := range []Border{BorderBlack, BorderWhite, Borderless} {
		c.Border = b
		faces = append(faces, Render(c))
	}
	for i, f := range faces[1:] {
		for y := art.Min.Y; y < art.Max.Y; y++ {
			for x := art.Min.X; x < art.Max.X; x++ {
				if f.RGBAAt(x, y) != faces[0].RGBAAt(x, y) {
					t.Fatalf("border %d: art pixel (%d,%d) %v, black border has %v", i+1, x, y, f.RGBAAt(x, y), faces[0].RGBAAt(x, y))
				}
			}
		}
	}
}

func TestFaceAnatomy(t *testing.T) {
	cs := Demo()
	for _, c := range cs[:40] {
		f := Render(c)
		if f.Rect.Dx() != FaceWidth || f.Rect.Dy() != FaceHeight {
			t.Fatalf("face %v", f.Rect)
		}
		if p := f.RGBAAt(0, 0); p.R != 255 || p.G != 255 || p.B != 255 {
			t.Errorf("%s: corner outside the rounding is %v, want white", c.ID, p)
		}
		edge := f.RGBAAt(FaceWidth/2, 4)
		lum := (int(edge.R) + int(edge.G) + int(edge.B)) / 3
		switch c.Border {
		case BorderBlack:
			if lum > 40 {
				t.Errorf("%s: black border lum %d", c.ID, lum)
			}
		case BorderWhite:
			if lum < 220 {
				t.Errorf("%s: white border lum %d", c.ID, lum)
			}
		}
	}
}

// TestGolden pins the pixels of a few faces and shots. Float rounding
// differs between architectures (fused multiply-add), so the hashes are
// kept per GOARCH; run with -update to write them.
func TestGolden(t *testing.T) {
	cs := Demo()
	got := map[string]string{}
	hash := func(img *image.RGBA) string {
		s := sha256.Sum256(img.Pix)
		return hex.EncodeToString(s[:8])
	}
	for _, i := range []int{0, 7, 100, 333, 367} {
		got[cs[i].ID] = hash(Render(cs[i]))
	}
	st := Strangers(1)[0]
	got[st.ID] = hash(Render(st))
	for i, s := range goldenShots() {
		got[fmt.Sprint("shot-", i)] = hash(Photo(Render(cs[5]), s, 320, 240))
	}
	path := filepath.Join("testdata", "golden_"+runtime.GOARCH+".txt")
	if *update {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(got)) {
			fmt.Fprintf(&b, "%s %s\n", k, got[k])
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("no golden hashes for %s: run go test -run Golden -update", runtime.GOARCH)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			want[k] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pixels changed (rerun with -update if intended):\ngot  %v\nwant %v", got, want)
	}
}

func goldenShots() []Shot {
	return []Shot{
		{Angle: 4, Height: 200, Noise: 3, Seed: 1},
		{Angle: 190, Height: 180, TiltX: 3, TiltY: -2, Blur: 1, Noise: 5, Light: 0.3, Bed: BedLight, Seed: 2,
			Glare: [2]Glare{{U: 0.5, V: 0.3, Radius: 0.1, Strength: 1.2}}},
		{Angle: 77, Height: 150, TiltX: 20, TiltY: 8, Blur: 1.6, Noise: 6, Vignette: 0.4, Cast: [3]float64{0.06, 0, -0.05}, Bed: BedTextured, Seed: 3},
	}
}
