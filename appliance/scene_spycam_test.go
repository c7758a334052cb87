package appliance

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"log/slog"
	"testing"
	"time"

	"tinkerbox/drivers/picam"
	"tinkerbox/scenes/scene/fakeclock"
)

// lendingSource lends each frame sent to it from one buffer, as rpicam-vid's
// splitter does.
type lendingSource struct {
	frames  chan []byte
	started chan struct{}
}

func (s *lendingSource) String() string { return "lending source" }

func (s *lendingSource) Stream(ctx context.Context, emit func([]byte)) error {
	return s.StreamBorrowed(ctx, func(b []byte) { emit(bytes.Clone(b)) })
}

func (s *lendingSource) StreamBorrowed(ctx context.Context, emit func([]byte)) error {
	s.started <- struct{}{}
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b := <-s.frames:
			buf = append(buf[:0], b...)
			emit(buf)
		}
	}
}

// TestSpycamCameraHold: the on-demand camera's Hold, which the stream and
// the spy-cam scene use instead of Next, wakes the paused camera as Next
// does (picam's tests cover what Release does with the frame).
func TestSpycamCameraHold(t *testing.T) {
	src := &lendingSource{frames: make(chan []byte), started: make(chan struct{}, 1)}
	o := picam.NewOwner(src, &picam.OwnerOpts{Inactive: true, Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	defer func() { cancel(); o.Halt(); <-done }()
	cam := newDemandCamera(o, fakeclock.New(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)))

	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	frame := b.Bytes()
	held := make(chan error, 1)
	go func() {
		f, err := cam.Hold(ctx, 0)
		if err == nil && !bytes.Equal(f.JPEG, frame) {
			t.Errorf("held %d bytes, want the frame", len(f.JPEG))
		}
		if err == nil {
			cam.Release(f)
		}
		held <- err
	}()
	select {
	case <-src.started: // Hold asked for the camera: it runs
	case <-time.After(10 * time.Second):
		t.Fatal("Hold did not start the paused camera")
	}
	src.frames <- frame
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if st := o.Stats(); !st.Active || st.Frames != 1 {
		t.Fatalf("owner %+v, want active with one frame", st)
	}
}
