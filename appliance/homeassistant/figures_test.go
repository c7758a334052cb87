package homeassistant

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"

	"tinkerbox/appliance/homeassistant/brokertest"
)

// The figures of the note come from these tests; see them with
//
//	go test ./appliance/homeassistant -run Figure -v

var figureStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// figureRig is a bridge on a fake clock with the appliance's own timings.
func figureRig(brokerURL string, clk *fakeclock.Clock) *rig {
	r := newRig(brokerURL)
	d := DefaultOpts()
	r.o.Clock = clk
	r.o.Poll, r.o.SlowPoll, r.o.Refresh, r.o.ImageEvery, r.o.MotionHold = d.Poll, d.SlowPoll, d.Refresh, d.ImageEvery, d.MotionHold
	r.o.BackoffMin, r.o.BackoffMax = d.BackoffMin, d.BackoffMax
	return r
}

// step advances the fake clock by one second once the bridge's n
// goroutines on it wait again.
func step(clk *fakeclock.Clock, n int) {
	clk.BlockUntil(n)
	clk.Advance(time.Second)
}

// Messages a minute in steady state, an hour of the fake clock against a
// real broker: an idle tinkerbox whose barometer moves every sample, one
// whose readings do not move, and the simulator's weather, which changes
// every second.
func TestFigureSteadyStateRate(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	for _, sc := range []struct {
		name  string
		every int // seconds between pressure changes; 0: never
		max   float64
	}{
		{"barometer changing every 1 min sample", 60, 1.2},
		{"nothing changing", 0, 0.25},
		{"simulator weather, changing every second", 1, 2.2},
	} {
		t.Run(strings.Fields(sc.name)[0], func(t *testing.T) {
			clk := fakeclock.New(figureStart)
			r := figureRig(br.URL(), clk)
			b, _ := r.run(t)
			settled(t, b, len(wantEntities)+2)
			ha := brokertest.Watch(t, br.URL(), base+"/#")
			eventually(t, "retained state", func() bool { return len(ha.All()) >= 2 })
			sent0, seen0 := b.Status().Sent, len(ha.All())
			p := 1013.0
			for s := 1; s <= 3600; s++ {
				if sc.every > 0 && s%sc.every == 0 {
					p += 0.1
					r.weather.set(p)
				}
				step(clk, 1)
				// In real time the broker has a second to take each
				// message; on the fake clock, wait for it.
				clk.BlockUntil(1)
				drained(t, b)
			}
			clk.BlockUntil(1)
			settled(t, b, 0)
			n := b.Status().Sent - sent0
			eventually(t, "all at the broker", func() bool { return uint64(len(ha.All())-seen0) == n })
			rate := float64(n) / 60
			t.Logf("steady state, %s: %d messages in an hour = %.2f a minute", sc.name, n, rate)
			if rate > sc.max {
				t.Errorf("%.2f messages a minute, want ≤ %.1f", rate, sc.max)
			}
		})
	}
}

// Time from a broker restart (killed, its retained messages lost) to
// every entity available again, with the appliance's backoff (1 s
// doubling to 1 min): the wait for the next attempt, then the
// announcement itself.
func TestFigureRestartToAvailable(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	d := DefaultOpts()
	r.o.Poll, r.o.BackoffMin, r.o.BackoffMax = d.Poll, d.BackoffMin, d.BackoffMax
	b, _ := r.run(t)
	want := append(configTopics(testDevice, wantEntities), base+"/availability", base+"/state")
	settled(t, b, len(want))
	for _, down := range []time.Duration{0, 2 * time.Second} {
		br.Kill()
		eventually(t, "down", func() bool { return b.Status().State == StateDown })
		time.Sleep(down) // the broker stays down this long: the figure's input, not a wait for anything
		connects := b.Status().Connects
		restarted := time.Now()
		br.Start()
		eventually(t, "reconnected", func() bool { return b.Status().Connects > connects })
		reconnected := time.Since(restarted)
		got := retainedNow(t, br.URL(), want)
		if string(got[base+"/availability"].Payload) != "online" {
			t.Errorf("availability %q", got[base+"/availability"].Payload)
		}
		t.Logf("broker down %v, restarted: connected after %v, every entity available after %v (next try was due by the backoff)",
			down, reconnected.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))
	}
}

// Memory with the broker down for an hour of the fake clock, under load:
// the state changing every second, the barometer every sample, a 40 kB
// snapshot every 10 s, and on top a stream of distinct 1 kB messages that
// nothing replaces. The heap stays within the queue's cap.
func TestFigureHourDown(t *testing.T) {
	clk := fakeclock.New(figureStart)
	r := figureRig(fmt.Sprintf("mqtt://127.0.0.1:%d", brokertest.FreePort(t)), clk) // nothing listens there
	b, _ := r.run(t)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	start, peak := ms.HeapAlloc, ms.HeapAlloc
	for s := 1; s <= 3600; s++ {
		r.app.set(func(a *fakeApp) { a.queue = s % 5 })
		if s%60 == 0 {
			r.weather.set(1000 + float64(s)/600)
		}
		if s%10 == 0 {
			r.camera.capture(clk.Now(), make([]byte, 40<<10))
		}
		b.box.push(message{fmt.Sprintf("%s/event/%d", base, s), make([]byte, 1<<10), false})
		step(clk, 2) // the poller and the reconnection's backoff
		if s%60 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	st := b.Status()
	if st.State != StateDown || st.Queued > r.o.QueueMessages || st.QueuedBytes > r.o.QueueBytes {
		t.Errorf("after an hour down: %+v", st)
	}
	if st.Dropped == 0 || st.Replaced == 0 {
		t.Errorf("nothing dropped or replaced: %+v", st)
	}
	grew := int64(peak) - int64(start)
	t.Logf("broker down an hour: heap %.1f MB at the start, %.1f MB at most (+%.2f MB; queue cap %d messages, %.1f MB); "+
		"queue %d messages %.0f kB; %d replaced, %d dropped; %d attempts to reconnect, last error %q",
		float64(start)/1e6, float64(peak)/1e6, float64(grew)/1e6, r.o.QueueMessages, float64(r.o.QueueBytes)/1e6,
		st.Queued, float64(st.QueuedBytes)/1e3, st.Replaced, st.Dropped, st.Attempts, st.LastError)
	if grew > int64(r.o.QueueBytes)+4<<20 {
		t.Errorf("heap grew %d bytes with the broker down, more than the queue's %d and some slack", grew, r.o.QueueBytes)
	}
}

// drained waits, spinning, until the queue is empty: eventually's ticks
// would make an hour of steps take minutes.
func drained(t *testing.T, b *Bridge) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for b.Status().Queued > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not drain: %+v", b.Status())
		}
		runtime.Gosched()
	}
}
