package comic

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestFittingInvariants checks the fitting rules on 1,000 strips.
func TestFittingInvariants(t *testing.T) {
	p := defaultPack(t)
	in := p.Cell / insetDiv
	themes := map[string]int{}
	for seed := uint64(0); seed < 1000; seed++ {
		s, err := p.Compose(seed)
		if err != nil {
			t.Fatal(err)
		}
		themes[s.Theme]++
		n := len(s.Panels)
		if n < 3 {
			t.Fatalf("seed %d: %d panels", seed, n)
		}
		bounds := image.Rectangle{Max: s.Size}
		for i, pn := range s.Panels {
			where := fmt.Sprintf("seed %d panel %d (%v, %s)", seed, i, pn.Cells, pn.Role)
			if pn.Image == nil {
				t.Fatalf("%s: empty panel", where)
			}
			if !pn.Rect.In(bounds) {
				t.Fatalf("%s: %v outside the strip %v", where, pn.Rect, bounds)
			}
			if pn.Image.Theme != s.Theme {
				t.Errorf("%s: image %s from theme %s in a %s strip", where, pn.Image.File, pn.Image.Theme, s.Theme)
			}
			// Focal area inside the panel, inset on every side but the anchor.
			allowed := pn.Rect.Inset(in)
			ir := pn.ImageRect()
			switch pn.Anchor {
			case EdgeBottom:
				allowed.Max.Y = pn.Rect.Max.Y
				if ir.Max.Y != pn.Rect.Max.Y {
					t.Fatalf("%s: bottom-anchored image ends at %d, panel at %d", where, ir.Max.Y, pn.Rect.Max.Y)
				}
			case EdgeTop:
				allowed.Min.Y = pn.Rect.Min.Y
				if ir.Min.Y != pn.Rect.Min.Y {
					t.Fatalf("%s: top-anchored image not at the top", where)
				}
			case EdgeLeft:
				allowed.Min.X = pn.Rect.Min.X
				if ir.Min.X != pn.Rect.Min.X {
					t.Fatalf("%s: left-anchored image not at the left", where)
				}
			case EdgeRight:
				allowed.Max.X = pn.Rect.Max.X
				if ir.Max.X != pn.Rect.Max.X {
					t.Fatalf("%s: right-anchored image not at the right", where)
				}
			}
			if !pn.Focal.In(allowed) || pn.Focal.Empty() {
				t.Fatalf("%s: focal %v not inside %v", where, pn.Focal, allowed)
			}
			if pn.Image.MinW > pn.Cells.Dx() || pn.Image.MinH > pn.Cells.Dy() {
				t.Fatalf("%s: %s needs %dx%d cells", where, pn.Image.File, pn.Image.MinW, pn.Image.MinH)
			}
			// Facing follows the reading direction whenever the image can.
			if f := pn.Image.Facing; f != FacingNone && pn.Image.Flip {
				if pn.Flip == (f == wantFacing(pn.Role)) {
					t.Fatalf("%s: %s faces %s, flipped=%v, role wants %s", where, pn.Image.File, f, pn.Flip, wantFacing(pn.Role))
				}
			}
		}
		if s.Panels[0].Role != Establishing || s.Panels[n-1].Role != Closing {
			t.Fatalf("seed %d: story runs %s … %s", seed, s.Panels[0].Role, s.Panels[n-1].Role)
		}
		// The climax is the largest panel of the second half.
		climax := -1
		for i, pn := range s.Panels {
			if pn.Climax {
				climax = i
			}
		}
		if climax < n/2 && n > 3 {
			t.Fatalf("seed %d: climax at panel %d of %d", seed, climax, n)
		}
		for i := n / 2; i <= n-2 && n > 3; i++ {
			if a, c := s.Panels[i].Cells, s.Panels[climax].Cells; a.Dx()*a.Dy() > c.Dx()*c.Dy() {
				t.Fatalf("seed %d: panel %d is larger than the climax %d", seed, i, climax)
			}
		}
		// The recurring character appears in most of the story's panels.
		if s.Character != "" {
			seen := 0
			for _, pn := range s.Panels {
				if pn.Image.Character == s.Character {
					seen++
				}
			}
			if seen < 2 {
				t.Fatalf("seed %d: %s appears %d times", seed, s.Character, seen)
			}
		}
	}
	if len(themes) != 3 {
		t.Fatalf("themes used: %v", themes)
	}
}

func TestComposeDeterministic(t *testing.T) {
	p := defaultPack(t)
	a, _ := p.Compose(42)
	b, _ := p.Compose(42)
	c, _ := p.Compose(43)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different strips")
	}
	if reflect.DeepEqual(a.Panels, c.Panels) {
		t.Fatal("different seeds, same strip")
	}
}

// TestGolden renders a few seeds at the printer's width. Floating point
// differs a little between CPUs (fused multiply-add), so a few pixels may
// differ slightly; a different drawing would not.
func TestGolden(t *testing.T) {
	p := defaultPack(t)
	for _, seed := range []uint64{1, 2, 3, 7} {
		s, err := p.Compose(seed)
		if err != nil {
			t.Fatal(err)
		}
		got := p.Render(s, 384, fmt.Sprintf("tinkerbox comic #%d", seed), "2026-05-01")
		name := filepath.Join("testdata", fmt.Sprintf("strip-%d-384.png", seed))
		if *update {
			os.MkdirAll("testdata", 0o755)
			f, err := os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			png.Encode(f, got)
			f.Close()
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		want, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want.Bounds() != got.Bounds() {
			t.Fatalf("seed %d: %v, golden %v", seed, got.Bounds(), want.Bounds())
		}
		bad := 0
		for y := 0; y < got.Rect.Dy(); y++ {
			for x := 0; x < got.Rect.Dx(); x++ {
				r1, _, _, _ := got.At(x, y).RGBA()
				r2, _, _, _ := want.At(x, y).RGBA()
				if d := int(r1>>8) - int(r2>>8); d > 48 || d < -48 {
					bad++
				}
			}
		}
		if limit := got.Rect.Dx() * got.Rect.Dy() / 1000; bad > limit {
			t.Errorf("seed %d: %d pixels differ from %s (limit %d)", seed, bad, name, limit)
		}
	}
}
