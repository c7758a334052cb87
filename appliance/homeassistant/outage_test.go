package homeassistant

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/appliance/homeassistant/brokertest"
)

// A broker killed and started again on the same port, without its
// retained messages: the bridge reconnects and publishes the entities and
// availability again.
func TestBrokerRestart(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	b, _ := r.run(t)
	want := append(configTopics(testDevice, wantEntities[:0]), base+"/availability", base+"/state")
	settled(t, b, len(wantEntities)+2)

	br.Kill()
	eventually(t, "down", func() bool { return b.Status().State == StateDown })
	if st := b.Status(); st.LastError == "" || st.NextTry.IsZero() {
		t.Errorf("down without an error or a next try: %+v", st)
	}
	r.app.set(func(a *fakeApp) { a.queue = 4 }) // a change while down
	sent := b.Status().Sent
	restarted := time.Now()
	br.Start()
	got := retainedNow(t, br.URL(), append(configTopics(testDevice, wantEntities), want...))
	took := time.Since(restarted)
	if st := b.Status(); st.Connects != 2 || st.Sent <= sent {
		t.Errorf("after the restart: %+v", st)
	}
	if a := got[base+"/availability"]; string(a.Payload) != "online" {
		t.Errorf("availability %q", a.Payload)
	}
	if s := string(got[base+"/state"].Payload); !strings.Contains(s, `"print_queue":4`) {
		t.Errorf("state %s: the change while down is missing", s)
	}
	t.Logf("broker restart → every entity and availability retained again: %v (backoff %v–%v)", took.Round(time.Millisecond), r.o.BackoffMin, r.o.BackoffMax)
}

// A broker that stops answering (SIGSTOP) with the connection open: the
// appliance's reads go on at their pace, the queue stays within its caps
// while changes pile up, the bridge notices and retries; once the broker
// answers again (SIGCONT) the latest state arrives.
func TestStalledBroker(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	r.o.QueueMessages, r.o.QueueBytes = 4, 24<<10
	b, _ := r.run(t)
	settled(t, b, len(wantEntities)+2)

	all := brokertest.Watch(t, br.URL(), base+"/state")
	br.Stall()
	stalled := time.Now()
	before := r.app.get().statuses
	var slowest time.Duration
	for i := 1; b.Status().State == StateConnected || i < 50; i++ {
		if time.Since(stalled) > 20*time.Second {
			t.Fatalf("the bridge did not notice the stall: %+v", b.Status())
		}
		r.app.set(func(a *fakeApp) { a.queue = i })
		r.camera.capture(time.Now(), make([]byte, 6<<10+i)) // new snapshots too
		t0 := time.Now()
		st := b.Status()
		slowest = max(slowest, time.Since(t0))
		if st.Queued > 4 || st.QueuedBytes > 24<<10 {
			t.Fatalf("queue over its caps: %+v", st)
		}
		time.Sleep(5 * time.Millisecond) // a steady load, not a wait for anything
	}
	noticed := time.Since(stalled)
	polls := r.app.get().statuses - before
	// A burst of messages nothing replaces: each push returns at once, and
	// past the cap the oldest go, counted.
	dropped := b.Status().Dropped
	var slowestPush time.Duration
	for i := range 1000 {
		t0 := time.Now()
		b.box.push(message{fmt.Sprintf("%s/event/%d", base, i), make([]byte, 100), false})
		slowestPush = max(slowestPush, time.Since(t0))
	}
	st := b.Status()
	if st.Queued > 4 || st.Dropped < dropped+1000-4 {
		t.Errorf("after a burst of 1000: %+v", st)
	}
	if slowestPush > 50*time.Millisecond {
		t.Errorf("a push took %v with the broker stalled", slowestPush)
	}
	if want := int(noticed / r.o.Poll / 4); polls < want {
		t.Errorf("only %d reads of the appliance in %v of stall (want ≥ %d): the poller was held up", polls, noticed, want)
	}
	if slowest > 50*time.Millisecond {
		t.Errorf("Status took %v during the stall", slowest)
	}
	if st.Replaced == 0 {
		t.Errorf("no message replaced during the stall: %+v", st)
	}
	t.Logf("stall noticed after %v: %s; queue %d msgs %d B, %d replaced, %d dropped; slowest Status %v, slowest push %v",
		noticed.Round(time.Millisecond), st.LastError, st.Queued, st.QueuedBytes, st.Replaced, st.Dropped, slowest, slowestPush)

	r.app.set(func(a *fakeApp) { a.queue = 999 })
	br.Resume()
	eventually(t, "connected again", func() bool { return b.Status().State == StateConnected })
	ha := brokertest.Watch(t, br.URL(), base+"/state")
	t.Cleanup(func() {
		if t.Failed() {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			var seen []string
			for _, m := range all.All() {
				var st map[string]any
				json.Unmarshal(m.Payload, &st)
				seen = append(seen, fmt.Sprint(st["print_queue"], m.Retained))
			}
			b.mu.Lock()
			last := string(b.last)
			b.mu.Unlock()
			t.Logf("status %+v\nstate %v\nlast %s\nseen %v\n%s", b.Status(), stateOf(t, ha, base), last, seen, r.logs)
			_ = buf
		}
	})
	eventually(t, "latest state", func() bool { s := stateOf(t, ha, base); return s != nil && s["print_queue"] == 999.0 })
	// And it stays so: whatever the old connection had sent arrives
	// late, after the new one's, and is overwritten again.
	eventually(t, "state and availability reaffirmed", func() bool {
		b.mu.Lock()
		done := b.reaffirm.IsZero()
		b.mu.Unlock()
		return done && b.Status().Queued == 0
	})
	got := retainedNow(t, br.URL(), []string{base + "/state", base + "/availability"})
	if s := string(got[base+"/state"].Payload); !strings.Contains(s, `"print_queue":999`) {
		t.Errorf("retained state %s, want the latest", s)
	}
	if a := string(got[base+"/availability"].Payload); a != "online" {
		t.Errorf("retained availability %q, want online", a)
	}
}

// Stopping says offline (retained); dying without a goodbye makes the
// broker say it, through the last will.
func TestAvailabilityOffline(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	b, stop := r.run(t)
	settled(t, b, len(wantEntities)+2)
	stop()
	if m := retainedNow(t, br.URL(), []string{base + "/availability"})[base+"/availability"]; string(m.Payload) != "offline" || !m.Retained {
		t.Errorf("after stop: availability %q retained %v", m.Payload, m.Retained)
	}

	p := newProxy(t, br.Addr())
	r = newRig("mqtt://" + p.addr())
	b, _ = r.run(t)
	settled(t, b, len(wantEntities)+2)
	p.cut() // the tinkerbox loses power: no DISCONNECT
	if m := retainedNow(t, br.URL(), []string{base + "/availability"})[base+"/availability"]; string(m.Payload) != "offline" {
		t.Errorf("after a cut: availability %q, want the last will's offline", m.Payload)
	}
}

// proxy forwards TCP to the broker until cut, then refuses.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func newProxy(t *testing.T, to string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	t.Cleanup(func() { p.cut(); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.dead {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
