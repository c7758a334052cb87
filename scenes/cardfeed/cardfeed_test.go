package cardfeed

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/images/cards"
	"tinkerbox/scenes/cardfeed/recog"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// rig is a fake feeder: a wheel that feeds one card per pulse of at least
// 200 ms (unless jammed), a sorter, a camera that shows the card on the lens
// bed, and a store.
type rig struct {
	t       *testing.T
	clk     *fakeclock.Clock
	mu      sync.Mutex
	photos  [][]byte // JPEG per stack position
	empty   []byte
	hopper  []int // positions still in the hopper
	lens    int   // position on the lens bed, -1 none
	under   []int // positions under it after a double feed (the camera sees only the top)
	doubles int   // double feeds still to come
	jammed  bool
	out     map[int]physic.Angle // position -> sorter angle when it dropped
	speed   float64
	since   time.Time
	angle   physic.Angle
	halts   int
	seq     uint64
	scans   []Scan
	onScan  func(n int)
}

func (r *rig) SetSpeed(v float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clk.Now()
	if r.speed > 0 && v == 0 && now.Sub(r.since) >= 200*time.Millisecond && !r.jammed {
		if r.lens >= 0 {
			r.out[r.lens] = r.angle
		}
		for _, p := range r.under {
			r.out[p] = r.angle
		}
		r.lens, r.under = -1, nil
		if len(r.hopper) > 0 {
			r.lens, r.hopper = r.hopper[0], r.hopper[1:]
		}
		// A double feed: the second card lies under the first, unseen.
		if r.doubles > 0 && len(r.hopper) > 0 {
			r.doubles--
			r.under, r.hopper = append(r.under, r.hopper[0]), r.hopper[1:]
		}
	}
	r.speed, r.since = v, now
	return nil
}
func (r *rig) SetAngle(a physic.Angle) error { r.mu.Lock(); r.angle = a; r.mu.Unlock(); return nil }
func (r *rig) Halt() error                   { r.mu.Lock(); r.speed = 0; r.halts++; r.mu.Unlock(); return nil }

type sorter struct{ *rig }

func (s sorter) SetSpeed(float64) error { return nil }
func (s sorter) Halt() error            { return nil }

func (r *rig) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq = max(r.seq, after) + 1
	j := r.empty
	if r.lens >= 0 {
		j = r.photos[r.lens]
	}
	return scene.Frame{Seq: r.seq, At: r.clk.Now(), JPEG: j}, nil
}

func (r *rig) RecordScan(ctx context.Context, s Scan) (int64, error) {
	r.mu.Lock()
	r.scans = append(r.scans, s)
	n := len(r.scans)
	f := r.onScan
	r.mu.Unlock()
	if f != nil {
		f(n)
	}
	return int64(n), nil
}

func (r *rig) nScans() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.scans) }

var catalog = sync.OnceValues(func() ([]cards.Card, *recog.Index) {
	cs := cards.Demo()
	var es []recog.Entry
	for _, c := range cs[:40] {
		es = append(es, recog.Entry{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Price: c.Price, Features: recog.FromFace(cards.Render(c))})
	}
	return cs, recog.NewIndex(es, nil)
})

func encode(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newRig loads a stack of the given demo cards (index into cards.Demo()).
func newRig(t *testing.T, stack []int) (*rig, *Scene, []cards.Card) {
	cs, idx := catalog()
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := &rig{t: t, clk: clk, lens: -1, out: map[int]physic.Angle{}}
	rnd := rand.New(rand.NewPCG(5, 6))
	for i, c := range stack {
		// The camera's size, on the grey bed the README recommends: this
		// tests the scene, recog's own tests measure the hard beds.
		shot := cards.RandomShot(rnd, 640, 480)
		shot.Bed = cards.BedGrey
		r.photos = append(r.photos, encode(t, cards.Photo(cards.Render(cs[c]), shot, 640, 480)))
		r.hopper = append(r.hopper, i)
	}
	bed := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range bed.Pix {
		bed.Pix[i] = 30
	}
	r.empty = encode(t, bed)
	o := DefaultOpts()
	o.RejectDir = t.TempDir()
	s := New(r, sorter{r}, nil, r, idx, r, nil, nil, clk, &o)
	return r, s, cs
}

// run starts the scene and returns a driver that advances the fake clock in
// 10 ms steps whenever the scene waits, until cond holds.
func run(t *testing.T, s *Scene, clk *fakeclock.Clock) (events chan scene.Event, until func(what string, cond func() bool), stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	events = make(chan scene.Event)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, events) }()
	until = func(what string, cond func() bool) {
		t.Helper()
		for i := 0; i < 20000; i++ {
			clk.BlockUntil(1)
			if cond() {
				return
			}
			clk.Advance(10 * time.Millisecond)
		}
		t.Fatalf("%s: not reached after 200 s of clock; status %+v", what, s.Status())
	}
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	return events, until, stop
}

func press(events chan scene.Event) {
	events <- scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: scene.Short}
}

func TestFeedSortRejectEmpty(t *testing.T) {
	// 0,1,2 known; 100 is not in the index; 0 again (a second copy).
	stack := []int{0, 1, 100, 2, 0}
	r, s, cs := newRig(t, stack)
	s.SetRules(Rules{Deck: ParseDeckList("4 " + cs[1].Name + "\n"), Threshold: 1000})
	events, until, stop := run(t, s, r.clk)
	defer stop()
	until("idle", func() bool { return s.State() == Stopped })
	press(events)
	until("empty", func() bool { return s.State() == Empty })

	if n := r.nScans(); n != len(stack) {
		t.Fatalf("%d scans, want %d: %+v", n, len(stack), r.scans)
	}
	wantBins := []int{BinBulk, BinDeck, BinReject, BinBulk, BinBulk}
	for i, sc := range r.scans {
		c := cs[stack[i]]
		if sc.Bin != wantBins[i] {
			t.Errorf("scan %d (%s): bin %d, want %d (%s)", i, c.Name, sc.Bin, wantBins[i], sc.Reason)
		}
		if wantBins[i] == BinReject {
			if sc.Accepted || sc.Image == "" {
				t.Errorf("unknown card: accepted=%v image=%q", sc.Accepted, sc.Image)
			} else if _, err := os.Stat(sc.Image); err != nil {
				t.Errorf("reject photo: %v", err)
			}
			continue
		}
		if !sc.Accepted || sc.CardID != c.ID {
			t.Errorf("scan %d: %s accepted=%v, want %s (%s)", i, sc.CardID, sc.Accepted, c.ID, sc.Reason)
		}
		// Every card dropped into the chute of its bin.
		if got, want := r.out[i], s.opts.BinAngles[sc.Bin-1]; got != want {
			t.Errorf("card %d dropped at %s, want %s", i, got, want)
		}
	}
	st := s.Status()
	if st.Stats.Cards != 5 || st.Stats.Unknown != 1 || len(st.Recent) != 5 || st.Recent[0].CardID != cs[0].ID {
		t.Errorf("status %+v", st)
	}
	if r.halts == 0 || r.speed != 0 {
		t.Errorf("servos not halted on empty: halts %d speed %v", r.halts, r.speed)
	}
	t.Logf("%.1f cards/min on the fake feeder (%s running)", st.Stats.PerMinute, st.Stats.Running)
	if st.Stats.PerMinute < 60 {
		t.Errorf("%.1f cards/min, want ≥ 60", st.Stats.PerMinute)
	}
}

func TestJamThenResume(t *testing.T) {
	r, s, cs := newRig(t, []int{3, 4, 5})
	var jamAt time.Time
	r.onScan = func(n int) {
		if n == 1 {
			r.mu.Lock()
			r.jammed = true
			r.mu.Unlock()
			jamAt = r.clk.Now()
		}
	}
	events, until, stop := run(t, s, r.clk)
	defer stop()
	until("idle", func() bool { return s.State() == Stopped })
	press(events)
	until("jam", func() bool { return s.State() == Jammed })
	if d := r.clk.Now().Sub(jamAt); d < s.opts.JamTimeout {
		t.Errorf("jam declared %v after the card stuck, want ≥ %v", d, s.opts.JamTimeout)
	}
	if n := r.nScans(); n != 1 {
		t.Fatalf("%d scans while jammed, want 1 (the stuck card must not be counted twice)", n)
	}
	if r.halts == 0 || r.speed != 0 {
		t.Errorf("servos not halted on jam")
	}
	if st := s.Status(); st.Reason == "" {
		t.Error("no reason given for the jam")
	}
	r.mu.Lock()
	r.jammed = false
	r.mu.Unlock()
	press(events)
	until("empty after resume", func() bool { return s.State() == Empty })
	if n := r.nScans(); n != 3 {
		t.Fatalf("%d scans, want 3", n)
	}
	for i, c := range []int{3, 4, 5} {
		if r.scans[i].CardID != cs[c].ID {
			t.Errorf("scan %d: %s, want %s", i, r.scans[i].CardID, cs[c].ID)
		}
	}
}

func TestStopAndStart(t *testing.T) {
	r, s, _ := newRig(t, []int{6, 7, 8, 9})
	r.onScan = func(n int) {}
	events, until, stop := run(t, s, r.clk)
	defer stop()
	until("idle", func() bool { return s.State() == Stopped })
	press(events)
	until("first card", func() bool { return r.nScans() == 1 })
	press(events)
	until("stopped", func() bool { return s.State() == Stopped })
	n := r.nScans()
	for i := 0; i < 100; i++ { // 1 s of clock: nothing moves while stopped
		r.clk.BlockUntil(1)
		r.clk.Advance(10 * time.Millisecond)
	}
	if r.nScans() != n || r.speed != 0 {
		t.Fatalf("feeder moved while stopped: %d -> %d scans, speed %v", n, r.nScans(), r.speed)
	}
	press(events)
	until("empty", func() bool { return s.State() == Empty })
	if r.nScans() != 4 {
		t.Fatalf("%d scans, want 4", r.nScans())
	}
}

func TestMissingDevices(t *testing.T) {
	clk := fakeclock.New(time.Unix(0, 0))
	s := New(nil, nil, nil, nil, nil, nil, nil, nil, clk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, make(chan scene.Event)) }()
	clk.BlockUntil(1)
	if st := s.Status(); st.State != Stopped || st.Reason == "" {
		t.Errorf("status %+v", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRulesAndDeckList(t *testing.T) {
	deck := ParseDeckList("Deck\n4 Lightning Bolt\n2x Counterspell (MH2) 267\n1 Sol Ring *F*\n\nSideboard\n// c\n3 Duress\n")
	for _, n := range []string{"lightning bolt", "counterspell", "sol ring", "duress"} {
		if !deck[n] {
			t.Errorf("deck list: %q missing from %v", n, deck)
		}
	}
	if len(deck) != 4 {
		t.Errorf("deck list: %v", deck)
	}
	r := Rules{Deck: deck, Threshold: 5}
	for _, c := range []struct {
		s    Scan
		want int
	}{
		{Scan{Accepted: true, Name: "Lightning Bolt", Price: 9}, BinDeck},
		{Scan{Accepted: true, Name: "Black Lotus", Price: 9}, BinValue},
		{Scan{Accepted: true, Name: "Island", Price: 0.1}, BinBulk},
		{Scan{Accepted: false, Name: "Lightning Bolt", Price: 9}, BinReject},
	} {
		if got := r.Bin(c.s); got != c.want {
			t.Errorf("%+v: bin %d, want %d", c.s, got, c.want)
		}
	}
}

func FuzzParseDeckList(f *testing.F) {
	f.Add("4 Lightning Bolt\n2x Counterspell (MH2) 267\nSideboard\n")
	f.Add("\x00\n999999999999999999999 x\n (")
	f.Fuzz(func(t *testing.T, s string) {
		for name := range ParseDeckList(s) {
			if name == "" {
				t.Fatal("empty name in deck")
			}
		}
	})
}

type reportLog struct {
	mu   sync.Mutex
	list []string
}

func (r *reportLog) Report(level, msg string) {
	r.mu.Lock()
	r.list = append(r.list, level+": "+msg)
	r.mu.Unlock()
}

func (r *reportLog) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.list...)
}

// TestJamAndEmptyReported: the event log hears of a jam and of an empty
// stack, and A's help follows the machine's state.
func TestJamAndEmptyReported(t *testing.T) {
	r, s, _ := newRig(t, []int{3})
	rep := &reportLog{}
	s.opts.Reporter = rep
	r.onScan = func(n int) {
		r.mu.Lock()
		r.jammed = true
		r.mu.Unlock()
	}
	events, until, stop := run(t, s, r.clk)
	defer stop()
	until("idle", func() bool { return s.State() == Stopped })
	if h := s.Help(); h.A != "start feeding" {
		t.Errorf("help while stopped: A = %q", h.A)
	}
	press(events)
	until("jam", func() bool { return s.State() == Jammed })
	if h := s.Help(); !strings.Contains(h.A, "jammed") {
		t.Errorf("help while jammed: A = %q", h.A)
	}
	r.mu.Lock()
	r.jammed = false
	r.mu.Unlock()
	r.onScan = nil
	press(events)
	until("empty", func() bool { return s.State() == Empty })
	got := rep.get()
	if len(got) != 2 || !strings.HasPrefix(got[0], "warn: jam:") || !strings.HasPrefix(got[1], "warn: stack empty: load cards") {
		t.Fatalf("reports = %q, want a jam then an empty stack", got)
	}
}
