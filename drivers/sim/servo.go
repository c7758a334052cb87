package sim

import (
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
)

// ServoKind says how a servo moves.
type ServoKind uint8

const (
	// Positional servos (SG90) hold an angle in -90°..+90°.
	Positional ServoKind = iota + 1
	// Continuous-rotation servos (FS90R) turn at a speed in -1..1.
	Continuous
)

func (k ServoKind) String() string {
	switch k {
	case Positional:
		return "positional"
	case Continuous:
		return "continuous"
	}
	return fmt.Sprintf("ServoKind(%d)", uint8(k))
}

// Servo speeds of the modelled parts.
const (
	slewDegPerSec = 600  // SG90: 0.1 s per 60° at 4.8 V
	revPerSec     = 0.75 // FS90R: ~45 rpm at full speed
	servoLimit    = 90 * physic.Degree
)

// ServoState is a servo at one instant.
type ServoState struct {
	Kind        string       // "positional" or "continuous"
	Angle       physic.Angle // positional: the horn now; continuous: the wheel within its turn (0..360°)
	Target      physic.Angle // positional: where it is going
	Speed       float64      // continuous: -1..1
	Revolutions float64      // continuous: turns since creation, signed
	Powered     bool         // receiving pulses
	Jammed      bool         // stalled by an injected jam
}

// Servo is a simulated SG90 (positional) or FS90R (continuous) servo. Motion
// is computed lazily from the clock: no goroutine.
type Servo struct {
	mu      sync.Mutex
	name    string
	kind    ServoKind
	clk     Clock
	last    time.Time
	angle   float64 // degrees
	target  physic.Angle
	speed   float64
	revs    float64
	powered bool
	jammed  bool
	version uint64
}

// NewServo returns an unpowered servo at the centre. A nil clk is the wall
// clock; an unknown kind is treated as Positional.
func NewServo(name string, kind ServoKind, clk Clock) *Servo {
	if kind != Continuous {
		kind = Positional
	}
	clk = orSystem(clk)
	return &Servo{name: name, kind: kind, clk: clk, last: clk.Now()}
}

func (s *Servo) String() string { return fmt.Sprintf("sim.Servo(%s, %s)", s.name, s.kind) }

// Kind is how the servo moves.
func (s *Servo) Kind() ServoKind { return s.kind }

// SetAngle powers a positional servo and sends it toward a (-90°..+90°).
func (s *Servo) SetAngle(a physic.Angle) error {
	if s.kind != Positional {
		return fmt.Errorf("sim: servo %s: SetAngle on a %s servo", s.name, s.kind)
	}
	if a < -servoLimit || a > servoLimit {
		return fmt.Errorf("sim: servo %s: angle %s outside -90°..+90°", s.name, a)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.target = a
	s.powered = true
	s.version++
	return nil
}

// SetSpeed powers a continuous servo at speed sp (-1 full reverse .. 1 full forward).
func (s *Servo) SetSpeed(sp float64) error {
	if s.kind != Continuous {
		return fmt.Errorf("sim: servo %s: SetSpeed on a %s servo", s.name, s.kind)
	}
	if !(sp >= -1 && sp <= 1) { // also rejects NaN
		return fmt.Errorf("sim: servo %s: speed %v outside -1..1", s.name, sp)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.speed = sp
	s.powered = true
	s.version++
	return nil
}

// Halt stops the pulses: a continuous servo stops, a positional one goes limp
// where it is.
func (s *Servo) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.powered = false
	s.speed = 0
	if s.kind == Positional {
		s.target = degToAngle(s.angle)
	}
	s.version++
	return nil
}

// SetJammed injects (or clears) a jam: the servo is powered but stalled.
func (s *Servo) SetJammed(j bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.jammed = j
	s.version++
}

// State returns the servo's position and motion now.
func (s *Servo) State() ServoState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	st := ServoState{
		Kind:        s.kind.String(),
		Angle:       degToAngle(s.angle),
		Speed:       s.speed,
		Revolutions: s.revs,
		Powered:     s.powered,
		Jammed:      s.jammed,
	}
	if s.kind == Positional {
		st.Target = s.target
	} else {
		_, frac := math.Modf(s.revs)
		if frac < 0 {
			frac++
		}
		st.Angle = degToAngle(frac * 360)
	}
	return st
}

// Version increases when a command changes the servo (not as it moves).
func (s *Servo) Version() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// advance moves the servo by the time elapsed since the last call.
func (s *Servo) advance() {
	now := s.clk.Now()
	dt := now.Sub(s.last).Seconds()
	s.last = now
	if dt <= 0 || !s.powered || s.jammed {
		return
	}
	switch s.kind {
	case Positional:
		target := float64(s.target) / float64(physic.Degree)
		step := slewDegPerSec * dt
		switch d := target - s.angle; {
		case math.Abs(d) <= step:
			s.angle = target
		case d > 0:
			s.angle += step
		default:
			s.angle -= step
		}
	case Continuous:
		s.revs += s.speed * revPerSec * dt
	}
}

func degToAngle(d float64) physic.Angle { return physic.Angle(math.Round(d * float64(physic.Degree))) }
