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
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tinkerbox/drivers/sim"
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

// modelLink is the serial port of the virtual-time tests: what is written
// goes to the simulator's serial printer model (finite buffer, line time
// from the heat settings it receives, bytes lost on overflow) and is kept.
type modelLink struct {
	p   *sim.Printer
	out bytes.Buffer
}

func (l *modelLink) Write(b []byte) (int, error) {
	l.out.Write(b)
	return l.p.Write(b)
}
func (l *modelLink) Read(p []byte) (int, error) { return 0, io.EOF }

// modelJob prints img paced by so into a printer modelled by m, on virtual
// time. It returns the model's buffer once the head is through, the time
// from the first byte to the end of printing, and the stream.
func modelJob(t *testing.T, so SerialOpts, m sim.SerialModel, img image.Image, o *Opts) (sim.BufferStats, time.Duration, []byte) {
	t.Helper()
	clk := &vclock{now: time.Unix(1000, 0)}
	so.Clock, m.Clock = clk, clk
	w := 384
	if o != nil && o.Width != 0 {
		w = o.Width
	}
	link := &modelLink{p: sim.NewPrinter(&sim.PrinterOpts{Width: w, Serial: &m})}
	if o != nil && o.DTR {
		so.Busy = link.p // the model's DTR line on a GPIO
	}
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
	clk.now = clk.now.Add(time.Hour) // let the model print everything
	b := link.p.Buffer()
	// Unless bytes were lost (then the printer may wait for the rest of a
	// command forever), it must have printed everything as sent.
	if b.Dropped == 0 {
		if b.Fill != 0 {
			t.Fatalf("model still holds %d bytes an hour later", b.Fill)
		}
		if errs := link.p.Errors(); len(errs) > 0 {
			t.Errorf("decode errors: %q", errs)
		}
		bm := Dither(img, w, o)
		if rows := link.p.Rows(); rows < bm.Height {
			t.Errorf("%d rows on the roll, want at least %d", rows, bm.Height)
		}
	}
	return b, b.Finished.Sub(start), link.out.Bytes()
}

func TestPacingPrinterFasterThanLink(t *testing.T) {
	// 19200 baud = 1920 bytes/s; the head prints a 48-byte row in 10 ms
	// (4800 bytes/s): the link is the bottleneck and must stay busy.
	so := SerialOpts{Baud: 19200, LineTime: 10 * time.Millisecond, BufferSize: 256}
	img := gradient(384, 400)
	o := &Opts{Profile: Adafruit}
	b, elapsed, stream := modelJob(t, so, sim.SerialModel{Baud: 19200, LineTime: 10 * time.Millisecond}, img, o)
	if b.Dropped > 0 || b.Peak > so.BufferSize {
		t.Errorf("%d bytes lost, peak %d in a %d-byte buffer", b.Dropped, b.Peak, so.BufferSize)
	}
	ideal := time.Duration(float64(len(stream)) * 10 / 19200 * float64(time.Second))
	use := float64(ideal) / float64(elapsed)
	t.Logf("%d bytes in %v, wire minimum %v: %.1f %% of the link, peak %d", len(stream), elapsed, ideal, 100*use, b.Peak)
	// The pacer counts 11 bits a byte (Adafruit's BYTE_TIME): at most
	// 10/11 of the link.
	if use < 0.85 {
		t.Errorf("link use %.1f %%, want >= 85 %%", 100*use)
	}
	// Pacing must not change the bytes.
	var want bytes.Buffer
	if err := Encode(&want, Dither(img, 384, o), o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stream, want.Bytes()) {
		t.Error("paced stream differs from the encoded job")
	}
}

func TestPacingPrinterSlowerThanLink(t *testing.T) {
	for _, tc := range []struct {
		name  string
		so    SerialOpts
		model sim.SerialModel
		opts  *Opts
	}{
		// Adafruit's figure: 30 ms a dot line, 1600 bytes/s at 384 dots.
		{"adafruit-19200", SerialOpts{Baud: 19200, BufferSize: 256}, sim.SerialModel{}, &Opts{Profile: Adafruit}},
		{"generic-115200", SerialOpts{Baud: 115200, LineTime: 20 * time.Millisecond, BufferSize: 1024},
			sim.SerialModel{Baud: 115200, LineTime: 20 * time.Millisecond, BufferSize: 1024}, &Opts{Width: 576, BandRows: 100}},
		{"9600-small-buffer", SerialOpts{Baud: 9600, LineTime: 4 * time.Millisecond, BufferSize: 160},
			sim.SerialModel{Baud: 9600, LineTime: 4 * time.Millisecond, BufferSize: 160}, &Opts{Width: 384}},
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
			rows := 300
			b, elapsed, stream := modelJob(t, tc.so, tc.model, gradient(w, rows), tc.opts)
			if b.Dropped > 0 || b.Peak > so.BufferSize {
				t.Errorf("%d bytes lost, peak %d in a %d-byte buffer", b.Dropped, b.Peak, so.BufferSize)
			}
			// Throughput: close to whichever of link and head, as the
			// pacer plans them (11-bit bytes, 10 % on the line), is slower.
			wire := time.Duration(float64(len(stream)) * bitsPerByte / float64(so.Baud) * float64(time.Second))
			head := time.Duration(rows) * so.LineTime * marginNum / marginDen
			ideal := max(wire, head)
			t.Logf("%d bytes, %d rows in %v (plan %v), peak %d/%d", len(stream), rows, elapsed, ideal, b.Peak, so.BufferSize)
			if float64(ideal)/float64(elapsed) < 0.95 {
				t.Errorf("took %v, more than the plan %v / 0.95", elapsed, ideal)
			}
		})
	}
}

// darkBands is a 384-dot picture with solid black bands (the rows that
// need the most heating) between grey ramps.
func darkBands(rows int) *image.Gray {
	g := gradient(384, rows)
	for y := 0; y < rows; y++ {
		if y/20%3 == 0 {
			clear(g.Pix[y*g.Stride : y*g.Stride+384])
		}
	}
	return g
}

// TestPacingHeatSettings prints through the simulator's model of a CSN-A2
// whose dot line takes longer for darker heat settings (it scales
// Adafruit's 30 ms by the heating time of the settings it receives). The
// pacer must read the same settings from the stream and never overflow the
// 256-byte buffer, including at 40 ms a line and at the slowest settings
// tinkerbox sends.
func TestPacingHeatSettings(t *testing.T) {
	adafruit := SerialOpts{Baud: 19200, BufferSize: 256}
	for _, tc := range []struct {
		name  string
		so    SerialOpts
		model sim.SerialModel
		opts  Opts
		rows  int
		line  time.Duration // the model's dot line, for the log
	}{
		{"defaults 30ms", adafruit, sim.SerialModel{}, Opts{}, 600, 30 * time.Millisecond},
		// heating 4·(1.78+0.40)+0.5 = 9.22 ms against 6.9 ms: 40.1 ms a line.
		{"heat time 178: 40ms", adafruit, sim.SerialModel{}, Opts{Heat: Heat{Dots: 11, Time: 178, Interval: 40}}, 600, 40087 * time.Microsecond},
		{"density 31 and heat 255", adafruit, sim.SerialModel{}, Opts{Heat: Heat{Dots: 11, Time: 255, Interval: 40}, Density: 31}, 300, 0},
		// The slowest the escpos options allow: 8 dots at a time, every
		// time at its maximum: 1.63 s a line.
		{"slowest", adafruit, sim.SerialModel{}, Opts{Heat: Heat{Dots: 0, Time: 255, Interval: 255}, Density: 31, BreakTime: 7}, 40, 1630 * time.Millisecond},
		// A unit 10 % slower than Adafruit's: the margin covers it.
		{"unit 10% slow", adafruit, sim.SerialModel{LineTime: 33 * time.Millisecond}, Opts{}, 600, 33 * time.Millisecond},
		// A 40 ms printer with a profile that says so.
		{"profile 40ms", SerialOpts{Baud: 19200, LineTime: 40 * time.Millisecond}, sim.SerialModel{LineTime: 40 * time.Millisecond}, Opts{}, 600, 40 * time.Millisecond},
		// A 40 ms printer whose profile says 30 ms, with its DTR line wired.
		{"dtr 40ms", adafruit, sim.SerialModel{LineTime: 40 * time.Millisecond}, Opts{DTR: true}, 600, 40 * time.Millisecond},
		{"dtr slowest", adafruit, sim.SerialModel{}, Opts{Heat: Heat{Dots: 0, Time: 255, Interval: 255}, Density: 31, BreakTime: 7, DTR: true}, 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Profile = Adafruit
			b, elapsed, _ := modelJob(t, tc.so, tc.model, darkBands(tc.rows), &tc.opts)
			t.Logf("%d rows in %v, peak %d of %d bytes queued, %d lost", tc.rows, elapsed, b.Peak, b.Size, b.Dropped)
			if b.Dropped > 0 || b.Peak > b.Size {
				t.Errorf("overflow: %d bytes lost, peak %d in a %d-byte buffer", b.Dropped, b.Peak, b.Size)
			}
			if tc.line > 0 {
				if min := time.Duration(tc.rows) * tc.line; elapsed < min {
					t.Errorf("printed in %v: faster than the model's head (%v)", elapsed, min)
				}
			}
		})
	}
}

// TestModelCatchesFastPacing checks the model against pacing that is too
// fast: a 40 ms printer paced as a 30 ms one without its DTR line (what
// tinkerbox did for any heat setting before the pacer read them) loses
// bytes, and the queue it would need grows with the job.
func TestModelCatchesFastPacing(t *testing.T) {
	img := darkBands(600)
	so := SerialOpts{Baud: 19200, LineTime: 30 * time.Millisecond}
	b, _, _ := modelJob(t, so, sim.SerialModel{LineTime: 40 * time.Millisecond}, img, &Opts{Profile: Adafruit})
	if b.Dropped == 0 {
		t.Fatalf("no bytes lost pacing a 40 ms printer at 30 ms (peak %d)", b.Peak)
	}
	big, _, _ := modelJob(t, so, sim.SerialModel{LineTime: 40 * time.Millisecond, BufferSize: 1 << 20}, img, &Opts{Profile: Adafruit})
	t.Logf("256-byte buffer: %d bytes lost; unbounded buffer: peak %d bytes queued", b.Dropped, big.Peak)
	if big.Peak < 2000 {
		t.Errorf("peak %d with an unbounded buffer: the model is not slower than the pacing", big.Peak)
	}
}

// TestModelWake checks the model loses what arrives within 50 ms of the
// wake byte, so the pacer's settling wait is tested by every Adafruit job.
func TestModelWake(t *testing.T) {
	clk := &vclock{now: time.Unix(0, 0)}
	p := sim.NewPrinter(&sim.PrinterOpts{Serial: &sim.SerialModel{Clock: clk}})
	bm := Dither(gradient(384, 10), 384, &Opts{Profile: Adafruit})
	var job bytes.Buffer
	if err := Encode(&job, bm, &Opts{Profile: Adafruit}); err != nil {
		t.Fatal(err)
	}
	p.Write(job.Bytes()[:40]) // unpaced: straight after the wake byte
	clk.now = clk.now.Add(time.Minute)
	if b := p.Buffer(); b.Dropped == 0 {
		t.Fatal("bytes sent within 50 ms of the wake byte were taken")
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

// adafruitInitLen is the length of the Adafruit profile's init.
func adafruitInitLen(t *testing.T) int {
	o, err := (&Opts{Profile: Adafruit}).normalized()
	if err != nil {
		t.Fatal(err)
	}
	return len(initSequence(&o))
}

// runClock advances clk by a second whenever something waits on it, until
// stop is closed: for the parts of a test where time just has to pass.
func runClock(clk *fakeclock.Clock, stop <-chan struct{}) {
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
	clk.BlockUntil(1) // the printer wakes up: nothing more for 50 ms
	if sink.Len() != 1 || sink.Bytes()[0] != wake {
		t.Fatalf("sent % x before the wake-up wait, want the wake byte alone", sink.Bytes())
	}
	clk.Advance(time.Second)
	clk.BlockUntil(1) // the pacer waits for the printer
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Print after cancel: %v", err)
	}
	sent := sink.Len()
	head := adafruitInitLen(t) + 4 // init and DC2 * header
	if sent <= head || sent > 256 {
		t.Fatalf("%d bytes sent before the buffer filled", sent)
	}
	// Halt completes the interrupted DC2 * with white rows and resets; the
	// pacer still waits for the printer, so keep the fake time moving.
	stop := make(chan struct{})
	defer close(stop)
	go runClock(clk, stop)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	bands, cmds := splitJob(t, sink.Bytes())
	if len(bands) != 1 || cmds[len(cmds)-1] != "ESC @" {
		t.Fatalf("after Halt: %d bands, commands %q", len(bands), cmds)
	}
	for _, b := range bands[0].data[sent-head:] {
		if b != 0 {
			t.Fatal("the completed rows are not white")
		}
	}
}

func TestPacingCancelDuringWake(t *testing.T) {
	// Cancelled before the init is through: Halt sends the rest of the
	// init as it is (commands, not white raster), then resets.
	clk := fakeclock.New(time.Unix(0, 0))
	var sink bytes.Buffer
	s, err := NewSerial(&sink, &SerialOpts{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, &Opts{Profile: Adafruit})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Print(ctx, gradient(384, 10)) }()
	clk.BlockUntil(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Print after cancel: %v", err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go runClock(clk, stop)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	_, cmds := splitJob(t, sink.Bytes())
	want := []string{"wake", "ESC 8 0 0", "ESC @", "ESC D [4 8 12 16 20 24 28 0]", "ESC 7 11 120 40", "DC2 # 0x4a", "ESC @"}
	if strings.Join(cmds, "|") != strings.Join(want, "|") {
		t.Errorf("commands %q, want %q", cmds, want)
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

// ptyClock is virtual time for TestSerialPTY. It moves only when the pacer
// waits, and only after the pty reader has handed every byte written so far
// to the model, so bytes reach the model at the virtual time they were
// written, however loaded the machine is.
type ptyClock struct {
	mu       sync.Mutex
	now      time.Time
	caughtUp func() // blocks until the reader has what the writer wrote
}

func (c *ptyClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *ptyClock) After(d time.Duration) <-chan time.Time {
	c.caughtUp()
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *ptyClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSerialPTY(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	clk := &ptyClock{now: time.Unix(1000, 0)}
	// A 115200-baud printer printing 48-byte rows in 8 ms with a
	// 512-byte buffer, as the profile says.
	so := &SerialOpts{Baud: 115200, LineTime: 8 * time.Millisecond, BufferSize: 512, Clock: clk}
	model := sim.NewPrinter(&sim.PrinterOpts{Serial: &sim.SerialModel{Clock: clk, Baud: 115200, LineTime: 8 * time.Millisecond, BufferSize: 512}})
	s, err := OpenSerial(slave, so)
	if err != nil {
		t.Skipf("cannot open the pty slave as a serial port: %v", err)
	}
	defer s.Close()
	const rows = 150

	var mu sync.Mutex
	var got bytes.Buffer
	var received atomic.Int64
	progress := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				mu.Lock()
				model.Write(buf[:n])
				got.Write(buf[:n])
				mu.Unlock()
				received.Add(int64(n))
				select {
				case progress <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return // master closed at the end of the test
			}
		}
	}()
	// Only the writer (this goroutine, inside Print) reads s.pacer.
	clk.caughtUp = func() {
		want := s.pacer.total
		failsafe := time.After(time.Minute) // a broken pty, not a slow machine
		for received.Load() < want {
			select {
			case <-progress:
			case <-failsafe:
				t.Fatalf("the pty passed %d of %d bytes in a minute", received.Load(), want)
			}
		}
	}

	img := gradient(384, rows)
	var job bytes.Buffer
	if err := Encode(&job, Dither(img, 384, nil), DefaultOpts()); err != nil {
		t.Fatal(err)
	}
	d, err := New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	if err := d.Print(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	clk.caughtUp()
	clk.advance(time.Hour)
	mu.Lock()
	defer mu.Unlock()
	b := model.Buffer()
	elapsed := b.Finished.Sub(start)
	t.Logf("%d bytes over a pty, printed in %v of virtual time, peak %d/%d queued", got.Len(), elapsed, b.Peak, b.Size)
	if !bytes.Equal(got.Bytes(), job.Bytes()) {
		t.Fatal("bytes through the pty differ from the job")
	}
	if b.Dropped > 0 || b.Peak > so.BufferSize {
		t.Errorf("buffer overflow: %d bytes lost, peak %d", b.Dropped, b.Peak)
	}
	if want := rows + DefaultOpts().FeedLines*24; model.Rows() != want {
		t.Errorf("%d rows on the roll, want %d (image and feed)", model.Rows(), want)
	}
	if min := rows * so.LineTime; elapsed < min {
		t.Errorf("finished in %v: faster than the printer can print (%v)", elapsed, min)
	}
}

func FuzzStreamParser(f *testing.F) {
	f.Add([]byte{esc, '@', gs, 'v', '0', 0, 2, 0, 3, 0, 1, 2, 3, 4, 5, 6, esc, 'd', 3})
	f.Add([]byte{dc2, '*', 2, 1, 0xff, 0, dc2, '#', 0x4a, esc, '7', 1, 2, 3})
	f.Add([]byte("hello\n\nworld"))
	f.Add([]byte{gs, 'V', 66, 0, gs, 'V', 1, dle, eot, 4})
	f.Add([]byte{gs, 'v', '0', 0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{wake, esc, '8', 0, 0, esc, 'D', 4, 8, 12, 16, 0, esc, '7', 0, 255, 255, dc2, '#', 0xff, gs, 'a', 32})
	m := mechanics{line: time.Millisecond, feed: time.Microsecond}
	f.Fuzz(func(t *testing.T, p []byte) {
		var s streamParser
		total := 0
		for total < len(p) {
			seg := s.next(p[total:], m, 64)
			if seg.n < 1 || seg.n > 64 || seg.cost < 0 {
				t.Fatalf("segment of %d bytes costing %v", seg.n, seg.cost)
			}
			total += seg.n
		}
		// A single pass over the pacer with these segments must terminate.
		clk := &vclock{now: time.Unix(0, 0)}
		pc := pacer{clock: clk, baud: 9600, size: 160}
		var s2 streamParser
		for i := 0; i < len(p); {
			seg := s2.next(p[i:], m, 80)
			if err := pc.wait(context.Background(), seg.n); err != nil {
				t.Fatal(err)
			}
			pc.sent(seg)
			if pc.held > 160+80 {
				t.Fatalf("model holds %d bytes", pc.held)
			}
			i += seg.n
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
	clk.BlockUntil(1) // waking up
	clk.Advance(time.Second)
	clk.BlockUntil(1) // a 255-row band is pacing: ~8 s of printer time
	halted := make(chan error, 1)
	go func() { halted <- d.Halt() }()
	// Print gives up without any time passing.
	if err := <-printed; !errors.Is(err, context.Canceled) {
		t.Fatalf("Print after Halt: %v", err)
	}
	// Halt now completes the band (paced), so let time run.
	stop := make(chan struct{})
	go runClock(clk, stop)
	err = <-halted
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	bands, cmds := splitJob(t, sink.Bytes())
	if len(bands) != 1 || bands[0].rows != 255 || cmds[len(cmds)-1] != "ESC @" {
		t.Fatalf("bands %d, commands %q", len(bands), cmds)
	}
}

// scriptedBusy is a busy line that reads busy for the first n looks, or
// fails; it records when each look happened and how much had been sent.
type scriptedBusy struct {
	clk   *vclock
	sink  *bytes.Buffer
	busy  int
	err   error
	looks []time.Time
	sent  []int
}

func (b *scriptedBusy) Busy() (bool, error) {
	b.looks = append(b.looks, b.clk.Now())
	b.sent = append(b.sent, b.sink.Len())
	if b.err != nil {
		return false, b.err
	}
	if b.busy > 0 {
		b.busy--
		return true, nil
	}
	return false, nil
}

func TestBusyLine(t *testing.T) {
	clk := &vclock{now: time.Unix(0, 0)}
	var sink bytes.Buffer
	line := &scriptedBusy{clk: clk, sink: &sink, busy: 3}
	s, err := NewSerial(&sink, &SerialOpts{Baud: 19200, Busy: line, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	job := bytes.Repeat([]byte("x"), 100)
	if _, err := s.Write(job); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sink.Bytes(), job) {
		t.Fatal("bytes changed")
	}
	// Pieces of at most 16 bytes, each after a look at the line, and each
	// look only once what was sent before has crossed the wire.
	if len(line.looks) < 100/busyChunk+3 {
		t.Errorf("%d looks at the line for 100 bytes and 3 busy answers", len(line.looks))
	}
	byteTime := time.Second * bitsPerByte / 19200
	for i, at := range line.looks {
		if through := start.Add(time.Duration(line.sent[i]) * byteTime); at.Before(through) {
			t.Fatalf("look %d at %v with %d bytes still on the wire", i, at.Sub(start), line.sent[i])
		}
		if i > 0 && line.sent[i]-line.sent[i-1] > busyChunk {
			t.Fatalf("%d bytes sent between two looks", line.sent[i]-line.sent[i-1])
		}
	}
	if line.sent[3] != 0 {
		t.Errorf("sent %d bytes while the line said busy", line.sent[3])
	}

	// A failing line fails the write; a line stuck busy gives up.
	bad := &scriptedBusy{clk: clk, sink: &sink, err: errors.New("gpio gone")}
	s2, _ := NewSerial(&sink, &SerialOpts{Busy: bad, Clock: clk})
	if _, err := s2.Write([]byte("x")); err == nil || !strings.Contains(err.Error(), "gpio gone") {
		t.Errorf("write with a failing busy line: %v", err)
	}
	stuck := &scriptedBusy{clk: clk, sink: &sink, busy: 1 << 30}
	s3, _ := NewSerial(&sink, &SerialOpts{Busy: stuck, Clock: clk})
	before := clk.Now()
	if _, err := s3.Write([]byte("x")); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("write with a stuck busy line: %v", err)
	}
	if waited := clk.Now().Sub(before); waited < busyTimeout || waited > busyTimeout+time.Second {
		t.Errorf("gave up after %v, want %v", waited, busyTimeout)
	}
}

func TestParserHeatSettings(t *testing.T) {
	m := mechanics{line: 30 * time.Millisecond, feed: 2 * time.Millisecond}
	rowCost := func(prefix []byte) time.Duration {
		var s streamParser
		p := append(append([]byte{}, prefix...), dc2, '*', 1, 48)
		p = append(p, make([]byte, 48)...)
		var cost time.Duration
		for len(p) > 0 {
			seg := s.next(p, m, 1000)
			cost += seg.cost
			p = p[seg.n:]
		}
		return cost
	}
	if got := rowCost(nil); got != 30*time.Millisecond {
		t.Errorf("no settings: %v a row, want the profile's 30 ms", got)
	}
	if got := rowCost([]byte{esc, '7', 11, 120, 40, dc2, '#', 2<<5 | 10}); got != 30*time.Millisecond {
		t.Errorf("Adafruit's settings: %v a row, want 30 ms", got)
	}
	// Faster settings are not trusted to print faster.
	if got := rowCost([]byte{esc, '7', 47, 3, 0}); got != 30*time.Millisecond {
		t.Errorf("fast settings: %v a row, want 30 ms", got)
	}
	// 4·(1.78 + 0.40) + 0.5 = 9.22 ms of heating against 6.9 ms.
	if got, want := rowCost([]byte{esc, '7', 11, 178, 40}), 30*time.Millisecond*922/690; got != want {
		t.Errorf("heat time 178: %v a row, want %v", got, want)
	}
	// Density 31 is 205 %: 4·(1.2·2.05 + 0.4) + 0.5 = 11.94 ms.
	if got, want := rowCost([]byte{dc2, '#', 2<<5 | 31}), 30*time.Millisecond*1194/690; got != want {
		t.Errorf("density 31: %v a row, want %v", got, want)
	}
	// The wake byte ends a segment that must settle for 50 ms.
	var s streamParser
	if seg := s.next([]byte{wake, esc, '@'}, m, 100); seg.n != 1 || !seg.settle || seg.cost != wakeTime {
		t.Errorf("wake segment %+v", seg)
	}
	// ESC D's tab stops include DLE (16) and FS (28): they are arguments,
	// and the bitmap after them is still found.
	if got := rowCost([]byte{esc, 'D', 4, 8, 12, 16, 20, 24, 28, 0, esc, '8', 0, 0}); got != 30*time.Millisecond {
		t.Errorf("after tab stops: %v a row", got)
	}
}
