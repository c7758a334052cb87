package button

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Press kinds carried by Event.Press.
const (
	Short  = "short"
	Long   = "long"
	Double = "double"
)

// Clock is the time source: the wall clock in production, a fake one in tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// Edge is one level change of a button as seen on its line.
type Edge struct {
	Name    string    // button name, as given to NewDecoder or Open
	Pressed bool      // level after the edge: true = pressed (line low)
	At      time.Time // when the line changed
}

// Event is a recognised press.
type Event struct {
	Name  string    // button name, or the chord's names joined by "+" ("A+B")
	Press string    // Short, Long or Double
	At    time.Time // release for Short and Double, the threshold for Long
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s @%s", e.Name, e.Press, e.At.Format("15:04:05.000"))
}

// Opts configures press recognition (and, for Open, the line request).
// Zero durations take the default; negative ones are an error.
type Opts struct {
	// Debounce is how long a level must stay stable to count (default 20 ms).
	Debounce time.Duration
	// LongPress is the hold time of a long press (default 1 s). Long is reported
	// as soon as the threshold passes while the button is still held.
	LongPress time.Duration
	// Double enables double-press detection. It delays every short press by
	// DoubleGap (plus Debounce), the time to wait for a second press.
	Double bool
	// DoubleGap is the longest release between the two presses of a double
	// (default 300 ms).
	DoubleGap time.Duration
	// Chord lists buttons that, held together for ChordHold, give one Long
	// event named after them joined by "+". Its members report nothing else
	// while they are held together. Empty: no chord.
	Chord []string
	// ChordHold is how long the chord must be held (default 5 s).
	ChordHold time.Duration
	// Clock is the time source used by Open; nil is the wall clock.
	Clock Clock
	// Consumer labels the lines in the kernel (gpioinfo); default "tinkerbox".
	Consumer string
}

// DefaultOpts returns the appliance defaults: 20 ms debounce, 1 s long press,
// no double presses, and the "A+B" chord held for 5 s.
func DefaultOpts() *Opts {
	return &Opts{
		Debounce:  20 * time.Millisecond,
		LongPress: time.Second,
		DoubleGap: 300 * time.Millisecond,
		Chord:     []string{"A", "B"},
		ChordHold: 5 * time.Second,
		Consumer:  "tinkerbox",
	}
}

// withDefaults validates o and fills zero fields.
func (o *Opts) withDefaults() (Opts, error) {
	if o == nil {
		o = DefaultOpts()
	}
	r := *o
	r.Chord = slices.Clone(o.Chord)
	def := DefaultOpts()
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"debounce", &r.Debounce, def.Debounce},
		{"long press", &r.LongPress, def.LongPress},
		{"double gap", &r.DoubleGap, def.DoubleGap},
		{"chord hold", &r.ChordHold, def.ChordHold},
	} {
		if *f.v < 0 {
			return r, fmt.Errorf("button: negative %s %v", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if r.Consumer == "" {
		r.Consumer = def.Consumer
	}
	return r, nil
}

// state is one button's view of its line.
type state struct {
	name      string
	raw       bool      // last level seen on the line
	rawAt     time.Time // when raw last changed
	down      bool      // debounced level
	downAt    time.Time // when the debounced press began
	longSent  bool      // this press already gave Long
	second    bool      // this press follows a short one within DoubleGap
	gap       bool      // a short press waits for a possible second one
	releaseAt time.Time // release of the waiting short press
	chorded   bool      // held as part of the chord: report nothing for it
}

// pending reports whether an unconfirmed level change could still alter a
// decision due at t; such decisions wait until the change is confirmed or
// turns out to be bounce.
func (s *state) pending(t time.Time) bool {
	return s.raw != s.down && !s.rawAt.After(t)
}

// Decoder turns edges into press events. It is a pure state machine: Feed and
// Advance take the time from their arguments, never from a clock; Run drives
// it from channels and a Clock. A Decoder is not safe for concurrent use.
type Decoder struct {
	opts      Opts
	buttons   []*state
	byName    map[string]*state
	chord     []*state
	chordName string
	chordOn   bool      // all chord members are held
	chordAt   time.Time // when the last member went down
	chordSent bool
	now       time.Time // latest time processed
}

// NewDecoder returns a decoder for the named buttons. Every chord member must be
// one of names.
func NewDecoder(names []string, opts *Opts) (*Decoder, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("button: no buttons")
	}
	d := &Decoder{opts: o, byName: make(map[string]*state, len(names))}
	for _, n := range names {
		if n == "" || strings.Contains(n, "+") {
			return nil, fmt.Errorf("button: invalid button name %q (empty or contains +)", n)
		}
		if d.byName[n] != nil {
			return nil, fmt.Errorf("button: duplicate button name %q", n)
		}
		s := &state{name: n}
		d.buttons = append(d.buttons, s)
		d.byName[n] = s
	}
	if len(o.Chord) == 1 {
		return nil, fmt.Errorf("button: chord %q needs at least two buttons", o.Chord[0])
	}
	for _, n := range o.Chord {
		s := d.byName[n]
		if s == nil {
			return nil, fmt.Errorf("button: chord member %q is not a button (have %s)", n, strings.Join(names, ", "))
		}
		if slices.Contains(d.chord, s) {
			return nil, fmt.Errorf("button: chord member %q listed twice", n)
		}
		d.chord = append(d.chord, s)
	}
	d.chordName = strings.Join(o.Chord, "+")
	return d, nil
}

// Feed processes an edge and returns the events it completes, preceded by any
// that fell due before e.At. Edges older than the last processed time are
// taken as happening now.
func (d *Decoder) Feed(e Edge) ([]Event, error) {
	s := d.byName[e.Name]
	if s == nil {
		return nil, fmt.Errorf("button: edge for unknown button %q", e.Name)
	}
	evs := d.Advance(e.At)
	if e.At.Before(d.now) {
		e.At = d.now
	}
	d.now = e.At
	if e.Pressed != s.raw {
		s.raw, s.rawAt = e.Pressed, e.At
	}
	// With zero debounce the change is due at once.
	return d.advance(evs, d.now), nil
}

// Advance processes everything due up to now and returns the events.
func (d *Decoder) Advance(now time.Time) []Event {
	return d.advance(nil, now)
}

func (d *Decoder) advance(evs []Event, now time.Time) []Event {
	for {
		at, fire := d.next()
		if fire == nil || at.After(now) {
			break
		}
		if at.After(d.now) {
			d.now = at
		}
		evs = fire(evs)
	}
	if now.After(d.now) {
		d.now = now
	}
	return evs
}

// Deadline returns when Advance next has work, if anything is waiting.
func (d *Decoder) Deadline() (time.Time, bool) {
	at, fire := d.next()
	return at, fire != nil
}

// next finds the earliest due decision. Ties go to debounce first (so a
// confirmed change is seen before the timeouts it may cancel), then button
// order, then the chord.
func (d *Decoder) next() (time.Time, func([]Event) []Event) {
	var (
		best time.Time
		fire func([]Event) []Event
	)
	consider := func(at time.Time, f func([]Event) []Event) {
		if fire == nil || at.Before(best) {
			best, fire = at, f
		}
	}
	for _, s := range d.buttons {
		if s.raw != s.down {
			consider(s.rawAt.Add(d.opts.Debounce), func(evs []Event) []Event { return d.settle(evs, s) })
		}
	}
	for _, s := range d.buttons {
		if s.down && !s.longSent && !s.chorded {
			if at := s.downAt.Add(d.opts.LongPress); !s.pending(at) {
				consider(at, func(evs []Event) []Event { return d.long(evs, s, at) })
			}
		}
		if s.gap {
			// A second press that starts within the gap is confirmed only a
			// debounce later: wait for it.
			at := s.releaseAt.Add(d.opts.DoubleGap + d.opts.Debounce)
			consider(at, func(evs []Event) []Event {
				s.gap = false
				return append(evs, Event{Name: s.name, Press: Short, At: s.releaseAt})
			})
		}
	}
	if d.chordOn && !d.chordSent {
		at := d.chordAt.Add(d.opts.ChordHold)
		wait := false
		for _, s := range d.chord {
			wait = wait || s.pending(at)
		}
		if !wait {
			consider(at, func(evs []Event) []Event {
				d.chordSent = true
				return append(evs, Event{Name: d.chordName, Press: Long, At: at})
			})
		}
	}
	return best, fire
}

// settle confirms s's raw level: it held for Debounce. The change counts from
// the last edge, when the contacts came to rest.
func (d *Decoder) settle(evs []Event, s *state) []Event {
	s.down = s.raw
	if s.down {
		return d.press(evs, s, s.rawAt)
	}
	return d.release(evs, s, s.rawAt)
}

func (d *Decoder) press(evs []Event, s *state, at time.Time) []Event {
	s.downAt, s.longSent, s.second = at, false, false
	if s.gap {
		s.gap = false
		if at.Sub(s.releaseAt) <= d.opts.DoubleGap {
			s.second = true
		} else {
			evs = append(evs, Event{Name: s.name, Press: Short, At: s.releaseAt})
		}
	}
	if d.chordOn || !slices.Contains(d.chord, s) {
		return evs
	}
	for _, m := range d.chord {
		if !m.down {
			return evs
		}
	}
	d.chordOn, d.chordAt, d.chordSent = true, at, false
	for _, m := range d.chord {
		if m.second {
			// The first half of a would-be double was a short press.
			m.second = false
			evs = append(evs, Event{Name: m.name, Press: Short, At: m.releaseAt})
		}
		m.chorded = true
	}
	return evs
}

func (d *Decoder) release(evs []Event, s *state, at time.Time) []Event {
	if slices.Contains(d.chord, s) {
		d.chordOn = false
	}
	switch {
	case s.chorded:
		s.chorded = false
	case s.longSent:
	case s.second:
		s.second = false
		evs = append(evs, Event{Name: s.name, Press: Double, At: at})
	case d.opts.Double:
		s.gap, s.releaseAt = true, at
	default:
		evs = append(evs, Event{Name: s.name, Press: Short, At: at})
	}
	return evs
}

func (d *Decoder) long(evs []Event, s *state, at time.Time) []Event {
	s.longSent = true
	if s.second {
		s.second = false
		evs = append(evs, Event{Name: s.name, Press: Short, At: s.releaseAt})
	}
	return append(evs, Event{Name: s.name, Press: Long, At: at})
}

// Run feeds edges to the decoder and fires its deadlines from clock, sending
// events on events, until done is closed or edges is closed (nil error). An
// edge for an unknown button stops it with an error. Run never closes events.
func (d *Decoder) Run(done <-chan struct{}, clock Clock, edges <-chan Edge, events chan<- Event) error {
	var (
		timer <-chan time.Time
		armed time.Time
	)
	for {
		if at, ok := d.Deadline(); !ok {
			timer = nil
		} else if timer == nil || !at.Equal(armed) {
			// A fresh timer only when the deadline moves: fake clocks cannot
			// cancel the old ones.
			timer, armed = clock.After(at.Sub(clock.Now())), at
		}
		var (
			evs  []Event
			err  error
			more = true
		)
		select {
		case <-done:
			return nil
		case e, ok := <-edges:
			if !ok {
				return nil
			}
			evs, err = d.Feed(e)
		case now := <-timer:
			timer = nil
			// Edges already queued happened before the timer was noticed:
			// a release waiting here must not turn into a long press.
			for more && err == nil {
				select {
				case e, ok := <-edges:
					if !ok {
						return nil
					}
					var got []Event
					got, err = d.Feed(e)
					evs = append(evs, got...)
				default:
					more = false
				}
			}
			if err == nil {
				evs = append(evs, d.Advance(now)...)
			}
		}
		for _, ev := range evs {
			select {
			case events <- ev:
			case <-done:
				return nil
			}
		}
		if err != nil {
			return err
		}
	}
}
