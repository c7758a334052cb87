package config

import (
	"path"
	"strings"
	"time"
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
	}
}
