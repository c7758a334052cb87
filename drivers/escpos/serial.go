package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarm/serial"
)

// SerialOpts configures a serial printer link and its pacing: the printer's
// profile (baud rate, dot-line time, feed time, buffer) and, if wired, its
// busy line. The heat settings come from the stream itself: the pacer reads
// the `ESC 7` and `DC2 #` the Dev sends and slows down for darker settings.
type SerialOpts struct {
	// Baud rate: 19200 for most CSN-A2 printers, 9600 for some. 0 means 19200.
	Baud int
	// LineTime is how long the printer takes for one dot line of an image
	// at Adafruit's heat settings (ESC 7 11 120 40, density 10, break time
	// 2). 0 means 30 ms, Adafruit's measured dotPrintTime for the CSN-A2.
	// Slower heat settings in the stream scale it up (never down), and the
	// pacer adds a 10 % margin.
	LineTime time.Duration
	// FeedTime is how long the printer takes to feed paper by one dot line
	// (a text line is 32 dots). 0 means 2.1 ms (Adafruit's dotFeedTime).
	FeedTime time.Duration
	// BufferSize is the printer's receive buffer in bytes. 0 means 256, what
	// Adafruit's library assumes; larger values help only if measured.
	BufferSize int
	// Busy is the printer's DTR output read on a GPIO, if wired (nil: not
	// wired). Writes then also wait while it reports busy, in small pieces
	// sent only once the previous ones are through the wire, so a printer
	// slower than its profile still never overflows. The printer drives the
	// line only after `GS a 32`: set Opts.DTR too.
	Busy BusyLine
	// Clock paces the writes; nil means the system clock.
	Clock Clock
}

// BusyLine is the printer's busy signal: Adafruit's printers raise DTR
// while their buffer is too full to take more (Adafruit_Thermal's
// timeoutWait polls it instead of timing when it is wired).
type BusyLine interface {
	Busy() (bool, error)
}

// Busy-line handling: the piece written between two looks at the line, how
// often the line is polled, and how long past the model's estimate it may
// stay busy before the printer is declared stuck (off, or the line not
// wired after all: Adafruit reads it with a pull-up).
const (
	busyChunk   = 16
	busyPoll    = 2 * time.Millisecond
	busyTimeout = 10 * time.Second
)

// DefaultSerialOpts returns the settings for an Adafruit/CSN-A2 printer.
func DefaultSerialOpts() *SerialOpts {
	return &SerialOpts{Baud: 19200, LineTime: 30 * time.Millisecond, FeedTime: 2100 * time.Microsecond, BufferSize: 256}
}

func (o *SerialOpts) normalized() (SerialOpts, error) {
	var n SerialOpts
	if o != nil {
		n = *o
	}
	d := DefaultSerialOpts()
	if n.Baud == 0 {
		n.Baud = d.Baud
	}
	if n.LineTime == 0 {
		n.LineTime = d.LineTime
	}
	if n.FeedTime == 0 {
		n.FeedTime = d.FeedTime
	}
	if n.BufferSize == 0 {
		n.BufferSize = d.BufferSize
	}
	if n.Clock == nil {
		n.Clock = systemClock{}
	}
	if n.Baud < 300 || n.Baud > 4000000 {
		return n, fmt.Errorf("escpos: serial: baud %d out of range 300..4000000", n.Baud)
	}
	if n.LineTime < 0 || n.FeedTime < 0 {
		return n, fmt.Errorf("escpos: serial: negative line or feed time")
	}
	if n.LineTime > 10*time.Second || n.FeedTime > 10*time.Second {
		return n, fmt.Errorf("escpos: serial: line time %v or feed time %v above 10 s", n.LineTime, n.FeedTime)
	}
	// Two widest rows (72 bytes) plus a band header must fit, or the model
	// could never let a row through.
	if n.BufferSize < 160 {
		return n, fmt.Errorf("escpos: serial: buffer of %d bytes too small (min 160)", n.BufferSize)
	}
	return n, nil
}

// Serial is a printer on a serial line (TTL UART /dev/serial0, or a USB
// serial adapter /dev/ttyUSB0). These printers have no flow control on the
// UART, so writes are paced by a model of the printer, as Adafruit's
// library does: wire time from the baud rate, print time per dot line from
// the profile and the heat settings in the stream, feed time, a settling
// time after the wake byte, and a receive buffer that must never overflow
// (an overflow drops bytes and prints garbage). A wired busy line
// (SerialOpts.Busy) is obeyed on top of the model.
type Serial struct {
	name   string
	port   io.ReadWriter
	opts   SerialOpts
	closed atomic.Bool

	mu     sync.Mutex // one writer at a time: the model is sequential
	pacer  pacer
	parser streamParser
	mech   mechanics // the profile's times with the margin
}

// OpenSerial opens a serial port (8N1, no flow control) and paces writes.
func OpenSerial(port string, opts *SerialOpts) (*Serial, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	// The read timeout lets Read notice Close; replies are single bytes.
	p, err := serial.OpenPort(&serial.Config{Name: port, Baud: o.Baud, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		return nil, fmt.Errorf("escpos: serial: open %s at %d baud: %w", port, o.Baud, err)
	}
	s := newSerial(p, port, o)
	return s, nil
}

// NewSerial paces writes to an already open link, e.g. a pseudo-terminal or
// a Bluetooth RFCOMM socket. rw may also implement io.Closer.
func NewSerial(rw io.ReadWriter, opts *SerialOpts) (*Serial, error) {
	if rw == nil {
		return nil, errors.New("escpos: serial: nil link")
	}
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	return newSerial(rw, fmt.Sprintf("%T", rw), o), nil
}

func newSerial(rw io.ReadWriter, name string, o SerialOpts) *Serial {
	return &Serial{
		name: name,
		port: rw,
		opts: o,
		pacer: pacer{
			clock: o.Clock,
			baud:  int64(o.Baud),
			size:  o.BufferSize,
		},
		mech: mechanics{
			line: o.LineTime * marginNum / marginDen,
			feed: o.FeedTime * marginNum / marginDen,
		},
	}
}

// String names the port and its speed.
func (s *Serial) String() string { return fmt.Sprintf("serial:%s@%d", s.name, s.opts.Baud) }

// Write sends p paced so the printer's buffer never overflows. It blocks for
// about as long as the printer takes to catch up.
func (s *Serial) Write(p []byte) (int, error) {
	return s.WriteContext(context.Background(), p)
}

// WriteContext is Write that gives up, between printer rows, when ctx ends.
// The bytes counted in the returned n were sent.
func (s *Serial) WriteContext(ctx context.Context, p []byte) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("escpos: serial: write to closed %s", s.name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mech
	// Text and commands go in pieces of at most half the buffer so the model
	// can interleave them with the printer's progress; with a busy line, in
	// pieces small enough for the room the printer keeps when it says busy.
	maxSeg := s.opts.BufferSize / 2
	if s.opts.Busy != nil {
		maxSeg = busyChunk
	}
	sent := 0
	for sent < len(p) {
		st := s.parser
		seg := st.next(p[sent:], m, maxSeg)
		if err := s.pacer.wait(ctx, seg.n); err != nil {
			return sent, fmt.Errorf("escpos: serial: %w", err)
		}
		if err := s.waitReady(ctx); err != nil {
			return sent, fmt.Errorf("escpos: serial: %w", err)
		}
		w, err := s.port.Write(p[sent : sent+seg.n])
		if w == seg.n {
			s.parser = st
			s.pacer.sent(seg)
		} else if w > 0 {
			// Keep the model in step with the bytes that did go out: a
			// strict prefix of a segment completes no work.
			s.pacer.sent(s.parser.next(p[sent:sent+w], m, w))
		}
		sent += w
		if err != nil {
			return sent, fmt.Errorf("escpos: serial: write %s: %w", s.name, err)
		}
		if w < seg.n {
			return sent, fmt.Errorf("escpos: serial: short write to %s", s.name)
		}
	}
	return sent, nil
}

// waitReady waits while the busy line, if wired, says the printer cannot
// take more. It looks only once the bytes already written are through the
// wire: the line speaks for what the printer has received.
func (s *Serial) waitReady(ctx context.Context) error {
	if s.opts.Busy == nil {
		return nil
	}
	if err := s.pacer.waitWire(ctx); err != nil {
		return err
	}
	var deadline time.Time
	for {
		busy, err := s.opts.Busy.Busy()
		if err != nil {
			return fmt.Errorf("read busy line: %w", err)
		}
		if !busy {
			return nil
		}
		now := s.opts.Clock.Now()
		if deadline.IsZero() {
			deadline = now
			if s.pacer.lastDone.After(now) {
				deadline = s.pacer.lastDone
			}
			deadline = deadline.Add(busyTimeout)
		}
		if now.After(deadline) {
			return fmt.Errorf("printer busy for %v beyond the expected work (is it on, is dtr wired?)", busyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.opts.Clock.After(busyPoll):
		}
	}
}

// Read returns the printer's replies (status bytes). It blocks until at least
// one byte arrives or the port is closed; callers wanting a timeout (Status
// does) wait on it from another goroutine.
func (s *Serial) Read(p []byte) (int, error) {
	for {
		if s.closed.Load() {
			return 0, fmt.Errorf("escpos: serial: read from closed %s", s.name)
		}
		n, err := s.port.Read(p)
		if n > 0 || len(p) == 0 {
			return n, nil
		}
		// The port's read timeout shows up as EOF; keep waiting.
		if err != nil && !errors.Is(err, io.EOF) {
			return n, fmt.Errorf("escpos: serial: read %s: %w", s.name, err)
		}
		if err == nil || s.closed.Load() {
			// A port without a read timeout that returned nothing:
			// give the caller a chance instead of spinning.
			return 0, nil
		}
	}
}

// Close closes the port.
func (s *Serial) Close() error {
	s.closed.Store(true)
	if c, ok := s.port.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("escpos: serial: close %s: %w", s.name, err)
		}
	}
	return nil
}

// Halt closes the port: nothing more is sent.
func (s *Serial) Halt() error { return s.Close() }
