package picam

import (
	"context"
	"slices"
)

// BorrowingSource is a Source that can lend its frames instead of giving
// them away: StreamBorrowed is Stream, except that each slice is valid only
// during the call to emit. The owner copies it into a buffer of its own that
// it reuses once nobody holds the frame, so a steady stream allocates
// nothing. RPiCam is one.
type BorrowingSource interface {
	Source
	StreamBorrowed(ctx context.Context, emit func(jpeg []byte)) error
}

// maxSpareBufs caps the frame buffers kept for reuse: enough for a ring of
// pre-motion frames and the viewers in the middle of a write; more are left
// to the garbage collector.
const maxSpareBufs = 16

// frameBuf is the memory of one frame copied from a BorrowingSource. All of
// its fields are guarded by the owner's mu.
type frameBuf struct {
	b    []byte
	seq  uint64
	refs int  // Holds not released yet
	kept bool // handed out by Next or Latest, whose callers never give it back
}

// takeBufLocked returns a buffer of at least n bytes, not in use.
func (o *Owner) takeBufLocked(n int) *frameBuf {
	for i := len(o.spareBufs) - 1; i >= 0; i-- {
		if b := o.spareBufs[i]; cap(b.b) >= n {
			o.spareBufs = slices.Delete(o.spareBufs, i, i+1)
			b.b = b.b[:n]
			return b
		}
	}
	// Room to grow: the next frames of a scene are about this size.
	return &frameBuf{b: make([]byte, n, n+n/4)}
}

// freeIfUnusedLocked makes b's memory reusable once it is neither the newest
// frame nor held, unless its bytes may still be in someone's hands.
func (o *Owner) freeIfUnusedLocked(b *frameBuf) {
	if b.refs > 0 || b == o.curBuf {
		return
	}
	if i := slices.Index(o.live, b); i >= 0 {
		o.live = slices.Delete(o.live, i, i+1)
	}
	if !b.kept && len(o.spareBufs) < maxSpareBufs {
		o.spareBufs = append(o.spareBufs, b)
	}
}

// emitBorrowed takes a frame lent by a BorrowingSource.
func (o *Owner) emitBorrowed(jpeg []byte) {
	w, h, err := ParseSize(jpeg)
	if err != nil {
		o.mu.Lock()
		o.stats.Corrupt++
		o.mu.Unlock()
		return
	}
	o.mu.Lock()
	b := o.takeBufLocked(len(jpeg))
	o.mu.Unlock()
	copy(b.b, jpeg) // outside the lock: readers are not held up by it
	o.mu.Lock()
	defer o.mu.Unlock()
	b.refs, b.kept = 0, false
	o.live = append(o.live, b)
	o.publishLocked(b.b[:len(b.b):len(b.b)], b, w, h)
}

// Hold is Next for a reader that gives the frame back: the JPEG stays valid
// until Release(f), after which the owner may reuse its bytes. Every frame
// Hold returns must be released exactly once.
func (o *Owner) Hold(ctx context.Context, after uint64) (Frame, error) {
	return o.next(ctx, after, true)
}

// Release gives back a frame from Hold. A frame released once too often
// could be reused while another holder still reads it: that is the caller's
// bug; the newest frame, at least, is never reused while it is the newest.
func (o *Owner) Release(f Frame) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range o.live {
		if b.seq == f.Seq {
			if b.refs > 0 {
				b.refs--
			}
			o.freeIfUnusedLocked(b)
			return
		}
	}
}

// markLocked notes who got the newest frame: a holder (one more reference)
// or a caller of Next or Latest (the bytes are theirs for good).
func (o *Owner) markLocked(hold bool) {
	b := o.curBuf
	if b == nil {
		return
	}
	if hold {
		b.refs++
	} else {
		b.kept = true
	}
}
