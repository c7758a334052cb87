package web

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// MQTTState is the Home Assistant link as the state stream carries it
// ("mqtt") and /settings shows it.
type MQTTState struct {
	State       string     `json:"state"` // MQTTOff, or the bridge's: connecting, connected, down
	Since       *time.Time `json:"since,omitempty"`
	Broker      string     `json:"broker,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	NextTry     *time.Time `json:"next_try,omitempty"` // down: the next attempt
	Queued      int        `json:"queued"`             // messages waiting for the broker
	Dropped     uint64     `json:"dropped"`            // pushed out of the full queue
	Replaced    uint64     `json:"replaced"`           // superseded by a newer one before they went
}

// MQTT connection states the page knows.
const (
	MQTTOff        = "off"
	MQTTConnecting = "connecting"
	MQTTConnected  = "connected"
	MQTTDown       = "down"
)

// MQTTForm is the [mqtt] section as the settings page edits it.
type MQTTForm struct {
	Enabled bool   `json:"enabled"`
	Broker  string `json:"broker"`
	User    string `json:"user"`
	// Password, in a POST only: the new password; "" removes it; absent
	// keeps the one set. Never sent back.
	Password        *string `json:"password,omitempty"`
	DiscoveryPrefix string  `json:"discovery_prefix"`
	BaseTopic       string  `json:"base_topic"` // "" = DefaultBaseTopic

	// Read only.
	PasswordSet      bool   `json:"password_set"`
	PasswordFile     string `json:"password_file,omitempty"` // the password comes from this file
	CAFile           string `json:"ca_file,omitempty"`
	DefaultBaseTopic string `json:"default_base_topic"`
	File             string `json:"file"` // the config file it is saved to
}

// MQTTSettings is what an App with a Home Assistant link also offers: its
// settings and their saving. SaveMQTT checks, saves to the config file and
// applies them, and answers what is now set; a *SettingsError is the
// maker's mistake (400), any other error the appliance's (500).
type MQTTSettings interface {
	MQTTSettings() MQTTForm
	SaveMQTT(ctx context.Context, f MQTTForm) (MQTTForm, error)
	MQTTState() MQTTState
}

// SettingsError is a setting that cannot be saved as sent; Error is
// meant for the maker.
type SettingsError struct{ Err error }

func (e *SettingsError) Error() string { return e.Err.Error() }
func (e *SettingsError) Unwrap() error { return e.Err }

// mqttJSON is GET and POST /api/mqtt.
type mqttJSON struct {
	Settings MQTTForm  `json:"settings"`
	Status   MQTTState `json:"status"`
}

// MountMQTT adds GET /api/mqtt (the settings and the connection) and POST
// /api/mqtt (save them), for an App that implements MQTTSettings.
func (s *Server) MountMQTT() {
	s.Handle("GET /api/mqtt", http.HandlerFunc(s.apiMQTT))
	s.Handle("POST /api/mqtt", http.HandlerFunc(s.apiSaveMQTT))
}

func (s *Server) mqtt() (MQTTSettings, bool) {
	m, ok := s.app.(MQTTSettings)
	return m, ok
}

func (s *Server) apiMQTT(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mqtt()
	if !ok {
		writeError(w, http.StatusNotFound, "this appliance has no Home Assistant link")
		return
	}
	writeJSON(w, http.StatusOK, mqttJSON{Settings: m.MQTTSettings(), Status: m.MQTTState()})
}

func (s *Server) apiSaveMQTT(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mqtt()
	if !ok {
		closeUnread(w, r)
		writeError(w, http.StatusNotFound, "this appliance has no Home Assistant link")
		return
	}
	var f MQTTForm
	if err := decodeBody(w, r, &f); err != nil {
		writeBodyError(w, err)
		return
	}
	saved, err := m.SaveMQTT(r.Context(), f)
	var bad *SettingsError
	switch {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.Error())
		return
	case err != nil:
		s.log.Error("web: save mqtt settings", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.log.Info("web: mqtt settings saved", "enabled", saved.Enabled, "broker", saved.Broker, "file", saved.File)
	writeJSON(w, http.StatusOK, mqttJSON{Settings: saved, Status: m.MQTTState()})
}

// settingsMQTT is the MQTT section as first drawn; settings.js keeps it
// current from the stream's "mqtt".
type settingsMQTT struct {
	Form  MQTTForm
	State MQTTState
	Text  string // the connection in words
}

func (s *Server) settingsMQTT() *settingsMQTT {
	m, ok := s.mqtt()
	if !ok {
		return nil
	}
	st := m.MQTTState()
	return &settingsMQTT{Form: m.MQTTSettings(), State: st, Text: mqttWords(st)}
}

// mqttWords says the connection's state (settings.js has the same words).
func mqttWords(st MQTTState) string {
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	switch st.State {
	case MQTTOff:
		return "Off: nothing is published"
	case MQTTConnecting:
		return "Connecting…"
	case MQTTConnected:
		return "Connected since " + at(st.Since)
	case MQTTDown:
		s := "Down since " + at(st.Since)
		if st.NextTry != nil {
			s += " · next try " + at(st.NextTry)
		}
		return s
	}
	return st.State
}
