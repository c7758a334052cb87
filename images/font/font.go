// Package font holds small bitmap fonts for LED matrices and other tiny
// displays: a proportional 5x7 face, a 3x5 face for digits and capitals, and a
// Scroller that renders marquee frames. It depends only on the standard
// library, so scenes and drivers can both use it.
package font

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"
	"unicode/utf8"
)

// glyph is one character, stored column by column: bit r of cols[i] is row r
// of column i. Faces are at most 8 rows tall.
type glyph struct {
	cols []uint8
}

func (g glyph) width() int { return len(g.cols) }

// Face is an immutable bitmap font. Use Font5x7 or Font3x5.
type Face struct {
	height int
	ascii  [128]glyph // indexed by rune; cols == nil means missing
	extra  map[rune]glyph
	upper  bool  // fold lower case to upper case (the 3x5 face has no lower case)
	box    glyph // drawn for missing runes so they are visible, not silently dropped
}

// Font5x7 returns the 5x7 face: ASCII 32–126, ° and ↑ ↓ → ←.
func Font5x7() *Face { return parse(src5x7, 7, 5, false) }

// Font3x5 returns the 3x5 face: digits, capitals, basic punctuation, ° and
// arrows. Lower-case letters are drawn as capitals.
func Font3x5() *Face { return parse(src3x5, 5, 3, true) }

// parse builds a Face from the glyph source format described at src5x7. The
// sources are constants of this package and checked by the tests, so malformed
// blocks are skipped rather than reported.
func parse(src string, height, boxWidth int, upper bool) *Face {
	f := &Face{height: height, extra: map[rune]glyph{}, upper: upper}
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		r, ok := header(lines[i])
		if !ok || i+height >= len(lines) {
			continue
		}
		rows := lines[i+1 : i+1+height]
		g, ok := bits(rows)
		if !ok {
			continue
		}
		f.set(r, g)
		i += height
	}
	// The box is an outline the full height of the face.
	box := make([]uint8, boxWidth)
	full := uint8(1<<height - 1)
	edge := uint8(1 | 1<<(height-1))
	for i := range box {
		box[i] = edge
	}
	box[0], box[boxWidth-1] = full, full
	f.box = glyph{cols: box}
	return f
}

// header recognises "[c]" and "[U+XXXX]".
func header(line string) (rune, bool) {
	if len(line) < 3 || line[0] != '[' || line[len(line)-1] != ']' {
		return 0, false
	}
	in := line[1 : len(line)-1]
	if strings.HasPrefix(in, "U+") && len(in) > 2 {
		n, err := strconv.ParseUint(in[2:], 16, 32)
		if err != nil {
			return 0, false
		}
		return rune(n), true
	}
	r, size := utf8.DecodeRuneInString(in)
	if r == utf8.RuneError || size != len(in) {
		return 0, false
	}
	return r, true
}

// bits turns rows of '#'/'.' into columns; all rows must have the same width.
func bits(rows []string) (glyph, bool) {
	w := len(rows[0])
	if w == 0 {
		return glyph{}, false
	}
	cols := make([]uint8, w)
	for r, row := range rows {
		if len(row) != w {
			return glyph{}, false
		}
		for c := 0; c < w; c++ {
			switch row[c] {
			case '#':
				cols[c] |= 1 << r
			case '.':
			default:
				return glyph{}, false
			}
		}
	}
	return glyph{cols: cols}, true
}

func (f *Face) set(r rune, g glyph) {
	if r >= 0 && r < 128 {
		f.ascii[r] = g
		return
	}
	f.extra[r] = g
}

// lookup returns the glyph for r and whether the face has it.
func (f *Face) lookup(r rune) (glyph, bool) {
	if f.upper && r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	if r >= 0 && r < 128 {
		g := f.ascii[r]
		return g, g.cols != nil
	}
	g, ok := f.extra[r]
	return g, ok
}

func (f *Face) glyph(r rune) glyph {
	if g, ok := f.lookup(r); ok {
		return g
	}
	return f.box
}

// Has reports whether the face has a glyph for r (otherwise a box is drawn).
func (f *Face) Has(r rune) bool {
	_, ok := f.lookup(r)
	return ok
}

// Height is the height of every glyph in pixels.
func (f *Face) Height() int { return f.height }

// Advance is the width of r's glyph plus the 1 px spacing after it.
func (f *Face) Advance(r rune) int { return f.glyph(r).width() + 1 }

// Measure is the width in pixels of s as drawn: glyphs and the 1 px spacing
// between them, without the trailing spacing (what to centre on a display).
func (f *Face) Measure(s string) int {
	n := 0
	for _, r := range s {
		n += f.Advance(r)
	}
	if n > 0 {
		n-- // no spacing after the last glyph
	}
	return n
}

// Draw draws s with its top-left corner at (x, y) in colour c, clipped to
// dst's bounds, and returns the pen position for following text (x plus the
// advances of all glyphs). Runes the face lacks are drawn as a box.
func (f *Face) Draw(dst draw.Image, x, y int, s string, c color.Color) int {
	if g, ok := dst.(*image.Gray); dst == nil || ok && !grayOK(g) {
		for _, r := range s {
			x += f.Advance(r)
		}
		return x
	}
	b := dst.Bounds()
	gray, isGray := dst.(*image.Gray)
	var v uint8
	if isGray {
		v = color.GrayModel.Convert(c).(color.Gray).Y
	}
	for _, r := range s {
		g := f.glyph(r)
		if x < b.Max.X && x+g.width() > b.Min.X {
			for i, col := range g.cols {
				px := x + i
				if px < b.Min.X || px >= b.Max.X {
					continue
				}
				for row := 0; col != 0; row, col = row+1, col>>1 {
					py := y + row
					if col&1 == 0 || py < b.Min.Y || py >= b.Max.Y {
						continue
					}
					if isGray {
						gray.Pix[gray.PixOffset(px, py)] = v
					} else {
						dst.Set(px, py, c)
					}
				}
			}
		}
		x += g.width() + 1
	}
	return x
}

// grayOK reports whether every pixel in g's bounds lies inside g.Pix, so the
// fast paths can index Pix directly. It avoids multiplying: hostile headers
// could overflow.
func grayOK(g *image.Gray) bool {
	b := g.Bounds()
	if b.Empty() {
		return true
	}
	w, h, n := b.Dx(), b.Dy(), len(g.Pix)
	if w <= 0 || h <= 0 || g.Stride < w || w > n {
		return false
	}
	return h-1 <= (n-w)/g.Stride
}
