// Package cards is the demo trading-card catalog: a few hundred synthetic
// cards drawn procedurally from a small seed list, so the simulator, the
// tests and the benchmarks have a catalog without shipping card scans. Some
// cards are reprinted in several sets with the same art, like real reprints,
// to exercise the recogniser's tie-breaker.
package cards

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Face size of a rendered card in pixels (63 x 88 mm at ~2.9 px/mm).
const (
	FaceWidth  = 180
	FaceHeight = 252
)

// Card is one printing of a demo card.
type Card struct {
	ID        string  // unique per printing
	Name      string  // shared by reprints
	Set       string  // set code, e.g. "tbx"
	SetName   string  // e.g. "Tinkerbox Core"
	Number    string  // collector number within the set
	Price     float64 // USD; 0 = no price known
	FoilPrice float64 // USD; 0 = no foil printing or no price
	Art       uint64  // art seed: reprints share it
}

// Set is a demo set: its code, name, frame colour and symbol shape.
type Set struct {
	Code, Name string
	Frame      color.RGBA
	Symbol     int // 0 circle, 1 diamond, 2 triangle, 3 square, 4 bar, 5 ring
}

// Sets of the demo catalog, in release order.
func Sets() []Set {
	return []Set{
		{"tbx", "Tinkerbox Core", color.RGBA{196, 168, 120, 255}, 0},
		{"gpi", "GPIO Uprising", color.RGBA{120, 170, 210, 255}, 1},
		{"srv", "Servo Storm", color.RGBA{200, 120, 110, 255}, 2},
		{"pht", "Pimoroni Hats", color.RGBA{140, 190, 130, 255}, 3},
		{"esc", "Escape Sequences", color.RGBA{190, 150, 200, 255}, 4},
		{"i2c", "Bus Masters", color.RGBA{210, 200, 120, 255}, 5},
	}
}

var (
	adjectives = []string{"Ancient", "Brass", "Crimson", "Daring", "Electric", "Feral", "Gilded", "Hollow",
		"Iron", "Jade", "Kinetic", "Lunar", "Molten", "Noble", "Obsidian", "Pale", "Quiet", "Radiant",
		"Silent", "Thorned"}
	nouns = []string{"Automaton", "Beacon", "Cog", "Drake", "Engine", "Falcon", "Golem", "Herald",
		"Inventor", "Juggernaut", "Kraken", "Lantern", "Mechanist", "Nomad", "Oracle", "Pylon",
		"Relay", "Sentinel", "Tinker", "Warden"}
)

// Counts of the demo catalog.
const (
	DistinctCards = 320 // distinct names, each with its own art
	Reprints      = 48  // extra printings of existing names in other sets
)

// Demo returns the demo catalog: DistinctCards first printings followed by
// Reprints same-art reprints, always the same.
func Demo() []Card {
	sets := Sets()
	out := make([]Card, 0, DistinctCards+Reprints)
	perSet := map[string]int{}
	add := func(name string, set Set, art uint64) {
		perSet[set.Code]++
		num := fmt.Sprint(perSet[set.Code])
		c := Card{ID: "demo-" + set.Code + "-" + num, Name: name, Set: set.Code, SetName: set.Name, Number: num, Art: art}
		h := seed(c.ID)
		switch r := h % 100; {
		case r < 4: // no price known
		case r < 80:
			c.Price = 0.05 + float64(h>>8%200)/100
		case r < 96:
			c.Price = 2 + float64(h>>8%1800)/100
		default:
			c.Price = 20 + float64(h>>8%8000)/100
		}
		if c.Price > 0 && h>>20%3 == 0 {
			c.FoilPrice = math.Round(c.Price*250) / 100
		}
		out = append(out, c)
	}
	for i := 0; i < DistinctCards; i++ {
		// A stride coprime with 400 spreads names over all word pairs.
		k := (i * 137) % (len(adjectives) * len(nouns))
		name := adjectives[k/len(nouns)] + " " + nouns[k%len(nouns)]
		add(name, sets[i%len(sets)], seed(name))
	}
	for i := 0; i < Reprints; i++ {
		orig := out[(i*53)%DistinctCards]
		// Another set than the original's, varying with i.
		var set Set
		for j := 1; ; j++ {
			set = sets[(i+j)%len(sets)]
			if set.Code != orig.Set {
				break
			}
		}
		add(orig.Name, set, orig.Art)
	}
	return out
}

func seed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Render draws the face of c: a frame in the set's colour, the title, the
// art, the type line with the set symbol, a text box and the collector line.
func Render(c Card) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, FaceWidth, FaceHeight))
	set := Sets()[0]
	for _, s := range Sets() {
		if s.Code == c.Set {
			set = s
		}
	}
	fill(img, img.Rect, set.Frame)
	parchment := color.RGBA{236, 228, 208, 255}
	fill(img, image.Rect(10, 10, 170, 28), parchment)
	text(img, 14, 23, c.Name, color.RGBA{20, 20, 20, 255})
	drawArt(img, image.Rect(12, 32, 168, 140), c.Art)
	fill(img, image.Rect(10, 144, 170, 160), parchment)
	text(img, 14, 156, "Artifact", color.RGBA{20, 20, 20, 255})
	symbol(img, 160, 152, set)
	fill(img, image.Rect(12, 164, 168, 228), parchment)
	// Rules text stands in as grey bars: the same for every printing of a name.
	r := rand.New(rand.NewPCG(seed(c.Name), 7))
	for y := 170; y < 222; y += 9 {
		fill(img, image.Rect(18, y, 18+40+r.IntN(100), y+4), color.RGBA{120, 112, 100, 255})
	}
	text(img, 14, 243, fmt.Sprintf("%s %s", c.Set, c.Number), color.RGBA{250, 250, 250, 255})
	return img
}

// drawArt paints the illustration for seed: a two-colour gradient sky and a
// handful of large shapes, so different seeds differ at low frequencies (what
// a perceptual hash sees).
func drawArt(img *image.RGBA, r image.Rectangle, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, seed>>17|1))
	col := func() color.RGBA {
		return color.RGBA{uint8(20 + rnd.IntN(220)), uint8(20 + rnd.IntN(220)), uint8(20 + rnd.IntN(220)), 255}
	}
	a, b := col(), col()
	vertical := rnd.IntN(2) == 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			t := float64(y-r.Min.Y) / float64(r.Dy())
			if !vertical {
				t = float64(x-r.Min.X) / float64(r.Dx())
			}
			img.SetRGBA(x, y, lerp(a, b, t))
		}
	}
	n := 4 + rnd.IntN(4)
	for i := 0; i < n; i++ {
		c := col()
		cx := r.Min.X + rnd.IntN(r.Dx())
		cy := r.Min.Y + rnd.IntN(r.Dy())
		s := 12 + rnd.IntN(40)
		switch rnd.IntN(3) {
		case 0:
			disc(img, r, cx, cy, s, c)
		case 1:
			fill(img, image.Rect(cx-s, cy-s/2, cx+s, cy+s/2).Intersect(r), c)
		default:
			tri(img, r, cx, cy, s, c)
		}
	}
}

func lerp(a, b color.RGBA, t float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func disc(img *image.RGBA, clip image.Rectangle, cx, cy, rad int, c color.RGBA) {
	for y := cy - rad; y <= cy+rad; y++ {
		for x := cx - rad; x <= cx+rad; x++ {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad && image.Pt(x, y).In(clip) {
				img.SetRGBA(x, y, c)
			}
		}
	}
}

func tri(img *image.RGBA, clip image.Rectangle, cx, cy, s int, c color.RGBA) {
	for y := 0; y <= s; y++ {
		for x := -y / 2; x <= y/2; x++ {
			if p := image.Pt(cx+x, cy-s/2+y); p.In(clip) {
				img.SetRGBA(p.X, p.Y, c)
			}
		}
	}
}

// symbol draws the set symbol centred on (cx, cy), dark on the type line.
func symbol(img *image.RGBA, cx, cy int, s Set) {
	ink := color.RGBA{s.Frame.R / 3, s.Frame.G / 3, s.Frame.B / 3, 255}
	clip := image.Rect(cx-7, cy-7, cx+8, cy+8)
	switch s.Symbol {
	case 0:
		disc(img, clip, cx, cy, 6, ink)
	case 1:
		for y := -6; y <= 6; y++ {
			w := 6 - abs(y)
			fill(img, image.Rect(cx-w, cy+y, cx+w+1, cy+y+1), ink)
		}
	case 2:
		tri(img, clip, cx, cy, 12, ink)
	case 3:
		fill(img, image.Rect(cx-5, cy-5, cx+6, cy+6), ink)
	case 4:
		fill(img, image.Rect(cx-7, cy-2, cx+8, cy+3), ink)
	default:
		disc(img, clip, cx, cy, 6, ink)
		disc(img, clip, cx, cy, 3, color.RGBA{236, 228, 208, 255})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
