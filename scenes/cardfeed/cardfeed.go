// Package cardfeed is the card feeder scene: a pulsed wheel feeds trading
// cards one by one under the camera; each is identified offline (package
// recog), priced, logged to the collection and sorted into one of four bins.
// Jams and an empty stack stop the machine safely until A is pressed.
//
// The camera sees only the top card on the lens bed, so a double feed (two
// cards pushed at once) cannot be seen: the second card drops unscanned. When
// the maker says how many cards the stack holds (the "start" command's Arg),
// the scene compares that count with the cards scanned when the stack runs
// empty and reports the difference as double feeds.
package cardfeed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/images/font"
	"tinkerbox/scenes/cardfeed/recog"
	"tinkerbox/scenes/scene"
)

// Name of the scene in the config and the UI.
const Name = "cardfeed"

// CardLight switches the white LEDs that light the card under the lens.
type CardLight interface {
	SetLights(on bool) error
}

// Recognizer identifies the card in a camera frame (*recog.Index).
type Recognizer interface {
	Identify(frame image.Image) (recog.Match, error)
}

// Store keeps the scans and the collection. RecordScan stores s and, when
// it was accepted, adds one copy to the collection, in one transaction.
type Store interface {
	RecordScan(ctx context.Context, s Scan) (int64, error)
}

// Scan is one card that went through the machine.
type Scan struct {
	ID                 int64     `json:"id"`
	At                 time.Time `json:"at"`
	CardID             string    `json:"card_id"`
	Name               string    `json:"name"`
	Set                string    `json:"set"`
	Number             string    `json:"number"`
	Price              float64   `json:"price"`
	Distance           int       `json:"distance"`
	NameConfidence     float64   `json:"name_confidence"`
	PrintingConfidence float64   `json:"printing_confidence"`
	Accepted           bool      `json:"accepted"`
	Reason             string    `json:"reason,omitempty"`
	Bin                int       `json:"bin"`
	Image              string    `json:"image,omitempty"` // saved photo of a rejected card
	Finish             string    `json:"finish"`
	Lang               string    `json:"lang"`
	Condition          string    `json:"condition"`
}

// State of the machine.
type State string

const (
	Stopped State = "stopped"
	Running State = "running"
	Jammed  State = "jammed"
	Empty   State = "empty"
)

// Opts are the feeder's timings and settings.
type Opts struct {
	FeedSpeed   float64       // feed wheel speed during a pulse, 0..1
	FeedPulse   time.Duration // how long the wheel turns to move one card
	Settle      time.Duration // wait for the card to lie still
	JamTimeout  time.Duration // the card under the lens has not changed for this long: jam
	EmptyPulses int           // pulses in a row with no card: the stack is empty
	SorterSlew  float64       // degrees per second of the sorter servo (SG90: 600)
	BinAngles   [4]physic.Angle
	IdleTick    time.Duration // display refresh while waiting
	RejectDir   string        // where photos of rejected cards are saved; "" = not saved
	// The reject photos' quota: beyond either bound the oldest photos are
	// removed first, so a long run of strangers cannot fill the data
	// partition. ≤ 0: the default.
	RejectMaxFiles int
	RejectMaxBytes int64
	Recent         int          // scans kept for the web page
	Log            *slog.Logger // nil: discard
	// Reporter gets jams, an empty stack, double feeds and a missing
	// feeder for the event log; nil: none.
	Reporter scene.Reporter
	// Defaults for the collection.
	Finish, Lang, Condition string
}

// DefaultOpts are the timings of the feeder built from an FS90R wheel and an
// SG90 sorter.
func DefaultOpts() Opts {
	return Opts{
		FeedSpeed:   1,
		FeedPulse:   350 * time.Millisecond,
		Settle:      120 * time.Millisecond,
		JamTimeout:  3 * time.Second,
		EmptyPulses: 3,
		SorterSlew:  600,
		BinAngles:   [4]physic.Angle{-60 * physic.Degree, -20 * physic.Degree, 20 * physic.Degree, 60 * physic.Degree},
		IdleTick:    500 * time.Millisecond,
		// 500 photos at the camera's 640x480 (30-60 kB each) is a few
		// hundred strangers' worth of evidence; 64 MB caps odd sizes.
		RejectMaxFiles: 500,
		RejectMaxBytes: 64 << 20,
		Recent:         20,
		Finish:         "nonfoil",
		Lang:           "en",
		Condition:      "NM",
	}
}

// Stats are the running figures.
type Stats struct {
	Cards     int     `json:"cards"`
	Unknown   int     `json:"unknown"`
	PerMinute float64 `json:"per_minute"`
	Running   string  `json:"running"` // time spent feeding
}

// MaxStack is the largest stack count the scene accepts: no hopper holds
// more, so a bigger number is a typo.
const MaxStack = 10000

// StackCount is the count the maker gave at start against the cards the
// camera saw since.
type StackCount struct {
	Loaded  int `json:"loaded"`
	Scanned int `json:"scanned"`
	// Unscanned is known once the stack ran empty: cards that went through
	// without being seen, probably double feeds.
	Unscanned int  `json:"unscanned"`
	Done      bool `json:"done"` // the stack ran empty: the figures are final
}

// Status is the scene as the web page shows it.
type Status struct {
	State  State   `json:"state"`
	Reason string  `json:"reason"`
	Stats  Stats   `json:"stats"`
	Recent []Scan  `json:"recent"` // newest first
	Deck   int     `json:"deck_cards"`
	Value  float64 `json:"threshold"`
	// Stack is nil when no count was given for the stack being fed.
	Stack *StackCount `json:"stack,omitempty"`
	// DoubleFeed is the last double-feed (or miscount) warning, kept until
	// the next start so the page still shows it after the event.
	DoubleFeed string `json:"double_feed,omitempty"`
}

// Scene is the card feeder.
type Scene struct {
	feed, sorter scene.Servo
	light        CardLight
	camera       scene.Camera
	recog        Recognizer
	store        Store
	display      scene.Display
	lights       scene.Lights
	clock        scene.Clock
	opts         Opts

	mu      sync.Mutex
	state   State
	reason  string
	rules   Rules
	recent  []Scan
	cards   int
	unknown int
	running time.Duration
	since   time.Time // start of the current running spell
	// The stack count: nil without one; counted until the stack runs empty.
	count      *StackCount
	overCount  bool   // more cards came than the count: reported once
	doubleFeed string // see Status.DoubleFeed
	nextCount  int    // the count the pending start command carried

	// Feeder memory, owned by Run.
	seq        uint64
	last       recog.Match
	haveLast   bool
	changed    time.Time // when the card under the lens last changed
	misses     int
	sorterAt   physic.Angle
	sorterKnow bool
}

// New returns the scene. feed, sorter and camera are required by Run (it
// fails with a clear error without them); light, display and lights may be
// nil.
func New(feed, sorter scene.Servo, light CardLight, camera scene.Camera, rec Recognizer, st Store,
	display scene.Display, lights scene.Lights, clock scene.Clock, opts *Opts) *Scene {
	o := DefaultOpts()
	if opts != nil {
		o = *opts
	}
	if clock == nil {
		clock = scene.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.RejectMaxFiles <= 0 {
		o.RejectMaxFiles = DefaultOpts().RejectMaxFiles
	}
	if o.RejectMaxBytes <= 0 {
		o.RejectMaxBytes = DefaultOpts().RejectMaxBytes
	}
	return &Scene{feed: feed, sorter: sorter, light: light, camera: camera, recog: rec, store: st,
		display: display, lights: lights, clock: clock, opts: o, state: Stopped, reason: "press A to start"}
}

// Name implements scene.Scene.
func (s *Scene) Name() string { return Name }

// SetRules replaces the sorting rules (the web page's deck list and price).
func (s *Scene) SetRules(r Rules) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = r
}

// UpdateRules applies change to the current rules under the scene's lock
// and returns the result: a partial update from the web page keeps what it
// does not name, and two of them never lose one another's change.
func (s *Scene) UpdateRules(change func(Rules) Rules) Rules {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = change(s.rules)
	return s.rules
}

// Status reports the machine's state, figures and recent scans.
func (s *Scene) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.running
	if s.state == Running {
		run += s.clock.Now().Sub(s.since)
	}
	st := Status{State: s.state, Reason: s.reason, Recent: append([]Scan{}, s.recent...),
		Deck: len(s.rules.Deck), Value: s.rules.Threshold}
	st.Stats = Stats{Cards: s.cards, Unknown: s.unknown, Running: run.Round(time.Second).String()}
	if s.count != nil {
		c := *s.count
		st.Stack = &c
	}
	st.DoubleFeed = s.doubleFeed
	if run > 0 {
		st.Stats.PerMinute = math.Round(float64(s.cards)/run.Minutes()*10) / 10
	}
	return st
}

// Outcomes of a cycle that stop feeding.
var (
	errStop  = errors.New("cardfeed: stopped")
	errJam   = errors.New("cardfeed: jam")
	errEmpty = errors.New("cardfeed: stack empty")
)

// Run implements scene.Scene.
func (s *Scene) Run(ctx context.Context, events <-chan scene.Event) error {
	if s.feed == nil || s.sorter == nil || s.camera == nil || s.recog == nil {
		s.setState(Stopped, "no feeder: needs the feed and sorter servos, the camera and a catalog")
		s.setLight(scene.LightWarn, scene.LightBlinkFast)
		scene.Report(s.opts.Reporter, scene.LevelError, "no feeder: needs the feed and sorter servos, the camera and a catalog")
		// Stay up (the loop would only restart us) and say why.
		for ctx.Err() == nil {
			s.idle(ctx, events, func() {})
		}
		return nil
	}
	defer s.safe()
	s.setState(Stopped, "press A to start")
	for {
		switch s.State() {
		case Running:
			err := s.cycle(ctx, events)
			switch {
			case ctx.Err() != nil:
				return nil
			case err == nil:
			case errors.Is(err, errStop):
				s.halt()
				s.setState(Stopped, "stopped: press A to start")
			case errors.Is(err, errJam):
				s.halt()
				s.setState(Jammed, "jam: the card under the lens did not change; clear it and press A")
				scene.Report(s.opts.Reporter, scene.LevelWarn, "jam: the card under the lens did not move; clear it and press A")
			case errors.Is(err, errEmpty):
				s.halt()
				double := s.checkCount()
				reason := "stack empty: load cards and press A"
				if double != "" {
					reason = double + "; load cards and press A"
				}
				s.setState(Empty, reason)
				scene.Report(s.opts.Reporter, scene.LevelWarn, fmt.Sprintf("stack empty: load cards and press A (%d fed so far)", s.Status().Stats.Cards))
				if double != "" {
					scene.Report(s.opts.Reporter, scene.LevelWarn, double)
				}
			default:
				return err
			}
		default:
			if err := s.idle(ctx, events, s.start); err != nil || ctx.Err() != nil {
				return err
			}
		}
	}
}

// Help implements scene.Helper: what A does depends on the machine's state.
func (s *Scene) Help() scene.Help {
	h := scene.Help{Lights: map[string]string{
		scene.LightReady: "on: stopped, ready to feed",
		scene.LightBusy:  "blinking: feeding and identifying cards",
		scene.LightWarn:  "fast blink: jam, empty stack (or cards missed by a double feed) or no feeder",
	}}
	switch s.State() {
	case Running:
		h.A = "stop feeding"
	case Jammed:
		h.A = "start again, once the jammed card is cleared"
	case Empty:
		h.A = "start again, once cards are loaded"
	default:
		h.A = "start feeding"
	}
	return h
}

// State is the machine's state.
func (s *Scene) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Scene) setState(st State, reason string) {
	s.mu.Lock()
	now := s.clock.Now()
	if s.state == Running && st != Running {
		s.running += now.Sub(s.since)
	}
	if st == Running && s.state != Running {
		s.since = now
	}
	s.state, s.reason = st, reason
	s.mu.Unlock()
	switch st {
	case Running:
		s.setLight(scene.LightReady, scene.LightOff)
		s.setLight(scene.LightWarn, scene.LightOff)
		s.setLight(scene.LightBusy, scene.LightBlink)
	case Stopped:
		s.setLight(scene.LightBusy, scene.LightOff)
		s.setLight(scene.LightWarn, scene.LightOff)
		s.setLight(scene.LightReady, scene.LightOn)
	default:
		s.setLight(scene.LightBusy, scene.LightOff)
		s.setLight(scene.LightReady, scene.LightOff)
		s.setLight(scene.LightWarn, scene.LightBlinkFast)
	}
	s.show()
}

func (s *Scene) start() {
	s.haveLast, s.misses = false, 0
	s.mu.Lock()
	switch {
	case s.nextCount > 0:
		// A count starts a new stack.
		s.count, s.overCount = &StackCount{Loaded: s.nextCount}, false
	case s.count != nil && s.count.Done:
		// Cards loaded after an empty stack, without a count: unknown.
		s.count = nil
	}
	// Without a count, a start after a jam or a stop goes on counting the
	// same stack.
	s.nextCount, s.doubleFeed = 0, ""
	s.mu.Unlock()
	s.changed = s.clock.Now()
	s.setState(Running, "feeding")
}

// idle waits for A (then calls start and returns) while refreshing the display.
func (s *Scene) idle(ctx context.Context, events <-chan scene.Event, start func()) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.clock.After(s.opts.IdleTick):
			s.show()
		case ev := <-events:
			if s.handle(ev) {
				start()
				return nil
			}
		}
	}
}

// handle applies an event; it reports whether it was the start/stop action.
// A start command's Arg is the number of cards in the stack (optional).
func (s *Scene) handle(ev scene.Event) bool {
	switch ev.Kind {
	case scene.KindPress:
		return ev.Button == scene.ButtonA && ev.Press == scene.Short
	case scene.KindCommand:
		if ev.Command == "start" && s.State() != Running {
			n := 0
			if ev.Arg != "" {
				var err error
				if n, err = strconv.Atoi(ev.Arg); err != nil || n <= 0 || n > MaxStack {
					// Feed anyway: a bad count only loses the check.
					s.opts.Log.Warn("cardfeed: start: bad stack count, not counting", "arg", ev.Arg)
					n = 0
				}
			}
			s.mu.Lock()
			s.nextCount = n
			s.mu.Unlock()
			return true
		}
		return ev.Command == "stop" && s.State() == Running
	}
	return false
}

// checkCount closes the stack's count when it ran empty and returns the
// double-feed warning, or "" when every card loaded was seen (or there was
// no count).
func (s *Scene) checkCount() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.count
	if c == nil || c.Done {
		return ""
	}
	c.Done = true
	// No card seen at all is an unloaded hopper, not double feeds; more
	// seen than loaded was reported when it happened.
	if c.Scanned == 0 || c.Scanned >= c.Loaded {
		return ""
	}
	c.Unscanned = c.Loaded - c.Scanned
	guess := "probably a double feed"
	if c.Unscanned > 1 {
		guess = "probably double feeds"
	}
	s.doubleFeed = fmt.Sprintf("double feed: %d cards loaded, %d scanned: %d went through unscanned, %s — check the bins",
		c.Loaded, c.Scanned, c.Unscanned, guess)
	return s.doubleFeed
}

// wait sleeps d on the clock; A (or a stop command) ends it with errStop.
func (s *Scene) wait(ctx context.Context, events <-chan scene.Event, d time.Duration) error {
	t := s.clock.After(d)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t:
			return nil
		case ev := <-events:
			if s.handle(ev) {
				return errStop
			}
		}
	}
}

// cycle feeds one card: pulse the wheel (which also ejects the previous
// card into the chute the sorter points at), let it settle, light it,
// capture, identify, then turn the sorter to its bin.
func (s *Scene) cycle(ctx context.Context, events <-chan scene.Event) error {
	if err := s.feed.SetSpeed(s.opts.FeedSpeed); err != nil {
		return fmt.Errorf("cardfeed: feed wheel: %w", err)
	}
	err := s.wait(ctx, events, s.opts.FeedPulse)
	if serr := s.feed.SetSpeed(0); serr != nil && err == nil {
		err = fmt.Errorf("cardfeed: feed wheel: %w", serr)
	}
	if err != nil {
		return err
	}
	if err := s.wait(ctx, events, s.opts.Settle); err != nil {
		return err
	}
	settled := s.clock.Now()
	frame, err := s.capture(ctx, settled)
	if err != nil {
		return err
	}
	img, err := jpeg.Decode(bytes.NewReader(frame.JPEG))
	if err != nil {
		return fmt.Errorf("cardfeed: camera frame: %w", err)
	}
	m, err := s.recog.Identify(img)
	if errors.Is(err, recog.ErrNoCard) {
		s.haveLast = false
		if s.misses++; s.misses >= s.opts.EmptyPulses {
			return errEmpty
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cardfeed: identify: %w", err)
	}
	s.misses = 0
	now := s.clock.Now()
	if s.haveLast && samePlacement(s.last, m) {
		if now.Sub(s.changed) >= s.opts.JamTimeout {
			return errJam
		}
		return nil // pulse again
	}
	s.last, s.haveLast, s.changed = m, true, now
	return s.sort(ctx, events, m, frame)
}

// capture returns a frame taken after the card settled, with the card lit.
func (s *Scene) capture(ctx context.Context, settled time.Time) (scene.Frame, error) {
	if s.light != nil {
		if err := s.light.SetLights(true); err != nil {
			return scene.Frame{}, fmt.Errorf("cardfeed: card light: %w", err)
		}
		defer func() {
			if err := s.light.SetLights(false); err != nil {
				s.opts.Log.Warn("cardfeed: card light off", "err", err)
			}
		}()
	}
	for {
		f, err := s.camera.Next(ctx, s.seq)
		if err != nil {
			return scene.Frame{}, fmt.Errorf("cardfeed: camera: %w", err)
		}
		s.seq = f.Seq
		if !f.At.Before(settled) {
			return f, nil
		}
	}
}

// samePlacement: the same card lying exactly where it lay: it did not move.
// Two copies of a card are never placed to the pixel alike by the wheel.
func samePlacement(a, b recog.Match) bool {
	g, h := a.Where, b.Where
	return a.Hash.Distance(b.Hash) <= 12 && math.Abs(g.CX-h.CX) < 1.5 && math.Abs(g.CY-h.CY) < 1.5 && math.Abs(g.Angle-h.Angle) < 0.3
}

// sort records the scan and turns the sorter to its bin.
func (s *Scene) sort(ctx context.Context, events <-chan scene.Event, m recog.Match, frame scene.Frame) error {
	now := s.clock.Now()
	sc := Scan{At: now, CardID: m.ID, Name: m.Name, Set: m.Set, Number: m.Number, Price: m.Price,
		Distance: m.Distance, NameConfidence: m.NameConfidence, PrintingConfidence: m.PrintingConfidence,
		Accepted: m.Accepted, Reason: m.Reason, Finish: s.opts.Finish, Lang: s.opts.Lang, Condition: s.opts.Condition}
	s.mu.Lock()
	rules := s.rules
	s.mu.Unlock()
	sc.Bin = rules.Bin(sc)
	if !sc.Accepted && s.opts.RejectDir != "" {
		p, err := s.saveReject(now, frame.JPEG)
		if err != nil {
			return err
		}
		sc.Image = p
	}
	if s.store != nil {
		id, err := s.store.RecordScan(ctx, sc)
		if err != nil {
			return fmt.Errorf("cardfeed: record scan: %w", err)
		}
		sc.ID = id
	}
	s.mu.Lock()
	s.cards++
	if !sc.Accepted {
		s.unknown++
	}
	s.recent = append([]Scan{sc}, s.recent...)
	if len(s.recent) > s.opts.Recent {
		s.recent = s.recent[:s.opts.Recent]
	}
	var over string
	if c := s.count; c != nil && !c.Done {
		c.Scanned++
		if c.Scanned > c.Loaded && !s.overCount {
			// The count was wrong: the check at the end would mean nothing.
			s.overCount = true
			s.doubleFeed = fmt.Sprintf("stack count: %d cards loaded, but card %d just came — the count was off, so double feeds cannot be checked for this stack", c.Loaded, c.Scanned)
			over = s.doubleFeed
		}
	}
	s.mu.Unlock()
	if over != "" {
		scene.Report(s.opts.Reporter, scene.LevelWarn, over)
	}
	s.show()

	target := s.opts.BinAngles[sc.Bin-1]
	if err := s.sorter.SetAngle(target); err != nil {
		return fmt.Errorf("cardfeed: sorter: %w", err)
	}
	travel := 180.0 // unknown start: allow the full swing
	if s.sorterKnow {
		travel = math.Abs(float64(target-s.sorterAt)) / float64(physic.Degree)
	}
	s.sorterAt, s.sorterKnow = target, true
	if travel == 0 {
		return nil
	}
	return s.wait(ctx, events, time.Duration(travel/s.opts.SorterSlew*float64(time.Second))+20*time.Millisecond)
}

// saveReject writes a rejected card's photo (temporary file, then rename:
// a kill leaves no torn JPEG under a photo's name) and keeps the directory
// within its quota.
func (s *Scene) saveReject(at time.Time, jpg []byte) (string, error) {
	dir := s.opts.RejectDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cardfeed: reject dir: %w", err)
	}
	// Names sort by time: the quota removes the oldest first by name.
	p := filepath.Join(dir, at.UTC().Format("20060102-150405.000")+".jpg")
	f, err := os.CreateTemp(dir, rejectTemp+"*")
	if err != nil {
		return "", fmt.Errorf("cardfeed: save reject: %w", err)
	}
	_, err = f.Write(jpg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("cardfeed: save reject: %w", err)
	}
	if err := pruneRejects(dir, s.opts.RejectMaxFiles, s.opts.RejectMaxBytes, p); err != nil {
		// The photo is saved; an over-full directory is worth a warning,
		// not stopping the feeder.
		s.opts.Log.Warn("cardfeed: reject photo quota", "err", err)
	}
	return p, nil
}

const rejectTemp = ".tmp-"

// pruneRejects removes the oldest photos in dir until at most maxFiles
// remain and they take at most maxBytes, never keep (the one just saved);
// temporary files of interrupted saves go too.
func pruneRejects(dir string, maxFiles int, maxBytes int64, keep string) error {
	entries, err := os.ReadDir(dir) // sorted by name: oldest first
	if err != nil {
		return err
	}
	type photo struct {
		path string
		size int64
	}
	var photos []photo
	var total int64
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), rejectTemp) {
			if path != keep {
				errs = append(errs, removeMissingOK(path))
			}
			continue
		}
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".jpg") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		photos = append(photos, photo{path, fi.Size()})
		total += fi.Size()
	}
	count := len(photos)
	for _, ph := range photos {
		if count <= maxFiles && total <= maxBytes {
			break
		}
		if ph.path == keep {
			continue
		}
		if err := removeMissingOK(ph.path); err != nil {
			errs = append(errs, err)
			continue
		}
		count--
		total -= ph.size
	}
	return errors.Join(errs...)
}

func removeMissingOK(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// halt stops the servos (the positional sorter goes limp where it is).
func (s *Scene) halt() {
	errs := []error{s.feed.Halt(), s.sorter.Halt()}
	if s.light != nil {
		errs = append(errs, s.light.SetLights(false))
	}
	if err := errors.Join(errs...); err != nil {
		s.opts.Log.Error("cardfeed: halting the feeder", "err", err)
	}
}

func (s *Scene) safe() {
	s.halt()
	s.setLight(scene.LightBusy, scene.LightOff)
	s.setLight(scene.LightWarn, scene.LightOff)
	s.setLight(scene.LightReady, scene.LightOff)
}

func (s *Scene) setLight(name string, m scene.LightMode) {
	if s.lights != nil {
		// A broken status light is not worth stopping the feeder for.
		if err := s.lights.SetLight(name, m); err != nil {
			s.opts.Log.Warn("cardfeed: status light", "light", name, "err", err)
		}
	}
}

// show puts the card count (running) or the state on the scroll display.
func (s *Scene) show() {
	if s.display == nil {
		return
	}
	s.mu.Lock()
	text := fmt.Sprint(s.cards)
	switch s.state {
	case Jammed:
		text = "JAM"
	case Empty:
		text = "END"
		if s.count != nil && s.count.Unscanned > 0 {
			text = "DBL" // cards missed: check the bins
		}
	case Stopped:
		text = "A"
	}
	s.mu.Unlock()
	frame := image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
	font.NewScroller(font.Font3x5(), text, scene.DisplayWidth, scene.DisplayHeight).Frame(0, frame)
	if err := s.display.Show(frame); err != nil {
		s.opts.Log.Warn("cardfeed: display", "err", err)
	}
}
