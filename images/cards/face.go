package cards

import (
	"fmt"
	"image"
	"math/rand/v2"
	"strings"
	"sync"
)

// CornerRadius is the rounding of a card's corners in face pixels (~3 mm).
// Render fills the face outside the rounding with white, like a scan
// exported on white; Photo knows the rounding and shows the bed there.
const CornerRadius = 12

// Layout is where the parts of a face lie, in face pixels. The art box is at
// the same place for every border style; on borderless cards the art goes
// on under the other boxes up to the card's edge.
type Layout struct {
	Frame     image.Rectangle // coloured frame inside the border (the whole card when borderless)
	Title     image.Rectangle // title bar: name at left, mana pips at right
	Art       image.Rectangle // art box
	Type      image.Rectangle // type line: text at left, set symbol at right
	Text      image.Rectangle // rules text box
	PT        image.Rectangle // power/toughness box (creatures only)
	Collector image.Rectangle // collector number, set, artist (on the bottom border)
}

// FaceLayout returns the layout of a face with border b.
func FaceLayout(b Border) Layout {
	l := Layout{
		Frame:     image.Rect(11, 11, 239, 335), // borders as measured on Scryfall scans: 0.044 of the width, 0.032 top, 0.04 bottom
		Title:     image.Rect(17, 17, 233, 37),
		Art:       image.Rect(21, 39, 229, 193),
		Type:      image.Rect(17, 195, 233, 213),
		Text:      image.Rect(22, 215, 228, 318),
		PT:        image.Rect(188, 307, 233, 325),
		Collector: image.Rect(14, 336, 236, 348),
	}
	if b == Borderless {
		l.Frame = image.Rect(0, 0, FaceWidth, FaceHeight)
		l.Title = image.Rect(12, 14, 238, 35)
		l.Type = image.Rect(12, 226, 238, 244)
		l.Text = image.Rect(16, 247, 234, 322)
		l.PT = image.Rect(190, 311, 238, 329)
		l.Collector = image.Rect(14, 330, 236, 348)
	}
	return l
}

// frameTones are a colour's frame, its title/type bar and its text box.
var frameTones = [numColours][3]rgb{
	White:    {{214, 206, 186}, {240, 236, 222}, {244, 240, 230}},
	Blue:     {{38, 98, 168}, {172, 202, 226}, {214, 226, 236}},
	Black:    {{58, 55, 58}, {160, 154, 154}, {206, 200, 198}},
	Red:      {{186, 58, 40}, {232, 172, 150}, {240, 216, 204}},
	Green:    {{38, 116, 62}, {172, 204, 164}, {214, 228, 208}},
	Artifact: {{138, 124, 112}, {202, 192, 184}, {224, 218, 212}},
	Gold:     {{198, 162, 72}, {236, 214, 158}, {242, 232, 204}},
}

// pipColours are the mana symbols of the five colours.
var pipColours = [5]rgb{{246, 238, 200}, {74, 144, 212}, {70, 64, 66}, {222, 84, 62}, {62, 150, 84}}

var rarityColours = [4]rgb{{24, 24, 26}, {176, 186, 196}, {214, 172, 62}, {230, 104, 34}}

var (
	ink       = rgb{18, 17, 16}
	blackEdge = rgb{14, 13, 15}
	whiteEdge = rgb{238, 237, 233}
	paper     = rgb{255, 255, 255}
)

// Render draws the face of c at FaceWidth x FaceHeight: border, frame in the
// card's colour, title with mana pips, art, type line with the set symbol,
// rules text, P/T box and the collector line; outside the rounded corners
// the face is white.
func Render(c Card) *image.RGBA {
	cv := newCanvas(FaceWidth, FaceHeight)
	l := FaceLayout(c.Border)
	col := c.Colour()
	tones := frameTones[col]
	set := setOf(c.Set)
	f := fonts()
	boxA := float32(1)

	switch c.Border {
	case Borderless:
		paintArt(cv, l.Frame, c.Art)
		boxA = 0.88
	default:
		edge := blackEdge
		if c.Border == BorderWhite {
			edge = whiteEdge
		}
		// Only the strips round the frame show the border.
		fr := l.Frame
		cv.fill(image.Rect(0, 0, FaceWidth, fr.Min.Y), edge, 1)
		cv.fill(image.Rect(0, fr.Max.Y, FaceWidth, FaceHeight), edge, 1)
		cv.fill(image.Rect(0, fr.Min.Y, fr.Min.X, fr.Max.Y), edge, 1)
		cv.fill(image.Rect(fr.Max.X, fr.Min.Y, FaceWidth, fr.Max.Y), edge, 1)
		paintFrame(cv, l.Frame, tones[0], col)
		cv.fill(l.Art.Inset(-2), tones[0].scale(0.55), 1)
		paintArt(cv, l.Art, c.Art)
	}

	bar := func(r image.Rectangle) {
		cv.roundRect(r.Inset(-1), 5, tones[0].scale(0.45), boxA)
		cv.roundRect(r, 4, tones[1], boxA)
	}
	bar(l.Title)
	base := l.Title.Min.Y + (l.Title.Dy()+f.title.ascent)/2 - 1
	f.title.draw(cv, l.Title.Min.X+6, base, c.Name, ink)
	drawPips(cv, c, l.Title)

	if c.Border == Borderless {
		cv.roundRect(l.Text, 3, tones[2], 0.8)
	} else {
		cv.fill(l.Text.Inset(-1), tones[0].scale(0.5), 1)
		cv.fill(l.Text, tones[2], 1)
	}
	drawRules(cv, c, l.Text)

	bar(l.Type)
	f.typeLine.draw(cv, l.Type.Min.X+6, l.Type.Min.Y+(l.Type.Dy()+f.typeLine.ascent)/2-1, c.TypeLine(), ink)
	drawSymbol(cv, float64(l.Type.Max.X)-12, float64(l.Type.Min.Y+l.Type.Max.Y)/2, set.Symbol, rarityColours[c.Rarity()])

	if c.Creature() {
		bar(l.PT)
		pt := powerToughness(c)
		f.pt.draw(cv, (l.PT.Min.X+l.PT.Max.X-f.pt.width(pt))/2, l.PT.Min.Y+(l.PT.Dy()+f.pt.ascent)/2-1, pt, ink)
	}

	drawCollector(cv, c, set, l.Collector)
	roundCorners(cv)
	return cv.rgba()
}

// frameTexture is the mottling of printed frames over the whole face,
// computed once: it is the same on every card and read-only.
var frameTexture = sync.OnceValue(func() []float32 {
	return fbm(0, 0, FaceWidth, FaceHeight, 22, 2, 1)
})

// paintFrame fills r with the frame colour, mottled like printed frame
// texture; all frames share the texture, like real frames of one style.
func paintFrame(cv *canvas, r image.Rectangle, tone rgb, col Colour) {
	tex := frameTexture()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := tex[y*FaceWidth:]
		for x := r.Min.X; x < r.Max.X; x++ {
			k := 1 + 0.09*row[x]
			if col == Gold { // a metallic sheen across the frame
				k += 0.12 * float32(x-y+200) / 450
			}
			o := 3 * (y*cv.w + x)
			cv.p[o], cv.p[o+1], cv.p[o+2] = tone[0]*k, tone[1]*k, tone[2]*k
		}
	}
}

// manaCost is the card's pips: generic count and coloured pips (indices
// into pipColours), the same for every printing of a name.
func manaCost(c Card) (generic int, pips []int) {
	h := seed("mana/" + c.Name)
	col := c.Colour()
	switch {
	case col == Artifact:
		return 1 + int(h%6), nil
	case col == Gold:
		a := int((h >> 4) % 5)
		b := (a + 1 + int((h>>8)%4)) % 5
		return int((h >> 12) % 3), []int{a, b}
	default:
		n := 1 + int((h>>4)%3)
		pips = make([]int, n)
		for i := range pips {
			pips[i] = int(col)
		}
		return int((h >> 12) % 4), pips
	}
}

// drawPips draws the mana cost right-aligned in the title bar.
func drawPips(cv *canvas, c Card, title image.Rectangle) {
	generic, pips := manaCost(c)
	n := len(pips)
	if generic > 0 {
		n++
	}
	const rad, step = 5.5, 12.5
	cy := float64(title.Min.Y+title.Max.Y) / 2
	x := float64(title.Max.X) - 9 - step*float64(n-1)
	pip := func(col rgb) {
		cv.disc(x+0.8, cy+1, rad, 1, ink, 0.8) // drop shadow
		cv.disc(x, cy, rad, 1, col, 1)
	}
	if generic > 0 {
		pip(rgb{204, 198, 192})
		d := fmt.Sprint(generic)
		f := fonts().pip
		f.draw(cv, int(x+0.5)-f.width(d)/2, int(cy)+f.ascent/2-1, d, ink)
		x += step
	}
	for _, p := range pips {
		pip(pipColours[p])
		// A darker mark in the pip stands in for the colour's symbol.
		cv.disc(x, cy, 2.2, 1, pipColours[p].scale(0.55), 0.8)
		x += step
	}
}

// drawSymbol draws set symbol shape centred on (cx, cy), filled with the
// rarity colour and outlined in black like real set symbols.
func drawSymbol(cv *canvas, cx, cy float64, shape int, fill rgb) {
	draw := func(grow float64, col rgb) {
		s := 6 + grow
		switch shape {
		case 0:
			cv.disc(cx, cy, s, 1, col, 1)
		case 1:
			cv.poly([][2]float64{{cx, cy - s - 1}, {cx + s, cy}, {cx, cy + s + 1}, {cx - s, cy}}, 1, col, 1)
		case 2:
			cv.poly([][2]float64{{cx, cy - s}, {cx + s + 1, cy + s*0.8}, {cx - s - 1, cy + s*0.8}}, 1, col, 1)
		case 3:
			cv.poly([][2]float64{{cx - s + 1, cy - s + 1}, {cx + s - 1, cy - s + 1}, {cx + s - 1, cy + s - 1}, {cx - s + 1, cy + s - 1}}, 1, col, 1)
		case 4:
			cv.ellipse(cx, cy, s+2, s*0.45, 0.35, 1, col, 1)
		default:
			cv.disc(cx, cy, s, 1, col, 1)
		}
	}
	draw(1.3, ink)
	draw(0, fill)
	if shape == 5 {
		cv.disc(cx, cy, 2.5, 1, ink, 1)
	}
}

var rulesWords = strings.Fields(`target creature card draw damage deals each player opponent until end of
turn gets +1/+1 counter sacrifice artifact enchantment return your hand graveyard library search
shuffle tap untap you control may pay life gain lose exile destroy token copy spell ability mana add
any color another that with power toughness or less whenever attacks blocks scry 2 1 X the a to on
it its this under where first next upkeep combat discard reveal top cards`)

var keywords = []string{"Flying", "Trample", "Haste", "Vigilance", "Reach", "Deathtouch", "Lifelink", "First strike", "Ward 2", "Menace"}

var flavourWords = strings.Fields(`the old gears still turn beneath the city and no one remembers who wound
them first light falls on brass and bone alike every spark was once a storm`)

// rulesText is the rules and flavour text of a name: the same words on every
// printing of it.
func rulesText(c Card) (rules []string, flavour []string) {
	r := rand.New(rand.NewPCG(seed("rules/"+c.Name), 7))
	if c.Creature() && r.IntN(3) > 0 {
		kw := keywords[r.IntN(len(keywords))]
		if r.IntN(2) == 0 {
			kw += ", " + strings.ToLower(keywords[r.IntN(len(keywords))])
		}
		rules = append(rules, kw)
	}
	for n := 1 + r.IntN(3); n > 0; n-- {
		m := 5 + r.IntN(12)
		ws := make([]string, m)
		for i := range ws {
			ws[i] = rulesWords[r.IntN(len(rulesWords))]
		}
		if r.IntN(3) == 0 {
			ws[0] = "When " + c.Name + " enters,"
		}
		ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
		rules = append(rules, strings.Join(ws, " ")+".")
	}
	if r.IntN(2) == 0 {
		m := 5 + r.IntN(8)
		start := r.IntN(len(flavourWords) - m)
		s := strings.Join(flavourWords[start:start+m], " ")
		flavour = append(flavour, strings.ToUpper(s[:1])+s[1:]+".")
	}
	return rules, flavour
}

// drawRules sets the rules text, then the flavour text in italics, in box.
func drawRules(cv *canvas, c Card, box image.Rectangle) {
	f := fonts()
	rules, flavour := rulesText(c)
	w := box.Dx() - 10
	y := box.Min.Y + 12
	maxY := box.Max.Y - 3
	if c.Creature() {
		maxY -= 8 // leave the P/T box clear
	}
	for _, para := range rules {
		for _, line := range f.rules.wrap(strings.Fields(para), w) {
			if y > maxY {
				return
			}
			f.rules.draw(cv, box.Min.X+5, y, line, ink)
			y += 10
		}
		y += 2
	}
	for _, para := range flavour {
		for _, line := range f.flavour.wrap(strings.Fields(para), w) {
			if y > maxY {
				return
			}
			f.flavour.draw(cv, box.Min.X+5, y, line, rgb{40, 36, 32})
			y += 10
		}
	}
}

func powerToughness(c Card) string {
	h := seed("pt/" + c.Name)
	return fmt.Sprintf("%d/%d", h%7, 1+h>>8%7)
}

// drawCollector writes the collector line: number/set size and rarity,
// then set code, language and artist, on the bottom border.
func drawCollector(cv *canvas, c Card, set Set, r image.Rectangle) {
	f := fonts().small
	col := rgb{236, 234, 230}
	if c.Border == BorderWhite {
		col = ink
	}
	if c.Border == Borderless {
		cv.fill(r, ink, 0.35) // a shadow band keeps the text legible on the art
	}
	num := c.Number
	for len(num) < 3 {
		num = "0" + num
	}
	artist := artists[c.Art%uint64(len(artists))]
	rar := "CURM"[c.Rarity()]
	f.draw(cv, r.Min.X+2, r.Min.Y+7, fmt.Sprintf("%s/%d %c", num, set.Size, rar), col)
	f.draw(cv, r.Min.X+2, r.Min.Y+15, strings.ToUpper(c.Set)+" • EN", col)
	f.draw(cv, r.Min.X+60, r.Min.Y+15, "Illus. "+artist, col)
	tm := "™ & © Tinkerbox"
	f.draw(cv, r.Max.X-2-f.width(tm), r.Min.Y+15, tm, col)
}

// roundCorners whitens the face outside its rounded corners.
func roundCorners(cv *canvas) {
	const rad = CornerRadius
	w, h := float64(cv.w), float64(cv.h)
	for _, corner := range []image.Rectangle{
		image.Rect(0, 0, rad, rad), image.Rect(cv.w-rad, 0, cv.w, rad),
		image.Rect(0, cv.h-rad, rad, cv.h), image.Rect(cv.w-rad, cv.h-rad, cv.w, cv.h),
	} {
		for y := corner.Min.Y; y < corner.Max.Y; y++ {
			for x := corner.Min.X; x < corner.Max.X; x++ {
				d := roundRectDist(float64(x)+0.5, float64(y)+0.5, 0, 0, w, h, rad)
				if a := 0.5 - d; a > 0 {
					cv.blend(x, y, paper, float32(min(a, 1)))
				}
			}
		}
	}
}
