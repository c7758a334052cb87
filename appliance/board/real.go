package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/rpi"

	"tinkerbox/appliance/config"
	"tinkerbox/drivers/blinkt"
	"tinkerbox/drivers/button"
	"tinkerbox/drivers/enviro"
	"tinkerbox/drivers/escpos"
	"tinkerbox/drivers/is31fl3731"
	"tinkerbox/drivers/led"
	"tinkerbox/drivers/picam"
	"tinkerbox/drivers/servo"
	"tinkerbox/drivers/v4l2"
	"tinkerbox/scenes/scene"
)

// The real drivers must fit the scene contracts.
var (
	_ scene.Display     = (*is31fl3731.Dev)(nil)
	_ scene.Environment = (*enviro.Dev)(nil)
	_ scene.Servo       = (*servo.Dev)(nil)
	_ scene.Printer     = (*escpos.Dev)(nil)
	_ CardLight         = (*enviro.Dev)(nil)
	_ light             = (*led.Dev)(nil)
	_ picam.Source      = (*picam.RPiCam)(nil)
	_ picam.Source      = (*v4l2.Dev)(nil)
)

// ErrNoPi says this computer has no Raspberry Pi hardware.
var ErrNoPi = errors.New("board: no Raspberry Pi hardware found on this computer; to try tinkerbox here, run `tinkerbox run --sim` (or `make run`)")

// openReal builds the board from real drivers. Each device is optional: a
// missing one is listed in Probes with what to check, and left nil.
func (b *Board) openReal(ctx context.Context, cfg *config.Config, opts Options) error {
	if _, err := host.Init(); err != nil {
		return fmt.Errorf("board: periph host init: %w", err)
	}
	if !rpi.Present() {
		return ErrNoPi
	}
	b.openButtons(ctx, cfg)
	b.openLEDs(cfg)

	var bus i2c.BusCloser
	if cfg.Enviro.Enabled || cfg.Scroll.Enabled || cfg.Servos.Driver == config.ServosPCA9685 {
		var err error
		if bus, err = i2creg.Open(cfg.I2C.Bus); err != nil {
			b.probe("I2C bus", "i2c "+cfg.I2C.Bus, StatusFailed, fmt.Sprintf("%v: enable I2C (dtparam=i2c_arm=on in config.txt)", err))
		} else {
			b.addHalterLast("I2C bus", bus.Close)
		}
	}
	rec := &recorder{dir: opts.RecordDir}
	b.rec = rec
	if bus != nil && opts.ScanI2C {
		b.probe("I2C bus", "i2c "+cfg.I2C.Bus, StatusOK, "answering: "+scanI2C(bus))
	}
	if bus != nil {
		b.openScroll(cfg, rec.wrap(bus, "scroll"))
		b.openEnviro(cfg, rec.wrap(bus, "enviro"))
	}
	b.openServos(cfg, bus, rec)
	b.openPrinter(cfg)
	b.openCamera(cfg)
	return nil
}

func pin(n int) (gpio.PinIO, error) {
	p := gpioreg.ByName(fmt.Sprintf("GPIO%d", n))
	if p == nil {
		return nil, fmt.Errorf("no GPIO%d on this board", n)
	}
	return p, nil
}

func (b *Board) openButtons(ctx context.Context, cfg *config.Config) {
	where := fmt.Sprintf("%s A=GPIO%d B=GPIO%d", cfg.Buttons.Chip, cfg.Buttons.A, cfg.Buttons.B)
	o := button.DefaultOpts()
	o.Debounce = cfg.Buttons.Debounce.Duration
	o.LongPress = cfg.Buttons.LongPress.Duration
	o.Double = cfg.Buttons.DoublePress.Duration > 0
	if o.Double {
		o.DoubleGap = cfg.Buttons.DoublePress.Duration
	}
	o.Clock = b.clock
	o.Consumer = "tinkerbox"
	set, err := button.Open(cfg.Buttons.Chip, map[string]int{scene.ButtonA: cfg.Buttons.A, scene.ButtonB: cfg.Buttons.B}, o)
	if err != nil {
		b.probe("buttons", where, StatusFailed, err.Error()+": the web front panel still works")
		return
	}
	b.probe("buttons", where, StatusOK, "")
	b.addHalterLast("buttons", set.Halt)
	events := make(chan scene.Event, 16)
	b.Events = events
	go func() {
		for ev := range set.Events() { // closed by Halt
			p, ok := scene.ParsePress(ev.Press)
			if !ok {
				continue
			}
			select {
			case events <- scene.Event{Kind: scene.KindPress, Button: ev.Name, Press: p, At: ev.At}:
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (b *Board) openLEDs(cfg *config.Config) {
	switch cfg.LEDs.Kind {
	case config.LEDsNone:
		b.probe("status LEDs", "-", StatusOff, "leds.kind = \"none\"")
	case config.LEDsBlinkt:
		where := fmt.Sprintf("Blinkt DAT=GPIO%d CLK=GPIO%d", cfg.Blinkt.Data, cfg.Blinkt.Clock)
		dat, err1 := pin(cfg.Blinkt.Data)
		clk, err2 := pin(cfg.Blinkt.Clock)
		if err := errors.Join(err1, err2); err != nil {
			b.probe("status LEDs", where, StatusFailed, err.Error())
			return
		}
		o := blinkt.DefaultOpts()
		o.Brightness = uint8(cfg.Blinkt.Brightness)
		dev, err := blinkt.New(dat, clk, o)
		if err != nil {
			b.probe("status LEDs", where, StatusFailed, err.Error())
			return
		}
		strip := newPixelStrip(dev, b.clock)
		for name, px := range blinktPixels() {
			b.Lights.lights[name] = strip.pixel(px)
		}
		b.addHalter("Blinkt", func() error { strip.stop(); return dev.Halt() })
		b.probe("status LEDs", where, StatusOK, "a Blinkt cannot be probed: check that pixels 0, 1 and 7 light at start")
	default:
		for name, n := range map[string]int{scene.LightReady: cfg.LEDs.Ready, scene.LightBusy: cfg.LEDs.Busy, scene.LightWarn: cfg.LEDs.Warn} {
			if n == config.NotWired {
				continue
			}
			where := fmt.Sprintf("GPIO%d", n)
			p, err := pin(n)
			if err == nil {
				var d *led.Dev
				if d, err = led.New(p, &led.Opts{ActiveLow: cfg.LEDs.ActiveLow, Clock: b.clock}); err == nil {
					b.Lights.lights[name] = d
					b.addHalter(name+" LED", d.Halt)
					b.probe(name+" LED", where, StatusOK, "")
					continue
				}
			}
			b.probe(name+" LED", where, StatusFailed, err.Error())
		}
	}
}

func (b *Board) openScroll(cfg *config.Config, bus i2c.Bus) {
	where := fmt.Sprintf("I2C%s 0x%02x", cfg.I2C.Bus, cfg.Scroll.Address)
	if !cfg.Scroll.Enabled {
		b.probe("scroll display", where, StatusOff, "scroll.enabled = false")
		return
	}
	o := is31fl3731.DefaultOpts()
	o.Addr = uint16(cfg.Scroll.Address)
	o.Brightness = uint8(cfg.Scroll.Brightness)
	o.Rotate180 = cfg.Scroll.Rotate180
	d, err := is31fl3731.New(bus, o)
	if err != nil {
		b.probe("scroll display", where, StatusMissing, err.Error())
		return
	}
	b.Display = d
	b.addHalter("scroll display", d.Halt)
	b.probe("scroll display", where, StatusOK, "")
}

func (b *Board) openEnviro(cfg *config.Config, bus i2c.Bus) {
	where := fmt.Sprintf("I2C%s 0x%02x", cfg.I2C.Bus, cfg.Enviro.BMP280Address)
	if !cfg.Enviro.Enabled {
		b.probe("Enviro pHAT", where, StatusOff, "enviro.enabled = false")
		return
	}
	lights, err := pin(cfg.Enviro.LightsPin)
	if err != nil {
		b.probe("Enviro pHAT", where, StatusFailed, err.Error())
		return
	}
	o := enviro.DefaultOpts()
	o.BMP280Addr = uint16(cfg.Enviro.BMP280Address)
	o.TCS3472Addr = uint16(cfg.Enviro.TCS3472Address)
	o.Clock = b.clock
	o.Logger = b.log
	d, err := enviro.New(bus, lights, &o)
	if err != nil {
		b.probe("Enviro pHAT", where, StatusMissing, err.Error())
		return
	}
	b.Env, b.CardLight = d, d
	b.addHalter("Enviro pHAT", d.Halt)
	detail := ""
	if !d.HasLight() && cfg.Enviro.TCS3472Address != 0 {
		detail = fmt.Sprintf("no colour sensor at 0x%02x (not needed by any scene yet)", cfg.Enviro.TCS3472Address)
	}
	b.probe("Enviro pHAT", where, StatusOK, detail)
}

func (b *Board) openServos(cfg *config.Config, bus i2c.Bus, rec *recorder) {
	s := cfg.Servos
	if s.Driver == config.ServosNone {
		b.probe("servos", "-", StatusOff, "servos.driver = \"none\"")
		return
	}
	var pca *servo.PCA9685
	if s.Driver == config.ServosPCA9685 {
		where := fmt.Sprintf("PCA9685 I2C%s 0x%02x", cfg.I2C.Bus, s.PCA9685Address)
		if bus == nil {
			b.probe("servos", where, StatusFailed, "no I2C bus")
			return
		}
		var err error
		if pca, err = servo.NewPCA9685(rec.wrap(bus, "pca9685"), uint16(s.PCA9685Address)); err != nil {
			b.probe("servos", where, StatusMissing, err.Error())
			return
		}
		b.addHalterLast("PCA9685", pca.Halt)
	}
	for _, sv := range []struct {
		name string
		c    config.Servo
		dst  *scene.Servo
	}{{"feed servo", s.Feed, &b.Feed}, {"sorter servo", s.Sorter, &b.Sorter}} {
		var out servo.Output
		var err error
		var where string
		if pca != nil {
			where = fmt.Sprintf("PCA9685 channel %d", sv.c.Channel)
			out, err = pca.Channel(sv.c.Channel)
		} else {
			where = fmt.Sprintf("pwmchip%d/pwm%d", s.PWMChip, sv.c.Channel)
			o := servo.DefaultSysfsOpts()
			o.Chip, o.Channel, o.Clock = s.PWMChip, sv.c.Channel, b.clock
			out, err = servo.NewSysfs(&o)
			if err != nil {
				err = fmt.Errorf("%w (is dtoverlay=pwm-2chan in config.txt?)", err)
			}
		}
		if err != nil {
			b.probe(sv.name, where, StatusFailed, err.Error())
			continue
		}
		o := servo.DefaultOpts()
		o.Kind = servo.Positional
		if sv.c.Kind == config.ServoContinuous {
			o.Kind = servo.Continuous
		}
		o.MinPulse, o.MaxPulse, o.CenterPulse = sv.c.Min(), sv.c.Max(), sv.c.Center()
		d, err := servo.New(out, &o)
		if err != nil {
			b.probe(sv.name, where, StatusFailed, err.Error())
			continue
		}
		*sv.dst = d
		// Servos halt first: they move things.
		b.halters = append([]halter{{sv.name, d.Halt}}, b.halters...)
		b.probe(sv.name, where, StatusOK, "")
	}
}

func (b *Board) openPrinter(cfg *config.Config) {
	p := cfg.Printer
	if !p.Enabled {
		b.probe("printer", p.Device, StatusOff, "printer.enabled = false")
		return
	}
	var link interface {
		Write([]byte) (int, error)
		Halt() error
	}
	where := p.Device
	o := printerOpts(cfg)
	o.Clock = b.clock
	if p.Serial() {
		where = fmt.Sprintf("%s @ %d baud", p.Device, p.Baud)
		so := escpos.DefaultSerialOpts()
		so.Baud = p.Baud
		so.LineTime = p.LineTime.Duration
		so.BufferSize = p.Buffer
		so.Clock = b.clock
		if p.DTRPin != config.NotWired && p.Profile == config.ProfileAdafruit {
			line, err := openDTR(p.DTRPin)
			if err != nil {
				b.probe("printer", where, StatusFailed, fmt.Sprintf("dtr_pin: %v", err))
				return
			}
			so.Busy, o.DTR = line, true
			where += fmt.Sprintf(", DTR on GPIO%d", p.DTRPin)
		}
		s, err := escpos.OpenSerial(p.Device, so)
		if err != nil {
			b.probe("printer", where, StatusMissing, err.Error())
			return
		}
		link = s
	} else {
		// The USB link opens lazily and reopens after an unplug, so a
		// printer switched on later still works.
		link = escpos.OpenUSB(p.Device)
	}
	d, err := escpos.New(link, o)
	if err != nil {
		b.probe("printer", where, StatusFailed, err.Error())
		return
	}
	b.Printer = d
	b.addHalter("printer", func() error { return errors.Join(d.Halt(), link.Halt()) })
	if _, err := os.Stat(p.Device); err != nil {
		b.probe("printer", where, StatusMissing, fmt.Sprintf("%s not found: is the printer plugged in and switched on? (it will be used when it appears)", p.Device))
		return
	}
	b.probe("printer", where, StatusOK, "")
}

// dtrLine is the printer's DTR output on a GPIO: high while it is busy.
// Adafruit reads it with a pull-up, so an unconnected pin reads busy and
// the pacer reports a stuck printer instead of overrunning it.
type dtrLine struct{ p gpio.PinIO }

func (d dtrLine) Busy() (bool, error) { return d.p.Read() == gpio.High, nil }

var _ escpos.BusyLine = dtrLine{}

func openDTR(n int) (dtrLine, error) {
	p, err := pin(n)
	if err != nil {
		return dtrLine{}, err
	}
	if err := p.In(gpio.PullUp, gpio.NoEdge); err != nil {
		return dtrLine{}, fmt.Errorf("GPIO%d as input: %w", n, err)
	}
	return dtrLine{p}, nil
}

func (b *Board) openCamera(cfg *config.Config) {
	c := cfg.Camera
	var src picam.Source
	var where string
	switch c.Source {
	case config.CameraNone:
		b.probe("camera", "-", StatusOff, "camera.source = \"none\"")
		return
	case config.CameraV4L2:
		where = c.Device
		o := v4l2.DefaultOpts()
		o.Width, o.Height, o.FrameRate = c.Width, c.Height, c.FPS
		d, err := v4l2.Open(c.Device, &o)
		if err != nil {
			b.probe("camera", where, StatusMissing, err.Error())
			return
		}
		src = d
	default:
		o := picam.DefaultRPiCamOpts()
		o.Width, o.Height, o.FrameRate, o.Quality, o.Command = c.Width, c.Height, c.FPS, c.Quality, c.Command
		where = c.Command
		if _, err := exec.LookPath(c.Command); err != nil {
			if _, err2 := exec.LookPath("libcamera-vid"); err2 != nil {
				b.probe("camera", where, StatusMissing, fmt.Sprintf("%s is not installed (nor libcamera-vid): install rpicam-apps, or set camera.source", c.Command))
				return
			}
			o.Command, where = "libcamera-vid", "libcamera-vid"
		}
		src = picam.NewRPiCam(&o)
	}
	b.Camera = picam.NewOwner(src, &picam.OwnerOpts{Clock: b.clock, Log: b.log, Inactive: true})
	b.addHalter("camera", b.Camera.Halt)
	b.probe("camera", where, StatusOK, "started on demand: a camera fault shows on the dashboard")
}

// scanI2C lists the addresses that acknowledge a one-byte read, like
// i2cdetect -r: what is actually on the bus, to compare with the config.
func scanI2C(bus i2c.Bus) string {
	var found []string
	buf := make([]byte, 1)
	for addr := uint16(0x03); addr <= 0x77; addr++ {
		if bus.Tx(addr, nil, buf) == nil {
			found = append(found, fmt.Sprintf("0x%02x", addr))
		}
	}
	if len(found) == 0 {
		return "nothing (check the HAT is seated and I2C is enabled)"
	}
	return strings.Join(found, " ")
}

// addHalterLast keeps shared resources (buses, button lines) for the end.
func (b *Board) addHalterLast(name string, h func() error) {
	b.halters = append(b.halters, halter{name, h})
}

// recorder keeps what each probed device received (selftest --record) so
// it can become a playback test: the I2C traffic of each probe on
// hardware; in the simulator, the byte stream the printer decoded (the real
// ESC/POS encoder's output) and the display and LED states.
type recorder struct {
	dir     string
	recs    map[string]*i2ctest.Record
	printer *bytes.Buffer // sim: every byte the simulated printer received
	sim     *Sim
}

func (r *recorder) wrap(bus i2c.Bus, name string) i2c.Bus {
	if r.dir == "" {
		return bus
	}
	if r.recs == nil {
		r.recs = map[string]*i2ctest.Record{}
	}
	rec := &i2ctest.Record{Bus: bus}
	r.recs[name] = rec
	return rec
}

// Recorded is one file of a recording.
type Recorded struct {
	File string // name inside the recording dir
	What string
}

// IndexFile lists a recording's files, one a line: name, bytes, what.
const IndexFile = "index.txt"

// save writes the recording and its index into dir (created if missing).
func (r *recorder) save() ([]Recorded, error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("board: record: %w", err)
	}
	var out []Recorded
	var notes []string
	write := func(name, what string, data []byte) error {
		if err := os.WriteFile(filepath.Join(r.dir, name), data, 0o644); err != nil {
			return fmt.Errorf("board: record: %w", err)
		}
		out = append(out, Recorded{File: name, What: what})
		return nil
	}
	names := make([]string, 0, len(r.recs))
	for name := range r.recs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rec := r.recs[name]
		var sb strings.Builder
		fmt.Fprintf(&sb, "// I2C traffic of the %s probe, for i2ctest.Playback{Ops: ...}\n", name)
		for _, op := range rec.Ops {
			fmt.Fprintf(&sb, "{Addr: 0x%02x, W: %#v, R: %#v},\n", op.Addr, op.W, op.R)
		}
		what := fmt.Sprintf("I2C traffic of the %s probe: %d transactions", name, len(rec.Ops))
		if len(rec.Ops) == 0 {
			what = fmt.Sprintf("I2C traffic of the %s probe: none (disabled in the config)", name)
		}
		if err := write(name+".ops", what, []byte(sb.String())); err != nil {
			return nil, err
		}
	}
	if r.sim == nil && len(names) == 0 {
		notes = append(notes, "# no I2C device was probed: none is enabled in the config, or the bus did not open (see the table)")
	}
	if s := r.sim; s != nil {
		if err := write("printer.escpos", fmt.Sprintf("ESC/POS stream the simulated printer received: %d bytes", r.printer.Len()), r.printer.Bytes()); err != nil {
			return nil, err
		}
		var roll bytes.Buffer
		if err := s.Printer.WritePNG(&roll); err != nil {
			return nil, fmt.Errorf("board: record: %w", err)
		}
		if err := write("printer.png", fmt.Sprintf("the paper roll it printed: %d rows", s.Printer.Rows()), roll.Bytes()); err != nil {
			return nil, err
		}
		var fr strings.Builder
		frame := s.Display.Frame()
		fmt.Fprintf(&fr, "# scroll display %dx%d, brightness %d; one row a line, hex per LED (brightness applied)\n", frame.Rect.Dx(), frame.Rect.Dy(), s.Display.Brightness())
		for y := range frame.Rect.Dy() {
			row := frame.Pix[y*frame.Stride : y*frame.Stride+frame.Rect.Dx()]
			fmt.Fprintf(&fr, "% x\n", row)
		}
		if err := write("display.txt", "the frame the simulated display shows", []byte(fr.String())); err != nil {
			return nil, err
		}
		var leds strings.Builder
		ledNames := make([]string, 0, len(s.LEDs))
		for n := range s.LEDs {
			ledNames = append(ledNames, n)
		}
		sort.Strings(ledNames)
		for _, n := range ledNames {
			st := s.LEDs[n].State()
			fmt.Fprintf(&leds, "%s %s\n", n, st.Mode)
		}
		if err := write("leds.txt", "each simulated LED's mode", []byte(leds.String())); err != nil {
			return nil, err
		}
	}
	var idx strings.Builder
	idx.WriteString("# tinkerbox selftest --record: file, bytes, what it holds\n")
	for _, n := range notes {
		idx.WriteString(n + "\n")
	}
	for _, f := range out {
		st, err := os.Stat(filepath.Join(r.dir, f.File))
		if err != nil {
			return nil, fmt.Errorf("board: record: %w", err)
		}
		fmt.Fprintf(&idx, "%s\t%d\t%s\n", f.File, st.Size(), f.What)
	}
	if err := os.WriteFile(filepath.Join(r.dir, IndexFile), []byte(idx.String()), 0o644); err != nil {
		return nil, fmt.Errorf("board: record: %w", err)
	}
	return append(out, Recorded{File: IndexFile, What: "this list"}), nil
}
