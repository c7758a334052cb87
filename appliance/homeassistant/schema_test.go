package homeassistant

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// This file checks discovery configs the way Home Assistant's MQTT
// integration validates them (homeassistant/components/mqtt: the shared
// entity, availability and device schemas and each platform's
// DISCOVERY_SCHEMA, and sensor/const.py's device class tables), written
// out from its documentation and source for the five components the bridge
// uses, with full key names. Home Assistant drops unknown keys
// silently (REMOVE_EXTRA), so an unknown key here is a typo that would
// silently lose a setting.

// haKey is one key a component takes.
type haKey struct {
	required bool
	check    func(v any) error
}

var (
	anyString   = func(v any) error { return isType[string](v) }
	anyBool     = func(v any) error { return isType[bool](v) }
	anyTemplate = func(v any) error {
		s, ok := v.(string)
		if !ok || !strings.Contains(s, "{{") {
			return fmt.Errorf("want a template, got %v", v)
		}
		return nil
	}
	positiveInt = func(v any) error {
		f, ok := v.(float64)
		if !ok || f < 0 || f != float64(int(f)) {
			return fmt.Errorf("want a positive integer, got %v", v)
		}
		return nil
	}
	qos = func(v any) error {
		if f, ok := v.(float64); !ok || (f != 0 && f != 1 && f != 2) {
			return fmt.Errorf("want 0, 1 or 2, got %v", v)
		}
		return nil
	}
	stringList = func(v any) error {
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want a list, got %v", v)
		}
		for _, e := range l {
			if err := anyString(e); err != nil {
				return err
			}
		}
		return nil
	}
	oneOf = func(vals ...string) func(any) error {
		return func(v any) error {
			if s, ok := v.(string); !ok || !slices.Contains(vals, s) {
				return fmt.Errorf("want one of %v, got %v", vals, v)
			}
			return nil
		}
	}
	icon = func(v any) error {
		if s, ok := v.(string); !ok || !regexp.MustCompile(`^[a-z0-9-]+:[a-z0-9-]+$`).MatchString(s) {
			return fmt.Errorf("want an icon like mdi:thermometer, got %v", v)
		}
		return nil
	}
)

func isType[T any](v any) error {
	if _, ok := v.(T); !ok {
		var z T
		return fmt.Errorf("want %T, got %v", z, v)
	}
	return nil
}

// subscribeTopic and publishTopic are Home Assistant's valid_subscribe_topic
// and valid_publish_topic.
func subscribeTopic(v any) error {
	s, ok := v.(string)
	switch {
	case !ok || s == "":
		return fmt.Errorf("want a topic, got %v", v)
	case len(s) > 65535 || strings.ContainsRune(s, 0):
		return fmt.Errorf("invalid topic %q", s)
	}
	for i, level := range strings.Split(s, "/") {
		if strings.ContainsAny(level, "+#") && level != "+" && level != "#" {
			return fmt.Errorf("topic %q: a wildcard must fill its level", s)
		}
		if level == "#" && i != strings.Count(s, "/") {
			return fmt.Errorf("topic %q: # only at the end", s)
		}
	}
	return nil
}

func publishTopic(v any) error {
	if err := subscribeTopic(v); err != nil {
		return err
	}
	if s := v.(string); strings.ContainsAny(s, "+#") {
		return fmt.Errorf("topic %q: no wildcards in a publish topic", s)
	}
	return nil
}

// MQTT_ENTITY_COMMON_SCHEMA, with the availability keys and MQTT's base
// (qos, encoding).
func commonKeys() map[string]haKey {
	return map[string]haKey{
		"availability_topic":       {check: subscribeTopic},
		"availability_template":    {check: anyTemplate},
		"availability_mode":        {check: oneOf("all", "any", "latest")},
		"availability":             {check: func(v any) error { return isType[[]any](v) }},
		"payload_available":        {check: anyString},
		"payload_not_available":    {check: anyString},
		"device":                   {check: checkDevice},
		"origin":                   {check: checkOrigin},
		"enabled_by_default":       {check: anyBool},
		"entity_category":          {check: oneOf("config", "diagnostic")},
		"icon":                     {check: icon},
		"json_attributes_topic":    {check: subscribeTopic},
		"json_attributes_template": {check: anyTemplate},
		"object_id":                {check: anyString},
		"default_entity_id":        {check: anyString},
		"unique_id":                {check: anyString},
		"name":                     {check: anyString},
		"qos":                      {check: qos},
		"encoding":                 {check: anyString},
	}
}

// Sensor device classes (SensorDeviceClass) and binary ones.
var sensorClasses = strings.Fields(`date enum timestamp apparent_power aqi area atmospheric_pressure battery
	blood_glucose_concentration carbon_monoxide carbon_dioxide conductivity current data_rate data_size
	distance duration energy energy_distance energy_storage frequency gas humidity illuminance irradiance
	moisture monetary nitrogen_dioxide nitrogen_monoxide nitrous_oxide ozone ph pm1 pm10 pm25 power_factor
	power precipitation precipitation_intensity pressure reactive_power signal_strength sound_pressure speed
	sulphur_dioxide temperature volatile_organic_compounds volatile_organic_compounds_parts voltage volume
	volume_storage volume_flow_rate water weight wind_direction wind_speed`)

var binaryClasses = strings.Fields(`battery battery_charging carbon_monoxide cold connectivity door garage_door
	gas heat light lock moisture motion moving occupancy opening plug power presence problem running safety
	smoke sound tamper update vibration window`)

// sensorUnits are DEVICE_CLASS_UNITS for the classes the bridge uses;
// monetary takes an ISO 4217 code.
var sensorUnits = map[string][]string{
	"atmospheric_pressure": {"Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "inH2O", "psi"},
	"pressure":             {"Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "inH2O", "psi"},
	"temperature":          {"°C", "°F", "K"},
}

// sensorStateClasses are DEVICE_CLASS_STATE_CLASSES for those classes.
var sensorStateClasses = map[string][]string{
	"atmospheric_pressure": {"measurement"},
	"pressure":             {"measurement"},
	"temperature":          {"measurement"},
	"monetary":             {"total"},
	"enum":                 {},
	"timestamp":            {},
	"date":                 {},
}

// components are the platforms' own keys.
var components = map[string]map[string]haKey{
	componentSensor: {
		"state_topic":                 {required: true, check: subscribeTopic},
		"value_template":              {check: anyTemplate},
		"device_class":                {check: oneOf(sensorClasses...)},
		"expire_after":                {check: positiveInt},
		"force_update":                {check: anyBool},
		"last_reset_value_template":   {check: anyTemplate},
		"options":                     {check: stringList},
		"suggested_display_precision": {check: positiveInt},
		"state_class":                 {check: oneOf("measurement", "measurement_angle", "total", "total_increasing")},
		"unit_of_measurement":         {check: anyString},
	},
	componentBinarySensor: {
		"state_topic":    {required: true, check: subscribeTopic},
		"value_template": {check: anyTemplate},
		"device_class":   {check: oneOf(binaryClasses...)},
		"expire_after":   {check: positiveInt},
		"force_update":   {check: anyBool},
		"off_delay":      {check: positiveInt},
		"payload_on":     {check: anyString},
		"payload_off":    {check: anyString},
	},
	componentSelect: {
		"command_topic":    {required: true, check: publishTopic},
		"command_template": {check: anyTemplate},
		"optimistic":       {check: anyBool},
		"retain":           {check: anyBool},
		"state_topic":      {check: subscribeTopic},
		"value_template":   {check: anyTemplate},
		"options":          {required: true, check: stringList},
	},
	componentButton: {
		"command_topic":    {required: true, check: publishTopic},
		"command_template": {check: anyTemplate},
		"device_class":     {check: oneOf("identify", "restart", "update")},
		"payload_press":    {check: anyString},
		"retain":           {check: anyBool},
	},
	componentImage: {
		"image_topic":    {check: subscribeTopic},
		"url_topic":      {check: subscribeTopic},
		"content_type":   {check: anyString},
		"image_encoding": {check: oneOf("b64", "raw")},
		"url_template":   {check: anyTemplate},
	},
}

var deviceKeys = []string{"identifiers", "connections", "manufacturer", "model", "model_id", "name", "hw_version",
	"serial_number", "sw_version", "via_device", "suggested_area", "configuration_url"}

func checkDevice(v any) error {
	d, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("device: want an object")
	}
	for k, val := range d {
		if !slices.Contains(deviceKeys, k) {
			return fmt.Errorf("device: unknown key %q", k)
		}
		switch k {
		case "identifiers":
			if err := stringList(val); err != nil {
				return fmt.Errorf("device.identifiers: %w", err)
			}
		case "connections":
		case "configuration_url":
			if s, ok := val.(string); !ok || !regexp.MustCompile(`^(https?|homeassistant)://`).MatchString(s) {
				return fmt.Errorf("device.configuration_url: want an http(s) URL, got %v", val)
			}
		default:
			if err := anyString(val); err != nil {
				return fmt.Errorf("device.%s: %w", k, err)
			}
		}
	}
	ids, _ := d["identifiers"].([]any)
	if len(ids) == 0 && d["connections"] == nil {
		return fmt.Errorf("device: needs identifiers or connections")
	}
	return nil
}

func checkOrigin(v any) error {
	o, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("origin: want an object")
	}
	if _, ok := o["name"].(string); !ok {
		return fmt.Errorf("origin: name is required")
	}
	for k := range o {
		if !slices.Contains([]string{"name", "sw_version", "support_url"}, k) {
			return fmt.Errorf("origin: unknown key %q", k)
		}
	}
	return nil
}

// checkConfig validates one discovery payload for component, as Home
// Assistant would, and returns every problem.
func checkConfig(component string, cfg map[string]any) []string {
	own, ok := components[component]
	if !ok {
		return []string{"unknown component " + component}
	}
	keys := commonKeys()
	for k, v := range own {
		keys[k] = v
	}
	var probs []string
	for k, v := range cfg {
		key, ok := keys[k]
		if !ok {
			probs = append(probs, fmt.Sprintf("unknown key %q (Home Assistant drops it)", k))
			continue
		}
		if err := key.check(v); err != nil {
			probs = append(probs, fmt.Sprintf("%s: %v", k, err))
		}
	}
	for k, key := range keys {
		if _, ok := cfg[k]; key.required && !ok {
			probs = append(probs, fmt.Sprintf("missing required key %q", k))
		}
	}
	if _, ok := cfg["availability"]; ok && cfg["availability_topic"] != nil {
		probs = append(probs, "availability and availability_topic are exclusive")
	}
	if _, ok := cfg["unique_id"]; !ok {
		probs = append(probs, "no unique_id: the entity could not be edited in Home Assistant")
	}
	switch component {
	case componentSensor:
		probs = append(probs, checkSensor(cfg)...)
	case componentImage:
		_, img := cfg["image_topic"]
		_, url := cfg["url_topic"]
		if img == url {
			probs = append(probs, "want exactly one of image_topic and url_topic")
		}
		if _, ct := cfg["content_type"]; ct && url {
			probs = append(probs, "content_type cannot go with url_topic")
		}
	}
	return probs
}

// checkSensor is validate_sensor_state_and_device_class_config plus the
// sensor platform's unit and state class tables.
func checkSensor(cfg map[string]any) []string {
	var probs []string
	dc, _ := cfg["device_class"].(string)
	sc, hasSC := cfg["state_class"].(string)
	unit, hasUnit := cfg["unit_of_measurement"].(string)
	if opts, ok := cfg["options"]; ok {
		if l, _ := opts.([]any); len(l) == 0 {
			probs = append(probs, "options: an empty list is not allowed")
		}
		if hasSC || hasUnit {
			probs = append(probs, "options cannot go with state_class or unit_of_measurement")
		}
		if dc != "enum" {
			probs = append(probs, "options need device_class enum")
		}
	}
	if _, ok := cfg["last_reset_value_template"]; ok && sc != "total" {
		probs = append(probs, "last_reset_value_template needs state_class total")
	}
	if dc == "enum" || dc == "timestamp" || dc == "date" {
		if hasUnit {
			probs = append(probs, "a non-numeric device class takes no unit")
		}
	}
	if units, ok := sensorUnits[dc]; ok && (!hasUnit || !slices.Contains(units, unit)) {
		probs = append(probs, fmt.Sprintf("device_class %s does not take unit %q (want one of %v)", dc, unit, units))
	}
	if dc == "monetary" && !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(unit) {
		probs = append(probs, fmt.Sprintf("device_class monetary wants an ISO 4217 currency, got %q", unit))
	}
	if classes, ok := sensorStateClasses[dc]; ok && hasSC && !slices.Contains(classes, sc) {
		probs = append(probs, fmt.Sprintf("device_class %s does not take state_class %s (want one of %v)", dc, sc, classes))
	}
	return probs
}
