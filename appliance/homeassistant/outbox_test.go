package homeassistant

import (
	"fmt"
	"testing"
)

func msg(topic string, n int) message { return message{topic, make([]byte, n), true} }

func TestOutboxReplacesAndDropsOldest(t *testing.T) {
	o := newOutbox(3, 1000)
	o.push(msg("a", 10))
	o.push(msg("b", 10))
	o.push(msg("a", 20)) // replaces a in place
	if st := o.stats(); st.Queued != 2 || st.Replaced != 1 || st.Bytes != 2+30 {
		t.Fatalf("%+v", st)
	}
	o.push(msg("c", 10))
	o.push(msg("d", 10)) // over 3 messages: the oldest (a) goes
	if st := o.stats(); st.Queued != 3 || st.Dropped != 1 {
		t.Fatalf("%+v", st)
	}
	var order []string
	for {
		m, seq, ok := o.next()
		if !ok {
			break
		}
		order = append(order, m.topic)
		o.done(seq)
	}
	if fmt.Sprint(order) != "[b c d]" {
		t.Errorf("sent %v, want [b c d]", order)
	}
	if st := o.stats(); st.Queued != 0 || st.Bytes != 0 || st.Sent != 3 {
		t.Errorf("%+v", st)
	}
}

// The message on the wire is neither replaced nor dropped: a failed send
// leaves it for the next connection, and a newer one for its topic waits
// behind it.
func TestOutboxKeepsWhatIsBeingSent(t *testing.T) {
	o := newOutbox(4, 150)
	o.push(msg("img", 60))
	m, seq, _ := o.next()
	o.push(msg("img", 61)) // a newer image while the first is on the wire
	if st := o.stats(); st.Queued != 2 || st.Replaced != 0 {
		t.Fatalf("%+v", st)
	}
	o.failed()
	if m2, seq2, _ := o.next(); m2.topic != m.topic || seq2 != seq {
		t.Fatalf("after a failure the same message comes again")
	}
	o.done(seq)
	if m3, _, _ := o.next(); len(m3.payload) != 61 {
		t.Fatalf("the newer image is next, got %d bytes", len(m3.payload))
	}
	o.failed()
	// Past the byte cap the oldest goes, but not the one on the wire.
	o.push(msg("state", 10))
	_, seq, _ = o.next() // the 61-byte image
	o.push(msg("img", 80))
	if st := o.stats(); st.Queued != 2 || st.Dropped != 1 || st.Bytes != 2+61+4+80 {
		t.Fatalf("want the state dropped, the image on the wire and the newest kept: %+v", st)
	}
	o.done(seq)
	o.push(msg("big", 500)) // larger than the whole queue: dropped at once
	if st := o.stats(); st.Queued != 1 || st.Dropped != 2 {
		t.Fatalf("%+v", st)
	}
}

func TestOutboxNeverBlocks(t *testing.T) {
	o := newOutbox(32, 1<<20)
	for i := range 100000 {
		o.push(msg(fmt.Sprint("state", i%8), 100))
	}
	if st := o.stats(); st.Queued != 8 || st.Replaced != 100000-8 || st.Dropped != 0 {
		t.Errorf("%+v", st)
	}
	for i := range 100000 {
		o.push(msg(fmt.Sprint("event", i), 100))
	}
	if st := o.stats(); st.Queued != 32 || st.Dropped != 100000-24 {
		t.Errorf("%+v", st)
	}
	select {
	case <-o.wake:
	default:
		t.Error("no wake-up for the sender")
	}
}
