package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const examplePath = "../../tinkerbox.example.toml"

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := Default()
	a.Appliance.Scenes[0] = "comic"
	if b := Default(); b.Appliance.Scenes[0] != "comic" {
		t.Fatalf("Default shares its scenes slice between calls")
	}
}

// The example file is the documentation of every key: it must parse to
// exactly Default and name every key of the schema.
func TestExampleEqualsDefault(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("tinkerbox.example.toml", data)
	if err != nil {
		t.Fatalf("Parse(example) = %v", err)
	}
	if want := Default(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("example differs from Default:\n got %+v\nwant %+v", cfg, want)
	}
	d := newDocument("tinkerbox.example.toml", data)
	if errs := d.scan(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	for _, k := range leafKeys(reflect.TypeFor[Config](), "") {
		if _, ok := d.lines[k]; !ok {
			t.Errorf("example does not document key %s", k)
		}
	}
	// Every key gets its own comment: the line right above it.
	lines := strings.Split(string(data), "\n")
	for k, l := range d.lines {
		if _, ok := d.headers[k]; ok {
			continue
		}
		if l < 2 || !strings.HasPrefix(lines[l-2], "#") {
			t.Errorf("example line %d (%s) has no comment above it", l, k)
		}
	}
}

// leafKeys lists the dotted keys of every value (non-table) field.
func leafKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		k := prefix + f.Tag.Get("toml")
		if isTable(f.Type) {
			keys = append(keys, leafKeys(f.Type, k+".")...)
		} else {
			keys = append(keys, k)
		}
	}
	return keys
}

// Every field must have a toml tag and a type the schema check knows.
func TestSchemaTypes(t *testing.T) {
	var walk func(reflect.Type, string)
	walk = func(t2 reflect.Type, path string) {
		for i := range t2.NumField() {
			f := t2.Field(i)
			if f.Tag.Get("toml") == "" {
				t.Errorf("%s%s has no toml tag", path, f.Name)
			}
			switch ft := f.Type; {
			case ft == durationType, ft == timeOfDayType:
			case isTable(ft):
				walk(ft, path+f.Name+".")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			case slices.Contains([]reflect.Kind{reflect.Int, reflect.Float64, reflect.String, reflect.Bool}, ft.Kind()):
			default:
				t.Errorf("%s%s: type %s not handled by scan", path, f.Name, ft)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
}

func TestParseGood(t *testing.T) {
	doc := `
# a maker's box: Blinkt LEDs, servos on a PCA9685, serial printer
[appliance]
scenes = ["barometer", "comic", "spycam"]
default_scene = "comic"
data_dir = "./data"
name = "shed-box"

[web]
listen = "127.0.0.1:8080"
password = "correct horse"

[buttons]
a = 17
b = 27
debounce = "30ms"
double_press = "300ms"

[leds]
kind = "blinkt"
ready = 5        # ignored with a Blinkt, so no clash with... nothing

[servos]
driver = "pca9685"
pca9685_address = 0x41
feed = { channel = 4, center_us = 1520 }

[servos.sorter]
channel = 15

[printer]
device = "/dev/serial0"
baud = 9_600
profile = "adafruit"
width = 576

[barometer]
altitude_m = 120
hemisphere = "south"
sample_interval = "30s"

[scroll]
night_from = "23:30"
night_to = "6:15"
`
	cfg, err := Parse("tinkerbox.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Appliance = Appliance{Scenes: []string{"barometer", "comic", "spycam"}, DefaultScene: "comic", DataDir: "./data", Name: "shed-box"}
	want.Web.Listen = "127.0.0.1:8080"
	want.Web.Password = "correct horse"
	want.Buttons.A, want.Buttons.B = 17, 27
	want.Buttons.Debounce = Duration{30 * time.Millisecond}
	want.Buttons.DoublePress = Duration{300 * time.Millisecond}
	want.LEDs.Kind, want.LEDs.Ready = LEDsBlinkt, 5
	want.Servos.Driver, want.Servos.PCA9685Address = ServosPCA9685, 0x41
	want.Servos.Feed.Channel, want.Servos.Feed.CenterUS = 4, 1520
	want.Servos.Sorter.Channel = 15
	want.Printer.Device, want.Printer.Baud, want.Printer.Profile, want.Printer.Width = "/dev/serial0", 9600, ProfileAdafruit, 576
	want.Barometer = Barometer{AltitudeM: 120, Hemisphere: South, SampleInterval: Duration{30 * time.Second}}
	want.Scroll.NightFrom, want.Scroll.NightTo = TimeOfDay{23, 30}, TimeOfDay{6, 15}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestParseDottedKeysAndBOM(t *testing.T) {
	doc := "\uFEFFbuttons.a = 0x11\nservos.feed.kind = 'positional'\n"
	cfg, err := Parse("x.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Buttons.A != 17 || cfg.Servos.Feed.Kind != ServoPositional {
		t.Errorf("got buttons.a=%d servos.feed.kind=%q", cfg.Buttons.A, cfg.Servos.Feed.Kind)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{
			name: "unknown key",
			doc:  "# web\n[web]\nlisen = \":80\"\n",
			want: "tinkerbox.toml:3: web.lisen: unknown key",
		},
		{
			name: "unknown dotted key",
			doc:  "web.lisen = \":80\"\n",
			want: "tinkerbox.toml:1: web.lisen: unknown key",
		},
		{
			name: "unknown key in inline table",
			doc:  "[servos]\nfeed = { chanel = 1 }\n",
			want: "tinkerbox.toml:2: servos.feed.chanel: unknown key",
		},
		{
			name: "unknown table",
			doc:  "[weeb]\nlisten = \":80\"\nport = 80\n",
			want: "tinkerbox.toml:1: weeb: unknown table",
		},
		{
			name: "quoted unknown key",
			doc:  "[web]\n\"a\\nb\" = 1\n",
			want: `tinkerbox.toml:2: web."a\nb": unknown key`,
		},
		{
			name: "wrong type",
			doc:  "[appliance]\nname = \"box\"\n\n[printer]\nwidth = \"wide\"\n",
			want: `tinkerbox.toml:5: printer.width: want an integer, got string "wide"`,
		},
		{
			name: "wrong type bool",
			doc:  "[printer]\nenabled = \"yes\"\n",
			want: `tinkerbox.toml:2: printer.enabled: want true or false, got string "yes"`,
		},
		{
			name: "wrong type array element",
			doc:  "[appliance]\nscenes = [\"comic\", 3]\n",
			want: `tinkerbox.toml:2: appliance.scenes[1]: want a string, got integer 3`,
		},
		{
			name: "wrong type array",
			doc:  "[appliance]\nscenes = \"comic\"\n",
			want: `tinkerbox.toml:2: appliance.scenes: want an array of strings, got string "comic"`,
		},
		{
			name: "table where value expected",
			doc:  "[web.listen]\nport = 80\n",
			want: `tinkerbox.toml:1: web.listen: want a string, got a table`,
		},
		{
			name: "value where table expected",
			doc:  "web = 80\n",
			want: `tinkerbox.toml:1: web: want a table, got integer 80`,
		},
		{
			name: "array of tables",
			doc:  "[[buttons]]\na = 1\n",
			want: `tinkerbox.toml:1: buttons: want a table, got an array of tables ([[buttons]])`,
		},
		{
			name: "duration as number",
			doc:  "[buttons]\ndebounce = 20\n",
			want: `tinkerbox.toml:2: buttons.debounce: want a duration like "20ms", got integer 20`,
		},
		{
			name: "duration without unit",
			doc:  "[buttons]\ndebounce = \"20\"\n",
			want: `tinkerbox.toml:2: buttons.debounce: invalid duration "20" (want a number with a unit, like "20ms", "1s" or "1m")`,
		},
		{
			name: "negative duration",
			doc:  "[buttons]\ndebounce = \"-5ms\"\n",
			want: `tinkerbox.toml:2: buttons.debounce: -5ms must not be negative`,
		},
		{
			name: "duration too long",
			doc:  "[barometer]\nsample_interval = \"2h\"\n",
			want: `tinkerbox.toml:2: barometer.sample_interval: 2h is too long (at most 1h)`,
		},
		{
			name: "bad time of day",
			doc:  "[scroll]\nnight_from = \"25:00\"\n",
			want: `tinkerbox.toml:2: scroll.night_from: invalid time of day "25:00" (want 24-hour "HH:MM", like "22:00")`,
		},
		{
			name: "integer too large",
			doc:  "[buttons]\na = 99999999999999999999\n",
			want: `tinkerbox.toml:2: buttons.a: integer 99999999999999999999 is too large`,
		},
		{
			name: "defined twice",
			doc:  "[buttons]\na = 5\nb = 6\na = 7\n",
			want: `tinkerbox.toml:4: buttons.a: defined twice (first at line 2)`,
		},
		{
			name: "table twice",
			doc:  "[buttons]\na = 5\n[buttons]\nb = 7\n",
			want: `tinkerbox.toml:3: buttons: table defined twice (first at line 1)`,
		},
		{
			name: "bad pin",
			doc:  "# my wiring\n\n[appliance]\nname = \"box\"\n\n[web]\nlisten = \":8080\"\n\n[buttons]\nchip = \"gpiochip0\"\n# action\na = 99\n",
			want: "tinkerbox.toml:12: buttons.a: pin 99 out of range (BCM 0–27)",
		},
		{
			name: "bad led pin",
			doc:  "[leds]\nwarn = -2\n",
			want: "tinkerbox.toml:2: leds.warn: pin -2 out of range (BCM 0–27, or -1 if not wired)",
		},
		{
			name: "duplicate pin",
			doc:  "[buttons]\na = 5\nb = 5\n",
			want: "tinkerbox.toml:3: buttons.b: GPIO 5 also used by buttons.a",
		},
		{
			name: "duplicate pin with a default names the key in the file",
			doc:  "[buttons]\na = 16\n",
			want: "tinkerbox.toml:2: buttons.a: GPIO 16 also used by leds.ready",
		},
		{
			name: "blinkt pins only clash when used",
			doc:  "[leds]\nkind = \"blinkt\"\n[buttons]\nb = 24\n",
			want: "tinkerbox.toml:4: buttons.b: GPIO 24 also used by blinkt.clock",
		},
		{
			name: "i2c pins",
			doc:  "[buttons]\na = 2\n",
			want: "tinkerbox.toml:2: buttons.a: GPIO 2 is I2C SDA, used by the Enviro pHAT (enviro.enabled)",
		},
		{
			name: "serial printer pins",
			doc:  "[printer]\ndevice = \"/dev/serial0\"\n[leds]\nwarn = 14\n",
			want: "tinkerbox.toml:4: leds.warn: GPIO 14 is UART TXD, used by the printer (printer.device)",
		},
		{
			name: "bad address",
			doc:  "[scroll]\naddress = 0x78\n",
			want: "tinkerbox.toml:2: scroll.address: address 0x78 out of range (0x03–0x77)",
		},
		{
			name: "bad optional address",
			doc:  "[enviro]\ntcs3472_address = 1\n",
			want: "tinkerbox.toml:2: enviro.tcs3472_address: address 0x01 out of range (0x03–0x77, or 0 if absent)",
		},
		{
			name: "address clash",
			doc:  "[servos]\ndriver = \"pca9685\"\npca9685_address = 0x74\n",
			want: "tinkerbox.toml:3: servos.pca9685_address: address 0x74 also used by scroll.address",
		},
		{
			name: "bad enum",
			doc:  "[leds]\nkind = \"rgb\"\n",
			want: `tinkerbox.toml:2: leds.kind: unknown value "rgb" (want "gpio", "blinkt" or "none")`,
		},
		{
			name: "comic orientation",
			doc:  "[comic]\norientation = \"sideways\"\n",
			want: `tinkerbox.toml:2: comic.orientation: unknown value "sideways" (want "auto", "across" or "along")`,
		},
		{
			name: "servo channel clash",
			doc:  "[servos.sorter]\nchannel = 0\n",
			want: "tinkerbox.toml:2: servos.sorter.channel: channel 0 also used by servos.feed.channel",
		},
		{
			name: "servo pulses",
			doc:  "[servos.feed]\nmin_us = 2500\nmax_us = 500\n",
			want: "tinkerbox.toml:2: servos.feed.min_us: 2500 must be below max_us (500)",
		},
		{
			name: "printer width",
			doc:  "[printer]\nwidth = 390\n",
			want: "tinkerbox.toml:2: printer.width: 390 is not a multiple of 8",
		},
		{
			name: "printer baud",
			doc:  "[printer]\nbaud = 1200\n",
			want: "tinkerbox.toml:2: printer.baud: 1200 not supported (want 9600, 19200, 38400, 57600 or 115200)",
		},
		{
			name: "default scene not in scenes",
			doc:  "[appliance]\nscenes = [\"barometer\", \"comic\"]\ndefault_scene = \"spycam\"\n",
			want: `tinkerbox.toml:3: appliance.default_scene: "spycam" is not in appliance.scenes`,
		},
		{
			name: "default scene dropped from scenes",
			doc:  "[appliance]\nscenes = [\"spycam\"]\n",
			want: `tinkerbox.toml:2: appliance.default_scene: "comic" is not in appliance.scenes`,
		},
		{
			name: "unknown and duplicate scenes",
			doc:  "[appliance]\nscenes = [\"comic\", \"disco\", \"comic\"]\n",
			want: "tinkerbox.toml:2: appliance.scenes: unknown scene \"disco\" (want \"comic\", \"cardfeed\", \"barometer\" or \"spycam\")\n" +
				"tinkerbox.toml:2: appliance.scenes: scene \"comic\" listed twice",
		},
		{
			name: "password that looks like a hash",
			doc:  "[web]\npassword = \"$2a$10$tooshort\"\n",
			want: `tinkerbox.toml:2: web.password: starts with "$2" but is not a valid bcrypt hash`,
		},
		{
			name: "listen",
			doc:  "[web]\nlisten = \"80\"\n",
			want: `tinkerbox.toml:2: web.listen: invalid address "80" (want host:port, like ":80" or "127.0.0.1:8080")`,
		},
		{
			name: "syntax error",
			doc:  "[web]\nlisten = \":80\"\n[printer]\nwidth = 384\n\n# oops\nwidth 384\n",
			want: "tinkerbox.toml:7: syntax error: expected '=' after key",
		},
		{
			name: "syntax error at end of file",
			doc:  "[web]\nlisten = \":80",
			want: "tinkerbox.toml:2: syntax error: unterminated basic string",
		},
		{
			name: "go-toml semantic error",
			doc:  "buttons.a = 7\n[buttons]\nb = 8\n",
			want: "tinkerbox.toml:2: buttons: table buttons already exists as defined by a dotted key",
		},
		{
			name: "several errors at once",
			doc:  "[web]\nlisen = \":80\"\n[printer]\nwidth = \"wide\"\ndither = 3\n[buttons]\nlong = \"1s\"\n",
			want: "tinkerbox.toml:2: web.lisen: unknown key\n" +
				"tinkerbox.toml:4: printer.width: want an integer, got string \"wide\"\n" +
				"tinkerbox.toml:5: printer.dither: want a string, got integer 3\n" +
				"tinkerbox.toml:7: buttons.long: unknown key",
		},
		{
			name: "several invalid values at once, in file order",
			doc:  "[scroll]\nbrightness = 300\n[buttons]\na = 99\nb = 6\n[leds]\nkind = \"rgb\"\n",
			want: "tinkerbox.toml:2: scroll.brightness: 300 out of range (0–255)\n" +
				"tinkerbox.toml:4: buttons.a: pin 99 out of range (BCM 0–27)\n" +
				"tinkerbox.toml:7: leds.kind: unknown value \"rgb\" (want \"gpio\", \"blinkt\" or \"none\")",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("tinkerbox.toml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "tinkerbox.toml" {
				t.Errorf("error %T is not a *config.Error for the file", err)
			}
		})
	}
}

func TestParseCapsErrorCount(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("[web]\n")
	for i := range 13 {
		doc.WriteString("k")
		doc.WriteByte(byte('a' + i))
		doc.WriteString(" = 1\n")
	}
	_, err := Parse("t.toml", []byte(doc.String()))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), maxErrors+1, err)
	}
	if lines[0] != "t.toml:2: web.ka: unknown key" || lines[10] != "t.toml: 3 more errors not shown" {
		t.Errorf("unexpected error lines:\n%s", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tinkerbox.toml")
	if err := os.WriteFile(path, []byte("[printer]\nwidth = 512\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Printer.Width != 512 {
		t.Errorf("printer.width = %d, want 512", cfg.Printer.Width)
	}

	if err := os.WriteFile(path, []byte("[printer]\nwidth = 513\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if want := path + ":2: printer.width: 513 is not a multiple of 8"; err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %s", err, want)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "config: open ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestValidate(t *testing.T) {
	cfg := Default()
	cfg.Web.Listen = "localhost"
	cfg.Buttons.B = 5
	cfg.Camera.Quality = 0
	want := "config: web.listen: invalid address \"localhost\" (want host:port, like \":80\" or \"127.0.0.1:8080\")\n" +
		"config: camera.quality: 0 out of range (1–100)\n" +
		"config: buttons.b: GPIO 5 also used by buttons.a"
	if err := cfg.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate:\n got %v\nwant %s", err, want)
	}
}

func TestValidateDisabledDevicesDoNotClash(t *testing.T) {
	cfg := Default()
	cfg.Enviro.Enabled, cfg.Scroll.Enabled = false, false
	cfg.Buttons.A, cfg.Buttons.B = 2, 3 // the I2C pins are free now
	cfg.LEDs.Kind = LEDsNone
	cfg.Buttons.A = 16 // the LED pins are free too
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	cfg.Servos.Driver = ServosPCA9685 // back on the bus
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "buttons.b: GPIO 3 is I2C SCL, used by the PCA9685") {
		t.Errorf("Validate = %v, want the I2C clash with the PCA9685", err)
	}
}

func TestPasswords(t *testing.T) {
	cfg := Default()
	hash, err := bcrypt.GenerateFromPassword([]byte("admin"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Web.Password = string(hash)
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid hash rejected: %v", err)
	}
	cfg.Web.Password = strings.Repeat("x", 73)
	err = cfg.Validate()
	if err == nil || err.Error() != "config: web.password: longer than 72 bytes, which bcrypt cannot hash" {
		t.Errorf("Validate = %v", err)
	}
	if strings.Contains(err.Error(), "xxx") {
		t.Errorf("the password leaked into the error")
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"20ms", 20 * time.Millisecond, "20ms"},
		{"1m", time.Minute, "1m"},
		{"1h", time.Hour, "1h"},
		{"90s", 90 * time.Second, "1m30s"},
		{"1h0m30s", time.Hour + 30*time.Second, "1h0m30s"},
		{"0s", 0, "0s"},
	} {
		var d Duration
		if err := d.UnmarshalText([]byte(tt.in)); err != nil {
			t.Fatalf("UnmarshalText(%q) = %v", tt.in, err)
		}
		if d.Duration != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, want %v", tt.in, d.Duration, tt.want)
		}
		if b, _ := d.MarshalText(); string(b) != tt.out {
			t.Errorf("MarshalText(%v) = %q, want %q", tt.want, b, tt.out)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("soon")); err == nil || !strings.HasPrefix(err.Error(), "config: invalid duration \"soon\"") {
		t.Errorf("UnmarshalText(soon) = %v", err)
	}
}

func TestTimeOfDay(t *testing.T) {
	for in, want := range map[string]TimeOfDay{"22:00": {22, 0}, "7:05": {7, 5}, "00:00": {0, 0}, "23:59": {23, 59}} {
		var tod TimeOfDay
		if err := tod.UnmarshalText([]byte(in)); err != nil || tod != want {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", in, tod, err, want)
		}
	}
	for _, in := range []string{"", "24:00", "12:60", "12", "12:5", "-1:00", "+1:00", "1:-5", "ab:cd", "123:00", "12:00:00"} {
		var tod TimeOfDay
		if err := tod.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("UnmarshalText(%q) = %v, want an error", in, tod)
		}
	}
	if b, _ := (TimeOfDay{7, 5}).MarshalText(); string(b) != "07:05" {
		t.Errorf("MarshalText = %q", b)
	}
}

func TestIsNight(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 1, 1, h, m, 0, 0, time.UTC) }
	s := Default().Scroll // 22:00–07:00, across midnight
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{{at(21, 59), false}, {at(22, 0), true}, {at(3, 0), true}, {at(6, 59), true}, {at(7, 0), false}, {at(12, 0), false}} {
		if got := s.IsNight(tt.t); got != tt.want {
			t.Errorf("IsNight(%s) = %v, want %v", tt.t.Format("15:04"), got, tt.want)
		}
	}
	s.NightFrom, s.NightTo = TimeOfDay{1, 0}, TimeOfDay{5, 0}
	if !s.IsNight(at(1, 0)) || s.IsNight(at(5, 0)) || s.IsNight(at(23, 0)) {
		t.Errorf("IsNight wrong for a window within one day")
	}
	s.NightTo = s.NightFrom
	if s.IsNight(at(1, 0)) {
		t.Errorf("equal ends must turn night mode off")
	}
}

func TestPrinterSerial(t *testing.T) {
	for dev, want := range map[string]bool{
		"/dev/usb/lp0": false, "/dev/ttyUSB0": true, "/dev/serial0": true, "/dev/ttyAMA0": true, "/dev/rfcomm0": true, "/tmp/out.bin": false,
	} {
		if got := (Printer{Device: dev}).Serial(); got != want {
			t.Errorf("Serial(%s) = %v, want %v", dev, got, want)
		}
	}
}

func TestServoPulses(t *testing.T) {
	s := Default().Servos.Feed
	if s.Min() != 500*time.Microsecond || s.Max() != 2500*time.Microsecond || s.Center() != 1500*time.Microsecond {
		t.Errorf("pulses = %v %v %v", s.Min(), s.Center(), s.Max())
	}
}

func FuzzParse(f *testing.F) {
	// The example without comments, one section a seed: the fuzzer
	// minimises every new input, which takes ages on a 6 KB file.
	if data, err := os.ReadFile(examplePath); err == nil {
		var section strings.Builder
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if strings.HasPrefix(line, "[") && section.Len() > 0 {
				f.Add([]byte(section.String()))
				section.Reset()
			}
			if !strings.HasPrefix(line, "#") && strings.TrimSpace(line) != "" {
				section.WriteString(line)
			}
		}
		f.Add([]byte(section.String()))
	}
	for _, s := range []string{
		"", "[web]\nlisten = \":80\"\n", "[buttons]\na = 99\n", "a = {b = 1\n", "[[x]]\n", "x = [[[[1]]]]\n",
		"appliance.scenes = ['comic', 'comic']\n", "[servos]\nfeed = { kind = 3 }\n", "buttons.a = 5\n[buttons]\n",
		"[scroll]\nnight_from = 22:00:00\n", "[barometer]\naltitude_m = nan\n", "\"\\u0000\" = 1\n", "[a.\"b\nc\"]\n",
		"[web]\nlisten = '''\n:80'''\n", "[printer]\nwidth = 0x7fffffffffffffff\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.toml", data)
		if err != nil {
			if cfg != nil {
				t.Fatalf("config and error both returned")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.toml:") {
					t.Fatalf("error line %q does not start with the file name", line)
				}
			}
			return
		}
		// What Parse accepts, Validate accepts.
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config Validate rejects: %v", err)
		}
	})
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("tinkerbox.toml", data); err != nil {
			b.Fatal(err)
		}
	}
}
