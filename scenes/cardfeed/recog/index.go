package recog

import (
	"fmt"
	"image"
	"math"
	"sync"
)

// Entry is one catalog printing with its reference features.
type Entry struct {
	ID, Name, Set, Number string
	Price                 float64 // USD, 0 = unknown
	Features              Features
}

// Opts tune the decision. Distances are over both hashes: 0..512 bits.
type Opts struct {
	// MaxDistance is the largest distance at which a match is considered.
	MaxDistance int
	// Margin is how much closer (in bits) the best name must be than the
	// nearest different name.
	Margin int
	// MaxColour is the largest colour-signature distance to the chosen
	// printing: a stranger whose hashes land near a catalog card still has
	// other colours.
	MaxColour int
	// MinPrinting is the printing confidence (0..1) below which a card whose
	// name is certain is accepted by name only, marked PrintingUncertain.
	MinPrinting float64
	// Candidates is how many outlines found in the frame are tried.
	Candidates int
}

// DefaultOpts are calibrated on the generated feeder and phone photos
// (TestAccuracy) and on real card scans and photos (see the README).
func DefaultOpts() Opts {
	return Opts{MaxDistance: 140, Margin: 48, MaxColour: 900, MinPrinting: 0.5, Candidates: 3}
}

// Match is the verdict on one image.
type Match struct {
	Entry
	Distance int // bits (of 512) to the chosen printing
	NameGap  int // bits between the best name and the nearest other name
	Colour   int // colour-signature distance to the chosen printing (0..ColourLen*255)
	// NameConfidence (0..1) says how sure the name is; PrintingConfidence
	// (0..1) how sure the printing is among same-name entries.
	NameConfidence     float64
	PrintingConfidence float64
	Accepted           bool
	// PrintingUncertain: accepted by name, but the printing (and so the
	// price) is a best guess among same-name printings.
	PrintingUncertain bool
	Reason            string // why not accepted, or what is uncertain
	Where             Geometry
	Hash              Hash // of the photographed card
}

// Index is an immutable catalog for nearest-neighbour search. It is safe
// for concurrent use.
type Index struct {
	opts    Opts
	entries []Entry
	hashes  [][8]uint64 // card and art hash of entries[i], contiguous for the scan
	names   []int32     // name number of entries[i]
	byName  [][]int32
	scratch sync.Pool // *scratch: a frame's working memory, for the next
}

// NewIndex builds an index; a nil opts means DefaultOpts.
func NewIndex(entries []Entry, opts *Opts) *Index {
	o := DefaultOpts()
	if opts != nil {
		o = *opts
	}
	if o.Candidates <= 0 {
		o.Candidates = 1
	}
	x := &Index{opts: o, entries: entries, hashes: make([][8]uint64, len(entries)), names: make([]int32, len(entries))}
	ids := map[string]int32{}
	for i, e := range entries {
		x.hashes[i] = pack(&e.Features)
		id, ok := ids[e.Name]
		if !ok {
			id = int32(len(x.byName))
			ids[e.Name] = id
			x.byName = append(x.byName, nil)
		}
		x.names[i] = id
		x.byName[id] = append(x.byName[id], int32(i))
	}
	return x
}

func pack(f *Features) [8]uint64 {
	return [8]uint64{f.Hash[0], f.Hash[1], f.Hash[2], f.Hash[3], f.Art[0], f.Art[1], f.Art[2], f.Art[3]}
}

// Len is the number of entries.
func (x *Index) Len() int { return len(x.entries) }

// Entries returns the catalog (shared: do not modify).
func (x *Index) Entries() []Entry { return x.entries }

// Identify finds the card in a camera frame and looks it up: every outline
// found (up to Opts.Candidates), as found and grown by a border's width,
// each way up. The catalog decides which reading is the card.
func (x *Index) Identify(frame image.Image) (Match, error) {
	sc, _ := x.scratch.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	defer x.scratch.Put(sc)
	return x.identify(frame, sc)
}

// identify is Identify in the working memory sc.
func (x *Index) identify(frame image.Image, sc *scratch) (Match, error) {
	fr := newFrame(frame, sc)
	rgba := fr.rgba
	qs, scale, err := findQuads(fr, x.opts.Candidates, sc)
	found := len(qs) // refined when read: most frames settle on the first
	// A scan or a cropped photo is all card: its edges are the frame's, and
	// no edge can be seen there. Only a frame of a card's own proportions
	// (63 x 88 mm: 0.716; Scryfall's images are 0.718) is taken for one — a
	// camera's 4:3 (0.75) is not, or an empty bed would be a card.
	if w, h := float64(rgba.Rect.Dx()), float64(rgba.Rect.Dy()); min(w, h)/max(w, h) > 0.69 && min(w, h)/max(w, h) < 0.74 {
		q := Quad{{0, 0}, {w, 0}, {w, h}, {0, h}}
		if w > h {
			q = Quad{{w, 0}, {w, h}, {0, h}, {0, 0}}
		}
		qs, err = append(qs, q), nil
	}
	if err != nil {
		return Match{}, err
	}
	p := newPyramid(fr)
	qf := make([]Features, 0, 4*len(qs))
	rs := make([]reading, 0, cap(qf))
	sc.grids = grow(sc.grids, len(qs)) // warp writes every cell
	gs := sc.grids
	// warped is how many outlines are warped; readAs reads outline qi in one
	// view, one way up.
	warped := 0
	var coloured []bool
	readAs := func(qi int, vw view, flip bool) {
		for ; warped <= qi; warped++ {
			p.read(&qs[warped], warped < found, scale, &gs[warped])
		}
		f := gs[qi].hashes(vw, flip) // the colour only if judged (colour below)
		f.Where = reads(qs[qi], vw, flip).Geometry()
		qf = append(qf, f)
		rs = append(rs, reading{qi, vw, flip})
		coloured = append(coloured, false)
	}
	colour := func(k int) {
		if !coloured[k] {
			r := rs[k]
			qf[k].Colour, coloured[k] = gs[r.quad].colour(r.vw, r.flip), true
		}
	}
	// The best outline first, as found and then grown, each way up: when a
	// reading settles the card, the others (the card upside down, inner
	// boxes, lines beside it) need not be read. Upside down, or a border's
	// width of bed away, a card is never nearer than the reading it settled.
	// The readings' nearest entries are kept for the next look: the catalog
	// is scanned once per reading.
	var near []nearest
	var m Match
	for _, vw := range []view{{}, grownView} {
		for _, flip := range []bool{false, true} {
			readAs(0, vw, flip)
			m, _, near = x.lookupWith(qf, near, colour)
			if m.Accepted && m.Distance <= settled {
				return m, nil
			}
		}
	}
	if len(x.entries) == 0 {
		return m, nil
	}
	// Not settled: the outline may have taken a side from the frame inside
	// a border, or from a line beside the card. Move each side in and out
	// while the reading comes nearer the catalog cards it is nearest to,
	// then judge the moved reading against the whole catalog. The best
	// outline's best reading first: it is nearly always the card's.
	k0 := 0
	for k, r := range near {
		if r.bestD < near[k0].bestD {
			k0 = k
		}
	}
	a0, m0 := x.aligned(gs, qs, rs[k0], qf[k0], m)
	if m0.Accepted && (m0.Distance <= settled || m0.NameGap >= 2*x.opts.Margin) {
		return m0, nil
	}
	for qi := 1; qi < len(qs); qi++ {
		for _, vw := range []view{{}, grownView} {
			readAs(qi, vw, false)
			readAs(qi, vw, true)
		}
	}
	m, k, _ := x.lookupWith(qf, near, colour)
	if m.Accepted && m.Distance <= settled {
		return m, nil
	}
	if k != k0 {
		a0, m0 = x.aligned(gs, qs, rs[k], qf[k], m)
	}
	if a0 && (m0.Accepted || !m.Accepted) {
		return m0, nil
	}
	return m, nil
}

// aligned is align of the reading r (its features f, its judgement m) and
// the judgement of the aligned reading, when align brought it nearer.
func (x *Index) aligned(gs []grid, qs []Quad, r reading, f Features, m Match) (bool, Match) {
	best := x.nearestK(&f, 8)
	vw, af, d := x.align(&gs[r.quad], r.vw, r.flip, best, f)
	if d >= m.Distance {
		return false, m
	}
	af.Where = reads(qs[r.quad], vw, r.flip).Geometry()
	m2, _ := x.lookup([]Features{af})
	return true, m2
}

// read refines the outline q found at scale (when refine) and warps it
// into g, converting the frame under it first.
func (p *pyramid) read(q *Quad, refine bool, scale float64, g *grid) {
	if refine {
		// The profiles across its sides: the frame along each side, a
		// tile's length at a time (a slanted side's box is most of the card).
		pad := 1.5*scale + 2
		for i, a := range q {
			b := q[(i+1)%4]
			n := math.Ceil(math.Hypot(b[0]-a[0], b[1]-a[1]) / tileSide)
			for k := 0.0; k < n; k++ {
				s, e := k/n, (k+1)/n
				x0, y0 := a[0]+s*(b[0]-a[0]), a[1]+s*(b[1]-a[1])
				x1, y1 := a[0]+e*(b[0]-a[0]), a[1]+e*(b[1]-a[1])
				p.fr.need(min(x0, x1)-pad, min(y0, y1)-pad, max(x0, x1)+pad, max(y0, y1)+pad)
			}
		}
		refineFull(p.fr.rgba, q, scale)
	}
	p.warp(*q, g)
}

// reading is how one set of features was read: outline, view, way up.
type reading struct {
	quad int
	vw   view
	flip bool
}

// settled is the distance below which a reading is not refined: the right
// card's own photos land there, strangers never (see TestAccuracy).
const settled = 60

// reads is the outline a reading covers, its first corner the card's top left.
func reads(q Quad, vw view, flip bool) Quad {
	c := vw.quad(q)
	if flip {
		c = Quad{c[2], c[3], c[0], c[1]}
	}
	return c
}

// align moves the sides of a reading (a share of the card at a time, down
// to a quarter of a border) while its distance to the nearest of the given
// entries falls, and returns the view, its features and that distance.
func (x *Index) align(g *grid, vw view, flip bool, near []int32, f Features) (view, Features, int) {
	// (Stops early once the reading is well settled.)
	dist := func(f *Features) int {
		d := math.MaxInt
		q := pack(f)
		for _, i := range near {
			d = min(d, hamming(&x.hashes[i], &q))
		}
		return d
	}
	bestD := dist(&f)
	for _, step := range []float64{0.02, 0.01, 0.005} {
		for pass := 0; pass < 2 && bestD > settled/2; pass++ {
			improved := false
			for side := 0; side < 4; side++ {
				for _, sgn := range []float64{1, -1} {
					t := vw
					t.out[side] += sgn * step
					if math.Abs(t.out[side]) > gridMargin {
						continue
					}
					tf := g.hashes(t, flip)
					if d := dist(&tf); d < bestD {
						vw, bestD, improved = t, d, true
						break
					}
				}
			}
			if !improved {
				break
			}
		}
	}
	return vw, g.features(vw, flip), bestD
}

// nearestK is the indices of the k entries nearest to f.
func (x *Index) nearestK(f *Features, k int) []int32 {
	q := pack(f)
	type cand struct {
		i int32
		d int
	}
	top := make([]cand, 0, k+1)
	for i := 0; ; i++ {
		// The next entry nearer than the k-th so far (any while fewer).
		below := math.MaxInt
		if len(top) == k {
			below = top[k-1].d
		}
		n, d := firstBelow(x.hashes[i:], &q, below)
		if i += n; i == len(x.hashes) {
			break
		}
		j := len(top)
		if j < k {
			top = append(top, cand{})
		} else {
			j = k - 1
		}
		for j > 0 && top[j-1].d > d {
			top[j] = top[j-1]
			j--
		}
		top[j] = cand{int32(i), d}
	}
	out := make([]int32, len(top))
	for j, c := range top {
		out[j] = c.i
	}
	return out
}

// Lookup finds the nearest entry to f and decides whether to accept it.
func (x *Index) Lookup(f Features) Match {
	m, _ := x.lookup([]Features{f})
	return m
}

// nearest is the best entry for one query and the best of another name.
type nearest struct {
	best, bestD, second int
}

// lookup judges the best of several readings of one card and says which
// reading it was.
func (x *Index) lookup(qs []Features) (Match, int) {
	m, k, _ := x.lookupWith(qs, nil, nil)
	return m, k
}

// lookupWith is lookup given the nearest entries of the first readings
// (of qs[:len(done)]); it returns those of all of qs. A non-nil colour
// fills in the colour signature of the reading judged best.
func (x *Index) lookupWith(qs []Features, done []nearest, colour func(k int)) (Match, int, []nearest) {
	if len(x.entries) == 0 {
		return Match{Reason: "empty catalog", Where: qs[0].Where, Hash: qs[0].Hash}, 0, done
	}
	res := append(done, make([]nearest, len(qs)-len(done))...)
	m, k := x.judge(qs, res, len(done), colour)
	return m, k, res
}

// judge scans the catalog for the readings qs[from:] into res, then judges
// the best of all of them.
func (x *Index) judge(qs []Features, res []nearest, from int, colour func(k int)) (Match, int) {
	qh := make([][8]uint64, len(qs)-from)
	for k := range qh {
		qh[k] = pack(&qs[from+k])
	}
	for k := range qh {
		res[from+k] = scan(x.hashes, x.names[:len(x.hashes)], &qh[k])
	}
	k := 0
	for j := range res {
		if res[j].bestD < res[k].bestD {
			k = j
		}
	}
	if colour != nil {
		colour(k)
	}
	f, r := &qs[k], res[k]
	if r.second == math.MaxInt {
		r.second = 512
	}
	m := Match{Where: f.Where, Hash: f.Hash, NameGap: r.second - r.bestD}
	m.NameConfidence = clamp01(float64(m.NameGap) / float64(2*x.opts.Margin) * (1 - float64(r.bestD)/512))

	// The printing: among same-name entries, the nearest by the whole card
	// (frame and set symbol differ between printings, the art may not) and
	// colour signature (frame colour, border).
	pick, c1, c2 := r.best, math.MaxInt, math.MaxInt
	for _, i := range x.byName[x.names[r.best]] {
		e := &x.entries[i].Features
		c := 4*f.Hash.Distance(e.Hash) + colourDistance(&f.Colour, &e.Colour)/4
		switch {
		case c < c1:
			pick, c1, c2 = int(i), c, c1
		case c < c2:
			c2 = c
		}
	}
	m.Entry = x.entries[pick]
	m.Distance = f.Hash.Distance(m.Features.Hash) + f.Art.Distance(m.Features.Art)
	m.Colour = colourDistance(&f.Colour, &m.Features.Colour)
	m.PrintingConfidence = 1
	if c2 != math.MaxInt {
		// 60 is 15 bits of the whole-card hash: a set symbol and a
		// collector line are about that much of a card.
		m.PrintingConfidence = clamp01(float64(c2-c1) / 60)
	}
	switch {
	case r.bestD > x.opts.MaxDistance:
		m.Reason = fmt.Sprintf("not in the catalog: the nearest card, %s, differs in %d of 512 bits (at most %d for a match)", m.Name, r.bestD, x.opts.MaxDistance)
	case m.NameGap < x.opts.Margin:
		m.Reason = fmt.Sprintf("unsure: could be %s, but another card is only %d bits further (needs %d)", m.Name, m.NameGap, x.opts.Margin)
	case x.opts.MaxColour > 0 && m.Colour > x.opts.MaxColour:
		m.Reason = fmt.Sprintf("not in the catalog: looks like %s but its colours differ (%d, at most %d)", m.Name, m.Colour, x.opts.MaxColour)
	default:
		m.Accepted = true
		if m.PrintingConfidence < x.opts.MinPrinting {
			m.PrintingUncertain = true
			m.Reason = fmt.Sprintf("printing uncertain (%.0f %%): %d printings of %s look alike; priced as %s %s",
				100*m.PrintingConfidence, len(x.byName[x.names[r.best]]), m.Name, m.Set, m.Number)
		}
	}
	return m, k
}

func colourDistance(a, b *[ColourLen]uint8) int {
	d := 0
	for i := range a {
		v := int(a[i]) - int(b[i])
		if v < 0 {
			v = -v
		}
		d += v
	}
	return d
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }
