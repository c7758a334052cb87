package comic

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// CheckCache remembers what checking a maker's drawings found (the file's
// size, the factor it is shown reduced by, the drawing's bounds), by the
// SHA-256 of each file, in a small JSON file: a start, or a reload after an
// edit, decodes only the drawings added or changed since they were last
// checked. An entry is used only for a file with its hash whose header
// still gives its size; a cache that does not read is ignored and written
// again, entries no drawing uses any more are dropped. Safe for concurrent
// use; a nil *CheckCache remembers nothing.
type CheckCache struct {
	file string

	mu      sync.Mutex
	loaded  bool
	entries map[checkKey]drawn
	used    map[checkKey]bool // by the loads of this run: what is saved
	dirty   bool
	err     error // the last save's
}

type checkKey struct {
	sum    string // hex SHA-256 of the file
	reduce int
}

// The file's format; another version is ignored (checked again).
const (
	checkCacheFormat  = "tinkerbox-comic-check-cache"
	checkCacheVersion = 1
	maxCheckCache     = 4 << 20
)

type checkCacheFile struct {
	Format   string            `json:"format"`
	Version  int               `json:"version"`
	Drawings []checkCacheEntry `json:"drawings"`
}

type checkCacheEntry struct {
	SHA256 string `json:"sha256"`
	Size   [2]int `json:"size"`
	Reduce int    `json:"reduce"`
	Box    [4]int `json:"box"`
}

// OpenCheckCache is the cache kept in file (read when first used; its
// directory is made when it is first written).
func OpenCheckCache(file string) *CheckCache {
	return &CheckCache{file: file}
}

// Err is why the cache could not be written the last time (nil: it was, or
// it had nothing new). The drawings are then checked again next time.
func (c *CheckCache) Err() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// load reads the file once; c.mu held.
func (c *CheckCache) load() {
	if c.loaded {
		return
	}
	c.loaded = true
	c.entries, c.used = map[checkKey]drawn{}, map[checkKey]bool{}
	raw, err := readLimited(os.DirFS(filepath.Dir(c.file)), filepath.Base(c.file), maxCheckCache)
	if err != nil {
		c.dirty = !errors.Is(err, fs.ErrNotExist) // a broken one is replaced
		return
	}
	var f checkCacheFile
	if json.Unmarshal(raw, &f) != nil || f.Format != checkCacheFormat || f.Version != checkCacheVersion {
		c.dirty = true
		return
	}
	for _, e := range f.Drawings {
		d := drawn{Width: e.Size[0], Height: e.Size[1], Reduce: e.Reduce, Box: image.Rect(e.Box[0], e.Box[1], e.Box[2], e.Box[3])}
		// Never trusted blindly: an entry that no check could have made
		// is left out (and the file rewritten without it).
		reduced := image.Rect(0, 0, (d.Width+max(d.Reduce, 1)-1)/max(d.Reduce, 1), (d.Height+max(d.Reduce, 1)-1)/max(d.Reduce, 1))
		if len(e.SHA256) != 2*sha256.Size || d.Width <= 0 || d.Height <= 0 || d.Reduce < 1 ||
			!d.Box.Empty() && !d.Box.In(reduced) || d.Box != d.Box.Canon() {
			c.dirty = true
			continue
		}
		c.entries[checkKey{e.SHA256, e.Reduce}] = d
	}
}

// loadImage is loadImage, from the cache when the file was checked before.
func (c *CheckCache) loadImage(fsys fs.FS, s ImageSpec, cell int, fit image.Point) (*Image, *Problem) {
	if c == nil {
		return loadImage(fsys, s, cell, fit)
	}
	s, prob := checkSpec(s)
	if prob != nil {
		return nil, prob
	}
	in, err := imageHeader(fsys, s.File)
	if err != nil {
		return loadImage(fsys, s, cell, fit) // its problem, as the check says it
	}
	sum, err := fileHashes(fsys, s.File)
	if err != nil {
		return loadImage(fsys, s, cell, fit)
	}
	key := checkKey{sum, reduction(in.Width, in.Height, fit)}
	c.mu.Lock()
	c.load()
	d, ok := c.entries[key]
	if ok && (d.Width != in.Width || d.Height != in.Height) {
		ok = false // not what this file's header says: checked again
	}
	if ok {
		c.used[key] = true
	}
	c.mu.Unlock()
	if !ok {
		if d, prob = checkDrawing(fsys, s, fit); prob != nil {
			return nil, prob
		}
		c.mu.Lock()
		c.entries[key], c.used[key], c.dirty = d, true, true
		c.mu.Unlock()
	}
	return imageFrom(fsys, s, d, cell)
}

// save writes the cache if a load added to it, or if it holds entries no
// load of this run used (drawings removed or changed: they are dropped).
// A run's first load sees every drawing of the pack, later ones the
// drawings changed since. A file that cannot be written is reported by Err
// and costs only speed.
func (c *CheckCache) save() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		return
	}
	if !c.dirty && len(c.used) == len(c.entries) {
		return
	}
	f := checkCacheFile{Format: checkCacheFormat, Version: checkCacheVersion, Drawings: []checkCacheEntry{}}
	for k := range c.used {
		d := c.entries[k]
		f.Drawings = append(f.Drawings, checkCacheEntry{SHA256: k.sum, Size: [2]int{d.Width, d.Height}, Reduce: d.Reduce,
			Box: [4]int{d.Box.Min.X, d.Box.Min.Y, d.Box.Max.X, d.Box.Max.Y}})
	}
	slices.SortFunc(f.Drawings, func(a, b checkCacheEntry) int {
		return cmp.Or(cmp.Compare(a.SHA256, b.SHA256), cmp.Compare(a.Reduce, b.Reduce))
	})
	c.err = writeCheckCache(c.file, f)
	if c.err == nil {
		for k := range c.entries {
			if !c.used[k] {
				delete(c.entries, k)
			}
		}
		c.dirty = false
	}
}

// writeCheckCache replaces file atomically: a power cut leaves the old
// cache or the new one (and a torn one would only be checked again).
func writeCheckCache(file string, f checkCacheFile) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("comic: check cache: %w", err)
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("comic: check cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("comic: check cache: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("comic: check cache: %w", err)
	}
	return nil
}

// CheckCacheFile is where the appliance keeps the check cache of the pack
// in dir, under its data dir's cache folder: one file a pack directory.
func CheckCacheFile(cacheDir, packDir string) string {
	abs, err := filepath.Abs(packDir)
	if err != nil {
		abs = packDir
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(cacheDir, "pack-"+hex.EncodeToString(sum[:8])+".json")
}
