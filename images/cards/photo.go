package cards

import (
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
)

// Bed is what the card lies on.
type Bed int

const (
	BedDark     Bed = iota // black felt, luminance 20–35: as dark as a black border
	BedGrey                // grey, 110–140
	BedLight               // white paper, 215–245: as light as a white border
	BedTextured            // a table: wood, printed playmat, carpet or woven cloth
)

func (b Bed) String() string { return [...]string{"dark", "grey", "light", "textured"}[b] }

// Glare is a soft specular spot on the card's glossy surface, saturating
// towards white at its centre.
type Glare struct {
	U, V     float64 // centre as fractions of the face width and height
	Radius   float64 // as a fraction of the face height
	Strength float64 // 0 none; above 1 the core burns out to white
}

// Shot says how a card is photographed. The zero value of every field added
// since the feeder-only version means "off", so old literals keep meaning
// what they meant: a dark bed, no tilt, no glare, no cast, no vignette.
type Shot struct {
	Angle        float64    // rotation in degrees, clockwise; any value (180: fed upside down)
	DX, DY       float64    // offset of the card centre from the frame centre, in pixels
	Height       float64    // card height in the frame before tilt, pixels (0: 80 % of the frame)
	TiltX, TiltY float64    // card tilt towards the camera about the frame's x and y axes, degrees
	Blur         float64    // gaussian blur sigma, pixels
	Noise        float64    // standard deviation of the sensor noise, 0..255
	Light        float64    // lighting falloff across the frame, 0 (even) .. 0.6
	LightAngle   float64    // direction of the falloff, radians
	Vignette     float64    // darkening at the frame corners, 0 .. 0.6
	Cast         [3]float64 // white-balance error: gain offsets per R, G, B, e.g. {0.06, 0, -0.05}
	Glare        [2]Glare   // up to two specular spots; Strength 0 = none
	Bed          Bed
	Seed         uint64 // noise and bed seed
}

// RandomShot draws a shot within the old feeder tolerances: dark bed, ±8°
// rotation, a few percent of shift, mild blur, noise and uneven light. Kept
// for callers written against it; FeederShot and PhoneShot are harsher.
func RandomShot(r *rand.Rand, w, h int) Shot {
	return Shot{
		Angle:      (r.Float64()*2 - 1) * 8,
		DX:         (r.Float64()*2 - 1) * 0.06 * float64(w),
		DY:         (r.Float64()*2 - 1) * 0.04 * float64(h),
		Height:     float64(h) * (0.74 + 0.1*r.Float64()),
		Blur:       0.8 * float64(r.IntN(2)), // the old 3 x 3 box
		Noise:      2 + 6*r.Float64(),
		Light:      0.4 * r.Float64(),
		LightAngle: r.Float64() * 2 * math.Pi,
		Seed:       r.Uint64(),
	}
}

// FeederShot draws a shot as the card feeder takes it: dark, grey or light
// bed, any rotation, card 60–85 % of the frame height (less when a turned
// card would not fit), perspective up to 4°, glare in about a fifth of the
// shots, blur up to 1.5 px, noise 2–8 and light falloff up to 0.4.
func FeederShot(r *rand.Rand, w, h int) Shot {
	s := Shot{
		Bed:        Bed(r.IntN(3)),
		Angle:      r.Float64() * 360,
		Height:     float64(h) * (0.6 + 0.25*r.Float64()),
		Blur:       1.5 * r.Float64(),
		Noise:      2 + 6*r.Float64(),
		Light:      0.4 * r.Float64(),
		LightAngle: r.Float64() * 2 * math.Pi,
		Seed:       r.Uint64(),
	}
	s.TiltX, s.TiltY = tilt(r, 4)
	for k := range s.Cast {
		s.Cast[k] = 0.02 * (2*r.Float64() - 1)
	}
	glares(r, &s, 0.2)
	fit(r, &s, w, h)
	return s
}

// PhoneShot draws a shot as a phone takes it on a table: textured bed, any
// rotation, card 45–80 % of the frame height, tilt up to 25°, glare in about
// a third of the shots, blur up to 2 px, noise 3–10, a colour cast and
// vignetting.
func PhoneShot(r *rand.Rand, w, h int) Shot {
	s := Shot{
		Bed:        BedTextured,
		Angle:      r.Float64() * 360,
		Height:     float64(h) * (0.45 + 0.35*r.Float64()),
		Blur:       2 * r.Float64(),
		Noise:      3 + 7*r.Float64(),
		Light:      0.3 * r.Float64(),
		LightAngle: r.Float64() * 2 * math.Pi,
		Vignette:   0.15 + 0.35*r.Float64(),
		Seed:       r.Uint64(),
	}
	s.TiltX, s.TiltY = tilt(r, 25)
	// Warm or cool white balance, with a touch of green or magenta.
	warm := 0.09 * (2*r.Float64() - 1)
	s.Cast = [3]float64{warm, 0.03 * (2*r.Float64() - 1), -warm}
	glares(r, &s, 0.35)
	fit(r, &s, w, h)
	return s
}

// tilt draws a tilt of up to max degrees in a random direction.
func tilt(r *rand.Rand, max float64) (x, y float64) {
	t := max * math.Sqrt(r.Float64())
	sn, cs := math.Sincos(r.Float64() * 2 * math.Pi)
	return t * cs, t * sn
}

// glares gives s one or two glare spots with probability p.
func glares(r *rand.Rand, s *Shot, p float64) {
	if r.Float64() >= p {
		return
	}
	n := 1 + r.IntN(2)
	for k := 0; k < n; k++ {
		s.Glare[k] = Glare{
			U: 0.1 + 0.8*r.Float64(), V: 0.08 + 0.84*r.Float64(),
			Radius:   0.03 + 0.12*r.Float64(),
			Strength: 0.6 + 0.8*r.Float64(),
		}
	}
}

// fit shrinks the card until it lies inside the frame with a margin of 3 %
// of the frame's smaller side at any rotation and tilt, then shifts it to a
// random place where it still does.
func fit(r *rand.Rand, s *Shot, w, h int) {
	m := 0.03 * float64(min(w, h))
	bbox := func() (x0, y0, x1, y1 float64) {
		c := ShotCorners(*s, w, h)
		x0, y0, x1, y1 = c[0][0], c[0][1], c[0][0], c[0][1]
		for _, p := range c[1:] {
			x0, y0, x1, y1 = math.Min(x0, p[0]), math.Min(y0, p[1]), math.Max(x1, p[0]), math.Max(y1, p[1])
		}
		return
	}
	s.DX, s.DY = 0, 0
	for i := 0; i < 8; i++ {
		x0, y0, x1, y1 := bbox()
		k := math.Min((float64(w)-2*m)/(x1-x0), (float64(h)-2*m)/(y1-y0))
		if k >= 1 {
			break
		}
		s.Height *= k * 0.99
	}
	x0, y0, x1, y1 := bbox()
	dx := m - x0 + (float64(w)-m-x1-(m-x0))*r.Float64()
	dy := m - y0 + (float64(h)-m-y1-(m-y0))*r.Float64()
	// Under perspective a shift is not a pure translation: back off until
	// the card is inside.
	for i := 0; i < 6; i++ {
		s.DX, s.DY = dx, dy
		x0, y0, x1, y1 = bbox()
		if x0 >= m*0.5 && y0 >= m*0.5 && x1 <= float64(w)-m*0.5 && y1 <= float64(h)-m*0.5 {
			return
		}
		dx, dy = dx/2, dy/2
	}
	s.DX, s.DY = 0, 0
}

// focal is the camera's focal length in pixels for a w x h frame: a field of
// view of about 60° across the longer side, like a phone's main camera.
func focal(w, h int) float64 { return 0.87 * float64(max(w, h)) }

// homography maps face coordinates (continuous: (0, 0) is the top-left
// corner of the face, (fw, fh) the bottom-right) to frame coordinates. The
// card is a plane turned by Angle, tilted by TiltX and TiltY and seen by a
// pinhole camera from the distance at which it is Height pixels tall.
func homography(s Shot, w, h int, fw, fh float64) [9]float64 {
	if s.Height <= 0 {
		s.Height = 0.8 * float64(h)
	}
	sc := s.Height / fh
	sa, ca := math.Sincos(s.Angle * math.Pi / 180)
	sx, cx := math.Sincos(s.TiltX * math.Pi / 180)
	sy, cy := math.Sincos(s.TiltY * math.Pi / 180)
	rz := [9]float64{ca, -sa, 0, sa, ca, 0, 0, 0, 1}
	rx := [9]float64{1, 0, 0, 0, cx, -sx, 0, sx, cx}
	ry := [9]float64{cy, 0, sy, 0, 1, 0, -sy, 0, cy}
	rot := mul3(rx, mul3(ry, rz))
	f := focal(w, h)
	var m [9]float64 // columns: sc*r1, sc*r2, translation of the face origin
	for i := 0; i < 3; i++ {
		r1, r2 := rot[3*i]*sc, rot[3*i+1]*sc
		t := [3]float64{s.DX, s.DY, f}[i]
		m[3*i], m[3*i+1], m[3*i+2] = r1, r2, t-r1*fw/2-r2*fh/2
	}
	k := [9]float64{f, 0, float64(w) / 2, 0, f, float64(h) / 2, 0, 0, 1}
	return mul3(k, m)
}

func mul3(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

func inv3(m [9]float64) [9]float64 {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	return [9]float64{
		(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det,
		(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det,
		(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det,
	}
}

func apply(m [9]float64, u, v float64) (x, y float64) {
	z := m[6]*u + m[7]*v + m[8]
	return (m[0]*u + m[1]*v + m[2]) / z, (m[3]*u + m[4]*v + m[5]) / z
}

// ShotMap returns where a point of a FaceWidth x FaceHeight face (in face
// pixels, continuous: pixel (i, j) covers [i, i+1) x [j, j+1)) lands in a
// w x h frame shot with s, in frame pixels of the same convention.
func ShotMap(s Shot, w, h int) func(u, v float64) (x, y float64) {
	m := homography(s, w, h, FaceWidth, FaceHeight)
	return func(u, v float64) (float64, float64) { return apply(m, u, v) }
}

// ShotCorners returns where the face's top-left, top-right, bottom-right
// and bottom-left corners land in the frame, as (x, y) pixels. They are the
// corners of the face rectangle, where its straight edges meet: the card's
// rounded corners lie inside them.
func ShotCorners(s Shot, w, h int) [4][2]float64 {
	m := homography(s, w, h, FaceWidth, FaceHeight)
	var out [4][2]float64
	for i, p := range [4][2]float64{{0, 0}, {FaceWidth, 0}, {FaceWidth, FaceHeight}, {0, FaceHeight}} {
		out[i][0], out[i][1] = apply(m, p[0], p[1])
	}
	return out
}

// Photo renders face as the camera sees it in a w x h frame: on the bed,
// turned, tilted and shifted, with glare, blur, uneven light, vignetting, a
// colour cast and sensor noise. The card's corners are rounded (radius
// CornerRadius for a FaceWidth-wide face, scaled for other sizes), whatever
// the face has there.
func Photo(face image.Image, s Shot, w, h int) *image.RGBA {
	src, ok := face.(*image.RGBA)
	if !ok || src.Rect.Min != (image.Point{}) {
		src = image.NewRGBA(image.Rect(0, 0, face.Bounds().Dx(), face.Bounds().Dy()))
		draw.Draw(src, src.Rect, face, face.Bounds().Min, draw.Src)
	}
	fw, fh := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	if s.Height <= 0 {
		s.Height = 0.8 * float64(h)
	}
	cv := newCanvas(w, h)
	paintBed(cv, s.Bed, s.Seed)
	placeCard(cv, src, s, fw, fh)
	if s.Blur > 0.2 {
		gaussBlur(cv, s.Blur)
	}
	return expose(cv, s)
}

// placeCard inverse-maps every frame pixel near the card into the face and
// blends the bilinear sample over the bed by the pixel's coverage.
func placeCard(cv *canvas, src *image.RGBA, s Shot, fw, fh float64) {
	w, h := cv.w, cv.h
	hm := homography(s, w, h, fw, fh)
	hi := inv3(hm)
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range [4][2]float64{{0, 0}, {fw, 0}, {fw, fh}, {0, fh}} {
		x, y := apply(hm, p[0], p[1])
		x0, y0, x1, y1 = math.Min(x0, x), math.Min(y0, y), math.Max(x1, x), math.Max(y1, y)
	}
	box := image.Rect(int(x0)-2, int(y0)-2, int(x1)+3, int(y1)+3).Intersect(image.Rect(0, 0, w, h))
	rc := CornerRadius * fw / FaceWidth
	foot := fh / s.Height // face pixels per frame pixel, for anti-aliasing the edge
	type spot struct{ u, v, r2, k float64 }
	var spots []spot
	for _, g := range s.Glare {
		if g.Strength > 0 && g.Radius > 0 {
			r := g.Radius * fh
			spots = append(spots, spot{g.U * fw, g.V * fh, r * r, g.Strength})
		}
	}
	iw, ih := src.Rect.Dx(), src.Rect.Dy()
	pix, stride := src.Pix, src.Stride
	for y := box.Min.Y; y < box.Max.Y; y++ {
		fx, fy := float64(box.Min.X)+0.5, float64(y)+0.5
		nu := hi[0]*fx + hi[1]*fy + hi[2]
		nv := hi[3]*fx + hi[4]*fy + hi[5]
		nd := hi[6]*fx + hi[7]*fy + hi[8]
		for x := box.Min.X; x < box.Max.X; x, nu, nv, nd = x+1, nu+hi[0], nv+hi[3], nd+hi[6] {
			u, v := nu/nd, nv/nd
			if u < -foot || v < -foot || u > fw+foot || v > fh+foot {
				continue
			}
			// Signed distance to the card's outline, cheap away from corners.
			var d float64
			if (u > rc && u < fw-rc) || (v > rc && v < fh-rc) {
				d = math.Min(math.Min(u, fw-u), math.Min(v, fh-v))
			} else {
				d = roundRectDist(u, v, 0, 0, fw, fh, rc)
			}
			a := d/foot + 0.5
			if a <= 0 {
				continue
			}
			a = math.Min(a, 1)
			// Bilinear sample, clamped at the face's edge.
			su := math.Max(0, math.Min(u-0.5, fw-1.001))
			sv := math.Max(0, math.Min(v-0.5, fh-1.001))
			i, j := int(su), int(sv)
			tx, ty := float32(su-float64(i)), float32(sv-float64(j))
			i1, j1 := min(i+1, iw-1), min(j+1, ih-1)
			o00, o10, o01, o11 := j*stride+4*i, j*stride+4*i1, j1*stride+4*i, j1*stride+4*i1
			var c rgb
			for k := 0; k < 3; k++ {
				top := float32(pix[o00+k]) + (float32(pix[o10+k])-float32(pix[o00+k]))*tx
				bot := float32(pix[o01+k]) + (float32(pix[o11+k])-float32(pix[o01+k]))*tx
				c[k] = top + (bot-top)*ty
			}
			for _, g := range spots {
				du, dv := u-g.u, v-g.v
				if q := du*du + dv*dv; q < g.r2 {
					t := 1 - q/g.r2
					c = mix(c, rgb{255, 255, 255}, float32(math.Min(1, g.k*t*t)))
				}
			}
			cv.blend(x, y, c, float32(a))
		}
	}
}

// expose applies the light falloff, vignette, colour cast and sensor noise
// and quantises the frame.
func expose(cv *canvas, s Shot) *image.RGBA {
	w, h := cv.w, cv.h
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(s.Seed, 99))
	ls, lc := math.Sincos(s.LightAngle)
	cast := [3]float32{float32(1 + s.Cast[0]), float32(1 + s.Cast[1]), float32(1 + s.Cast[2])}
	hw, hh := float64(w)/2, float64(h)/2
	r2 := 1 / (hw*hw + hh*hh)
	span := float64(max(w, h))
	// A sum of two uniforms has sigma 1/sqrt(6): near enough a gaussian for
	// sensor noise, and three times cheaper than drawing one per channel.
	noise := float32(s.Noise * math.Sqrt(6))
	for y := 0; y < h; y++ {
		dy := float64(y) + 0.5 - hh
		for x := 0; x < w; x++ {
			dx := float64(x) + 0.5 - hw
			t := (dx*lc + dy*ls) / span
			gain := float32((1 - s.Light*t) * (1 - s.Vignette*(dx*dx+dy*dy)*r2))
			o := 3 * (y*w + x)
			p := 4 * (y*w + x)
			var n uint64
			if noise > 0 {
				n = rnd.Uint64()
			}
			for k := 0; k < 3; k++ {
				v := cv.p[o+k] * gain * cast[k]
				if noise > 0 {
					// Two 10-bit uniforms per channel from one draw per pixel.
					sum := float32(n&0x3ff+n>>10&0x3ff) / 1024
					n >>= 21
					v += (sum - 1) * noise
				}
				img.Pix[p+k] = clamp8(v)
			}
			img.Pix[p+3] = 255
		}
	}
	return img
}

// gaussBlur blurs cv in place with three box blurs per axis whose widths
// approximate a gaussian of the given sigma; each box is a running sum, so
// the cost does not grow with sigma.
func gaussBlur(cv *canvas, sigma float64) {
	const n = 3
	ideal := math.Sqrt(12*sigma*sigma/n + 1)
	wl := int(ideal)
	if wl%2 == 0 {
		wl--
	}
	wu := wl + 2
	mIdeal := (12*sigma*sigma - n*float64(wl*wl) - 4*n*float64(wl) - 3*n) / (-4*float64(wl) - 4)
	m := int(math.Round(mIdeal))
	tmp := make([]float32, len(cv.p))
	for i := 0; i < n; i++ {
		r := (wu - 1) / 2
		if i < m {
			r = (wl - 1) / 2
		}
		if r <= 0 {
			continue
		}
		boxRows(cv.p, tmp, cv.w, cv.h, r)
		boxCols(tmp, cv.p, cv.w, cv.h, r)
	}
}

// boxRows averages src over windows of 2r+1 pixels along each row into
// dst, clamping the window at the ends.
func boxRows(src, dst []float32, w, h, r int) {
	inv := 1 / float32(2*r+1)
	for y := 0; y < h; y++ {
		row, out := src[3*y*w:3*(y+1)*w], dst[3*y*w:3*(y+1)*w]
		for k := 0; k < 3; k++ {
			at := func(i int) float32 { return row[3*min(max(i, 0), w-1)+k] }
			var sum float32
			for i := -r; i <= r; i++ {
				sum += at(i)
			}
			for i := 0; i < w; i++ {
				out[3*i+k] = sum * inv
				if i >= r && i+r+1 < w { // no clamping needed
					sum += row[3*(i+r+1)+k] - row[3*(i-r)+k]
				} else {
					sum += at(i+r+1) - at(i-r)
				}
			}
		}
	}
}

// boxCols does the same down the columns, keeping one running sum per
// column so that memory is read row by row.
func boxCols(src, dst []float32, w, h, r int) {
	inv := 1 / float32(2*r+1)
	n := 3 * w
	row := func(y int) []float32 { y = min(max(y, 0), h-1); return src[y*n : (y+1)*n] }
	sum := make([]float32, n)
	for y := -r; y <= r; y++ {
		for i, v := range row(y) {
			sum[i] += v
		}
	}
	for y := 0; y < h; y++ {
		out := dst[y*n : (y+1)*n]
		add, sub := row(y+r+1), row(y-r)
		for i := range out {
			out[i] = sum[i] * inv
			sum[i] += add[i] - sub[i]
		}
	}
}
