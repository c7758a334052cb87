package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// mqttApp is an appliance with a Home Assistant link.
type mqttApp struct {
	*fakeApp
	mu    sync.Mutex
	form  MQTTForm
	pw    string
	state MQTTState
	saves int
	fail  error
}

func newMQTTApp() *mqttApp {
	since := testStart.Add(-time.Hour)
	return &mqttApp{
		fakeApp: newFakeApp(),
		form:    MQTTForm{Enabled: true, Broker: "mqtt://ha.lan:1883", User: "box", DiscoveryPrefix: "homeassistant", DefaultBaseTopic: "tinkerbox/attic", File: "/boot/tinkerbox.toml"},
		pw:      "s3cr3t-old",
		state:   MQTTState{State: MQTTConnected, Since: &since, Broker: "mqtt://ha.lan:1883", Queued: 2, Dropped: 5, Replaced: 7},
	}
}

// State carries the link, as the appliance's does.
func (m *mqttApp) State() State {
	s := m.fakeApp.State()
	st := m.MQTTState()
	s.MQTT = &st
	return s
}

func (m *mqttApp) MQTTSettings() MQTTForm {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.form
	f.PasswordSet = m.pw != ""
	return f
}

func (m *mqttApp) MQTTState() MQTTState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

func (m *mqttApp) SaveMQTT(ctx context.Context, f MQTTForm) (MQTTForm, error) {
	m.mu.Lock()
	if m.fail != nil {
		m.mu.Unlock()
		return MQTTForm{}, m.fail
	}
	if f.Enabled && f.Broker == "" {
		m.mu.Unlock()
		return MQTTForm{}, &SettingsError{errors.New("config: mqtt.broker: must be set when mqtt.enabled is true")}
	}
	m.saves++
	if f.Password != nil {
		m.pw = *f.Password
	}
	m.form.Enabled, m.form.Broker, m.form.User, m.form.BaseTopic, m.form.DiscoveryPrefix = f.Enabled, f.Broker, f.User, f.BaseTopic, f.DiscoveryPrefix
	m.state.State = MQTTConnecting
	m.mu.Unlock()
	return m.MQTTSettings(), nil
}

func newMQTTFixture(t *testing.T) (*fixture, *mqttApp) {
	t.Helper()
	app := newMQTTApp()
	f := newFixture(t, func(o *Options) { o.App = app })
	f.srv.MountMQTT()
	return f, app
}

func TestMQTTSettingsPage(t *testing.T) {
	f, app := newMQTTFixture(t)
	sess, _ := f.login()
	r := req("GET", "/settings", "")
	r.AddCookie(sess)
	w := f.do(r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /settings = %d", w.Code)
	}
	b := w.Body.String()
	for _, want := range []string{
		`<h2 id="mqtt-h">Home Assistant (MQTT)</h2>`,
		`<span id="mqtt-state" class="mqtt-state" data-state="connected">Connected since 2026-03-14 14:09:26 UTC</span>`,
		`<dd id="mqtt-queue">2 messages · 5 dropped · 7 replaced by newer</dd>`,
		`<input id="mqtt-enabled" name="enabled" type="checkbox" checked>`,
		`value="mqtt://ha.lan:1883"`, `value="box"`, `placeholder="unchanged"`, `placeholder="tinkerbox/attic"`,
		`value="homeassistant"`, `Saved to /boot/tinkerbox.toml.`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("settings page lacks %s", want)
		}
	}
	if strings.Contains(b, "s3cr3t") {
		t.Error("the page shows the password")
	}

	// Down, with a password from a file: the page says so.
	since, next := testStart, testStart.Add(8*time.Second)
	app.mu.Lock()
	app.state = MQTTState{State: MQTTDown, Since: &since, NextTry: &next, LastError: "connection refused", LastErrorAt: &since}
	app.form.PasswordFile = "/data/mqtt-password"
	app.mu.Unlock()
	w = f.do(r)
	b = w.Body.String()
	for _, want := range []string{
		`data-state="down">Down since 2026-03-14 15:09:26 UTC · next try 2026-03-14 15:09:34 UTC</span>`,
		`<dd id="mqtt-error">connection refused (2026-03-14 15:09:26 UTC)</dd>`,
		`type="password" autocomplete="new-password" disabled`, `Read from /data/mqtt-password`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("settings page lacks %s", want)
		}
	}

	// Without a link there is no section.
	plain := newFixture(t)
	sess, _ = plain.login()
	r = req("GET", "/settings", "")
	r.AddCookie(sess)
	if b := plain.do(r).Body.String(); strings.Contains(b, `id="mqtt"`) {
		t.Error("an appliance without MQTT shows the section")
	}
}

func TestMQTTAPI(t *testing.T) {
	f, app := newMQTTFixture(t)
	get := f.do(basic(req("GET", "/api/mqtt", "")))
	if get.Code != http.StatusOK {
		t.Fatalf("GET /api/mqtt = %d %s", get.Code, get.Body)
	}
	var got mqttJSON
	if err := json.Unmarshal(get.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Settings.PasswordSet || got.Settings.Password != nil || strings.Contains(get.Body.String(), "s3cr3t") {
		t.Errorf("GET shows the password or hides that one is set: %s", get.Body)
	}
	if got.Status.State != MQTTConnected || got.Status.Dropped != 5 {
		t.Errorf("status %+v", got.Status)
	}

	// The stream's state has the link.
	st := f.do(basic(req("GET", "/api/state", "")))
	if !strings.Contains(st.Body.String(), `"mqtt":{"state":"connected"`) {
		t.Errorf("state without mqtt: %s", st.Body)
	}

	sess, csrf := f.login()
	post := func(body string, edit func(r *http.Request)) *http.Request {
		r := req("POST", "/api/mqtt", body)
		r.AddCookie(sess)
		r.Header.Set("X-CSRF-Token", csrf)
		if edit != nil {
			edit(r)
		}
		return r
	}
	body := `{"enabled":true,"broker":"mqtts://ha.lan","user":"tb","base_topic":"boat/baro","discovery_prefix":"homeassistant"}`

	// The API's rules: a session needs its CSRF token; a body must be JSON;
	// without credentials nothing.
	for _, c := range []struct {
		name string
		r    *http.Request
		code int
	}{
		{"no CSRF token", post(body, func(r *http.Request) { r.Header.Del("X-CSRF-Token") }), http.StatusForbidden},
		{"a wrong CSRF token", post(body, func(r *http.Request) { r.Header.Set("X-CSRF-Token", "x") }), http.StatusForbidden},
		{"a form post", post("enabled=true", func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }), http.StatusUnsupportedMediaType},
		{"a form post without the token", post("enabled=true", func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Del("X-CSRF-Token")
		}), http.StatusForbidden},
		{"text", post(body, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }), http.StatusUnsupportedMediaType},
		{"no credentials", req("POST", "/api/mqtt", body), http.StatusUnauthorized},
		{"cross-site", post(body, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }), http.StatusForbidden},
		{"not JSON", post(`{"enabled":`, nil), http.StatusBadRequest},
	} {
		if w := f.do(c.r); w.Code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.code)
		}
	}
	if app.saves != 0 {
		t.Fatalf("a refused request saved")
	}

	w := f.do(post(body, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	json.Unmarshal(w.Body.Bytes(), &got)
	if s := got.Settings; s.Broker != "mqtts://ha.lan" || s.User != "tb" || s.BaseTopic != "boat/baro" || !s.PasswordSet || got.Status.State != MQTTConnecting {
		t.Errorf("after saving: %+v", got)
	}
	if app.pw != "s3cr3t-old" {
		t.Errorf("a post without a password changed it to %q", app.pw)
	}
	f.do(post(`{"enabled":true,"broker":"mqtts://ha.lan","password":"new one","discovery_prefix":"homeassistant"}`, nil))
	if app.pw != "new one" {
		t.Errorf("password %q, want the new one", app.pw)
	}
	// Basic auth (scripts) needs no CSRF token.
	r := basic(req("POST", "/api/mqtt", `{"enabled":false,"broker":"mqtts://ha.lan","password":"","discovery_prefix":"homeassistant"}`))
	if w := f.do(r); w.Code != http.StatusOK || app.pw != "" {
		t.Errorf("Basic POST = %d %s, password %q", w.Code, w.Body, app.pw)
	}

	// The maker's mistake is a 400 that says what; the appliance's a 500.
	w = f.do(post(`{"enabled":true,"broker":""}`, nil))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "mqtt.broker: must be set") {
		t.Errorf("invalid = %d %s", w.Code, w.Body)
	}
	app.mu.Lock()
	app.fail = errors.New("config: save /boot/tinkerbox.toml: read-only file system")
	app.mu.Unlock()
	w = f.do(post(body, nil))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "read-only file system") {
		t.Errorf("save failure = %d %s", w.Code, w.Body)
	}

	// Without a link: 404, as for any missing feature.
	plain := newFixture(t)
	plain.srv.MountMQTT()
	if w := plain.do(basic(req("GET", "/api/mqtt", ""))); w.Code != http.StatusNotFound {
		t.Errorf("GET /api/mqtt without a link = %d", w.Code)
	}
}
