package comic

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/fogleman/gg"
	xdraw "golang.org/x/image/draw"

	"tinkerbox/images/font"
)

// ArchiveWidth is the minimum width of the archived PNG.
const ArchiveWidth = 1800

// cacheMaxPixels bounds what is cached: art scaled for the printer (a few
// hundred dots wide) is kept, so repeated prints are fast; archive-size art
// is decoded, drawn and let go, so memory stays small on a Pi Zero.
const cacheMaxPixels = 1 << 19

type cacheKey struct {
	src  any // *Image or *Border
	part int // partArt, partMask, partOutline
	flip bool
	w, h int
}

const (
	partArt = iota
	partMask
	partOutline
)

// decoded holds the pixels of the assets one Render has decoded, so a
// drawing and its outline (a frame and its mask) cost one decode.
type decoded map[any][2]image.Image

func (d decoded) get(src any) ([2]image.Image, bool) {
	if px, ok := d[src]; ok {
		return px, px[0] != nil
	}
	var px [2]image.Image
	var err error
	switch a := src.(type) {
	case *Image:
		var art *image.NRGBA
		var ol *image.Alpha
		if art, ol, err = a.Pixels(); err == nil {
			px = [2]image.Image{art, ol}
		}
	case *Border:
		var art *image.NRGBA
		var mask *image.Alpha
		if art, mask, err = a.Pixels(); err == nil {
			px = [2]image.Image{art, mask}
		}
	}
	d[src] = px // a failed decode is remembered as empty: drawn as nothing
	return px, err == nil
}

// scaled returns part of an asset resized to w×h (mirrored if flip), from
// the cache when it is printer-sized.
func (p *Pack) scaled(d decoded, src any, part int, flip bool, w, h int) (image.Image, bool) {
	k := cacheKey{src, part, flip, w, h}
	p.mu.Lock()
	if m, ok := p.cache[k]; ok {
		p.mu.Unlock()
		return m, true
	}
	p.mu.Unlock()
	px, ok := d.get(src)
	if !ok {
		return nil, false
	}
	img := px[0]
	if part != partArt {
		img = px[1]
	}
	var out image.Image
	switch s := img.(type) {
	case *image.Alpha:
		dst := image.NewAlpha(image.Rect(0, 0, w, h))
		if s.Rect.Size() == dst.Rect.Size() {
			copy(dst.Pix, s.Pix)
		} else {
			xdraw.CatmullRom.Scale(dst, dst.Rect, s, s.Rect, xdraw.Src, nil)
		}
		if flip {
			mirrorAlpha(dst)
		}
		out = dst
	default:
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		if img.Bounds().Size() == dst.Rect.Size() {
			draw.Draw(dst, dst.Rect, img, img.Bounds().Min, draw.Src)
		} else {
			xdraw.CatmullRom.Scale(dst, dst.Rect, img, img.Bounds(), xdraw.Src, nil)
		}
		if flip {
			mirrorRGBA(dst)
		}
		out = dst
	}
	if w*h <= cacheMaxPixels {
		p.mu.Lock()
		p.cache[k] = out
		p.mu.Unlock()
	}
	return out, true
}

func mirrorRGBA(m *image.RGBA) {
	w := m.Rect.Dx()
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+w*4]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			var t [4]byte
			copy(t[:], row[i*4:i*4+4])
			copy(row[i*4:i*4+4], row[j*4:j*4+4])
			copy(row[j*4:j*4+4], t[:])
		}
	}
}

func mirrorAlpha(m *image.Alpha) {
	w := m.Rect.Dx()
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// Scale is the factor from master pixels to a render width.
func (s *Strip) Scale(width int) float64 { return float64(width) / float64(s.Size.X) }

// FooterHeight is the footer's height at a render width.
func FooterHeight(width int) int {
	k := footerPixel(width)
	return 11 * k
}

func footerPixel(width int) int { return max(1, int(math.Round(float64(width)/190))) }

// Render draws the strip width pixels wide, with footer text (left) and
// right (right-aligned) in a band below it; both "" means no footer.
func (p *Pack) Render(s *Strip, width int, left, right string) *image.RGBA {
	f := s.Scale(width)
	h := int(math.Round(float64(s.Size.Y) * f))
	fh := 0
	if left != "" || right != "" {
		fh = FooterHeight(width)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, width, h+fh))
	draw.Draw(canvas, canvas.Rect, image.White, image.Point{}, draw.Src)
	sc := func(v int) int { return int(math.Round(float64(v) * f)) }
	line := math.Max(1, float64(p.Cell)/40*f)
	for i := range s.Panels {
		// Decoded pixels live for one panel: a strip's frames at archive
		// size would otherwise all be in memory at once.
		dec := decoded{}
		pn := &s.Panels[i]
		// The size depends on the panel's size only, so frames scaled for
		// one position are reused at every other.
		r := image.Rectangle{Min: image.Pt(sc(pn.Rect.Min.X), sc(pn.Rect.Min.Y))}
		r.Max = r.Min.Add(image.Pt(sc(pn.Rect.Dx()), sc(pn.Rect.Dy())))
		if r.Empty() {
			continue
		}
		layer := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(layer, layer.Rect, image.White, image.Point{}, draw.Src)
		focal := image.Rect(sc(pn.Focal.Min.X), sc(pn.Focal.Min.Y), sc(pn.Focal.Max.X), sc(pn.Focal.Max.Y)).Sub(r.Min)
		if pn.Texture != NoTexture {
			drawTexture(layer, pn.Texture, focal, line, s.Seed+uint64(i))
		}
		if pn.Horizon > 0 {
			y := sc(pn.Horizon) - r.Min.Y
			t := max(1, int(math.Round(line*0.8)))
			draw.Draw(layer, image.Rect(0, y-t/2, r.Dx(), y-t/2+t), image.Black, image.Point{}, draw.Src)
		}
		if im := pn.Image; im != nil {
			at := image.Pt(sc(pn.At.X), sc(pn.At.Y)).Sub(r.Min)
			w, hh := max(1, sc(im.Bounds.Dx())), max(1, sc(im.Bounds.Dy()))
			pad := sc(im.Pad)
			if pn.Texture != NoTexture || pn.Horizon > 0 {
				// A white halo keeps the drawing readable over the background.
				if ol, ok := p.scaled(dec, im, partOutline, pn.Flip, w+2*pad, hh+2*pad); ok {
					draw.DrawMask(layer, ol.Bounds().Add(at.Sub(image.Pt(pad, pad))), image.White, image.Point{}, ol, image.Point{}, draw.Over)
				}
			}
			if art, ok := p.scaled(dec, im, partArt, pn.Flip, w, hh); ok {
				draw.Draw(layer, art.Bounds().Add(at), art, image.Point{}, draw.Over)
			}
		}
		var mask, frame image.Image
		ok := pn.Border != nil
		if ok {
			mask, ok = p.scaled(dec, pn.Border, partMask, false, r.Dx(), r.Dy())
		}
		if ok {
			frame, ok = p.scaled(dec, pn.Border, partArt, false, r.Dx(), r.Dy())
		}
		if ok {
			draw.DrawMask(canvas, r, layer, image.Point{}, mask, image.Point{}, draw.Over)
			draw.Draw(canvas, r, frame, image.Point{}, draw.Over)
		} else {
			draw.Draw(canvas, r, layer, image.Point{}, draw.Src)
		}
	}
	if fh > 0 {
		drawFooter(canvas, image.Rect(0, h, width, h+fh), left, right, sc(s.Grid.Margin)+sc(s.Grid.Gutter/2))
	}
	return canvas
}

// drawTexture paints a background behind the image, centred on its focal area.
func drawTexture(dst *image.RGBA, t Texture, focal image.Rectangle, line float64, seed uint64) {
	dc := gg.NewContextForRGBA(dst)
	w, h := float64(dst.Rect.Dx()), float64(dst.Rect.Dy())
	dc.SetColor(color.Black)
	switch t {
	case Dots:
		step := math.Max(3, line*3.2)
		rad := math.Max(0.6, line*0.55)
		for y, row := step/2, 0; y < h; y, row = y+step, row+1 {
			off := 0.0
			if row%2 == 1 {
				off = step / 2
			}
			for x := step/2 + off; x < w; x += step {
				dc.DrawCircle(x, y, rad)
			}
		}
		dc.Fill()
	case Hatch:
		step := math.Max(4, line*4)
		dc.SetLineWidth(math.Max(1, line*0.5))
		for x := -h; x < w; x += step {
			dc.DrawLine(x, h, x+h, 0)
		}
		dc.Stroke()
	case Burst:
		cx, cy := float64(focal.Min.X+focal.Max.X)/2, float64(focal.Min.Y+focal.Max.Y)/2
		if focal.Empty() {
			cx, cy = w/2, h/2
		}
		r0 := math.Max(float64(focal.Dx()), float64(focal.Dy()))*0.45 + line*2
		r1 := math.Hypot(w, h)
		n := 48
		rr := rng(seed)
		for i := 0; i < n; i++ {
			a := (float64(i) + rr.Float64()*0.5) / float64(n) * 2 * math.Pi
			da := 0.012 + 0.02*rr.Float64()
			start := r0 * (1 + 0.3*rr.Float64())
			// Thin wedges read as speed lines on thermal paper.
			dc.MoveTo(cx+start*math.Cos(a), cy+start*math.Sin(a))
			dc.LineTo(cx+r1*math.Cos(a-da), cy+r1*math.Sin(a-da))
			dc.LineTo(cx+r1*math.Cos(a+da), cy+r1*math.Sin(a+da))
			dc.ClosePath()
		}
		dc.Fill()
	}
}

// drawFooter writes the footer in the 5x7 pixel font, scaled to the width.
func drawFooter(dst *image.RGBA, r image.Rectangle, left, right string, margin int) {
	face := font.Font5x7()
	k := footerPixel(r.Dx())
	tw := face.Measure(left) + face.Measure(right) + 4
	small := image.NewGray(image.Rect(0, 0, max(tw, 1), face.Height()))
	draw.Draw(small, small.Rect, image.White, image.Point{}, draw.Src)
	face.Draw(small, 0, 0, left, color.Black)
	rw := face.Measure(right)
	x0 := max(margin, k)
	// Long texts (big seeds, long names) shrink rather than run into each
	// other; at one dot per pixel the date gives way.
	for k > 1 && (face.Measure(left)+rw+6)*k > r.Dx()-2*x0 {
		k--
	}
	if (face.Measure(left)+rw+6)*k > r.Dx()-2*x0 {
		right, rw = "", 0
	}
	y0 := r.Min.Y + 2*k
	blit := func(sx0, sw, dx0 int) {
		for y := 0; y < face.Height(); y++ {
			for x := 0; x < sw; x++ {
				if small.Pix[y*small.Stride+sx0+x] < 128 {
					draw.Draw(dst, image.Rect(dx0+x*k, y0+y*k, dx0+(x+1)*k, y0+(y+1)*k), image.Black, image.Point{}, draw.Src)
				}
			}
		}
	}
	blit(0, face.Measure(left), x0)
	if right != "" {
		face.Draw(small, tw-rw, 0, right, color.Black)
		blit(tw-rw, rw, r.Max.X-x0-rw*k)
	}
}

// Warm renders a few strips at a width so the drawings and frames are
// already scaled for it: the first press prints as fast as the rest.
func (p *Pack) Warm(width int, strips int) {
	for seed := range uint64(strips) {
		p.WarmSeed(width, seed)
	}
}

// WarmSeed renders one strip at a width to fill the cache.
func (p *Pack) WarmSeed(width int, seed uint64) {
	if s, err := p.Compose(seed); err == nil {
		p.Render(s, width, "", "")
	}
}
