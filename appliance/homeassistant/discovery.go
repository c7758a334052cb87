package homeassistant

import (
	"encoding/json"
	"slices"
)

// Home Assistant component names, as in discovery topics.
const (
	componentSensor       = "sensor"
	componentBinarySensor = "binary_sensor"
	componentSelect       = "select"
	componentButton       = "button"
	componentImage        = "image"
)

// Commands, under <base>/cmd/.
const (
	cmdScene    = "scene"
	cmdButtonA  = "button_a"
	cmdButtonB  = "button_b"
	cmdPrint    = "print"
	cmdSnapshot = "snapshot"
)

// pressPayload is what a Home Assistant button sends unless told otherwise.
const pressPayload = "PRESS"

// entity is one Home Assistant entity of the device. Discovery configs use
// the full key names, which every Home Assistant version accepts, rather
// than the abbreviations.
type entity struct {
	component string
	key       string         // object id: unique within the device
	config    map[string]any // the component's own keys
}

// topics are the bridge's topics, all under the base topic but discovery.
type topics struct {
	base, prefix, node string
}

func (t topics) state() string        { return t.base + "/state" }
func (t topics) availability() string { return t.base + "/availability" }
func (t topics) image() string        { return t.base + "/snapshot" }
func (t topics) commands() string     { return t.base + "/cmd/+" }
func (t topics) command(c string) string {
	return t.base + "/cmd/" + c
}

// haStatus is Home Assistant's birth and last-will topic: "online" when it
// (re)starts, the moment to publish the discovery configs again.
func (t topics) haStatus() string { return t.prefix + "/status" }

// discovery is the config topic of e; ownConfigs matches all of this
// device's.
func (t topics) discovery(e entity) string {
	return t.prefix + "/" + e.component + "/" + t.node + "/" + e.key + "/config"
}
func (t topics) ownConfigs() string { return t.prefix + "/+/" + t.node + "/+/config" }

// entities lists what the device offers, given what the appliance has.
func (b *Bridge) entities(scenes []string) []entity {
	t := b.topics
	state := func(cfg map[string]any) map[string]any {
		cfg["state_topic"] = t.state()
		return cfg
	}
	var es []entity
	add := func(component, key string, cfg map[string]any) {
		es = append(es, entity{component, key, cfg})
	}
	if b.o.Weather != nil {
		add(componentSensor, "pressure", state(map[string]any{
			"name": "Sea-level pressure", "value_template": "{{ value_json.pressure_hpa }}",
			"device_class": "atmospheric_pressure", "unit_of_measurement": "hPa", "state_class": "measurement",
			"suggested_display_precision": 1,
		}))
		add(componentSensor, "tendency", state(map[string]any{
			"name": "Pressure tendency (3 h)", "value_template": "{{ value_json.tendency_hpa }}",
			"device_class": "atmospheric_pressure", "unit_of_measurement": "hPa", "state_class": "measurement",
			"suggested_display_precision": 1, "icon": "mdi:chart-line",
		}))
		add(componentSensor, "temperature", state(map[string]any{
			"name": "Temperature", "value_template": "{{ value_json.temperature_c }}",
			"device_class": "temperature", "unit_of_measurement": "°C", "state_class": "measurement",
			"suggested_display_precision": 1,
		}))
		add(componentSensor, "warning", state(map[string]any{
			"name": "Storm warning", "value_template": "{{ value_json.warning }}",
			"device_class": "enum", "options": WarningLevels(), "icon": "mdi:weather-lightning",
		}))
	}
	add(componentSelect, "scene", state(map[string]any{
		"name": "Scene", "value_template": "{{ value_json.scene }}", "command_topic": t.command(cmdScene),
		"options": slices.Clone(scenes), "icon": "mdi:palette",
	}))
	add(componentButton, "button_a", map[string]any{
		"name": "Button A", "command_topic": t.command(cmdButtonA), "payload_press": "short", "icon": "mdi:alpha-a-circle",
	})
	add(componentButton, "button_b", map[string]any{
		"name": "Button B", "command_topic": t.command(cmdButtonB), "payload_press": "short", "icon": "mdi:alpha-b-circle",
	})
	add(componentSensor, "printer", state(map[string]any{
		"name": "Printer", "value_template": "{{ value_json.printer }}", "icon": "mdi:printer",
	}))
	add(componentSensor, "print_queue", state(map[string]any{
		"name": "Print queue", "value_template": "{{ value_json.print_queue }}",
		"unit_of_measurement": "strips", "state_class": "measurement", "icon": "mdi:tray-full",
	}))
	if b.o.Strips != nil {
		add(componentButton, "print", map[string]any{
			"name": "Print a strip", "command_topic": t.command(cmdPrint), "payload_press": pressPayload, "icon": "mdi:printer-pos",
		})
	}
	if b.o.Cards != nil {
		add(componentSensor, "cards", state(map[string]any{
			"name": "Cards", "value_template": "{{ value_json.cards }}",
			"unit_of_measurement": "cards", "state_class": "measurement", "icon": "mdi:cards",
		}))
		add(componentSensor, "collection_value", state(map[string]any{
			"name": "Collection value", "value_template": "{{ value_json.collection_usd }}",
			"device_class": "monetary", "unit_of_measurement": "USD", "state_class": "total",
			"suggested_display_precision": 2,
		}))
	}
	if b.o.Camera != nil {
		add(componentBinarySensor, "motion", state(map[string]any{
			"name": "Motion", "value_template": "{{ value_json.motion }}", "device_class": "motion",
			"payload_on": "ON", "payload_off": "OFF",
			"json_attributes_topic":    t.state(),
			"json_attributes_template": "{{ {'last_motion': value_json.last_motion} | tojson }}",
		}))
		// image_topic, not url_topic: Home Assistant would fetch a URL
		// without the page's password, and the snapshot is behind it.
		add(componentImage, "snapshot", map[string]any{
			"name": "Snapshot", "image_topic": t.image(), "content_type": "image/jpeg",
		})
		add(componentButton, "take_snapshot", map[string]any{
			"name": "Take a snapshot", "command_topic": t.command(cmdSnapshot), "payload_press": pressPayload, "icon": "mdi:camera",
		})
	}
	return es
}

// config is e's discovery payload: its keys plus those every entity has.
func (b *Bridge) config(e entity) []byte {
	d := b.o.Device
	cfg := map[string]any{
		"unique_id":             d.ID + "_" + e.key,
		"availability_topic":    b.topics.availability(),
		"payload_available":     payloadOnline,
		"payload_not_available": payloadOffline,
		"qos":                   1,
		"device":                b.device(),
		"origin":                map[string]any{"name": "tinkerbox", "sw_version": d.Version},
	}
	for k, v := range e.config {
		cfg[k] = v
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		panic("homeassistant: discovery config: " + err.Error()) // only strings, numbers and lists
	}
	return out
}

func (b *Bridge) device() map[string]any {
	d := b.o.Device
	dev := map[string]any{
		"identifiers":  []string{d.ID},
		"name":         d.Name,
		"manufacturer": "tinkerbox",
		"model":        "tinkerbox",
		"sw_version":   d.Version,
	}
	if d.URL != "" {
		dev["configuration_url"] = d.URL
	}
	return dev
}
