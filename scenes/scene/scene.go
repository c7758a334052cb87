// Package scene holds the contracts between the appliance and its scenes: the
// Scene itself, the events it receives and the narrow device interfaces it is
// built with. Scenes import this package, never drivers or the appliance.
package scene

import (
	"context"
	"image"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Scene is one mode of the appliance. Run blocks until ctx is cancelled (return
// nil or ctx.Err()) or the scene fails (return the error: the loop logs it and
// restarts the scene with backoff). Events are delivered on events; the channel
// is never closed while Run is running.
type Scene interface {
	Name() string
	Run(ctx context.Context, events <-chan Event) error
}

// Kind says what an Event is.
type Kind uint8

const (
	// KindPress is a button press on the appliance or the front panel.
	KindPress Kind = iota + 1
	// KindCommand is a named command from the web API (e.g. "reprint").
	KindCommand
)

// Press is how a button was pressed.
type Press uint8

const (
	Short Press = iota + 1
	Long
	Double
)

func (p Press) String() string {
	switch p {
	case Short:
		return "short"
	case Long:
		return "long"
	case Double:
		return "double"
	}
	return "unknown"
}

// ParsePress is the inverse of Press.String.
func ParsePress(s string) (Press, bool) {
	for _, p := range []Press{Short, Long, Double} {
		if p.String() == s {
			return p, true
		}
	}
	return 0, false
}

// Button names: A is the scene's action, B switches scenes.
const (
	ButtonA = "A"
	ButtonB = "B"
)

// Event is delivered to the running scene.
type Event struct {
	Kind    Kind
	Button  string // KindPress: ButtonA or ButtonB
	Press   Press  // KindPress
	Command string // KindCommand
	Arg     string // KindCommand: optional argument
	At      time.Time
}

// Clock is injected everywhere time matters so tests and the simulator can run
// hours in milliseconds. SystemClock is the real one; fakeclock the test one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time                         { return time.Now() }
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Display size of the Scroll pHAT HD.
const (
	DisplayWidth  = 17
	DisplayHeight = 7
)

// Display is a small monochrome brightness matrix (the 17x7 scroll display).
// Show copies the frame; pixel values are brightness 0 (off) to 255 (full).
type Display interface {
	Show(frame *image.Gray) error
}

// LightMode is what a status light does.
type LightMode uint8

const (
	LightOff LightMode = iota
	LightOn
	LightBlink     // slow blink, ~1 Hz: busy, waiting
	LightBlinkFast // ~4 Hz: a fault that needs attention
)

// Light names used by scenes; the board maps them to GPIO LEDs or Blinkt pixels.
const (
	LightReady = "ready"
	LightBusy  = "busy"
	LightWarn  = "warn"
)

// Lights sets status lights by name. Unknown names are an error.
type Lights interface {
	SetLight(name string, mode LightMode) error
}

// Printer prints an image on the thermal printer: it dithers to 1 bit at the
// printer's width (wider images are scaled down, narrower centred) and sends it.
type Printer interface {
	Print(ctx context.Context, img image.Image) error
	Width() int // dots per line
}

// Frame is one JPEG from the camera.
type Frame struct {
	Seq  uint64 // increases by one per frame from the camera owner; 0 is never used
	At   time.Time
	JPEG []byte // shared: never modify
}

// Camera hands out the latest frame. Next blocks until a frame with Seq > after
// exists (or ctx ends) and returns the newest one: slow readers skip frames,
// they never queue.
type Camera interface {
	Next(ctx context.Context, after uint64) (Frame, error)
}

// Environment is a pressure/temperature sensor (periph's physic.SenseEnv shape).
type Environment interface {
	Sense(env *physic.Env) error
}

// Servo drives a positional or continuous-rotation servo.
type Servo interface {
	// SetAngle moves a positional servo; 0 is the calibrated centre, ±90° the ends.
	SetAngle(a physic.Angle) error
	// SetSpeed runs a continuous-rotation servo: -1 full reverse, 0 stop, 1 full forward.
	SetSpeed(s float64) error
	// Halt stops the pulses: the servo goes limp.
	Halt() error
}

// Event-log levels, as the log stores them.
const (
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Reporter writes what a maker must not miss to the appliance's event log
// (a strip printed, a jam, an empty stack, a gale warning, motion). The
// appliance gives each scene one that names the scene as the source; the
// front panel shows the log and the browser can notify on warn and error.
// Report must not block for long: scenes call it from their loops.
type Reporter interface {
	Report(level, message string)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(level, message string)

// Report implements Reporter.
func (f ReporterFunc) Report(level, message string) { f(level, message) }

// Report sends message to r, if there is one: a scene built without a
// reporter (tests, the CLI) reports nothing.
func Report(r Reporter, level, message string) {
	if r != nil {
		r.Report(level, message)
	}
}

// Help says what the buttons do in a scene right now and what its lights
// mean, for the front panel. Empty fields are unused.
type Help struct {
	A      string            `json:"a"`                // A short press
	ALong  string            `json:"a_long,omitempty"` // A held for a second
	Lights map[string]string `json:"lights,omitempty"` // light name (LightReady, …) → meaning
}

// Helper is implemented by scenes that explain themselves. Help is called
// from other goroutines (the web server) while the scene runs.
type Helper interface {
	Help() Help
}
