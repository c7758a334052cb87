package escpos

import (
	"context"
	"time"
)

// pacer models a printer with a receive buffer and no flow control (the
// CSN-A2 family): bytes cross the wire at 10 bits per byte (start, 8 data,
// stop), wait in the printer's buffer, and leave it once printed. A raster
// row prints when it has fully arrived and the previous work is done, and
// takes lineTime; feeds take their feed time; other commands are instant.
// Bytes count against the buffer from the moment they are written (the wire
// is part of the pipe) until the model says they are printed, so the real
// buffer can never hold more than size.
type pacer struct {
	clock    Clock
	baud     int64
	size     int
	wireFree time.Time // when the last written byte reaches the printer
	lastDone time.Time // when the printer finishes everything written
	q        []pacedItem
	held     int
}

type pacedItem struct {
	n    int
	done time.Time
}

// wireTime is how long n bytes take on the wire, rounded up.
func (p *pacer) wireTime(n int) time.Duration {
	ns := (int64(n)*10*int64(time.Second) + p.baud - 1) / p.baud
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

// wait blocks until n more bytes fit in the printer's buffer.
func (p *pacer) wait(ctx context.Context, n int) error {
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

// sent records n bytes just written whose processing costs cost.
func (p *pacer) sent(n int, cost time.Duration) {
	now := p.clock.Now()
	start := p.wireFree
	if start.Before(now) {
		start = now
	}
	arrive := start.Add(p.wireTime(n))
	p.wireFree = arrive
	done := p.lastDone
	if done.Before(arrive) {
		done = arrive
	}
	done = done.Add(cost)
	p.lastDone = done
	p.q = append(p.q, pacedItem{n: n, done: done})
	p.held += n
}

// streamParser follows an ESC/POS byte stream just enough to know where
// raster rows end and how long feeds take. It is a value type so a caller
// can parse ahead on a copy and commit only what was really sent.
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
}

const (
	psIdle uint8 = iota
	psPrefix
	psArgs
	psData
)

// Timing of a printer's mechanics.
type mechanics struct {
	line time.Duration // one dot line printed
	feed time.Duration // one dot line fed
}

// Text lines: 24-dot characters plus 8 dots of spacing (the CSN-A2 default).
const (
	textLineDots = 24
	lineSpacing  = 8
)

// next consumes the next segment of p and returns its length and the time
// the printer spends on it. A segment ends after a byte that costs printing
// or feeding time, or after max bytes, or at the end of p.
func (s *streamParser) next(p []byte, m mechanics, max int) (int, time.Duration) {
	for i := 0; i < len(p); i++ {
		if cost, done := s.step(p[i], m); done {
			return i + 1, cost
		}
		if i+1 >= max {
			return i + 1, 0
		}
	}
	return len(p), 0
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
			return m.line, true
		}
		return 0, false
	case psPrefix:
		s.cmd[1] = c
		s.nargs = 0
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
	case '\n':
		wasText := s.text
		s.text = false
		if wasText {
			return textLineDots*m.line + lineSpacing*m.feed, true
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
		case '$', '\\':
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
