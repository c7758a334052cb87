package recog

import (
	"fmt"
	"image"
	"math"
	"math/bits"
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
	return Opts{MaxDistance: 150, Margin: 40, MaxColour: 900, MinPrinting: 0.5, Candidates: 3}
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
	rgba := toRGBA(frame)
	qs, err := FindQuads(rgba, x.opts.Candidates)
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
	p := newPyramid(rgba)
	qf := make([]Features, 0, 4*len(qs))
	var g grid
	for _, q := range qs {
		p.warp(q, &g)
		for _, vw := range []view{{}, {grown: true}} {
			for _, flip := range []bool{false, true} {
				f := g.features(vw, flip)
				c := q
				if vw.grown {
					c = q.grow(borderGrowth[0], borderGrowth[1])
				}
				if flip {
					c = Quad{c[2], c[3], c[0], c[1]}
				}
				f.Where = c.Geometry()
				qf = append(qf, f)
			}
		}
	}
	return x.lookup(qf), nil
}

// Lookup finds the nearest entry to f and decides whether to accept it.
func (x *Index) Lookup(f Features) Match { return x.lookup([]Features{f}) }

// nearest is the best entry for one query and the best of another name.
type nearest struct {
	best, bestD, second int
}

func (x *Index) lookup(qs []Features) Match {
	if len(x.entries) == 0 {
		return Match{Reason: "empty catalog", Where: qs[0].Where, Hash: qs[0].Hash}
	}
	qh := make([][8]uint64, len(qs))
	res := make([]nearest, len(qs))
	for k := range qs {
		qh[k] = pack(&qs[k])
		res[k] = nearest{best: -1, bestD: math.MaxInt, second: math.MaxInt}
	}
	// One pass over the catalog for all readings: the catalog is read from
	// memory once however many readings there are.
	for i := range x.hashes {
		h := &x.hashes[i]
		for k := range qh {
			q := &qh[k]
			d := bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1]) + bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3]) +
				bits.OnesCount64(h[4]^q[4]) + bits.OnesCount64(h[5]^q[5]) + bits.OnesCount64(h[6]^q[6]) + bits.OnesCount64(h[7]^q[7])
			r := &res[k]
			if d < r.bestD {
				if r.best >= 0 && x.names[i] != x.names[r.best] {
					r.second = r.bestD
				}
				r.best, r.bestD = i, d
			} else if d < r.second && x.names[i] != x.names[r.best] {
				r.second = d
			}
		}
	}
	k := 0
	for j := range res {
		if res[j].bestD < res[k].bestD {
			k = j
		}
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
	return m
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
