package picam

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

// fakeCam returns an RPiCam that runs this test binary as the camera.
func fakeCam(mode string) *RPiCam {
	return NewRPiCam(&RPiCamOpts{
		Width: 64, Height: 48, FrameRate: 10,
		Command: os.Args[0],
		Env:     []string{"PICAM_FAKE_CAMERA=" + mode},
	})
}

func TestRPiCamExitError(t *testing.T) {
	c := fakeCam("frames:3:255:ERROR: *** no cameras available ***")
	var got [][]byte
	err := c.Stream(context.Background(), func(f []byte) { got = append(got, f) })
	want := "picam: " + filepath.Base(os.Args[0]) + " exited: exit status 255: ERROR: *** no cameras available ***"
	if err == nil || err.Error() != want {
		t.Fatalf("Stream = %v\nwant %s", err, want)
	}
	if len(got) != 3 {
		t.Fatalf("got %d frames, want 3", len(got))
	}
	for i, f := range got {
		if !bytes.Equal(f, makeJPEG(t, 64, 48, uint64(i))) {
			t.Errorf("frame %d differs from what the camera wrote", i)
		}
	}
}

// TestRPiCamFallbackAndArgs finds libcamera-vid on PATH when rpicam-vid is
// missing and checks the command line it is given.
func TestRPiCamFallbackAndArgs(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(dir, "libcamera-vid")); err != nil {
		t.Skip("cannot symlink:", err)
	}
	t.Setenv("PATH", dir)
	c := NewRPiCam(&RPiCamOpts{Env: []string{"PICAM_FAKE_CAMERA=args"}, Args: []string{"--rotation", "180"}})
	err := c.Stream(context.Background(), func([]byte) {})
	want := "picam: libcamera-vid exited: exit status 3: -t 0 -n --codec mjpeg --width 640 --height 480 --framerate 15 -q 60 --flush -o - --rotation 180"
	if err == nil || err.Error() != want {
		t.Fatalf("Stream = %v\nwant %s", err, want)
	}

	t.Setenv("PATH", t.TempDir())
	err = NewRPiCam(nil).Stream(context.Background(), func([]byte) {})
	if err == nil || !strings.Contains(err.Error(), "neither rpicam-vid nor libcamera-vid") {
		t.Fatalf("no camera program: %v", err)
	}
	err = NewRPiCam(&RPiCamOpts{Command: filepath.Join(dir, "missing")}).Stream(context.Background(), func([]byte) {})
	if err == nil || !strings.HasPrefix(err.Error(), "picam: ") {
		t.Fatalf("missing command: %v", err)
	}
}

// TestRPiCamKillsProcessGroup: the fake camera leaves a grandchild holding
// stdout open; only killing the whole group ends the stream.
func TestRPiCamKillsProcessGroup(t *testing.T) {
	c := fakeCam("hang:2")
	ctx, cancel := context.WithCancel(context.Background())
	frames := make(chan []byte, 2)
	done := make(chan error, 1)
	go func() { done <- c.Stream(ctx, func(f []byte) { frames <- f }) }()
	recv(t, frames, "first frame")
	recv(t, frames, "second frame")
	cancel()
	if err := recv(t, done, "Stream to return after cancel"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream = %v, want context.Canceled", err)
	}
	// Halt of an RPiCam does the same for a stream it did not start itself.
	go func() { done <- c.Stream(context.Background(), func(f []byte) { frames <- f }) }()
	recv(t, frames, "frame")
	recv(t, frames, "frame")
	if err := c.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, done, "Stream to return after Halt"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream = %v after Halt", err)
	}
}

// TestOwnerSupervisesProcess: the camera process dies, the owner logs it,
// waits out the backoff on the fake clock and starts a new process whose
// frames reach a viewer that was waiting all along.
func TestOwnerSupervisesProcess(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	logs := &syncBuffer{}
	o := NewOwner(fakeCam("frames:3:255:ERROR: *** no cameras available ***"), &OwnerOpts{
		Clock: clk, Log: slog.New(slog.NewTextHandler(logs, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- o.Run(ctx) }()

	f, err := o.Next(ctx, 2)
	if err != nil || f.Seq != 3 {
		t.Fatalf("Next = %d, %v", f.Seq, err)
	}
	clk.BlockUntil(1) // the owner is in its backoff
	st := o.Stats()
	if st.Restarts != 1 || st.Running || st.Width != 64 || st.Height != 48 ||
		!strings.HasSuffix(st.LastError, "exited: exit status 255: ERROR: *** no cameras available ***") {
		t.Fatalf("Stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "no cameras available") || !strings.Contains(logs.String(), "retry_in=500ms") {
		t.Fatalf("log:\n%s", logs)
	}

	viewer := make(chan Frame, 1)
	go func() {
		f, err := o.Next(ctx, 3)
		if err != nil {
			t.Error(err)
		}
		viewer <- f
	}()
	clk.Advance(500 * time.Millisecond)
	f = recv(t, viewer, "a frame from the restarted camera")
	if f.Seq <= 3 || !bytes.Equal(f.JPEG[:2], []byte{0xFF, 0xD8}) {
		t.Fatalf("viewer got seq %d", f.Seq)
	}
	clk.BlockUntil(1)
	if st := o.Stats(); st.Restarts != 2 || st.Frames != 6 {
		t.Fatalf("after the second run: %+v", st)
	}
	cancel()
	if err := recv(t, runErr, "Run to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}
