package config

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// problem is one invalid value, named by its dotted key.
type problem struct {
	key   string
	msg   string
	other string   // for a clash: the key already holding the resource
	also  []string // keys whose line may be blamed when key is not in the file
}

func (p problem) text() string {
	if p.other != "" {
		return p.msg + " also used by " + p.other
	}
	return p.msg
}

// checker collects problems; it never stops at the first.
type checker struct{ probs []problem }

func (c *checker) add(key, format string, args ...any) {
	c.probs = append(c.probs, problem{key: key, msg: fmt.Sprintf(format, args...)})
}

// Raspberry Pi header GPIOs, BCM numbering.
const maxPin = 27

func (c *checker) pin(key string, v int, notWiredOK bool) bool {
	if v >= 0 && v <= maxPin || notWiredOK && v == NotWired {
		return true
	}
	if notWiredOK {
		c.add(key, "pin %d out of range (BCM 0–27, or -1 if not wired)", v)
	} else {
		c.add(key, "pin %d out of range (BCM 0–27)", v)
	}
	return false
}

// 7-bit I2C addresses; 0x00–0x02 and 0x78–0x7F are reserved by the spec.
func (c *checker) addr(key string, v int, zeroOK bool) bool {
	if v >= 0x03 && v <= 0x77 || zeroOK && v == 0 {
		return true
	}
	hint := ""
	if zeroOK {
		hint = ", or 0 if absent"
	}
	c.add(key, "address %s out of range (0x03–0x77%s)", hexAddr(v), hint)
	return false
}

func hexAddr(v int) string {
	if v < 0 {
		return strconv.Itoa(v)
	}
	return fmt.Sprintf("0x%02x", v)
}

func (c *checker) oneOf(key, v string, allowed ...string) bool {
	if slices.Contains(allowed, v) {
		return true
	}
	c.add(key, "unknown value %s (want %s)", quote(v), choices(allowed))
	return false
}

func (c *checker) between(key string, v, lo, hi int) {
	if v < lo || v > hi {
		c.add(key, "%d out of range (%d–%d)", v, lo, hi)
	}
}

func (c *checker) duration(key string, d Duration, lo, hi time.Duration) {
	switch {
	case d.Duration < 0:
		c.add(key, "%s must not be negative", d)
	case d.Duration < lo:
		c.add(key, "%s is too short (at least %s)", d, Duration{lo})
	case d.Duration > hi:
		c.add(key, "%s is too long (at most %s)", d, Duration{hi})
	}
}

func (c *checker) notEmpty(key, v string) bool {
	if strings.TrimSpace(v) == "" {
		c.add(key, "must not be empty")
		return false
	}
	return true
}

// choices formats `"a", "b" or "c"`.
func choices(allowed []string) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = strconv.Quote(a)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// problems checks every section, then the resources shared between them.
func (cfg *Config) problems() []problem {
	var c checker
	cfg.checkAppliance(&c)
	cfg.checkWeb(&c)
	cfg.checkDevices(&c)
	cfg.checkPins(&c)
	cfg.checkI2C(&c)
	cfg.checkMQTT(&c)
	return c.probs
}

func (cfg *Config) checkAppliance(c *checker) {
	a := cfg.Appliance
	known := SceneNames()
	if len(a.Scenes) == 0 {
		c.add("appliance.scenes", "empty (want at least one of %s)", choices(known))
	}
	for i, s := range a.Scenes {
		switch {
		case !slices.Contains(known, s):
			c.add("appliance.scenes", "unknown scene %s (want %s)", quote(s), choices(known))
		case slices.Index(a.Scenes, s) < i:
			c.add("appliance.scenes", "scene %s listed twice", quote(s))
		}
	}
	if !slices.Contains(a.Scenes, a.DefaultScene) {
		c.probs = append(c.probs, problem{
			key:  "appliance.default_scene",
			msg:  fmt.Sprintf("%s is not in appliance.scenes", quote(a.DefaultScene)),
			also: []string{"appliance.scenes"},
		})
	}
	c.notEmpty("appliance.data_dir", a.DataDir)
	if !isHostname(a.Name) {
		c.add("appliance.name", "invalid name %s (want 1–63 letters, digits or hyphens, not starting or ending with a hyphen)", quote(a.Name))
	}
}

// isHostname reports whether s is a single DNS label, as mDNS names are.
func isHostname(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range []byte(s) {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func (cfg *Config) checkWeb(c *checker) {
	w := cfg.Web
	badListen := func() {
		c.add("web.listen", "invalid address %s (want host:port, like \":80\" or \"127.0.0.1:8080\")", quote(w.Listen))
	}
	if _, port, err := net.SplitHostPort(w.Listen); err != nil {
		badListen()
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		badListen()
	}
	// Never echo the password itself into an error or a log.
	switch pw := w.Password; {
	case strings.HasPrefix(pw, "$2"):
		if _, err := bcrypt.Cost([]byte(pw)); err != nil {
			c.add("web.password", "starts with \"$2\" but is not a valid bcrypt hash")
		}
	case len(pw) > 72:
		c.add("web.password", "longer than 72 bytes, which bcrypt cannot hash")
	}
}

func (cfg *Config) checkDevices(c *checker) {
	b := cfg.Buttons
	c.notEmpty("buttons.chip", b.Chip)
	c.duration("buttons.debounce", b.Debounce, 0, time.Second)
	c.duration("buttons.long_press", b.LongPress, time.Nanosecond, 10*time.Second)
	if b.LongPress.Duration > 0 && b.LongPress.Duration <= b.Debounce.Duration {
		c.add("buttons.long_press", "%s must be longer than buttons.debounce (%s)", b.LongPress, b.Debounce)
	}
	c.duration("buttons.double_press", b.DoublePress, 0, 2*time.Second)

	c.oneOf("leds.kind", cfg.LEDs.Kind, LEDsGPIO, LEDsBlinkt, LEDsNone)
	c.between("blinkt.brightness", cfg.Blinkt.Brightness, 0, 31)

	if cfg.usesI2C() {
		if c.notEmpty("i2c.bus", cfg.I2C.Bus) && strings.ContainsAny(cfg.I2C.Bus, " \t\r\n") {
			c.add("i2c.bus", "invalid bus name %s (want \"1\" or \"/dev/i2c-1\")", quote(cfg.I2C.Bus))
		}
	}

	s := cfg.Scroll
	c.between("scroll.brightness", s.Brightness, 0, 255)
	c.between("scroll.night_brightness", s.NightBrightness, 0, 255)

	cfg.checkServos(c)

	p := cfg.Printer
	if p.Enabled && c.notEmpty("printer.device", p.Device) && !strings.HasPrefix(p.Device, "/") {
		c.add("printer.device", "%s must be an absolute path, like \"/dev/usb/lp0\" or \"/dev/ttyUSB0\"", quote(p.Device))
	}
	if !slices.Contains([]int{9600, 19200, 38400, 57600, 115200}, p.Baud) {
		c.add("printer.baud", "%d not supported (want 9600, 19200, 38400, 57600 or 115200)", p.Baud)
	}
	c.oneOf("printer.profile", p.Profile, ProfileGeneric, ProfileAdafruit)
	switch {
	case p.Width < 8 || p.Width > 832:
		c.add("printer.width", "%d out of range (8–832 dots; usually 384, 512 or 576)", p.Width)
	case p.Width%8 != 0:
		c.add("printer.width", "%d is not a multiple of 8", p.Width)
	}
	c.oneOf("printer.dither", p.Dither, DitherFloydSteinberg, DitherAtkinson, DitherOrdered, DitherThreshold)
	c.between("printer.heat_time", p.HeatTime, 3, 255)
	c.between("printer.density", p.Density, 0, 31)
	c.between("printer.heat_dots", p.HeatDots, 0, 255)
	c.between("printer.heat_interval", p.HeatInterval, 0, 255)
	c.duration("printer.line_time", p.LineTime, time.Millisecond, 2*time.Second)
	c.between("printer.buffer", p.Buffer, 160, 1<<20)
	if p.DTRPin != NotWired && p.Enabled {
		switch {
		case p.Profile != ProfileAdafruit:
			c.add("printer.dtr_pin", "the DTR busy line needs profile = %s", quote(ProfileAdafruit))
		case !p.Serial():
			c.add("printer.dtr_pin", "the DTR busy line is for serial printers; %s is not a serial port", quote(p.Device))
		}
	}

	cam := cfg.Camera
	if c.oneOf("camera.source", cam.Source, CameraRpicam, CameraV4L2, CameraNone) {
		switch cam.Source {
		case CameraRpicam:
			c.notEmpty("camera.command", cam.Command)
		case CameraV4L2:
			if c.notEmpty("camera.device", cam.Device) && !strings.HasPrefix(cam.Device, "/") {
				c.add("camera.device", "%s must be an absolute path, like \"/dev/video0\"", quote(cam.Device))
			}
		}
	}
	for _, d := range []struct {
		key string
		v   int
	}{{"camera.width", cam.Width}, {"camera.height", cam.Height}} {
		switch {
		case d.v < 16 || d.v > 4096:
			c.add(d.key, "%d out of range (16–4096)", d.v)
		case d.v%2 != 0:
			c.add(d.key, "%d is not even", d.v)
		}
	}
	c.between("camera.fps", cam.FPS, 1, 120)
	c.between("camera.quality", cam.Quality, 1, 100)

	bar := cfg.Barometer
	if math.IsNaN(bar.AltitudeM) || bar.AltitudeM < -500 || bar.AltitudeM > 9000 {
		c.add("barometer.altitude_m", "%g out of range (-500–9000 m)", bar.AltitudeM)
	}
	c.oneOf("barometer.hemisphere", bar.Hemisphere, North, South)
	c.duration("barometer.sample_interval", bar.SampleInterval, time.Second, time.Hour)

	sc := cfg.Spycam
	c.between("spycam.quota_mb", sc.QuotaMB, 1, 100000)
	c.between("spycam.threshold", sc.Threshold, 1, 255)
	if math.IsNaN(sc.MinAreaPercent) || sc.MinAreaPercent < 0.01 || sc.MinAreaPercent > 100 {
		c.add("spycam.min_area_percent", "%g out of range (0.01–100)", sc.MinAreaPercent)
	}
	c.duration("spycam.analyze_every", sc.AnalyzeEvery, 50*time.Millisecond, 10*time.Second)
	c.between("spycam.pre_frames", sc.PreFrames, 1, 30)
	c.between("comic.queue", cfg.Comic.Queue, 1, 50)
	c.oneOf("comic.orientation", cfg.Comic.Orientation, OrientationAuto, OrientationAcross, OrientationAlong)

	cf := cfg.Cardfeed
	c.duration("cardfeed.feed_pulse", cf.FeedPulse, 10*time.Millisecond, 5*time.Second)
	c.duration("cardfeed.settle", cf.Settle, 0, 5*time.Second)
	c.duration("cardfeed.jam_timeout", cf.JamTimeout, 500*time.Millisecond, time.Minute)
	c.between("cardfeed.empty_pulses", cf.EmptyPulses, 1, 20)
	if math.IsNaN(cf.PriceThreshold) || cf.PriceThreshold < 0 || cf.PriceThreshold > 100000 {
		c.add("cardfeed.price_threshold", "%g out of range (0–100000)", cf.PriceThreshold)
	}
	c.oneOf("cardfeed.condition", cf.Condition, Conditions()...)
}

func (cfg *Config) checkServos(c *checker) {
	s := cfg.Servos
	if !c.oneOf("servos.driver", s.Driver, ServosPWM, ServosPCA9685, ServosNone) {
		return
	}
	if s.PWMChip < 0 {
		c.add("servos.pwm_chip", "%d must not be negative", s.PWMChip)
	}
	maxChannel := 1 // PWM0 and PWM1 of dtoverlay=pwm-2chan
	if s.Driver == ServosPCA9685 {
		maxChannel = 15
	}
	for _, sv := range []struct {
		key string
		s   Servo
	}{{"servos.feed", s.Feed}, {"servos.sorter", s.Sorter}} {
		if s.Driver != ServosNone && (sv.s.Channel < 0 || sv.s.Channel > maxChannel) {
			c.add(sv.key+".channel", "%d out of range (0–%d for driver %q)", sv.s.Channel, maxChannel, s.Driver)
		}
		c.oneOf(sv.key+".kind", sv.s.Kind, ServoContinuous, ServoPositional)
		ok := true
		for _, p := range []struct {
			key string
			v   int
		}{{"min_us", sv.s.MinUS}, {"max_us", sv.s.MaxUS}, {"center_us", sv.s.CenterUS}} {
			if p.v < 100 || p.v > 3000 {
				c.add(sv.key+"."+p.key, "%d out of range (100–3000 µs)", p.v)
				ok = false
			}
		}
		switch {
		case !ok:
		case sv.s.MinUS >= sv.s.MaxUS:
			c.add(sv.key+".min_us", "%d must be below max_us (%d)", sv.s.MinUS, sv.s.MaxUS)
		case sv.s.CenterUS < sv.s.MinUS || sv.s.CenterUS > sv.s.MaxUS:
			c.add(sv.key+".center_us", "%d must lie between min_us and max_us (%d–%d)", sv.s.CenterUS, sv.s.MinUS, sv.s.MaxUS)
		}
	}
	if s.Driver != ServosNone && s.Feed.Channel == s.Sorter.Channel {
		c.probs = append(c.probs, problem{
			key:   "servos.sorter.channel",
			other: "servos.feed.channel",
			msg:   fmt.Sprintf("channel %d", s.Sorter.Channel),
		})
	}
}

// usesI2C reports whether an enabled device sits on the I2C bus.
func (cfg *Config) usesI2C() bool {
	return cfg.Enviro.Enabled || cfg.Scroll.Enabled || cfg.Servos.Driver == ServosPCA9685
}

// checkPins checks pin ranges, then that no two enabled devices share a GPIO
// and none takes a pin of the I2C bus or the serial printer.
func (cfg *Config) checkPins(c *checker) {
	type use struct {
		key string
		pin int
	}
	var uses []use
	add := func(key string, pin int, notWiredOK, enabled bool) {
		if c.pin(key, pin, notWiredOK) && enabled && pin != NotWired {
			uses = append(uses, use{key, pin})
		}
	}
	b, l, bl := cfg.Buttons, cfg.LEDs, cfg.Blinkt
	add("buttons.a", b.A, false, true)
	add("buttons.b", b.B, false, true)
	gpioLEDs, blinkt := l.Kind == LEDsGPIO, l.Kind == LEDsBlinkt
	add("leds.ready", l.Ready, true, gpioLEDs)
	add("leds.busy", l.Busy, true, gpioLEDs)
	add("leds.warn", l.Warn, true, gpioLEDs)
	add("blinkt.data", bl.Data, false, blinkt)
	add("blinkt.clock", bl.Clock, false, blinkt)
	add("enviro.lights_pin", cfg.Enviro.LightsPin, false, cfg.Enviro.Enabled)
	add("printer.dtr_pin", cfg.Printer.DTRPin, true, cfg.Printer.Enabled)

	type reserved struct {
		what, by, key string
	}
	taken := map[int]reserved{}
	i2c := func(on bool, by, key string) {
		if on && taken[2].key == "" {
			taken[2] = reserved{"I2C SDA", by, key}
			taken[3] = reserved{"I2C SCL", by, key}
		}
	}
	i2c(cfg.Enviro.Enabled, "the Enviro pHAT", "enviro.enabled")
	i2c(cfg.Scroll.Enabled, "the Scroll pHAT HD", "scroll.enabled")
	i2c(cfg.Servos.Driver == ServosPCA9685, "the PCA9685", "servos.driver")
	if p := cfg.Printer; p.Enabled && p.Device == "/dev/serial0" {
		taken[14] = reserved{"UART TXD", "the printer", "printer.device"}
		taken[15] = reserved{"UART RXD", "the printer", "printer.device"}
	}

	first := map[int]string{}
	for _, u := range uses {
		if r, ok := taken[u.pin]; ok {
			c.probs = append(c.probs, problem{
				key:  u.key,
				msg:  fmt.Sprintf("GPIO %d is %s, used by %s (%s)", u.pin, r.what, r.by, r.key),
				also: []string{r.key},
			})
			continue
		}
		if prev, ok := first[u.pin]; ok {
			c.probs = append(c.probs, problem{key: u.key, other: prev, msg: fmt.Sprintf("GPIO %d", u.pin)})
			continue
		}
		first[u.pin] = u.key
	}
}

// checkI2C checks addresses, then that enabled devices on the bus differ.
func (cfg *Config) checkI2C(c *checker) {
	type dev struct {
		key  string
		addr int
	}
	var devs []dev
	add := func(key string, addr int, zeroOK, enabled bool) {
		if c.addr(key, addr, zeroOK) && enabled && addr != 0 {
			devs = append(devs, dev{key, addr})
		}
	}
	e := cfg.Enviro
	add("enviro.bmp280_address", e.BMP280Address, false, e.Enabled)
	add("enviro.tcs3472_address", e.TCS3472Address, true, e.Enabled)
	add("scroll.address", cfg.Scroll.Address, false, cfg.Scroll.Enabled)
	add("servos.pca9685_address", cfg.Servos.PCA9685Address, false, cfg.Servos.Driver == ServosPCA9685)
	first := map[int]string{}
	for _, d := range devs {
		if prev, ok := first[d.addr]; ok {
			c.probs = append(c.probs, problem{key: d.key, other: prev, msg: "address " + hexAddr(d.addr)})
			continue
		}
		first[d.addr] = d.key
	}
}
