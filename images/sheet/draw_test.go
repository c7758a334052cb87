package sheet

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// A test sheet: white paper (A4 at 150 dpi) with figures drawn in black pen,
// and the box each figure's ink covers, in reading order.
type testSheet struct {
	paper *image.Gray
	boxes []image.Rectangle
}

const paperW, paperH = 1240, 1754

func newTestSheet() *testSheet {
	p := image.NewGray(image.Rect(0, 0, paperW, paperH))
	for i := range p.Pix {
		p.Pix[i] = 255
	}
	return &testSheet{paper: p}
}

// pen draws one figure, remembering the box of the pixels it inks.
type pen struct {
	s   *testSheet
	r   float64 // nib radius
	box image.Rectangle
}

func (s *testSheet) pen(r float64) *pen { return &pen{s: s, r: r} }

// done records the figure's box.
func (p *pen) done() { p.s.boxes = append(p.s.boxes, p.box) }

func (p *pen) ink(x, y int) {
	img := p.s.paper
	if !image.Pt(x, y).In(img.Rect) {
		return
	}
	img.Pix[y*img.Stride+x] = 0
	r := image.Rect(x, y, x+1, y+1)
	if p.box.Empty() {
		p.box = r
	} else {
		p.box = p.box.Union(r)
	}
}

// dot inks a disc of the nib's radius.
func (p *pen) dot(cx, cy float64) {
	r := p.r
	for y := int(math.Floor(cy - r)); y <= int(math.Ceil(cy+r)); y++ {
		for x := int(math.Floor(cx - r)); x <= int(math.Ceil(cx+r)); x++ {
			if dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy; dx*dx+dy*dy <= r*r {
				p.ink(x, y)
			}
		}
	}
}

func (p *pen) line(x0, y0, x1, y1 float64) {
	n := int(math.Hypot(x1-x0, y1-y0)/(p.r/2)) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		p.dot(x0+(x1-x0)*t, y0+(y1-y0)*t)
	}
}

func (p *pen) poly(pts ...[2]float64) {
	for i := 1; i < len(pts); i++ {
		p.line(pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1])
	}
}

func (p *pen) arc(cx, cy, rx, ry, a0, a1 float64) {
	n := int(math.Max(rx, ry)*math.Abs(a1-a0)/(p.r/2)) + 8
	for i := 0; i <= n; i++ {
		a := a0 + (a1-a0)*float64(i)/float64(n)
		p.dot(cx+rx*math.Cos(a), cy+ry*math.Sin(a))
	}
}

// fill inks every pixel whose centre in is true, within box b.
func (p *pen) fill(b image.Rectangle, in func(x, y float64) bool) {
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if in(float64(x)+0.5, float64(y)+0.5) {
				p.ink(x, y)
			}
		}
	}
}

// Figures, each centred on (cx, cy) and about s pixels across.

func (s *testSheet) stickFigure(cx, cy, sz float64) {
	p := s.pen(4)
	top := cy - sz/2
	hr := sz * 0.12
	p.arc(cx, top+hr, hr, hr, 0, 2*math.Pi)
	p.dot(cx-hr/3, top+hr*0.8) // eyes
	p.dot(cx+hr/3, top+hr*0.8)
	neck, hip := top+2*hr, cy+sz*0.12
	p.line(cx, neck, cx, hip)
	p.line(cx-sz*0.3, neck+sz*0.1, cx+sz*0.3, neck+sz*0.02)
	p.line(cx, hip, cx-sz*0.22, cy+sz/2)
	p.line(cx, hip, cx+sz*0.2, cy+sz/2)
	p.done()
}

func (s *testSheet) ring(cx, cy, sz float64) {
	p := s.pen(4)
	p.arc(cx, cy, sz/2, sz/2.4, 0, 2*math.Pi)
	p.done()
}

func (s *testSheet) blob(cx, cy, sz float64) {
	p := s.pen(4)
	b := image.Rect(int(cx-sz/2), int(cy-sz/2), int(cx+sz/2)+1, int(cy+sz/2)+1)
	// A filled five-pointed star.
	p.fill(b, func(x, y float64) bool {
		a := math.Atan2(y-cy, x-cx) + math.Pi/2
		r := math.Hypot(x-cx, y-cy)
		k := math.Mod(a/(2*math.Pi/5)+10, 1)
		edge := sz / 2 * (0.45 + 0.55*math.Abs(2*k-1))
		return r <= edge
	})
	p.done()
}

func (s *testSheet) scribble(cx, cy, sz float64, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 3))
	p := s.pen(3.5)
	x, y := cx, cy
	a, da := r.Float64()*2*math.Pi, 0.0
	for i := 0; i < 500; i++ {
		da = 0.85*da + 0.25*(r.Float64()-0.5)
		a += da
		nx, ny := x+6*math.Cos(a), y+6*math.Sin(a)
		if math.Abs(nx-cx) > sz/2 || math.Abs(ny-cy) > sz/2 {
			a += math.Pi / 2 // turn back inside
			continue
		}
		p.line(x, y, nx, ny)
		x, y = nx, ny
	}
	p.done()
}

func (s *testSheet) house(cx, cy, sz float64) {
	p := s.pen(4)
	l, r, t, b := cx-sz*0.4, cx+sz*0.4, cy-sz*0.1, cy+sz/2
	p.poly([2]float64{l, t}, [2]float64{r, t}, [2]float64{r, b}, [2]float64{l, b}, [2]float64{l, t})
	p.poly([2]float64{l - sz*0.08, t + sz*0.04}, [2]float64{cx, cy - sz/2}, [2]float64{r + sz*0.08, t + sz*0.04})
	p.fill(image.Rect(int(cx-sz*0.08), int(b-sz*0.3), int(cx+sz*0.08), int(b)), func(x, y float64) bool { return true })
	p.done()
}

// text writes lines of letter-like strokes, as in a caption or balloon.
func (s *testSheet) text(cx, cy, sz float64, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 5))
	p := s.pen(3)
	lh := sz / 6 // letter height
	for line := 0; line < 3; line++ {
		y := cy - sz/4 + float64(line)*lh*1.5
		x, space := cx-sz/2, true
		for x < cx+sz/2-lh {
			k := r.IntN(5)
			if space && k == 4 {
				k = r.IntN(4) // one space between words
			}
			space = k == 4
			switch k {
			case 0: // l
				p.line(x, y-lh/2, x, y+lh/2)
			case 1: // o
				p.arc(x+lh*0.3, y+lh*0.15, lh*0.3, lh*0.35, 0, 2*math.Pi)
			case 2: // n
				p.line(x, y-lh*0.2, x, y+lh/2)
				p.arc(x+lh*0.25, y, lh*0.25, lh*0.2, math.Pi, 2*math.Pi)
				p.line(x+lh*0.5, y, x+lh*0.5, y+lh/2)
			case 3: // x
				p.line(x, y-lh*0.2, x+lh*0.5, y+lh/2)
				p.line(x+lh*0.5, y-lh*0.2, x, y+lh/2)
			case 4: // space
			}
			x += lh * 0.75
		}
	}
	p.done()
}

// Layouts with 1, 3 and 6 drawings, boxes in reading order.
func sheetOne() *testSheet {
	s := newTestSheet()
	s.stickFigure(paperW/2, paperH/2, 800)
	return s
}

func sheetThree() *testSheet {
	s := newTestSheet()
	s.ring(330, 380, 420)
	s.blob(900, 400, 420)
	s.stickFigure(620, 1200, 700)
	return s
}

func sheetSix() *testSheet {
	s := newTestSheet()
	s.stickFigure(320, 320, 420)
	s.house(920, 320, 400)
	s.scribble(320, 880, 380, 7)
	s.blob(920, 880, 380)
	s.text(320, 1440, 420, 9)
	s.ring(920, 1440, 380)
	return s
}

// shot is a photo of a test sheet and the map from its pixels back to the
// paper's.
type shot struct {
	img     image.Image
	toPaper mat3
}

// camera photographs the sheet with o and returns the photo as the camera
// delivers it: a JPEG at quality 75, decoded.
func camera(t testing.TB, s *testSheet, o PhotoOpts) shot {
	t.Helper()
	hom, _ := photoHom(paperW, paperH, o.defaults())
	inv, ok := hom.inv()
	if !ok {
		t.Fatal("singular photo homography")
	}
	return shot{jpegRoundTrip(t, Photo(s.paper, o)), inv}
}

// scan is a photo that is the paper itself, at k photo pixels a paper pixel.
func scan(img image.Image, k float64) shot {
	return shot{img, mat3{1 / k, 0, 0, 0, 1 / k, 0, 0, 0, 1}}
}

func jpegRoundTrip(t testing.TB, img image.Image) image.Image {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
