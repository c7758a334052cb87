package comic

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"

	"github.com/fogleman/gg"

	"tinkerbox/images/font"
)

// ArchiveWidth is the minimum width of the archived PNG.
const ArchiveWidth = 1800

// cacheMaxPixels bounds what is cached: art scaled for the printer (a few
// hundred dots wide) is kept, so repeated prints are fast; archive-size art
// is decoded, drawn and let go, so memory stays small on a Pi Zero.
const cacheMaxPixels = 1 << 19

// cacheMaxBytes bounds the whole cache, the least recently used part out
// first. Every grid prints at its own scale: the default pack's art at all
// of them is over 40 MB at 384 dots, so the cache keeps only what recent
// strips used (a strip's art is 0.2–2 MB). Art not in it is drawn from
// the pack's reductions, which costs a print about twice a cached one's
// time (tens of milliseconds on a Pi Zero, not seconds): the cache is
// small, the memory an idle appliance keeps with it too.
const cacheMaxBytes = 8 << 20

// scaledCache holds scaled art by key, within cacheMaxBytes; Pack.mu held.
type scaledCache struct {
	m     map[cacheKey]*cached
	bytes int
	tick  uint64
}

type cached struct {
	img   image.Image
	bytes int
	used  uint64
}

func (c *scaledCache) get(k cacheKey) (image.Image, bool) {
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	c.tick++
	e.used = c.tick
	return e.img, true
}

func (c *scaledCache) put(key cacheKey, img image.Image) {
	if _, ok := c.m[key]; ok {
		return
	}
	n := 0
	switch m := img.(type) {
	case *image.RGBA:
		n = len(m.Pix)
	case *image.Alpha:
		n = len(m.Pix)
	}
	c.tick++
	c.m[key] = &cached{img: img, bytes: n, used: c.tick}
	c.bytes += n
	for c.bytes > cacheMaxBytes {
		var old cacheKey
		oldest := c.tick + 1
		for k, e := range c.m {
			if e.used < oldest && k != key {
				old, oldest = k, e.used
			}
		}
		if oldest > c.tick {
			return // only the newest is left
		}
		c.bytes -= c.m[old].bytes
		delete(c.m, old)
	}
}

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
// drawing and its outline (a frame and its mask) cost one decode. Keys are
// the asset (its master pixels) or a levelKey (one reduction's file).
type decoded map[any][2]image.Image

// levelKey is one part of an asset reduced by level, read from the pack's
// build-time reductions.
type levelKey struct {
	src   any
	part  int
	level int
}

// get decodes an asset at master resolution: the art (an *image.Alpha when
// it is black ink alone, else *image.NRGBA) and a frame's mask (a
// drawing's outline is made on demand: see outline).
func (d decoded) get(src any) ([2]image.Image, bool) {
	if px, ok := d[src]; ok {
		return px, px[0] != nil
	}
	var px [2]image.Image
	var err error
	switch a := src.(type) {
	case *Image:
		var art *image.NRGBA
		if art, err = a.art(); err == nil {
			px = [2]image.Image{inkOrArt(art), nil}
		}
	case *Border:
		var art *image.NRGBA
		var mask *image.Alpha
		if art, mask, err = a.Pixels(); err == nil {
			px = [2]image.Image{inkOrArt(art), mask}
		}
	}
	d[src] = px // a failed decode is remembered as empty: drawn as nothing
	return px, err == nil
}

// outline is a drawing's silhouette grown by its Pad (from its decoded
// art), made once per Render.
func (d decoded) outline(im *Image, art image.Image) *image.Alpha {
	k := levelKey{im, partOutline, 0}
	if px, ok := d[k]; ok {
		return px[0].(*image.Alpha)
	}
	var ol *image.Alpha
	switch m := art.(type) {
	case *image.NRGBA:
		ol = grow(m, im.Pad)
	case *image.Alpha:
		ol = growAlpha(m, im.Pad)
	}
	d[k] = [2]image.Image{ol}
	return ol
}

// inkOrArt is art as an ink plane when it is black ink alone (every frame
// of the default pack): a quarter of the pixels to scale and keep, drawn
// black through it (drawInk), the same picture.
func inkOrArt(m *image.NRGBA) image.Image {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+w*4]
		for i := 0; i < len(row); i += 4 {
			if row[i+3] != 0 && row[i]|row[i+1]|row[i+2] != 0 {
				return m
			}
		}
	}
	a := image.NewAlpha(image.Rect(0, 0, w, h))
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+w*4]
		out := a.Pix[y*a.Stride:]
		for x := range w {
			out[x] = row[x*4+3]
		}
	}
	return a
}

// maxLevel is the largest reduction a print is drawn from (see levelFor).
const maxLevel = 4

// levelFor is the reduction a part of master size is drawn from at w×h:
// the largest of 4, 2 and 1 that leaves it at least w×h. A pack's
// reductions are made by the same box average at build time (Precompute),
// so a print reads a file a sixteenth or a quarter of the master's size,
// and draws what it would have drawn from the master.
func levelFor(size image.Point, w, h int) int {
	for l := maxLevel; l > 1; l /= 2 {
		if size.X/l >= w && size.Y/l >= h {
			return l
		}
	}
	return 1
}

// partSize is the master size of an asset's part.
func partSize(src any, part int) image.Point {
	switch a := src.(type) {
	case *Image:
		if part == partOutline {
			return a.Bounds.Size().Add(image.Pt(2*a.Pad, 2*a.Pad))
		}
		return a.Bounds.Size()
	case *Border:
		return a.size
	}
	return image.Point{}
}

// reduced is part of an asset reduced by level, ready to resize: an
// *image.Alpha (a mask, an outline, ink) or a premultiplied *image.RGBA.
// It comes from the pack's build-time reduction when there is one, else
// from the master, decoded and box-averaged.
func (p *Pack) reduced(d decoded, src any, part, level int) (image.Image, bool) {
	if hasLevel(src, part, level) {
		k := levelKey{src, part, level}
		px, ok := d[k]
		if !ok {
			img, err := readLevel(src, part, level)
			if err == nil {
				px[0] = img
			}
			d[k] = px
		}
		if px[0] != nil {
			return px[0], true
		}
		// A broken reduction: the master still draws it.
	}
	px, ok := d.get(src)
	if !ok {
		return nil, false
	}
	img := px[0]
	switch part {
	case partMask:
		img = px[1]
	case partOutline:
		img = d.outline(src.(*Image), px[0])
	}
	return reduce(img, level), true
}

// reduce box-averages an asset's part by level and premultiplies art:
// what resize takes.
func reduce(img image.Image, level int) image.Image {
	img = shrinkPart(img, level)
	if m, ok := img.(*image.NRGBA); ok {
		return premultiplied(m)
	}
	return img
}

// shrinkPart box-averages an asset's part by level: a build-time
// reduction is this, stored.
func shrinkPart(img image.Image, level int) image.Image {
	if level <= 1 {
		return img
	}
	switch m := img.(type) {
	case *image.Alpha:
		return shrinkAlpha(m, level)
	case *image.NRGBA:
		return shrink(m, level)
	}
	return img
}

// scaled returns part of an asset resized to w×h (mirrored if flip), from
// the cache when it is printer-sized: an *image.Alpha for masks, outlines
// and ink, else a premultiplied *image.RGBA.
func (p *Pack) scaled(d decoded, src any, part int, flip bool, w, h int) (image.Image, bool) {
	k := cacheKey{src, part, flip, w, h}
	p.mu.Lock()
	if m, ok := p.cache.get(k); ok {
		p.mu.Unlock()
		return m, true
	}
	// The other way round is as good: a mirror image is cheap, a decode not.
	other, ok := p.cache.get(cacheKey{src, part, !flip, w, h})
	p.mu.Unlock()
	if ok {
		if m := mirrored(other); m != nil {
			p.mu.Lock()
			p.cache.put(k, m)
			p.mu.Unlock()
			return m, true
		}
	}
	size := partSize(src, part)
	level := levelFor(size, w, h)
	img, ok := p.reduced(d, src, part, level)
	if !ok {
		return nil, false
	}
	f := from{level, size}
	var out image.Image
	switch s := img.(type) {
	case *image.Alpha:
		dst := resizeAlpha(s, w, h, f)
		if flip {
			mirrorAlpha(dst)
		}
		out = dst
	case *image.RGBA:
		dst := resizeRGBA(s, w, h, f)
		if flip {
			mirrorRGBA(dst)
		}
		out = dst
	default:
		return nil, false
	}
	if w*h <= cacheMaxPixels {
		p.mu.Lock()
		p.cache.put(k, out)
		p.mu.Unlock()
	}
	return out, true
}

// drawInk draws scaled art over dst at r: black through its alpha when it
// is ink only (an *image.Alpha), else as it is.
func drawInk(dst *image.RGBA, r image.Rectangle, art image.Image) {
	if a, ok := art.(*image.Alpha); ok {
		uniformOver(dst, r, 0, a, a.Rect.Min)
		return
	}
	draw.Draw(dst, r, art, art.Bounds().Min, draw.Over)
}

// shrinkAlpha is shrink for a mask: each pixel the mean of a k×k block
// (fewer at the right and bottom edges).
func shrinkAlpha(src *image.Alpha, k int) *image.Alpha {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewAlpha(image.Rect(0, 0, (w+k-1)/k, (h+k-1)/k))
	sum := make([]uint32, dst.Rect.Dx())
	for Y := range dst.Rect.Dy() {
		rows := min(k, h-Y*k)
		clear(sum)
		for y := range rows {
			row := src.Pix[(Y*k+y)*src.Stride:][:w]
			for x, v := range row {
				sum[x/k] += uint32(v)
			}
		}
		out := dst.Pix[Y*dst.Stride:]
		for X := range dst.Rect.Dx() {
			n := uint32(min(k, w-X*k) * rows)
			out[X] = uint8((sum[X] + n/2) / n)
		}
	}
	return dst
}

// mirrored is a mirrored copy of a cached image (nil for another type).
func mirrored(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.RGBA:
		c := &image.RGBA{Pix: slices.Clone(m.Pix), Stride: m.Stride, Rect: m.Rect}
		mirrorRGBA(c)
		return c
	case *image.Alpha:
		c := &image.Alpha{Pix: slices.Clone(m.Pix), Stride: m.Stride, Rect: m.Rect}
		mirrorAlpha(c)
		return c
	}
	return nil
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
func FooterHeight(width int) int { return footerHeight(footerPixel(width)) }

// footerHeight is the footer band's height for a font pixel of k dots.
func footerHeight(k int) int { return 11 * k }

func footerPixel(width int) int { return max(1, int(math.Round(float64(width)/190))) }

// Render draws the strip width pixels wide, with footer text (left) and
// right (right-aligned) in a band below it; both "" means no footer.
func (p *Pack) Render(s *Strip, width int, left, right string) *image.RGBA {
	img, _ := p.render(context.Background(), s, width, footerPixel(width), left, right)
	return img
}

// RenderContext is Render that gives up between panels once ctx ends: an
// archive-size render takes seconds on a Pi Zero.
func (p *Pack) RenderContext(ctx context.Context, s *Strip, width int, left, right string) (*image.RGBA, error) {
	return p.render(ctx, s, width, footerPixel(width), left, right)
}

// render draws the strip width pixels wide with its footer's font pixel k
// dots wide (the footer is sized for the paper, not for the strip, when
// the strip is turned along the roll).
func (p *Pack) render(ctx context.Context, s *Strip, width, k int, left, right string) (*image.RGBA, error) {
	f := s.Scale(width)
	h := int(math.Round(float64(s.Size.Y) * f))
	fh := 0
	if left != "" || right != "" {
		fh = footerHeight(k)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, width, h+fh))
	draw.Draw(canvas, canvas.Rect, image.White, image.Point{}, draw.Src)
	sc := func(v int) int { return int(math.Round(float64(v) * f)) }
	line := math.Max(1, float64(p.Cell)/40*f)
	var layerPix []uint8
	for i := range s.Panels {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("comic: render: %w", err)
		}
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
		// One layer's memory serves every panel (each is painted white
		// first): a yonkoma's would be four allocations of half a megabyte.
		if n := 4 * r.Dx() * r.Dy(); cap(layerPix) < n {
			layerPix = make([]uint8, n)
		}
		layer := &image.RGBA{Pix: layerPix[:4*r.Dx()*r.Dy()], Stride: 4 * r.Dx(), Rect: image.Rect(0, 0, r.Dx(), r.Dy())}
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
					if a, ok := ol.(*image.Alpha); ok {
						uniformOver(layer, a.Rect.Add(at.Sub(image.Pt(pad, pad))), 0xff, a, a.Rect.Min)
					}
				}
			}
			if art, ok := p.scaled(dec, im, partArt, pn.Flip, w, hh); ok {
				drawInk(layer, art.Bounds().Add(at), art)
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
			if a, ok := mask.(*image.Alpha); ok {
				maskOver(canvas, r, layer, image.Point{}, a, image.Point{})
			} else {
				draw.DrawMask(canvas, r, layer, image.Point{}, mask, image.Point{}, draw.Over)
			}
			drawInk(canvas, r, frame)
		} else {
			draw.Draw(canvas, r, layer, image.Point{}, draw.Src)
		}
	}
	if fh > 0 {
		drawFooter(canvas, image.Rect(0, h, width, h+fh), k, left, right, sc(s.Grid.Margin)+sc(s.Grid.Gutter/2))
	}
	return canvas, nil
}

// drawTexture paints a background behind the image, centred on its focal area.
func drawTexture(dst *image.RGBA, t Texture, focal image.Rectangle, line float64, seed uint64) {
	w, h := float64(dst.Rect.Dx()), float64(dst.Rect.Dy())
	switch t {
	case Dots:
		drawDots(dst, math.Max(3, line*3.2), math.Max(0.6, line*0.55))
	case Hatch:
		drawHatch(dst, math.Max(4, line*4), math.Max(1, line*0.5))
	case Burst:
		dc := gg.NewContextForRGBA(dst)
		dc.SetColor(color.Black)
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

// drawFooter writes the footer in the 5x7 pixel font, a font pixel k
// pixels wide.
func drawFooter(dst *image.RGBA, r image.Rectangle, k int, left, right string, margin int) {
	face := font.Font5x7()
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

// dropCache empties the cache of scaled art (benchmarks of a cold start).
func (p *Pack) dropCache() {
	p.mu.Lock()
	p.cache = scaledCache{m: map[cacheKey]*cached{}}
	p.mu.Unlock()
}
