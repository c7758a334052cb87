// Command artgen draws tinkerbox's default comic art pack (images/comic/pack):
// panel frames in three styles for six grids (wide ones for the screen,
// tall ones made for the paper) and line drawings in three themes
// (robots, a cat's day, the sea), plus manifest.json. It is deterministic:
// running it twice gives the same files.
//
//	go run ./scripts/artgen [-out images/comic/pack]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/fogleman/gg"
)

const (
	cell   = 480
	gutter = 24
	margin = 24
	thick  = 11.0 // main line width in pixels: ~2 dots at 384 dots
	thin   = 7.0
)

var (
	ink   = color.Black
	paper = color.White
)

// The manifest types mirror scenes/comic's JSON (kept separate: a generator
// must not depend on the code it feeds).
type manifest struct {
	Name   string      `json:"name"`
	Cell   int         `json:"cell"`
	Grids  []gridSpec  `json:"grids"`
	Images []imageSpec `json:"images"`
}

type gridSpec struct {
	ID      string       `json:"id"`
	Cols    int          `json:"cols"`
	Rows    int          `json:"rows"`
	MaxW    int          `json:"max_w,omitempty"`
	MaxH    int          `json:"max_h,omitempty"`
	Panels  [][4]int     `json:"panels,omitempty"`
	Gutter  int          `json:"gutter"`
	Margin  int          `json:"margin"`
	Weight  float64      `json:"weight,omitempty"`
	Borders []borderSpec `json:"borders"`
}

type borderSpec struct {
	W      int    `json:"w"`
	H      int    `json:"h"`
	Border string `json:"border"`
	Mask   string `json:"mask,omitempty"`
}

type imageSpec struct {
	File      string      `json:"file"`
	Theme     string      `json:"theme"`
	Character string      `json:"character,omitempty"`
	Role      string      `json:"role"`
	Focal     *[4]int     `json:"focal,omitempty"`
	MinW      int         `json:"min_w,omitempty"`
	MinH      int         `json:"min_h,omitempty"`
	Anchor    string      `json:"anchor,omitempty"`
	Horizon   *[2]float64 `json:"horizon,omitempty"`
	Facing    string      `json:"facing,omitempty"`
	Flip      bool        `json:"flip,omitempty"`
	Weight    float64     `json:"weight,omitempty"`
}

func main() {
	out := flag.String("out", "images/comic/pack", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

func run(out string) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	m := manifest{Name: "tinkerbox default", Cell: cell}
	styles := []struct {
		id     string
		style  frameStyle
		grids  []gridSpec
		sizes  [][2]int
		copies int
	}{
		{"ink", inkFrame, []gridSpec{
			{ID: "classic", Cols: 4, Rows: 4, MaxW: 4, MaxH: 3, Weight: 2},
			// Tall grids are made for the paper: printed across a 58 mm
			// roll at its full width, their panels are two to four times
			// the size of a wide strip's.
			{ID: "column", Cols: 2, Rows: 4, MaxW: 2, MaxH: 2},
		}, allSizes(4, 3), 2},
		{"round", roundFrame, []gridSpec{
			{ID: "tiers", Cols: 4, Rows: 3, Panels: [][4]int{{0, 0, 4, 1}, {0, 1, 2, 1}, {2, 1, 2, 1}, {0, 2, 1, 1}, {1, 2, 3, 1}}},
			{ID: "feature", Cols: 4, Rows: 3, Panels: [][4]int{{0, 0, 1, 1}, {0, 1, 1, 1}, {1, 0, 3, 2}, {0, 2, 2, 1}, {2, 2, 2, 1}}},
			// Four panels one above the other (a yonkoma), read down the roll.
			{ID: "yonkoma", Cols: 1, Rows: 4, Panels: [][4]int{{0, 0, 1, 1}, {0, 1, 1, 1}, {0, 2, 1, 1}, {0, 3, 1, 1}}},
		}, [][2]int{{4, 1}, {2, 1}, {1, 1}, {3, 1}, {3, 2}}, 2},
		{"double", doubleFrame, []gridSpec{{ID: "wide", Cols: 4, Rows: 2, MaxW: 3, MaxH: 2, Weight: 1.5}}, allSizes(3, 2), 2},
	}
	for si, st := range styles {
		var borders []borderSpec
		for _, sz := range st.sizes {
			for v := 0; v < st.copies; v++ {
				w, h := sz[0]*cell-gutter, sz[1]*cell-gutter
				r := rand.New(rand.NewPCG(uint64(si*1000+sz[0]*10+sz[1]), uint64(v)))
				art, mask := st.style(w, h, r)
				base := fmt.Sprintf("frames/%s/%dx%d-%d", st.id, sz[0], sz[1], v+1)
				if err := save(out, base+".png", art); err != nil {
					return err
				}
				if err := save(out, base+"-mask.png", mask); err != nil {
					return err
				}
				borders = append(borders, borderSpec{W: sz[0], H: sz[1], Border: base + ".png", Mask: base + "-mask.png"})
			}
		}
		for _, g := range st.grids {
			g.Gutter, g.Margin = gutter, margin
			// A grid lists the style's frames that fit its panels.
			mw, mh := g.Cols, g.Rows
			if g.MaxW > 0 {
				mw = g.MaxW
			}
			if g.MaxH > 0 {
				mh = g.MaxH
			}
			for _, b := range borders {
				if b.W <= mw && b.H <= mh {
					g.Borders = append(g.Borders, b)
				}
			}
			m.Grids = append(m.Grids, g)
		}
	}
	for _, a := range drawings() {
		dc := gg.NewContext(a.w, a.h)
		dc.SetLineCapRound()
		dc.SetLineJoinRound()
		a.draw(&pen{dc: dc, w: float64(a.w), h: float64(a.h)})
		name := a.theme + "/" + a.name + ".png"
		s := a.spec
		img := trimmed(dc.Image(), &s)
		if err := save(out, name, img); err != nil {
			return err
		}
		s.File, s.Theme = name, a.theme
		m.Images = append(m.Images, s)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(b, '\n'), 0o644)
}

func allSizes(maxW, maxH int) [][2]int {
	var out [][2]int
	for h := 1; h <= maxH; h++ {
		for w := 1; w <= maxW; w++ {
			out = append(out, [2]int{w, h})
		}
	}
	return out
}

func save(dir, name string, img image.Image) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// frameStyle draws a w×h frame: line art on transparency and the inside mask.
type frameStyle func(w, h int, r *rand.Rand) (art, mask image.Image)

// wobble is a hand-drawn rectangle: each side a slightly bowed line.
func wobbleRect(dc *gg.Context, x0, y0, x1, y1, amp float64, r *rand.Rand) {
	j := func() float64 { return (r.Float64()*2 - 1) * amp }
	pts := [][2]float64{{x0 + j(), y0 + j()}, {x1 + j(), y0 + j()}, {x1 + j(), y1 + j()}, {x0 + j(), y1 + j()}}
	dc.MoveTo(pts[0][0], pts[0][1])
	for i := 1; i <= 4; i++ {
		a, b := pts[i-1], pts[i%4]
		mx, my := (a[0]+b[0])/2+j(), (a[1]+b[1])/2+j()
		dc.QuadraticTo(mx, my, b[0], b[1])
	}
	dc.ClosePath()
}

func maskFrom(w, h int, path func(dc *gg.Context)) image.Image {
	dc := gg.NewContext(w, h)
	dc.SetColor(color.Black)
	dc.Clear()
	path(dc)
	dc.SetColor(color.White)
	dc.Fill()
	return dc.Image()
}

func inkFrame(w, h int, r *rand.Rand) (image.Image, image.Image) {
	in := 14.0
	seed := r.Uint64()
	shape := func(dc *gg.Context) {
		wobbleRect(dc, in, in, float64(w)-in, float64(h)-in, 3.5, rand.New(rand.NewPCG(seed, 1)))
	}
	dc := gg.NewContext(w, h)
	dc.SetLineJoinRound()
	shape(dc)
	dc.SetColor(ink)
	dc.SetLineWidth(12)
	dc.Stroke()
	// A second, lighter pass: the ink pen going over its own line.
	wobbleRect(dc, in, in, float64(w)-in, float64(h)-in, 3, rand.New(rand.NewPCG(seed, 2)))
	dc.SetLineWidth(5)
	dc.Stroke()
	return dc.Image(), maskFrom(w, h, shape)
}

func roundFrame(w, h int, r *rand.Rand) (image.Image, image.Image) {
	in, rad := 12.0, 34.0+8*r.Float64()
	shape := func(dc *gg.Context) {
		dc.DrawRoundedRectangle(in, in, float64(w)-2*in, float64(h)-2*in, rad)
	}
	dc := gg.NewContext(w, h)
	shape(dc)
	dc.SetColor(ink)
	dc.SetLineWidth(14)
	dc.Stroke()
	return dc.Image(), maskFrom(w, h, shape)
}

func doubleFrame(w, h int, r *rand.Rand) (image.Image, image.Image) {
	in := 8.0
	dc := gg.NewContext(w, h)
	dc.SetColor(ink)
	dc.SetLineWidth(9)
	dc.DrawRectangle(in, in, float64(w)-2*in, float64(h)-2*in)
	dc.Stroke()
	dc.SetLineWidth(4)
	dc.DrawRectangle(in+13, in+13, float64(w)-2*in-26, float64(h)-2*in-26)
	dc.Stroke()
	// Corner ticks, a little different on each frame.
	for _, c := range [][2]float64{{in, in}, {float64(w) - in, in}, {in, float64(h) - in}, {float64(w) - in, float64(h) - in}} {
		if r.IntN(2) == 0 {
			dc.DrawCircle(c[0], c[1], 7)
			dc.Fill()
		}
	}
	return dc.Image(), maskFrom(w, h, func(dc *gg.Context) {
		dc.DrawRectangle(in+13, in+13, float64(w)-2*in-26, float64(h)-2*in-26)
	})
}

// trimmed is a drawing as the firmware shows it, so that it has nothing to
// work out when it draws one: the faint fringe that touches the edge made
// transparent, as the firmware's loader does with a scan's white (alpha
// under 16, or all three colours over 200, reached from the edge), then
// cut to the pixels left (alpha 16 or more), its focal area moved with it.
// The rule is the loader's, written again here: a generator does not import
// the code it feeds.
func trimmed(src image.Image, s *imageSpec) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, src, b.Min, draw.Src) // the PNG encoder's conversion
	light := func(i int) bool {
		p := m.Pix[i*4 : i*4+4]
		return p[3] < 16 || p[0] > 200 && p[1] > 200 && p[2] > 200
	}
	seen := make([]bool, w*h)
	var stack []int
	push := func(x, y int) {
		if i := y*w + x; !seen[i] && light(i) {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	for x := range w {
		push(x, 0)
		push(x, h-1)
	}
	for y := range h {
		push(0, y)
		push(w-1, y)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		m.Pix[i*4+3] = 0
		x, y := i%w, i/w
		if x > 0 {
			push(x-1, y)
		}
		if x < w-1 {
			push(x+1, y)
		}
		if y > 0 {
			push(x, y-1)
		}
		if y < h-1 {
			push(x, y+1)
		}
	}
	box := image.Rectangle{Min: image.Pt(w, h)}
	for y := range h {
		for x := range w {
			if m.Pix[(y*w+x)*4+3] >= 16 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if s.Focal != nil {
		f := *s.Focal
		r := image.Rect(f[0], f[1], f[0]+f[2], f[1]+f[3]).Intersect(box).Sub(box.Min)
		s.Focal = &[4]int{r.Min.X, r.Min.Y, r.Dx(), r.Dy()}
	}
	out := image.NewNRGBA(image.Rect(0, 0, box.Dx(), box.Dy()))
	draw.Draw(out, out.Rect, m, box.Min, draw.Src)
	return out
}
