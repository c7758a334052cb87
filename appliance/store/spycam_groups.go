package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CaptureID names a capture group: its frames' common "<event>-<kind>"
// prefix, e.g. 20260314T150926.200Z-motion.
func CaptureID(g CaptureGroup) string {
	return g.Event.UTC().Format(captureTime) + "-" + g.Kind
}

// validCaptureID accepts exactly the IDs CaptureID makes.
func validCaptureID(id string) bool {
	_, ok := parseCaptureName(id + "-0000.jpg")
	return ok
}

// CaptureFiles lists the frames of capture id, in order; none is
// fs.ErrNotExist, as is an ID CaptureID could not have made.
func (c *Captures) CaptureFiles(id string) ([]string, error) {
	if !validCaptureID(id) {
		return nil, fmt.Errorf("store: spycam capture %q: %w", id, fs.ErrNotExist)
	}
	files, err := c.scan()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if strings.HasPrefix(f.name, id+"-") {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("store: spycam capture %q: %w", id, fs.ErrNotExist)
	}
	return out, nil
}

// DeleteCapture removes every frame of capture id and returns how many went.
func (c *Captures) DeleteCapture(id string) (int, error) {
	names, err := c.CaptureFiles(id)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	var errs []error
	for _, name := range names {
		if err := os.Remove(filepath.Join(c.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
		if i := slices.IndexFunc(c.files, func(x captureFile) bool { return x.name == name }); i >= 0 {
			c.used -= c.files[i].size
			c.files = slices.Delete(c.files, i, i+1)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("store: delete spycam capture %s: %w", id, err)
	}
	return n, nil
}
