package comic

import (
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
)

// Texture is a procedural background drawn behind a panel's image.
type Texture uint8

const (
	NoTexture Texture = iota
	Dots              // halftone dots: a quiet reaction
	Hatch             // diagonal hatching: movement
	Burst             // radial speed lines: the climax
)

func (t Texture) String() string {
	return [...]string{"none", "dots", "hatch", "burst"}[min(int(t), 3)]
}

// Strip is a composed comic in the pack's master pixels.
type Strip struct {
	Seed      uint64
	Theme     string
	Character string // the recurring character ("" if the theme has none)
	Grid      *Grid
	Cell      int
	Size      image.Point // strip size in master pixels, without the footer
	Horizon   float64     // the strip's horizon height, as a fraction of a panel's height
	Panels    []Panel
}

// Panel is one filled frame.
type Panel struct {
	Cells   image.Rectangle // in grid cells
	Rect    image.Rectangle // in strip pixels
	Role    Role
	Climax  bool // the largest late panel: the story's peak
	Border  *Border
	Image   *Image // nil only if nothing in the pack fits (never with a sane pack)
	Flip    bool
	At      image.Point     // top-left of the (possibly mirrored) image in strip pixels
	Focal   image.Rectangle // the image's focal area in strip pixels, after placement
	Anchor  Edge            // the edge the image is pushed against (mirrored with the image)
	Horizon int             // horizon y in strip pixels; 0: none
	Texture Texture
}

// ImageRect is where the panel's image lies, in strip pixels.
func (p *Panel) ImageRect() image.Rectangle {
	if p.Image == nil {
		return image.Rectangle{}
	}
	return p.Image.Bounds.Add(p.At)
}

// Fitting constants as fractions of a cell.
const (
	insetDiv  = 16 // focal areas stay this far inside a frame (cell/16)
	minPanels = 3
	minPoses  = 3
	maxPanels = 8
)

// rng returns the strip's deterministic generator.
func rng(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// ErrNoStrip means the pack cannot make a strip (no grid can be tiled).
var ErrNoStrip = errors.New("comic: the pack cannot fill any grid")

// Compose makes the strip for seed. The same pack and seed always give the
// same strip.
func (p *Pack) Compose(seed uint64) (*Strip, error) { return p.compose(seed, "") }

// compose is Compose in theme ("": one the seed picks).
func (p *Pack) compose(seed uint64, theme string) (*Strip, error) {
	r := rng(seed)
	themes := p.Themes()
	if len(themes) == 0 || len(p.Grids) == 0 {
		return nil, ErrNoStrip
	}
	s := &Strip{Seed: seed, Cell: p.Cell, Theme: theme}
	if theme == "" {
		s.Theme = themes[r.IntN(len(themes))]
	}
	s.Character = p.pickCharacter(r, s.Theme)
	s.Grid = pickWeighted(r, p.Grids, func(g *Grid) float64 { return g.Weight })
	s.Size = s.Grid.Size(p.Cell)
	s.Horizon = 0.58 + 0.17*r.Float64()
	cells := tile(r, s.Grid)
	roles, climax := assignRoles(cells)
	used := map[*Image]int{}
	seen := 0 // panels showing the recurring character so far
	for i, c := range cells {
		pn := Panel{Cells: c, Role: roles[i], Climax: i == climax}
		pn.Rect = image.Rect(
			s.Grid.Margin+c.Min.X*p.Cell+s.Grid.Gutter/2, s.Grid.Margin+c.Min.Y*p.Cell+s.Grid.Gutter/2,
			s.Grid.Margin+c.Max.X*p.Cell-(s.Grid.Gutter-s.Grid.Gutter/2), s.Grid.Margin+c.Max.Y*p.Cell-(s.Grid.Gutter-s.Grid.Gutter/2))
		bs := s.Grid.borders[c.Size()]
		pn.Border = bs[r.IntN(len(bs))]
		// Until the character has shown up twice, the story panels must
		// show it; after that props and places may take a panel.
		p.fill(r, s, &pn, used, pn.Role != Establishing && seen < 2)
		if pn.Image != nil && s.Character != "" && pn.Image.Character == s.Character {
			seen++
		}
		s.Panels = append(s.Panels, pn)
	}
	return s, nil
}

func (p *Pack) pickCharacter(r *rand.Rand, theme string) string {
	count := map[string]float64{}
	n := map[string]int{}
	var ids []string
	for _, im := range p.Images {
		if im.Theme == theme && im.Character != "" && im.Role != Establishing {
			if n[im.Character] == 0 {
				ids = append(ids, im.Character)
			}
			count[im.Character] += im.Weight
			n[im.Character]++
		}
	}
	// A character recurs only if it has poses enough to carry a story.
	ids = slices.DeleteFunc(ids, func(id string) bool { return n[id] < minPoses })
	if len(ids) == 0 {
		return ""
	}
	return pickWeighted(r, ids, func(id string) float64 { return count[id] })
}

// pickWeighted chooses from items with probability proportional to weight;
// it returns the zero value when every weight is 0.
func pickWeighted[T any](r *rand.Rand, items []T, weight func(T) float64) T {
	total := 0.0
	for _, it := range items {
		total += max(weight(it), 0)
	}
	var zero T
	if total <= 0 {
		return zero
	}
	x := r.Float64() * total
	for _, it := range items {
		w := max(weight(it), 0)
		if x < w {
			return it
		}
		x -= w
	}
	for i := len(items) - 1; i >= 0; i-- {
		if weight(items[i]) > 0 {
			return items[i]
		}
	}
	return zero
}

// tile splits the grid into panels in reading order: explicit panels in the
// manifest's order, else the cells row by row into random sizes that have a border
// (as the original robot does), retried until the count tells a story.
func tile(r *rand.Rand, g *Grid) []image.Rectangle {
	if g.Panels != nil {
		return slices.Clone(g.Panels) // the artist's reading order
	}
	var best []image.Rectangle
	for try := 0; try < 24; try++ {
		out := tileOnce(r, g)
		if len(out) >= minPanels && len(out) <= maxPanels {
			return out
		}
		if best == nil || dist(len(out)) < dist(len(best)) {
			best = out
		}
	}
	return best
}

func dist(n int) int {
	if n < minPanels {
		return minPanels - n
	}
	return max(n-maxPanels, 0)
}

func tileOnce(r *rand.Rand, g *Grid) []image.Rectangle {
	used := make([]bool, g.Cols*g.Rows)
	free := func(rc image.Rectangle) bool {
		for y := rc.Min.Y; y < rc.Max.Y; y++ {
			for x := rc.Min.X; x < rc.Max.X; x++ {
				if used[y*g.Cols+x] {
					return false
				}
			}
		}
		return true
	}
	var out []image.Rectangle
	for y := 0; y < g.Rows; y++ {
		for x := 0; x < g.Cols; x++ {
			if used[y*g.Cols+x] {
				continue
			}
			var cands []image.Rectangle
			for h := 1; h <= g.MaxH && y+h <= g.Rows; h++ {
				for w := 1; w <= g.MaxW && x+w <= g.Cols; w++ {
					rc := image.Rect(x, y, x+w, y+h)
					if g.HasSize(w, h) && free(rc) {
						cands = append(cands, rc)
					}
				}
			}
			// 1x1 always exists (checked at load); tiny panels are
			// discouraged so strips have room to breathe.
			rc := pickWeighted(r, cands, func(c image.Rectangle) float64 {
				if c.Dx()*c.Dy() == 1 {
					return 0.4
				}
				return 1
			})
			for yy := rc.Min.Y; yy < rc.Max.Y; yy++ {
				for xx := rc.Min.X; xx < rc.Max.X; xx++ {
					used[yy*g.Cols+xx] = true
				}
			}
			out = append(out, rc)
		}
	}
	return out
}

// assignRoles orders the story over the panels: establishing first, an
// aftermath (closing) last, the largest panel of the second half as the
// climax, reactions after the climax, actions and reactions in between.
func assignRoles(cells []image.Rectangle) ([]Role, int) {
	n := len(cells)
	roles := make([]Role, n)
	switch n {
	case 0:
		return roles, -1
	case 1:
		roles[0] = Action
		return roles, 0
	case 2:
		roles[0], roles[1] = Establishing, Action
		return roles, 1
	case 3:
		roles[0], roles[1], roles[2] = Establishing, Action, Closing
		return roles, 1
	}
	climax, area := -1, 0
	for i := n / 2; i <= n-2; i++ {
		if a := cells[i].Dx() * cells[i].Dy(); a >= area {
			climax, area = i, a
		}
	}
	roles[0], roles[n-1] = Establishing, Closing
	next := Action
	for i := 1; i < n-1; i++ {
		switch {
		case i == climax:
			roles[i] = Action
			next = Reaction
		case i == climax+1:
			roles[i] = Reaction
			next = Action
		default:
			roles[i] = next
			if next == Action {
				next = Reaction
			} else {
				next = Action
			}
		}
	}
	return roles, climax
}

// wantFacing: characters face the reading direction (right); a reaction
// looks back at what just happened (left).
func wantFacing(role Role) Facing {
	if role == Reaction {
		return FacingLeft
	}
	return FacingRight
}

// fill picks and places the panel's image, horizon and texture.
func (p *Pack) fill(r *rand.Rand, s *Strip, pn *Panel, used map[*Image]int, needChar bool) {
	type cand struct {
		im   *Image
		flip bool
		w    float64
	}
	want := wantFacing(pn.Role)
	var cands []cand
	consider := func(anyTheme bool) {
		for _, im := range p.Images {
			if !anyTheme && im.Theme != s.Theme {
				continue
			}
			if im.MinW > pn.Cells.Dx() || im.MinH > pn.Cells.Dy() {
				continue
			}
			flip := false
			w := im.Weight * roleScore(pn.Role, im.Role) * p.characterScore(pn.Role, s.Character, im.Character)
			if im.Facing != FacingNone && im.Facing != want {
				if im.Flip {
					flip = true
				} else {
					w *= 0.1
				}
			}
			if n := used[im]; n > 0 {
				w *= 0.03 / float64(n)
			}
			if _, ok := p.placement(im, flip, pn, 0.5, 0.5); !ok {
				continue
			}
			// Images are never scaled: prefer those that fill the panel,
			// so a big panel gets a big drawing.
			fill := float64(im.Bounds.Dx()*im.Bounds.Dy()) / float64(pn.Rect.Dx()*pn.Rect.Dy())
			w *= 0.25 + min(fill, 1)*2
			cands = append(cands, cand{im, flip, w})
		}
	}
	consider(false)
	if needChar && s.Character != "" {
		var own []cand
		for _, c := range cands {
			if c.im.Character == s.Character {
				own = append(own, c)
			}
		}
		if len(own) > 0 {
			cands = own
		}
	}
	if len(cands) == 0 {
		consider(true) // nothing in the theme fits this panel: borrow
	}
	if len(cands) == 0 {
		return
	}
	c := pickWeighted(r, cands, func(c cand) float64 { return c.w })
	if c.im == nil {
		c = cands[r.IntN(len(cands))]
	}
	used[c.im]++
	p.place(r, s, pn, c.im, c.flip)
}

// place puts im (mirrored if flip) in pn, with the panel's horizon and
// texture.
func (p *Pack) place(r *rand.Rand, s *Strip, pn *Panel, im *Image, flip bool) {
	pn.Image, pn.Flip = im, flip
	// Leave room in front of a character: one facing right stands left of
	// centre.
	tx := 0.3 + 0.4*r.Float64()
	facing := im.Facing
	if flip {
		facing = map[Facing]Facing{FacingLeft: FacingRight, FacingRight: FacingLeft}[facing]
	}
	switch {
	case pn.Climax || pn.Role == Establishing:
		tx = 0.4 + 0.2*r.Float64()
	case facing == FacingRight:
		tx = 0.15 + 0.35*r.Float64()
	case facing == FacingLeft:
		tx = 0.5 + 0.35*r.Float64()
	}
	ty := 0.3 + 0.4*r.Float64()
	pl, _ := p.placement(im, flip, pn, tx, ty)
	pn.At, pn.Focal, pn.Anchor = pl.at, pl.focal, pl.anchor

	switch {
	case pn.Climax:
		pn.Texture = Burst
	case pn.Role == Reaction && r.Float64() < 0.5:
		pn.Texture = Dots
	case pn.Role == Action && r.Float64() < 0.3:
		pn.Texture = Hatch
	}
	if h := im.Horizon; h != nil && pn.Texture == NoTexture && s.Horizon >= h[0] && s.Horizon <= h[1] {
		pn.Horizon = pn.Rect.Min.Y + int(s.Horizon*float64(pn.Rect.Dy()))
	}
}

func roleScore(want, got Role) float64 {
	if want == got {
		return 1
	}
	switch {
	case want == Closing && got == Establishing, want == Establishing && got == Closing:
		return 0.15 // a place can open or close
	case want == Action && got == Reaction, want == Reaction && got == Action:
		return 0.1
	}
	return 0.01
}

func (p *Pack) characterScore(role Role, want, got string) float64 {
	switch {
	case want == "":
		return 1
	case got == want:
		if role == Establishing {
			return 0.3
		}
		return 1
	case got == "":
		switch role {
		case Establishing:
			return 1
		case Closing:
			return 0.5
		}
		return 0.12
	}
	return 0.01 // another character: a cameo at most
}

type placed struct {
	at     image.Point
	focal  image.Rectangle
	anchor Edge
}

// placement puts im in pn: pushed against its anchor edge (the image's edge
// on the panel's outer edge, so it bleeds under the frame line), free axes
// at fractions tx, ty of the allowed range. The focal area must stay inside
// the panel, a cell/16 inset from every edge but the anchored one.
func (p *Pack) placement(im *Image, flip bool, pn *Panel, tx, ty float64) (placed, bool) {
	iw, ih := im.Bounds.Dx(), im.Bounds.Dy()
	f := im.Focal
	anchor := im.Anchor
	if flip {
		f = image.Rect(iw-f.Max.X, f.Min.Y, iw-f.Min.X, f.Max.Y)
		anchor = anchor.mirrored()
	}
	P := pn.Rect
	in := p.Cell / insetDiv
	I := P.Inset(in)
	switch anchor {
	case EdgeBottom:
		I.Max.Y = P.Max.Y
	case EdgeTop:
		I.Min.Y = P.Min.Y
	case EdgeLeft:
		I.Min.X = P.Min.X
	case EdgeRight:
		I.Max.X = P.Max.X
	}
	xlo, xhi := I.Min.X-f.Min.X, I.Max.X-f.Max.X
	ylo, yhi := I.Min.Y-f.Min.Y, I.Max.Y-f.Max.Y
	if xlo > xhi || ylo > yhi {
		return placed{}, false
	}
	x := xlo + int(tx*float64(xhi-xlo))
	y := ylo + int(ty*float64(yhi-ylo))
	// Floating images too big for the panel are centred on their focal area
	// anyway; small ones are kept whole inside the frame when they can be.
	if anchor == EdgeNone || anchor == EdgeTop || anchor == EdgeBottom {
		if lo, hi := P.Min.X+in-0, P.Max.X-in-iw; lo <= hi {
			x = min(max(x, lo), hi)
		}
	}
	if anchor == EdgeNone || anchor == EdgeLeft || anchor == EdgeRight {
		if lo, hi := P.Min.Y+in, P.Max.Y-in-ih; lo <= hi {
			y = min(max(y, lo), hi)
		}
	}
	switch anchor {
	case EdgeBottom:
		y = P.Max.Y - ih
	case EdgeTop:
		y = P.Min.Y
	case EdgeLeft:
		x = P.Min.X
	case EdgeRight:
		x = P.Max.X - iw
	}
	at := image.Pt(x, y)
	fr := f.Add(at)
	if !fr.In(I) {
		return placed{}, false
	}
	// An anchored image must reach its edge: one shorter than the panel
	// along that axis still touches it (it is pushed there), but one that
	// would leave the far side bare is fine too: only the anchored edge counts.
	return placed{at: at, focal: fr, anchor: anchor}, true
}

// previewTries bounds the seeds composeShowing tries for a strip with a
// panel that can hold its drawing (random tilings rarely lack one for long).
const previewTries = 64

// ErrNoPanel means no panel of the pack's grids can hold a drawing: it, or
// its focal area, is too large, or its minimum panel size too.
var ErrNoPanel = errors.New("comic: no panel of the pack can hold the drawing")

// composeShowing is compose in theme with im, one of p.Images, in at least
// one panel: the editor's preview of a drawing being edited. A strip that
// does not show im by itself gets it in the panel that suits it best; when
// no panel of that strip can hold it, the next seeds are tried.
func (p *Pack) composeShowing(seed uint64, theme string, im *Image) (*Strip, error) {
	if !p.canHold(im) {
		return nil, fmt.Errorf("%w (it is %dx%d pixels, its focal area %dx%d, at least %dx%d cells of %d pixels)", ErrNoPanel,
			im.Bounds.Dx(), im.Bounds.Dy(), im.Focal.Dx(), im.Focal.Dy(), max(im.MinW, 1), max(im.MinH, 1), p.Cell)
	}
	for i := range uint64(previewTries) {
		s, err := p.compose(seed+i, theme)
		if err != nil {
			return nil, err
		}
		if s.shows(im) || p.force(s, im) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w in %d strips", ErrNoPanel, previewTries)
}

func (s *Strip) shows(im *Image) bool {
	for _, pn := range s.Panels {
		if pn.Image == im {
			return true
		}
	}
	return false
}

// flipFor says whether im is mirrored in a panel of role: as fill does, a
// character that may be turned faces the way the story wants.
func flipFor(im *Image, role Role) bool {
	return im.Facing != FacingNone && im.Facing != wantFacing(role) && im.Flip
}

// force puts im in the panel of s that suits it best (its own role first)
// among those that can hold it; false if none can.
func (p *Pack) force(s *Strip, im *Image) bool {
	best, score := -1, 0.0
	for i := range s.Panels {
		pn := &s.Panels[i]
		if im.MinW > pn.Cells.Dx() || im.MinH > pn.Cells.Dy() {
			continue
		}
		if _, ok := p.placement(im, flipFor(im, pn.Role), pn, 0.5, 0.5); !ok {
			continue
		}
		if sc := roleScore(pn.Role, im.Role); sc > score {
			best, score = i, sc
		}
	}
	if best < 0 {
		return false
	}
	pn := &s.Panels[best]
	pn.Texture, pn.Horizon = NoTexture, 0
	p.place(rng(s.Seed^uint64(best+1)), s, pn, im, flipFor(im, pn.Role))
	return true
}

// canHold reports whether some panel size of the pack's grids holds im.
func (p *Pack) canHold(im *Image) bool {
	for _, g := range p.Grids {
		sizes := g.sizes
		if g.Panels != nil {
			sizes = nil
			for _, r := range g.Panels {
				sizes = append(sizes, r.Size())
			}
		}
		for _, sz := range sizes {
			if sz.X > g.MaxW && g.Panels == nil || sz.Y > g.MaxH && g.Panels == nil || im.MinW > sz.X || im.MinH > sz.Y {
				continue
			}
			pn := &Panel{Cells: image.Rectangle{Max: sz}, Rect: image.Rect(0, 0, sz.X*p.Cell-g.Gutter, sz.Y*p.Cell-g.Gutter)}
			for _, flip := range []bool{false, true} {
				if _, ok := p.placement(im, flip, pn, 0.5, 0.5); ok {
					return true
				}
			}
		}
	}
	return false
}
