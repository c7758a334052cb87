package sheet

import (
	"image"
	"math"
	"sort"
)

// Ink levels on the lighting-corrected sheet, where paper is 255. A
// component of ink is any 8-connected run of pixels below inkWeak that has
// at least one below inkStrong (hysteresis: faint parts of a stroke stay,
// paper grain and noise, which never get that dark, do not). Output tones
// ramp to white at toneWhite from black at toneBlack (see render).
const (
	inkStrong = 150
	inkWeak   = 200
	toneBlack = 90
	toneWhite = 217
)

// evenLight divides the paper's brightness out of g in place, so that paper
// becomes 255 everywhere, in shadow too. The brightness is estimated per
// tile of about a 64th of the sheet's long side: the mean of the tile's
// pixels that are at least 3/4 of its 85th percentile, which is the paper
// around any ink, unbiased where the light changes across the tile (the
// percentile alone would side with the brighter part and leave a grey
// band along a shadow's edge). Tiles that ink covers (inside a filled
// shape) are recognised by being darker than 0.3 of the brightest tile
// near them or 0.2 of the brightest paper on the sheet — a shadow that
// deep is not supported; ink is darker still — and get their neighbours'
// level instead. ok is false when no tile looks like paper at all (a black
// photo).
func evenLight(g *image.Gray) bool {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	t := max(8, max(w, h)/64)
	gw, gh := (w+t-1)/t, (h+t-1)/t
	lv := make([]int, gw*gh)
	var hist [256]int
	for ty := 0; ty < gh; ty++ {
		for tx := 0; tx < gw; tx++ {
			hist = [256]int{}
			n := 0
			for y := ty * t; y < min(h, (ty+1)*t); y++ {
				for _, v := range g.Pix[y*g.Stride+tx*t : y*g.Stride+min(w, (tx+1)*t)] {
					hist[v]++
					n++
				}
			}
			p := percentile(&hist, n, 0.85)
			sum, cnt := 0, 0
			for v := (3*p + 3) / 4; v < 256; v++ {
				sum += v * hist[v]
				cnt += hist[v]
			}
			lv[ty*gw+tx] = (sum + cnt/2) / max(cnt, 1)
		}
	}
	sorted := append([]int(nil), lv...)
	sort.Ints(sorted)
	top := sorted[len(sorted)*95/100]
	if top < 40 {
		return false
	}
	valid := make([]bool, len(lv))
	for ty := 0; ty < gh; ty++ {
		for tx := 0; tx < gw; tx++ {
			m := 0
			for y := max(0, ty-3); y <= min(gh-1, ty+3); y++ {
				for x := max(0, tx-3); x <= min(gw-1, tx+3); x++ {
					m = max(m, lv[y*gw+x])
				}
			}
			v := lv[ty*gw+tx]
			valid[ty*gw+tx] = 10*v >= 3*m && 5*v >= top
		}
	}
	fillTiles(lv, valid, gw, gh)
	lv = smoothTiles(lv, gw, gh)

	// Bilinear between tile centres, in 8-bit fractions; the division by
	// the level is a reciprocal multiply.
	var rec [256]uint32
	for b := 1; b < 256; b++ {
		rec[b] = (255<<16 + uint32(b)/2) / uint32(b)
	}
	rec[0] = rec[1]
	ix := make([]int, w)
	fx := make([]int, w)
	for x := range w {
		ix[x], fx[x] = tileCoord(x, t, gw)
	}
	row := make([]int, gw)
	for y := 0; y < h; y++ {
		iy, fy := tileCoord(y, t, gh)
		iy1 := min(iy+1, gh-1)
		for i := range row {
			row[i] = lv[iy*gw+i]*(256-fy) + lv[iy1*gw+i]*fy // level << 8
		}
		p := g.Pix[y*g.Stride : y*g.Stride+w]
		for x, v := range p {
			i := ix[x]
			b := (row[i]*(256-fx[x]) + row[min(i+1, gw-1)]*fx[x] + 1<<15) >> 16
			p[x] = uint8(min(255, (uint32(v)*rec[b]+1<<15)>>16))
		}
	}
	return true
}

// tileCoord returns the tile whose centre is at or before pixel p, and
// p's distance past it in 256ths of a tile (0 beyond the first or last).
func tileCoord(p, t, n int) (int, int) {
	c := (2*p + 1 - t) * 256 / (2 * t) // (p + 0.5)/t − 0.5, in 256ths
	if c <= 0 {
		return 0, 0
	}
	i := c >> 8
	if i >= n-1 {
		return n - 1, 0
	}
	return i, c & 0xff
}

// percentile returns the level below which a fraction q of the n counted
// pixels lie.
func percentile(hist *[256]int, n int, q float64) int {
	k := int(q * float64(n))
	for v, c := range hist {
		k -= c
		if k < 0 {
			return v
		}
	}
	return 255
}

// fillTiles gives each invalid tile the mean of its valid or already filled
// neighbours, ring by ring inwards.
func fillTiles(lv []int, valid []bool, gw, gh int) {
	for {
		var next []int
		for i := range lv {
			if valid[i] {
				continue
			}
			x, y := i%gw, i/gw
			sum, n := 0, 0
			for yy := max(0, y-1); yy <= min(gh-1, y+1); yy++ {
				for xx := max(0, x-1); xx <= min(gw-1, x+1); xx++ {
					if valid[yy*gw+xx] {
						sum += lv[yy*gw+xx]
						n++
					}
				}
			}
			if n > 0 {
				lv[i] = sum / n
				next = append(next, i)
			}
		}
		if len(next) == 0 {
			return
		}
		for _, i := range next {
			valid[i] = true
		}
	}
}

// smoothTiles is a [1 2 1] blur of the tile levels each way.
func smoothTiles(lv []int, gw, gh int) []int {
	tmp := make([]int, len(lv))
	out := make([]int, len(lv))
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			tmp[y*gw+x] = lv[y*gw+max(0, x-1)] + 2*lv[y*gw+x] + lv[y*gw+min(gw-1, x+1)]
		}
	}
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			out[y*gw+x] = (tmp[max(0, y-1)*gw+x] + 2*tmp[y*gw+x] + tmp[min(gh-1, y+1)*gw+x] + 8) / 16
		}
	}
	return out
}

// blob is a connected component of ink.
type blob struct {
	area  int
	box   image.Rectangle
	dark  uint8 // its darkest pixel: below inkStrong for real ink
	group int
}

// inkRuns finds the ink of the corrected sheet g inside r as runs, and the
// 8-connected components they form (comp[i] is run i's component).
func inkRuns(g *image.Gray, r image.Rectangle) (runs []run, comp []int32, blobs []blob) {
	l := newLabeler(true)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := g.Pix[y*g.Stride:]
		for x := r.Min.X; x < r.Max.X; {
			if row[x] >= inkWeak {
				x++
				continue
			}
			x0, dark := x, uint8(255)
			for ; x < r.Max.X && row[x] < inkWeak; x++ {
				dark = min(dark, row[x])
			}
			l.add(y, x0, x, dark)
		}
	}
	comp, n := l.components()
	blobs = make([]blob, n)
	for i, rn := range l.runs {
		b := &blobs[comp[i]]
		rb := image.Rect(int(rn.x0), int(rn.y), int(rn.x1), int(rn.y)+1)
		if b.area == 0 {
			b.box, b.dark = rb, rn.dark
		} else {
			b.box, b.dark = b.box.Union(rb), min(b.dark, rn.dark)
		}
		b.area += int(rn.x1 - rn.x0)
	}
	return l.runs, comp, blobs
}

// sliver reports whether b is a thin strip along an edge of the interior r:
// the table or the sheet's own edge showing where a corner was found a
// little off, not a drawing.
func sliver(b image.Rectangle, r image.Rectangle) bool {
	w, h := r.Dx(), r.Dy()
	if (b.Min.X <= r.Min.X+1 || b.Max.X >= r.Max.X-1) &&
		b.Dx()*100 <= 3*w && b.Dy()*100 >= 8*h && b.Dy() >= 4*b.Dx() {
		return true
	}
	return (b.Min.Y <= r.Min.Y+1 || b.Max.Y >= r.Max.Y-1) &&
		b.Dy()*100 <= 3*h && b.Dx()*100 >= 8*w && b.Dx() >= 4*b.Dy()
}

// group joins blobs closer than join pixels into drawings: the ink is
// marked on a grid of cells of about a 400th of the sheet, the marks are
// grown by half the gap (a chamfer distance transform), and the grown
// regions are labelled. It sets each kept blob's group and returns the
// number of groups.
func group(runs []run, comp []int32, blobs []blob, keep []bool, w, h int, join float64) int {
	c := max(1, int(math.Round(float64(max(w, h))/400)))
	gw, gh := (w+c-1)/c, (h+c-1)/c
	const far = math.MaxInt32 / 2
	dist := make([]int32, gw*gh)
	for i := range dist {
		dist[i] = far
	}
	for i, rn := range runs {
		if !keep[comp[i]] {
			continue
		}
		row := dist[int(rn.y)/c*gw:]
		for x := int(rn.x0) / c; x <= int(rn.x1-1)/c; x++ {
			row[x] = 0
		}
	}
	chamfer(dist, gw, gh)
	reach := int32(math.Round(3 * join / 2 / float64(c))) // 3 per cell
	lab := make([]int32, gw*gh)
	var stack []int
	n := 0
	for i := range dist {
		if dist[i] > reach || lab[i] != 0 {
			continue
		}
		n++
		lab[i] = int32(n)
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			px, py := p%gw, p/gw
			for y := max(0, py-1); y <= min(gh-1, py+1); y++ {
				for x := max(0, px-1); x <= min(gw-1, px+1); x++ {
					q := y*gw + x
					if lab[q] == 0 && dist[q] <= reach {
						lab[q] = int32(n)
						stack = append(stack, q)
					}
				}
			}
		}
	}
	for i, rn := range runs {
		if b := &blobs[comp[i]]; keep[comp[i]] && b.group == 0 {
			b.group = int(lab[int(rn.y)/c*gw+int(rn.x0)/c])
		}
	}
	return n
}

// chamfer turns d (0 on marked cells, large elsewhere) into the 3-4 chamfer
// distance to the nearest marked cell, 3 a cell straight, 4 diagonally.
func chamfer(d []int32, w, h int) {
	at := func(x, y int) int32 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return math.MaxInt32 / 2
		}
		return d[y*w+x]
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := d[y*w+x]
			v = min(v, at(x-1, y)+3, at(x, y-1)+3, at(x-1, y-1)+4, at(x+1, y-1)+4)
			d[y*w+x] = v
		}
	}
	for y := h - 1; y >= 0; y-- {
		for x := w - 1; x >= 0; x-- {
			v := d[y*w+x]
			v = min(v, at(x+1, y)+3, at(x, y+1)+3, at(x+1, y+1)+4, at(x-1, y+1)+4)
			d[y*w+x] = v
		}
	}
}

// readingOrder sorts boxes top to bottom, then left to right: boxes whose
// vertical extents overlap by half the shorter one's height share a row.
func readingOrder(boxes []image.Rectangle) []int {
	idx := make([]int, len(boxes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return boxes[idx[a]].Min.Y < boxes[idx[b]].Min.Y })
	var rows [][]int
	for _, i := range idx {
		b := boxes[i]
		placed := false
		if n := len(rows); n > 0 {
			for _, j := range rows[n-1] {
				o := min(b.Max.Y, boxes[j].Max.Y) - max(b.Min.Y, boxes[j].Min.Y)
				if 2*o >= min(b.Dy(), boxes[j].Dy()) {
					rows[n-1] = append(rows[n-1], i)
					placed = true
					break
				}
			}
		}
		if !placed {
			rows = append(rows, []int{i})
		}
	}
	out := idx[:0]
	for _, r := range rows {
		sort.SliceStable(r, func(a, b int) bool { return boxes[r[a]].Min.X < boxes[r[b]].Min.X })
		out = append(out, r...)
	}
	return out
}

// render draws one drawing: the pixels of its runs and one pixel around
// them (the anti-aliased edge of a stroke), toned from the corrected sheet;
// everything else in the crop is white. Tones ramp to white at toneWhite
// from black at toneBlack, or at the blob's own darkest level when that is
// lighter, so that a faint stroke (a thin pen in a small photo) comes out
// black too rather than grey.
func render(g *image.Gray, crop image.Rectangle, runs []run, own []int32, blobOf func(i int32) *blob) *image.Gray {
	w, h := crop.Dx(), crop.Dy()
	black := make([]uint8, w*h) // 0: not ink
	for _, i := range own {
		rn, b := runs[i], blobOf(i)
		lo := max(toneBlack, min(int(b.dark)+12, toneWhite-40))
		y := int(rn.y) - crop.Min.Y
		for yy := max(0, y-1); yy <= min(h-1, y+1); yy++ {
			row := black[yy*w:]
			for xx := max(0, int(rn.x0)-1-crop.Min.X); xx <= min(w-1, int(rn.x1)-crop.Min.X); xx++ {
				row[xx] = uint8(max(int(row[xx]), lo))
			}
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		src := g.Pix[(crop.Min.Y+y)*g.Stride+crop.Min.X:]
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		lo := black[y*w:]
		for x := range dst {
			v := 255
			if b := int(lo[x]); b > 0 {
				v = min(255, max(0, (int(src[x])-b)*255/(toneWhite-b)))
			}
			dst[x] = uint8(v)
		}
	}
	return out
}
