package escpos

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"strings"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

func TestPrintIsDitherPlusEncode(t *testing.T) {
	img := benchImage(500, 300) // wider than the head: scaled to 384x230
	for _, o := range []*Opts{nil, {Profile: Adafruit, Dither: Atkinson}, {Width: 576, Cut: true, Dither: Bayer}} {
		var got, want bytes.Buffer
		d, err := New(&got, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Print(context.Background(), img); err != nil {
			t.Fatal(err)
		}
		b := Dither(img, d.Width(), o)
		wantH := 300 // narrower than a 576-dot head: centred, not scaled
		if d.Width() < 500 {
			wantH = 300 * d.Width() / 500
		}
		if b.Width != d.Width() || b.Height != wantH {
			t.Fatalf("bitmap %dx%d", b.Width, b.Height)
		}
		if err := Encode(&want, b, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%+v: Print's stream differs from Encode(Dither)", o)
		}
	}
}

func TestPrintRejects(t *testing.T) {
	d, _ := New(io.Discard, nil)
	ctx := context.Background()
	for name, img := range map[string]image.Image{
		"nil":   nil,
		"empty": image.NewGray(image.Rect(0, 0, 0, 10)),
		"huge":  &hugeImage{},
	} {
		if err := d.Print(ctx, img); err == nil || !strings.HasPrefix(err.Error(), "escpos: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// hugeImage claims a size no one should try to print.
type hugeImage struct{ image.Gray }

func (*hugeImage) Bounds() image.Rectangle { return image.Rect(0, 0, 100000, 100000) }

// cancelWriter cancels its context after a number of writes.
type cancelWriter struct {
	bytes.Buffer
	writes int
	cancel func()
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.writes--
	if w.writes == 0 {
		w.cancel()
	}
	return w.Buffer.Write(p)
}

func TestPrintCancelBetweenBandsThenHalt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelWriter{writes: 3, cancel: cancel} // init, band 1, band 2
	d, err := New(w, &Opts{BandRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Print(ctx, gradient(384, 100))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Print: %v", err)
	}
	bands, _ := splitJob(t, w.Bytes())
	if len(bands) != 2 {
		t.Fatalf("%d bands sent after cancelling in the second", len(bands))
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	_, cmds := splitJob(t, w.Bytes())
	if cmds[len(cmds)-1] != "ESC @" {
		t.Fatalf("Halt after an aborted job did not reset: %q", cmds)
	}
	// Halt on an idle printer sends nothing.
	n := w.Len()
	if err := d.Halt(); err != nil || w.Len() != n {
		t.Fatalf("idle Halt wrote %d bytes (%v)", w.Len()-n, err)
	}
}

// shortWriter accepts limit bytes, then fails until healed.
type shortWriter struct {
	bytes.Buffer
	limit  int
	broken bool
}

func (w *shortWriter) Write(p []byte) (int, error) {
	if w.broken {
		n := min(len(p), w.limit-w.Len())
		w.Buffer.Write(p[:n])
		if n < len(p) {
			return n, errors.New("link hiccup")
		}
		return n, nil
	}
	return w.Buffer.Write(p)
}

func TestHaltCompletesInterruptedBand(t *testing.T) {
	// The link dies in the middle of a band's raster data: without help the
	// printer would eat the next job's bytes as dots ("garbage after images").
	w := &shortWriter{limit: 2 + 8 + 48*5 + 7, broken: true}
	d, err := New(w, nil)
	if err != nil {
		t.Fatal(err)
	}
	black := image.NewGray(image.Rect(0, 0, 384, 20))
	if err := d.Print(context.Background(), black); err == nil {
		t.Fatal("Print over a failing link succeeded")
	}
	w.broken = false
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	bands, cmds := splitJob(t, w.Bytes())
	if len(bands) != 1 || bands[0].rows != 20 || cmds[len(cmds)-1] != "ESC @" {
		t.Fatalf("bands %d, commands %q", len(bands), cmds)
	}
	data := bands[0].data
	for i, b := range data {
		if i < 48*5+7 && b != 0xff {
			t.Fatalf("byte %d sent before the failure is %#x, want black", i, b)
		}
		if i >= 48*5+7 && b != 0 {
			t.Fatalf("completion byte %d is %#x, want white", i, b)
		}
	}
}

func TestHaltFailedHeaderCompletion(t *testing.T) {
	// Failure inside a band header: the header is completed as sent, the
	// data blanked.
	w := &shortWriter{limit: 2 + 5, broken: true}
	d, _ := New(w, nil)
	if err := d.Print(context.Background(), gradient(16, 4)); err == nil {
		t.Fatal("no error")
	}
	w.broken = false
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	bands, _ := splitJob(t, w.Bytes())
	if len(bands) != 1 || bands[0].rows != 4 || bands[0].rowBytes != 48 {
		t.Fatalf("bands %+v", bands)
	}
}

// printerLink answers DLE EOT n with scripted status bytes.
type printerLink struct {
	bytes.Buffer
	replies map[byte]byte
	pending []byte
}

func (l *printerLink) Write(p []byte) (int, error) {
	if len(p) == 3 && p[0] == dle && p[1] == eot {
		if r, ok := l.replies[p[2]]; ok {
			l.pending = append(l.pending, r)
		}
	}
	return l.Buffer.Write(p)
}

func (l *printerLink) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		r1, r4 byte
		want   Status
		str    string
	}{
		{0x12, 0x12, Status{}, "ready"},
		{0x1a, 0x12, Status{Offline: true}, "offline"},
		{0x12, 0x1e, Status{NearEnd: true}, "paper near end"},
		{0x12, 0x72, Status{PaperOut: true}, "paper out"},
		{0x1a, 0x7e, Status{Offline: true, NearEnd: true, PaperOut: true}, "paper out"},
	} {
		l := &printerLink{replies: map[byte]byte{1: tc.r1, 4: tc.r4}}
		d, _ := New(l, nil)
		s, err := d.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tc.want.Raw = [2]byte{tc.r1, tc.r4}
		if s != tc.want || s.String() != tc.str {
			t.Errorf("replies %#x %#x: %+v (%s), want %+v (%s)", tc.r1, tc.r4, s, s, tc.want, tc.str)
		}
		if !bytes.Equal(l.Bytes(), []byte{dle, eot, 1, dle, eot, 4}) {
			t.Errorf("sent % x", l.Bytes())
		}
	}
}

func TestStatusErrors(t *testing.T) {
	ctx := context.Background()
	d, _ := New(&bytes.Buffer{}, nil) // a Buffer reads back: EOF at once
	if _, err := d.Status(ctx); err == nil {
		t.Error("status from an empty buffer")
	}
	d, _ = New(io.Discard, nil)
	_, err := d.Status(ctx)
	if err == nil || !strings.Contains(err.Error(), "bidirectional") {
		t.Errorf("write-only link: %v", err)
	}
	// Garbage reply.
	d, _ = New(&printerLink{replies: map[byte]byte{1: 0xff}}, nil)
	if _, err := d.Status(ctx); err == nil || !strings.Contains(err.Error(), "unexpected reply") {
		t.Errorf("garbage reply: %v", err)
	}
}

// silentLink never answers.
type silentLink struct{ block chan struct{} }

func (l silentLink) Write(p []byte) (int, error) { return len(p), nil }
func (l silentLink) Read(p []byte) (int, error)  { <-l.block; return 0, io.EOF }

func TestStatusTimeout(t *testing.T) {
	clk := fakeclock.New(time.Unix(0, 0))
	l := silentLink{make(chan struct{})}
	defer close(l.block)
	d, _ := New(l, &Opts{StatusTimeout: 3 * time.Second, Clock: clk})
	done := make(chan error, 1)
	go func() {
		_, err := d.Status(context.Background())
		done <- err
	}()
	clk.BlockUntil(1)
	clk.Advance(3 * time.Second)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "no reply within 3s") {
		t.Fatalf("timeout: %v", err)
	}
}

func TestString(t *testing.T) {
	d, _ := New(OpenUSB("/dev/usb/lp0"), &Opts{Width: 576})
	if s := d.String(); s != "escpos.Dev{generic, 576 dots, usb:/dev/usb/lp0}" {
		t.Errorf("String() = %q", s)
	}
}
