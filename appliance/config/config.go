package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Config is the whole of tinkerbox.toml. The zero value is not useful: start
// from Default and override.
type Config struct {
	Appliance Appliance `toml:"appliance"`
	Web       Web       `toml:"web"`
	Buttons   Buttons   `toml:"buttons"`
	LEDs      LEDs      `toml:"leds"`
	Blinkt    Blinkt    `toml:"blinkt"`
	I2C       I2C       `toml:"i2c"`
	Enviro    Enviro    `toml:"enviro"`
	Scroll    Scroll    `toml:"scroll"`
	Servos    Servos    `toml:"servos"`
	Printer   Printer   `toml:"printer"`
	Camera    Camera    `toml:"camera"`
	Barometer Barometer `toml:"barometer"`
	Spycam    Spycam    `toml:"spycam"`
	Comic     Comic     `toml:"comic"`
	Cardfeed  Cardfeed  `toml:"cardfeed"`
	MQTT      MQTT      `toml:"mqtt"`
}

// Appliance is the [appliance] section.
type Appliance struct {
	Scenes       []string `toml:"scenes"`        // enabled scenes, in the order button B cycles through them
	DefaultScene string   `toml:"default_scene"` // scene started at boot; one of Scenes
	DataDir      string   `toml:"data_dir"`      // SQLite database, comic archive, password hash
	Name         string   `toml:"name"`          // hostname shown in URLs
}

// Web is the [web] section.
type Web struct {
	Listen   string `toml:"listen"`   // host:port
	Password string `toml:"password"` // plaintext or a bcrypt hash ("$2…"); TINKERBOX_PASSWORD wins
	HTTPS    bool   `toml:"https"`
}

// Buttons is the [buttons] section.
type Buttons struct {
	Chip        string   `toml:"chip"` // gpiochip name or /dev path
	A           int      `toml:"a"`    // BCM pin of the action button
	B           int      `toml:"b"`    // BCM pin of the mode button
	Debounce    Duration `toml:"debounce"`
	LongPress   Duration `toml:"long_press"`
	DoublePress Duration `toml:"double_press"` // 0 = double presses are not detected
}

// LED kinds for LEDs.Kind.
const (
	LEDsGPIO   = "gpio"
	LEDsBlinkt = "blinkt"
	LEDsNone   = "none"
)

// LEDs is the [leds] section. Pins are BCM numbers; NotWired (-1) leaves an
// LED out.
type LEDs struct {
	Kind      string `toml:"kind"`
	Ready     int    `toml:"ready"`
	Busy      int    `toml:"busy"`
	Warn      int    `toml:"warn"`
	ActiveLow bool   `toml:"active_low"`
}

// NotWired is the pin number of an LED that is not connected.
const NotWired = -1

// Blinkt is the [blinkt] section, used when LEDs.Kind is "blinkt".
type Blinkt struct {
	Data       int `toml:"data"`
	Clock      int `toml:"clock"`
	Brightness int `toml:"brightness"` // APA102 global brightness, 0–31
}

// I2C is the [i2c] section.
type I2C struct {
	Bus string `toml:"bus"` // periph bus name: "1" or "/dev/i2c-1"
}

// Enviro is the [enviro] section (Pimoroni Enviro pHAT).
type Enviro struct {
	Enabled        bool `toml:"enabled"`
	BMP280Address  int  `toml:"bmp280_address"`
	TCS3472Address int  `toml:"tcs3472_address"` // 0 = no colour sensor
	LightsPin      int  `toml:"lights_pin"`      // BCM pin switching the white LEDs
}

// Scroll is the [scroll] section (Pimoroni Scroll pHAT HD).
type Scroll struct {
	Enabled         bool      `toml:"enabled"`
	Address         int       `toml:"address"`
	Brightness      int       `toml:"brightness"` // 0–255
	Rotate180       bool      `toml:"rotate180"`
	NightBrightness int       `toml:"night_brightness"` // 0–255, used between NightFrom and NightTo
	NightFrom       TimeOfDay `toml:"night_from"`
	NightTo         TimeOfDay `toml:"night_to"`
}

// IsNight reports whether t (in its own location) falls in the night window
// [NightFrom, NightTo), which may wrap past midnight. Equal ends mean no
// night mode.
func (s Scroll) IsNight(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	from, to := s.NightFrom.Minutes(), s.NightTo.Minutes()
	switch {
	case from == to:
		return false
	case from < to:
		return m >= from && m < to
	default:
		return m >= from || m < to
	}
}

// Servo drivers for Servos.Driver.
const (
	ServosPWM     = "pwm"
	ServosPCA9685 = "pca9685"
	ServosNone    = "none"
)

// Servo kinds for Servo.Kind.
const (
	ServoContinuous = "continuous"
	ServoPositional = "positional"
)

// Servos is the [servos] section.
type Servos struct {
	Driver         string `toml:"driver"`
	PWMChip        int    `toml:"pwm_chip"` // /sys/class/pwm/pwmchipN
	PCA9685Address int    `toml:"pca9685_address"`
	Feed           Servo  `toml:"feed"`
	Sorter         Servo  `toml:"sorter"`
}

// Servo is one servo: [servos.feed] or [servos.sorter].
type Servo struct {
	Channel  int    `toml:"channel"` // PWM channel (0–1) or PCA9685 output (0–15)
	Kind     string `toml:"kind"`
	MinUS    int    `toml:"min_us"`
	MaxUS    int    `toml:"max_us"`
	CenterUS int    `toml:"center_us"`
}

// Min is the shortest pulse.
func (s Servo) Min() time.Duration { return time.Duration(s.MinUS) * time.Microsecond }

// Max is the longest pulse.
func (s Servo) Max() time.Duration { return time.Duration(s.MaxUS) * time.Microsecond }

// Center is the neutral pulse (stop, for a continuous servo).
func (s Servo) Center() time.Duration { return time.Duration(s.CenterUS) * time.Microsecond }

// Printer profiles for Printer.Profile.
const (
	ProfileGeneric  = "generic"
	ProfileAdafruit = "adafruit"
)

// Dither algorithms for Printer.Dither.
const (
	DitherFloydSteinberg = "floyd-steinberg"
	DitherAtkinson       = "atkinson"
	DitherOrdered        = "ordered"
	DitherThreshold      = "threshold"
)

// Printer is the [printer] section.
type Printer struct {
	Enabled  bool   `toml:"enabled"`
	Device   string `toml:"device"`
	Baud     int    `toml:"baud"` // serial devices only
	Profile  string `toml:"profile"`
	Width    int    `toml:"width"` // dots per line
	Dither   string `toml:"dither"`
	Cut      bool   `toml:"cut"`
	HeatTime int    `toml:"heat_time"` // adafruit profile only
	Density  int    `toml:"density"`   // adafruit profile only
	// Adafruit profile: the rest of ESC 7 (max heating dots in units of 8
	// dots minus one, heat interval in 10 µs).
	HeatDots     int `toml:"heat_dots"`
	HeatInterval int `toml:"heat_interval"`
	// Serial printers: the printer's profile for pacing. LineTime is one
	// dot line at Adafruit's heat settings (11, 120, 40, density 10); the
	// pacer scales it for slower settings. Buffer is its receive buffer.
	LineTime Duration `toml:"line_time"`
	Buffer   int      `toml:"buffer"`
	// DTRPin is the BCM GPIO reading the printer's DTR (busy) output, for
	// hardware flow control on an adafruit-profile serial printer;
	// NotWired (-1) paces by time alone.
	DTRPin int `toml:"dtr_pin"`
}

// Serial reports whether Device is a serial port (tty*, serial*, rfcomm*)
// rather than a USB printer-class device (/dev/usb/lp*): only serial ports
// need Baud and pacing.
func (p Printer) Serial() bool {
	base := path.Base(p.Device)
	for _, prefix := range []string{"tty", "serial", "rfcomm"} {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	return false
}

// Camera sources for Camera.Source.
const (
	CameraRpicam = "rpicam"
	CameraV4L2   = "v4l2"
	CameraNone   = "none"
)

// Camera is the [camera] section.
type Camera struct {
	Source  string `toml:"source"`
	Command string `toml:"command"` // rpicam only
	Device  string `toml:"device"`  // v4l2 only
	Width   int    `toml:"width"`
	Height  int    `toml:"height"`
	FPS     int    `toml:"fps"`
	Quality int    `toml:"quality"` // JPEG quality, 1–100
}

// Hemispheres for Barometer.Hemisphere.
const (
	North = "north"
	South = "south"
)

// Barometer is the [barometer] section.
type Barometer struct {
	AltitudeM      float64  `toml:"altitude_m"` // metres above sea level, for sea-level pressure
	Hemisphere     string   `toml:"hemisphere"` // the forecaster's seasons depend on it
	SampleInterval Duration `toml:"sample_interval"`
}

// Spycam is the [spycam] section: motion captures.
type Spycam struct {
	QuotaMB        int      `toml:"quota_mb"`         // disk kept for captures; the oldest go first
	Threshold      int      `toml:"threshold"`        // luma change that counts, 1–255 (motion's noise threshold)
	MinAreaPercent float64  `toml:"min_area_percent"` // share of the picture that must change
	Indicator      bool     `toml:"indicator"`        // light the busy LED while recording
	AnalyzeEvery   Duration `toml:"analyze_every"`    // spacing of the frames checked for motion
	PreFrames      int      `toml:"pre_frames"`       // frames from before the motion in a capture
}

// Comic is the [comic] section.
type Comic struct {
	Pack  string `toml:"pack"`  // art pack directory; "" = <data_dir>/comic-pack if present, else the built-in pack
	Queue int    `toml:"queue"` // strips that may wait for the printer
	// Orientation of strips on the paper: OrientationAuto turns a strip
	// wider than tall to print along the roll at full width.
	Orientation string `toml:"orientation"`
}

// Strip orientations for Comic.Orientation.
const (
	OrientationAuto   = "auto"   // along the paper when wider than tall, else across
	OrientationAcross = "across" // as on screen: the strip's width across the paper
	OrientationAlong  = "along"  // turned a quarter: the strip's height across the paper
)

// Cardfeed is the [cardfeed] section: feeder timings and sorting.
type Cardfeed struct {
	FeedPulse      Duration `toml:"feed_pulse"`      // how long the wheel turns to move one card
	Settle         Duration `toml:"settle"`          // wait for the card to lie still before the photo
	JamTimeout     Duration `toml:"jam_timeout"`     // the card under the lens has not changed for this long: jam
	EmptyPulses    int      `toml:"empty_pulses"`    // pulses in a row with no card: the stack is empty
	PriceThreshold float64  `toml:"price_threshold"` // USD; cards worth at least this go to bin 2 (0 = off)
	Condition      string   `toml:"condition"`       // condition recorded for scanned cards
}

// Card conditions, as the collection exports spell them.
func Conditions() []string { return []string{"NM", "LP", "MP", "HP", "DMG"} }

// SceneNames lists the scenes tinkerbox knows, in their default order.
func SceneNames() []string {
	return []string{"comic", "cardfeed", "barometer", "spycam"}
}

// Default returns the configuration used when tinkerbox.toml is absent: the
// wiring of docs/HARDWARE.md. Each call returns a fresh value.
func Default() *Config {
	return &Config{
		Appliance: Appliance{
			Scenes:       []string{"comic", "cardfeed", "barometer", "spycam"},
			DefaultScene: "comic",
			DataDir:      "/data",
			Name:         "tinkerbox",
		},
		Web: Web{Listen: ":80"},
		Buttons: Buttons{
			Chip:      "gpiochip0",
			A:         5,
			B:         6,
			Debounce:  Duration{20 * time.Millisecond},
			LongPress: Duration{time.Second},
		},
		LEDs:   LEDs{Kind: LEDsGPIO, Ready: 16, Busy: 26, Warn: NotWired},
		Blinkt: Blinkt{Data: 23, Clock: 24, Brightness: 7},
		I2C:    I2C{Bus: "1"},
		Enviro: Enviro{Enabled: true, BMP280Address: 0x77, TCS3472Address: 0x29, LightsPin: 4},
		Scroll: Scroll{
			Enabled:         true,
			Address:         0x74,
			Brightness:      128,
			NightBrightness: 16,
			NightFrom:       TimeOfDay{Hour: 22},
			NightTo:         TimeOfDay{Hour: 7},
		},
		Servos: Servos{
			Driver:         ServosPWM,
			PCA9685Address: 0x40,
			Feed:           Servo{Channel: 0, Kind: ServoContinuous, MinUS: 500, MaxUS: 2500, CenterUS: 1500},
			Sorter:         Servo{Channel: 1, Kind: ServoPositional, MinUS: 500, MaxUS: 2500, CenterUS: 1500},
		},
		Printer: Printer{
			Enabled:  true,
			Device:   "/dev/usb/lp0",
			Baud:     19200,
			Profile:  ProfileGeneric,
			Width:    384,
			Dither:   DitherFloydSteinberg,
			HeatTime: 120,
			Density:  10,
			// Adafruit_Thermal's setHeatConfig defaults.
			HeatDots:     11,
			HeatInterval: 40,
			LineTime:     Duration{30 * time.Millisecond},
			Buffer:       256,
			DTRPin:       NotWired,
		},
		Camera: Camera{
			Source:  CameraRpicam,
			Command: "rpicam-vid",
			Device:  "/dev/video0",
			Width:   640,
			Height:  480,
			FPS:     15,
			Quality: 60,
		},
		Barometer: Barometer{
			Hemisphere:     North,
			SampleInterval: Duration{time.Minute},
		},
		Spycam: Spycam{
			QuotaMB:        256,
			Threshold:      32,
			MinAreaPercent: 0.5,
			AnalyzeEvery:   Duration{200 * time.Millisecond},
			PreFrames:      5,
		},
		Comic: Comic{Queue: 5, Orientation: OrientationAuto},
		Cardfeed: Cardfeed{
			FeedPulse:   Duration{350 * time.Millisecond},
			Settle:      Duration{120 * time.Millisecond},
			JamTimeout:  Duration{3 * time.Second},
			EmptyPulses: 3,
			Condition:   "NM",
		},
		MQTT: MQTT{DiscoveryPrefix: DefaultDiscoveryPrefix},
	}
}

// MQTT is the [mqtt] section: Home Assistant through an MQTT broker. Off
// by default; the settings page writes it with SaveMQTT.
type MQTT struct {
	Enabled bool   `toml:"enabled"`
	Broker  string `toml:"broker"` // mqtt://host[:1883] or mqtts://host[:8883]
	User    string `toml:"user"`   // "" = anonymous
	// Password is the broker password in plaintext; PasswordFile names a
	// file holding it instead (its first line), so it need not sit on the
	// boot partition. At most one of them.
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	CAFile       string `toml:"ca_file"`    // PEM certificates an mqtts:// broker is checked against; "" = the system's
	BaseTopic    string `toml:"base_topic"` // "" = tinkerbox/<appliance.name>; see Topic
	// DiscoveryPrefix is where Home Assistant looks for discovery configs.
	DiscoveryPrefix string `toml:"discovery_prefix"`
}

// DefaultDiscoveryPrefix is Home Assistant's own default.
const DefaultDiscoveryPrefix = "homeassistant"

// Broker schemes and their default ports.
const (
	SchemeMQTT  = "mqtt"
	SchemeMQTTS = "mqtts"
	PortMQTT    = 1883
	PortMQTTS   = 8883
)

// Topic is the base topic: BaseTopic, or tinkerbox/<name> when it is empty
// (the name is the appliance's host name, unique on the LAN already).
func (m MQTT) Topic(name string) string {
	if m.BaseTopic != "" {
		return m.BaseTopic
	}
	return "tinkerbox/" + name
}

// TLS reports whether the broker is reached over TLS (mqtts://).
func (m MQTT) TLS() bool { return strings.HasPrefix(m.Broker, SchemeMQTTS+"://") }

// BrokerAddr splits Broker into host:port (the default port filled in) and
// whether it is TLS.
func (m MQTT) BrokerAddr() (addr string, tls bool, err error) {
	u, err := url.Parse(m.Broker)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false, fmt.Errorf("invalid broker %s (want mqtt://host:1883 or mqtts://host:8883)", quote(m.Broker))
	}
	port := PortMQTT
	switch u.Scheme {
	case SchemeMQTT:
	case SchemeMQTTS:
		port, tls = PortMQTTS, true
	default:
		return "", false, fmt.Errorf("broker %s: unknown scheme %s (want %s)", quote(m.Broker), quote(u.Scheme), choices([]string{SchemeMQTT, SchemeMQTTS}))
	}
	if u.User != nil {
		return "", false, fmt.Errorf("broker %s: put the user and password in mqtt.user and mqtt.password, not in the URL", quote(redactURL(u)))
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false, fmt.Errorf("broker %s: want only a scheme, a host and a port", quote(m.Broker))
	}
	if u.Hostname() == "" {
		return "", false, fmt.Errorf("broker %s: no host", quote(m.Broker))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", false, fmt.Errorf("broker %s: port %s out of range (1–65535)", quote(m.Broker), quote(p))
		}
		port = n
	}
	return net.JoinHostPort(u.Hostname(), strconv.Itoa(port)), tls, nil
}

// redactURL hides a password written into a URL, so an error never shows it.
func redactURL(u *url.URL) string {
	c := *u
	if _, ok := c.User.Password(); ok {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	return c.String()
}

// checkMQTT checks the [mqtt] section. Values are checked whether or not
// it is enabled; a broker is needed only when it is.
func (cfg *Config) checkMQTT(c *checker) {
	m := cfg.MQTT
	if m.Broker == "" {
		if m.Enabled {
			c.probs = append(c.probs, problem{key: "mqtt.broker", msg: `must be set when mqtt.enabled is true (like "mqtt://homeassistant.local:1883")`, also: []string{"mqtt.enabled"}})
		}
	} else if _, tls, err := m.BrokerAddr(); err != nil {
		c.add("mqtt.broker", "%v", err)
	} else if m.CAFile != "" && !tls {
		c.probs = append(c.probs, problem{key: "mqtt.ca_file", msg: "is for mqtts:// brokers; " + quote(m.Broker) + " is not TLS", also: []string{"mqtt.broker"}})
	}
	if m.Password != "" && m.PasswordFile != "" {
		c.probs = append(c.probs, problem{key: "mqtt.password_file", msg: "set mqtt.password or mqtt.password_file, not both", also: []string{"mqtt.password"}})
	}
	if len(m.User) > 256 {
		c.add("mqtt.user", "longer than 256 bytes")
	}
	if len(m.Password) > 256 {
		c.add("mqtt.password", "longer than 256 bytes")
	}
	if m.BaseTopic != "" {
		if why := badTopic(m.BaseTopic); why != "" {
			c.add("mqtt.base_topic", "%s %s (want levels like \"tinkerbox/attic\")", quote(m.BaseTopic), why)
		}
	}
	if why := badTopic(m.DiscoveryPrefix); why != "" {
		c.add("mqtt.discovery_prefix", "%s %s (Home Assistant's default is %q)", quote(m.DiscoveryPrefix), why, DefaultDiscoveryPrefix)
	}
}

// badTopic says why s cannot be a topic the bridge publishes under, or "".
func badTopic(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > 128:
		return "is longer than 128 bytes"
	case strings.ContainsAny(s, "+#"):
		return "has a wildcard (+ or #)"
	case strings.HasPrefix(s, "$"):
		return "starts with $ (the broker's own topics)"
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//"):
		return "has an empty level (a leading, trailing or double /)"
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "has control characters"
	}
	return ""
}

// SaveMQTT writes m as the [mqtt] section of the config file at path (a
// missing file is created) and leaves the rest of the file as it was: other
// sections, comments, spacing and key order. Keys already in the file get
// their new values in place; others are added, when they differ from the
// default, at the end of the section (or of the file, in a new [mqtt]
// table). The new file is checked to read back as the old configuration
// with m in it, then replaces the old one atomically (a temporary file
// renamed over it), so a power cut leaves either file, never half of one.
func SaveMQTT(path string, m MQTT) error {
	out, err := MQTTFile(path, m)
	if err != nil {
		return err
	}
	if err := writeAtomic(path, out); err != nil {
		if errors.Is(err, syscall.EROFS) {
			return fmt.Errorf("config: save %s: %w (on the device the boot partition is read-only: edit tinkerbox.toml from a computer)", path, err)
		}
		return fmt.Errorf("config: save %s: %w", path, err)
	}
	return nil
}

// MQTTFile is SaveMQTT's new file, checked, for a writer of its own (the
// device's update service, which alone may write the boot partition).
func MQTTFile(path string, m MQTT) ([]byte, error) {
	data, err := readConfig(path)
	if err != nil {
		return nil, err
	}
	before, err := Parse(path, data)
	if err != nil {
		return nil, fmt.Errorf("config: %s has mistakes to fix before it can be saved: %w", path, err)
	}
	want := *before
	want.MQTT = m
	if err := want.Validate(); err != nil {
		return nil, err
	}
	out, err := editMQTT(path, data, m)
	if err != nil {
		return nil, err
	}
	after, err := Parse(path, out)
	if err != nil || !reflect.DeepEqual(after, &want) {
		return nil, fmt.Errorf("config: %s: the [mqtt] section could not be rewritten safely; edit the file by hand", path)
	}
	return out, nil
}

// readConfig reads the file at path for SaveMQTT: a missing one is empty.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: %s is larger than %d MiB", path, MaxFileSize>>20)
	}
	return data, nil
}

// mqttKey is one key of the [mqtt] section as SaveMQTT writes it.
type mqttKey struct {
	name, value string
	isDefault   bool
}

func (m MQTT) keys() []mqttKey {
	def := Default().MQTT
	str := func(name, v, d string) mqttKey { return mqttKey{name, tomlString(v), v == d} }
	return []mqttKey{
		{"enabled", strconv.FormatBool(m.Enabled), m.Enabled == def.Enabled},
		str("broker", m.Broker, def.Broker),
		str("user", m.User, def.User),
		str("password", m.Password, def.Password),
		str("password_file", m.PasswordFile, def.PasswordFile),
		str("ca_file", m.CAFile, def.CAFile),
		str("base_topic", m.BaseTopic, def.BaseTopic),
		str("discovery_prefix", m.DiscoveryPrefix, def.DiscoveryPrefix),
	}
}

// editMQTT returns data with the [mqtt] keys set to m's values.
func editMQTT(name string, data []byte, m MQTT) ([]byte, error) {
	var p unstable.Parser
	p.Reset(data)
	values := map[string]unstable.Range{} // key → its value's bytes
	var (
		prefix    []string
		header    = -1 // end of the [mqtt] header's line
		last      = -1 // end of the line of the last mqtt key
		dotted    bool // mqtt.key = … outside a [mqtt] table
		inlineAt  int
		inline    bool
		lineEndAt = func(off int) int {
			if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
				return off + i + 1
			}
			return len(data)
		}
	)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			prefix = nil
			it := e.Key()
			var first unstable.Range
			for it.Next() {
				if prefix == nil {
					first = it.Node().Raw
				}
				prefix = append(prefix, string(it.Node().Data))
			}
			if len(prefix) == 1 && prefix[0] == "mqtt" {
				header = lineEndAt(int(first.Offset))
			}
		case unstable.KeyValue:
			full := slices.Clone(prefix)
			it := e.Key()
			for it.Next() {
				full = append(full, string(it.Node().Data))
			}
			if len(full) == 0 || full[0] != "mqtt" {
				continue
			}
			v := e.Value()
			if len(full) == 1 {
				inline, inlineAt = true, int(v.Raw.Offset)
				continue
			}
			values[full[1]] = v.Raw
			last = lineEndAt(int(v.Raw.Offset + v.Raw.Length))
			dotted = dotted || len(prefix) == 0
		}
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("config: %s: %w", name, err)
	}
	if inline {
		return nil, fmt.Errorf("config: %s:%d: mqtt is an inline table; write it as a [mqtt] table for the settings page to change it", name, bytes.Count(data[:inlineAt], []byte("\n"))+1)
	}
	nl := "\n"
	if bytes.Contains(data, []byte("\r\n")) {
		nl = "\r\n"
	}
	var add strings.Builder
	for _, k := range m.keys() {
		if _, ok := values[k.name]; ok || k.isDefault {
			continue
		}
		if dotted {
			add.WriteString("mqtt.")
		}
		add.WriteString(k.name + " = " + k.value + nl)
	}
	// Replace values from the end, so earlier offsets stay right.
	type edit struct {
		at, end int
		text    string
	}
	var edits []edit
	for _, k := range m.keys() {
		if r, ok := values[k.name]; ok {
			edits = append(edits, edit{int(r.Offset), int(r.Offset + r.Length), k.value})
		}
	}
	insertAt := max(header, last)
	switch {
	case add.Len() == 0:
	case insertAt >= 0:
		text := add.String()
		if insertAt == len(data) && len(data) > 0 && data[len(data)-1] != '\n' {
			text = nl + text
		}
		edits = append(edits, edit{insertAt, insertAt, text})
	default:
		text := "[mqtt]" + nl + add.String()
		switch {
		case len(data) == 0:
		case data[len(data)-1] != '\n':
			text = nl + nl + text
		default:
			text = nl + text
		}
		edits = append(edits, edit{len(data), len(data), text})
	}
	slices.SortFunc(edits, func(a, b edit) int { return b.at - a.at })
	out := slices.Clone(data)
	for _, e := range edits {
		out = slices.Concat(out[:e.at], []byte(e.text), out[e.end:])
	}
	return out, nil
}

// tomlString writes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeAtomic replaces the file at path (through a symlink, its target)
// with data: a temporary file in the same directory, synced, then renamed.
// The file keeps its permissions; a new one is 0600, as it may hold a
// password.
func writeAtomic(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// The rename is durable once the directory is synced; a file system
	// that cannot sync a directory (FAT) has already written it through.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
