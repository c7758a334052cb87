package comic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"tinkerbox/images/imgdecode"
)

// ManifestFile is the name of the manifest at the root of a pack.
const ManifestFile = "manifest.json"

// Limits that keep a hostile pack from exhausting memory. The standard
// decoders hold a whole image, so a file is checked from its header: at
// most maxDecoded bytes as the decoder stores it (a grey 8192×8192 scan,
// or an RGBA 4096×4096 one). A drawing is then reduced as soon as it is
// decoded to the size the pack can show (its largest panel), and to at
// most maxWorkPixels, before the working copies (four bytes a pixel, and
// more for the outline) are made. Files are streamed, not held.
const (
	maxManifest   = 1 << 20
	maxImageFile  = 64 << 20
	maxDecoded    = 64 << 20
	maxWorkPixels = 8_000_000
	maxGridCells  = 8
	maxImages     = 2000
	maxCell       = 2000
	defaultCell   = 480
	outlineFactor = 40 // white outline = cell/outlineFactor pixels
)

// Role is an image's narrative role.
type Role string

// Roles, in story order.
const (
	Establishing Role = "establishing"
	Action       Role = "action"
	Reaction     Role = "reaction"
	Closing      Role = "closing"
)

func (r Role) valid() bool {
	switch r {
	case Establishing, Action, Reaction, Closing:
		return true
	}
	return false
}

// Edge is the panel edge an image is pushed against so it bleeds off the frame.
type Edge string

// Edges; "" or "none" means the image floats.
const (
	EdgeNone   Edge = "none"
	EdgeBottom Edge = "bottom"
	EdgeTop    Edge = "top"
	EdgeLeft   Edge = "left"
	EdgeRight  Edge = "right"
)

func (e Edge) valid() bool {
	switch e {
	case EdgeNone, EdgeBottom, EdgeTop, EdgeLeft, EdgeRight:
		return true
	}
	return false
}

func (e Edge) mirrored() Edge {
	switch e {
	case EdgeLeft:
		return EdgeRight
	case EdgeRight:
		return EdgeLeft
	}
	return e
}

// Facing is where a character looks or moves.
type Facing string

// Facings; "" means the image has no direction (a place, a round object).
const (
	FacingNone  Facing = ""
	FacingLeft  Facing = "left"
	FacingRight Facing = "right"
)

// Manifest is the JSON at the root of a pack. Pixel values are in the pack's
// master resolution: Cell pixels per grid cell.
type Manifest struct {
	Name string `json:"name"`
	Cell int    `json:"cell"` // pixels per grid cell; 0 means 480
	// Base names the pack this one is drawn on ("" = none: self-contained);
	// see LoadPackOn.
	Base   string      `json:"base,omitempty"`
	Grids  []GridSpec  `json:"grids"`
	Images []ImageSpec `json:"images"`
}

// Bases a manifest may name. A maker's first drawings cannot make a strip
// alone (no frames, too few poses), so their pack borrows from the
// built-in one.
const (
	BaseBuiltin      = "builtin"       // the base pack's grids and its drawings
	BaseBuiltinGrids = "builtin-grids" // the base pack's grids only
)

// GridSpec is one grid family: either a cell layout tiled at random into
// panels (Cols×Rows cells, panels up to MaxW×MaxH), or explicit Panels.
type GridSpec struct {
	ID      string       `json:"id"`
	Cols    int          `json:"cols"`
	Rows    int          `json:"rows"`
	MaxW    int          `json:"max_w,omitempty"`
	MaxH    int          `json:"max_h,omitempty"`
	Panels  [][4]int     `json:"panels,omitempty"` // x, y, w, h in cells
	Gutter  int          `json:"gutter"`           // pixels between panels
	Margin  int          `json:"margin"`           // pixels around the strip
	Weight  float64      `json:"weight,omitempty"`
	Borders []BorderSpec `json:"borders"`
}

// BorderSpec is one hand-drawn frame for a panel of W×H cells: Border is the
// line art (drawn on top), Mask is white inside the frame (what the panel's
// content is clipped to). Without Mask the inside is found by flood fill.
type BorderSpec struct {
	W      int    `json:"w"`
	H      int    `json:"h"`
	Border string `json:"border"`
	Mask   string `json:"mask,omitempty"`
}

// ImageSpec is one drawing and its fitting and story metadata.
type ImageSpec struct {
	File      string `json:"file"`
	Theme     string `json:"theme"`
	Character string `json:"character,omitempty"` // recurring character id; "" for places and props
	Role      Role   `json:"role"`
	// Focal is x, y, w, h in the image's pixels (before trimming) that must
	// stay inside the panel; omitted means the drawing's bounding box.
	Focal  *[4]int `json:"focal,omitempty"`
	MinW   int     `json:"min_w,omitempty"` // minimum panel size in cells; 0 means 1
	MinH   int     `json:"min_h,omitempty"`
	Anchor Edge    `json:"anchor,omitempty"`
	// Horizon, when set, allows a horizon line behind the image at a height
	// between the two fractions of the panel height (0 top, 1 bottom).
	Horizon *[2]float64 `json:"horizon,omitempty"`
	Facing  Facing      `json:"facing,omitempty"`
	Flip    bool        `json:"flip,omitempty"` // may be mirrored to face the other way
	Weight  float64     `json:"weight,omitempty"`
}

// Problem is one skipped item: the file and field at fault, and why.
type Problem struct {
	File  string
	Field string
	Err   error
}

func (p Problem) String() string {
	return fmt.Sprintf("comic: pack: %s: %s: %v", p.File, p.Field, p.Err)
}

// Pack is a loaded, validated art pack. It is safe for concurrent use.
type Pack struct {
	Name   string
	Cell   int
	Grids  []*Grid
	Images []*Image

	mu    sync.Mutex
	cache scaledCache
}

// Grid is a usable grid family.
type Grid struct {
	ID                     string
	Cols, Rows, MaxW, MaxH int
	Panels                 []image.Rectangle // explicit panels in cells; nil = random tiling
	Gutter, Margin         int
	Weight                 float64
	borders                map[image.Point][]*Border
	sizes                  []image.Point // panel sizes that have borders
}

// Border is one frame variant for a panel size. Its pixels are decoded from
// the pack when drawn, not kept: a pack's frames at master resolution run to
// hundreds of megabytes, more than a Pi Zero has.
type Border struct {
	File     string
	maskFile string // "" = the inside of the frame, filled
	size     image.Point
	fsys     fs.FS
	levels   partLevels // the pack's build-time reductions of it
}

// Pixels decodes the frame's art (black ink on transparent) and the mask of
// its inside.
func (b *Border) Pixels() (*image.NRGBA, *image.Alpha, error) {
	art, mask, prob := decodeBorder(b.fsys, b.File, b.maskFile, b.size)
	if prob != nil {
		return nil, nil, errors.New(prob.String())
	}
	return art, mask, nil
}

// frameSizes checks only the PNG headers of a frame and its mask.
func frameSizes(fsys fs.FS, file, maskFile string, want image.Point) (*image.NRGBA, *image.Alpha, *Problem) {
	for _, f := range []struct{ name, field string }{{file, "border"}, {maskFile, "mask"}} {
		if f.name == "" {
			continue
		}
		in, err := imageHeader(fsys, f.name)
		if err == nil {
			err = checkFrame(in)
		}
		if err != nil {
			return nil, nil, &Problem{File: f.name, Field: f.field, Err: err}
		}
		if got := image.Pt(in.Width, in.Height); got != want {
			return nil, nil, &Problem{File: f.name, Field: f.field, Err: fmt.Errorf("is %v, a panel needs %v", got, want)}
		}
	}
	return nil, nil, nil
}

// checkFrame refuses a frame or mask the working copies would not fit:
// unlike a drawing, a frame cannot be reduced (it must match its panel).
func checkFrame(in imgdecode.Info) error {
	if err := in.Check("the frame", imgdecode.Limits{MaxPixels: maxWorkPixels, MaxDecoded: maxDecoded}); err != nil {
		return fmt.Errorf("%w (use a smaller cell)", err)
	}
	return nil
}

// decodeBorder reads and checks a frame and its mask.
func decodeBorder(fsys fs.FS, file, maskFile string, want image.Point) (*image.NRGBA, *image.Alpha, *Problem) {
	src, err := readPNG(fsys, file, checkFrame)
	if err != nil {
		return nil, nil, &Problem{File: file, Field: "border", Err: err}
	}
	if src.Bounds().Size() != want {
		return nil, nil, &Problem{File: file, Field: "border", Err: fmt.Errorf("is %v, a panel needs %v", src.Bounds().Size(), want)}
	}
	art := toNRGBA(src)
	whiteToTransparent(art)
	var mask *image.Alpha
	if maskFile != "" {
		mk, err := readPNG(fsys, maskFile, checkFrame)
		if err != nil {
			return nil, nil, &Problem{File: maskFile, Field: "mask", Err: err}
		}
		if mk.Bounds().Size() != want {
			return nil, nil, &Problem{File: maskFile, Field: "mask", Err: fmt.Errorf("is %v, want %v", mk.Bounds().Size(), want)}
		}
		mask = maskOf(mk)
	} else {
		mask = fillInside(art)
	}
	if mask.Opaque() || emptyAlpha(mask) {
		return nil, nil, &Problem{File: file, Field: "mask", Err: errors.New("no inside: the frame must be closed")}
	}
	return art, mask, nil
}

// Size is the strip's size in master pixels (without the footer).
func (g *Grid) Size(cell int) image.Point {
	return image.Pt(g.Cols*cell+2*g.Margin, g.Rows*cell+2*g.Margin)
}

// HasSize reports whether the grid has a border for a w×h-cell panel.
func (g *Grid) HasSize(w, h int) bool { return len(g.borders[image.Pt(w, h)]) > 0 }

// Image is a loaded drawing. Like frames, its pixels are decoded when drawn.
type Image struct {
	ImageSpec
	Bounds image.Rectangle // the trimmed drawing, at the origin
	Focal  image.Rectangle
	Pad    int // the outline extends Pad pixels around the drawing

	box    image.Rectangle // the drawing within its file, reduced
	reduce int             // the file is shown reduced by this factor (1: as drawn)
	fsys   fs.FS
	levels partLevels // the pack's build-time reductions of it
	clean  bool       // the file is the art as it is drawn (checked at build time)
}

// Pixels decodes the trimmed drawing (transparent outside the ink) and its
// outline: the silhouette grown by Pad pixels, a white halo over textures.
func (im *Image) Pixels() (art *image.NRGBA, outline *image.Alpha, err error) {
	if art, err = im.art(); err != nil {
		return nil, nil, err
	}
	return art, grow(art, im.Pad), nil
}

// art is Pixels without the outline.
func (im *Image) art() (*image.NRGBA, error) {
	if im.clean {
		// Nothing to make transparent, nothing to trim: as decoded.
		full, _, err := readDrawing(im.fsys, im.File, func(in imgdecode.Info) (int, error) {
			if in.Width != im.box.Dx() || in.Height != im.box.Dy() {
				return 0, errors.New("the file changed since the pack was built")
			}
			return 1, nil
		})
		if err != nil {
			return nil, errors.New((&Problem{File: im.File, Field: "file", Err: err}).String())
		}
		return full, nil
	}
	full, _, err := readDrawing(im.fsys, im.File, func(in imgdecode.Info) (int, error) {
		k := im.reduce
		if ((in.Width+k-1)/k)*((in.Height+k-1)/k) > maxWorkPixels {
			return 0, errors.New("the file grew since the pack was loaded: load it again")
		}
		return k, nil
	})
	if err != nil {
		return nil, errors.New((&Problem{File: im.File, Field: "file", Err: err}).String())
	}
	whiteToTransparent(full)
	art := image.NewNRGBA(image.Rect(0, 0, im.box.Dx(), im.box.Dy()))
	draw.Draw(art, art.Rect, full, im.box.Min, draw.Src)
	return art, nil
}

// LoadPack reads and validates a pack. Bad items are skipped and returned as
// problems (one per item); the error is non-nil only when the pack is
// unusable: no manifest, no usable grid, or no usable image. A manifest
// that names a base pack needs LoadPackOn.
func LoadPack(fsys fs.FS) (*Pack, []Problem, error) { return loadPack(fsys, true) }

// LoadBuiltinPack loads a pack whose frames were checked when it was built
// (the embedded default, checked by the tests): it reads the frames' PNG
// headers only, and leaves decoding to the first render. On a Pi Zero that
// saves most of a minute and a burst of memory at every start.
func LoadBuiltinPack(fsys fs.FS) (*Pack, []Problem, error) { return loadPack(fsys, false) }

// LoadPackOn is LoadPack for a pack that may be drawn on base (loaded as
// LoadBuiltinPack does): a manifest whose Base is "builtin" gets base's
// grids and drawings, "builtin-grids" its grids only; the pack's own grids
// and drawings are added to them. A manifest without a base loads as with
// LoadPack, and base is not read. Problems name files of fsys (those of
// base, which the tests keep at none, are prefixed "base builtin:").
func LoadPackOn(fsys, base fs.FS) (*Pack, []Problem, error) {
	m, err := readManifest(fsys)
	if err != nil {
		return nil, nil, err
	}
	if m.Base == "" {
		return assemble(fsys, m, nil, true, loadImage)
	}
	if base == nil {
		return nil, nil, errNoBase(m.Base)
	}
	bp, bprobs, err := LoadBuiltinPack(base)
	if err != nil {
		return nil, nil, fmt.Errorf("comic: pack: base %s: %w", m.Base, err)
	}
	p, probs, err := assemble(fsys, m, bp, true, loadImage)
	return p, append(baseProblems(m.Base, bprobs), probs...), err
}

func loadPack(fsys fs.FS, checkFrames bool) (*Pack, []Problem, error) {
	m, err := readManifest(fsys)
	if err != nil {
		return nil, nil, err
	}
	if m.Base != "" {
		return nil, nil, errNoBase(m.Base)
	}
	if !checkFrames {
		// Checked when it was built: what the check found is read, not
		// found again.
		return assembleWith(fsys, m, nil, readChecked(fsys, m).loader())
	}
	return assemble(fsys, m, nil, checkFrames, loadImage)
}

func errNoBase(base string) error {
	return fmt.Errorf("comic: pack: %s: base: the pack is drawn on the %q pack, which is missing here (load it with LoadPackOn)", ManifestFile, base)
}

// baseProblems names the base's problems as the base's.
func baseProblems(base string, probs []Problem) []Problem {
	out := make([]Problem, len(probs))
	for i, p := range probs {
		p.File = "base " + base + ": " + p.File
		out[i] = p
	}
	return out
}

// decodeManifest reads a manifest strictly (an unknown field is a typo),
// as written: nothing is defaulted.
func decodeManifest(raw []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("comic: pack: %s: %w", ManifestFile, err)
	}
	return m, nil
}

// readManifest reads and checks fsys's manifest; Cell 0 becomes 480.
func readManifest(fsys fs.FS) (Manifest, error) {
	raw, err := readLimited(fsys, ManifestFile, maxManifest)
	if err != nil {
		return Manifest{}, fmt.Errorf("comic: pack: %w", err)
	}
	m, err := decodeManifest(raw)
	if err != nil {
		return Manifest{}, err
	}
	if err := checkManifest(&m); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// checkManifest checks what a manifest says of the whole pack; Cell 0
// becomes 480.
func checkManifest(m *Manifest) error {
	if m.Cell == 0 {
		m.Cell = defaultCell
	}
	if m.Cell < 16 || m.Cell > maxCell {
		return fmt.Errorf("comic: pack: %s: cell: %d pixels out of range 16..%d", ManifestFile, m.Cell, maxCell)
	}
	if len(m.Images) > maxImages {
		return fmt.Errorf("comic: pack: %s: images: %d entries, at most %d", ManifestFile, len(m.Images), maxImages)
	}
	switch m.Base {
	case "", BaseBuiltin, BaseBuiltinGrids:
	default:
		return fmt.Errorf("comic: pack: %s: base: %q is not %q or %q (or none)", ManifestFile, m.Base, BaseBuiltin, BaseBuiltinGrids)
	}
	return nil
}

// imageLoader loads one drawing of a pack (loadImage, or a cache of it).
type imageLoader func(fsys fs.FS, s ImageSpec, cell int, fit image.Point) (*Image, *Problem)

// assemble loads the grids and drawings m lists from fsys, on top of base's
// (nil: none), and refuses a pack that cannot make a strip.
func assemble(fsys fs.FS, m Manifest, base *Pack, checkFrames bool, load imageLoader) (*Pack, []Problem, error) {
	return assembleWith(fsys, m, base, newLoader(checkFrames, load))
}

// loader is how a pack's items are checked as they load.
type loader struct {
	image imageLoader
	// frame checks a frame and its mask, w×h pixels; it returns the
	// build-time reductions the pack has of it (a bit per level).
	frame func(fsys fs.FS, b BorderSpec, want image.Point) (partLevels, *Problem)
}

// newLoader checks frames by decoding them (checkFrames) or from their
// headers, and drawings with load.
func newLoader(checkFrames bool, load imageLoader) loader {
	check := decodeBorder
	if !checkFrames {
		check = frameSizes
	}
	return loader{image: load, frame: func(fsys fs.FS, b BorderSpec, want image.Point) (partLevels, *Problem) {
		_, _, prob := check(fsys, b.Border, b.Mask, want)
		return partLevels{}, prob
	}}
}

func assembleWith(fsys fs.FS, m Manifest, base *Pack, ld loader) (*Pack, []Problem, error) {
	p, probs, err := buildWith(fsys, m, base, ld)
	if err != nil {
		return nil, probs, err
	}
	if err := p.usable(); err != nil {
		return nil, probs, err
	}
	return p, probs, nil
}

// build is assemble without the final check: the pack may have no grid or
// no drawing (the editor's preview adds the drawing being edited).
func build(fsys fs.FS, m Manifest, base *Pack, checkFrames bool, load imageLoader) (*Pack, []Problem, error) {
	return buildWith(fsys, m, base, newLoader(checkFrames, load))
}

func buildWith(fsys fs.FS, m Manifest, base *Pack, ld loader) (*Pack, []Problem, error) {
	p := &Pack{Name: m.Name, Cell: m.Cell, cache: scaledCache{m: map[cacheKey]*cached{}}}
	if base != nil {
		if base.Cell != m.Cell {
			return nil, nil, fmt.Errorf("comic: pack: %s: cell: %d pixels, but the %q pack it is drawn on has %d: use %d", ManifestFile, m.Cell, m.Base, base.Cell, base.Cell)
		}
		// Shared, not copied: grids and images do not change once loaded.
		p.Grids = slices.Clone(base.Grids)
		if m.Base == BaseBuiltin {
			p.Images = slices.Clone(base.Images)
		}
	}
	var probs []Problem
	for i, gs := range m.Grids {
		g, gp := loadGrid(fsys, gs, m.Cell, ld.frame)
		if gp != nil {
			if gp.File == "" {
				gp.File = fmt.Sprintf("%s grids[%d]", ManifestFile, i)
			}
			probs = append(probs, *gp)
			continue
		}
		p.Grids = append(p.Grids, g)
	}
	// A drawing larger than any panel of the pack is reduced to fit the
	// largest: a 600 dpi scan is shown whole, not cropped to its middle.
	fit := p.fit()
	for i, is := range m.Images {
		img, ip := ld.image(fsys, is, m.Cell, fit)
		if ip != nil {
			if ip.File == "" {
				ip.File = fmt.Sprintf("%s images[%d]", ManifestFile, i)
			}
			probs = append(probs, *ip)
			continue
		}
		p.Images = append(p.Images, img)
	}
	return p, probs, nil
}

// fit is the largest panel of the pack's grids, in pixels: what a drawing
// is reduced to at most.
func (p *Pack) fit() image.Point {
	if len(p.Grids) == 0 {
		return image.Pt(maxGridCells*p.Cell, maxGridCells*p.Cell)
	}
	var fit image.Point
	for _, g := range p.Grids {
		fit.X, fit.Y = max(fit.X, g.Cols*p.Cell), max(fit.Y, g.Rows*p.Cell)
	}
	return fit
}

// usable refuses a pack that cannot make a strip.
func (p *Pack) usable() error {
	if len(p.Grids) == 0 {
		return errors.New("comic: pack: no usable grid")
	}
	if len(p.Images) == 0 {
		return errors.New("comic: pack: no usable image")
	}
	return nil
}

// Themes lists the pack's themes, sorted.
func (p *Pack) Themes() []string {
	var out []string
	for _, im := range p.Images {
		if !slices.Contains(out, im.Theme) {
			out = append(out, im.Theme)
		}
	}
	sort.Strings(out)
	return out
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("%q is not a valid path inside the pack", name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, at most %d", name, st.Size(), limit)
	}
	// Read through the limit whatever stat said: a device says 0 bytes.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// openImage opens a pack image as a bounded stream and reads its header.
// Pack images are PNG; drawings may also be JPEG (scanners write it).
func openImage(fsys fs.FS, name string, jpegOK bool) (io.ReadSeeker, imgdecode.Info, func() error, error) {
	ext := strings.ToLower(path.Ext(name))
	want := map[string]string{".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}[ext]
	if want == "" || want == "jpeg" && !jpegOK {
		if jpegOK {
			return nil, imgdecode.Info{}, nil, errors.New("not a .png or .jpg file")
		}
		return nil, imgdecode.Info{}, nil, errors.New("not a .png file")
	}
	if !fs.ValidPath(name) {
		return nil, imgdecode.Info{}, nil, fmt.Errorf("%q is not a valid path inside the pack", name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, imgdecode.Info{}, nil, err
	}
	r, err := imgdecode.Bounded(f, name, maxImageFile)
	if err != nil {
		f.Close()
		return nil, imgdecode.Info{}, nil, err
	}
	in, err := imgdecode.DecodeConfig(r)
	if err == nil && in.Format != want {
		err = fmt.Errorf("a %s file named %s", in.Format, ext)
	}
	if err != nil {
		f.Close()
		return nil, in, nil, fmt.Errorf("corrupt %s: %w", strings.ToUpper(want), err)
	}
	return r, in, f.Close, nil
}

// imageHeader reads only the header of a pack image.
func imageHeader(fsys fs.FS, name string) (imgdecode.Info, error) {
	_, in, closeFile, err := openImage(fsys, name, false)
	if err != nil {
		return in, err
	}
	closeFile()
	return in, nil
}

// readPNG decodes a PNG after check has passed its header, so a small
// hostile file cannot ask for gigabytes.
func readPNG(fsys fs.FS, name string, check func(imgdecode.Info) error) (image.Image, error) {
	r, in, closeFile, err := openImage(fsys, name, false)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	if err := check(in); err != nil {
		return nil, err
	}
	img, err := png.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("corrupt PNG: %w", err)
	}
	return img, nil
}

// readDrawing decodes a drawing reduced by the factor reduceBy picks from
// its header, as NRGBA at the origin. The decoded file is let go as soon
// as it is reduced: of an 8000×8000 grey scan (64 MB decoded) shown at
// 1600×1600, only the 10 MB reduction is worked on.
func readDrawing(fsys fs.FS, name string, reduceBy func(imgdecode.Info) (int, error)) (*image.NRGBA, imgdecode.Info, error) {
	r, in, closeFile, err := openImage(fsys, name, true)
	if err != nil {
		return nil, in, err
	}
	defer closeFile()
	if err := in.Check("the drawing", imgdecode.Limits{MaxDecoded: maxDecoded}); err != nil {
		return nil, in, fmt.Errorf("%w (a grey scan fits up to 8192×8192, colour up to 4096×4096)", err)
	}
	k, err := reduceBy(in)
	if err != nil {
		return nil, in, err
	}
	src, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, in, fmt.Errorf("corrupt %s: %w", strings.ToUpper(in.Format), err)
	}
	if k <= 1 {
		return toNRGBA(src), in, nil
	}
	return shrink(src, k), in, nil
}

// reduction is the smallest whole factor that brings a w×h drawing within
// fit and maxWorkPixels.
func reduction(w, h int, fit image.Point) int {
	k := max(1, (w+fit.X-1)/max(fit.X, 1), (h+fit.Y-1)/max(fit.Y, 1))
	for ((w+k-1)/k)*((h+k-1)/k) > maxWorkPixels {
		k++
	}
	return k
}

// shrink reduces src by the factor k, each pixel the mean of a k×k block
// (premultiplied, so transparent pixels do not darken the edges). It works
// a band of k rows at a time, so it needs no copy of src.
func shrink(src image.Image, k int) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, (w+k-1)/k, (h+k-1)/k))
	band := image.NewRGBA(image.Rect(0, 0, w, k))
	sum := make([]uint64, dst.Rect.Dx()*4)
	for Y := range dst.Rect.Dy() {
		rows := min(k, h-Y*k)
		draw.Draw(band, band.Rect, src, image.Pt(b.Min.X, b.Min.Y+Y*k), draw.Src)
		clear(sum)
		for y := range rows {
			row := band.Pix[y*band.Stride : y*band.Stride+w*4]
			for x := range w {
				s := sum[(x/k)*4 : (x/k)*4+4]
				p := row[x*4 : x*4+4]
				s[0] += uint64(p[0])
				s[1] += uint64(p[1])
				s[2] += uint64(p[2])
				s[3] += uint64(p[3])
			}
		}
		out := dst.Pix[Y*dst.Stride:]
		for X := range dst.Rect.Dx() {
			n := uint64(min(k, w-X*k) * rows)
			s := sum[X*4 : X*4+4]
			a := (s[3] + n/2) / n
			o := out[X*4 : X*4+4]
			o[3] = uint8(a)
			if s[3] == 0 {
				o[0], o[1], o[2] = 0, 0, 0
				continue
			}
			// Unpremultiply: the mean colour is sum(c)/sum(a) of full alpha.
			for c := range 3 {
				o[c] = uint8(min(255, (s[c]*255+s[3]/2)/s[3]))
			}
		}
	}
	return dst
}

func loadGrid(fsys fs.FS, s GridSpec, cell int, checkFrame func(fs.FS, BorderSpec, image.Point) (partLevels, *Problem)) (*Grid, *Problem) {
	bad := func(field string, format string, args ...any) *Problem {
		return &Problem{File: ManifestFile + " grid " + s.ID, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if s.ID == "" {
		return nil, bad("id", "missing")
	}
	if s.Cols < 1 || s.Cols > maxGridCells || s.Rows < 1 || s.Rows > maxGridCells {
		return nil, bad("cols/rows", "%dx%d out of range 1..%d", s.Cols, s.Rows, maxGridCells)
	}
	if s.Gutter < 0 || s.Gutter > cell/2 || s.Margin < 0 || s.Margin > cell {
		return nil, bad("gutter/margin", "gutter %d or margin %d out of range", s.Gutter, s.Margin)
	}
	if s.Weight < 0 {
		return nil, bad("weight", "negative")
	}
	g := &Grid{ID: s.ID, Cols: s.Cols, Rows: s.Rows, MaxW: s.MaxW, MaxH: s.MaxH, Gutter: s.Gutter, Margin: s.Margin,
		Weight: s.Weight, borders: map[image.Point][]*Border{}}
	if g.Weight == 0 {
		g.Weight = 1
	}
	if g.MaxW <= 0 || g.MaxW > g.Cols {
		g.MaxW = g.Cols
	}
	if g.MaxH <= 0 || g.MaxH > g.Rows {
		g.MaxH = g.Rows
	}
	for _, b := range s.Borders {
		if b.W < 1 || b.H < 1 || b.W > g.Cols || b.H > g.Rows {
			return nil, &Problem{File: b.Border, Field: "w/h", Err: fmt.Errorf("%dx%d does not fit a %dx%d grid", b.W, b.H, g.Cols, g.Rows)}
		}
		want := image.Pt(b.W*cell-g.Gutter, b.H*cell-g.Gutter)
		// Checked now, so a bad frame is reported at load; decoded again
		// when drawn.
		levels, prob := checkFrame(fsys, b, want)
		if prob != nil {
			if prob.Field == "border" && strings.HasPrefix(prob.Err.Error(), "is ") {
				prob.Err = fmt.Errorf("%v (a %dx%d panel)", prob.Err, b.W, b.H)
			}
			return nil, prob
		}
		bd := &Border{File: b.Border, maskFile: b.Mask, size: want, fsys: fsys, levels: levels}
		k := image.Pt(b.W, b.H)
		g.borders[k] = append(g.borders[k], bd)
	}
	for k := range g.borders {
		g.sizes = append(g.sizes, k)
	}
	sort.Slice(g.sizes, func(i, j int) bool {
		a, b := g.sizes[i], g.sizes[j]
		return a.Y < b.Y || a.Y == b.Y && a.X < b.X
	})
	if len(s.Panels) > 0 {
		covered := make([]bool, g.Cols*g.Rows)
		for i, pr := range s.Panels {
			r := image.Rect(pr[0], pr[1], pr[0]+pr[2], pr[1]+pr[3])
			if pr[2] < 1 || pr[3] < 1 || !r.In(image.Rect(0, 0, g.Cols, g.Rows)) {
				return nil, bad(fmt.Sprintf("panels[%d]", i), "%v is outside the %dx%d grid", pr, g.Cols, g.Rows)
			}
			if !g.HasSize(pr[2], pr[3]) {
				return nil, bad(fmt.Sprintf("panels[%d]", i), "no border for a %dx%d panel", pr[2], pr[3])
			}
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					if covered[y*g.Cols+x] {
						return nil, bad(fmt.Sprintf("panels[%d]", i), "overlaps another panel")
					}
					covered[y*g.Cols+x] = true
				}
			}
			g.Panels = append(g.Panels, r)
		}
	} else if !g.HasSize(1, 1) {
		// Random tiling always needs the 1x1 frame to fill leftover cells.
		return nil, bad("borders", "random tiling needs a 1x1 border")
	}
	return g, nil
}

func loadImage(fsys fs.FS, s ImageSpec, cell int, fit image.Point) (*Image, *Problem) {
	s, prob := checkSpec(s)
	if prob != nil {
		return nil, prob
	}
	d, prob := checkDrawing(fsys, s, fit)
	if prob != nil {
		return nil, prob
	}
	return imageFrom(fsys, s, d, cell)
}

// checkSpec checks a drawing's settings and fills in their defaults.
func checkSpec(s ImageSpec) (ImageSpec, *Problem) {
	bad := func(field string, format string, args ...any) (ImageSpec, *Problem) {
		return s, &Problem{File: s.File, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if s.File == "" {
		return s, &Problem{Field: "file", Err: errors.New("missing")}
	}
	if s.Theme == "" {
		return bad("theme", "missing")
	}
	if !s.Role.valid() {
		return bad("role", "%q is not establishing, action, reaction or closing", s.Role)
	}
	if s.Anchor == "" {
		s.Anchor = EdgeNone
	}
	if !s.Anchor.valid() {
		return bad("anchor", "%q is not none, bottom, top, left or right", s.Anchor)
	}
	if s.Facing != FacingNone && s.Facing != FacingLeft && s.Facing != FacingRight {
		return bad("facing", "%q is not left or right", s.Facing)
	}
	if s.MinW == 0 {
		s.MinW = 1
	}
	if s.MinH == 0 {
		s.MinH = 1
	}
	if s.MinW < 1 || s.MinH < 1 || s.MinW > maxGridCells || s.MinH > maxGridCells {
		return bad("min_w/min_h", "%dx%d out of range 1..%d", s.MinW, s.MinH, maxGridCells)
	}
	if s.Horizon != nil && (s.Horizon[0] < 0 || s.Horizon[1] > 1 || s.Horizon[0] > s.Horizon[1]) {
		return bad("horizon", "%v is not a range within 0..1", *s.Horizon)
	}
	if s.Weight < 0 {
		return bad("weight", "negative")
	}
	if s.Weight == 0 {
		s.Weight = 1
	}
	return s, nil
}

// drawn is what checking a drawing's file finds: the file's size, the
// factor it is shown reduced by, and the drawing's bounds in the reduced
// file (empty: nothing is drawn). It is what a build-time check and a
// maker's cache remember.
type drawn struct {
	Width, Height int
	Reduce        int
	Box           image.Rectangle
}

// focalProblem is what is wrong with s's focal area in a w×h file.
func focalProblem(s ImageSpec, w, h int) *Problem {
	if s.Focal == nil {
		return nil
	}
	f := *s.Focal
	if r := image.Rect(f[0], f[1], f[0]+f[2], f[1]+f[3]); f[2] <= 0 || f[3] <= 0 || !r.In(image.Rect(0, 0, w, h)) {
		return &Problem{File: s.File, Field: "focal", Err: fmt.Errorf("%v is not inside the %v image", f, image.Pt(w, h))}
	}
	return nil
}

// checkDrawing decodes s's file, reduced to fit, and finds the drawing in
// it: the slow part of a check. The focal area is checked from the
// header, before the decode.
func checkDrawing(fsys fs.FS, s ImageSpec, fit image.Point) (drawn, *Problem) {
	var d drawn
	var focalBad *Problem
	art, _, err := readDrawing(fsys, s.File, func(in imgdecode.Info) (int, error) {
		if focalBad = focalProblem(s, in.Width, in.Height); focalBad != nil {
			return 0, errors.New("bad focal")
		}
		d.Width, d.Height = in.Width, in.Height
		d.Reduce = reduction(in.Width, in.Height, fit)
		return d.Reduce, nil
	})
	if focalBad != nil {
		return d, focalBad
	}
	if err != nil {
		return d, &Problem{File: s.File, Field: "file", Err: err}
	}
	whiteToTransparent(art)
	d.Box = opaqueBounds(art)
	return d, nil
}

// imageFrom is the drawing s as checking its file found it (d).
func imageFrom(fsys fs.FS, s ImageSpec, d drawn, cell int) (*Image, *Problem) {
	bad := func(field string, format string, args ...any) (*Image, *Problem) {
		return nil, &Problem{File: s.File, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if prob := focalProblem(s, d.Width, d.Height); prob != nil {
		return nil, prob
	}
	box, k := d.Box, d.Reduce
	if box.Empty() {
		return bad("file", "the drawing is empty (all white or transparent)")
	}
	focal := box
	if s.Focal != nil {
		// In the file's pixels: reduced with the drawing.
		f := *s.Focal
		reduced := image.Rect(0, 0, (d.Width+k-1)/k, (d.Height+k-1)/k)
		focal = image.Rect(f[0]/k, f[1]/k, (f[0]+f[2]+k-1)/k, (f[1]+f[3]+k-1)/k).Intersect(reduced)
		focal = focal.Intersect(box)
		if focal.Empty() {
			return bad("focal", "%v covers none of the drawing", f)
		}
	}
	// Trimmed to the drawing; focal follows.
	focal = focal.Sub(box.Min)
	pad := max(cell/outlineFactor, 1)
	return &Image{ImageSpec: s, Bounds: image.Rect(0, 0, box.Dx(), box.Dy()), Focal: focal, Pad: pad, box: box, reduce: k, fsys: fsys}, nil
}

// toNRGBA returns src as an NRGBA at origin (0,0): src itself when it is one
// already (a fresh decode nobody else holds), else a copy.
func toNRGBA(src image.Image) *image.NRGBA {
	if m, ok := src.(*image.NRGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, src, b.Min, draw.Src)
	return dst
}

// whiteToTransparent turns the near-white background that touches the
// image's edge into transparency (a scanned drawing), leaving white inside
// closed shapes: a character's white body still hides what is behind it.
func whiteToTransparent(m *image.NRGBA) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if w == 0 || h == 0 {
		return
	}
	// A byte a pixel: 0 dark, 1 light, 2 reached. Filled a run at a time
	// (a scanline fill: a Pi Zero spends its time in tight loops, not in
	// a push and a pop per pixel).
	const light, reached = 1, 2
	st := make([]uint8, w*h)
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		s := st[y*w : y*w+w]
		for x := range s {
			p := row[x*4 : x*4+4 : x*4+4]
			if p[3] < 16 || p[0] > 200 && p[1] > 200 && p[2] > 200 {
				s[x] = light
			}
		}
	}
	// Seeds: one a run of light pixels; int32 halves the stack (images are
	// at most maxWorkPixels).
	var stack []int32
	seedRuns := func(y, x0, x1 int) {
		row := st[y*w : y*w+w]
		in := false
		for x := x0; x <= x1; x++ {
			if row[x] == light {
				if !in {
					stack = append(stack, int32(y*w+x))
				}
				in = true
			} else {
				in = false
			}
		}
	}
	seedRuns(0, 0, w-1)
	seedRuns(h-1, 0, w-1)
	for y := range h {
		for _, x := range [2]int{0, w - 1} {
			if st[y*w+x] == light {
				stack = append(stack, int32(y*w+x))
			}
		}
	}
	for len(stack) > 0 {
		i := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if st[i] != light {
			continue
		}
		y := i / w
		row := st[y*w : y*w+w]
		x0, x1 := i-y*w, i-y*w
		for x0 > 0 && row[x0-1] == light {
			x0--
		}
		for x1 < w-1 && row[x1+1] == light {
			x1++
		}
		for x := x0; x <= x1; x++ {
			row[x] = reached
		}
		if y > 0 {
			seedRuns(y-1, x0, x1)
		}
		if y < h-1 {
			seedRuns(y+1, x0, x1)
		}
	}
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x, v := range st[y*w : y*w+w] {
			if v == reached {
				row[x*4+3] = 0
			}
		}
	}
}

// fillInside is the mask of a frame without one: everything the centre of
// the image reaches without crossing a line.
func fillInside(m *image.NRGBA) *image.Alpha {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewAlpha(m.Rect)
	open := func(i int) bool {
		p := m.Pix[i*4 : i*4+4]
		return p[3] < 128 || p[0] > 200 && p[1] > 200 && p[2] > 200
	}
	start := (h/2)*w + w/2
	if !open(start) {
		return out
	}
	stack := []int{start}
	out.Pix[start] = 255
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		for _, n := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
			if n[0] < 0 || n[1] < 0 || n[0] >= w || n[1] >= h {
				continue
			}
			j := n[1]*w + n[0]
			if out.Pix[j] == 0 && open(j) {
				out.Pix[j] = 255
				stack = append(stack, j)
			}
		}
	}
	// Reaching the edge means the frame is not closed: no inside.
	for x := 0; x < w; x++ {
		if out.Pix[x] != 0 || out.Pix[(h-1)*w+x] != 0 {
			return image.NewAlpha(m.Rect)
		}
	}
	return out
}

// maskOf reads a mask image: opaque light pixels are inside.
func maskOf(src image.Image) *image.Alpha {
	b := src.Bounds()
	out := image.NewAlpha(image.Rect(0, 0, b.Dx(), b.Dy()))
	// The pixel types PNG decodes to are read directly (a frame's mask is
	// megapixels: through At and a colour model, it was most of a cold
	// print render).
	var at func(x, y int) (r, g, b, a uint32)
	switch m := src.(type) {
	case *image.RGBA:
		at = func(x, y int) (uint32, uint32, uint32, uint32) { return m.RGBAAt(x, y).RGBA() }
	case *image.NRGBA:
		at = func(x, y int) (uint32, uint32, uint32, uint32) { return m.NRGBAAt(x, y).RGBA() }
	case *image.Gray:
		at = func(x, y int) (uint32, uint32, uint32, uint32) { return m.GrayAt(x, y).RGBA() }
	default:
		at = func(x, y int) (uint32, uint32, uint32, uint32) { return src.At(x, y).RGBA() }
	}
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bl, a := at(b.Min.X+x, b.Min.Y+y)
			// color.Gray16Model's luma, scaled by the alpha.
			grey := (19595*r + 38470*g + 7471*bl + 1<<15) >> 16
			out.Pix[y*out.Stride+x] = uint8((grey * a / 0xffff) >> 8)
		}
	}
	return out
}

func emptyAlpha(a *image.Alpha) bool {
	for _, v := range a.Pix {
		if v != 0 {
			return false
		}
	}
	return true
}

// opaqueBounds is the bounding box of the pixels that are not transparent.
func opaqueBounds(m *image.NRGBA) image.Rectangle {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	r := image.Rectangle{}
	minX, minY, maxX, maxY := w, h, -1, -1
	for y := 0; y < h; y++ {
		row := m.Pix[y*m.Stride:]
		for x := 0; x < w; x++ {
			if row[x*4+3] >= 16 {
				minX, maxX = min(minX, x), max(maxX, x)
				minY, maxY = min(minY, y), max(maxY, y)
			}
		}
	}
	if maxX >= 0 {
		r = image.Rect(minX, minY, maxX+1, maxY+1)
	}
	return r
}

// grow returns m's silhouette dilated by pad pixels (a square structuring
// element, done as two separable passes), in an image pad larger on each side.
func grow(m *image.NRGBA, pad int) *image.Alpha {
	return growPlane(m.Pix[3:], m.Stride, 4, m.Rect.Dx(), m.Rect.Dy(), pad)
}

// growAlpha is grow for an ink plane.
func growAlpha(m *image.Alpha, pad int) *image.Alpha {
	return growPlane(m.Pix, m.Stride, 1, m.Rect.Dx(), m.Rect.Dy(), pad)
}

// growPlane is grow on the alpha values a[y*stride+x*step].
func growPlane(a []uint8, stride, step, w, h, pad int) *image.Alpha {
	W, H := w+2*pad, h+2*pad
	horiz := make([]uint8, W*h)
	for y := 0; y < h; y++ {
		last := -1 << 30
		// left-to-right pass records the last opaque x; right-to-left the next.
		for x := 0; x < W; x++ {
			sx := x - pad
			if sx >= 0 && sx < w && a[y*stride+sx*step] >= 16 {
				last = x
			}
			if x-last <= pad {
				horiz[y*W+x] = 255
			}
		}
		next := 1 << 30
		for x := W - 1; x >= 0; x-- {
			sx := x - pad
			if sx >= 0 && sx < w && a[y*stride+sx*step] >= 16 {
				next = x
			}
			if next-x <= pad {
				horiz[y*W+x] = 255
			}
		}
	}
	out := image.NewAlpha(image.Rect(0, 0, W, H))
	for x := 0; x < W; x++ {
		last := -1 << 30
		for y := 0; y < H; y++ {
			sy := y - pad
			if sy >= 0 && sy < h && horiz[sy*W+x] != 0 {
				last = y
			}
			if y-last <= pad {
				out.Pix[y*W+x] = 255
			}
		}
		next := 1 << 30
		for y := H - 1; y >= 0; y-- {
			sy := y - pad
			if sy >= 0 && sy < h && horiz[sy*W+x] != 0 {
				next = y
			}
			if next-y <= pad {
				out.Pix[y*W+x] = 255
			}
		}
	}
	return out
}
