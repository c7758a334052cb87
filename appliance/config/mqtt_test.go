package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMQTTErrorsNameTheLine(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"enabled without broker", "[mqtt]\nenabled = true\n",
			`tinkerbox.toml:2: mqtt.broker: must be set when mqtt.enabled is true (like "mqtt://homeassistant.local:1883")`},
		{"scheme", "[mqtt]\nbroker = \"tcp://h:1883\"\n",
			`tinkerbox.toml:2: mqtt.broker: broker "tcp://h:1883": unknown scheme "tcp" (want "mqtt" or "mqtts")`},
		{"no host", "[mqtt]\nbroker = \"mqtt://:1883\"\n",
			`tinkerbox.toml:2: mqtt.broker: broker "mqtt://:1883": no host`},
		{"port", "[mqtt]\nbroker = \"mqtt://h:99999\"\n",
			`tinkerbox.toml:2: mqtt.broker: broker "mqtt://h:99999": port "99999" out of range (1–65535)`},
		{"not a url", "[mqtt]\nbroker = \"homeassistant.local\"\n",
			`tinkerbox.toml:2: mqtt.broker: invalid broker "homeassistant.local" (want mqtt://host:1883 or mqtts://host:8883)`},
		{"path", "[mqtt]\nbroker = \"mqtt://h/x\"\n",
			`tinkerbox.toml:2: mqtt.broker: broker "mqtt://h/x": want only a scheme, a host and a port`},
		{"credentials in the URL are not echoed", "[mqtt]\nbroker = \"mqtt://u:secret@h\"\n",
			`tinkerbox.toml:2: mqtt.broker: broker "mqtt://u:xxxxx@h": put the user and password in mqtt.user and mqtt.password, not in the URL`},
		{"ca_file without TLS", "[mqtt]\nbroker = \"mqtt://h\"\n\nca_file = \"/data/ca.pem\"\n",
			`tinkerbox.toml:4: mqtt.ca_file: is for mqtts:// brokers; "mqtt://h" is not TLS`},
		{"both passwords", "[mqtt]\npassword = \"a\"\npassword_file = \"/data/pw\"\n",
			`tinkerbox.toml:3: mqtt.password_file: set mqtt.password or mqtt.password_file, not both`},
		{"wildcard topic", "[mqtt]\nbase_topic = \"tinkerbox/+\"\n",
			`tinkerbox.toml:2: mqtt.base_topic: "tinkerbox/+" has a wildcard (+ or #) (want levels like "tinkerbox/attic")`},
		{"empty level", "[mqtt]\nbase_topic = \"/tinkerbox\"\n",
			`tinkerbox.toml:2: mqtt.base_topic: "/tinkerbox" has an empty level (a leading, trailing or double /) (want levels like "tinkerbox/attic")`},
		{"system topic", "[mqtt]\ndiscovery_prefix = \"$SYS\"\n",
			`tinkerbox.toml:2: mqtt.discovery_prefix: "$SYS" starts with $ (the broker's own topics) (Home Assistant's default is "homeassistant")`},
		{"empty prefix", "[mqtt]\ndiscovery_prefix = \"\"\n",
			`tinkerbox.toml:2: mqtt.discovery_prefix: "" is empty (Home Assistant's default is "homeassistant")`},
		{"wrong type", "[mqtt]\nenabled = \"yes\"\n",
			`tinkerbox.toml:2: mqtt.enabled: want true or false, got string "yes"`},
		{"unknown key", "[mqtt]\nhost = \"h\"\n",
			`tinkerbox.toml:2: mqtt.host: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("tinkerbox.toml", []byte(tt.doc))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestMQTTGood(t *testing.T) {
	cfg, err := Parse("tinkerbox.toml", []byte(`
[appliance]
name = "attic"

[mqtt]
enabled = true
broker = "mqtts://broker.lan"
user = "tinkerbox"
password_file = "/data/mqtt-password"
ca_file = "/data/ca.pem"
`))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.MQTT
	addr, tls, err := m.BrokerAddr()
	if err != nil || addr != "broker.lan:8883" || !tls || !m.TLS() {
		t.Errorf("BrokerAddr = %q %v %v, want broker.lan:8883 over TLS", addr, tls, err)
	}
	if got := m.Topic(cfg.Appliance.Name); got != "tinkerbox/attic" {
		t.Errorf("Topic = %q, want the default tinkerbox/attic", got)
	}
	if m.DiscoveryPrefix != "homeassistant" {
		t.Errorf("DiscoveryPrefix = %q", m.DiscoveryPrefix)
	}
	m.BaseTopic = "boat/baro"
	if got := m.Topic("attic"); got != "boat/baro" {
		t.Errorf("Topic = %q, want boat/baro", got)
	}
	for _, b := range []struct{ url, addr string }{
		{"mqtt://10.0.0.2", "10.0.0.2:1883"},
		{"mqtt://[fd00::1]:1884", "[fd00::1]:1884"},
		{"mqtts://ha.local:8884/", "ha.local:8884"},
	} {
		if addr, _, err := (MQTT{Broker: b.url}).BrokerAddr(); err != nil || addr != b.addr {
			t.Errorf("BrokerAddr(%s) = %q, %v; want %s", b.url, addr, err, b.addr)
		}
	}
}

// The page saves [mqtt] into the maker's file: everything else stays as it
// was, comments and all.
func TestSaveMQTT(t *testing.T) {
	full := MQTT{Enabled: true, Broker: "mqtt://ha.lan:1883", User: "box", Password: `p"w\d`, DiscoveryPrefix: "homeassistant"}
	tests := []struct {
		name, file string
		m          MQTT
		want       string
	}{
		{
			name: "no file yet",
			m:    full,
			want: "[mqtt]\nenabled = true\nbroker = \"mqtt://ha.lan:1883\"\nuser = \"box\"\npassword = \"p\\\"w\\\\d\"\n",
		},
		{
			name: "no mqtt section",
			file: "# my box\n[appliance]\nname = \"attic\" # the attic one\n",
			m:    full,
			want: "# my box\n[appliance]\nname = \"attic\" # the attic one\n\n[mqtt]\nenabled = true\nbroker = \"mqtt://ha.lan:1883\"\nuser = \"box\"\npassword = \"p\\\"w\\\\d\"\n",
		},
		{
			name: "no final newline",
			file: "[web]\nhttps = false",
			m:    MQTT{Broker: "mqtt://h", DiscoveryPrefix: "homeassistant"},
			want: "[web]\nhttps = false\n\n[mqtt]\nbroker = \"mqtt://h\"\n",
		},
		{
			name: "values changed in place, missing keys after the last",
			file: "[mqtt]\n# on or off\nenabled = false   # for now\nbroker = 'mqtt://old'\n\n# the next table's comment\n[comic]\nqueue = 5\n",
			m:    MQTT{Enabled: true, Broker: "mqtt://new", User: "u", DiscoveryPrefix: "homeassistant"},
			want: "[mqtt]\n# on or off\nenabled = true   # for now\nbroker = \"mqtt://new\"\nuser = \"u\"\n\n# the next table's comment\n[comic]\nqueue = 5\n",
		},
		{
			name: "a key set back to its default stays, with the default",
			file: "[mqtt]\nenabled = true\nbroker = \"mqtt://h\"\nuser = \"u\"\n",
			m:    MQTT{Enabled: false, Broker: "mqtt://h", DiscoveryPrefix: "homeassistant"},
			want: "[mqtt]\nenabled = false\nbroker = \"mqtt://h\"\nuser = \"\"\n",
		},
		{
			name: "empty table",
			file: "[mqtt]\n[web]\nhttps = true\n",
			m:    MQTT{Broker: "mqtts://h", CAFile: "/data/ca.pem", DiscoveryPrefix: "ha"},
			want: "[mqtt]\nbroker = \"mqtts://h\"\nca_file = \"/data/ca.pem\"\ndiscovery_prefix = \"ha\"\n[web]\nhttps = true\n",
		},
		{
			name: "dotted keys",
			file: "mqtt.enabled = false\nmqtt.broker = \"mqtt://old\"\n\n[web]\nhttps = true\n",
			m:    MQTT{Enabled: true, Broker: "mqtt://new", BaseTopic: "boat/baro", DiscoveryPrefix: "homeassistant"},
			want: "mqtt.enabled = true\nmqtt.broker = \"mqtt://new\"\nmqtt.base_topic = \"boat/baro\"\n\n[web]\nhttps = true\n",
		},
		{
			name: "Windows line ends",
			file: "[appliance]\r\nname = \"attic\"\r\n[mqtt]\r\nenabled = false\r\n",
			m:    MQTT{Enabled: true, Broker: "mqtt://h", DiscoveryPrefix: "homeassistant"},
			want: "[appliance]\r\nname = \"attic\"\r\n[mqtt]\r\nenabled = true\r\nbroker = \"mqtt://h\"\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tinkerbox.toml")
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			if err := SaveMQTT(path, tt.m); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tt.want)
			}
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MQTT != tt.m {
				t.Errorf("read back %+v, want %+v", cfg.MQTT, tt.m)
			}
			st, _ := os.Stat(path)
			if want := map[bool]os.FileMode{true: 0o640, false: 0o600}[tt.file != ""]; st.Mode().Perm() != want {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), want)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// Saving the example file, the maker's usual start, changes only [mqtt].
func TestSaveMQTTKeepsTheExample(t *testing.T) {
	orig, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tinkerbox.toml")
	os.WriteFile(path, orig, 0o644)
	m := Default().MQTT
	m.Enabled, m.Broker, m.User, m.Password = true, "mqtts://ha.lan", "box", "secret"
	if err := SaveMQTT(path, m); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	before, after, _ := strings.Cut(string(orig), "[mqtt]")
	gotBefore, gotAfter, _ := strings.Cut(string(got), "[mqtt]")
	if gotBefore != before {
		t.Error("the file before [mqtt] changed")
	}
	want := strings.NewReplacer("enabled = false", "enabled = true", `broker = ""`, `broker = "mqtts://ha.lan"`,
		`user = ""`, `user = "box"`, `password = ""`, `password = "secret"`).Replace(after)
	if gotAfter != want {
		t.Errorf("[mqtt] is\n%s\nwant\n%s", gotAfter, want)
	}
}

func TestSaveMQTTRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := MQTT{Enabled: true, Broker: "mqtt://h", DiscoveryPrefix: "homeassistant"}
	for _, tt := range []struct {
		name, path string
		m          MQTT
		want       string
	}{
		{"a bad value", write("a.toml", ""), MQTT{Enabled: true, DiscoveryPrefix: "homeassistant"}, "config: mqtt.broker: must be set"},
		{"a broken file", write("b.toml", "[web]\nlisen = 1\n"), ok, "b.toml has mistakes to fix before it can be saved: " + filepath.Join(dir, "b.toml") + ":2: web.lisen: unknown key"},
		{"an inline table", write("c.toml", "# box\n\nmqtt = { enabled = false }\n[web]\nhttps = true\n"), ok, "c.toml:3: mqtt is an inline table"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			err := SaveMQTT(tt.path, tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SaveMQTT = %v, want %q", err, tt.want)
			}
			if after, _ := os.ReadFile(tt.path); string(after) != string(before) {
				t.Errorf("the file changed:\n%s", after)
			}
		})
	}
	t.Run("a read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes read-only directories")
		}
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o755)
		p := filepath.Join(ro, "tinkerbox.toml")
		os.WriteFile(p, nil, 0o644)
		os.Chmod(ro, 0o555)
		t.Cleanup(func() { os.Chmod(ro, 0o755) })
		if err := SaveMQTT(p, ok); err == nil || !errors.Is(err, os.ErrPermission) {
			t.Errorf("SaveMQTT = %v, want a permission error", err)
		}
	})
}

func TestSaveMQTTThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.toml")
	os.WriteFile(real, []byte("[web]\nhttps = false\n"), 0o644)
	link := filepath.Join(dir, "tinkerbox.toml")
	if err := os.Symlink(real, link); err != nil {
		t.Skip(err)
	}
	if err := SaveMQTT(link, MQTT{Broker: "mqtt://h", DiscoveryPrefix: "homeassistant"}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), `broker = "mqtt://h"`) {
		t.Errorf("target not written: %s", b)
	}
}
