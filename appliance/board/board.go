// Package board builds the set of devices the scenes use from the config:
// real drivers on a Raspberry Pi, or the simulator (drivers/sim). It is the
// only package that touches periph's global registries, and the place where
// drivers are checked against the scene interfaces.
package board

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sort"
	"sync"
	"time"

	"tinkerbox/appliance/config"
	"tinkerbox/drivers/picam"
	"tinkerbox/scenes/scene"
)

// Options say how to build the board.
type Options struct {
	Sim   bool
	Clock scene.Clock
	Log   *slog.Logger
	// RecordDir, when set, keeps what each probed device received for
	// SaveRecording (I2C traffic on hardware; printer stream, display and
	// LEDs in the simulator).
	RecordDir string
	// ScanI2C lists every address that answers on the I2C bus (selftest).
	ScanI2C bool
}

// Probe is one line of the self-test table.
type Probe struct {
	Device string `json:"device"`
	Where  string `json:"where"`  // bus/address or pin or path
	Status string `json:"status"` // StatusOK, StatusMissing, StatusFailed or StatusOff
	Detail string `json:"detail"` // why, and what to check
}

// Probe statuses.
const (
	StatusOK      = "OK"
	StatusMissing = "missing"
	StatusFailed  = "failed"
	StatusOff     = "off" // disabled in the config
)

// CardLight switches the white LEDs that light a card under the camera.
type CardLight interface {
	SetLights(on bool) error
}

// Board is the appliance's hardware. A device that is absent is nil (Lights
// is never nil; it may have no lights).
type Board struct {
	Display   scene.Display
	Lights    *Lights
	Printer   scene.Printer
	Camera    *picam.Owner
	Env       scene.Environment
	CardLight CardLight
	Feed      scene.Servo
	Sorter    scene.Servo
	// Events carries button presses, already classified.
	Events <-chan scene.Event
	// Sim holds the simulated devices (nil on hardware): the front panel
	// reads their state.
	Sim *Sim

	Probes []Probe

	clock    scene.Clock
	log      *slog.Logger
	halters  []halter // in halt order: motion first, then light, then the rest
	stopOnce sync.Once
	cancel   context.CancelFunc
	rec      *recorder // nil unless Options.RecordDir
}

// SaveRecording writes what the devices received since Open into
// Options.RecordDir, with an index, and lists the files written.
func (b *Board) SaveRecording() ([]Recorded, error) {
	if b.rec == nil || b.rec.dir == "" {
		return nil, errors.New("board: nothing recorded (no RecordDir)")
	}
	return b.rec.save()
}

type halter struct {
	name string
	halt func() error
}

// Open builds the board. On hardware, a missing optional device is logged,
// listed in Probes and left nil; Open fails only when nothing can work (no
// Raspberry Pi, unreadable GPIO).
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Board, error) {
	if opts.Clock == nil {
		opts.Clock = scene.SystemClock{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	b := &Board{clock: opts.Clock, log: opts.Log, cancel: cancel, Lights: &Lights{lights: map[string]light{}}}
	var err error
	if opts.Sim {
		err = b.openSim(ctx, cfg, opts.RecordDir)
	} else {
		err = b.openReal(ctx, cfg, opts)
	}
	if err != nil {
		b.Halt()
		return nil, err
	}
	if b.Camera != nil {
		go b.Camera.Run(ctx)
	}
	return b, nil
}

func (b *Board) probe(device, where, status, detail string) {
	b.Probes = append(b.Probes, Probe{Device: device, Where: where, Status: status, Detail: detail})
	switch status {
	case StatusOK, StatusOff:
		b.log.Info("device "+status, "device", device, "where", where)
	default:
		b.log.Warn("device "+status, "device", device, "where", where, "detail", detail)
	}
}

func (b *Board) addHalter(name string, h func() error) {
	b.halters = append(b.halters, halter{name, h})
}

// Safe puts the devices in a known state between scenes: servos stopped,
// lights off, display blank, card light off. The devices stay usable.
func (b *Board) Safe() {
	var errs []error
	for _, s := range []scene.Servo{b.Feed, b.Sorter} {
		if s != nil {
			errs = append(errs, s.Halt())
		}
	}
	if b.CardLight != nil {
		errs = append(errs, b.CardLight.SetLights(false))
	}
	errs = append(errs, b.Lights.off())
	if b.Display != nil {
		errs = append(errs, b.Display.Show(blank()))
	}
	if err := errors.Join(errs...); err != nil {
		b.log.Error("making devices safe", "err", err)
	}
}

// Halt stops every device for good: servos first (they move things), then
// lights and display, then printer and camera. It is safe to call twice and
// from a panic handler.
func (b *Board) Halt() {
	b.stopOnce.Do(func() {
		for _, h := range b.halters {
			if err := h.halt(); err != nil {
				b.log.Error("halt", "device", h.name, "err", err)
			}
		}
		if b.cancel != nil {
			b.cancel()
		}
	})
}

// OK reports whether no configured device failed or is missing.
func (b *Board) OK() bool {
	for _, p := range b.Probes {
		if p.Status == StatusFailed || p.Status == StatusMissing {
			return false
		}
	}
	return true
}

// light is a status light: a GPIO LED, a Blinkt pixel or a simulated LED.
type light interface {
	On() error
	Off() error
	Blink(period time.Duration) error
}

// Lights implements scene.Lights over named lights.
type Lights struct {
	mu     sync.Mutex
	lights map[string]light
	modes  map[string]scene.LightMode
}

// Blink periods for the two blink modes.
const (
	slowBlink = time.Second
	fastBlink = 250 * time.Millisecond
)

// SetLight implements scene.Lights. A light that is not wired is ignored:
// the config decides which exist, scenes need not care.
func (l *Lights) SetLight(name string, m scene.LightMode) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch name {
	case scene.LightReady, scene.LightBusy, scene.LightWarn:
	default:
		return fmt.Errorf("board: no light %q", name)
	}
	if l.modes == nil {
		l.modes = map[string]scene.LightMode{}
	}
	l.modes[name] = m
	d, ok := l.lights[name]
	if !ok {
		return nil
	}
	switch m {
	case scene.LightOn:
		return d.On()
	case scene.LightBlink:
		return d.Blink(slowBlink)
	case scene.LightBlinkFast:
		return d.Blink(fastBlink)
	default:
		return d.Off()
	}
}

// Modes reports what each light was last told to do.
func (l *Lights) Modes() map[string]scene.LightMode {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]scene.LightMode{}
	for _, n := range l.Names() {
		out[n] = l.modes[n]
	}
	return out
}

// Names lists the wired lights.
func (l *Lights) Names() []string {
	names := make([]string, 0, len(l.lights))
	for n := range l.lights {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (l *Lights) off() error {
	var errs []error
	for _, n := range []string{scene.LightReady, scene.LightBusy, scene.LightWarn} {
		errs = append(errs, l.SetLight(n, scene.LightOff))
	}
	return errors.Join(errs...)
}

func blank() *image.Gray {
	return image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
}
