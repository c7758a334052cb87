package comic

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	art "tinkerbox/images/comic"
)

// A quarter turn clockwise: the left column becomes the top row, so the
// strip's first panel comes out of the printer first.
func TestTurnClockwise(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	src.Set(0, 0, red)  // top left
	src.Set(2, 1, blue) // bottom right
	got := TurnClockwise(src)
	if got.Rect != image.Rect(0, 0, 2, 3) {
		t.Fatalf("turned %v, want 2x3", got.Rect)
	}
	if got.RGBAAt(1, 0) != red || got.RGBAAt(0, 2) != blue {
		t.Fatalf("top left went to %v, bottom right to %v", got.RGBAAt(1, 0), got.RGBAAt(0, 2))
	}
	// Any image type, any origin.
	g := image.NewGray(image.Rect(5, 5, 8, 7))
	g.SetGray(5, 5, color.Gray{Y: 9})
	if c := TurnClockwise(g).RGBAAt(1, 0); c.R != 9 {
		t.Fatalf("grey top left went to %v", c)
	}
}

func TestParseOrientation(t *testing.T) {
	for in, want := range map[string]Orientation{"": OrientAuto, "auto": OrientAuto, "across": OrientAcross, "along": OrientAlong} {
		if got, err := ParseOrientation(in); err != nil || got != want {
			t.Errorf("ParseOrientation(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseOrientation("sideways"); err == nil {
		t.Error("sideways accepted")
	}
}

// TestPrintSizes: the default pack's grids on 58 mm paper (384 dots, 8 a
// millimetre) in each orientation. Across, every strip is the paper's
// width; along, its height and footer fill the width and it runs along the
// roll, so a wide strip's panels grow; auto turns exactly the strips wider
// than tall. The table is the README's (go test -run PrintSizes -v).
func TestPrintSizes(t *testing.T) {
	p := defaultPack(t)
	const paper = 384
	var table strings.Builder
	fmt.Fprintf(&table, "%-8s %-5s %-26s %-26s %s\n", "grid", "cells", "across (mm)", "along (mm)", "auto")
	for _, g := range p.Grids {
		s := &Strip{Grid: g, Cell: p.Cell, Size: g.Size(p.Cell)}
		across := PrintSize(s, paper, OrientAcross, true)
		along := PrintSize(s, paper, OrientAlong, true)
		auto := PrintSize(s, paper, OrientAuto, true)
		if across.X != paper {
			t.Errorf("%s across: %v, want %d dots wide", g.ID, across, paper)
		}
		if along.X > paper || along.X < paper-1 {
			t.Errorf("%s along: %v, want the paper's width across", g.ID, along)
		}
		wide := s.Size.X > s.Size.Y
		if OrientAuto.Along(s) != wide || (wide && auto != along) || (!wide && auto != across) {
			t.Errorf("%s (%v): auto prints %v", g.ID, s.Size, auto)
		}
		// A cell's size on paper, in dots.
		cellAcross := float64(p.Cell) * paper / float64(s.Size.X)
		cellAlong := float64(p.Cell) * float64(along.Y) / float64(s.Size.X)
		if wide && cellAlong < 1.2*cellAcross {
			t.Errorf("%s: a cell is %.0f dots along, %.0f across: along should be larger", g.ID, cellAlong, cellAcross)
		}
		mm := func(pt image.Point) string {
			return fmt.Sprintf("%.1f x %.1f", float64(pt.X)/DotsPerMM, float64(pt.Y)/DotsPerMM)
		}
		fmt.Fprintf(&table, "%-8s %-5s %-26s %-26s %s\n", g.ID, fmt.Sprintf("%dx%d", g.Cols, g.Rows),
			fmt.Sprintf("%s (cell %.0f mm)", mm(across), cellAcross/DotsPerMM),
			fmt.Sprintf("%s (cell %.0f mm)", mm(along), cellAlong/DotsPerMM),
			map[bool]string{true: "along", false: "across"}[wide])
	}
	t.Logf("print sizes on %d-dot paper, footer included:\n%s", paper, table.String())
}

// The print form is drawn at the size PrintSize says, turned when along.
func TestRenderPrintSize(t *testing.T) {
	p := defaultPack(t)
	seen := map[string]bool{}
	for seed := uint64(0); len(seen) < len(p.Grids) && seed < 400; seed++ {
		s, err := p.Compose(seed)
		if err != nil {
			t.Fatal(err)
		}
		if seen[s.Grid.ID] {
			continue
		}
		seen[s.Grid.ID] = true
		for _, o := range []Orientation{OrientAcross, OrientAlong, OrientAuto} {
			img := p.RenderPrint(s, 384, o, "tinkerbox comic #1", "2026-05-01")
			if want := PrintSize(s, 384, o, true); img.Rect.Size() != want {
				t.Errorf("seed %d (%s) %s: drew %v, PrintSize %v", seed, s.Grid.ID, o, img.Rect.Size(), want)
			}
			// The archive copy turned for the paper has the same shape.
			a := archiveSize(s)
			if got, _ := PaperSize(a.X, a.Y, 384, o); abs(got.Y-img.Rect.Dy()) > img.Rect.Dy()/12 {
				t.Errorf("seed %d (%s) %s: a reprint is %v, the first print %v", seed, s.Grid.ID, o, got, img.Rect.Size())
			}
		}
	}
	if len(seen) != len(p.Grids) {
		t.Fatalf("grids drawn: %v of %d", seen, len(p.Grids))
	}
}

func abs(x int) int { return max(x, -x) }

func TestPaperSize(t *testing.T) {
	for _, c := range []struct {
		w, h  int
		o     Orientation
		want  image.Point
		along bool
	}{
		{1968, 1118, OrientAuto, image.Pt(384, 676), true},
		{1968, 1118, OrientAcross, image.Pt(384, 218), false},
		{1008, 2078, OrientAuto, image.Pt(384, 792), false},
		{1008, 2078, OrientAlong, image.Pt(384, 186), true},
		{200, 100, OrientAcross, image.Pt(200, 100), false}, // narrower: centred, not enlarged
		{0, 100, OrientAuto, image.Point{}, false},
	} {
		got, along := PaperSize(c.w, c.h, 384, c.o)
		if got != c.want || along != c.along {
			t.Errorf("PaperSize(%d, %d, %s) = %v, %v; want %v, %v", c.w, c.h, c.o, got, along, c.want, c.along)
		}
	}
}

// The cache of scaled art stays within its budget, dropping what was used
// least recently, however many strips are drawn.
func TestScaledCacheBounded(t *testing.T) {
	c := scaledCache{m: map[cacheKey]*cached{}}
	img := image.NewAlpha(image.Rect(0, 0, 1024, 1024)) // 1 MB
	for i := range 3 * cacheMaxBytes >> 20 {
		c.put(cacheKey{part: i}, img)
		if i == 5 {
			c.get(cacheKey{part: 0}) // used again: kept
		}
	}
	if c.bytes > cacheMaxBytes || len(c.m) != cacheMaxBytes>>20 {
		t.Fatalf("%d bytes in %d entries, budget %d", c.bytes, len(c.m), cacheMaxBytes)
	}
	if _, ok := c.get(cacheKey{part: 0}); ok {
		t.Fatal("entry 0 should have gone by now: used long ago")
	}
	if _, ok := c.get(cacheKey{part: 3*cacheMaxBytes>>20 - 1}); !ok {
		t.Fatal("the newest entry was dropped")
	}
	// One larger than the budget is kept alone, until the next.
	big := image.NewAlpha(image.Rect(0, 0, 1024, 2*cacheMaxBytes>>10))
	c.put(cacheKey{part: -1}, big)
	if len(c.m) != 1 {
		t.Fatalf("%d entries beside one over the budget", len(c.m))
	}
	c.put(cacheKey{part: -2}, img)
	if _, ok := c.get(cacheKey{part: -1}); ok || c.bytes > cacheMaxBytes {
		t.Fatalf("the entry over the budget stayed (%d bytes)", c.bytes)
	}
}

// A mirrored drawing is made from the cached one the other way round, and
// looks as one decoded mirrored does (box averaging starts at the other
// edge: a fraction of a level apart on average).
func TestMirroredFromTheCache(t *testing.T) {
	p := defaultPack(t)
	var im *Image
	for _, m := range p.Images {
		if m.Flip && m.Bounds.Dx() > 200 {
			im = m
			break
		}
	}
	if im == nil {
		t.Fatal("no flippable drawing")
	}
	w, h := im.Bounds.Dx()/3, im.Bounds.Dy()/3
	fresh, _, _ := LoadBuiltinPack(art.Pack())
	src, ok := fresh.scaled(decoded{}, freshImage(fresh, im), partArt, false, w, h)
	if !ok {
		t.Fatal("no drawing")
	}
	derived, _ := fresh.scaled(decoded{}, freshImage(fresh, im), partArt, true, w, h)
	want := mirrored(src)
	if !bytes.Equal(pixels(derived), pixels(want)) {
		t.Fatal("the mirrored drawing is not the cached one mirrored")
	}
	other, _, _ := LoadBuiltinPack(art.Pack())
	direct, _ := other.scaled(decoded{}, freshImage(other, im), partArt, true, w, h)
	a, b := pixels(derived), pixels(direct)
	sum := 0
	for i := range a {
		sum += abs(int(a[i]) - int(b[i]))
	}
	if mean := float64(sum) / float64(len(a)); mean > 2 {
		t.Errorf("mirrored from the cache differs by %.2f levels on average from a mirrored decode", mean)
	}
}

// freshImage is p's drawing of the same file as im.
func freshImage(p *Pack, im *Image) *Image {
	for _, m := range p.Images {
		if m.File == im.File {
			return m
		}
	}
	return nil
}

func pixels(img image.Image) []byte {
	switch m := img.(type) {
	case *image.RGBA:
		return m.Pix
	case *image.Alpha:
		return m.Pix
	}
	return nil
}
