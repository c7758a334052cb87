package comic

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"math"
)

// Orientation is how a strip lies on the paper roll.
type Orientation string

const (
	// OrientAuto prints a strip wider than tall along the paper, any
	// other across it: panels as large as the roll allows.
	OrientAuto Orientation = "auto"
	// OrientAcross prints a strip as the screen shows it: its width
	// across the paper.
	OrientAcross Orientation = "across"
	// OrientAlong turns every strip a quarter turn clockwise: its height
	// across the paper at full width, its width along the roll, the first
	// panel out of the printer first (turn the paper a quarter left to
	// read it).
	OrientAlong Orientation = "along"
)

func (o Orientation) String() string { return string(o) }

// ParseOrientation reads "auto", "across" or "along"; "" is auto.
func ParseOrientation(s string) (Orientation, error) {
	switch o := Orientation(s); o {
	case "":
		return OrientAuto, nil
	case OrientAuto, OrientAcross, OrientAlong:
		return o, nil
	}
	return "", fmt.Errorf("comic: orientation %q is not auto, across or along", s)
}

// along reports whether an image w×h (a strip with its footer, as it is
// archived) prints along the paper.
func (o Orientation) along(w, h int) bool {
	switch o {
	case OrientAlong:
		return true
	case OrientAcross:
		return false
	}
	return w > h
}

// archiveSize is the archive PNG's size for a strip (with its footer).
func archiveSize(s *Strip) image.Point {
	w := ArchiveSize(s)
	return image.Pt(w, int(math.Round(float64(s.Size.Y)*s.Scale(w)))+FooterHeight(w))
}

// Along reports whether strip s prints along the paper in orientation o.
func (o Orientation) Along(s *Strip) bool {
	a := archiveSize(s)
	return o.along(a.X, a.Y)
}

// printLayout is how a strip is drawn for the paper: at width pixels with
// a footer font pixel of k dots, then turned if along.
type printLayout struct {
	width, k int
	along    bool
}

func layoutFor(s *Strip, paper int, o Orientation, footer bool) printLayout {
	k := footerPixel(paper) // the footer's text is the same size on every print
	if !o.Along(s) {
		return printLayout{width: paper, k: k}
	}
	fh := 0
	if footer {
		fh = footerHeight(k)
	}
	// The strip's height and its footer fill the paper's width; rounding
	// the height (Render rounds) never takes it past the paper.
	w := max(1, int(math.Floor(float64(paper-fh)*float64(s.Size.X)/float64(s.Size.Y))))
	return printLayout{width: w, k: k, along: true}
}

// PrintSize is the size of strip s on paper dots wide in orientation o, in
// dots: X across the paper, Y along the roll; the footer included when
// footer is set.
func PrintSize(s *Strip, paper int, o Orientation, footer bool) image.Point {
	l := layoutFor(s, paper, o, footer)
	h := int(math.Round(float64(s.Size.Y) * s.Scale(l.width)))
	if footer {
		h += footerHeight(l.k)
	}
	if l.along {
		return image.Pt(h, l.width)
	}
	return image.Pt(l.width, h)
}

// RenderPrint draws strip s as it prints on paper dots wide in
// orientation o: across, paper pixels wide; along, turned a quarter
// clockwise with its height and footer filling the paper's width.
func (p *Pack) RenderPrint(s *Strip, paper int, o Orientation, left, right string) *image.RGBA {
	img, _ := p.RenderPrintContext(context.Background(), s, paper, o, left, right)
	return img
}

// RenderPrintContext is RenderPrint that gives up between panels once ctx
// ends.
func (p *Pack) RenderPrintContext(ctx context.Context, s *Strip, paper int, o Orientation, left, right string) (*image.RGBA, error) {
	l := layoutFor(s, paper, o, left != "" || right != "")
	img, err := p.render(ctx, s, l.width, l.k, left, right)
	if err != nil || !l.along {
		return img, err
	}
	return TurnClockwise(img), nil
}

// PaperForm is an archived strip (or any image) as it goes to the printer
// in orientation o: turned a quarter clockwise when it prints along the
// paper, else as it is. The printer scales it to the paper's width.
func PaperForm(img image.Image, o Orientation) image.Image {
	b := img.Bounds()
	if !o.along(b.Dx(), b.Dy()) {
		return img
	}
	return TurnClockwise(img)
}

// TurnClockwise returns img turned a quarter turn clockwise: its left
// column becomes the top row, so the strip's first panel prints first.
func TurnClockwise(img image.Image) *image.RGBA {
	src, ok := img.(*image.RGBA)
	if !ok {
		src = image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
		draw.Draw(src, src.Rect, img, img.Bounds().Min, draw.Src)
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		row := src.Pix[y*src.Stride : y*src.Stride+w*4]
		// Source row y is destination column h-1-y, top to bottom.
		o := (h - 1 - y) * 4
		// A pixel as one [4]byte, not a copy call a pixel.
		for x := range w {
			*(*[4]byte)(dst.Pix[o:]) = [4]byte(row[x*4:])
			o += dst.Stride
		}
	}
	return dst
}

// PaperSize is the size in dots of an archived strip w×h printed on paper
// dots wide in orientation o (X across the paper, Y along the roll), as a
// reprint prints it: turned if it goes along, then scaled down to the
// paper's width (a narrower image is centred, not enlarged).
func PaperSize(w, h, paper int, o Orientation) (size image.Point, along bool) {
	if w <= 0 || h <= 0 || paper <= 0 {
		return image.Point{}, false
	}
	if along = o.along(w, h); along {
		w, h = h, w
	}
	if w > paper {
		h, w = max(1, int((int64(h)*int64(paper)+int64(w)/2)/int64(w))), paper
	}
	return image.Pt(w, h), along
}

// DotsPerMM is the resolution of the thermal printers tinkerbox drives
// (203 dpi: 384 dots across 48 mm of a 58 mm roll).
const DotsPerMM = 8
