package recog

import (
	"fmt"
	"image"
	"math"
)

// Entry is one catalog printing with its reference features.
type Entry struct {
	ID, Name, Set, Number string
	Price                 float64 // USD, 0 = unknown
	Features              Features
}

// Opts tune the decision.
type Opts struct {
	// MaxDistance is the largest Hamming distance (of 256) at which a
	// match is considered at all.
	MaxDistance int
	// Margin is how much closer (in bits) the best name must be than the
	// nearest different name.
	Margin int
	// MaxColour is the largest colour-signature distance to the chosen
	// printing: a stranger whose hash happens to land near a catalog card
	// still has other colours.
	MaxColour int
	// MinPrinting is the printing confidence (0..1) below which a card whose
	// name is certain is still rejected: its printing, and so its price, is
	// in doubt.
	MinPrinting float64
}

// DefaultOpts are calibrated on the demo catalog's distorted photos
// (TestAccuracy).
func DefaultOpts() Opts { return Opts{MaxDistance: 48, Margin: 16, MaxColour: 300, MinPrinting: 0.25} }

// Match is the verdict on one image.
type Match struct {
	Entry
	Distance int // Hamming distance to the chosen printing's hash
	NameGap  int // bits between the best name and the nearest other name
	Colour   int // colour-signature distance to the chosen printing (0..ColourLen*255)
	// NameConfidence (0..1) says how sure the name is; PrintingConfidence
	// (0..1) how sure the printing is among same-name entries.
	NameConfidence     float64
	PrintingConfidence float64
	Accepted           bool
	Reason             string // why not accepted
	Where              Geometry
	Hash               Hash // of the photographed card
}

// Index is an immutable catalog for nearest-neighbour search. It is safe
// for concurrent use.
type Index struct {
	opts    Opts
	entries []Entry
	hashes  []Hash  // hashes[i] = entries[i].Features.Hash, contiguous for the scan
	names   []int32 // name number of entries[i]
	byName  [][]int32
}

// NewIndex builds an index; a nil opts means DefaultOpts.
func NewIndex(entries []Entry, opts *Opts) *Index {
	o := DefaultOpts()
	if opts != nil {
		o = *opts
	}
	x := &Index{opts: o, entries: entries, hashes: make([]Hash, len(entries)), names: make([]int32, len(entries))}
	ids := map[string]int32{}
	for i, e := range entries {
		x.hashes[i] = e.Features.Hash
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

// Len is the number of entries.
func (x *Index) Len() int { return len(x.entries) }

// Entries returns the catalog (shared: do not modify).
func (x *Index) Entries() []Entry { return x.entries }

// Identify finds, warps, hashes and looks up the card in a camera frame.
func (x *Index) Identify(frame image.Image) (Match, error) {
	f, err := FromFrame(frame)
	if err != nil {
		return Match{}, err
	}
	return x.Lookup(f), nil
}

// Lookup finds the nearest entry to f and decides whether to accept it.
func (x *Index) Lookup(f Features) Match {
	if len(x.entries) == 0 {
		return Match{Reason: "empty catalog", Where: f.Where, Hash: f.Hash}
	}
	// One pass: the best entry, and the best entry of another name.
	best, bestD := -1, math.MaxInt
	second := math.MaxInt
	for i := range x.hashes {
		d := f.Hash.Distance(x.hashes[i])
		if d < bestD {
			if best >= 0 && x.names[i] != x.names[best] {
				second = bestD
			}
			best, bestD = i, d
		} else if d < second && x.names[i] != x.names[best] {
			second = d
		}
	}
	if second == math.MaxInt {
		second = 256
	}
	m := Match{Where: f.Where, Hash: f.Hash, NameGap: second - bestD}
	m.NameConfidence = clamp01(float64(second-bestD) / float64(2*x.opts.Margin) * (1 - float64(bestD)/256))

	// The printing: among same-name entries near the best hash, the closest
	// colour signature (frame colour and set symbol differ between sets).
	cands := x.byName[x.names[best]]
	pick, c1, c2 := best, math.MaxInt, math.MaxInt
	for _, i := range cands {
		c := colourDistance(&f.Colour, &x.entries[i].Features.Colour)
		switch {
		case c < c1:
			pick, c1, c2 = int(i), c, c1
		case c < c2:
			c2 = c
		}
	}
	m.Entry = x.entries[pick]
	m.Distance = f.Hash.Distance(x.hashes[pick])
	m.Colour = c1
	m.PrintingConfidence = 1
	if c2 != math.MaxInt {
		m.PrintingConfidence = clamp01(float64(c2-c1) / float64(c2+1) * 2)
	}
	switch {
	case bestD > x.opts.MaxDistance:
		m.Reason = fmt.Sprintf("unknown card: nearest is %d bits away (limit %d)", bestD, x.opts.MaxDistance)
	case second-bestD < x.opts.Margin:
		m.Reason = fmt.Sprintf("ambiguous: another name is only %d bits further (margin %d)", second-bestD, x.opts.Margin)
	case x.opts.MaxColour > 0 && m.Colour > x.opts.MaxColour:
		m.Reason = fmt.Sprintf("unknown card: colours differ from the nearest printing (%d, limit %d)", m.Colour, x.opts.MaxColour)
	case m.PrintingConfidence < x.opts.MinPrinting:
		m.Reason = fmt.Sprintf("printing uncertain (%.2f)", m.PrintingConfidence)
	default:
		m.Accepted = true
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
