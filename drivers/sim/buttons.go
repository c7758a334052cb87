package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Button press kinds accepted by Buttons.Press.
const (
	PressShort  = "short"
	PressLong   = "long"
	PressDouble = "double"
)

// eventQueue is the depth of the events channel: a burst of front-panel clicks
// fits, a consumer that stopped reading gets errors instead of blocking the UI.
const eventQueue = 16

// ErrHalted is returned by devices used after Halt where that makes no sense.
var ErrHalted = errors.New("sim: device halted")

// ButtonEvent is one press of a front-panel button.
type ButtonEvent struct {
	Name  string
	Press string // PressShort, PressLong or PressDouble
	At    time.Time
}

// Buttons are the appliance's buttons pressed from the browser front panel or
// the API. Presses arrive on Events, already classified like the real button
// driver does (short, long, double).
type Buttons struct {
	mu     sync.Mutex
	names  []string
	clk    Clock
	events chan ButtonEvent
	halted bool
}

// NewButtons returns buttons with the given names, timestamped by the wall
// clock (see SetClock).
func NewButtons(names ...string) *Buttons {
	return &Buttons{
		names:  slices.Clone(names),
		clk:    systemClock{},
		events: make(chan ButtonEvent, eventQueue),
	}
}

// SetClock sets the clock that timestamps events (nil: the wall clock).
func (b *Buttons) SetClock(clk Clock) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clk = orSystem(clk)
}

func (b *Buttons) String() string {
	return fmt.Sprintf("sim.Buttons(%s)", strings.Join(b.names, ","))
}

// Names returns the button names.
func (b *Buttons) Names() []string { return slices.Clone(b.names) }

// Press queues a press of the named button. It never blocks: a full queue is
// an error.
func (b *Buttons) Press(name, press string) error {
	if !slices.Contains(b.names, name) {
		return fmt.Errorf("sim: buttons: unknown button %q (have %s)", name, strings.Join(b.names, ", "))
	}
	switch press {
	case PressShort, PressLong, PressDouble:
	default:
		return fmt.Errorf("sim: buttons: unknown press %q for %s (want short, long or double)", press, name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.halted {
		return fmt.Errorf("sim: buttons: press %s: %w", name, ErrHalted)
	}
	select {
	case b.events <- ButtonEvent{Name: name, Press: press, At: b.clk.Now()}:
		return nil
	default:
		return fmt.Errorf("sim: buttons: press %s: %d events unread, press dropped", name, eventQueue)
	}
}

// Events delivers presses. The channel is never closed.
func (b *Buttons) Events() <-chan ButtonEvent { return b.events }

// Halt drops unread presses and refuses further ones. The channel stays open
// so a reader selecting on it is not woken by a close.
func (b *Buttons) Halt() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.halted = true
	for {
		select {
		case <-b.events:
		default:
			return nil
		}
	}
}
