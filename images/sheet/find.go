package sheet

import (
	"image"
	"math"
	"sort"
)

// findSheet looks for the sheet's outline in g, the photo's whiteness
// reduced to a few hundred pixels (see whiteness). Candidate regions are
// the largest bright component above Otsu's threshold and a flood fill from
// the brightest paper that crosses gentle changes (a soft shadow) but stops
// at sharp ones (the sheet's edge); a candidate is taken when its largest
// inscribed quadrilateral is big, sheet-shaped, filled by the region and
// bounded by real edges. The winner's sides are then refitted to the
// strongest edges nearby. ok is false when nothing qualifies, or only the
// whole frame does: a flat scan, or paper that fills the photo.
func findSheet(g *image.Gray) (q quad, ok bool) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	if w < 8 || h < 8 {
		return quad{}, false
	}
	s := box3(g)
	t, dark := otsu(s.Pix)
	f := &finder{w: w, h: h, g: g, s: s}

	var best candidate
	try := func(mask []bool) {
		// The larger of two good candidates wins: the flood stops at a
		// fold or a crease that Otsu's threshold does not see.
		if c, ok := f.evaluate(mask); ok && (c.score > best.score+0.1 ||
			(c.score > best.score-0.1 && c.q.area() > best.q.area())) {
			best = c
		}
	}
	bright := make([]bool, w*h)
	for i, v := range s.Pix {
		bright[i] = v >= t
	}
	bright = f.largest(bright)
	try(bright)
	if seed := f.brightest(bright); seed >= 0 {
		try(f.flood(seed, dark))
	}
	if best.score == 0 {
		return quad{}, false
	}
	return f.refine(best.q), true
}

type finder struct {
	w, h int
	g, s *image.Gray
}

type candidate struct {
	q     quad
	score float64
}

// box3 is a 3×3 box blur (edges clamped): it takes the sensor noise down
// for the thresholds and the flood fill.
func box3(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	sums := [3][]uint16{make([]uint16, w), make([]uint16, w), make([]uint16, w)}
	hsum := func(y int, dst []uint16) {
		y = min(max(y, 0), h-1)
		p := g.Pix[y*g.Stride : y*g.Stride+w]
		for x := range p {
			dst[x] = uint16(p[max(x-1, 0)]) + uint16(p[x]) + uint16(p[min(x+1, w-1)])
		}
	}
	hsum(-1, sums[0])
	hsum(0, sums[1])
	for y := 0; y < h; y++ {
		hsum(y+1, sums[2])
		o := out.Pix[y*out.Stride:]
		for x := 0; x < w; x++ {
			o[x] = uint8((uint32(sums[0][x]) + uint32(sums[1][x]) + uint32(sums[2][x]) + 4) / 9)
		}
		sums[0], sums[1], sums[2] = sums[1], sums[2], sums[0]
	}
	return out
}

// otsu returns the threshold that best splits p into two classes (values
// ≥ t are bright), and the mean of the dark class.
func otsu(p []uint8) (t uint8, dark float64) {
	var hist [256]float64
	for _, v := range p {
		hist[v]++
	}
	var total, sum float64
	for i, n := range hist {
		total += n
		sum += float64(i) * n
	}
	var wb, sb, best float64
	t = 128
	for i := 0; i < 255; i++ {
		wb += hist[i]
		sb += float64(i) * hist[i]
		wf := total - wb
		if wb == 0 || wf == 0 {
			continue
		}
		mb, mf := sb/wb, (sum-sb)/wf
		if v := wb * wf * (mb - mf) * (mb - mf); v > best {
			best, t, dark = v, uint8(i+1), mb
		}
	}
	return t, dark
}

// largest returns the largest 4-connected region of mask.
func (f *finder) largest(mask []bool) []bool {
	runs, comp, n := maskRuns(mask, f.w, f.h)
	area := make([]int, n)
	for i, r := range runs {
		area[comp[i]] += int(r.x1 - r.x0)
	}
	best := -1
	for c, a := range area {
		if best < 0 || a > area[best] {
			best = c
		}
	}
	out := make([]bool, len(mask))
	for i, r := range runs {
		if int(comp[i]) == best {
			row := out[int(r.y)*f.w:]
			for x := r.x0; x < r.x1; x++ {
				row[x] = true
			}
		}
	}
	return out
}

// brightest returns the brightest smoothed pixel inside mask, or -1.
func (f *finder) brightest(mask []bool) int {
	best, at := -1, -1
	for i, in := range mask {
		if in && int(f.s.Pix[i]) > best {
			best, at = int(f.s.Pix[i]), i
		}
	}
	return at
}

// flood grows a region from seed over everything but walls, never into
// pixels as dark as the dark class. A wall is a pixel where the image
// changes by more than a quarter within 4 pixels: the sheet's edge (even
// blurred, even in shadow, where paper is still twice as bright as the
// table beside it) and ink strokes are walls; a soft shadow, which dims the
// paper over tens of pixels, and light falloff are not.
func (f *finder) flood(seed int, dark float64) []bool {
	w, h := f.w, f.h
	p := f.s.Pix
	wall := make([]bool, len(p))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			l, r := p[y*w+max(x-2, 0)], p[y*w+min(x+2, w-1)]
			u, d := p[max(y-2, 0)*w+x], p[min(y+2, h-1)*w+x]
			step := max(absDiff(l, r), absDiff(u, d))
			wall[y*w+x] = step >= 10 && 4*step > int(max(l, r, u, d))
		}
	}
	floor := uint8(min(255, max(0, dark)))
	pass := wall // reused: passable is neither wall nor dark
	for i, v := range p {
		pass[i] = !wall[i] && v > floor
	}
	runs, comp, _ := maskRuns(pass, w, h)
	mask := make([]bool, len(p))
	sx, sy := int32(seed%w), int32(seed/w)
	at := int32(-1)
	for i, r := range runs {
		if r.y == sy && r.x0 <= sx && sx < r.x1 {
			at = comp[i]
		}
	}
	for i, r := range runs {
		if comp[i] == at {
			row := mask[int(r.y)*w:]
			for x := r.x0; x < r.x1; x++ {
				row[x] = true
			}
		}
	}
	return mask
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// evaluate fits a quadrilateral to a candidate region and scores it: the
// mean fraction of its sides that lie on real edges times how well the
// region fills it. ok is false for a region that is not a sheet.
func (f *finder) evaluate(mask []bool) (candidate, bool) {
	c, why := f.judge(mask)
	return c, why == ""
}

// judge is evaluate with the reason for a rejection, "" for none.
func (f *finder) judge(mask []bool) (candidate, string) {
	w, h := f.w, f.h
	frame := float64(w * h)
	n := 0
	for _, in := range mask {
		if in {
			n++
		}
	}
	if float64(n) < 0.12*frame {
		return candidate{}, "region too small"
	}
	filled := f.fillHoles(mask)
	hull := rowHull(filled, w, h)
	if len(hull) < 4 {
		return candidate{}, "no hull"
	}
	c := candidate{q: maxQuad(hull)}
	a := c.q.area()
	switch {
	case a < 0.15*frame:
		return c, "quad too small"
	case a > 0.92*frame:
		return c, "the whole frame"
	case !c.q.convex() || !sheetShaped(c.q):
		return c, "not sheet-shaped"
	}
	inside, outside := quadCover(c.q, filled, w, h)
	fill := float64(inside) / a
	if fill < 0.88 || float64(outside) > 0.08*float64(inside+outside) {
		return c, "region does not fill the quad"
	}
	edge, sides := 0.0, 0
	for i := range c.q {
		p0, p1 := c.q[i], c.q[(i+1)%4]
		if onBorder(p0, p1, w, h) {
			continue
		}
		e := f.edgeFraction(p0, p1)
		if e < 0.4 {
			return c, "a side without an edge"
		}
		edge += e
		sides++
	}
	// A close-up may show one edge of the sheet only (the others beyond
	// the frame): that one has to be clear.
	if edge /= float64(sides); edge < 0.6 || (sides == 1 && edge < 0.8) {
		return c, "weak edges"
	}
	c.score = edge * math.Min(1, fill)
	return c, ""
}

// fillHoles returns mask with every hole filled: the pixels not in mask that
// cannot reach the frame's border without crossing it (ink on the sheet).
func (f *finder) fillHoles(mask []bool) []bool {
	w, h := f.w, f.h
	out := make([]bool, len(mask))
	for i, in := range mask {
		out[i] = !in
	}
	runs, comp, n := maskRuns(out, w, h)
	open := make([]bool, n) // reaches the border
	for i, r := range runs {
		if r.y == 0 || int(r.y) == h-1 || r.x0 == 0 || int(r.x1) == w {
			open[comp[i]] = true
		}
	}
	for i := range out {
		out[i] = true
	}
	for i, r := range runs {
		if open[comp[i]] {
			row := out[int(r.y)*w:]
			for x := r.x0; x < r.x1; x++ {
				row[x] = false
			}
		}
	}
	return out
}

// rowHull returns the convex hull, clockwise on screen, of the pixel
// squares of mask, from the first and last pixel of each row.
func rowHull(mask []bool, w, h int) []pt {
	var ps []pt
	for y := 0; y < h; y++ {
		row := mask[y*w : (y+1)*w]
		x0, x1 := -1, -1
		for x, in := range row {
			if in {
				if x0 < 0 {
					x0 = x
				}
				x1 = x + 1
			}
		}
		if x0 >= 0 {
			fy := float64(y)
			ps = append(ps, pt{float64(x0), fy}, pt{float64(x0), fy + 1}, pt{float64(x1), fy}, pt{float64(x1), fy + 1})
		}
	}
	return convexHull(ps)
}

// convexHull is Andrew's monotone chain; the result runs clockwise on
// screen (y down) without repeating its first point.
func convexHull(ps []pt) []pt {
	if len(ps) < 3 {
		return ps
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].x != ps[j].x {
			return ps[i].x < ps[j].x
		}
		return ps[i].y < ps[j].y
	})
	turn := func(o, a, b pt) float64 { return a.sub(o).cross(b.sub(o)) }
	var lower, upper []pt
	for _, p := range ps {
		for len(lower) >= 2 && turn(lower[len(lower)-2], lower[len(lower)-1], p) <= 0 {
			lower = lower[:len(lower)-1]
		}
		lower = append(lower, p)
	}
	for i := len(ps) - 1; i >= 0; i-- {
		p := ps[i]
		for len(upper) >= 2 && turn(upper[len(upper)-2], upper[len(upper)-1], p) <= 0 {
			upper = upper[:len(upper)-1]
		}
		upper = append(upper, p)
	}
	hull := append(lower[:len(lower)-1], upper[:len(upper)-1]...)
	// The chain turns counter-clockwise in y-up terms, which is clockwise on
	// screen.
	return hull
}

// maxQuad returns the largest-area quadrilateral with corners on the convex
// polygon hull, ordered TL, TR, BR, BL. The hull is first thinned to 48
// vertices by dropping those that cut the least area (Visvalingam): the
// staircase of a pixel edge goes, the sheet's corners stay.
func maxQuad(hull []pt) quad {
	hull = thin(hull, 48)
	n := len(hull)
	tri := func(a, b, c pt) float64 { return math.Abs(b.sub(a).cross(c.sub(a))) / 2 }
	var best float64
	var bi [4]int
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			// Best corner on each side of the diagonal i–j.
			var a1, a2 float64
			k1, k2 := -1, -1
			for k := i + 1; k < j; k++ {
				if a := tri(hull[i], hull[k], hull[j]); a > a1 {
					a1, k1 = a, k
				}
			}
			for k := j + 1; k < n+i; k++ {
				if a := tri(hull[i], hull[j], hull[k%n]); a > a2 {
					a2, k2 = a, k%n
				}
			}
			if k1 >= 0 && k2 >= 0 && a1+a2 > best {
				best, bi = a1+a2, [4]int{i, k1, j, k2}
			}
		}
	}
	var q quad
	for k, i := range bi {
		q[k] = hull[i]
	}
	return order(q)
}

// order rotates q (already clockwise on screen) to start at its top-left
// corner, the one nearest the photo's top-left along the diagonal.
func order(q quad) quad {
	if q.area() < 0 {
		q[1], q[3] = q[3], q[1]
	}
	first := 0
	for i := range q {
		if q[i].x+q[i].y < q[first].x+q[first].y {
			first = i
		}
	}
	var out quad
	for i := range out {
		out[i] = q[(first+i)%4]
	}
	return out
}

// thin removes the vertices of polygon p that cut the smallest triangles
// until at most n are left.
func thin(p []pt, n int) []pt {
	p = append([]pt(nil), p...)
	for len(p) > n {
		m := len(p)
		at, least := 0, math.Inf(1)
		for i := range p {
			a, b, c := p[(i+m-1)%m], p[i], p[(i+1)%m]
			if t := math.Abs(b.sub(a).cross(c.sub(a))); t < least {
				at, least = i, t
			}
		}
		p = append(p[:at], p[at+1:]...)
	}
	return p
}

// sheetShaped rejects quads no photo of a rectangle makes: corners far from
// square or opposite sides of very different length.
func sheetShaped(q quad) bool {
	for i := range q {
		a, b, c := q[(i+3)%4], q[i], q[(i+1)%4]
		u, v := a.sub(b), c.sub(b)
		cos := u.dot(v) / (math.Hypot(u.x, u.y) * math.Hypot(v.x, v.y))
		if math.Abs(cos) > math.Cos(40*math.Pi/180) {
			return false
		}
	}
	for i := 0; i < 2; i++ {
		l0, l1 := q[i].dist(q[i+1]), q[i+2].dist(q[(i+3)%4])
		if math.Min(l0, l1) < 0.5*math.Max(l0, l1) {
			return false
		}
	}
	return true
}

// quadCover counts mask's pixels whose centres lie inside and outside q.
func quadCover(q quad, mask []bool, w, h int) (inside, outside int) {
	for y := 0; y < h; y++ {
		x0, x1 := quadSpan(q, float64(y)+0.5)
		for x := 0; x < w; x++ {
			if !mask[y*w+x] {
				continue
			}
			if c := float64(x) + 0.5; c >= x0 && c < x1 {
				inside++
			} else {
				outside++
			}
		}
	}
	return inside, outside
}

// quadSpan returns where the horizontal line at y enters and leaves the
// convex quad q (x0 ≥ x1 when it misses).
func quadSpan(q quad, y float64) (x0, x1 float64) {
	x0, x1 = math.Inf(1), math.Inf(-1)
	for i := range q {
		a, b := q[i], q[(i+1)%4]
		if (a.y <= y) == (b.y <= y) {
			continue
		}
		x := a.x + (y-a.y)*(b.x-a.x)/(b.y-a.y)
		x0, x1 = math.Min(x0, x), math.Max(x1, x)
	}
	return x0, x1
}

// onBorder reports whether the segment a–b runs along an edge of the w × h
// frame: the sheet goes on beyond the photo there.
func onBorder(a, b pt, w, h int) bool {
	const tol = 1.5
	fw, fh := float64(w), float64(h)
	near := func(u, v float64) bool { return math.Abs(u-v) <= tol }
	return (near(a.x, 0) && near(b.x, 0)) || (near(a.y, 0) && near(b.y, 0)) ||
		(near(a.x, fw) && near(b.x, fw)) || (near(a.y, fh) && near(b.y, fh))
}

// at samples f's unsmoothed plane bilinearly at p (continuous coordinates),
// clamped to the frame.
func (f *finder) at(img *image.Gray, p pt) float64 {
	x := math.Max(0, math.Min(p.x-0.5, float64(f.w-1)))
	y := math.Max(0, math.Min(p.y-0.5, float64(f.h-1)))
	i, j := int(x), int(y)
	i1, j1 := min(i+1, f.w-1), min(j+1, f.h-1)
	tx, ty := x-float64(i), y-float64(j)
	pix, st := img.Pix, img.Stride
	a := float64(pix[j*st+i])*(1-tx) + float64(pix[j*st+i1])*tx
	b := float64(pix[j1*st+i])*(1-tx) + float64(pix[j1*st+i1])*tx
	return a + (b-a)*ty
}

// reach is how far from a fitted side the sheet's edge is looked for: 2 %
// of the frame.
func (f *finder) reach() float64 { return math.Max(3, 0.02*float64(max(f.w, f.h))) }

// outward is the unit normal of side a→b of a clockwise quad, pointing out.
func outward(a, b pt) pt {
	d := b.sub(a)
	l := math.Hypot(d.x, d.y)
	return pt{d.y / l, -d.x / l}
}

// edgeFraction samples the side a→b and returns the fraction of samples
// with a sharp step down from inside to outside within reach: paper
// against table. The reach allows for a sheet whose edges bow a little
// (curled paper) around the straight sides of the inscribed quad. A shadow's edge, a light gradient or the middle of the
// paper have none.
func (f *finder) edgeFraction(a, b pt) float64 {
	n := outward(a, b)
	const samples = 24
	reach := f.reach()
	hits := 0
	for k := 0; k < samples; k++ {
		p := a.lerp(b, (float64(k)+0.5)/samples)
		for d := -reach; d <= reach; d++ {
			c := p.add(n.scale(d))
			in, out := f.at(f.s, c.add(n.scale(-2))), f.at(f.s, c.add(n.scale(2)))
			if in-out >= math.Max(12, 0.2*in) {
				hits++
				break
			}
		}
	}
	return float64(hits) / samples
}

// refine moves each side of q that is not on the frame's border onto the
// line through the strongest inside-to-outside steps near it, fitted with
// outliers (ink, a thumb) dropped, and returns the quad of the new sides'
// intersections; or q itself if that fails or moves a corner too far.
func (f *finder) refine(q quad) quad {
	reach := f.reach()
	var lines [4][2]pt // point and direction of each side
	for i := range q {
		a, b := q[i], q[(i+1)%4]
		lines[i] = [2]pt{a, b.sub(a)}
		if onBorder(a, b, f.w, f.h) {
			continue
		}
		if c, d, ok := f.fitSide(a, b, reach); ok {
			lines[i] = [2]pt{c, d}
		}
	}
	var out quad
	for i := range out {
		p, ok := intersect(lines[(i+3)%4], lines[i])
		if !ok || p.dist(q[i]) > 2*reach {
			return q
		}
		out[i] = p
	}
	if !out.convex() {
		return q
	}
	return out
}

// fitSide finds the edge near the side a→b and fits a line to it.
func (f *finder) fitSide(a, b pt, reach float64) (c, d pt, ok bool) {
	n := outward(a, b)
	samples := max(8, min(80, int(a.dist(b)/3)))
	step := func(p pt) float64 { return f.at(f.g, p.add(n.scale(-1))) - f.at(f.g, p.add(n.scale(1))) }
	var ps []pt
	for k := 0; k < samples; k++ {
		p := a.lerp(b, 0.1+0.8*(float64(k)+0.5)/float64(samples))
		bestD, best := 0.0, math.Inf(-1)
		for d := -reach; d <= reach; d += 0.5 {
			if v := step(p.add(n.scale(d))); v > best {
				best, bestD = v, d
			}
		}
		in := f.at(f.g, p.add(n.scale(bestD-2)))
		if best < math.Max(12, 0.2*in) {
			continue
		}
		// Parabola through the peak and its neighbours for the sub-step.
		l, r := step(p.add(n.scale(bestD-0.5))), step(p.add(n.scale(bestD+0.5)))
		if den := l - 2*best + r; den < 0 {
			bestD += 0.25 * (l - r) / den
		}
		ps = append(ps, p.add(n.scale(bestD)))
	}
	if len(ps) < max(6, samples*3/10) {
		return c, d, false
	}
	for iter := 0; iter < 3; iter++ {
		c, d = fitLine(ps)
		res := make([]float64, len(ps))
		for i, p := range ps {
			res[i] = math.Abs(p.sub(c).cross(d))
		}
		sorted := append([]float64(nil), res...)
		sort.Float64s(sorted)
		lim := math.Max(0.7, 3*sorted[len(sorted)/2])
		kept := ps[:0:0]
		for i, p := range ps {
			if res[i] <= lim {
				kept = append(kept, p)
			}
		}
		if len(kept) < max(6, samples*3/10) {
			return c, d, false
		}
		ps = kept
	}
	c, d = fitLine(ps)
	return c, d, true
}

// fitLine is the total least squares line through ps: its centroid and
// unit direction.
func fitLine(ps []pt) (c, d pt) {
	for _, p := range ps {
		c = c.add(p)
	}
	c = c.scale(1 / float64(len(ps)))
	var sxx, sxy, syy float64
	for _, p := range ps {
		v := p.sub(c)
		sxx += v.x * v.x
		sxy += v.x * v.y
		syy += v.y * v.y
	}
	th := 0.5 * math.Atan2(2*sxy, sxx-syy)
	return c, pt{math.Cos(th), math.Sin(th)}
}

// intersect returns where two lines (point, direction) cross.
func intersect(l1, l2 [2]pt) (pt, bool) {
	den := l1[1].cross(l2[1])
	if math.Abs(den) < 1e-9*math.Hypot(l1[1].x, l1[1].y)*math.Hypot(l2[1].x, l2[1].y) {
		return pt{}, false
	}
	t := l2[0].sub(l1[0]).cross(l2[1]) / den
	return l1[0].add(l1[1].scale(t)), true
}
