// Package recog identifies trading cards in camera frames offline: it finds
// the card on the feeder bed, warps it upright, equalises the lighting and
// computes a 256-bit perceptual hash (DCT of the luminance) plus a colour
// signature that tells same-art printings apart; Index finds the nearest
// catalog entry by Hamming distance and accepts it only with a clear margin.
package recog

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/bits"
	"sort"
)

// Hash is a 256-bit perceptual hash.
type Hash [4]uint64

// Distance is the Hamming distance between two hashes (0..256).
func (h Hash) Distance(o Hash) int {
	return bits.OnesCount64(h[0]^o[0]) + bits.OnesCount64(h[1]^o[1]) +
		bits.OnesCount64(h[2]^o[2]) + bits.OnesCount64(h[3]^o[3])
}

// Bytes is the hash as 32 bytes, for storage.
func (h Hash) Bytes() []byte {
	b := make([]byte, 32)
	for i, w := range h {
		for j := 0; j < 8; j++ {
			b[i*8+j] = byte(w >> (56 - 8*j))
		}
	}
	return b
}

// HashFromBytes is the inverse of Hash.Bytes.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != 32 {
		return h, fmt.Errorf("recog: hash is %d bytes, want 32", len(b))
	}
	for i := range h {
		for j := 0; j < 8; j++ {
			h[i] = h[i]<<8 | uint64(b[i*8+j])
		}
	}
	return h, nil
}

// Colour grid of the signature: chromaticity per cell.
const (
	colourCols = 6
	colourRows = 8
	// ColourLen is the length of a colour signature in bytes.
	ColourLen = colourCols * colourRows * 2
)

// Features describe one card image.
type Features struct {
	Hash   Hash
	Colour [ColourLen]uint8 // r and g chromaticity per cell: invariant to white light level
	// Where is the card in the frame (zero for reference images).
	Where Geometry
}

// Geometry is where a card lies in a frame.
type Geometry struct {
	CX, CY float64 // centre, pixels
	W, H   float64 // short and long side, pixels
	Angle  float64 // rotation of the long axis from vertical, degrees
}

// ErrNoCard means no card-sized bright region was found: the bed is empty.
var ErrNoCard = errors.New("recog: no card in the frame")

// warp size: the hash input is hashSize x hashSize, sampled from the card.
const (
	hashSize = 64
	dctSize  = 16
	super    = 3 // supersamples per axis per output pixel
)

// FromFace computes the features of an upright, cropped card image (a
// catalog scan or a rendered demo card).
func FromFace(img image.Image) Features {
	rgba := toRGBA(img)
	w, h := float64(rgba.Rect.Dx()), float64(rgba.Rect.Dy())
	g := Geometry{CX: w / 2, CY: h / 2, W: w, H: h}
	f := features(rgba, g, 1)
	return f
}

// FromFrame finds the card in a camera frame and computes its features.
func FromFrame(img image.Image) (Features, error) {
	rgba := toRGBA(img)
	g, err := Find(rgba)
	if err != nil {
		return Features{}, err
	}
	// Sample a little inside the edges: blur and the bed bleed in there.
	f := features(rgba, g, 0.97)
	f.Where = g
	return f, nil
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	b := img.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, img, b.Min, draw.Src)
	return r
}

// Find locates the card: threshold the luminance against the bed, fill each
// row between its outermost card pixels (a card is convex), and take the
// centre, orientation and size from the region's second moments (for a
// uniform w x h rectangle the variance along a side is side²/12).
func Find(img *image.RGBA) (Geometry, error) {
	b := img.Rect
	w, h := b.Dx(), b.Dy()
	if w < 16 || h < 16 {
		return Geometry{}, fmt.Errorf("recog: frame %dx%d too small", w, h)
	}
	step := max(1, w/320)
	gw, gh := w/step, h/step
	lum := make([]uint8, gw*gh)
	var hist [256]int
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			o := img.PixOffset(b.Min.X+x*step, b.Min.Y+y*step)
			p := img.Pix[o : o+3 : o+3]
			l := uint8((299*int(p[0]) + 587*int(p[1]) + 114*int(p[2])) / 1000)
			lum[y*gw+x] = l
			hist[l]++
		}
	}
	// The bed: the median of the frame's outer ring.
	var ring []uint8
	for x := 0; x < gw; x++ {
		ring = append(ring, lum[x], lum[(gh-1)*gw+x])
	}
	for y := 0; y < gh; y++ {
		ring = append(ring, lum[y*gw], lum[y*gw+gw-1])
	}
	sort.Slice(ring, func(i, j int) bool { return ring[i] < ring[j] })
	bed := int(ring[len(ring)/2])
	// The card: the mean of what is clearly brighter than the bed.
	var n, sum int
	for l := bed + 40; l < 256; l++ {
		n += hist[l]
		sum += hist[l] * l
	}
	if n < gw*gh/20 {
		return Geometry{}, ErrNoCard
	}
	thr := uint8(bed + (sum/n-bed)*35/100)
	var m0, mx, my, mxx, myy, mxy float64
	rows := 0
	for y := 0; y < gh; y++ {
		row := lum[y*gw : (y+1)*gw]
		l, r := -1, -1
		// Two bright pixels in a row: a lone noisy one is not the card.
		for x := 0; x+1 < gw; x++ {
			if row[x] > thr && row[x+1] > thr {
				l = x
				break
			}
		}
		for x := gw - 1; x > 0; x-- {
			if row[x] > thr && row[x-1] > thr {
				r = x
				break
			}
		}
		if l < 0 || r-l < 2 {
			continue
		}
		rows++
		// Closed forms for the sums over x = l..r.
		cnt := float64(r - l + 1)
		sx := cnt * float64(l+r) / 2
		sxx := sumSquares(r) - sumSquares(l-1)
		fy := float64(y)
		m0 += cnt
		mx += sx
		my += cnt * fy
		mxx += sxx
		myy += cnt * fy * fy
		mxy += sx * fy
	}
	if rows < gh/10 || m0 < float64(gw*gh)/30 {
		return Geometry{}, ErrNoCard
	}
	cx, cy := mx/m0, my/m0
	cxx := mxx/m0 - cx*cx + 1.0/12 // +1/12: a pixel's own extent
	cyy := myy/m0 - cy*cy + 1.0/12
	cxy := mxy/m0 - cx*cy
	tr, det := cxx+cyy, cxx*cyy-cxy*cxy
	disc := math.Sqrt(math.Max(0, tr*tr/4-det))
	l1, l2 := tr/2+disc, tr/2-disc
	// Angle of the major axis from the x axis, then from vertical.
	theta := 0.5 * math.Atan2(2*cxy, cxx-cyy)
	a := theta*180/math.Pi - 90
	for a < -90 {
		a += 180
	}
	for a > 90 {
		a -= 180
	}
	s := float64(step)
	g := Geometry{
		CX: (cx + 0.5) * s, CY: (cy + 0.5) * s,
		W: math.Sqrt(12*math.Max(l2, 0)) * s, H: math.Sqrt(12*l1) * s,
		Angle: a,
	}
	if math.Abs(g.Angle) > 30 {
		return Geometry{}, fmt.Errorf("recog: card rotated %.0f°, more than the feeder allows: %w", g.Angle, ErrNoCard)
	}
	if g.W < 16 || g.H < 16 || g.H/g.W < 1.1 || g.H/g.W > 1.8 {
		return Geometry{}, fmt.Errorf("recog: bright region %.0fx%.0f px is not card-shaped: %w", g.W, g.H, ErrNoCard)
	}
	return g, nil
}

func sumSquares(n int) float64 {
	if n <= 0 {
		return 0
	}
	f := float64(n)
	return f * (f + 1) * (2*f + 1) / 6
}

// features warps the card at g (shrunk by inset) to hashSize², equalises it
// and hashes it.
func features(img *image.RGBA, g Geometry, inset float64) Features {
	sin, cos := math.Sincos(g.Angle * math.Pi / 180)
	// Unit vectors of the card's right and down directions in the frame
	// (Angle is clockwise in image coordinates).
	rx, ry := cos, sin
	dx, dy := -sin, cos
	cw, ch := g.W*inset, g.H*inset
	const n = hashSize * super
	var lum [hashSize * hashSize]float64
	var rgb [colourRows * colourCols][3]float64
	bmin := img.Rect.Min
	for j := 0; j < n; j++ {
		v := (float64(j)+0.5)/n - 0.5
		for i := 0; i < n; i++ {
			u := (float64(i)+0.5)/n - 0.5
			x := g.CX + u*cw*rx + v*ch*dx - 0.5
			y := g.CY + u*cw*ry + v*ch*dy - 0.5
			p := bilinear(img, x+float64(bmin.X), y+float64(bmin.Y))
			lum[(j/super)*hashSize+i/super] += 0.299*p[0] + 0.587*p[1] + 0.114*p[2]
			c := &rgb[(j*colourRows/n)*colourCols+i*colourCols/n]
			c[0] += p[0]
			c[1] += p[1]
			c[2] += p[2]
		}
	}
	equalise(&lum)
	var f Features
	f.Hash = phash(&lum)
	for k, c := range rgb {
		s := c[0] + c[1] + c[2] + 1e-9
		f.Colour[2*k] = uint8(math.Min(255, c[0]/s*3*85))
		f.Colour[2*k+1] = uint8(math.Min(255, c[1]/s*3*85))
	}
	return f
}

func bilinear(img *image.RGBA, x, y float64) [3]float64 {
	b := img.Rect
	x = math.Max(float64(b.Min.X), math.Min(x, float64(b.Max.X-1)))
	y = math.Max(float64(b.Min.Y), math.Min(y, float64(b.Max.Y-1)))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, b.Max.X-1), min(y0+1, b.Max.Y-1)
	fx, fy := x-float64(x0), y-float64(y0)
	o00, o10 := img.PixOffset(x0, y0), img.PixOffset(x1, y0)
	o01, o11 := img.PixOffset(x0, y1), img.PixOffset(x1, y1)
	var out [3]float64
	for k := 0; k < 3; k++ {
		top := float64(img.Pix[o00+k])*(1-fx) + float64(img.Pix[o10+k])*fx
		bot := float64(img.Pix[o01+k])*(1-fx) + float64(img.Pix[o11+k])*fx
		out[k] = top*(1-fy) + bot*fy
	}
	return out
}

// equalise removes a linear lighting gradient by dividing by the best-fit
// plane, then normalises to zero mean: the hash compares structure, not
// exposure.
func equalise(l *[hashSize * hashSize]float64) {
	var mean, bx, by, sxx float64
	for j := 0; j < hashSize; j++ {
		for i := 0; i < hashSize; i++ {
			v := l[j*hashSize+i]
			x, y := float64(i)-(hashSize-1)/2.0, float64(j)-(hashSize-1)/2.0
			mean += v
			bx += x * v
			by += y * v
		}
	}
	for i := 0; i < hashSize; i++ {
		x := float64(i) - (hashSize-1)/2.0
		sxx += x * x * hashSize
	}
	mean /= hashSize * hashSize
	bx /= sxx
	by /= sxx
	if mean <= 0 {
		return
	}
	for j := 0; j < hashSize; j++ {
		for i := 0; i < hashSize; i++ {
			x, y := float64(i)-(hashSize-1)/2.0, float64(j)-(hashSize-1)/2.0
			p := math.Max(mean+bx*x+by*y, mean/4)
			l[j*hashSize+i] = l[j*hashSize+i]/p - 1
		}
	}
}

// dctTable[u][x] = cos((2x+1)uπ/2N): computed once, never written after.
var dctTable = func() (t [dctSize][hashSize]float64) {
	for u := 0; u < dctSize; u++ {
		for x := 0; x < hashSize; x++ {
			t[u][x] = math.Cos(float64(2*x+1) * float64(u) * math.Pi / (2 * hashSize))
		}
	}
	return t
}()

// phash is the 256-bit pHash: the 16x16 lowest DCT frequencies, each bit set
// when the coefficient is above their median.
func phash(l *[hashSize * hashSize]float64) Hash {
	// Rows first: tmp[y][u] = Σx l[y][x] cos_u(x).
	var tmp [hashSize][dctSize]float64
	for y := 0; y < hashSize; y++ {
		row := l[y*hashSize : (y+1)*hashSize]
		for u := 0; u < dctSize; u++ {
			var s float64
			for x, v := range row {
				s += v * dctTable[u][x]
			}
			tmp[y][u] = s
		}
	}
	var coef [dctSize * dctSize]float64
	for v := 0; v < dctSize; v++ {
		for u := 0; u < dctSize; u++ {
			var s float64
			for y := 0; y < hashSize; y++ {
				s += tmp[y][u] * dctTable[v][y]
			}
			coef[v*dctSize+u] = s
		}
	}
	sorted := coef
	sort.Float64s(sorted[:])
	med := (sorted[127] + sorted[128]) / 2
	var h Hash
	for i, c := range coef {
		if c > med {
			h[i/64] |= 1 << (63 - i%64)
		}
	}
	return h
}

// FeatureVersion names the recogniser that computed a Features value:
// features from another version are not comparable and must be recomputed
// from the reference images.
const FeatureVersion = 2

// encodedLen is the length of Features.Encode's output.
const encodedLen = 1 + 32 + ColourLen

// Encode is f (without Where) as bytes, for storage and export.
func (f Features) Encode() []byte {
	b := make([]byte, 0, encodedLen)
	b = append(b, FeatureVersion)
	b = append(b, f.Hash.Bytes()...)
	return append(b, f.Colour[:]...)
}

// ErrOldFeatures means stored features come from another recogniser version.
var ErrOldFeatures = errors.New("recog: reference features are from another recogniser version: hash the reference images again")

// DecodeFeatures is the inverse of Features.Encode.
func DecodeFeatures(b []byte) (Features, error) {
	var f Features
	if len(b) == 0 || b[0] != FeatureVersion {
		return f, ErrOldFeatures
	}
	if len(b) != encodedLen {
		return f, fmt.Errorf("recog: features are %d bytes, want %d", len(b), encodedLen)
	}
	h, err := HashFromBytes(b[1:33])
	if err != nil {
		return f, err
	}
	f.Hash = h
	copy(f.Colour[:], b[33:])
	return f, nil
}
