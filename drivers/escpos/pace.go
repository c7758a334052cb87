package escpos

import (
	"context"
	"time"
)

// pacer models a printer with a receive buffer and no flow control (the
// CSN-A2 family): bytes cross the wire at bitsPerByte, wait in the printer's
// buffer, and leave it once printed. A raster row prints when it has fully
// arrived and the previous work is done, and takes the line time; feeds take
// their feed time; other commands are instant. Bytes count against the
// buffer from the moment they are written (the wire is part of the pipe)
// until the model says they are printed, so the real buffer can never hold
// more than size.
type pacer struct {
	clock    Clock
	baud     int64
	size     int
	wireFree time.Time // when the last written byte reaches the printer
	lastDone time.Time // when the printer finishes everything written
	settle   time.Time // nothing more may be sent before this (waking up)
	q        []pacedItem
	held     int
	total    int64 // bytes written, for tests and diagnostics
}

type pacedItem struct {
	n    int
	done time.Time
}

// bitsPerByte is Adafruit's BYTE_TIME: start, 8 data and stop bits plus one
// bit of idle time, a margin for a printer whose UART clock runs slow.
const bitsPerByte = 11

// wireTime is how long n bytes take on the wire, rounded up.
func (p *pacer) wireTime(n int) time.Duration {
	ns := (int64(n)*bitsPerByte*int64(time.Second) + p.baud - 1) / p.baud
	return time.Duration(ns)
}

// release drops what the model says has been printed by now.
func (p *pacer) release(now time.Time) {
	i := 0
	for i < len(p.q) && !p.q[i].done.After(now) {
		p.held -= p.q[i].n
		i++
	}
	if i > 0 {
		p.q = append(p.q[:0], p.q[i:]...)
	}
}

// wait blocks until the printer has settled after a wake-up and n more
// bytes fit in its buffer.
func (p *pacer) wait(ctx context.Context, n int) error {
	if err := p.waitUntil(ctx, p.settle); err != nil {
		return err
	}
	for {
		now := p.clock.Now()
		p.release(now)
		if p.held+n <= p.size || len(p.q) == 0 {
			return nil
		}
		// The queue is in completion order: find the item whose
		// completion frees enough room.
		need := p.held + n - p.size
		until := p.q[len(p.q)-1].done
		for _, it := range p.q {
			need -= it.n
			if need <= 0 {
				until = it.done
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.clock.After(until.Sub(now)):
			// Trust the wait even if the clock reads early, so a
			// coarse or frozen clock cannot make this loop spin.
			p.release(until)
		}
	}
}

// waitWire blocks until every byte written so far has reached the printer,
// so that its busy line speaks for all of them.
func (p *pacer) waitWire(ctx context.Context) error { return p.waitUntil(ctx, p.wireFree) }

// waitUntil blocks until t by the clock (once: a clock that reads early is
// trusted to have waited).
func (p *pacer) waitUntil(ctx context.Context, t time.Time) error {
	now := p.clock.Now()
	if !t.After(now) {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.clock.After(t.Sub(now)):
		return nil
	}
}

// sent records the segment just written.
func (p *pacer) sent(s segment) {
	now := p.clock.Now()
	start := p.wireFree
	if start.Before(now) {
		start = now
	}
	arrive := start.Add(p.wireTime(s.n))
	p.wireFree = arrive
	done := p.lastDone
	if done.Before(arrive) {
		done = arrive
	}
	done = done.Add(s.cost)
	p.lastDone = done
	if s.settle {
		p.settle = done
	}
	p.q = append(p.q, pacedItem{n: s.n, done: done})
	p.held += s.n
	p.total += int64(s.n)
}

// heat is what the printer was told by `ESC 7 n1 n2 n3` and `DC2 # n`.
type heat struct {
	dots, time, interval uint8 // n1 (units of 8 dots, minus one), n2 and n3 (10 µs)
	density, breakTime   uint8 // n bits 4..0 (50 % + 5 % × n) and 7..5 (× 250 µs)
}

// refHeat is Adafruit's setHeatConfig(11, 120, 40) with density 10 (100 %)
// and break time 2, the settings at which its dotPrintTime (30 ms) was
// measured: a profile's LineTime is taken to be at these settings.
var refHeat = heat{dots: 11, time: 120, interval: 40, density: 10, breakTime: 2}

// headDots is the CSN-A2 head, the only printer that gets heat settings.
const headDots = 384

// strobe is the heating time of one all-black dot line: the head fires at
// most (n1+1)·8 dots at once, each group for the heat time scaled by the
// density and then rests for the interval; the break time ends the line.
func (h heat) strobe() time.Duration {
	group := (int(h.dots) + 1) * 8
	groups := (headDots + group - 1) / group
	on := time.Duration(h.time) * 10 * time.Microsecond * time.Duration(50+5*int(h.density)) / 100
	rest := time.Duration(h.interval) * 10 * time.Microsecond
	return time.Duration(groups)*(on+rest) + time.Duration(h.breakTime)*250*time.Microsecond
}

// lineTime is the time of one dot line under h for a printer that takes
// ref at refHeat. It scales ref by the heating time, which is an upper
// bound as long as part of ref is fixed mechanics (the paper motor), and
// never goes below ref: faster settings than the measured ones are not
// trusted to print faster.
func (h heat) lineTime(ref time.Duration) time.Duration {
	s, r := h.strobe(), refHeat.strobe()
	if s <= r {
		return ref
	}
	return time.Duration(int64(ref) * int64(s) / int64(r))
}

// Pacing margin on the profile's print and feed times, for a unit slower
// than the one measured (Adafruit: "your reality may be influenced by many
// factors").
const (
	marginNum = 11
	marginDen = 10
)

// wakeTime is how long the printer needs after the wake byte before it
// takes commands (CSN-A2 manual; Adafruit's wake() waits 50 ms).
const wakeTime = 50 * time.Millisecond

// segment is a piece of the stream the pacer sends in one write.
type segment struct {
	n      int
	cost   time.Duration // printer time the segment's last byte starts
	settle bool          // nothing may follow until that time is over
}

// streamParser follows an ESC/POS byte stream just enough to know where
// raster rows end, how long rows and feeds take under the heat settings
// seen so far, and where the printer wakes up. It is a value type so a
// caller can parse ahead on a copy and commit only what was really sent.
type streamParser struct {
	state    uint8
	cmd      [2]byte
	args     [6]byte
	nargs    int // collected
	need     int // still to collect
	dataLeft int // raster bytes still to come in the current image
	rowBytes int
	rowLeft  int
	text     bool // printable bytes since the last line feed
	heat     heat
	heatSet  bool // an ESC 7 or DC2 # was seen: heat is meaningful
	settle   bool // the last completed byte was a wake-up
}

const (
	psIdle uint8 = iota
	psPrefix
	psArgs
	psData
	psTabs // ESC D: tab stops up to a NUL
)

// Timing of a printer's mechanics at refHeat, margin included.
type mechanics struct {
	line time.Duration // one dot line printed
	feed time.Duration // one dot line fed
}

// Text lines: 24-dot characters plus 8 dots of spacing (the CSN-A2 default).
const (
	textLineDots = 24
	lineSpacing  = 8
	maxTabStops  = 32
)

// lineTime is one printed dot line under the heat settings seen so far.
func (s *streamParser) lineTime(m mechanics) time.Duration {
	if !s.heatSet {
		return m.line
	}
	return s.heat.lineTime(m.line)
}

// next consumes the next segment of p. A segment ends after a byte that
// costs printing or feeding time, or after max bytes, or at the end of p.
func (s *streamParser) next(p []byte, m mechanics, max int) segment {
	for i := 0; i < len(p); i++ {
		if cost, done := s.step(p[i], m); done {
			seg := segment{n: i + 1, cost: cost, settle: s.settle}
			s.settle = false
			return seg
		}
		if i+1 >= max {
			return segment{n: i + 1}
		}
	}
	return segment{n: len(p)}
}

// step advances over one byte; done is true when the byte completes work
// that takes cost.
func (s *streamParser) step(c byte, m mechanics) (time.Duration, bool) {
	switch s.state {
	case psData:
		s.dataLeft--
		s.rowLeft--
		if s.dataLeft == 0 {
			s.state = psIdle
		}
		if s.rowLeft == 0 {
			s.rowLeft = s.rowBytes
			return s.lineTime(m), true
		}
		return 0, false
	case psTabs:
		s.nargs++
		if c == 0 || s.nargs > maxTabStops {
			s.state = psIdle
		}
		return 0, false
	case psPrefix:
		s.cmd[1] = c
		s.nargs = 0
		if s.cmd == [2]byte{esc, 'D'} {
			s.state = psTabs
			return 0, false
		}
		s.need = argCount(s.cmd[0], c)
		if s.need == 0 {
			s.state = psIdle
			return s.finish(m)
		}
		s.state = psArgs
		return 0, false
	case psArgs:
		if s.nargs < len(s.args) {
			s.args[s.nargs] = c
		}
		s.nargs++
		s.need--
		// GS V m: a second byte follows only for m >= 65.
		if s.need == 0 && s.cmd == [2]byte{gs, 'V'} && s.nargs == 1 && c >= 65 {
			s.need = 1
		}
		if s.need > 0 {
			return 0, false
		}
		s.state = psIdle
		return s.finish(m)
	}
	switch c {
	case esc, gs, dc2, dle, 0x1c: // FS
		s.cmd[0] = c
		s.state = psPrefix
		return 0, false
	case wake:
		s.settle = true
		return wakeTime, true
	case '\n':
		wasText := s.text
		s.text = false
		if wasText {
			return textLineDots*s.lineTime(m) + lineSpacing*m.feed, true
		}
		return (textLineDots + lineSpacing) * m.feed, true
	}
	if c >= 0x20 {
		s.text = true
	}
	return 0, false
}

// finish acts on a complete command.
func (s *streamParser) finish(m mechanics) (time.Duration, bool) {
	a := s.args
	switch s.cmd {
	case [2]byte{esc, 'd'}:
		return time.Duration(a[0]) * (textLineDots + lineSpacing) * m.feed, true
	case [2]byte{esc, 'J'}:
		return time.Duration(a[0]) * m.feed, true
	case [2]byte{esc, '7'}:
		s.heat.dots, s.heat.time, s.heat.interval = a[0], a[1], a[2]
		if !s.heatSet {
			s.heat.density, s.heat.breakTime = refHeat.density, refHeat.breakTime
		}
		s.heatSet = true
	case [2]byte{dc2, '#'}:
		if !s.heatSet {
			s.heat = refHeat
		}
		s.heat.density, s.heat.breakTime = a[0]&0x1f, a[0]>>5
		s.heatSet = true
	case [2]byte{gs, 'v'}: // '0' m xL xH yL yH
		s.startData(int(a[2])|int(a[3])<<8, int(a[4])|int(a[5])<<8)
	case [2]byte{dc2, '*'}: // r n
		s.startData(int(a[1]), int(a[0]))
	}
	return 0, false
}

func (s *streamParser) startData(rowBytes, rows int) {
	if rowBytes <= 0 || rows <= 0 {
		return
	}
	s.rowBytes, s.rowLeft = rowBytes, rowBytes
	s.dataLeft = rowBytes * rows
	s.state = psData
	s.text = false
}

// argCount is the number of parameter bytes after a two-byte command.
func argCount(prefix, c byte) int {
	switch prefix {
	case esc:
		switch c {
		case '@', '2', '<', 'i', 'm':
			return 0
		case '7':
			return 3
		case '$', '\\', '8': // ESC 8 n1 n2: sleep after n seconds (firmware ≥ 2.64)
			return 2
		}
		return 1
	case gs:
		switch c {
		case 'v':
			return 6
		case 'L', 'W', '(':
			return 2
		}
		return 1
	case dc2:
		switch c {
		case '*':
			return 2
		case '#', 'V':
			return 1
		}
		return 0
	}
	return 1 // DLE EOT n, DLE ENQ n, FS x n
}
