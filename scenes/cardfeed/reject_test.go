package cardfeed

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func rejectNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// The reject photos stay within their quota, by count and by bytes, the
// oldest going first; the photo just saved always stays, and temporary
// files of interrupted saves are removed.
func TestRejectPhotoQuota(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOpts()
	o.RejectDir, o.RejectMaxFiles, o.RejectMaxBytes = dir, 3, 1000
	s := New(nil, nil, nil, nil, nil, nil, nil, nil, nil, &o)
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var saved []string
	for i := range 5 {
		p, err := s.saveReject(at.Add(time.Duration(i)*time.Second), bytes.Repeat([]byte{'j'}, 100))
		if err != nil {
			t.Fatal(err)
		}
		saved = append(saved, filepath.Base(p))
	}
	if got := rejectNames(t, dir); !slices.Equal(got, saved[2:]) {
		t.Fatalf("by count: %v, want the newest 3 %v", got, saved[2:])
	}
	// Bytes: two big photos exceed 1000 bytes; the older one goes.
	p1, _ := s.saveReject(at.Add(10*time.Second), bytes.Repeat([]byte{'j'}, 600))
	p2, _ := s.saveReject(at.Add(11*time.Second), bytes.Repeat([]byte{'j'}, 600))
	if got := rejectNames(t, dir); !slices.Equal(got, []string{filepath.Base(p2)}) {
		t.Fatalf("by bytes: %v, want only %s (not %s)", got, filepath.Base(p2), filepath.Base(p1))
	}
	// A single photo bigger than the quota is still kept: it is the evidence
	// for the scan just recorded.
	p3, err := s.saveReject(at.Add(12*time.Second), bytes.Repeat([]byte{'j'}, 2000))
	if err != nil {
		t.Fatal(err)
	}
	if got := rejectNames(t, dir); !slices.Equal(got, []string{filepath.Base(p3)}) {
		t.Fatalf("oversized: %v", got)
	}
}

// The defaults apply when the options leave the quota unset.
func TestRejectQuotaDefaults(t *testing.T) {
	s := New(nil, nil, nil, nil, nil, nil, nil, nil, nil, &Opts{RejectDir: t.TempDir()})
	d := DefaultOpts()
	if s.opts.RejectMaxFiles != d.RejectMaxFiles || s.opts.RejectMaxBytes != d.RejectMaxBytes || d.RejectMaxFiles <= 0 || d.RejectMaxBytes <= 0 {
		t.Fatalf("quota %d files, %d bytes", s.opts.RejectMaxFiles, s.opts.RejectMaxBytes)
	}
}
