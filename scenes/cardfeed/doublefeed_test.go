package cardfeed

import (
	"strings"
	"sync"
	"testing"

	"tinkerbox/scenes/scene"
)

// lightLog keeps the last mode of each status light.
type lightLog struct {
	mu    sync.Mutex
	modes map[string]scene.LightMode
}

func (l *lightLog) SetLight(name string, m scene.LightMode) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.modes == nil {
		l.modes = map[string]scene.LightMode{}
	}
	l.modes[name] = m
	return nil
}

func (l *lightLog) mode(name string) scene.LightMode {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.modes[name]
}

func startCounted(events chan scene.Event, n string) {
	events <- scene.Event{Kind: scene.KindCommand, Command: "start", Arg: n}
}

func matching(reports []string, part string) []string {
	var out []string
	for _, r := range reports {
		if strings.Contains(r, part) {
			out = append(out, r)
		}
	}
	return out
}

// feedStack runs a stack of 10 cards to empty with the given double feeds
// and start commands (an Arg of "" is a start without a count; each start
// after the first comes after the first card is scanned and the feeder
// was stopped) and returns the reports and the final status.
func feedStack(t *testing.T, doubles int, args ...string) ([]string, Status, scene.LightMode) {
	t.Helper()
	r, s, _ := newRig(t, []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
	rep, lights := &reportLog{}, &lightLog{}
	s.opts.Reporter, s.lights = rep, lights
	r.doubles = doubles
	events, until, stop := run(t, s, r.clk)
	defer stop()
	until("idle", func() bool { return s.State() == Stopped })
	for i, a := range args {
		if i > 0 {
			n := r.nScans()
			until("a card", func() bool { return r.nScans() > n })
			events <- scene.Event{Kind: scene.KindCommand, Command: "stop"}
			until("stopped", func() bool { return s.State() == Stopped })
		}
		startCounted(events, a)
	}
	until("empty", func() bool { return s.State() == Empty })
	r.mu.Lock()
	if len(r.out) != 10 || r.lens >= 0 {
		t.Errorf("rig: %d cards dropped, lens %d: want all 10 down the chutes", len(r.out), r.lens)
	}
	r.mu.Unlock()
	// The warn light as the scene left it, before stop switches all off.
	return rep.get(), s.Status(), lights.mode(scene.LightWarn)
}

// TestDoubleFeedReported: 10 cards loaded with a count of 10 and one
// double feed: the stack runs empty after 9 scans and exactly one
// double-feed event says 1 card went through unscanned.
func TestDoubleFeedReported(t *testing.T) {
	reports, st, warn := feedStack(t, 1, "10")
	df := matching(reports, "double feed")
	if len(df) != 1 {
		t.Fatalf("double-feed reports %q, want exactly one (all: %q)", df, reports)
	}
	want := "warn: double feed: 10 cards loaded, 9 scanned: 1 went through unscanned, probably a double feed — check the bins"
	if df[0] != want {
		t.Errorf("report %q, want %q", df[0], want)
	}
	if len(matching(reports, "stack empty")) != 1 {
		t.Errorf("reports %q: want the empty stack too", reports)
	}
	if st.Stack == nil || *st.Stack != (StackCount{Loaded: 10, Scanned: 9, Unscanned: 1, Done: true}) {
		t.Errorf("status stack %+v", st.Stack)
	}
	if st.State != Empty || !strings.Contains(st.Reason, "1 went through unscanned") || st.DoubleFeed != want[len("warn: "):] {
		t.Errorf("status %q %q, double feed %q", st.State, st.Reason, st.DoubleFeed)
	}
	if warn != scene.LightBlinkFast {
		t.Errorf("warn light %v, want fast blink like a jam", warn)
	}
	if st.Stats.Cards != 9 {
		t.Errorf("%d cards scanned, want 9", st.Stats.Cards)
	}
}

// TestDoubleFeedCountAcrossStop: a stop and a start without a count (A, or
// the page's Start with the field empty) go on counting the same stack.
func TestDoubleFeedCountAcrossStop(t *testing.T) {
	reports, st, _ := feedStack(t, 1, "10", "")
	if df := matching(reports, "double feed"); len(df) != 1 || !strings.Contains(df[0], "10 cards loaded, 9 scanned: 1 went") {
		t.Fatalf("reports %q", reports)
	}
	if st.Stack == nil || st.Stack.Unscanned != 1 {
		t.Errorf("status stack %+v", st.Stack)
	}
}

// TestDoubleFeedNeedsCount: without a count the double feed cannot be
// told, and nothing claims one.
func TestDoubleFeedNeedsCount(t *testing.T) {
	reports, st, _ := feedStack(t, 1, "")
	if df := matching(reports, "double"); len(df) != 0 || st.Stack != nil || st.DoubleFeed != "" {
		t.Fatalf("reports %q, stack %+v, double feed %q: want none", reports, st.Stack, st.DoubleFeed)
	}
	if st.Stats.Cards != 9 {
		t.Errorf("%d scanned, want 9", st.Stats.Cards)
	}
}

// TestNoDoubleFeedNoEvent: every counted card scanned: no event, and the
// figures agree.
func TestNoDoubleFeedNoEvent(t *testing.T) {
	r, s, _ := newRig(t, []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
	rep := &reportLog{}
	s.opts.Reporter = rep
	events, until, stop := run(t, s, r.clk)
	defer stop()
	until("idle", func() bool { return s.State() == Stopped })
	startCounted(events, "10")
	until("empty", func() bool { return s.State() == Empty })
	reports := rep.get()
	if len(matching(reports, "double")) != 0 || len(matching(reports, "stack count")) != 0 {
		t.Fatalf("reports %q: want no double feed", reports)
	}
	st := s.Status()
	if st.Stack == nil || *st.Stack != (StackCount{Loaded: 10, Scanned: 10, Done: true}) || st.DoubleFeed != "" {
		t.Errorf("status stack %+v, double feed %q", st.Stack, st.DoubleFeed)
	}
	if !strings.HasPrefix(st.Reason, "stack empty") {
		t.Errorf("reason %q", st.Reason)
	}
	// The next stack, loaded without a count, is not judged by the old one.
	startCounted(events, "")
	until("empty again", func() bool { return s.State() == Empty && s.Status().Stack == nil })
}

// TestStackCountTooLow: more cards come than the count said: said once,
// as a miscount (not a double feed), and the check at the end is off.
func TestStackCountTooLow(t *testing.T) {
	reports, st, _ := feedStack(t, 0, "8")
	over := matching(reports, "stack count")
	if len(over) != 1 || !strings.Contains(over[0], "8 cards loaded, but card 9 just came") {
		t.Fatalf("reports %q, want one miscount", reports)
	}
	if len(matching(reports, "double feed:")) != 0 {
		t.Errorf("reports %q: a miscount is no double feed", reports)
	}
	if st.Stack == nil || st.Stack.Scanned != 10 || st.Stack.Unscanned != 0 || !st.Stack.Done {
		t.Errorf("status stack %+v", st.Stack)
	}
}

// TestStackCountBadArg: a start with a nonsense count still feeds, without
// counting.
func TestStackCountBadArg(t *testing.T) {
	for _, arg := range []string{"0", "-3", "x", "10001"} {
		r, s, _ := newRig(t, []int{10})
		events, until, stop := run(t, s, r.clk)
		until("idle", func() bool { return s.State() == Stopped })
		startCounted(events, arg)
		until("empty", func() bool { return s.State() == Empty })
		if st := s.Status(); st.Stack != nil || st.Stats.Cards != 1 {
			t.Errorf("start %q: stack %+v, %d cards", arg, st.Stack, st.Stats.Cards)
		}
		stop()
	}
}
