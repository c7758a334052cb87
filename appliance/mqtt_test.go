package appliance

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinkerbox/appliance/config"
	"tinkerbox/appliance/homeassistant/brokertest"
	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
)

// startWithConfig runs the simulator with config file cfg, and returns its
// URL and its log.
func startWithConfig(t *testing.T, cfg, data string) (string, *syncBuffer, func() error) {
	t.Helper()
	t.Setenv("TINKERBOX_PASSWORD", "mqtt test password")
	out := &syncBuffer{seen: make(chan struct{}, 1)}
	logs := &syncBuffer{seen: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Sim: true, ConfigPath: cfg, DataDir: data, Listen: "127.0.0.1:0", Version: "v9.9.9", Stdout: out, Stderr: logs})
	}()
	t.Cleanup(cancel)
	deadline := time.After(20 * time.Second) // hang guard
	for {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			return m[1], logs, func() error { cancel(); return <-done }
		}
		select {
		case <-out.seen:
		case err := <-done:
			t.Fatalf("Run returned early: %v\n%s\n%s", err, out, logs)
		case <-deadline:
			t.Fatalf("no URL printed:\n%s", out)
		}
	}
}

// api calls the appliance's API as a script would (Basic auth).
func api(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	req.SetBasicAuth("admin", "mqtt test password")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// The appliance with [mqtt] on, against a real broker: Home Assistant
// finds the simulator's device; its commands go through the web API's
// functions and are refused in the web API's words; the settings page
// saves a change into the config file, keeping the rest, and the bridge
// comes back on it.
func TestMQTTEndToEnd(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tinkerbox.toml")
	orig := "# the attic box\n[appliance]\nname = \"attic\"\n\n[mqtt]\n# on\nenabled = true\nbroker = \"" + br.URL() + "\"\n\n[comic]\nqueue = 5\n"
	if err := os.WriteFile(cfgPath, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	url, logs, stop := startWithConfig(t, cfgPath, data)
	ha := brokertest.Watch(t, br.URL(), "homeassistant/#", "tinkerbox/#", "boat/#")

	var id string
	waitFor(t, "the device id", func() bool {
		b, err := os.ReadFile(filepath.Join(data, deviceIDFile))
		id = strings.TrimSpace(string(b))
		return err == nil && validDeviceID(id)
	})
	configs := func() int {
		n := 0
		for _, m := range ha.All() {
			if strings.HasSuffix(m.Topic, "/config") && strings.Contains(m.Topic, "/"+id+"/") && len(m.Payload) > 0 {
				n++
			}
		}
		return n
	}
	waitFor(t, "15 entities", func() bool { return configs() >= 15 })
	var dev struct {
		Device map[string]any `json:"device"`
	}
	m, _ := ha.Last("homeassistant/select/" + id + "/scene/config")
	json.Unmarshal(m.Payload, &dev)
	if dev.Device["sw_version"] != "v9.9.9" || dev.Device["name"] != "attic" || dev.Device["configuration_url"] != url {
		t.Errorf("device %v", dev.Device)
	}
	waitFor(t, "online", func() bool {
		m, ok := ha.Last("tinkerbox/attic/availability")
		return ok && string(m.Payload) == "online"
	})
	var st struct {
		Scene string `json:"scene"`
		MQTT  struct {
			State string `json:"state"`
		} `json:"mqtt"`
	}
	api(t, "GET", url+"api/state", "", &st)
	if st.MQTT.State != "connected" {
		t.Errorf("state's mqtt %+v", st.MQTT)
	}

	// A command switches the real loop's scene; the state topic follows.
	ha.Publish("tinkerbox/attic/cmd/scene", "barometer", false)
	waitFor(t, "barometer", func() bool { api(t, "GET", url+"api/state", "", &st); return st.Scene == "barometer" })
	waitFor(t, "state topic", func() bool {
		m, ok := ha.Last("tinkerbox/attic/state")
		return ok && strings.Contains(string(m.Payload), `"scene":"barometer"`)
	})

	// Refusals in the web API's own words.
	var webErr struct{ Error string }
	if code := api(t, "POST", url+"api/scene", `{"name":"disco"}`, &webErr); code != http.StatusBadRequest {
		t.Fatalf("POST /api/scene disco = %d", code)
	}
	ha.Publish("tinkerbox/attic/cmd/scene", "disco", false)
	var printErr struct{ Error string }
	if code := api(t, "POST", url+"api/comics/print", `{}`, &printErr); code != http.StatusConflict {
		t.Fatalf("POST /api/comics/print under the barometer = %d", code)
	}
	ha.Publish("tinkerbox/attic/cmd/print", "PRESS", false)
	for _, want := range []string{webErr.Error, printErr.Error} {
		quoted := strings.ReplaceAll(want, `"`, `\"`)
		waitFor(t, "the log line: "+want, func() bool { return strings.Contains(logs.String(), "why=\""+quoted+"\"") })
	}

	// The settings page's API saves into the file and restarts the bridge.
	var saved struct {
		Settings struct {
			BaseTopic string `json:"base_topic"`
			File      string `json:"file"`
		} `json:"settings"`
	}
	code := api(t, "POST", url+"api/mqtt", `{"enabled":true,"broker":"`+br.URL()+`","base_topic":"boat/attic","discovery_prefix":"homeassistant"}`, &saved)
	if code != http.StatusOK || saved.Settings.BaseTopic != "boat/attic" || saved.Settings.File != cfgPath {
		t.Fatalf("POST /api/mqtt = %d %+v", code, saved)
	}
	got, _ := os.ReadFile(cfgPath)
	want := strings.Replace(orig, "\n\n[comic]", "\nbase_topic = \"boat/attic\"\n\n[comic]", 1)
	if string(got) != want {
		t.Errorf("config file:\n%s\nwant:\n%s", got, want)
	}
	waitFor(t, "old base offline", func() bool {
		m, ok := ha.Last("tinkerbox/attic/availability")
		return ok && string(m.Payload) == "offline"
	})
	waitFor(t, "new base online", func() bool { m, ok := ha.Last("boat/attic/availability"); return ok && string(m.Payload) == "online" })
	waitFor(t, "new state topic", func() bool {
		m, ok := ha.Last("homeassistant/sensor/" + id + "/pressure/config")
		return ok && strings.Contains(string(m.Payload), `"state_topic":"boat/attic/state"`)
	})
	// A mistake is refused and the file left alone.
	if code := api(t, "POST", url+"api/mqtt", `{"enabled":true,"broker":"http://x","discovery_prefix":"homeassistant"}`, &webErr); code != http.StatusBadRequest ||
		!strings.Contains(webErr.Error, "mqtt.broker") {
		t.Errorf("a bad broker = %d %q", code, webErr.Error)
	}
	if again, _ := os.ReadFile(cfgPath); string(again) != want {
		t.Error("a refused save changed the file")
	}

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "offline at the end", func() bool { m, ok := ha.Last("boat/attic/availability"); return ok && string(m.Payload) == "offline" })
}

// Off by default: the state and the settings say so.
func TestMQTTOffByDefault(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tinkerbox.toml")
	os.WriteFile(cfg, nil, 0o644)
	url, _, _ := startWithConfig(t, cfg, t.TempDir())
	var st struct {
		MQTT struct{ State string } `json:"mqtt"`
	}
	api(t, "GET", url+"api/state", "", &st)
	var m struct {
		Settings struct {
			Enabled          bool   `json:"enabled"`
			DiscoveryPrefix  string `json:"discovery_prefix"`
			DefaultBaseTopic string `json:"default_base_topic"`
			File             string `json:"file"`
		} `json:"settings"`
		Status struct{ State string } `json:"status"`
	}
	if code := api(t, "GET", url+"api/mqtt", "", &m); code != http.StatusOK {
		t.Fatalf("GET /api/mqtt = %d", code)
	}
	if st.MQTT.State != "off" || m.Status.State != "off" || m.Settings.Enabled || m.Settings.DiscoveryPrefix != "homeassistant" ||
		m.Settings.DefaultBaseTopic != "tinkerbox/tinkerbox" || m.Settings.File != cfg {
		t.Errorf("state %+v, settings %+v", st, m)
	}
}

func TestDeviceIDStable(t *testing.T) {
	dir := t.TempDir()
	a, err := deviceID(dir)
	if err != nil || !strings.HasPrefix(a, "tinkerbox-") || len(a) != len("tinkerbox-")+12 {
		t.Fatalf("deviceID = %q, %v", a, err)
	}
	if b, _ := deviceID(dir); b != a {
		t.Errorf("second read %q, first %q", b, a)
	}
	os.WriteFile(filepath.Join(dir, deviceIDFile), []byte("not/valid\n"), 0o644)
	if c, _ := deviceID(dir); c == a || !validDeviceID(c) {
		t.Errorf("a broken file gave %q", c)
	}
}

// bootWriter stands in for the device's update service.
type bootWriter struct{ got []byte }

func (b *bootWriter) WriteConfig(_ context.Context, data []byte) error {
	b.got = data
	return nil
}

// On the device the config is on the read-only boot partition: the
// settings page's save goes to the update service (root), which writes it,
// and the appliance never writes the file itself.
func TestMQTTSaveOnTheDeviceGoesThroughTheUpdateService(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	file := filepath.Join(dir, "tinkerbox.toml")
	before := "# my box\n[appliance]\nname = \"boat\"\n"
	if err := os.WriteFile(file, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	bw := &bootWriter{}
	l := &mqttLink{app: &app{cfg: cfg, store: st, log: slog.New(slog.DiscardHandler)}, file: file, bootConfig: bw, settings: cfg.MQTT}
	if _, err := l.SaveMQTT(context.Background(), web.MQTTForm{Enabled: true, Broker: "mqtt://ha.local:1883", DiscoveryPrefix: "homeassistant"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != before {
		t.Fatalf("the appliance wrote the file itself:\n%s", b)
	}
	got, err := config.Parse(file, bw.got)
	if err != nil || !got.MQTT.Enabled || got.MQTT.Broker != "mqtt://ha.local:1883" || got.Appliance.Name != "boat" || !strings.HasPrefix(string(bw.got), "# my box\n") {
		t.Fatalf("the service was sent %q (%v)", bw.got, err)
	}
}
