package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Status is the printer's answer to `DLE EOT 1` and `DLE EOT 4`.
type Status struct {
	Offline  bool // DLE EOT 1 bit 3
	NearEnd  bool // DLE EOT 4 bits 2-3: paper roll near its end
	PaperOut bool // DLE EOT 4 bits 5-6: no paper
	Raw      [2]byte
}

func (s Status) String() string {
	switch {
	case s.PaperOut:
		return "paper out"
	case s.Offline:
		return "offline"
	case s.NearEnd:
		return "paper near end"
	}
	return "ready"
}

// Status asks the printer for its state. It needs a bidirectional link (the
// writer given to New must also be an io.Reader) and gives up after
// Opts.StatusTimeout. A print job in progress is not interrupted: Status
// waits for it.
func (d *Dev) Status(ctx context.Context) (Status, error) {
	r, ok := d.w.(io.Reader)
	if !ok {
		return Status{}, fmt.Errorf("escpos: status needs a bidirectional link; %T cannot read back", d.w)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var s Status
	for i, n := range []byte{1, 4} {
		if _, err := d.w.Write([]byte{dle, eot, n}); err != nil {
			return s, fmt.Errorf("escpos: status query: %w", err)
		}
		b, err := d.readByte(ctx, r)
		if err != nil {
			return s, fmt.Errorf("escpos: status (DLE EOT %d): %w", n, err)
		}
		// Bits 0 and 7 are always 0, bits 1 and 4 always 1 in a real
		// status byte: anything else is line noise or another protocol.
		if b&0x93 != 0x12 {
			return s, fmt.Errorf("escpos: status (DLE EOT %d): unexpected reply %#02x", n, b)
		}
		s.Raw[i] = b
	}
	s.Offline = s.Raw[0]&0x08 != 0
	s.NearEnd = s.Raw[1]&0x0c != 0
	s.PaperOut = s.Raw[1]&0x60 != 0
	return s, nil
}

// readByte reads one byte with the status timeout. The read runs in its own
// goroutine because an arbitrary io.Reader cannot be interrupted; a late
// reply is dropped.
func (d *Dev) readByte(ctx context.Context, r io.Reader) (byte, error) {
	type result struct {
		b   byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var buf [1]byte
		for empty := 0; ; empty++ {
			n, err := r.Read(buf[:])
			if n == 1 {
				ch <- result{b: buf[0]}
				return
			}
			// EOF is "nothing yet" on printer nodes and ports with
			// read timeouts; other errors are final.
			if err != nil && !errors.Is(err, io.EOF) {
				ch <- result{err: err}
				return
			}
			if ctx.Err() != nil {
				ch <- result{err: ctx.Err()}
				return
			}
			if empty > 100 {
				ch <- result{err: errors.New("the link reads back nothing (no bidirectional support?)")}
				return
			}
		}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-d.opts.Clock.After(d.opts.StatusTimeout):
		return 0, fmt.Errorf("no reply within %v (is the link bidirectional and the printer on?)", d.opts.StatusTimeout)
	}
}
