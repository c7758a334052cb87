package comic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"tinkerbox/images/imgdecode"
)

// A pack built into the firmware is checked when it is built, not at every
// start (on a Pi Zero, decoding every drawing to find its bounds took most
// of the start-up's CPU): Precompute writes what LoadPack's check finds
// into CheckedFile, and the box-averaged reductions a print is drawn from
// into ReducedDir. LoadBuiltinPack reads them instead of decoding. A test
// recomputes both from the pack, so they cannot go stale unnoticed.
const (
	CheckedFile = "checked.json"
	ReducedDir  = "reduced"
	// checkedFormat names the file; checkedVersion changes with what the
	// check finds or how reductions are made: a file of another version
	// is ignored, as if there were none.
	checkedFormat  = "tinkerbox-comic-checked"
	checkedVersion = 1
)

// checked is CheckedFile: the check of every frame and drawing, by file.
type checked struct {
	Format  string                `json:"format"`
	Version int                   `json:"version"`
	Cell    int                   `json:"cell"` // Pad and the reductions of outlines follow it
	Frames  map[string]frameEntry `json:"frames"`
	Images  map[string]imageEntry `json:"images"`
}

type frameEntry struct {
	Mask   string           `json:"mask,omitempty"`
	Size   [2]int           `json:"size"`
	SHA256 string           `json:"sha256"` // of the frame's file, then its mask's
	Levels map[string][]int `json:"levels"` // by part
}

type imageEntry struct {
	SHA256 string           `json:"sha256"`
	Size   [2]int           `json:"size"`   // the file's pixels
	Reduce int              `json:"reduce"` // for the pack's largest panel
	Box    [4]int           `json:"box"`    // the drawing in the reduced file
	Levels map[string][]int `json:"levels"` // by part
	// Clean says the check changes nothing in the file (no white to make
	// transparent, nothing to trim): a print draws it as decoded.
	Clean bool `json:"clean,omitempty"`
}

// readChecked reads fsys's CheckedFile for the pack m; none, a broken one
// or one of another version or cell is an empty check (everything is
// checked from the files).
func readChecked(fsys fs.FS, m Manifest) *checked {
	c := &checked{}
	raw, err := readLimited(fsys, CheckedFile, maxManifest)
	if err != nil {
		return c
	}
	var f checked
	if json.Unmarshal(raw, &f) != nil || f.Format != checkedFormat || f.Version != checkedVersion || f.Cell != m.Cell {
		return c
	}
	return &f
}

// loader checks frames and drawings from c where it has them, from the
// files (headers for frames) where not.
func (c *checked) loader() loader {
	return loader{image: c.image, frame: c.frame}
}

func (c *checked) frame(fsys fs.FS, b BorderSpec, want image.Point) (partLevels, *Problem) {
	if e, ok := c.Frames[b.Border]; ok && e.Mask == b.Mask && e.Size == [2]int{want.X, want.Y} {
		return levelsOf(e.Levels), nil
	}
	_, _, prob := frameSizes(fsys, b.Border, b.Mask, want)
	return partLevels{}, prob
}

func (c *checked) image(fsys fs.FS, s ImageSpec, cell int, fit image.Point) (*Image, *Problem) {
	e, ok := c.Images[s.File]
	if !ok || reduction(e.Size[0], e.Size[1], fit) != e.Reduce {
		return loadImage(fsys, s, cell, fit)
	}
	s, prob := checkSpec(s)
	if prob != nil {
		return nil, prob
	}
	d := drawn{Width: e.Size[0], Height: e.Size[1], Reduce: e.Reduce, Box: image.Rect(e.Box[0], e.Box[1], e.Box[2], e.Box[3])}
	im, prob := imageFrom(fsys, s, d, cell)
	if im != nil {
		im.levels = levelsOf(e.Levels)
		im.clean = e.Clean && e.Reduce == 1
	}
	return im, prob
}

// partLevels says which reductions a pack has of an asset's parts: bit l
// of [part] for level l.
type partLevels [3]uint8

func levelsOf(byPart map[string][]int) partLevels {
	var out partLevels
	for part, name := range partNames {
		for _, l := range byPart[name] {
			if l >= 1 && l <= maxLevel {
				out[part] |= 1 << l
			}
		}
	}
	return out
}

var partNames = [...]string{partArt: "art", partMask: "mask", partOutline: "outline"}

// levelsMade are the reductions Precompute makes of an asset's part. 1 is
// the master with the check's work done (white made transparent, a frame's
// ink and mask as planes, an outline grown): a frame's planes are a quarter
// of its master's bytes to decode, with nothing to work out. A drawing's
// art at 1 would be its master again, trimmed: it is not kept.
func levelsMade(part int) []int {
	out := []int{1}
	if part == partArt {
		out = nil
	}
	for l := 2; l <= maxLevel; l *= 2 {
		out = append(out, l)
	}
	return out
}

// hasLevel reports whether the pack has a build-time reduction of part of
// src.
func hasLevel(src any, part, level int) bool {
	var ls partLevels
	switch a := src.(type) {
	case *Image:
		ls = a.levels
	case *Border:
		ls = a.levels
	}
	return ls[part]&(1<<level) != 0
}

// levelFile is the file of part of the asset file reduced by level.
func levelFile(file string, part, level int) string {
	name := partNames[part]
	return path.Join(ReducedDir, strconv.Itoa(level), strings.TrimSuffix(file, path.Ext(file))+"."+name+".png")
}

// readLevel reads part of src reduced by level: an ink plane, mask or
// outline (a grey PNG: an *image.Alpha) or art (premultiplied RGBA).
func readLevel(src any, part, level int) (image.Image, error) {
	var fsys fs.FS
	var file string
	switch a := src.(type) {
	case *Image:
		fsys, file = a.fsys, a.File
	case *Border:
		fsys, file = a.fsys, a.File
	default:
		return nil, errors.New("comic: not an asset")
	}
	size := partSize(src, part)
	want := image.Pt((size.X+level-1)/level, (size.Y+level-1)/level)
	name := levelFile(file, part, level)
	img, err := readPNG(fsys, name, func(in imgdecode.Info) error {
		if in.Width != want.X || in.Height != want.Y {
			return fmt.Errorf("is %dx%d, want %v", in.Width, in.Height, want)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("comic: %s: %w", name, err)
	}
	switch m := img.(type) {
	case *image.Gray:
		return &image.Alpha{Pix: m.Pix, Stride: m.Stride, Rect: image.Rectangle{Max: want}}, nil
	case *image.NRGBA:
		return premultiplied(m), nil
	case *image.RGBA: // opaque: premultiplied already
		return m, nil
	}
	return nil, fmt.Errorf("comic: %s: a %T", name, img)
}

// Precompute checks the pack in fsys as LoadPack does and writes what it
// found (CheckedFile) and the reductions prints are drawn from (ReducedDir)
// into dir, replacing any there: go generate runs it on the built-in pack.
// The pack must load without a problem.
func Precompute(fsys fs.FS, dir string) error {
	checkFile, levels, err := precompute(fsys)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, ReducedDir)); err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(levels))
	for _, name := range names {
		var b bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, levels[name]); err != nil {
			return err
		}
		f := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, CheckedFile), checkFile, 0o644)
}

// precompute is Precompute's work: CheckedFile's contents, and each
// reduction by its file name, as it is stored (see levelImage).
func precompute(fsys fs.FS) ([]byte, map[string]image.Image, error) {
	m, err := readManifest(fsys)
	if err != nil {
		return nil, nil, err
	}
	p, probs, err := LoadPack(fsys)
	if err != nil {
		return nil, nil, err
	}
	if len(probs) > 0 {
		return nil, nil, fmt.Errorf("comic: precompute: the pack has problems: %v", probs)
	}
	c := checked{Format: checkedFormat, Version: checkedVersion, Cell: m.Cell, Frames: map[string]frameEntry{}, Images: map[string]imageEntry{}}
	out := map[string]image.Image{}
	// reductions makes src's parts at their levels, and says which.
	reductions := func(src any, file string, parts [2]int, frame bool) (map[string][]int, error) {
		px, ok := decoded{}.get(src)
		if !ok {
			return nil, fmt.Errorf("comic: precompute: %s does not decode", file)
		}
		if !frame {
			px[1] = decoded{}.outline(src.(*Image), px[0])
		}
		made := map[string][]int{}
		for i, part := range parts {
			ls := levelsMade(part)
			if frame {
				ls = levelsMade(partMask) // a frame's ink is a plane too
			}
			for _, l := range ls {
				out[levelFile(file, part, l)] = levelImage(shrinkPart(px[i], l))
			}
			made[partNames[part]] = ls
		}
		return made, nil
	}
	for _, g := range p.Grids {
		for _, bs := range g.borders {
			for _, b := range bs {
				if _, done := c.Frames[b.File]; done {
					continue
				}
				sum, err := fileHashes(fsys, b.File, b.maskFile)
				if err != nil {
					return nil, nil, err
				}
				made, err := reductions(b, b.File, [2]int{partArt, partMask}, true)
				if err != nil {
					return nil, nil, err
				}
				c.Frames[b.File] = frameEntry{Mask: b.maskFile, Size: [2]int{b.size.X, b.size.Y}, SHA256: sum, Levels: made}
			}
		}
	}
	for _, im := range p.Images {
		sum, err := fileHashes(fsys, im.File)
		if err != nil {
			return nil, nil, err
		}
		in, err := imageHeader(fsys, im.File)
		if err != nil {
			return nil, nil, err
		}
		made, err := reductions(im, im.File, [2]int{partArt, partOutline}, false)
		if err != nil {
			return nil, nil, err
		}
		clean, err := isClean(im)
		if err != nil {
			return nil, nil, err
		}
		c.Images[im.File] = imageEntry{SHA256: sum, Size: [2]int{in.Width, in.Height}, Reduce: im.reduce,
			Box: [4]int{im.box.Min.X, im.box.Min.Y, im.box.Max.X, im.box.Max.Y}, Levels: made, Clean: clean}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return append(b, '\n'), out, nil
}

// levelImage is a reduction as it is stored, losslessly: a plane as grey,
// art as the NRGBA it is (read back, it is premultiplied as the master
// path does).
func levelImage(img image.Image) image.Image {
	if m, ok := img.(*image.Alpha); ok {
		return &image.Gray{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	return img
}

// fileHashes is the hex SHA-256 of the files' contents, one after the
// other ("" names are skipped).
func fileHashes(fsys fs.FS, names ...string) (string, error) {
	h := sha256.New()
	for _, n := range slices.DeleteFunc(names, func(s string) bool { return s == "" }) {
		f, err := fsys.Open(n)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isClean reports whether the check leaves im's file as it is: the art
// the loader makes of it is the file decoded.
func isClean(im *Image) (bool, error) {
	art, err := im.art()
	if err != nil {
		return false, err
	}
	src, err := readPNG(im.fsys, im.File, func(imgdecode.Info) error { return nil })
	if err != nil {
		return false, err
	}
	file := toNRGBA(src)
	return im.reduce == 1 && file.Rect == art.Rect && bytes.Equal(file.Pix, art.Pix), nil
}
