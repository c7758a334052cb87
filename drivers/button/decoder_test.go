package button

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// step is an edge at an offset from t0.
type step struct {
	at      time.Duration
	name    string
	pressed bool
}

func press(at time.Duration, name string) step   { return step{at, name, true} }
func release(at time.Duration, name string) step { return step{at, name, false} }

// bouncy returns n edges 2 ms apart starting with level p, ending on p.
func bouncy(at time.Duration, name string, p bool, n int) []step {
	var s []step
	for i := range n {
		s = append(s, step{at + time.Duration(i)*ms(2), name, p == (i%2 == 0)})
	}
	return s
}

func ev(name, press string, at time.Duration) Event {
	return Event{Name: name, Press: press, At: t0.Add(at)}
}

func newDec(t *testing.T, names []string, mod func(*Opts)) *Decoder {
	t.Helper()
	o := DefaultOpts()
	o.Chord = nil
	if mod != nil {
		mod(o)
	}
	d, err := NewDecoder(names, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// run feeds steps, then advances to end, and returns all events.
func run(t *testing.T, d *Decoder, steps []step, end time.Duration) []Event {
	t.Helper()
	var got []Event
	for _, s := range steps {
		evs, err := d.Feed(Edge{Name: s.name, Pressed: s.pressed, At: t0.Add(s.at)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs...)
	}
	return append(got, d.Advance(t0.Add(end))...)
}

func check(t *testing.T, got []Event, want ...Event) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
}

func TestDecoderShortWithBounce(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	steps := bouncy(0, "A", true, 5)                         // 0..8 ms, ends pressed
	steps = append(steps, bouncy(ms(200), "A", false, 3)...) // 200..204 ms, ends released
	check(t, run(t, d, steps, 10*time.Second), ev("A", Short, ms(204)))
}

func TestDecoderPressShorterThanDebounceIgnored(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	got := run(t, d, []step{press(0, "A"), release(ms(15), "A")}, 5*time.Second)
	check(t, got)
	// The decoder is still live: a real press afterwards counts.
	got = run(t, d, []step{press(ms(6000), "A"), release(ms(6100), "A")}, 7*time.Second)
	check(t, got, ev("A", Short, ms(6100)))
}

func TestDecoderLongAtThresholdWhileHeld(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	got := run(t, d, bouncy(0, "A", true, 5), ms(1007.999))
	check(t, got) // press settled at 8 ms: long due at 1008 ms
	check(t, d.Advance(t0.Add(ms(1008))), ev("A", Long, ms(1008)))
	// Holding on and releasing adds nothing.
	check(t, run(t, d, []step{release(ms(4000), "A")}, 10*time.Second))
}

func TestDecoderReleaseJustBeforeThresholdIsShort(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	got := run(t, d, []step{press(0, "A"), release(ms(990), "A")}, ms(1005))
	check(t, got) // the release is not confirmed yet: long must wait
	check(t, d.Advance(t0.Add(ms(1010))), ev("A", Short, ms(990)))
}

func TestDecoderBounceWhileHeldStillLong(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	// A blip at 995 ms is bounce, not a release: long still comes, late by
	// nothing because the blip ended at 997 ms.
	got := run(t, d, []step{press(0, "A"), release(ms(995), "A"), press(ms(997), "A")}, ms(1000))
	check(t, got, ev("A", Long, ms(1000)))
}

func TestDecoderDouble(t *testing.T) {
	d := newDec(t, []string{"A"}, func(o *Opts) { o.Double = true })
	steps := append(bouncy(0, "A", true, 5), release(ms(100), "A"))
	steps = append(steps, bouncy(ms(250), "A", true, 3)...)
	steps = append(steps, release(ms(350), "A"))
	check(t, run(t, d, steps, 10*time.Second), ev("A", Double, ms(350)))
}

func TestDecoderDoubleDelaysShort(t *testing.T) {
	d := newDec(t, []string{"A"}, func(o *Opts) { o.Double = true })
	// Short is reported only once no second press can start: release +
	// DoubleGap + Debounce.
	got := run(t, d, []step{press(0, "A"), release(ms(100), "A")}, ms(100+300+20)-1)
	check(t, got)
	check(t, d.Advance(t0.Add(ms(420))), ev("A", Short, ms(100)))
}

func TestDecoderSecondPressAtEdgeOfGap(t *testing.T) {
	d := newDec(t, []string{"A"}, func(o *Opts) { o.Double = true })
	// Second press starts exactly DoubleGap after the release.
	steps := []step{press(0, "A"), release(ms(100), "A"), press(ms(400), "A"), release(ms(500), "A")}
	check(t, run(t, d, steps, 2*time.Second), ev("A", Double, ms(500)))
	// One ms later it is two shorts.
	d = newDec(t, []string{"A"}, func(o *Opts) { o.Double = true })
	steps = []step{press(0, "A"), release(ms(100), "A"), press(ms(401), "A"), release(ms(500), "A")}
	check(t, run(t, d, steps, 2*time.Second), ev("A", Short, ms(100)), ev("A", Short, ms(500)))
}

func TestDecoderDoubleThenLong(t *testing.T) {
	d := newDec(t, []string{"A"}, func(o *Opts) { o.Double = true })
	steps := []step{press(0, "A"), release(ms(100), "A"), press(ms(200), "A")}
	check(t, run(t, d, steps, 3*time.Second), ev("A", Short, ms(100)), ev("A", Long, ms(1200)))
}

func TestDecoderWithoutDoubleTwoShorts(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	steps := []step{press(0, "A"), release(ms(100), "A"), press(ms(200), "A"), release(ms(300), "A")}
	check(t, run(t, d, steps, time.Second), ev("A", Short, ms(100)), ev("A", Short, ms(300)))
}

func TestDecoderChord(t *testing.T) {
	d := newDec(t, []string{"A", "B"}, func(o *Opts) { o.Chord = []string{"A", "B"} })
	steps := append(bouncy(0, "A", true, 5), bouncy(ms(50), "B", true, 3)...)
	// Held for 5 s from B's settled press at 54 ms: no single long presses.
	check(t, run(t, d, steps, ms(5053)))
	check(t, d.Advance(t0.Add(ms(5054))), ev("A+B", Long, ms(5054)))
	// Releases afterwards are silent.
	check(t, run(t, d, []step{release(ms(6000), "A"), release(ms(6100), "B")}, 10*time.Second))
	// The buttons work alone again.
	check(t, run(t, d, []step{press(ms(11000), "B"), release(ms(11100), "B")}, 12*time.Second), ev("B", Short, ms(11100)))
}

func TestDecoderChordAbortedIsSilent(t *testing.T) {
	d := newDec(t, []string{"A", "B"}, func(o *Opts) { o.Chord = []string{"A", "B"} })
	steps := []step{press(0, "A"), press(ms(30), "B"), release(ms(3000), "B"), release(ms(3500), "A")}
	check(t, run(t, d, steps, 20*time.Second))
}

func TestDecoderLongBeforeChord(t *testing.T) {
	d := newDec(t, []string{"A", "B"}, func(o *Opts) { o.Chord = []string{"A", "B"} })
	// A alone for 2 s is a long press; adding B then makes the chord too.
	steps := []step{press(0, "A"), press(ms(2000), "B")}
	check(t, run(t, d, steps, 8*time.Second), ev("A", Long, ms(1000)), ev("A+B", Long, ms(7000)))
}

func TestDecoderTwoButtonsIndependent(t *testing.T) {
	d := newDec(t, []string{"A", "B"}, nil)
	steps := []step{press(0, "A"), press(ms(500), "B"), release(ms(700), "B")}
	check(t, run(t, d, steps, 2*time.Second), ev("B", Short, ms(700)), ev("A", Long, ms(1000)))
}

func TestDecoderOutOfOrderEdgeIsNow(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	check(t, run(t, d, []step{press(ms(100), "A")}, ms(500)))
	// An edge stamped in the past counts from the latest time seen.
	check(t, run(t, d, []step{release(ms(50), "A")}, time.Second), ev("A", Short, ms(500)))
}

func TestDecoderDeadline(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	if _, ok := d.Deadline(); ok {
		t.Fatal("idle decoder has a deadline")
	}
	run(t, d, []step{press(0, "A")}, 0)
	if at, ok := d.Deadline(); !ok || !at.Equal(t0.Add(ms(20))) {
		t.Fatalf("deadline = %v %v, want debounce at +20ms", at, ok)
	}
	d.Advance(t0.Add(ms(20)))
	if at, ok := d.Deadline(); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("deadline = %v %v, want long press at +1s", at, ok)
	}
}

func TestDecoderZeroDebounceOption(t *testing.T) {
	// Zero means the default, so a 5 ms blip is still bounce.
	d := newDec(t, []string{"A"}, func(o *Opts) { o.Debounce = 0 })
	check(t, run(t, d, []step{press(0, "A"), release(ms(5), "A")}, time.Second))
}

func TestNewDecoderErrors(t *testing.T) {
	for _, tc := range []struct {
		names []string
		opts  *Opts
		want  string
	}{
		{nil, nil, "no buttons"},
		{[]string{"A", "A"}, &Opts{}, "duplicate"},
		{[]string{""}, &Opts{}, "invalid button name"},
		{[]string{"A+B"}, &Opts{}, "invalid button name"},
		{[]string{"A", "B"}, &Opts{Debounce: -1}, "negative debounce"},
		{[]string{"A", "B"}, &Opts{LongPress: -time.Second}, "negative long press"},
		{[]string{"X", "Y"}, nil, `chord member "A" is not a button`},
		{[]string{"A", "B"}, &Opts{Chord: []string{"A"}}, "at least two"},
		{[]string{"A", "B"}, &Opts{Chord: []string{"A", "A"}}, "listed twice"},
	} {
		_, err := NewDecoder(tc.names, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "button: ") {
			t.Errorf("NewDecoder(%q, %+v) = %v, want error containing %q", tc.names, tc.opts, err, tc.want)
		}
	}
}

func TestDecoderUnknownButton(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	if _, err := d.Feed(Edge{Name: "Z", Pressed: true, At: t0}); err == nil || !strings.Contains(err.Error(), `unknown button "Z"`) {
		t.Fatalf("err = %v", err)
	}
}

// runLoop starts Decoder.Run on a fake clock.
func runLoop(t *testing.T, d *Decoder) (*fakeclock.Clock, chan<- Edge, <-chan Event, func() error) {
	t.Helper()
	clk := fakeclock.New(t0)
	edges := make(chan Edge)
	events := make(chan Event, 16)
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- d.Run(done, clk, edges, events) }()
	stop := func() error {
		close(done)
		return <-errc
	}
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			close(done)
		}
	})
	return clk, edges, events, stop
}

func recv(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(30 * time.Second): // failure guard only; never hit when passing
		t.Fatal("no event")
	}
	return Event{}
}

func TestRunLongFromTimer(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	clk, edges, events, stop := runLoop(t, d)
	edges <- Edge{Name: "A", Pressed: true, At: clk.Now()}
	clk.BlockUntil(1) // debounce timer armed
	clk.Advance(ms(20))
	clk.BlockUntil(1) // long-press timer armed
	clk.Advance(ms(980))
	if got, want := recv(t, events), ev("A", Long, time.Second); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRunShortAfterGap(t *testing.T) {
	d := newDec(t, []string{"A"}, func(o *Opts) { o.Double = true })
	clk, edges, events, stop := runLoop(t, d)
	edges <- Edge{Name: "A", Pressed: true, At: clk.Now()}
	clk.Advance(ms(100))
	edges <- Edge{Name: "A", Pressed: false, At: clk.Now()}
	// A single advance past everything still reports in order.
	clk.Advance(time.Second)
	if got, want := recv(t, events), ev("A", Short, ms(100)); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRunChordFromTimer(t *testing.T) {
	d := newDec(t, []string{"A", "B"}, func(o *Opts) { o.Chord = []string{"A", "B"} })
	clk, edges, events, stop := runLoop(t, d)
	edges <- Edge{Name: "A", Pressed: true, At: clk.Now()}
	edges <- Edge{Name: "B", Pressed: true, At: clk.Now()}
	for range 5 {
		clk.Advance(time.Second)
	}
	clk.Advance(ms(20))
	if got, want := recv(t, events), ev("A+B", Long, 5*time.Second); got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRunStops(t *testing.T) {
	d := newDec(t, []string{"A"}, nil)
	edges := make(chan Edge)
	close(edges)
	if err := d.Run(make(chan struct{}), fakeclock.New(t0), edges, make(chan Event)); err != nil {
		t.Fatalf("closed edges: %v", err)
	}
	edges = make(chan Edge, 1)
	edges <- Edge{Name: "nope", At: t0}
	err := d.Run(make(chan struct{}), fakeclock.New(t0), edges, make(chan Event))
	if err == nil || !strings.Contains(err.Error(), "unknown button") {
		t.Fatalf("unknown edge: %v", err)
	}
	// Blocked on a send nobody reads: done still stops it.
	d = newDec(t, []string{"A"}, func(o *Opts) { o.LongPress = ms(50) })
	edges = make(chan Edge, 1)
	edges <- Edge{Name: "A", Pressed: true, At: t0}
	clk := fakeclock.New(t0)
	done := make(chan struct{})
	errc := make(chan error)
	go func() { errc <- d.Run(done, clk, edges, make(chan Event)) }()
	clk.BlockUntil(1)
	clk.Advance(time.Second)
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 201, 0, 0, 255})
	f.Add([]byte{1, 129, 1, 129, 5, 133})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		o := DefaultOpts()
		o.Double = len(data)%2 == 0
		d, err := NewDecoder([]string{"A", "B"}, o)
		if err != nil {
			t.Fatal(err)
		}
		at := t0
		var evs []Event
		presses := map[string]int{}
		// Each byte: bit 7 = pressed, bit 6 = button B, low 6 bits = ms since the last edge.
		for _, b := range data {
			name := "A"
			if b&0x40 != 0 {
				name = "B"
			}
			at = at.Add(time.Duration(b&0x3f) * ms(5))
			got, err := d.Feed(Edge{Name: name, Pressed: b&0x80 != 0, At: at})
			if err != nil {
				t.Fatal(err)
			}
			if b&0x80 != 0 {
				presses[name]++
			}
			evs = append(evs, got...)
		}
		evs = append(evs, d.Advance(at.Add(time.Minute))...)
		count := map[string]int{}
		for _, e := range evs {
			switch {
			case e.Name == "A+B" && e.Press == Long:
			case (e.Name == "A" || e.Name == "B") && (e.Press == Short || e.Press == Long):
				count[e.Name]++
			case (e.Name == "A" || e.Name == "B") && e.Press == Double:
				count[e.Name] += 2
			default:
				t.Fatalf("bad event %v", e)
			}
			if e.At.After(at.Add(time.Minute)) || e.At.Before(t0) {
				t.Fatalf("event %v outside the fed time", e)
			}
		}
		for n, c := range count {
			if c > presses[n] {
				t.Fatalf("%s: %d presses reported from %d press edges", n, c, presses[n])
			}
		}
		if _, ok := d.Deadline(); ok {
			t.Fatal("deadline left after a quiet minute")
		}
	})
}

// BenchmarkDecoderPress is one short press with bounce on both edges (8 edges) through the
// decoder: the per-press cost on the Set's goroutine.
func BenchmarkDecoderPress(b *testing.B) {
	d, err := NewDecoder([]string{"A", "B"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	at := t0
	b.ReportAllocs()
	for b.Loop() {
		var n int
		for i := range 8 {
			at = at.Add(ms(2))
			if i == 5 {
				at = at.Add(ms(100)) // held, then a bouncy release
			}
			evs, err := d.Feed(Edge{Name: "A", Pressed: i < 5 && i%2 == 0 || i == 6, At: at})
			if err != nil {
				b.Fatal(err)
			}
			n += len(evs)
		}
		at = at.Add(time.Second)
		if n += len(d.Advance(at)); n != 1 {
			b.Fatalf("%d events, want 1 short", n)
		}
	}
}
