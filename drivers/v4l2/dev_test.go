//go:build linux

package v4l2

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "video0")
	_, err := Open(missing, nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "v4l2: open ") {
		t.Fatalf("Open(missing) = %v", err)
	}
	_, err = Open("/dev/null", nil)
	if err == nil || !strings.Contains(err.Error(), "not a V4L2 device") {
		t.Fatalf("Open(/dev/null) = %v", err)
	}
}

func TestOptsDefaults(t *testing.T) {
	var nilOpts *Opts
	if got := nilOpts.withDefaults(); got != DefaultOpts() {
		t.Fatalf("nil opts: %+v", got)
	}
	got := (&Opts{Width: 320, Height: 240, Buffers: 100}).withDefaults()
	if got.Width != 320 || got.Height != 240 || got.Buffers != 32 || got.FrameRate != 15 || got.Timeout != 5*time.Second {
		t.Fatalf("opts: %+v", got)
	}
}

// TestStreamDevice runs against a real webcam when one is plugged in.
func TestStreamDevice(t *testing.T) {
	devs, _ := filepath.Glob("/dev/video*")
	if len(devs) == 0 {
		t.Skip("no /dev/video* device")
	}
	d, err := Open(devs[0], nil)
	if err != nil {
		t.Skipf("%s is not an MJPEG capture device: %v", devs[0], err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var frames [][]byte
	err = d.Stream(ctx, func(f []byte) {
		frames = append(frames, f)
		if len(frames) == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream = %v", err)
	}
	for i, f := range frames {
		if len(f) < 4 || f[0] != 0xFF || f[1] != 0xD8 {
			t.Errorf("frame %d is not a JPEG: % x", i, f[:min(len(f), 4)])
		}
	}
	t.Logf("%s: %d frames", d, len(frames))
}
