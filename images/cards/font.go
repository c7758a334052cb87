package cards

import (
	"image"
	"image/draw"
	"sync"

	"github.com/golang/freetype/truetype"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/math/fixed"
)

// glyph is one pre-rasterised character: its coverage mask, where the mask
// sits relative to the pen (on the baseline) and how far the pen moves.
type glyph struct {
	mask   *image.Alpha
	dx, dy int
	adv    fixed.Int26_6
}

// typeface is a font at one pixel size, rasterised once for the characters
// the cards use. Rasterising a glyph costs microseconds and a card has a few
// hundred of them, so Render blits cached masks instead.
type typeface struct {
	glyphs map[rune]glyph
	ascent int
}

// fontSet holds the faces a card face uses.
type fontSet struct {
	title, typeLine, rules, flavour, small, pt, pip *typeface
}

// fonts parses and rasterises the Go fonts once; the tables are read-only
// afterwards, so sharing them between goroutines is safe.
var fonts = sync.OnceValue(func() *fontSet {
	load := func(ttf []byte, size float64) *typeface {
		// freetype rather than x/image/font/opentype: the latter pulls in
		// x/text, which the module does not require.
		f, err := truetype.Parse(ttf)
		if err != nil {
			panic("cards: parse go font: " + err.Error()) // embedded font: cannot fail
		}
		face := truetype.NewFace(f, &truetype.Options{Size: size, DPI: 72, Hinting: font.HintingFull})
		t := &typeface{glyphs: map[rune]glyph{}, ascent: face.Metrics().Ascent.Round()}
		runes := []rune("—•’…™©")
		for r := rune(32); r < 127; r++ {
			runes = append(runes, r)
		}
		for _, r := range runes {
			dr, mask, mp, adv, ok := face.Glyph(fixed.Point26_6{}, r)
			if !ok {
				continue
			}
			m := image.NewAlpha(image.Rect(0, 0, dr.Dx(), dr.Dy()))
			draw.Draw(m, m.Rect, mask, mp, draw.Src)
			t.glyphs[r] = glyph{mask: m, dx: dr.Min.X, dy: dr.Min.Y, adv: adv}
		}
		return t
	}
	return &fontSet{
		title:    load(gobold.TTF, 12),
		typeLine: load(gobold.TTF, 10),
		rules:    load(goregular.TTF, 8.5),
		flavour:  load(goitalic.TTF, 8),
		small:    load(goregular.TTF, 6.5),
		pt:       load(gobold.TTF, 11),
		pip:      load(gobold.TTF, 7),
	}
})

// width is the advance of s in pixels.
func (t *typeface) width(s string) int {
	var w fixed.Int26_6
	for _, r := range s {
		w += t.glyphs[r].adv
	}
	return w.Ceil()
}

// draw writes s with its baseline at y starting at x, in colour col.
func (t *typeface) draw(c *canvas, x, y int, s string, col rgb) {
	pen := fixed.I(x)
	for _, r := range s {
		g, ok := t.glyphs[r]
		if !ok {
			g = t.glyphs['?']
		}
		if g.mask != nil {
			c.mask(pen.Round()+g.dx, y+g.dy, g.mask, col)
		}
		pen += g.adv
	}
}

// wrap splits words into lines no wider than w pixels.
func (t *typeface) wrap(words []string, w int) []string {
	var lines []string
	line := ""
	for _, wd := range words {
		try := wd
		if line != "" {
			try = line + " " + wd
		}
		if line != "" && t.width(try) > w {
			lines = append(lines, line)
			try = wd
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
