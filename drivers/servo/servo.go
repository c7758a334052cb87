package servo

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Output produces the pulse train for one servo.
type Output interface {
	// SetPulse sets the high time of every period and starts the pulses.
	SetPulse(time.Duration) error
	// Stop ends the pulses: the output stays low.
	Stop() error
	String() string
}

// Period is the servo frame: 50 Hz.
const Period = 20 * time.Millisecond

// Kind says how a servo turns pulse width into motion.
type Kind uint8

const (
	// Positional servos hold the angle the pulse width asks for.
	Positional Kind = iota
	// Continuous-rotation servos turn at a speed set by the pulse width's
	// distance from the centre (stop) pulse.
	Continuous
)

func (k Kind) String() string {
	switch k {
	case Positional:
		return "positional"
	case Continuous:
		return "continuous"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Opts is one servo's calibration. Zero fields take DefaultOpts' values,
// except CenterPulse: 0 means midway between MinPulse and MaxPulse.
type Opts struct {
	Kind Kind
	// MinPulse and MaxPulse drive to -Range and +Range (positional) or full
	// reverse and forward (continuous); CenterPulse is the middle or stop.
	MinPulse, MaxPulse, CenterPulse time.Duration
	// Range is the angle reached at MinPulse/MaxPulse either side of centre.
	Range physic.Angle
	// Deadband (continuous only) is how far from CenterPulse the servo
	// ignores: the smallest non-zero speed starts just beyond it, so a slow
	// feed wheel still turns.
	Deadband time.Duration
	// Invert swaps directions (a servo mounted the other way round).
	Invert bool
}

// DefaultOpts is a positional servo with 500–2500 µs pulses, 1500 µs centre, ±90°.
func DefaultOpts() Opts {
	return Opts{
		Kind:        Positional,
		MinPulse:    500 * time.Microsecond,
		MaxPulse:    2500 * time.Microsecond,
		CenterPulse: 1500 * time.Microsecond,
		Range:       90 * physic.Degree,
	}
}

// Dev is one servo on an Output.
type Dev struct {
	mu   sync.Mutex
	out  Output
	o    Opts
	last time.Duration // last pulse sent, 0 when stopped
}

// New validates the calibration and returns a servo; it sends nothing until
// the first SetAngle or SetSpeed.
func New(out Output, opts *Opts) (*Dev, error) {
	if out == nil {
		return nil, errors.New("servo: nil output")
	}
	o := DefaultOpts()
	if opts != nil {
		o.Kind, o.Deadband, o.Invert = opts.Kind, opts.Deadband, opts.Invert
		if opts.MinPulse != 0 {
			o.MinPulse = opts.MinPulse
		}
		if opts.MaxPulse != 0 {
			o.MaxPulse = opts.MaxPulse
		}
		o.CenterPulse = opts.CenterPulse
		if o.CenterPulse == 0 {
			o.CenterPulse = (o.MinPulse + o.MaxPulse) / 2
		}
		if opts.Range != 0 {
			o.Range = opts.Range
		}
	}
	switch {
	case o.Kind > Continuous:
		return nil, fmt.Errorf("servo: unknown kind %d", uint8(o.Kind))
	case o.MinPulse <= 0 || o.MaxPulse > Period:
		return nil, fmt.Errorf("servo: pulses %s..%s must lie within 0..%s", o.MinPulse, o.MaxPulse, Period)
	case !(o.MinPulse < o.CenterPulse && o.CenterPulse < o.MaxPulse):
		return nil, fmt.Errorf("servo: need min < centre < max pulse, got %s, %s, %s", o.MinPulse, o.CenterPulse, o.MaxPulse)
	case o.Range <= 0 || o.Range > 180*physic.Degree:
		return nil, fmt.Errorf("servo: range ±%s must be within ±180°", o.Range)
	case o.Deadband < 0 || o.Deadband >= min(o.MaxPulse-o.CenterPulse, o.CenterPulse-o.MinPulse):
		return nil, fmt.Errorf("servo: deadband %s must be smaller than either half-span", o.Deadband)
	}
	return &Dev{out: out, o: o}, nil
}

// AnglePulse returns the pulse width for angle a: linear from centre to each
// end separately, so an asymmetric calibration stays exact at both ends.
func (d *Dev) AnglePulse(a physic.Angle) (time.Duration, error) {
	if d.o.Kind != Positional {
		return 0, errors.New("servo: SetAngle on a continuous-rotation servo: use SetSpeed")
	}
	if a < -d.o.Range || a > d.o.Range {
		return 0, fmt.Errorf("servo: angle %s outside ±%s", a, d.o.Range)
	}
	if d.o.Invert {
		a = -a
	}
	return d.o.CenterPulse + scale(d.span(a >= 0), int64(a), int64(d.o.Range)), nil
}

// SpeedPulse returns the pulse width for speed s in -1..1.
func (d *Dev) SpeedPulse(s float64) (time.Duration, error) {
	if d.o.Kind != Continuous {
		return 0, errors.New("servo: SetSpeed on a positional servo: use SetAngle")
	}
	if math.IsNaN(s) || s < -1 || s > 1 {
		return 0, fmt.Errorf("servo: speed %v outside -1..1", s)
	}
	if d.o.Invert {
		s = -s
	}
	if s == 0 {
		return d.o.CenterPulse, nil
	}
	span := d.span(s > 0) - d.o.Deadband
	off := d.o.Deadband + time.Duration(math.Round(math.Abs(s)*float64(span)))
	if s < 0 {
		off = -off
	}
	return d.o.CenterPulse + off, nil
}

// span is the pulse distance from centre to the end in direction up/down.
func (d *Dev) span(up bool) time.Duration {
	if up {
		return d.o.MaxPulse - d.o.CenterPulse
	}
	return d.o.CenterPulse - d.o.MinPulse
}

// scale returns span*num/den rounded half away from zero; the product fits
// in int64 since span ≤ 20 ms and |num| ≤ den ≤ π rad in nano-units.
func scale(span time.Duration, num, den int64) time.Duration {
	p := int64(span) * num
	if p >= 0 {
		return time.Duration((p + den/2) / den)
	}
	return time.Duration((p - den/2) / den)
}

// SetAngle moves a positional servo; 0 is the calibrated centre.
func (d *Dev) SetAngle(a physic.Angle) error {
	p, err := d.AnglePulse(a)
	if err != nil {
		return err
	}
	return d.send(p)
}

// SetSpeed runs a continuous-rotation servo: -1 full reverse, 0 stop, 1 full forward.
func (d *Dev) SetSpeed(s float64) error {
	p, err := d.SpeedPulse(s)
	if err != nil {
		return err
	}
	return d.send(p)
}

func (d *Dev) send(p time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.out.SetPulse(p); err != nil {
		return fmt.Errorf("servo: %s: %w", d.out, err)
	}
	d.last = p
	return nil
}

// Pulse returns the pulse width being sent, 0 after Halt.
func (d *Dev) Pulse() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// Halt stops the pulses: a positional servo goes limp, a continuous one stops.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.out.Stop(); err != nil {
		return fmt.Errorf("servo: %s: %w", d.out, err)
	}
	d.last = 0
	return nil
}

func (d *Dev) String() string {
	return fmt.Sprintf("servo{%s %s}", d.o.Kind, d.out)
}
