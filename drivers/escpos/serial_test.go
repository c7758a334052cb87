package escpos

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tinkerbox/scenes/scene/fakeclock"
)

// vclock is virtual time for a single-goroutine writer: After moves the
// clock forward at once, so a paced job of minutes runs in microseconds.
type vclock struct{ now time.Time }

func (c *vclock) Now() time.Time { return c.now }
func (c *vclock) After(d time.Duration) <-chan time.Time {
	if d > 0 {
		c.now = c.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// bucket is a printer with a receive buffer that drains at a fixed byte
// rate; bytes cross the wire at 10 bits each. It records the worst buffer
// fill and when the last byte arrived.
type bucket struct {
	baud    float64
	rate    float64 // bytes per second drained
	size    int
	fill    float64
	worst   float64
	last    time.Time // previous arrival
	wire    time.Time // when the wire is free
	first   time.Time
	n       int
	started bool
}

func (b *bucket) arrive(at time.Time, n int) {
	if !b.started {
		b.first, b.last, b.wire, b.started = at, at, at, true
	}
	if b.wire.Before(at) {
		b.wire = at
	}
	byteTime := time.Duration(10 / b.baud * float64(time.Second))
	for i := 0; i < n; i++ {
		b.wire = b.wire.Add(byteTime)
		b.drainTo(b.wire)
		b.fill++
		if b.fill > b.worst {
			b.worst = b.fill
		}
	}
	b.n += n
}

func (b *bucket) drainTo(t time.Time) {
	b.fill -= b.rate * t.Sub(b.last).Seconds()
	if b.fill < 0 {
		b.fill = 0
	}
	b.last = t
}

// bucketLink is the serial port of the virtual-time tests.
type bucketLink struct {
	clk *vclock
	b   *bucket
	out bytes.Buffer
}

func (l *bucketLink) Write(p []byte) (int, error) {
	l.b.arrive(l.clk.Now(), len(p))
	l.out.Write(p)
	return len(p), nil
}
func (l *bucketLink) Read(p []byte) (int, error) { return 0, io.EOF }

func pacedJob(t *testing.T, so SerialOpts, printerRate float64, img image.Image, o *Opts) (*bucket, time.Duration, []byte) {
	t.Helper()
	clk := &vclock{now: time.Unix(1000, 0)}
	so.Clock = clk
	b := &bucket{baud: float64(so.Baud), rate: printerRate, size: so.BufferSize}
	link := &bucketLink{clk: clk, b: b}
	s, err := NewSerial(link, &so)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	if err := d.Print(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	return b, b.wire.Sub(start), link.out.Bytes()
}

func TestPacingPrinterFasterThanLink(t *testing.T) {
	// 19200 baud = 1920 bytes/s; the head prints a 48-byte row in 10 ms
	// (4800 bytes/s): the link is the bottleneck and must stay busy.
	so := SerialOpts{Baud: 19200, LineTime: 10 * time.Millisecond, BufferSize: 256}
	img := gradient(384, 400)
	b, elapsed, stream := pacedJob(t, so, 1.1*48/0.010, img, &Opts{Profile: Adafruit})
	if b.worst > float64(so.BufferSize) {
		t.Errorf("buffer overflow: %.0f bytes in a %d-byte buffer", b.worst, so.BufferSize)
	}
	ideal := time.Duration(float64(len(stream)) * 10 / 19200 * float64(time.Second))
	use := float64(ideal) / float64(elapsed)
	t.Logf("%d bytes in %v, wire minimum %v: %.1f %% of the link, worst fill %.0f", len(stream), elapsed, ideal, 100*use, b.worst)
	if use < 0.90 {
		t.Errorf("link use %.1f %%, want >= 90 %%", 100*use)
	}
	// Pacing must not change the bytes.
	var want bytes.Buffer
	if err := Encode(&want, Dither(img, 384, &Opts{Profile: Adafruit}), &Opts{Profile: Adafruit}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stream, want.Bytes()) {
		t.Error("paced stream differs from the encoded job")
	}
}

func TestPacingPrinterSlowerThanLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		so   SerialOpts
		opts *Opts
	}{
		// Adafruit's figure: 30 ms a dot line, 1600 bytes/s at 384 dots.
		{"adafruit-19200", SerialOpts{Baud: 19200, BufferSize: 256}, &Opts{Profile: Adafruit}},
		{"generic-115200", SerialOpts{Baud: 115200, LineTime: 20 * time.Millisecond, BufferSize: 1024}, &Opts{Width: 576, BandRows: 100}},
		{"9600-small-buffer", SerialOpts{Baud: 9600, LineTime: 4 * time.Millisecond, BufferSize: 160}, &Opts{Width: 384}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			so, err := tc.so.normalized()
			if err != nil {
				t.Fatal(err)
			}
			w := tc.opts.Width
			if w == 0 {
				w = 384
			}
			rowBytes := float64((w + 7) / 8)
			rows := 300
			rate := 1.1 * rowBytes / so.LineTime.Seconds()
			b, elapsed, stream := pacedJob(t, tc.so, rate, gradient(w, rows), tc.opts)
			if b.worst > float64(so.BufferSize) {
				t.Errorf("buffer overflow: %.0f bytes in a %d-byte buffer", b.worst, so.BufferSize)
			}
			// Throughput: close to whichever of link and head is slower.
			wire := time.Duration(float64(len(stream)) * 10 / float64(so.Baud) * float64(time.Second))
			head := time.Duration(rows) * so.LineTime
			ideal := max(wire, head)
			t.Logf("%d bytes, %d rows in %v (ideal %v), worst fill %.0f/%d", len(stream), rows, elapsed, ideal, b.worst, so.BufferSize)
			if float64(ideal)/float64(elapsed) < 0.9 {
				t.Errorf("took %v, more than ideal %v / 0.9", elapsed, ideal)
			}
		})
	}
}

func TestPacingFeedAndText(t *testing.T) {
	// Feeds cost time too: after a 10-line feed the next bytes wait for it.
	clk := &vclock{now: time.Unix(0, 0)}
	so := SerialOpts{Baud: 115200, FeedTime: time.Millisecond, BufferSize: 160, Clock: clk}
	var sink bytes.Buffer
	s, err := NewSerial(&sink, &so)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	job := append([]byte{esc, 'd', 10}, bytes.Repeat([]byte("x"), 200)...)
	if _, err := s.Write(job); err != nil {
		t.Fatal(err)
	}
	// 10 lines x 32 dots x 1 ms = 320 ms before the buffer frees up for the
	// text beyond its first 160 bytes.
	if got := clk.Now().Sub(start); got < 320*time.Millisecond {
		t.Errorf("wrote past a 10-line feed after %v", got)
	}
	if !bytes.Equal(sink.Bytes(), job) {
		t.Error("bytes changed")
	}
}

func TestPacingCancel(t *testing.T) {
	clk := fakeclock.New(time.Unix(0, 0))
	var sink bytes.Buffer
	s, err := NewSerial(&sink, &SerialOpts{Baud: 19200, BufferSize: 256, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, &Opts{Profile: Adafruit})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Print(ctx, gradient(384, 100)) }()
	clk.BlockUntil(1) // the pacer waits for the printer
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Print after cancel: %v", err)
	}
	sent := sink.Len()
	if sent == 0 || sent > 256 {
		t.Fatalf("%d bytes sent before the buffer filled", sent)
	}
	// Halt completes the interrupted DC2 * with white rows and resets; the
	// pacer still waits for the printer, so keep the fake time moving.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if clk.Waiters() > 0 {
				clk.Advance(time.Second)
			} else {
				runtime.Gosched()
			}
		}
	}()
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	bands, cmds := splitJob(t, sink.Bytes())
	if len(bands) != 1 || cmds[len(cmds)-1] != "ESC @" {
		t.Fatalf("after Halt: %d bands, commands %q", len(bands), cmds)
	}
	for _, b := range bands[0].data[sent-12:] {
		if b != 0 {
			t.Fatal("the completed rows are not white")
		}
	}
}

func TestSerialOptsValidation(t *testing.T) {
	for _, o := range []SerialOpts{{Baud: 5}, {BufferSize: 100}, {LineTime: -1}} {
		if _, err := NewSerial(&bytes.Buffer{}, &o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := OpenSerial("/nonexistent/tty", nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/tty") {
		t.Errorf("OpenSerial of a missing port: %v", err)
	}
}

// openPTY returns the master side and the slave's path, or skips.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	return m, "/dev/pts/" + itoa(n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestSerialPTY(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	// A printer 10 % faster than the model: 48-byte rows every 8 ms.
	so := &SerialOpts{Baud: 115200, LineTime: 8 * time.Millisecond, BufferSize: 512}
	s, err := OpenSerial(slave, so)
	if err != nil {
		t.Skipf("cannot open the pty slave as a serial port: %v", err)
	}
	defer s.Close()
	const rows = 150
	b := &bucket{baud: 1e9, rate: 1.1 * 48 / 0.008, size: so.BufferSize}
	var mu sync.Mutex
	var got bytes.Buffer
	want := 0
	readerDone := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				mu.Lock()
				b.arrive(time.Now(), n)
				got.Write(buf[:n])
				full := got.Len() >= want && want > 0
				mu.Unlock()
				if full {
					readerDone <- nil
					return
				}
			}
			if err != nil {
				readerDone <- err
				return
			}
		}
	}()
	img := gradient(384, rows)
	var job bytes.Buffer
	if err := Encode(&job, Dither(img, 384, nil), DefaultOpts()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	want = job.Len()
	mu.Unlock()
	d, err := New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := d.Print(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d bytes over a pty in %v, worst fill %.0f/%d", got.Len(), elapsed, b.worst, so.BufferSize)
	if !bytes.Equal(got.Bytes(), job.Bytes()) {
		t.Fatal("bytes through the pty differ from the job")
	}
	if b.worst > float64(so.BufferSize) {
		t.Errorf("buffer overflow: %.0f bytes", b.worst)
	}
	if min := rows * so.LineTime * 9 / 10; elapsed < min {
		t.Errorf("finished in %v: faster than the printer can print (%v)", elapsed, min)
	}
}

func FuzzStreamParser(f *testing.F) {
	f.Add([]byte{esc, '@', gs, 'v', '0', 0, 2, 0, 3, 0, 1, 2, 3, 4, 5, 6, esc, 'd', 3})
	f.Add([]byte{dc2, '*', 2, 1, 0xff, 0, dc2, '#', 0x4a, esc, '7', 1, 2, 3})
	f.Add([]byte("hello\n\nworld"))
	f.Add([]byte{gs, 'V', 66, 0, gs, 'V', 1, dle, eot, 4})
	f.Add([]byte{gs, 'v', '0', 0, 0xff, 0xff, 0xff, 0xff})
	m := mechanics{line: time.Millisecond, feed: time.Microsecond}
	f.Fuzz(func(t *testing.T, p []byte) {
		var s streamParser
		total := 0
		for total < len(p) {
			n, cost := s.next(p[total:], m, 64)
			if n < 1 || n > 64 || cost < 0 {
				t.Fatalf("segment of %d bytes costing %v", n, cost)
			}
			total += n
		}
		// A single pass over the pacer with these segments must terminate.
		clk := &vclock{now: time.Unix(0, 0)}
		pc := pacer{clock: clk, baud: 9600, size: 160}
		var s2 streamParser
		for i := 0; i < len(p); {
			n, cost := s2.next(p[i:], m, 80)
			if err := pc.wait(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			pc.sent(n, cost)
			if pc.held > 160+80 {
				t.Fatalf("model holds %d bytes", pc.held)
			}
			i += n
		}
	})
}

func TestHaltInterruptsPacedPrint(t *testing.T) {
	clk := fakeclock.New(time.Unix(0, 0))
	var sink bytes.Buffer
	s, err := NewSerial(&sink, &SerialOpts{Baud: 19200, BufferSize: 256, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, &Opts{Profile: Adafruit})
	if err != nil {
		t.Fatal(err)
	}
	printed := make(chan error, 1)
	go func() { printed <- d.Print(context.Background(), gradient(384, 255)) }()
	clk.BlockUntil(1) // a 255-row band is pacing: ~8 s of printer time
	halted := make(chan error, 1)
	go func() { halted <- d.Halt() }()
	// Print gives up without any time passing.
	if err := <-printed; !errors.Is(err, context.Canceled) {
		t.Fatalf("Print after Halt: %v", err)
	}
	// Halt now completes the band (paced), so let time run.
	for done := false; !done; {
		select {
		case err := <-halted:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		default:
			if clk.Waiters() > 0 {
				clk.Advance(time.Second)
			} else {
				runtime.Gosched()
			}
		}
	}
	bands, cmds := splitJob(t, sink.Bytes())
	if len(bands) != 1 || bands[0].rows != 255 || cmds[len(cmds)-1] != "ESC @" {
		t.Fatalf("bands %d, commands %q", len(bands), cmds)
	}
}
