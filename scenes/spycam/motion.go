package spycam

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
)

// Size of the luma grid motion is detected on: 640x480 averages 8x8 blocks,
// which also averages away most sensor and JPEG noise.
const (
	GridWidth  = 80
	GridHeight = 60
)

// refShift sets how slowly the reference follows the picture: each analysed
// frame moves it 1/2^refShift of the way (1/8), so a slow light change is
// absorbed while a moving object stands out.
const refShift = 3

// MotionOpts tunes the detector. Zero fields take the defaults of DefaultMotionOpts.
type MotionOpts struct {
	// Threshold is the luma difference (0–255) above which a grid cell counts
	// as changed (motion's noise threshold).
	Threshold uint8
	// MinArea is the fraction of the grid (0–1) that must change, after
	// speckle removal, for motion.
	MinArea float64
}

// DefaultMotionOpts are motion's defaults: noise level 32, 0.5 % of the picture.
func DefaultMotionOpts() MotionOpts { return MotionOpts{Threshold: 32, MinArea: 0.005} }

// Detector compares downscaled luma frames with a slowly updated reference.
// It is not safe for concurrent use.
type Detector struct {
	opts MotionOpts
	ref  []uint16 // reference luma << 4 (fixed point: slow updates do not stall on rounding)
	cur  []uint8
	mask []uint8 // 1: the cell changed
	tmp  []uint8
	row  []uint8 // morph's half-way result
	have bool
	dc   dcDecoder
}

// NewDetector returns a detector; the first frame becomes the reference.
func NewDetector(opts MotionOpts) *Detector {
	d := DefaultMotionOpts()
	if opts.Threshold != 0 {
		d.Threshold = opts.Threshold
	}
	if opts.MinArea > 0 {
		d.MinArea = min(opts.MinArea, 1)
	}
	n := GridWidth * GridHeight
	return &Detector{opts: d, ref: make([]uint16, n), cur: make([]uint8, n), mask: make([]uint8, n), tmp: make([]uint8, n), row: make([]uint8, n)}
}

// FeedJPEG feeds a frame's luma; see Feed. A baseline JPEG of at least
// 640x480 (a camera's) is not decoded: its blocks' means are read from their
// DC coefficients (dcGrid), several times faster and without allocating;
// anything else is decoded in full.
func (d *Detector) FeedJPEG(b []byte) (changed float64, motion bool, err error) {
	if d.dc.lumaGrid(b, d.cur) == nil {
		return d.compare()
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, false, fmt.Errorf("spycam: decode frame: %w", err)
	}
	return d.Feed(img)
}

// Feed compares img with the reference and then moves the reference towards
// it. changed is the fraction of the grid that changed after speckle removal;
// motion is changed >= MinArea. The first frame only sets the reference.
func (d *Detector) Feed(img image.Image) (changed float64, motion bool, err error) {
	if err := downscale(img, d.cur); err != nil {
		return 0, false, err
	}
	return d.compare()
}

// compare is Feed on the grid in d.cur.
func (d *Detector) compare() (changed float64, motion bool, err error) {
	if !d.have {
		for i, v := range d.cur {
			d.ref[i] = uint16(v) << 4
		}
		d.have = true
		return 0, false, nil
	}
	th := int(d.opts.Threshold)
	for i, v := range d.cur {
		diff := int(v) - int(d.ref[i]>>4)
		d.mask[i] = 0
		if diff > th || -diff > th {
			d.mask[i] = 1
		}
		// ref += (cur - ref) / 8, in 1/16 units.
		r := int(d.ref[i])
		r += ((int(v) << 4) - r) >> refShift
		d.ref[i] = uint16(r)
	}
	// Opening (erode, then dilate) removes isolated changed cells: noise,
	// a leaf, a JPEG block, without shrinking a real object much.
	morph(d.mask, d.tmp, d.row, false)
	morph(d.tmp, d.mask, d.row, true)
	n := 0
	for _, m := range d.mask {
		n += int(m)
	}
	changed = float64(n) / float64(len(d.mask))
	return changed, changed >= d.opts.MinArea, nil
}

// morph is a 3x3 erosion (dilate false) or dilation of src into dst, by
// rows into row and then by columns. Outside the grid counts as unchanged
// for dilation and as the cell itself for erosion, so an object at the edge
// survives. Cells are 0 or 1 and combined without branches (this runs on
// every analysed frame): the AND of three, or for dilation the OR, which is
// the AND of their complements, complemented.
func morph(src, dst, row []uint8, dilate bool) {
	const w, h = GridWidth, GridHeight
	var k uint8 // 1: dilate
	if dilate {
		k = 1
	}
	for y := range h {
		s, r := src[y*w:(y+1)*w], row[y*w:(y+1)*w]
		r[0] = k ^ ((k ^ s[0]) & (k ^ s[1]))
		for x := 1; x < w-1; x++ {
			r[x] = k ^ ((k ^ s[x-1]) & (k ^ s[x]) & (k ^ s[x+1]))
		}
		r[w-1] = k ^ ((k ^ s[w-2]) & (k ^ s[w-1]))
	}
	for y := range h {
		up, down := max(y-1, 0), min(y+1, h-1)
		a, b, c, d := row[up*w:(up+1)*w], row[y*w:(y+1)*w], row[down*w:(down+1)*w], dst[y*w:(y+1)*w]
		for x := range d {
			d[x] = k ^ ((k ^ a[x]) & (k ^ b[x]) & (k ^ c[x]))
		}
	}
}

// downscale averages img's luma into a GridWidth x GridHeight grid. Camera
// JPEGs decode to YCbCr (or Gray), whose Y plane is read directly.
func downscale(img image.Image, out []uint8) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < GridWidth || h < GridHeight {
		return fmt.Errorf("spycam: frame %dx%d is smaller than the %dx%d motion grid", w, h, GridWidth, GridHeight)
	}
	var pix []uint8
	var stride int
	switch m := img.(type) {
	case *image.YCbCr:
		pix, stride = m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride
	case *image.Gray:
		pix, stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	default:
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
			}
		}
		pix, stride = g.Pix, g.Stride
	}
	for gy := range GridHeight {
		y0, y1 := gy*h/GridHeight, (gy+1)*h/GridHeight
		for gx := range GridWidth {
			x0, x1 := gx*w/GridWidth, (gx+1)*w/GridWidth
			sum := 0
			for y := y0; y < y1; y++ {
				row := pix[y*stride+x0 : y*stride+x1]
				for _, v := range row {
					sum += int(v)
				}
			}
			out[gy*GridWidth+gx] = uint8(sum / ((y1 - y0) * (x1 - x0)))
		}
	}
	return nil
}
