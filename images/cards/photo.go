package cards

import (
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
)

// Shot says how a card is photographed under the feeder's camera.
type Shot struct {
	Angle      float64 // rotation in degrees, clockwise
	DX, DY     float64 // offset of the card centre from the frame centre, in pixels
	Height     float64 // card height in the frame, pixels (0: 80 % of the frame)
	Blur       int     // box blur radius in pixels
	Noise      float64 // standard deviation of the sensor noise, 0..255
	Light      float64 // lighting falloff across the frame, 0 (even) .. 0.6
	LightAngle float64 // direction of the falloff, radians
	Seed       uint64  // noise seed
}

// RandomShot draws a shot within the feeder's tolerances: ±8° rotation, a few
// percent of shift, mild blur, noise and uneven light.
func RandomShot(r *rand.Rand, w, h int) Shot {
	return Shot{
		Angle:      (r.Float64()*2 - 1) * 8,
		DX:         (r.Float64()*2 - 1) * 0.06 * float64(w),
		DY:         (r.Float64()*2 - 1) * 0.04 * float64(h),
		Height:     float64(h) * (0.74 + 0.1*r.Float64()),
		Blur:       r.IntN(2),
		Noise:      2 + 6*r.Float64(),
		Light:      0.4 * r.Float64(),
		LightAngle: r.Float64() * 2 * math.Pi,
		Seed:       r.Uint64(),
	}
}

// Photo renders face as the camera sees it in a w x h frame: on the dark
// feeder bed, rotated, shifted, blurred, noisy and unevenly lit.
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
	scale := fh / s.Height // face pixels per frame pixel
	sin, cos := math.Sincos(s.Angle * math.Pi / 180)
	cx, cy := float64(w)/2+s.DX, float64(h)/2+s.DY
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	bed := [3]float64{28, 30, 34}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Inverse rotation into face coordinates.
			px, py := float64(x)+0.5-cx, float64(y)+0.5-cy
			u := (cos*px+sin*py)*scale + fw/2 - 0.5
			v := (-sin*px+cos*py)*scale + fh/2 - 0.5
			c := sample(src, u, v, bed)
			o := dst.PixOffset(x, y)
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = uint8(c[0]), uint8(c[1]), uint8(c[2]), 255
		}
	}
	if s.Blur > 0 {
		boxBlur(dst, s.Blur)
	}
	rnd := rand.New(rand.NewPCG(s.Seed, 99))
	ls, lc := math.Sincos(s.LightAngle)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := ((float64(x)-float64(w)/2)*lc + (float64(y)-float64(h)/2)*ls) / float64(max(w, h))
			gain := 1 - s.Light*(t+0.5) + s.Light/2
			o := dst.PixOffset(x, y)
			for k := 0; k < 3; k++ {
				v := float64(dst.Pix[o+k])*gain + rnd.NormFloat64()*s.Noise
				dst.Pix[o+k] = uint8(math.Max(0, math.Min(255, v)))
			}
		}
	}
	return dst
}

// sample is a bilinear sample of src at (u, v), bg outside.
func sample(src *image.RGBA, u, v float64, bg [3]float64) [3]float64 {
	x0, y0 := math.Floor(u), math.Floor(v)
	fx, fy := u-x0, v-y0
	var out [3]float64
	for j := 0; j < 2; j++ {
		for i := 0; i < 2; i++ {
			wgt := (1 - fx + float64(i)*(2*fx-1)) * (1 - fy + float64(j)*(2*fy-1))
			x, y := int(x0)+i, int(y0)+j
			if x < 0 || y < 0 || x >= src.Rect.Dx() || y >= src.Rect.Dy() {
				for k := range out {
					out[k] += wgt * bg[k]
				}
				continue
			}
			o := src.PixOffset(x, y)
			for k := range out {
				out[k] += wgt * float64(src.Pix[o+k])
			}
		}
	}
	return out
}

// boxBlur blurs img in place with a (2r+1)² box, separably.
func boxBlur(img *image.RGBA, r int) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	tmp := make([]uint8, len(img.Pix))
	pass := func(src, dst []uint8, n, m, step, stride int) {
		for j := 0; j < m; j++ {
			for i := 0; i < n; i++ {
				for k := 0; k < 3; k++ {
					sum, cnt := 0, 0
					for d := -r; d <= r; d++ {
						if ii := i + d; ii >= 0 && ii < n {
							sum += int(src[j*stride+ii*step+k])
							cnt++
						}
					}
					dst[j*stride+i*step+k] = uint8(sum / cnt)
				}
				dst[j*stride+i*step+3] = 255
			}
		}
	}
	pass(img.Pix, tmp, w, h, 4, img.Stride)
	// Columns: walk x as the outer index and y as the inner one.
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			for k := 0; k < 3; k++ {
				sum, cnt := 0, 0
				for d := -r; d <= r; d++ {
					if yy := y + d; yy >= 0 && yy < h {
						sum += int(tmp[yy*img.Stride+x*4+k])
						cnt++
					}
				}
				img.Pix[y*img.Stride+x*4+k] = uint8(sum / cnt)
			}
		}
	}
}
