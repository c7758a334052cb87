package homeassistant

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tinkerbox/appliance/homeassistant/brokertest"
)

// wantEntities are every entity of a tinkerbox with all its features.
var wantEntities = []string{
	"binary_sensor/motion", "button/button_a", "button/button_b", "button/print", "button/take_snapshot",
	"image/snapshot", "select/scene", "sensor/cards", "sensor/collection_value", "sensor/pressure",
	"sensor/print_queue", "sensor/printer", "sensor/temperature", "sensor/tendency", "sensor/warning",
}

const base = "tinkerbox/attic"

// settled waits until the bridge has sent at least n messages and its
// queue is empty: what it published is on the broker.
func settled(t *testing.T, b *Bridge, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d messages sent", n), func() bool {
		st := b.Status()
		return st.Sent >= uint64(n) && st.Queued == 0
	})
}

// retainedNow subscribes afresh, as a Home Assistant starting now would,
// and returns what the broker keeps once all of want has come.
func retainedNow(t *testing.T, url string, want []string) map[string]brokertest.Message {
	t.Helper()
	w := brokertest.Watch(t, url, "homeassistant/#", base+"/#")
	got := map[string]brokertest.Message{}
	eventually(t, fmt.Sprintf("retained %v", want), func() bool {
		for _, m := range w.All() {
			got[m.Topic] = m
		}
		for _, topic := range want {
			if _, ok := got[topic]; !ok {
				return false
			}
		}
		return true
	})
	return got
}

func configTopics(node string, entities []string) []string {
	var out []string
	for _, e := range entities {
		c, k, _ := strings.Cut(e, "/")
		out = append(out, "homeassistant/"+c+"/"+node+"/"+k+"/config")
	}
	return out
}

// The discovery configs a Home Assistant finds on the broker pass its
// schema for their component, are retained, and make one device whose
// entities read fields the state has.
func TestDiscoveryAgainstBroker(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	r.camera.capture(time.Now(), nil)
	b, _ := r.run(t)
	want := append(configTopics(testDevice, wantEntities), base+"/availability", base+"/state", base+"/snapshot")
	settled(t, b, len(want))
	got := retainedNow(t, br.URL(), want)
	for topic, m := range got {
		if !m.Retained {
			t.Errorf("%s: not retained", topic)
		}
	}
	if a := got[base+"/availability"]; string(a.Payload) != "online" {
		t.Errorf("availability = %q", a.Payload)
	}
	if s := got[base+"/snapshot"]; !strings.HasPrefix(string(s.Payload), "\xff\xd8") {
		t.Errorf("snapshot = %q, want the JPEG", s.Payload)
	}
	var state map[string]any
	if err := json.Unmarshal(got[base+"/state"].Payload, &state); err != nil {
		t.Fatal(err)
	}

	var entities []string
	uniq := map[string]string{}
	var device map[string]any
	field := regexp.MustCompile(`value_json\.([a-z_0-9]+)`)
	for topic, m := range got {
		parts := strings.Split(topic, "/")
		if parts[0] != "homeassistant" {
			continue
		}
		if len(parts) != 5 || parts[2] != testDevice || parts[4] != "config" {
			t.Errorf("discovery topic %s: want homeassistant/<component>/%s/<entity>/config", topic, testDevice)
			continue
		}
		entities = append(entities, parts[1]+"/"+parts[3])
		var cfg map[string]any
		if err := json.Unmarshal(m.Payload, &cfg); err != nil {
			t.Errorf("%s: %v", topic, err)
			continue
		}
		for _, p := range checkConfig(parts[1], cfg) {
			t.Errorf("%s: %s", topic, p)
		}
		id, _ := cfg["unique_id"].(string)
		if prev, dup := uniq[id]; dup {
			t.Errorf("unique_id %q on %s and %s", id, prev, topic)
		}
		uniq[id] = topic
		if cfg["availability_topic"] != base+"/availability" || cfg["payload_available"] != "online" || cfg["payload_not_available"] != "offline" {
			t.Errorf("%s: availability %v %v %v", topic, cfg["availability_topic"], cfg["payload_available"], cfg["payload_not_available"])
		}
		dev, _ := cfg["device"].(map[string]any)
		if device == nil {
			device = dev
		} else if fmt.Sprint(dev) != fmt.Sprint(device) {
			t.Errorf("%s: another device %v", topic, dev)
		}
		for _, k := range []string{"value_template", "json_attributes_template"} {
			if tpl, ok := cfg[k].(string); ok {
				for _, f := range field.FindAllStringSubmatch(tpl, -1) {
					if _, ok := state[f[1]]; !ok {
						t.Errorf("%s: %s reads %s, which the state %s lacks", topic, k, f[1], got[base+"/state"].Payload)
					}
				}
			}
		}
		for _, k := range []string{"state_topic", "json_attributes_topic"} {
			if v, ok := cfg[k]; ok && v != base+"/state" {
				t.Errorf("%s: %s = %v", topic, k, v)
			}
		}
		if v, ok := cfg["command_topic"].(string); ok && !strings.HasPrefix(v, base+"/cmd/") {
			t.Errorf("%s: command_topic %s", topic, v)
		}
	}
	slices.Sort(entities)
	if !slices.Equal(entities, wantEntities) {
		t.Errorf("entities\n got %v\nwant %v", entities, wantEntities)
	}
	wantDev := map[string]any{"identifiers": []any{testDevice}, "name": "attic", "manufacturer": "tinkerbox", "model": "tinkerbox",
		"sw_version": "v1.2.3", "configuration_url": "http://attic.local/"}
	if fmt.Sprint(device) != fmt.Sprint(wantDev) {
		t.Errorf("device %v\nwant %v", device, wantDev)
	}
	wantState := `{"cards":412,"collection_usd":1234.57,"last_motion":"` + state["last_motion"].(string) + `","motion":"ON",` +
		`"pressure_hpa":1013.3,"print_queue":0,"printer":"ready","scene":"comic","temperature_c":21.4,"tendency_hpa":-1.9,"warning":"watch"}`
	if s := string(got[base+"/state"].Payload); s != wantState {
		t.Errorf("state %s\nwant  %s", s, wantState)
	}
}

// The schema check is not an empty sieve: it finds what Home Assistant
// would refuse or silently drop.
func TestSchemaCheckCatchesMistakes(t *testing.T) {
	for _, tt := range []struct {
		component, cfg, want string
	}{
		{"sensor", `{"unique_id":"a","state_topic":"s","device_class":"temperature","unit_of_measurement":"hPa"}`, "does not take unit"},
		{"sensor", `{"unique_id":"a","state_topic":"s","device_class":"monetary","unit_of_measurement":"USD","state_class":"measurement"}`, "does not take state_class"},
		{"sensor", `{"unique_id":"a","state_topic":"s","device_class":"enum","options":["x"],"unit_of_measurement":"x"}`, "options cannot go with"},
		{"sensor", `{"unique_id":"a","state_topic":"s","options":["x"]}`, "options need device_class enum"},
		{"sensor", `{"unique_id":"a","stat_t":"s"}`, `unknown key "stat_t"`},
		{"sensor", `{"unique_id":"a"}`, `missing required key "state_topic"`},
		{"sensor", `{"state_topic":"s"}`, "no unique_id"},
		{"select", `{"unique_id":"a","command_topic":"c/+"}`, "no wildcards"},
		{"select", `{"unique_id":"a","command_topic":"c"}`, `missing required key "options"`},
		{"button", `{"unique_id":"a","command_topic":"c","device_class":"motion"}`, "device_class: want one of"},
		{"image", `{"unique_id":"a","image_topic":"i","url_topic":"u"}`, "exactly one"},
		{"binary_sensor", `{"unique_id":"a","state_topic":"s","device":{"name":"x"}}`, "needs identifiers"},
		{"binary_sensor", `{"unique_id":"a","state_topic":"s","icon":"thermometer"}`, "want an icon"},
	} {
		var cfg map[string]any
		if err := json.Unmarshal([]byte(tt.cfg), &cfg); err != nil {
			t.Fatal(err)
		}
		if probs := checkConfig(tt.component, cfg); !strings.Contains(strings.Join(probs, "; "), tt.want) {
			t.Errorf("%s %s: problems %q, want %q", tt.component, tt.cfg, probs, tt.want)
		}
	}
}

// A tinkerbox without a barometer, cards, comic or spy-cam offers only
// what it has, and its state has no fields for the rest.
func TestEntitiesFollowFeatures(t *testing.T) {
	o := newRig("mqtt://127.0.0.1:1").o
	o.Strips, o.Weather, o.Cards, o.Camera = nil, nil, nil, nil
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range b.entities([]string{"comic"}) {
		got = append(got, e.component+"/"+e.key)
		var cfg map[string]any
		json.Unmarshal(b.config(e), &cfg)
		for _, p := range checkConfig(e.component, cfg) {
			t.Errorf("%s/%s: %s", e.component, e.key, p)
		}
	}
	want := []string{"select/scene", "button/button_a", "button/button_b", "sensor/printer", "sensor/print_queue"}
	if !slices.Equal(got, want) {
		t.Errorf("entities %v, want %v", got, want)
	}
	if s := string(b.encode(reading{app: AppStatus{Scene: "comic", Printer: "not connected"}}, time.Now())); s != `{"print_queue":0,"printer":"not connected","scene":"comic"}` {
		t.Errorf("state %s", s)
	}
}

// Unknown values are null (Home Assistant: unknown), never missing.
func TestStateUnknownIsNull(t *testing.T) {
	r := newRig("mqtt://127.0.0.1:1")
	b, err := New(r.o)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b.encode(reading{app: AppStatus{Scene: "spycam", Printer: "ready"}, weather: &Weather{}}, time.Now()))
	want := `{"cards":null,"collection_usd":null,"last_motion":null,"motion":"OFF","pressure_hpa":null,"print_queue":0,"printer":"ready",` +
		`"scene":"spycam","temperature_c":null,"tendency_hpa":null,"warning":null}`
	if got != want {
		t.Errorf("state\n got %s\nwant %s", got, want)
	}
}

// Commands from Home Assistant reach the appliance and the state shows
// their effect; the buttons send what their discovery config says.
func TestCommandRoundTrip(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	b, _ := r.run(t)
	eventually(t, "connected", func() bool { return b.Status().State == StateConnected })
	ha := brokertest.Watch(t, br.URL(), base+"/state")
	eventually(t, "first state", func() bool { return stateOf(t, ha, base) != nil })

	ha.Publish(base+"/cmd/scene", "barometer", false)
	eventually(t, "scene switched", func() bool { return r.app.get().scene == "barometer" })
	eventually(t, "state shows barometer", func() bool { return stateOf(t, ha, base)["scene"] == "barometer" })

	ha.Publish(base+"/cmd/button_a", "short", false)
	ha.Publish(base+"/cmd/button_b", "long", false)
	ha.Publish(base+"/cmd/print", "PRESS", false)
	ha.Publish(base+"/cmd/snapshot", "PRESS", false)
	eventually(t, "presses", func() bool { return len(r.app.get().presses) == 2 })
	if p := r.app.get().presses; !slices.Equal(p, []string{"A:short", "B:long"}) {
		t.Errorf("presses %v", p)
	}
	eventually(t, "strip printed", func() bool { return r.strips.count() == 1 })
	eventually(t, "snapshot taken", func() bool { return r.camera.snapshots() == 1 })

	r.app.set(func(a *fakeApp) { a.queue = 3 })
	eventually(t, "queue in the state", func() bool { return stateOf(t, ha, base)["print_queue"] == 3.0 })
}

// A payload a command does not take is ignored with one log line, and
// nothing reaches the appliance.
func TestBadPayloadsIgnored(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	r := newRig(br.URL())
	r.strips.refusal = fmt.Errorf("the comic scene is not running (barometer is): switch to comic first")
	b, _ := r.run(t)
	eventually(t, "connected", func() bool { return b.Status().State == StateConnected })
	ha := brokertest.Watch(t, br.URL())
	bad := []struct{ topic, payload, why string }{
		{"scene", "disco", `unknown scene \"disco\"`},
		{"button_a", "sideways", `unknown press \"sideways\"`},
		{"snapshot", "yes please", `want \"PRESS\"`},
		{"print", "PRESS", "the comic scene is not running"},
		{"launch", "now", `unknown command \"launch\"`},
	}
	for _, c := range bad {
		ha.Publish(base+"/cmd/"+c.topic, c.payload, false)
	}
	eventually(t, "a line for each", func() bool { return countLines(r.logs.String(), "command ignored") == len(bad) })
	logs := r.logs.String()
	for _, c := range bad {
		if !strings.Contains(logs, c.why) {
			t.Errorf("no line says %s:\n%s", c.why, logs)
		}
	}
	ha.Publish(base+"/cmd/scene", strings.Repeat("x", 300), false)
	eventually(t, "one more line", func() bool { return countLines(r.logs.String(), "command ignored") == len(bad)+1 })
	if !strings.Contains(r.logs.String(), "payload of 300 bytes") {
		t.Errorf("oversized payload not named:\n%s", r.logs.String())
	}
	if a := r.app.get(); a.scene != "comic" || len(a.presses) != 0 || r.camera.snapshots() != 0 {
		t.Errorf("a bad command got through: scene %s, presses %v, snapshots %d", a.scene, a.presses, r.camera.snapshots())
	}
}

// A retained command would run again at every reconnection: it is
// refused (a live one, which the broker forwards without the flag, is an
// ordinary command).
func TestRetainedCommandRefused(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	ha := brokertest.Watch(t, br.URL())
	ha.Publish(base+"/cmd/scene", "barometer", true)
	t.Cleanup(func() { ha.Publish(base+"/cmd/scene", "", true) })
	r := newRig(br.URL())
	r.run(t)
	eventually(t, "refused", func() bool { return strings.Contains(r.logs.String(), "retained: commands must not be") })
	if s := r.app.get().scene; s != "comic" {
		t.Errorf("scene %s: the retained command ran", s)
	}
}

// A flood of bad payloads makes a few lines a minute, then a count.
func TestComplaintsAreLimited(t *testing.T) {
	r := newRig("mqtt://127.0.0.1:1")
	clk := newStepClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	r.o.Clock = clk
	b, err := New(r.o)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		b.refuse(inbound{topic: base + "/cmd/scene", payload: []byte("x")}, "unknown scene")
	}
	clk.Advance(time.Minute)
	b.refuse(inbound{topic: base + "/cmd/scene", payload: []byte("x")}, "unknown scene")
	logs := r.logs.String()
	if n := countLines(logs, "command ignored"); n != complaintsPerMinute+1 {
		t.Errorf("%d lines, want %d:\n%s", n, complaintsPerMinute+1, logs)
	}
	if !strings.Contains(logs, "more commands ignored") || !strings.Contains(logs, "count=90") {
		t.Errorf("no count of the hidden ones:\n%s", logs)
	}
}

// Home Assistant restarting (its birth message) and a stale config of an
// entity this device no longer has.
func TestBirthAndStaleEntities(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{})
	ha := brokertest.Watch(t, br.URL(), "homeassistant/#")
	stale := "homeassistant/sensor/" + testDevice + "/humidity/config"
	ha.Publish(stale, `{"name":"Humidity","state_topic":"x"}`, true)
	r := newRig(br.URL())
	b, _ := r.run(t)
	eventually(t, "connected", func() bool { return b.Status().State == StateConnected })
	eventually(t, "stale config removed", func() bool {
		m, ok := ha.Last(stale)
		return ok && len(m.Payload) == 0
	})
	for _, m := range retainedNow(t, br.URL(), configTopics(testDevice, wantEntities)) {
		if m.Topic == stale {
			t.Errorf("stale config still retained")
		}
	}

	// Someone deletes a config; Home Assistant restarts and asks again.
	scene := "homeassistant/select/" + testDevice + "/scene/config"
	ha.Publish(scene, "", true)
	sent := b.Status().Sent
	ha.Publish("homeassistant/status", "online", false)
	eventually(t, "configs again", func() bool { return b.Status().Sent >= sent+uint64(len(wantEntities)) })
	retainedNow(t, br.URL(), []string{scene})
}
