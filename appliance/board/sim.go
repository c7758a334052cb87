package board

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"tinkerbox/appliance/config"
	"tinkerbox/drivers/escpos"
	"tinkerbox/drivers/picam"
	"tinkerbox/drivers/sim"
	"tinkerbox/scenes/scene"
)

// The simulated devices must fit the scene contracts like the real ones do.
var (
	_ scene.Display     = (*sim.Display)(nil)
	_ scene.Environment = (*sim.Weather)(nil)
	_ scene.Servo       = (*sim.Servo)(nil)
	_ light             = (*sim.LED)(nil)
	_ picam.Source      = (*sim.Camera)(nil)
)

// Sim is the simulated hardware, for the front panel.
type Sim struct {
	Display *sim.Display
	LEDs    map[string]*sim.LED
	Printer *sim.Printer
	Buttons *sim.Buttons
	Camera  *sim.Camera
	Weather *sim.Weather
	Feed    *sim.Servo
	Sorter  *sim.Servo
}

// openSim builds the simulator: every device present, driven by the same
// encoders and owners as on hardware (the printer gets real ESC/POS bytes,
// the camera owner supervises the synthetic camera).
func (b *Board) openSim(ctx context.Context, cfg *config.Config, recordDir string) error {
	s := &Sim{
		Display: sim.NewDisplay(),
		LEDs:    map[string]*sim.LED{},
		Printer: sim.NewPrinter(&sim.PrinterOpts{Width: cfg.Printer.Width, MaxRows: 20000}),
		Buttons: sim.NewButtons(scene.ButtonA, scene.ButtonB),
		Camera:  sim.NewCamera(&sim.CameraOpts{Width: cfg.Camera.Width, Height: cfg.Camera.Height, FPS: cfg.Camera.FPS, Quality: 75, Clock: b.clock}),
		Weather: sim.NewWeather(&sim.WeatherOpts{Clock: b.clock, Speedup: 60, Scenario: sim.ScenarioSteady, Seed: 1}),
		Feed:    sim.NewServo("feed", sim.Continuous, b.clock),
		Sorter:  sim.NewServo("sorter", sim.Positional, b.clock),
	}
	s.Buttons.SetClock(b.clock)
	b.Sim = s

	s.Display.SetBrightness(uint8(cfg.Scroll.Brightness))
	b.Display = s.Display
	b.probe("scroll display", "simulated 17x7", StatusOK, "")

	for _, n := range []string{scene.LightReady, scene.LightBusy, scene.LightWarn} {
		led := sim.NewLED(n, b.clock)
		s.LEDs[n] = led
		b.Lights.lights[n] = led
	}
	b.probe("status LEDs", "simulated ready/busy/warn", StatusOK, "")

	var link io.Writer = s.Printer
	if recordDir != "" {
		rec := &recordingPrinter{Printer: s.Printer}
		b.rec = &recorder{dir: recordDir, printer: &rec.got, sim: s}
		link = rec
	}
	pr, err := escpos.New(link, printerOpts(cfg))
	if err != nil {
		return fmt.Errorf("board: printer: %w", err)
	}
	b.Printer = pr
	b.probe("printer", fmt.Sprintf("simulated %d dots, %s", cfg.Printer.Width, cfg.Printer.Profile), StatusOK, "")

	b.Camera = picam.NewOwner(s.Camera, &picam.OwnerOpts{Clock: b.clock, Log: b.log, Inactive: true})
	b.probe("camera", fmt.Sprintf("simulated %dx%d @ %d fps", cfg.Camera.Width, cfg.Camera.Height, cfg.Camera.FPS), StatusOK, "")

	b.Env = s.Weather
	b.probe("pressure sensor", "simulated weather", StatusOK, "")
	b.CardLight = simCardLight{}
	b.Feed, b.Sorter = s.Feed, s.Sorter
	b.probe("servos", "simulated feed + sorter", StatusOK, "")
	b.probe("buttons", "front panel A, B", StatusOK, "")

	events := make(chan scene.Event, 16)
	b.Events = events
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-s.Buttons.Events():
				p, ok := scene.ParsePress(ev.Press)
				if !ok {
					continue
				}
				events <- scene.Event{Kind: scene.KindPress, Button: ev.Name, Press: p, At: ev.At}
			}
		}
	}()

	// Halt order: motion, light, display, printer, camera.
	b.addHalter("feed servo", s.Feed.Halt)
	b.addHalter("sorter servo", s.Sorter.Halt)
	for _, n := range []string{scene.LightReady, scene.LightBusy, scene.LightWarn} {
		b.addHalter(n+" light", s.LEDs[n].Halt)
	}
	b.addHalter("display", s.Display.Halt)
	b.addHalter("printer", pr.Halt)
	b.addHalter("camera", b.Camera.Halt)
	b.addHalter("buttons", s.Buttons.Halt)
	return nil
}

// recordingPrinter keeps a copy of the stream the simulated printer
// receives; embedding keeps its status replies (Read) and busy line.
type recordingPrinter struct {
	*sim.Printer
	got bytes.Buffer
}

func (r *recordingPrinter) Write(p []byte) (int, error) {
	n, err := r.Printer.Write(p)
	r.got.Write(p[:n])
	return n, err
}

// simCardLight stands in for the Enviro white LEDs; the simulated camera is
// lit regardless.
type simCardLight struct{}

func (simCardLight) SetLights(bool) error { return nil }

// printerOpts maps the config onto the encoder's options.
func printerOpts(cfg *config.Config) *escpos.Opts {
	o := escpos.DefaultOpts()
	o.Width = cfg.Printer.Width
	if cfg.Printer.Profile == config.ProfileAdafruit {
		o.Profile = escpos.Adafruit
	}
	switch cfg.Printer.Dither {
	case config.DitherAtkinson:
		o.Dither = escpos.Atkinson
	case config.DitherOrdered:
		o.Dither = escpos.Bayer
	case config.DitherThreshold:
		o.Dither = escpos.Threshold
	default:
		o.Dither = escpos.FloydSteinberg
	}
	o.Cut = cfg.Printer.Cut
	if p := cfg.Printer; p.Profile == config.ProfileAdafruit {
		// The whole of ESC 7 from the config: a partial Heat would send
		// zeros for the fields left out (8 dots at a time, no interval).
		o.Heat = escpos.Heat{Dots: uint8(p.HeatDots), Time: uint8(p.HeatTime), Interval: uint8(p.HeatInterval)}
		o.Density = uint8(p.Density)
	}
	return o
}
