package sim

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func decodeJPEG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("frame is not a JPEG: %v", err)
	}
	return img
}

// meanDiff is the mean absolute difference of the luma of two images.
func meanDiff(a, b image.Image) float64 {
	r := a.Bounds()
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ya := color.GrayModel.Convert(a.At(x, y)).(color.Gray).Y
			yb := color.GrayModel.Convert(b.At(x, y)).(color.Gray).Y
			d := float64(ya) - float64(yb)
			if d < 0 {
				d = -d
			}
			sum += d
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

type streamRun struct {
	frames chan []byte
	done   chan error
	cancel context.CancelFunc
}

func startStream(cam *Camera) *streamRun {
	ctx, cancel := context.WithCancel(context.Background())
	s := &streamRun{frames: make(chan []byte, 16), done: make(chan error, 1), cancel: cancel}
	go func() { s.done <- cam.Stream(ctx, func(b []byte) { s.frames <- b }) }()
	return s
}

func TestCameraStreamTiming(t *testing.T) {
	clk := fakeclock.New(t0)
	cam := NewCamera(&CameraOpts{Width: 160, Height: 120, FPS: 10, Clock: clk})
	s := startStream(cam)
	defer s.cancel()

	f1 := <-s.frames // the first frame comes at once
	if b := decodeJPEG(t, f1).Bounds(); b != image.Rect(0, 0, 160, 120) {
		t.Fatalf("frame bounds %v", b)
	}
	clk.BlockUntil(1)
	clk.Advance(99 * time.Millisecond)
	if clk.Waiters() != 1 || len(s.frames) != 0 {
		t.Fatal("frame before 1/FPS elapsed")
	}
	clk.Advance(time.Millisecond)
	f2 := <-s.frames
	if bytes.Equal(f1, f2) {
		t.Error("consecutive frames identical: the scene does not move")
	}
	// A second later the shapes and the clock text have moved a lot.
	for i := 0; i < 10; i++ {
		clk.BlockUntil(1)
		clk.Advance(100 * time.Millisecond)
		<-s.frames
	}
	if err := cam.Stream(context.Background(), func([]byte) {}); !errors.Is(err, ErrCameraBusy) {
		t.Errorf("second Stream: %v, want ErrCameraBusy", err)
	}
	s.cancel()
	if err := <-s.done; !errors.Is(err, context.Canceled) {
		t.Errorf("Stream after cancel: %v", err)
	}
	if n := cam.Frames(); n != 12 {
		t.Errorf("Frames = %d, want 12", n)
	}
}

func TestCameraFailNext(t *testing.T) {
	clk := fakeclock.New(t0)
	cam := NewCamera(&CameraOpts{Width: 64, Height: 48, Clock: clk})
	boom := errors.New("boom")

	// Pending before Stream: it fails at once without a frame.
	cam.FailNext(boom)
	emitted := 0
	if err := cam.Stream(context.Background(), func([]byte) { emitted++ }); !errors.Is(err, boom) || emitted != 0 {
		t.Fatalf("Stream = %v after %d frames, want boom and none", err, emitted)
	}

	// While streaming: the blocked Stream wakes up and fails.
	s := startStream(cam)
	defer s.cancel()
	<-s.frames
	clk.BlockUntil(1)
	cam.FailNext(boom)
	if err := <-s.done; !errors.Is(err, boom) {
		t.Fatalf("Stream = %v, want boom", err)
	}

	// A cancelled failure is not delivered; the restarted stream keeps going.
	cam.FailNext(boom)
	cam.FailNext(nil)
	s = startStream(cam)
	<-s.frames
	clk.BlockUntil(1)
	clk.Advance(time.Second / 15)
	<-s.frames
	if err := cam.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := <-s.done; !errors.Is(err, ErrHalted) {
		t.Fatalf("Stream after Halt = %v, want ErrHalted", err)
	}
}

func TestCameraPicture(t *testing.T) {
	clk := fakeclock.New(t0)
	cam := NewCamera(&CameraOpts{Width: 64, Height: 48, Clock: clk})
	var asked time.Time
	cam.SetPicture(func(t time.Time) image.Image {
		asked = t
		img := image.NewRGBA(image.Rect(0, 0, 32, 48)) // narrower: padded black
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+3] = 255, 255
		}
		return img
	})
	b, err := cam.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	img := decodeJPEG(t, b)
	if r, g, _, _ := img.At(10, 24).RGBA(); r>>8 < 200 || g>>8 > 60 {
		t.Errorf("left half not red: r=%d g=%d", r>>8, g>>8)
	}
	if r, _, _, _ := img.At(55, 24).RGBA(); r>>8 > 40 {
		t.Errorf("right half not black: r=%d", r>>8)
	}
	if !asked.Equal(t0) {
		t.Errorf("picture asked for %v, want clock time %v", asked, t0)
	}
	cam.SetPicture(nil)
	b2, _ := cam.Snapshot()
	if meanDiff(img, decodeJPEG(t, b2)) < 20 {
		t.Error("SetPicture(nil) did not restore the synthetic scene")
	}
}

func TestCameraFrameSize(t *testing.T) {
	clk := fakeclock.New(t0)
	cam := NewCamera(&CameraOpts{Clock: clk})
	a, err := cam.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 25_000 || len(a) > 55_000 {
		t.Errorf("640x480 frame is %d bytes, want about 30-50 KB", len(a))
	}
	clk.Advance(time.Second)
	b, _ := cam.Snapshot()
	if d := meanDiff(decodeJPEG(t, a), decodeJPEG(t, b)); d < 1 {
		t.Errorf("frames a second apart differ by %.2f grey levels on average: not moving", d)
	}
	if cam.String() != "sim.Camera(640x480@15)" {
		t.Errorf("String = %q", cam.String())
	}
}

func TestCameraBadOpts(t *testing.T) {
	for _, o := range []CameraOpts{{Width: -1}, {Width: 100000, Height: 10}, {FPS: 1000}, {Quality: 101}} {
		cam := NewCamera(&o)
		if _, err := cam.Snapshot(); err == nil {
			t.Errorf("%+v: no error", o)
		}
		if err := cam.Stream(context.Background(), func([]byte) {}); err == nil {
			t.Errorf("%+v: Stream: no error", o)
		}
	}
	if err := NewCamera(nil).Stream(context.Background(), nil); err == nil {
		t.Error("nil emit accepted")
	}
}

func BenchmarkCameraFrame(b *testing.B) {
	clk := fakeclock.New(t0)
	cam := NewCamera(&CameraOpts{Clock: clk})
	var size int
	b.ReportAllocs()
	for b.Loop() {
		clk.Advance(time.Second / 15)
		f, err := cam.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		size = len(f)
	}
	b.ReportMetric(float64(size), "bytes/frame")
}
