// Package sheet turns a photo of drawings on a sheet of paper into clean
// drawings for the comic art pack: it finds the sheet in the photo (or takes
// the whole photo when it is a flat scan), flattens its perspective, evens
// out the lighting, keeps the ink and cuts it into one image per drawing.
//
// It is written for a Pi Zero. The sheet is looked for on a copy reduced to
// about 500 pixels; the photo itself is only read, once for that copy and
// once more for the part the sheet covers; per-pixel loops are integer
// arithmetic. Memory, besides the caller's photo, at the default MaxSide of
// 1600: 1–2 MB while finding the sheet; then the flattened sheet (1.8 MB
// for A4), after a grey copy of the sheet's part of the photo box-reduced to
// at most twice that size, which a JPEG's YCbCr or a grey photo needs only
// when it is more than twice as big (at most 7 MB, usually 2–3); then the
// ink as runs and the drawings, each at most the sheet's size again. The peak
// stays under 20 MB whatever the photo's size: a 5 Mpixel JPEG takes 6.5 MB
// in all, a 24 Mpixel grey scan 8.5 MB.
package sheet

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Opts tunes Clean; nil means defaults.
type Opts struct {
	MaxSide int     // long side in pixels of the flattened sheet Clean works at; 0 = 1600
	MinInk  float64 // a drawing smaller than this fraction of the sheet's area is dust; 0 = 0.0005
	Margin  int     // white pixels kept around each drawing; 0 = 12
}

// Drawing is one figure from the sheet.
type Drawing struct {
	Image *image.Gray     // clean ink: 0 black, 255 white, cropped to the drawing plus Margin; bounds start at (0, 0)
	Rect  image.Rectangle // where it lay on the flattened sheet (Result.Size coordinates); Image is Rect.Size()
}

// Result is what Clean found.
type Result struct {
	Corners  [4]image.Point // the sheet's corners found in the photo (TL, TR, BR, BL); the photo's own corners when it is a flat scan
	Found    bool           // a sheet edge was found (false: the whole photo was taken as the sheet)
	Size     image.Point    // the flattened sheet's size
	Drawings []Drawing      // in reading order (top to bottom, then left to right)
}

// ErrNoDrawing is returned (with the Result of what was found) when the
// sheet has no ink that amounts to a drawing.
var ErrNoDrawing = errors.New("sheet: no drawing found on the sheet")

// Tuning that is not an option: the reduced copy's long side, and the gap
// (a fraction of the sheet's long side) below which strokes belong to one
// drawing. Separate figures on a sheet are drawn farther apart than that;
// the parts of one figure, a head and its body, letters in a word, closer.
const (
	findSide = 500
	joinGap  = 0.03
	minSide  = 32
	maxSide  = 1 << 16
)

func (o *Opts) defaults() Opts {
	var d Opts
	if o != nil {
		d = *o
	}
	if d.MaxSide <= 0 {
		d.MaxSide = 1600
	}
	d.MaxSide = max(d.MaxSide, 64)
	if d.MinInk <= 0 {
		d.MinInk = 0.0005
	}
	if d.Margin <= 0 {
		d.Margin = 12
	}
	return d
}

// Clean finds the sheet in photo and returns its drawings. A drawing's size
// for MinInk is the ink it has. Strokes need to be about 1.3 photo pixels
// wide to be kept: a pen of 1 mm or more (felt-tip, marker) when a whole A4
// sheet fills a 640×480 photo, a 0.5 mm fine liner from 1296×972, 0.3 mm
// at 2592×1944. Pencil, fainter than ink, is mostly left out. With
// ErrNoDrawing the Result still says where the sheet was.
func Clean(photo image.Image, o *Opts) (*Result, error) {
	if photo == nil {
		return nil, errors.New("sheet: no photo")
	}
	b := photo.Bounds()
	switch {
	case b.Empty():
		return nil, errors.New("sheet: the photo is empty")
	case b.Dx() < minSide || b.Dy() < minSide:
		return nil, fmt.Errorf("sheet: the photo is %d×%d, too small to find a sheet in (at least %d×%d)", b.Dx(), b.Dy(), minSide, minSide)
	case b.Dx() > maxSide || b.Dy() > maxSide:
		return nil, fmt.Errorf("sheet: the photo is %d×%d, larger than any camera takes (at most %d a side)", b.Dx(), b.Dy(), maxSide)
	}
	opt := o.defaults()
	q, res := locate(photo, opt.MaxSide)
	sheet := flatten(photo, q, res.Size.X, res.Size.Y)
	if !evenLight(sheet) {
		return res, errors.New("sheet: no paper in the photo: it is too dark")
	}
	res.Drawings = cut(sheet, opt)
	if len(res.Drawings) == 0 {
		return res, ErrNoDrawing
	}
	return res, nil
}

// locate finds the sheet in photo and decides the flattened size: the
// sheet's proportions, long side up to twice its size in the photo (the
// smoother edges of bilinear upsampling are worth having in the drawings;
// more adds nothing) and at most maxSide. q is the sheet in photo
// coordinates.
func locate(photo image.Image, maxSide int) (quad, *Result) {
	b := photo.Bounds()
	long := max(b.Dx(), b.Dy())
	f := max(1, int(math.Round(float64(long)/findSide)))
	q, found := findSheet(whiteness(photo, f))
	org := pt{float64(b.Min.X), float64(b.Min.Y)}
	var ratio, across, down float64
	if found {
		for i := range q {
			p := q[i].scale(float64(f)).add(org)
			q[i] = pt{math.Max(org.x, math.Min(p.x, float64(b.Max.X))), math.Max(org.y, math.Min(p.y, float64(b.Max.Y)))}
		}
		centre := pt{float64(b.Min.X+b.Max.X) / 2, float64(b.Min.Y+b.Max.Y) / 2}
		ratio = snapRatio(aspect(q, centre, focalPerPixel*float64(long)))
		across = math.Max(q[0].dist(q[1]), q[3].dist(q[2]))
		down = math.Max(q[0].dist(q[3]), q[1].dist(q[2]))
	} else {
		x0, y0, x1, y1 := float64(b.Min.X), float64(b.Min.Y), float64(b.Max.X), float64(b.Max.Y)
		q = quad{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
		across, down = float64(b.Dx()), float64(b.Dy())
		ratio = across / down
	}
	res := &Result{Found: found}
	for i, p := range q {
		res.Corners[i] = image.Pt(int(math.Round(p.x)), int(math.Round(p.y)))
	}
	l := int(math.Min(float64(maxSide), 2*math.Max(across, down)))
	w, h := l, int(math.Round(float64(l)/ratio))
	if ratio < 1 {
		w, h = int(math.Round(float64(l)*ratio)), l
	}
	res.Size = image.Pt(max(w, 1), max(h, 1))
	return q, res
}

// cut finds the ink on the lighting-corrected sheet and returns it as
// drawings in reading order. A band along the sheet's edge (1.5 % of its
// short side) is left out, where the table shows if a corner was found a
// little off; so are specks, ink that never gets properly dark, strips
// along the band, and groups with less ink than MinInk.
func cut(sheet *image.Gray, opt Opts) []Drawing {
	w, h := sheet.Rect.Dx(), sheet.Rect.Dy()
	l := max(w, h)
	band := max(2, int(math.Round(0.015*float64(min(w, h)))))
	inner := image.Rect(band, band, w-band, h-band)
	if inner.Empty() {
		return nil
	}
	runs, comp, blobs := inkRuns(sheet, inner)
	speck := max(3, l*l/100000)
	keep := make([]bool, len(blobs))
	for i, bl := range blobs {
		keep[i] = bl.dark < inkStrong && bl.area >= speck && !sliver(bl.box, inner)
	}
	n := group(runs, comp, blobs, keep, w, h, joinGap*float64(l))

	area := make([]int, n+1)
	boxes := make([]image.Rectangle, n+1)
	for i, bl := range blobs {
		if !keep[i] {
			continue
		}
		g := bl.group
		if area[g] == 0 {
			boxes[g] = bl.box
		} else {
			boxes[g] = boxes[g].Union(bl.box)
		}
		area[g] += bl.area
	}
	minArea := opt.MinInk * float64(w) * float64(h)
	var ids []int
	var rects []image.Rectangle
	for g := 1; g <= n; g++ {
		if area[g] > 0 && float64(area[g]) >= minArea {
			ids = append(ids, g)
			rects = append(rects, boxes[g])
		}
	}
	// Each drawing's runs, so that each is rendered from its own.
	own := make([][]int32, n+1)
	for i := range runs {
		if c := comp[i]; keep[c] {
			g := blobs[c].group
			own[g] = append(own[g], int32(i))
		}
	}
	var out []Drawing
	full := image.Rect(0, 0, w, h)
	for _, k := range readingOrder(rects) {
		g := ids[k]
		crop := rects[k].Inset(-opt.Margin).Intersect(full)
		img := render(sheet, crop, runs, own[g], func(i int32) *blob { return &blobs[comp[i]] })
		out = append(out, Drawing{Image: img, Rect: crop})
	}
	return out
}
