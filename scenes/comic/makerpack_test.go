package comic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	art "tinkerbox/images/comic"
)

var makerNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func makerClock() time.Time { return makerNow }

// doodle is a drawing as the sheet clean-up gives it: black ink (a ring
// and a stroke, varied by n) on a white page larger than the ink.
func doodle(w, h, n int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	cx, cy, r := w/2, h/2, min(w, h)/3
	t := max(3, min(w, h)/40)
	for y := range h {
		for x := range w {
			dx, dy := x-cx, y-cy
			d := dx*dx + dy*dy
			if d <= r*r && d >= (r-t)*(r-t) {
				m.Pix[y*m.Stride+x] = 0
			}
			// A stroke from the ring down to the right, its angle set by n.
			if x > cx && y > cy && abs((y-cy)*(n+1)-(x-cx)) < t {
				m.Pix[y*m.Stride+x] = 0
			}
		}
	}
	return m
}

func newMaker(t *testing.T) *MakerPack {
	t.Helper()
	return OpenMakerPack(filepath.Join(t.TempDir(), "comic-pack"), art.Pack(), makerClock)
}

func readJSONManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLoadPackOn: a manifest drawn on "builtin" gets the base's grids and
// drawings, "builtin-grids" its grids only, its own grids are added; LoadPack
// says which base is missing; a cell that differs from the base's and an
// unknown base are refused; problems name the maker's files.
func TestLoadPackOn(t *testing.T) {
	base := defaultPack(t)
	drawing := pngBytes(t, doodle(300, 300, 1))
	own := GridSpec{ID: "mine", Cols: 2, Rows: 1, Gutter: 10, Margin: 10, Borders: []BorderSpec{
		{W: 1, H: 1, Border: "f11.png"}, {W: 2, H: 1, Border: "f21.png"},
	}}
	mk := func(m Manifest) fstest.MapFS {
		return testFS(t, m, map[string][]byte{
			"a.png": drawing, "bad.png": []byte("not a png"),
			"f11.png": pngBytes(t, frame(470, 470)), "f21.png": pngBytes(t, frame(950, 470)),
		})
	}
	a := ImageSpec{File: "a.png", Theme: "mine", Role: Action}
	bad := ImageSpec{File: "bad.png", Theme: "mine", Role: Action}

	p, probs, err := LoadPackOn(mk(Manifest{Name: "m", Cell: 480, Base: BaseBuiltin, Images: []ImageSpec{a, bad}}), art.Pack())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Grids) != len(base.Grids) || len(p.Images) != len(base.Images)+1 || p.Name != "m" {
		t.Errorf("builtin: %d grids, %d images, name %q; want %d, %d, m", len(p.Grids), len(p.Images), p.Name, len(base.Grids), len(base.Images)+1)
	}
	if len(probs) != 1 || probs[0].File != "bad.png" || probs[0].Field != "file" {
		t.Errorf("builtin: problems %v, want one for bad.png", probs)
	}
	if !slices.Contains(p.Themes(), "mine") || !slices.Contains(p.Themes(), base.Themes()[0]) {
		t.Errorf("themes %v", p.Themes())
	}

	p, _, err = LoadPackOn(mk(Manifest{Cell: 480, Base: BaseBuiltinGrids, Grids: []GridSpec{own}, Images: []ImageSpec{a}}), art.Pack())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Grids) != len(base.Grids)+1 || p.Grids[len(p.Grids)-1].ID != "mine" || len(p.Images) != 1 || p.Themes()[0] != "mine" {
		t.Errorf("builtin-grids: %d grids (last %s), %d images %v", len(p.Grids), p.Grids[len(p.Grids)-1].ID, len(p.Images), p.Themes())
	}
	for i := range 20 {
		s, err := p.Compose(uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		for _, pn := range s.Panels {
			if pn.Image != nil && pn.Image.File != "a.png" {
				t.Fatalf("builtin-grids strip %d shows %s", i, pn.Image.File)
			}
		}
	}

	// Self-contained: the base is not read.
	p, _, err = LoadPackOn(mk(Manifest{Cell: 480, Grids: []GridSpec{own}, Images: []ImageSpec{a}}), nil)
	if err != nil || len(p.Grids) != 1 {
		t.Fatalf("self-contained: %v", err)
	}

	for name, c := range map[string]struct {
		m    Manifest
		base fs.FS
		load func(fs.FS, fs.FS) (*Pack, []Problem, error)
		want string
	}{
		"LoadPack":   {Manifest{Cell: 480, Base: BaseBuiltin, Images: []ImageSpec{a}}, nil, func(f, _ fs.FS) (*Pack, []Problem, error) { return LoadPack(f) }, `drawn on the "builtin" pack, which is missing`},
		"no base":    {Manifest{Cell: 480, Base: BaseBuiltinGrids, Images: []ImageSpec{a}}, nil, LoadPackOn, `"builtin-grids" pack, which is missing`},
		"cell":       {Manifest{Cell: 500, Base: BaseBuiltin, Images: []ImageSpec{a}}, art.Pack(), LoadPackOn, `cell: 500 pixels, but the "builtin" pack it is drawn on has 480`},
		"cell 0":     {Manifest{Base: BaseBuiltin, Images: []ImageSpec{a}}, art.Pack(), LoadPackOn, ""},
		"bad base":   {Manifest{Cell: 480, Base: "mine", Images: []ImageSpec{a}}, art.Pack(), LoadPackOn, `base: "mine" is not "builtin" or "builtin-grids"`},
		"no drawing": {Manifest{Cell: 480, Base: BaseBuiltinGrids, Images: []ImageSpec{bad}}, art.Pack(), LoadPackOn, "no usable image"},
	} {
		_, _, err := c.load(mk(c.m), c.base)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// An unknown field is still refused.
	fsys := mk(Manifest{})
	fsys[ManifestFile] = &fstest.MapFile{Data: []byte(`{"name":"x","cell":480,"base":"builtin","bass":"builtin","grids":[],"images":[]}`)}
	if _, _, err := LoadPackOn(fsys, art.Pack()); err == nil || !strings.Contains(err.Error(), "bass") {
		t.Errorf("unknown field: %v", err)
	}
}

// TestMakerPackDefault: without a manifest the pack is a new one on the
// built-in pack; Check says there is nothing yet, Drawings is empty.
func TestMakerPackDefault(t *testing.T) {
	m := newMaker(t)
	man, err := m.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Manifest{Name: "my drawings", Cell: 480, Base: BaseBuiltin}); !reflect.DeepEqual(man, want) {
		t.Errorf("default manifest %+v, want %+v", man, want)
	}
	if _, _, err := m.Check(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check without a manifest: %v", err)
	}
	if d, err := m.Drawings(); err != nil || len(d) != 0 {
		t.Errorf("Drawings: %v %v", d, err)
	}
	if _, err := os.Stat(m.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the folder was made before the first drawing: %v", err)
	}
	if st := OpenMakerPack(t.TempDir(), nil, nil); st.defaultManifest().Base != "" {
		t.Error("a pack without a base defaults to the builtin one")
	}
}

// TestMakerPackAdd: drawings are written grey, black on white, cropped and
// reduced to a 1×1 pose, with default metadata; the pack checks clean and
// composes strips that show them.
func TestMakerPackAdd(t *testing.T) {
	m := newMaker(t)
	rgba := image.NewNRGBA(image.Rect(0, 0, 200, 120)) // transparent, with a red blob
	for y := 40; y < 80; y++ {
		for x := 50; x < 150; x++ {
			rgba.Set(x, y, color.NRGBA{200, 0, 0, 255})
		}
	}
	specs, err := m.Add([]image.Image{doodle(1600, 1200, 1), doodle(300, 500, 2), rgba})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"drawings/20260314-150926-1.png", "drawings/20260314-150926-2.png", "drawings/20260314-150926-3.png"}
	for i, s := range specs {
		def := ImageSpec{File: want[i], Theme: "mine", Role: Action, Anchor: EdgeBottom, Flip: true, MinW: 1, MinH: 1, Weight: 1}
		if !reflect.DeepEqual(s, def) {
			t.Errorf("entry %d = %+v, want %+v", i, s, def)
		}
	}
	man := readJSONManifest(t, m.Dir())
	if man.Name != "my drawings" || man.Cell != 480 || man.Base != BaseBuiltin || !reflect.DeepEqual(man.Images, specs) {
		t.Errorf("manifest on disk: %+v", man)
	}
	for _, f := range want {
		b, err := os.ReadFile(filepath.Join(m.Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		g, ok := img.(*image.Gray)
		if !ok {
			t.Fatalf("%s is %T, want grey", f, img)
		}
		sz := g.Rect.Size()
		if max(sz.X, sz.Y) > 380 || g.GrayAt(0, 0).Y != 255 {
			t.Errorf("%s: %v, corner %v; want at most 380 px, white around", f, sz, g.GrayAt(0, 0))
		}
		dark := 0
		for _, v := range g.Pix {
			if v < 64 {
				dark++
			}
		}
		if dark == 0 {
			t.Errorf("%s has no black ink", f)
		}
	}
	// The big one is cropped to its ink (a 800 px ring) and reduced to 380.
	if d, err := m.Drawings(); err != nil || len(d) != 3 || max(d[0].Width, d[0].Height) != 380 || d[0].Width < 370 {
		t.Errorf("Drawings: %+v %v", d, err)
	}
	p, probs, err := m.Check()
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	base := defaultPack(t)
	if len(p.Images) != len(base.Images)+3 || len(p.Grids) != len(base.Grids) {
		t.Errorf("%d images, %d grids", len(p.Images), len(p.Grids))
	}
	// As the scene and comic check load it.
	q, probs, err := LoadPackOn(os.DirFS(m.Dir()), art.Pack())
	if err != nil || len(probs) > 0 || len(q.Images) != len(p.Images) {
		t.Fatal(err, probs)
	}
	shown, mine := 0, 0
	for seed := range uint64(80) {
		s, err := q.Compose(seed)
		if err != nil {
			t.Fatal(err)
		}
		if s.Theme == "mine" {
			mine++
		}
		for _, pn := range s.Panels {
			if pn.Image != nil && strings.HasPrefix(pn.Image.File, "drawings/") {
				shown++
				break
			}
		}
	}
	t.Logf("of 80 strips, %d in the maker's theme, %d show the maker's drawings", mine, shown)
	if mine == 0 || shown < mine {
		t.Errorf("of 80 strips %d are in the maker's theme and %d show the maker's drawings", mine, shown)
	}
	blank := image.NewNRGBA(image.Rect(0, 0, 10, 10)) // transparent: white once flattened
	if _, err := m.Add([]image.Image{doodle(50, 50, 1), blank}); err == nil || !strings.Contains(err.Error(), "no ink") {
		t.Errorf("a blank drawing: %v", err)
	}
	if got := len(readJSONManifest(t, m.Dir()).Images); got != 3 {
		t.Errorf("%d entries after a refused Add", got)
	}
}

// TestMakerPackRoundTrip: every field the editor sets, through Manifest →
// edit → Set, is what LoadPack reads, and the manifest stays indented.
func TestMakerPackRoundTrip(t *testing.T) {
	m := newMaker(t)
	specs, err := m.Add([]image.Image{doodle(400, 300, 1), doodle(300, 300, 3)})
	if err != nil {
		t.Fatal(err)
	}
	v := m.Version()
	man, err := m.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	e := man.Images[0]
	if e.File != specs[0].File {
		t.Fatal(e.File)
	}
	focal := [4]int{20, 15, 200, 180}
	horizon := [2]float64{0.25, 0.75}
	e.Theme, e.Character, e.Role = "garden", "hedgehog", Reaction
	e.Focal, e.MinW, e.MinH, e.Anchor = &focal, 2, 1, EdgeLeft
	e.Horizon, e.Facing, e.Flip, e.Weight = &horizon, FacingLeft, false, 2.5
	probs, err := m.Set(e.File, e)
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if m.Version() <= v {
		t.Error("Set did not move the version")
	}
	raw, err := os.ReadFile(filepath.Join(m.Dir(), ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("\n  \"images\": [\n    {\n      \"file\": \"drawings/")) {
		t.Errorf("the manifest is not indented for people:\n%s", raw)
	}
	if got := readJSONManifest(t, m.Dir()).Images[0]; !reflect.DeepEqual(got, e) {
		t.Errorf("on disk %+v, want %+v", got, e)
	}
	if got, _ := m.Manifest(); !reflect.DeepEqual(got.Images[0], e) || !reflect.DeepEqual(got.Images[1], specs[1]) {
		t.Errorf("Manifest %+v", got.Images)
	}
	p, probs, err := LoadPackOn(os.DirFS(m.Dir()), art.Pack())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	var im *Image
	for _, x := range p.Images {
		if x.File == e.File {
			im = x
		}
	}
	if im == nil || !reflect.DeepEqual(im.ImageSpec, e) {
		t.Fatalf("loaded %+v, want %+v", im, e)
	}
	// The focal rectangle is in the file's pixels; the loader trims the
	// drawing to its ink and keeps the focal area where it was drawn.
	d, _ := m.Drawings()
	if in := image.Rect(0, 0, d[0].Width, d[0].Height); !image.Rect(20, 15, 220, 195).In(in) {
		t.Fatalf("the drawing is %v", in)
	}
	if got := im.Focal.Add(im.box.Min); got != image.Rect(20, 15, 220, 195).Intersect(im.box) {
		t.Errorf("focal loaded as %v (box %v)", got, im.box)
	}
	// Back to the defaults: fields left out are left out.
	if _, err := m.Set(e.File, specs[0]); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(filepath.Join(m.Dir(), ManifestFile)); bytes.Contains(raw, []byte("focal")) || bytes.Contains(raw, []byte("horizon")) || bytes.Contains(raw, []byte("character")) {
		t.Errorf("cleared fields stay in the manifest:\n%s", raw)
	}
}

// TestMakerPackSetRefuses: settings that would not load are refused with
// the loader's problem, and nothing is written.
func TestMakerPackSetRefuses(t *testing.T) {
	m := newMaker(t)
	specs, err := m.Add([]image.Image{doodle(300, 300, 1)})
	if err != nil {
		t.Fatal(err)
	}
	file := specs[0].File
	d, _ := m.Drawings()
	before, _ := os.ReadFile(filepath.Join(m.Dir(), ManifestFile))
	v := m.Version()
	focal := [4]int{10, 10, d[0].Width, 20} // sticks out on the right
	zero := [4]int{10, 10, 0, 20}
	horizon := [2]float64{0.8, 0.2}
	for _, c := range []struct {
		edit  func(*ImageSpec)
		field string
		msg   string
	}{
		{func(s *ImageSpec) { s.Focal = &focal }, "focal", "is not inside the"},
		{func(s *ImageSpec) { s.Focal = &zero }, "focal", "is not inside the"},
		{func(s *ImageSpec) { s.Role = "hero" }, "role", `"hero" is not establishing, action, reaction or closing`},
		{func(s *ImageSpec) { s.Theme = "" }, "theme", "missing"},
		{func(s *ImageSpec) { s.Anchor = "middle" }, "anchor", `"middle"`},
		{func(s *ImageSpec) { s.Facing = "up" }, "facing", `"up"`},
		{func(s *ImageSpec) { s.MinW = 9 }, "min_w/min_h", "out of range"},
		{func(s *ImageSpec) { s.Horizon = &horizon }, "horizon", "not a range"},
		{func(s *ImageSpec) { s.Weight = -1 }, "weight", "negative"},
		{func(s *ImageSpec) { s.Character = strings.Repeat("x", 81) }, "character", "at most 80"},
	} {
		s := specs[0]
		c.edit(&s)
		probs, err := m.Set(file, s)
		var inv *InvalidError
		if !errors.As(err, &inv) || len(probs) != 1 || probs[0] != inv.Problem || inv.Problem.Field != c.field || inv.Problem.File != file ||
			!strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "comic: pack: "+file+": "+c.field+": ") {
			t.Errorf("%s: %v %v", c.field, probs, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(m.Dir(), ManifestFile)); !bytes.Equal(before, after) || m.Version() != v {
		t.Errorf("a refused Set changed the manifest or the version:\n%s", after)
	}
	if _, err := m.Set(file, ImageSpec{File: "drawings/other.png", Theme: "x", Role: Action}); err == nil {
		t.Error("Set took settings for another file")
	}
	if _, err := m.Set("drawings/none.png", ImageSpec{File: "drawings/none.png", Theme: "x", Role: Action}); !errors.Is(err, ErrNoDrawing) {
		t.Errorf("Set of an unknown drawing: %v", err)
	}
}

// TestMakerPackConcurrentAdds: Adds at once, in the same second, lose no
// drawing and never share a file.
func TestMakerPackConcurrentAdds(t *testing.T) {
	m := newMaker(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := m.Add([]image.Image{doodle(120, 120, i), doodle(100, 140, i+1)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	man := readJSONManifest(t, m.Dir())
	files := map[string]bool{}
	for _, is := range man.Images {
		files[is.File] = true
		if _, err := os.Stat(filepath.Join(m.Dir(), is.File)); err != nil {
			t.Error(err)
		}
	}
	if len(man.Images) != 16 || len(files) != 16 || m.Version() != 8 {
		t.Errorf("%d entries, %d files, version %d; want 16, 16, 8", len(man.Images), len(files), m.Version())
	}
	on, _ := os.ReadDir(filepath.Join(m.Dir(), "drawings"))
	if len(on) != 16 {
		t.Errorf("%d files in drawings/ (temporary ones left?)", len(on))
	}
	if _, probs, err := m.Check(); err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
}

// TestMakerPackCrash: a power cut between a drawing's file and the manifest
// leaves a file nobody lists: the pack loads without a problem, and the next
// drawing does not take its name.
func TestMakerPackCrash(t *testing.T) {
	m := newMaker(t)
	if _, err := m.Add([]image.Image{doodle(200, 200, 1)}); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(m.Dir(), "drawings", "20260314-150926-2.png")
	if err := os.WriteFile(orphan, pngBytes(t, doodle(200, 200, 5)), 0o644); err != nil {
		t.Fatal(err)
	}
	// And a temporary file the cut left half written.
	if err := os.WriteFile(filepath.Join(m.Dir(), "."+ManifestFile+".tmp"), []byte(`{"name": "half`), 0o644); err != nil {
		t.Fatal(err)
	}
	p, probs, err := m.Check()
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if _, probs, err := LoadPackOn(os.DirFS(m.Dir()), art.Pack()); err != nil || len(probs) > 0 || len(p.Images) != 51 {
		t.Fatal(err, probs, len(p.Images))
	}
	specs, err := m.Add([]image.Image{doodle(200, 200, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].File != "drawings/20260314-150926-3.png" {
		t.Errorf("the new drawing is %s", specs[0].File)
	}
	if b, _ := os.ReadFile(orphan); !bytes.Equal(b, pngBytes(t, doodle(200, 200, 5))) {
		t.Error("the orphan was overwritten")
	}
	if _, err := m.Set("drawings/20260314-150926-2.png", NewDrawingSpec("drawings/20260314-150926-2.png")); !errors.Is(err, ErrNoDrawing) {
		t.Errorf("Set of the orphan: %v", err)
	}
}

// TestMakerPackRemove: the entry goes, then its file.
func TestMakerPackRemove(t *testing.T) {
	m := newMaker(t)
	specs, err := m.Add([]image.Image{doodle(200, 200, 1), doodle(200, 200, 2)})
	if err != nil {
		t.Fatal(err)
	}
	v := m.Version()
	if err := m.Remove(specs[0].File); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir(), specs[0].File)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file stays: %v", err)
	}
	if man := readJSONManifest(t, m.Dir()); len(man.Images) != 1 || man.Images[0].File != specs[1].File {
		t.Errorf("entries after Remove: %+v", man.Images)
	}
	if m.Version() <= v {
		t.Error("Remove did not move the version")
	}
	if err := m.Remove(specs[0].File); !errors.Is(err, ErrNoDrawing) {
		t.Errorf("second Remove: %v", err)
	}
	if _, probs, err := m.Check(); err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if _, err := m.Open(specs[0].File); !errors.Is(err, ErrNoDrawing) {
		t.Errorf("Open of a removed drawing: %v", err)
	}
}

// TestMakerPackPaths: file names that leave the pack are refused; entries
// of a hand-written manifest outside drawings/ may be edited, never removed;
// a drawings folder that links outside the pack is not written through.
func TestMakerPackPaths(t *testing.T) {
	m := newMaker(t)
	if _, err := m.Add([]image.Image{doodle(200, 200, 1)}); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(m.Dir()), "secret.png")
	if err := os.WriteFile(outside, pngBytes(t, doodle(100, 100, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A hand-written entry in its own folder, and one that points outside.
	if err := os.MkdirAll(filepath.Join(m.Dir(), "art"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(m.Dir(), "art", "cat.png"), pngBytes(t, doodle(200, 200, 2)), 0o644); err != nil {
		t.Fatal(err)
	}
	man := readJSONManifest(t, m.Dir())
	man.Images = append(man.Images, ImageSpec{File: "art/cat.png", Theme: "cats", Role: Action}, ImageSpec{File: "../secret.png", Theme: "x", Role: Action})
	b, _ := json.MarshalIndent(man, "", "  ")
	if err := os.WriteFile(filepath.Join(m.Dir(), ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"../secret.png", "/etc/passwd", "drawings/../../secret.png", "", ".", "drawings//x.png", `..\secret.png`} {
		spec := ImageSpec{File: f, Theme: "x", Role: Action}
		if _, err := m.Set(f, spec); !errors.Is(err, ErrBadFile) && !errors.Is(err, ErrNoDrawing) {
			t.Errorf("Set(%q): %v", f, err)
		}
		if err := m.Remove(f); !errors.Is(err, ErrBadFile) && !errors.Is(err, ErrNoDrawing) {
			t.Errorf("Remove(%q): %v", f, err)
		}
		if _, err := m.Open(f); err == nil {
			t.Errorf("Open(%q) opened it", f)
		}
		if _, err := m.Preview(spec, 1); err == nil {
			t.Errorf("Preview(%q) worked", f)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("the file outside the pack is gone: %v", err)
	}
	cat := ImageSpec{File: "art/cat.png", Theme: "cats", Role: Closing, Character: "tom"}
	if _, err := m.Set(cat.File, cat); err != nil {
		t.Errorf("Set of a hand-written entry: %v", err)
	}
	if err := m.Remove(cat.File); !errors.Is(err, ErrNotRemovable) {
		t.Errorf("Remove of a hand-written entry: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir(), "art", "cat.png")); err != nil {
		t.Error(err)
	}
	// drawings/ swapped for a link to the folder above: Remove must not
	// delete there.
	victim := filepath.Join(filepath.Dir(m.Dir()), "20260314-150926-1.png")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(m.Dir(), "drawings"), filepath.Join(m.Dir(), "old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(m.Dir(), "drawings")); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("drawings/20260314-150926-1.png"); err == nil {
		t.Error("Remove through a link out of the pack said nothing")
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("Remove deleted a file outside the pack: %v", err)
	}
}

// TestMakerPackFull: a pack holds at most the loader's maxImages drawings.
func TestMakerPackFull(t *testing.T) {
	m := newMaker(t)
	specs, err := m.Add([]image.Image{doodle(100, 100, 1)})
	if err != nil {
		t.Fatal(err)
	}
	man := readJSONManifest(t, m.Dir())
	for len(man.Images) < maxImages {
		man.Images = append(man.Images, specs[0])
	}
	b, _ := json.Marshal(man)
	if err := os.WriteFile(filepath.Join(m.Dir(), ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add([]image.Image{doodle(100, 100, 2)}); !errors.Is(err, ErrPackFull) || !strings.Contains(err.Error(), fmt.Sprint(maxImages)) {
		t.Errorf("Add to a full pack: %v", err)
	}
}

// TestMakerPackPreview: the preview is in the edited drawing's theme and
// shows it, with its unsaved settings, for any seed; settings that would
// not load and a drawing no panel can hold are errors.
func TestMakerPackPreview(t *testing.T) {
	m := newMaker(t)
	specs, err := m.Add([]image.Image{doodle(300, 300, 1), doodle(300, 300, 2)})
	if err != nil {
		t.Fatal(err)
	}
	edit := specs[1]
	edit.Theme, edit.Role, edit.Facing = "hedgehogs", Closing, FacingRight
	for seed := range uint64(30) {
		s, err := m.Preview(edit, seed)
		if err != nil {
			t.Fatal(seed, err)
		}
		if s.Theme != "hedgehogs" {
			t.Errorf("seed %d: theme %q", seed, s.Theme)
		}
		n := 0
		for _, pn := range s.Panels {
			if pn.Image != nil && pn.Image.File == edit.File {
				n++
				if pn.Image.Role != Closing || pn.Image.Theme != "hedgehogs" {
					t.Errorf("seed %d: the drawing is shown with its saved settings", seed)
				}
				if !pn.Focal.In(pn.Rect) {
					t.Errorf("seed %d: focal %v outside the panel %v", seed, pn.Focal, pn.Rect)
				}
			}
		}
		if n == 0 {
			t.Errorf("seed %d: the preview does not show %s", seed, edit.File)
		}
		if seed == 0 {
			img := m.Render(s, 900)
			if img.Rect.Dx() != 900 {
				t.Errorf("preview rendered %v", img.Rect)
			}
		}
	}
	// Nothing was saved.
	if man := readJSONManifest(t, m.Dir()); !reflect.DeepEqual(man.Images, specs) {
		t.Errorf("Preview saved: %+v", man.Images)
	}
	bad := edit
	bad.Role = "hero"
	var inv *InvalidError
	if _, err := m.Preview(bad, 1); !errors.As(err, &inv) || inv.Problem.Field != "role" {
		t.Errorf("bad role: %v", err)
	}
	big := edit
	big.MinW, big.MinH = 8, 8
	if _, err := m.Preview(big, 1); !errors.Is(err, ErrNoPanel) {
		t.Errorf("8×8 cells: %v", err)
	}
	if _, err := m.Preview(NewDrawingSpec("drawings/none.png"), 1); !errors.Is(err, ErrNoDrawing) {
		t.Errorf("unknown drawing: %v", err)
	}
}

// TestComposeShowing: a strip in a given theme, and one forced to show a
// drawing of another theme. (That Compose itself is unchanged by the split
// into compose and place, the golden strips of the other tests show.)
func TestComposeShowing(t *testing.T) {
	p := defaultPack(t)
	for seed := range uint64(20) {
		a, err := p.Compose(seed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.compose(seed, a.Theme)
		if err != nil {
			t.Fatal(err)
		}
		// A fixed theme skips the theme's draw: the rest differs, but is
		// still a strip in that theme.
		if b.Theme != a.Theme || len(b.Panels) == 0 {
			t.Errorf("seed %d: %s, %d panels", seed, b.Theme, len(b.Panels))
		}
		whale := p.Images[slices.IndexFunc(p.Images, func(im *Image) bool { return im.File == "sea/whale-swim.png" })]
		s, err := p.composeShowing(seed, "robots", whale)
		if err != nil || s.Theme != "robots" || !s.shows(whale) {
			t.Errorf("seed %d: the whale is not in the robots' strip: %v", seed, err)
		}
	}
}
