package store

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"tinkerbox/scenes/spycam"
)

func TestCaptureDeleteOneGroup(t *testing.T) {
	c, _, dir := openCaptures(t, 1<<20)
	other := capT0.Add(time.Second)
	for i := range 3 {
		c.SaveCapture(context.Background(), frame(capT0, spycam.KindMotion, i, 100))
	}
	c.SaveCapture(context.Background(), frame(capT0, spycam.KindSnapshot, 0, 50)) // same time, other kind
	c.SaveCapture(context.Background(), frame(other, spycam.KindMotion, 0, 70))
	gs, _ := c.CaptureGroups(context.Background(), 10)
	id := CaptureID(CaptureGroup{Event: capT0, Kind: spycam.KindMotion})
	if id != "20260314T150926.200Z-motion" || !slices.ContainsFunc(gs, func(g CaptureGroup) bool { return CaptureID(g) == id }) {
		t.Fatalf("id %q, groups %+v", id, gs)
	}
	files, err := c.CaptureFiles(id)
	if err != nil || len(files) != 3 || files[0] != id+"-0000.jpg" {
		t.Fatalf("files = %v, %v", files, err)
	}
	n, err := c.DeleteCapture(id)
	if err != nil || n != 3 || c.Used() != 120 {
		t.Fatalf("delete = %d, %v; used %d", n, err, c.Used())
	}
	if got := names(t, dir); len(got) != 2 {
		t.Errorf("left %v, want the snapshot and the other motion", got)
	}
	for _, bad := range []string{id, "../" + id, id + "-0000", "20260314T150926.200Z-x", "", "..", "20260314T150926.200Z-snapshot/../x"} {
		if _, err := c.DeleteCapture(bad); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("delete %q = %v, want fs.ErrNotExist", bad, err)
		}
	}
	if got := names(t, dir); len(got) != 2 {
		t.Errorf("bad deletes removed files: %v", got)
	}
}
