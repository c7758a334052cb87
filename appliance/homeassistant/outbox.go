package homeassistant

import (
	"slices"
	"sync"
)

// message is one publication.
type message struct {
	topic   string
	payload []byte
	retain  bool
}

func (m message) size() int { return len(m.topic) + len(m.payload) }

// outbox holds the messages waiting for the broker. Pushing never blocks:
// whatever the broker does, the caller goes on at once. A message for a
// topic already waiting replaces it (every topic here carries a state, and
// only the latest is worth sending: a burst of old states after an outage
// would only show Home Assistant values that are no longer true); past
// either cap the oldest message goes. Both are counted.
type outbox struct {
	maxMsgs, maxBytes int

	mu       sync.Mutex
	q        []entry
	bytes    int
	seq      uint64
	inFlight uint64 // seq of the message being sent; 0: none
	dropped  uint64
	replaced uint64
	sent     uint64
	wake     chan struct{} // a token when there may be work
}

type entry struct {
	message
	seq uint64
}

func newOutbox(maxMsgs, maxBytes int) *outbox {
	return &outbox{maxMsgs: maxMsgs, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// push queues m, replacing a waiting message for the same topic.
func (o *outbox) push(m message) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m.size() > o.maxBytes { // it would only push everything else out
		o.dropped++
		return
	}
	o.seq++
	for i := range o.q {
		if e := &o.q[i]; e.topic == m.topic && e.seq != o.inFlight {
			o.bytes += m.size() - e.size()
			e.message, e.seq = m, o.seq
			o.replaced++
			o.trim()
			o.signal()
			return
		}
	}
	o.q = append(o.q, entry{m, o.seq})
	o.bytes += m.size()
	o.trim()
	o.signal()
}

// trim drops the oldest messages, but never the one being sent, until the
// queue fits both caps.
func (o *outbox) trim() {
	for len(o.q) > 0 && (len(o.q) > o.maxMsgs || o.bytes > o.maxBytes) {
		i := 0
		if o.q[0].seq == o.inFlight {
			if len(o.q) == 1 {
				return
			}
			i = 1
		}
		o.bytes -= o.q[i].size()
		o.q = slices.Delete(o.q, i, i+1)
		o.dropped++
	}
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// next returns the oldest message and marks it as being sent; it stays
// queued until done, so a failed send leaves it for the next connection.
func (o *outbox) next() (message, uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.q) == 0 {
		return message{}, 0, false
	}
	o.inFlight = o.q[0].seq
	return o.q[0].message, o.q[0].seq, true
}

// done removes the message next returned, once the broker has it.
func (o *outbox) done(seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight = 0
	o.sent++
	for i, e := range o.q {
		if e.seq == seq {
			o.bytes -= e.size()
			o.q = slices.Delete(o.q, i, i+1)
			return
		}
	}
}

// failed leaves the message next returned in the queue.
func (o *outbox) failed() {
	o.mu.Lock()
	o.inFlight = 0
	o.mu.Unlock()
}

// countSent counts a message sent outside the queue (discovery, availability).
func (o *outbox) countSent() {
	o.mu.Lock()
	o.sent++
	o.mu.Unlock()
}

type outboxStats struct {
	Queued, Bytes           int
	Dropped, Replaced, Sent uint64
}

func (o *outbox) stats() outboxStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return outboxStats{Queued: len(o.q), Bytes: o.bytes, Dropped: o.dropped, Replaced: o.replaced, Sent: o.sent}
}
