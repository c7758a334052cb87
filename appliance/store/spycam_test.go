package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"tinkerbox/scenes/spycam"
)

func openCaptures(t *testing.T, quota int64) (*Captures, *Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	capDir := filepath.Join(dir, "captures")
	c, err := st.SpycamCaptures(capDir, quota)
	if err != nil {
		t.Fatal(err)
	}
	return c, st, capDir
}

var capT0 = time.Date(2026, 3, 14, 15, 9, 26, 200e6, time.UTC)

func frame(event time.Time, kind string, i, size int) spycam.CaptureFrame {
	return spycam.CaptureFrame{Event: event, Kind: kind, Index: i, At: event.Add(time.Duration(i) * 66 * time.Millisecond),
		JPEG: bytes.Repeat([]byte{byte(i)}, size)}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestCapturesQuotaRemovesOldest(t *testing.T) {
	c, _, dir := openCaptures(t, 1000)
	ctx := context.Background()
	ev1, ev2 := capT0, capT0.Add(time.Minute)
	for i := range 4 {
		if err := c.SaveCapture(ctx, frame(ev1, spycam.KindMotion, i, 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SaveCapture(ctx, frame(ev2, spycam.KindSnapshot, 0, 200)); err != nil {
		t.Fatal(err)
	}
	if c.Used() != 1000 {
		t.Fatalf("used %d, want 1000", c.Used())
	}
	// 300 more bytes: the two oldest frames go.
	if err := c.SaveCapture(ctx, frame(ev2.Add(time.Second), spycam.KindMotion, 0, 300)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"20260314T150926.200Z-motion-0002.jpg",
		"20260314T150926.200Z-motion-0003.jpg",
		"20260314T151026.200Z-snapshot-0000.jpg",
		"20260314T151027.200Z-motion-0000.jpg",
	}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if c.Used() != 900 {
		t.Fatalf("used %d, want 900", c.Used())
	}
	// A reopened store sees the same usage.
	c2, err := c.store.SpycamCaptures(dir, 1000)
	if err != nil || c2.Used() != 900 {
		t.Fatalf("reopened: used %d, %v", c2.Used(), err)
	}
	// A frame bigger than the whole quota is a full disk, and nothing is removed.
	err = c.SaveCapture(ctx, frame(ev2, spycam.KindMotion, 9, 1001))
	if !errors.Is(err, spycam.ErrDiskFull) {
		t.Fatalf("oversized frame: %v, want ErrDiskFull", err)
	}
	if got := names(t, dir); len(got) != 4 {
		t.Fatalf("files after refused frame: %v", got)
	}
}

func TestCapturesGroupsAndOpen(t *testing.T) {
	c, _, _ := openCaptures(t, 1<<20)
	ctx := context.Background()
	for i := range 3 {
		if err := c.SaveCapture(ctx, frame(capT0, spycam.KindMotion, i, 10)); err != nil {
			t.Fatal(err)
		}
	}
	for k := range 3 {
		if err := c.SaveCapture(ctx, frame(capT0.Add(time.Duration(k+1)*time.Minute), spycam.KindSnapshot, 0, 5)); err != nil {
			t.Fatal(err)
		}
	}
	g, err := c.CaptureGroups(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 4 || g[0].Kind != spycam.KindSnapshot || !g[0].Event.Equal(capT0.Add(3*time.Minute)) ||
		g[3].Kind != spycam.KindMotion || len(g[3].Files) != 3 || g[3].Bytes != 30 ||
		g[3].Files[0] != "20260314T150926.200Z-motion-0000.jpg" {
		t.Fatalf("groups = %+v", g)
	}
	if g, _ := c.CaptureGroups(ctx, 2); len(g) != 2 || !g[1].Event.Equal(capT0.Add(2*time.Minute)) {
		t.Fatalf("2 newest groups = %+v", g)
	}
	f, err := c.OpenCapture("20260314T150926.200Z-motion-0002.jpg")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(b, bytes.Repeat([]byte{2}, 10)) {
		t.Fatalf("frame 2 = %v", b)
	}
	for _, bad := range []string{"../tinkerbox.db", "tinkerbox.db", ".tmp-x.jpg", "20260314T150926.200Z-motion-02.jpg",
		"20260314T150926.200Z-other-0002.jpg", "x-motion-0002.jpg", "20260314T150926.200Z-motion-0002.jpg/.."} {
		if _, err := c.OpenCapture(bad); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenCapture(%q) = %v, want ErrNotExist", bad, err)
		}
	}
}

func TestCapturesDiskFull(t *testing.T) {
	c, _, dir := openCaptures(t, 1<<20)
	c.writeFile = func(name string, b []byte, perm fs.FileMode) error {
		os.WriteFile(name, b[:len(b)/2], perm) // half written, then the disk is full
		return &fs.PathError{Op: "write", Path: name, Err: syscall.ENOSPC}
	}
	err := c.SaveCapture(context.Background(), frame(capT0, spycam.KindMotion, 0, 100))
	if !errors.Is(err, spycam.ErrDiskFull) {
		t.Fatalf("err = %v, want ErrDiskFull", err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	c.writeFile = func(name string, b []byte, perm fs.FileMode) error { return errors.New("i/o error") }
	if err := c.SaveCapture(context.Background(), frame(capT0, spycam.KindMotion, 0, 100)); err == nil || errors.Is(err, spycam.ErrDiskFull) {
		t.Fatalf("i/o error: %v, want a plain error", err)
	}
}

func TestCapturesCleanUpAndEvents(t *testing.T) {
	c, st, dir := openCaptures(t, 1<<20)
	os.WriteFile(filepath.Join(dir, ".tmp-20260314T150926.200Z-motion-0000.jpg"), []byte("half"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	c2, err := st.SpycamCaptures(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"notes.txt"}) || c2.Used() != 0 {
		t.Fatalf("after reopen: %v, used %d", got, c2.Used())
	}
	if err := c.LogEvent(context.Background(), "info", spycam.Name, "motion"); err != nil {
		t.Fatal(err)
	}
	ev, err := st.RecentEvents(context.Background(), 1)
	if err != nil || len(ev) != 1 || ev[0].Source != "spycam" {
		t.Fatalf("events = %+v, %v", ev, err)
	}
	if _, err := st.SpycamCaptures(dir, 0); err == nil {
		t.Fatal("zero quota accepted")
	}
	if err := c.SaveCapture(context.Background(), spycam.CaptureFrame{Kind: "../x"}); err == nil {
		t.Fatal("bad kind accepted")
	}
}

func BenchmarkCaptureSave(b *testing.B) {
	dir := b.TempDir()
	st, err := Open(context.Background(), dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, err := st.SpycamCaptures(filepath.Join(dir, "c"), 4<<20)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(40 << 10)
	i := 0
	for b.Loop() {
		if err := c.SaveCapture(context.Background(), frame(capT0.Add(time.Duration(i/100)*time.Second), spycam.KindMotion, i%100, 40<<10)); err != nil {
			b.Fatal(fmt.Errorf("frame %d: %w", i, err))
		}
		i++
	}
}
