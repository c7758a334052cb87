package button

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/warthog618/go-gpiocdev"
)

// Set is a group of buttons on one GPIO chip, decoded together (so chords
// work) by a single goroutine.
type Set struct {
	desc   string
	names  map[int]string // line offset → button name
	req    io.Closer
	dec    *Decoder
	clock  Clock
	stamp  stamper
	edges  chan Edge
	events chan Event
	done   chan struct{} // closed by Halt
	ended  chan struct{} // closed when the goroutine has returned

	haltOnce sync.Once
	runErr   error // set by the goroutine before ended closes
	haltErr  error
}

// requester claims the lines and calls handler for every edge until closed.
type requester func(handler gpiocdev.EventHandler) (io.Closer, error)

// Open requests the lines (button name → line offset on chip, e.g.
// {"A": 5, "B": 6} on "gpiochip0") as inputs with the internal pull-up and
// both-edge events, and starts decoding. opts nil means DefaultOpts. Pressed
// is the line pulled low. A button held while Open runs is seen from its next
// press.
func Open(chip string, lines map[string]int, opts *Opts) (*Set, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	names, offsets, err := layout(lines)
	if err != nil {
		return nil, err
	}
	desc := describe(chip, names, offsets)
	req := func(h gpiocdev.EventHandler) (io.Closer, error) {
		return request(chip, offsets, o, h)
	}
	return newSet(desc, names, offsets, &o, req)
}

// layout sorts the buttons by name and checks the offsets.
func layout(lines map[string]int) ([]string, []int, error) {
	if len(lines) == 0 {
		return nil, nil, errors.New("button: no lines given")
	}
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	slices.Sort(names)
	offsets := make([]int, len(names))
	used := map[int]string{}
	for i, n := range names {
		off := lines[n]
		if off < 0 {
			return nil, nil, fmt.Errorf("button: %s: negative line offset %d", n, off)
		}
		if other, ok := used[off]; ok {
			return nil, nil, fmt.Errorf("button: %s and %s both on line %d", other, n, off)
		}
		used[off] = n
		offsets[i] = off
	}
	return names, offsets, nil
}

func describe(chip string, names []string, offsets []int) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%d", n, offsets[i])
	}
	return fmt.Sprintf("button.Set(%s: %s)", chip, strings.Join(parts, ", "))
}

// request claims the lines through the GPIO character device.
func request(chip string, offsets []int, o Opts, h gpiocdev.EventHandler) (io.Closer, error) {
	c, err := gpiocdev.NewChip(chip, gpiocdev.WithConsumer(o.Consumer))
	if err != nil {
		return nil, fmt.Errorf("button: open %s: %w (is this a Raspberry Pi? try --sim)", chip, err)
	}
	defer c.Close()
	base := []gpiocdev.LineReqOption{
		gpiocdev.AsInput, gpiocdev.AsActiveLow, gpiocdev.WithPullUp,
		gpiocdev.WithBothEdges, gpiocdev.WithEventHandler(h),
	}
	var l *gpiocdev.Lines
	if c.UapiAbiVersion() >= 2 {
		// Kernel debounce needs uAPI v2 (Linux 5.10); software debounce
		// still runs, so it is only a first filter.
		l, err = c.RequestLines(offsets, append(base, gpiocdev.WithDebounce(o.Debounce))...)
		if err != nil && !errors.Is(err, syscall.EBUSY) && !errors.Is(err, gpiocdev.ErrInvalidOffset) {
			l, err = c.RequestLines(offsets, base...)
		}
	} else {
		l, err = c.RequestLines(offsets, base...)
	}
	switch {
	case err == nil:
		return l, nil
	case errors.Is(err, syscall.EBUSY):
		return nil, fmt.Errorf("button: %s lines %v busy (used by another program or an overlay?): %w", chip, offsets, err)
	case errors.Is(err, gpiocdev.ErrInvalidOffset):
		return nil, fmt.Errorf("button: %s has no line among %v (%d lines): %w", chip, offsets, c.Lines(), err)
	}
	return nil, fmt.Errorf("button: request %s lines %v: %w", chip, offsets, err)
}

// newSet starts the decoder goroutine and claims the lines through req.
func newSet(desc string, names []string, offsets []int, o *Opts, req requester) (*Set, error) {
	dec, err := NewDecoder(names, o)
	if err != nil {
		return nil, err
	}
	s := &Set{
		desc:   desc,
		names:  make(map[int]string, len(names)),
		dec:    dec,
		clock:  o.Clock,
		edges:  make(chan Edge, 64),
		events: make(chan Event, 16),
		done:   make(chan struct{}),
		ended:  make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	for i, n := range names {
		s.names[offsets[i]] = n
	}
	if s.req, err = req(s.handle); err != nil {
		return nil, err
	}
	go func() {
		defer close(s.ended)
		defer close(s.events)
		s.runErr = s.dec.Run(s.done, s.clock, s.edges, s.events)
	}()
	return s, nil
}

// handle runs on gpiocdev's reader goroutine: stamp the edge and hand it over.
func (s *Set) handle(ev gpiocdev.LineEvent) {
	n, ok := s.names[ev.Offset]
	if !ok {
		return // the kernel only reports requested lines
	}
	e := Edge{Name: n, Pressed: ev.Type == gpiocdev.LineEventRisingEdge, At: s.stamp.at(s.clock.Now(), ev.Timestamp)}
	select {
	case s.edges <- e:
	case <-s.done:
	}
}

// Events delivers the presses. It is closed by Halt.
func (s *Set) Events() <-chan Event { return s.events }

// Halt stops decoding, releases the lines and closes Events. Later calls
// return the first result.
func (s *Set) Halt() error {
	s.haltOnce.Do(func() {
		close(s.done) // first: unblocks handle, which Close waits for
		err := s.req.Close()
		<-s.ended
		if err != nil {
			err = fmt.Errorf("button: release lines: %w", err)
		}
		s.haltErr = errors.Join(err, s.runErr)
	})
	return s.haltErr
}

func (s *Set) String() string { return s.desc }

// stamper turns kernel event timestamps (an unspecified clock that only
// measures intervals well) into clock times. The offset between the two clocks
// is the smallest seen: delivery delay only ever makes it larger, so presses
// keep the kernel's exact spacing even when events arrive in a burst. Old
// kernels stamp with CLOCK_REALTIME, which can jump back: an edge stamped more
// than resync in the past restarts the estimate.
type stamper struct {
	base time.Time
	ok   bool
}

const resync = time.Second

func (st *stamper) at(now time.Time, ts time.Duration) time.Time {
	b := now.Add(-ts)
	if !st.ok || b.Before(st.base) || now.Sub(st.base.Add(ts)) > resync {
		st.base, st.ok = b, true
	}
	return st.base.Add(ts)
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
