package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"tinkerbox/scenes/spycam"
)

// Spy-cam captures are plain JPEG files, named so that sorting by name sorts
// by time: <event>-<kind>-<index>.jpg, e.g. 20260314T150926.200Z-motion-0003.jpg.
// The directory is the only record: nothing to get out of step after a power
// cut, and a capture can be copied off the SD card as it is.
const captureTime = "20060102T150405.000Z"

// CaptureGroup is one capture (a motion event or a snapshot) and its files,
// in order.
type CaptureGroup struct {
	Event time.Time `json:"event"`
	Kind  string    `json:"kind"`
	Files []string  `json:"files"`
	Bytes int64     `json:"bytes"`
}

type captureFile struct {
	name string
	size int64
}

// Captures keeps spy-cam captures in a directory under a byte quota, removing
// the oldest files first, and logs the scene's events. It implements
// spycam.CaptureStore.
type Captures struct {
	store *Store
	dir   string
	quota int64
	// writeFile is os.WriteFile unless a test simulates a full disk.
	writeFile func(name string, b []byte, perm fs.FileMode) error

	mu    sync.Mutex
	files []captureFile // oldest first
	used  int64
}

// SpycamCaptures opens (creating it) the capture directory dir with a quota
// in bytes; the store gets the events.
func (s *Store) SpycamCaptures(dir string, quota int64) (*Captures, error) {
	if quota <= 0 {
		return nil, fmt.Errorf("store: spycam captures: quota %d bytes must be positive", quota)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: spycam captures: %w", err)
	}
	c := &Captures{store: s, dir: dir, quota: quota, writeFile: os.WriteFile}
	files, err := c.scan()
	if err != nil {
		return nil, err
	}
	c.files = files
	for _, f := range files {
		c.used += f.size
	}
	return c, nil
}

func (c *Captures) String() string { return "spycam captures in " + c.dir }

// scan lists the capture files, oldest first, and removes temporary files
// left by a power cut.
func (c *Captures) scan() ([]captureFile, error) {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("store: spycam captures: %w", err)
	}
	var out []captureFile
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(c.dir, name)) // best effort: half a JPEG from a power cut
			continue
		}
		if _, ok := parseCaptureName(name); !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, captureFile{name: name, size: info.Size()})
	}
	slices.SortFunc(out, func(a, b captureFile) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

type captureName struct {
	event time.Time
	kind  string
	index int
}

// parseCaptureName accepts exactly the names CaptureName makes, so a request
// for any other file (../, dot files) is refused.
func parseCaptureName(name string) (captureName, bool) {
	rest, ok := strings.CutSuffix(name, ".jpg")
	if !ok {
		return captureName{}, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 || (parts[1] != spycam.KindMotion && parts[1] != spycam.KindSnapshot) || len(parts[2]) != 4 {
		return captureName{}, false
	}
	t, err := time.Parse(captureTime, parts[0])
	if err != nil {
		return captureName{}, false
	}
	var idx int
	for _, ch := range parts[2] {
		if ch < '0' || ch > '9' {
			return captureName{}, false
		}
		idx = idx*10 + int(ch-'0')
	}
	return captureName{event: t, kind: parts[1], index: idx}, true
}

// CaptureName is the file name of a capture frame.
func CaptureName(f spycam.CaptureFrame) string {
	return fmt.Sprintf("%s-%s-%04d.jpg", f.Event.UTC().Format(captureTime), f.Kind, f.Index)
}

// SaveCapture implements spycam.CaptureStore: it writes the frame to a
// temporary file and renames it (a power cut leaves no half JPEG), first
// removing the oldest captures until it fits the quota. A frame that does not
// fit, or a full file system, is spycam.ErrDiskFull.
func (c *Captures) SaveCapture(ctx context.Context, f spycam.CaptureFrame) error {
	if f.Kind != spycam.KindMotion && f.Kind != spycam.KindSnapshot || f.Index < 0 || f.Index > 9999 {
		return fmt.Errorf("store: spycam capture: bad kind %q or index %d", f.Kind, f.Index)
	}
	size := int64(len(f.JPEG))
	if size > c.quota {
		return fmt.Errorf("store: spycam capture of %d bytes exceeds the %d-byte quota: %w", size, c.quota, spycam.ErrDiskFull)
	}
	name := CaptureName(f)
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.used+size > c.quota && len(c.files) > 0 {
		if err := c.removeOldest(); err != nil {
			return err
		}
	}
	tmp := filepath.Join(c.dir, ".tmp-"+name)
	if err := c.writeFile(tmp, f.JPEG, 0o644); err != nil {
		os.Remove(tmp)
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return fmt.Errorf("store: spycam capture %s: %w: %w", name, spycam.ErrDiskFull, err)
		}
		return fmt.Errorf("store: spycam capture %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: spycam capture %s: %w", name, err)
	}
	// A rewrite of the same name (the same event and index) replaces it.
	if i := slices.IndexFunc(c.files, func(x captureFile) bool { return x.name == name }); i >= 0 {
		c.used -= c.files[i].size
		c.files = slices.Delete(c.files, i, i+1)
	}
	i, _ := slices.BinarySearchFunc(c.files, name, func(x captureFile, n string) int { return strings.Compare(x.name, n) })
	c.files = slices.Insert(c.files, i, captureFile{name: name, size: size})
	c.used += size
	return nil
}

func (c *Captures) removeOldest() error {
	old := c.files[0]
	if err := os.Remove(filepath.Join(c.dir, old.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: spycam quota: remove %s: %w", old.name, err)
	}
	c.files = c.files[1:]
	c.used -= old.size
	return nil
}

// Used is the number of bytes the captures take.
func (c *Captures) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Quota is the byte limit.
func (c *Captures) Quota() int64 { return c.quota }

// LogEvent implements spycam.CaptureStore.
func (c *Captures) LogEvent(ctx context.Context, level, source, message string) error {
	return c.store.LogEvent(ctx, level, source, message)
}

// CaptureGroups returns up to n captures, newest first, read from the
// directory (so another Captures on the same directory sees new files).
func (c *Captures) CaptureGroups(ctx context.Context, n int) ([]CaptureGroup, error) {
	files, err := c.scan()
	if err != nil {
		return nil, err
	}
	out := []CaptureGroup{}
	for i := len(files) - 1; i >= 0 && len(out) <= n; i-- {
		cn, _ := parseCaptureName(files[i].name)
		if k := len(out) - 1; k >= 0 && out[k].Event.Equal(cn.event) && out[k].Kind == cn.kind {
			out[k].Files = append(out[k].Files, files[i].name)
			out[k].Bytes += files[i].size
			continue
		}
		out = append(out, CaptureGroup{Event: cn.event, Kind: cn.kind, Files: []string{files[i].name}, Bytes: files[i].size})
	}
	if len(out) > n {
		out = out[:n]
	}
	for i := range out {
		slices.Reverse(out[i].Files)
	}
	return out, nil
}

// OpenCapture opens a capture file by name; any name CaptureName could not
// have made is fs.ErrNotExist.
func (c *Captures) OpenCapture(name string) (*os.File, error) {
	if _, ok := parseCaptureName(name); !ok {
		return nil, fmt.Errorf("store: spycam capture %q: %w", name, fs.ErrNotExist)
	}
	f, err := os.Open(filepath.Join(c.dir, name))
	if err != nil {
		return nil, fmt.Errorf("store: spycam capture: %w", err)
	}
	return f, nil
}
