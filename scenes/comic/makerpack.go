package comic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	xdraw "golang.org/x/image/draw"
)

// MakerPack is the maker's own pack directory: drawings added from the
// camera or uploads, and their metadata, kept in the manifest.json that
// LoadPackOn and comic check read. Safe for concurrent use.
//
// Every write is a temporary file, fsynced, renamed over the old one, and
// the directory fsynced; a drawing's file is in place before the manifest
// that lists it, so a power cut leaves at worst a file nobody lists.
type MakerPack struct {
	dir     string
	base    fs.FS // nil: packs here stand alone
	clock   func() time.Time
	version atomic.Uint64

	mu        sync.Mutex
	basePack  *Pack // loaded once, shared by every Check
	baseProbs []Problem
	images    map[string]cachedImage // by file: the last load of each drawing
	renderer  *Pack                  // draws previews; keeps scaled frames between them
	checks    *CheckCache            // what earlier runs' checks found; nil: none
}

// cachedImage is a drawing as loaded with spec from a file of that size and
// time: a Check after an edit decodes only what changed.
type cachedImage struct {
	spec  []byte // the ImageSpec as JSON
	cell  int
	fit   image.Point
	size  int64
	mtime time.Time
	im    *Image
	prob  *Problem
}

// Errors of a MakerPack (wrapped with the file they are about).
var (
	ErrNoDrawing    = errors.New("comic: maker pack: no such drawing in the manifest")
	ErrBadFile      = errors.New("comic: maker pack: not a file name inside the pack")
	ErrNotRemovable = errors.New("comic: maker pack: only drawings added here (drawings/*.png) can be removed; edit manifest.json by hand for the others")
	ErrPackFull     = fmt.Errorf("comic: maker pack: a pack holds at most %d drawings", maxImages)
)

// InvalidError refuses a drawing's settings: Problem says which field and
// why, as comic check would.
type InvalidError struct{ Problem Problem }

func (e *InvalidError) Error() string { return e.Problem.String() }

// Defaults of the maker's pack and its new drawings.
const (
	DefaultMakerName  = "my drawings"
	DefaultMakerTheme = "mine"
	drawingsDir       = "drawings"
	// maxLabel bounds a theme or character name: the manifest stays small
	// (maxManifest) whatever is typed.
	maxLabel = 80
)

// poseSide is the longest side of a new drawing, in pixels of a cell of
// cell pixels: as the built-in poses (380 in 480), it fits a 1×1 panel
// within the frame's inset, so the default minimum panel (1×1) holds it.
// Drawings are never enlarged when composed, so a larger one would only fit
// the few large panels.
func poseSide(cell int) int { return cell * 380 / 480 }

// drawingName is a file Add made: only those may be removed.
var drawingName = regexp.MustCompile(`^` + drawingsDir + `/[0-9A-Za-z][0-9A-Za-z_-]*\.png$`)

// OpenMakerPack is the maker's pack in dir, drawn on base (the built-in pack,
// whose grids and drawings a new pack uses; nil: none). Nothing is read or
// written until asked; dir is made with the first drawing. clock names the
// new drawings' files.
func OpenMakerPack(dir string, base fs.FS, clock func() time.Time) *MakerPack {
	if clock == nil {
		clock = time.Now
	}
	return &MakerPack{dir: dir, base: base, clock: clock, images: map[string]cachedImage{}}
}

// RememberChecks keeps what checking the drawings finds in c, so that the
// next run (a start) checks only the drawings changed since.
func (m *MakerPack) RememberChecks(c *CheckCache) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checks = c
}

// Dir is the pack's directory.
func (m *MakerPack) Dir() string { return m.dir }

// Version increases on every change: a running scene reloads when it moves.
func (m *MakerPack) Version() uint64 { return m.version.Load() }

// Manifest is the manifest as on disk; a missing one is the default:
// {Name: "my drawings", Cell: the base's cell, Base: "builtin"}.
func (m *MakerPack) Manifest() (Manifest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	man, _, err := m.readManifest()
	return man, err
}

// readManifest reads the manifest as written (exists: false and the
// default when there is none); m.mu held.
func (m *MakerPack) readManifest() (man Manifest, exists bool, err error) {
	raw, err := readLimited(os.DirFS(m.dir), ManifestFile, maxManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return m.defaultManifest(), false, nil
	}
	if err != nil {
		return Manifest{}, false, fmt.Errorf("comic: maker pack: %w", err)
	}
	man, err = decodeManifest(raw)
	if err != nil {
		return Manifest{}, true, fmt.Errorf("%w (fix it by hand, or move it away to start again)", err)
	}
	return man, true, nil
}

func (m *MakerPack) defaultManifest() Manifest {
	man := Manifest{Name: DefaultMakerName, Cell: defaultCell}
	if m.base != nil {
		man.Base = BaseBuiltin
		if bm, err := readManifest(m.base); err == nil {
			man.Cell = bm.Cell
		}
	}
	return man
}

// writeManifest replaces the manifest on disk, indented for people to
// read; m.mu held.
func (m *MakerPack) writeManifest(man Manifest) error {
	if man.Grids == nil {
		man.Grids = []GridSpec{}
	}
	if man.Images == nil {
		man.Images = []ImageSpec{}
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return fmt.Errorf("comic: maker pack: %w", err)
	}
	b = append(b, '\n')
	if len(b) > maxManifest {
		return fmt.Errorf("comic: maker pack: the manifest would be %d bytes, at most %d", len(b), maxManifest)
	}
	root, err := m.root()
	if err != nil {
		return err
	}
	defer root.Close()
	return writeAtomic(root, ManifestFile, b)
}

// root opens the pack's directory (made if need be) for writing: the
// operations of an os.Root cannot leave it, whatever links it holds.
func (m *MakerPack) root() (*os.Root, error) {
	if _, err := os.Stat(m.dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return nil, fmt.Errorf("comic: maker pack: %w", err)
		}
		if err := syncDir(filepath.Dir(m.dir)); err != nil {
			return nil, fmt.Errorf("comic: maker pack: %w", err)
		}
	}
	root, err := os.OpenRoot(m.dir)
	if err != nil {
		return nil, fmt.Errorf("comic: maker pack: %w", err)
	}
	return root, nil
}

// writeAtomic replaces name under root with data: a temporary file,
// fsynced, renamed over name, and its directory fsynced, so a power cut
// leaves the old file or the new one, never half of one.
func writeAtomic(root *os.Root, name string, data []byte) error {
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("comic: maker pack: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return fmt.Errorf("comic: maker pack: write %s: %w", name, err)
	}
	d, err := root.Open(path.Dir(name))
	if err != nil {
		return fmt.Errorf("comic: maker pack: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("comic: maker pack: sync the folder of %s: %w", name, err)
	}
	return nil
}

// NewDrawingSpec is the metadata a new drawing gets: a pose of the maker's
// theme that may stand in any panel and be mirrored.
func NewDrawingSpec(file string) ImageSpec {
	return ImageSpec{File: file, Theme: DefaultMakerTheme, Role: Action, Anchor: EdgeBottom, Flip: true, MinW: 1, MinH: 1, Weight: 1}
}

// Add writes each drawing as PNG drawings/<yyyymmdd-hhmmss>-<n>.png (grey,
// black on white), appends NewDrawingSpec entries for them and returns
// those. A drawing is cropped to its ink and reduced to fit a 1×1 panel
// (see poseSide). One without ink is refused, and so is the whole batch.
func (m *MakerPack) Add(drawings []image.Image) ([]ImageSpec, error) {
	if len(drawings) == 0 {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	man, _, err := m.readManifest()
	if err != nil {
		return nil, err
	}
	if n := len(man.Images) + len(drawings); n > maxImages {
		return nil, fmt.Errorf("%w: it has %d, %d more would make %d: remove some first", ErrPackFull, len(man.Images), len(drawings), n)
	}
	cell := man.Cell
	if cell == 0 {
		cell = defaultCell
	}
	files := make([][]byte, len(drawings))
	for i, d := range drawings {
		g, ok := cleanDrawing(d, poseSide(cell))
		if !ok {
			return nil, fmt.Errorf("comic: maker pack: drawing %d of %d has no ink (it is all white or transparent)", i+1, len(drawings))
		}
		var b bytes.Buffer
		if err := png.Encode(&b, g); err != nil {
			return nil, fmt.Errorf("comic: maker pack: drawing %d: %w", i+1, err)
		}
		files[i] = b.Bytes()
	}
	root, err := m.root()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if _, err := root.Lstat(drawingsDir); errors.Is(err, fs.ErrNotExist) {
		if err := root.Mkdir(drawingsDir, 0o755); err != nil {
			return nil, fmt.Errorf("comic: maker pack: %w", err)
		}
		// The folder's own entry must last too, like the files' in it.
		if err := syncDir(m.dir); err != nil {
			return nil, fmt.Errorf("comic: maker pack: %w", err)
		}
	}
	listed := map[string]bool{}
	for _, is := range man.Images {
		listed[is.File] = true
	}
	stamp := m.clock().UTC().Format("20060102-150405")
	n := 0
	var added []ImageSpec
	for _, b := range files {
		// A name nobody uses: not listed, and no file left by a power cut.
		var name string
		for {
			n++
			name = drawingsDir + "/" + stamp + "-" + strconv.Itoa(n) + ".png"
			_, err := root.Lstat(name)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("comic: maker pack: %w", err)
			}
			if err != nil && !listed[name] {
				break
			}
		}
		if err := writeAtomic(root, name, b); err != nil {
			return nil, err // the files written so far are listed nowhere: harmless
		}
		added = append(added, NewDrawingSpec(name))
	}
	man.Images = append(man.Images, added...)
	if err := m.writeManifest(man); err != nil {
		return nil, err
	}
	m.version.Add(1)
	return added, nil
}

// cleanDrawing is d as a pack drawing: grey, black ink on white (what is
// transparent becomes white), cropped to its ink with a small margin, and
// reduced so that its longest side is at most side. ok is false when d has
// no ink.
func cleanDrawing(d image.Image, side int) (*image.Gray, bool) {
	b := d.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	if src, ok := d.(*image.Gray); ok {
		// What images/sheet gives: copied row by row, not pixel by pixel.
		for y := range b.Dy() {
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	} else {
		draw.Draw(g, g.Rect, image.White, image.Point{}, draw.Src)
		draw.Draw(g, g.Rect, d, b.Min, draw.Over)
	}
	// Ink as the loader sees it: anything darker than its near-white.
	ink := image.Rectangle{Min: image.Pt(g.Rect.Dx(), g.Rect.Dy())}
	for y := range g.Rect.Dy() {
		row := g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()]
		for x, v := range row {
			if v <= 200 {
				ink.Min.X, ink.Min.Y = min(ink.Min.X, x), min(ink.Min.Y, y)
				ink.Max.X, ink.Max.Y = max(ink.Max.X, x+1), max(ink.Max.Y, y+1)
			}
		}
	}
	if ink.Empty() {
		return nil, false
	}
	margin := max(2, side/48)
	ink = ink.Inset(-margin).Intersect(g.Rect)
	w, h := ink.Dx(), ink.Dy()
	if k := float64(side) / float64(max(w, h)); k < 1 {
		w, h = max(1, int(float64(w)*k+0.5)), max(1, int(float64(h)*k+0.5))
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	if w == ink.Dx() && h == ink.Dy() {
		draw.Draw(out, out.Rect, g, ink.Min, draw.Src)
		return out, true
	}
	// Mostly by whole blocks (fast, and the mean keeps thin lines), the
	// rest smoothly.
	src := g.SubImage(ink).(*image.Gray)
	if k := min(ink.Dx()/w, ink.Dy()/h); k >= 2 {
		src = shrinkGray(src, k)
	}
	xdraw.CatmullRom.Scale(out, out.Rect, src, src.Rect, draw.Src, nil)
	return out, true
}

// shrinkGray reduces src by the factor k, each pixel the mean of a k×k
// block (the last ones partial).
func shrinkGray(src *image.Gray, k int) *image.Gray {
	b := src.Rect
	w, h := b.Dx(), b.Dy()
	dst := image.NewGray(image.Rect(0, 0, (w+k-1)/k, (h+k-1)/k))
	sum := make([]int, dst.Rect.Dx())
	for Y := range dst.Rect.Dy() {
		clear(sum)
		rows := min(k, h-Y*k)
		for y := range rows {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+Y*k+y):]
			for x := range w {
				sum[x/k] += int(row[x])
			}
		}
		for X := range dst.Rect.Dx() {
			n := min(k, w-X*k) * rows
			dst.Pix[Y*dst.Stride+X] = uint8((sum[X] + n/2) / n)
		}
	}
	return dst
}

// checkFile refuses a file name that is not a path inside the pack.
func checkFile(file string) error {
	if file == "" || file == "." || !fs.ValidPath(file) {
		return fmt.Errorf("%w: %q", ErrBadFile, file)
	}
	return nil
}

// Set replaces the entry for file (spec.File must equal file). Settings
// that would not load (the loader's own checks) are refused with an
// *InvalidError and that Problem, and nothing is written; else it returns
// the whole pack's problems after saving.
func (m *MakerPack) Set(file string, spec ImageSpec) ([]Problem, error) {
	if err := checkFile(file); err != nil {
		return nil, err
	}
	if spec.File != file {
		return nil, fmt.Errorf("comic: maker pack: the settings are for %q, not %q", spec.File, file)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	man, exists, err := m.readManifest()
	if err != nil {
		return nil, err
	}
	i := entry(man, file)
	if !exists || i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoDrawing, file)
	}
	p, _, err := m.load(man)
	if err != nil {
		return nil, err
	}
	if prob := labels(spec); prob != nil {
		return []Problem{*prob}, &InvalidError{*prob}
	}
	if _, prob := m.loadImage(os.DirFS(m.dir), spec, p.Cell, p.fit()); prob != nil {
		return []Problem{*prob}, &InvalidError{*prob}
	}
	man.Images[i] = spec
	if err := m.writeManifest(man); err != nil {
		return nil, err
	}
	m.version.Add(1)
	_, probs, _ := m.load(man)
	return probs, nil
}

// labels bounds what is typed in the editor.
func labels(s ImageSpec) *Problem {
	for _, f := range []struct{ name, v string }{{"theme", s.Theme}, {"character", s.Character}} {
		if len(f.v) > maxLabel {
			return &Problem{File: s.File, Field: f.name, Err: fmt.Errorf("%d characters, at most %d", len(f.v), maxLabel)}
		}
	}
	return nil
}

func entry(man Manifest, file string) int {
	for i, is := range man.Images {
		if is.File == file {
			return i
		}
	}
	return -1
}

// Remove removes the entry and its file. Only drawings Add made
// (drawings/*.png) are removed: the manifest first, then the file, so no
// entry ever names a missing file.
func (m *MakerPack) Remove(file string) error {
	if err := checkFile(file); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	man, exists, err := m.readManifest()
	if err != nil {
		return err
	}
	i := entry(man, file)
	if !exists || i < 0 {
		return fmt.Errorf("%w: %s", ErrNoDrawing, file)
	}
	if !drawingName.MatchString(file) {
		return fmt.Errorf("%w (%s)", ErrNotRemovable, file)
	}
	man.Images = append(man.Images[:i], man.Images[i+1:]...)
	if err := m.writeManifest(man); err != nil {
		return err
	}
	m.version.Add(1)
	delete(m.images, file)
	root, err := m.root()
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("comic: maker pack: the entry is gone, its file stays: %w", err)
	}
	d, err := root.Open(drawingsDir)
	if err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Check is LoadPackOn(dir, base): the pack as the scene and comic check
// load it, with the base and unchanged drawings kept from the last time.
func (m *MakerPack) Check() (*Pack, []Problem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.check()
}

// check is Check; m.mu held.
func (m *MakerPack) check() (*Pack, []Problem, error) {
	man, err := readManifest(os.DirFS(m.dir))
	if err != nil {
		return nil, nil, err
	}
	p, probs, err := m.load(man)
	m.checks.save()
	if err != nil {
		return nil, probs, err
	}
	if err := p.usable(); err != nil {
		return nil, probs, err
	}
	return p, probs, nil
}

// load builds the pack man describes, on the cached base, as LoadPackOn
// does but without refusing one with no grid or drawing; m.mu held.
func (m *MakerPack) load(man Manifest) (*Pack, []Problem, error) {
	if err := checkManifest(&man); err != nil {
		return nil, nil, err
	}
	var base *Pack
	var probs []Problem
	if man.Base != "" {
		if m.base == nil {
			return nil, nil, errNoBase(man.Base)
		}
		if m.basePack == nil {
			bp, bprobs, err := LoadBuiltinPack(m.base)
			if err != nil {
				return nil, nil, fmt.Errorf("comic: pack: base %s: %w", man.Base, err)
			}
			m.basePack, m.baseProbs = bp, bprobs
		}
		base, probs = m.basePack, baseProblems(man.Base, m.baseProbs)
	}
	p, own, err := build(os.DirFS(m.dir), man, base, true, m.loadImage)
	return p, append(probs, own...), err
}

// loadImage is loadImage, from the cache when neither the settings nor the
// file changed; m.mu held.
func (m *MakerPack) loadImage(fsys fs.FS, s ImageSpec, cell int, fit image.Point) (*Image, *Problem) {
	key, _ := json.Marshal(s)
	st, err := fs.Stat(fsys, s.File)
	if err != nil || s.File == "" {
		return loadImage(fsys, s, cell, fit) // its problem, not cached
	}
	c, ok := m.images[s.File]
	if ok && bytes.Equal(c.spec, key) && c.cell == cell && c.fit == fit && c.size == st.Size() && c.mtime.Equal(st.ModTime()) {
		return c.im, c.prob
	}
	im, prob := m.checks.loadImage(fsys, s, cell, fit)
	m.images[s.File] = cachedImage{spec: key, cell: cell, fit: fit, size: st.Size(), mtime: st.ModTime(), im: im, prob: prob}
	return im, prob
}

// Drawing is an entry of the manifest, the size of its file in pixels (0×0
// when it cannot be read: Check says why), and whether Remove takes it.
type Drawing struct {
	ImageSpec
	Width, Height int
	Removable     bool
}

// Drawings lists the manifest's entries in its order (none without one).
func (m *MakerPack) Drawings() ([]Drawing, error) {
	m.mu.Lock()
	man, _, err := m.readManifest()
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	fsys := os.DirFS(m.dir)
	out := make([]Drawing, len(man.Images))
	for i, is := range man.Images {
		out[i].ImageSpec = is
		out[i].Removable = drawingName.MatchString(is.File)
		if checkFile(is.File) != nil {
			continue
		}
		if _, in, closeFile, err := openImage(fsys, is.File, true); err == nil {
			closeFile()
			out[i].Width, out[i].Height = in.Width, in.Height
		}
	}
	return out, nil
}

// Open opens a file the manifest lists, to show it.
func (m *MakerPack) Open(file string) (fs.File, error) {
	if err := checkFile(file); err != nil {
		return nil, err
	}
	m.mu.Lock()
	man, _, err := m.readManifest()
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if entry(man, file) < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoDrawing, file)
	}
	f, err := os.DirFS(m.dir).Open(file)
	if err != nil {
		return nil, fmt.Errorf("comic: maker pack: %w", err)
	}
	return f, nil
}

// Preview is a strip composed from the pack with spec in place of its
// entry (unsaved edits), in spec's theme, showing that drawing in at least
// one panel. Settings that would not load give an *InvalidError; a drawing
// no panel can hold, ErrNoPanel.
func (m *MakerPack) Preview(spec ImageSpec, seed uint64) (*Strip, error) {
	if err := checkFile(spec.File); err != nil {
		return nil, err
	}
	m.mu.Lock()
	man, exists, err := m.readManifest()
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	if !exists || entry(man, spec.File) < 0 {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNoDrawing, spec.File)
	}
	p, _, err := m.load(man)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	prob := labels(spec)
	var im *Image
	if prob == nil {
		im, prob = m.loadImage(os.DirFS(m.dir), spec, p.Cell, p.fit())
	}
	m.mu.Unlock()
	if prob != nil {
		return nil, &InvalidError{*prob}
	}
	// The other drawings as loaded, this one as edited (also when its
	// saved settings do not load).
	own := os.DirFS(m.dir)
	images := []*Image{im}
	for _, other := range p.Images {
		if other.File != spec.File || other.fsys != own {
			images = append(images, other)
		}
	}
	pp := &Pack{Name: p.Name, Cell: p.Cell, Grids: p.Grids, Images: images}
	return pp.composeShowing(seed, spec.Theme, im)
}

// Render draws a strip of this pack (a Preview) width pixels wide, without
// a footer. The frames it scales are kept for the next preview.
func (m *MakerPack) Render(s *Strip, width int) *image.RGBA {
	m.mu.Lock()
	if m.renderer == nil || m.renderer.Cell != s.Cell {
		m.renderer = &Pack{Cell: s.Cell, cache: scaledCache{m: map[cacheKey]*cached{}}}
	}
	r := m.renderer
	m.mu.Unlock()
	return r.Render(s, width, "", "")
}
