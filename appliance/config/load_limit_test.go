package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadCapsTheFile: a config that never ends is refused quickly, whether
// stat says so (a sparse 1 GB file) or not (/dev/zero says 0 bytes).
func TestLoadCapsTheFile(t *testing.T) {
	sparse := filepath.Join(t.TempDir(), "tinkerbox.toml")
	if err := os.WriteFile(sparse, []byte("[printer]\nwidth = 512\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 1<<30); err != nil {
		t.Fatal(err)
	}
	paths := []string{sparse}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths = append(paths, "/dev/zero")
	}
	for _, p := range paths {
		start := time.Now()
		_, err := Load(p)
		if want := "config: " + p + " is larger than 1 MiB"; err == nil || err.Error() != want {
			t.Errorf("Load(%s) = %v, want %s", p, err, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Load(%s) took %s", p, d)
		}
	}
	// Exactly at the cap is still read (and parsed: comments only).
	at := filepath.Join(t.TempDir(), "at.toml")
	if err := os.WriteFile(at, []byte("#"+strings.Repeat(" ", MaxFileSize-1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(at); err != nil {
		t.Errorf("Load(1 MiB of comment) = %v", err)
	}
}
