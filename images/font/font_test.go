package font

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// ascii renders g as rows of '#' (non-zero) and '.' (zero).
func ascii(g *image.Gray) string {
	var sb strings.Builder
	b := g.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g.GrayAt(x, y).Y != 0 {
				sb.WriteByte('#')
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func TestGoldenFrames(t *testing.T) {
	cases := []struct {
		name  string
		face  *Face
		text  string
		steps []int
	}{
		{"1013_3x5", Font3x5(), "1013", []int{0, 7}},
		{"hello_5x7", Font5x7(), "HELLO", []int{0, 1, 6, 17, 29, 36, 37}},
		{"hpa_3x5", Font3x5(), "1013 hPa ↓", []int{0, 4, 20}},
		{"baro_5x7", Font5x7(), "21°C ↑→", []int{0, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScroller(tc.face, tc.text, 17, 7)
			var sb strings.Builder
			fmt.Fprintf(&sb, "text %q fits=%v len=%d\n", tc.text, s.Fits(), s.Len())
			frame := image.NewGray(image.Rect(0, 0, 17, 7))
			for _, st := range tc.steps {
				s.Frame(st, frame)
				fmt.Fprintf(&sb, "\nstep %d\n%s", st, ascii(frame))
			}
			got := sb.String()
			path := filepath.Join("testdata", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("frames differ from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// TestStatic1013 pins the centred static frame without the golden file.
func TestStatic1013(t *testing.T) {
	s := NewScroller(Font3x5(), "1013", 17, 7)
	if !s.Fits() || s.Len() != 1 {
		t.Fatalf("Fits=%v Len=%d, want true 1", s.Fits(), s.Len())
	}
	frame := image.NewGray(image.Rect(0, 0, 17, 7))
	for i := range frame.Pix {
		frame.Pix[i] = 9 // Frame must clear old content
	}
	s.Frame(123, frame)
	want := "" +
		".................\n" +
		"..#..###..#..###.\n" +
		".##..#.#.##....#.\n" +
		"..#..#.#..#..###.\n" +
		"..#..#.#..#....#.\n" +
		".###.###.###.###.\n" +
		".................\n"
	if got := ascii(frame); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestScrollerCycle(t *testing.T) {
	s := NewScroller(Font5x7(), "HELLO", 17, 7)
	if s.Fits() {
		t.Fatal("HELLO (29 px) must not fit 17 px")
	}
	if got, want := s.Len(), 29+8; got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
	a := image.NewGray(image.Rect(0, 0, 17, 7))
	b := image.NewGray(image.Rect(0, 0, 17, 7))
	for _, st := range []int{0, 3, 20, 36} {
		s.Frame(st, a)
		s.Frame(st+s.Len(), b)
		if ascii(a) != ascii(b) {
			t.Errorf("step %d and %d differ", st, st+s.Len())
		}
		s.Frame(st-s.Len(), b)
		if ascii(a) != ascii(b) {
			t.Errorf("step %d and %d differ", st, st-s.Len())
		}
	}
	s.Frame(1, a)
	s.Frame(0, b)
	// Scrolling left by one: column x of step 1 is column x+1 of step 0.
	for y := 0; y < 7; y++ {
		for x := 0; x < 16; x++ {
			if a.GrayAt(x, y) != b.GrayAt(x+1, y) {
				t.Fatalf("step 1 is not step 0 shifted left at (%d,%d)", x, y)
			}
		}
	}
}

func TestScrollerOddTargets(t *testing.T) {
	s := NewScroller(nil, "", -3, -1)
	if !s.Fits() || s.Len() != 1 {
		t.Errorf("empty text: Fits=%v Len=%d", s.Fits(), s.Len())
	}
	s.Frame(5, nil)
	// A destination smaller than the scroller and with a non-zero origin.
	s = NewScroller(Font5x7(), "HELLO", 17, 7)
	small := image.NewGray(image.Rect(10, 20, 14, 23))
	s.Frame(0, small)
	want := "#...\n#...\n#...\n" // top of H, "#...#" clipped to 4 columns
	if got := ascii(small); got != want {
		t.Errorf("clipped frame:\n%s\nwant\n%s", got, want)
	}
	// A destination larger than the scroller keeps pixels outside it.
	big := image.NewGray(image.Rect(0, 0, 20, 8))
	for i := range big.Pix {
		big.Pix[i] = 7
	}
	s.Frame(0, big)
	if big.GrayAt(19, 7).Y != 7 || big.GrayAt(17, 0).Y != 7 {
		t.Error("Frame wrote outside its width x height")
	}
	if big.GrayAt(0, 0).Y != 255 || big.GrayAt(1, 0).Y != 0 {
		t.Error("Frame did not draw H at the left edge")
	}
}

func TestPrintableGlyphs(t *testing.T) {
	f := Font5x7()
	var runes []rune
	for r := rune(32); r <= 126; r++ {
		runes = append(runes, r)
	}
	runes = append(runes, '°', '↑', '↓', '→', '←')
	for _, r := range runes {
		g, ok := f.lookup(r)
		if !ok {
			t.Errorf("5x7: no glyph for %q", r)
			continue
		}
		lit := 0
		for _, c := range g.cols {
			if c>>f.Height() != 0 {
				t.Errorf("5x7 %q: bits below the face height", r)
			}
			if c != 0 {
				lit++
			}
		}
		if (lit == 0) != (r == ' ') {
			t.Errorf("5x7 %q: %d lit columns", r, lit)
		}
	}

	f = Font3x5()
	for _, r := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ .,:;!?-+=/()'\"%°#*<>_[]↑↓→←" {
		g, ok := f.lookup(r)
		if !ok {
			t.Errorf("3x5: no glyph for %q", r)
			continue
		}
		lit := false
		for _, c := range g.cols {
			lit = lit || c != 0
			if c>>f.Height() != 0 {
				t.Errorf("3x5 %q: bits below the face height", r)
			}
		}
		if lit == (r == ' ') {
			t.Errorf("3x5 %q: lit=%v", r, lit)
		}
	}
	for r := 'a'; r <= 'z'; r++ {
		lo, _ := f.lookup(r)
		up, _ := f.lookup(r - 'a' + 'A')
		if string(lo.cols) != string(up.cols) {
			t.Errorf("3x5: %q is not drawn as %q", r, r-'a'+'A')
		}
	}
}

// TestSourcesParse makes sure no glyph block is silently dropped by the
// parser (a typo in a row would otherwise remove the glyph).
func TestSourcesParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		face *Face
	}{{"5x7", src5x7, Font5x7()}, {"3x5", src3x5, Font3x5()}} {
		seen := map[rune]bool{}
		for _, line := range strings.Split(tc.src, "\n") {
			if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") && len(line) >= 3 {
				r, ok := header(line)
				if !ok {
					t.Errorf("%s: bad header %q", tc.name, line)
					continue
				}
				if seen[r] {
					t.Errorf("%s: %q defined twice", tc.name, r)
				}
				seen[r] = true
				if !tc.face.Has(r) {
					t.Errorf("%s: glyph %q dropped (malformed rows?)", tc.name, r)
				}
			}
		}
		if len(seen) < 50 {
			t.Errorf("%s: only %d glyphs", tc.name, len(seen))
		}
	}
}

func TestWidths(t *testing.T) {
	f5, f3 := Font5x7(), Font3x5()
	for _, tc := range []struct {
		f    *Face
		name string
		r    rune
		adv  int
	}{
		{f5, "5x7", 'A', 6}, {f5, "5x7", '0', 6}, {f5, "5x7", '1', 6}, {f5, "5x7", 'i', 2},
		{f5, "5x7", ' ', 4}, {f5, "5x7", '.', 3}, {f5, "5x7", '°', 4}, {f5, "5x7", '€', 6},
		{f3, "3x5", '0', 4}, {f3, "3x5", 'M', 6}, {f3, "3x5", 'm', 6}, {f3, "3x5", ' ', 3},
		{f3, "3x5", '.', 2}, {f3, "3x5", '€', 4},
	} {
		if got := tc.f.Advance(tc.r); got != tc.adv {
			t.Errorf("%s Advance(%q) = %d, want %d", tc.name, tc.r, got, tc.adv)
		}
	}
	if f5.Height() != 7 || f3.Height() != 5 {
		t.Errorf("heights %d %d", f5.Height(), f3.Height())
	}
	for _, tc := range []struct {
		f    *Face
		s    string
		want int
	}{
		{f3, "", 0}, {f3, "1", 3}, {f3, "1013", 15}, {f5, "HELLO", 29}, {f5, "Hi", 7},
	} {
		if got := tc.f.Measure(tc.s); got != tc.want {
			t.Errorf("Measure(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestDrawMissingIsBox(t *testing.T) {
	f := Font3x5()
	if f.Has('€') {
		t.Fatal("test needs a rune the face lacks")
	}
	img := image.NewGray(image.Rect(0, 0, 4, 5))
	if end := f.Draw(img, 0, 0, "€", color.White); end != 4 {
		t.Errorf("Draw returned %d, want 4", end)
	}
	want := "###.\n#.#.\n#.#.\n#.#.\n###.\n"
	if got := ascii(img); got != want {
		t.Errorf("box:\n%s\nwant\n%s", got, want)
	}
}

func TestDrawClipsAndColours(t *testing.T) {
	f := Font5x7()
	// RGBA goes through the generic path; clip on all sides.
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	red := color.RGBA{R: 255, A: 255}
	end := f.Draw(img, -2, -3, "A", red)
	if end != 4 {
		t.Errorf("end = %d, want 4", end)
	}
	// Rows 3..6 of A, columns 2..4 (then nothing: A is 5 wide).
	want := []string{
		"###.", // #####
		"..#.", // #...#
		"..#.",
		"..#.",
	}
	for y, row := range want {
		for x, ch := range row {
			got := img.RGBAAt(x, y)
			if lit := got == red; lit != (ch == '#') {
				t.Errorf("(%d,%d) = %v, want lit=%v", x, y, got, ch == '#')
			}
		}
	}
	// Far outside: nothing drawn, no panic, advance still counted.
	g := image.NewGray(image.Rect(0, 0, 17, 7))
	if end := f.Draw(g, math.MaxInt/2, math.MinInt/2, "HELLO", color.White); end != math.MaxInt/2+30 {
		t.Errorf("end = %d", end)
	}
	if end := f.Draw(nil, 3, 0, "Hi", color.White); end != 3+8 {
		t.Errorf("nil dst end = %d, want 11", end)
	}
	for _, p := range g.Pix {
		if p != 0 {
			t.Fatal("drew pixels outside the text position")
		}
	}
	// Grey value is the colour's luminance.
	f.Draw(g, 0, 0, "|", color.Gray{Y: 77})
	if g.GrayAt(0, 0).Y != 77 {
		t.Errorf("grey = %d, want 77", g.GrayAt(0, 0).Y)
	}
}

func TestMalformedGray(t *testing.T) {
	bad := &image.Gray{Pix: make([]uint8, 5), Stride: 17, Rect: image.Rect(0, 0, 17, 7)}
	if end := Font5x7().Draw(bad, 0, 0, "HI", color.White); end != 10 {
		t.Errorf("end = %d, want 10", end)
	}
	NewScroller(Font3x5(), "1013", 17, 7).Frame(0, bad)
	huge := &image.Gray{Pix: make([]uint8, 5), Stride: math.MaxInt / 3, Rect: image.Rect(0, 0, 5, 7)}
	Font3x5().Draw(huge, 0, 0, "8", color.White)
	NewScroller(Font3x5(), "8", 5, 7).Frame(0, huge)
	bad.Pix = append(bad.Pix, huge.Pix...)
	if string(bad.Pix) != string(make([]byte, 10)) {
		t.Errorf("wrote into a malformed image: %v", bad.Pix)
	}
}

func FuzzDraw(f *testing.F) {
	f.Add("HELLO", 0, 0)
	f.Add("1013 hPa ↓", -5, 2)
	f.Add("\xff\xfe€°", 16, 6)
	f.Add("", -1, -1)
	f.Fuzz(func(t *testing.T, s string, x, y int) {
		for _, face := range []*Face{Font5x7(), Font3x5()} {
			img := image.NewGray(image.Rect(0, 0, 17, 7))
			end := face.Draw(img, x, y, s, color.White)
			sum := 0
			for _, r := range s {
				sum += face.Advance(r)
			}
			if end != x+sum {
				t.Errorf("Draw end %d, want %d", end, x+sum)
			}
			if w := face.Measure(s); utf8.RuneCountInString(s) > 0 && w != sum-1 {
				t.Errorf("Measure %d, want %d", w, sum-1)
			}
			sc := NewScroller(face, s, 17, 7)
			sc.Frame(x, img)
			sc.Frame(y, image.NewGray(image.Rect(3, 3, 5, 9)))
		}
	})
}
