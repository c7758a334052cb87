package web

import (
	"net/http"

	"tinkerbox/appliance/update"
)

// settingsPage is /settings: the firmware update and, when the appliance
// has one, the Home Assistant link.
type settingsPage struct {
	Frame
	Update settingsUpdate
	MQTT   *settingsMQTT
}

// settingsUpdate is the update section as first drawn; settings.js keeps it
// current from GET /api/update and the stream's "update" events.
type settingsUpdate struct {
	Available bool
	Reason    string // without an Updater: why
	Version   string // the running firmware
	Status    update.Status
	Error     string // the service did not answer
	Install   *installActivity
	MaxBundle int64
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	u := settingsUpdate{Available: s.upd.u != nil, Version: s.upd.version, MaxBundle: maxBundle}
	if !u.Available {
		u.Reason = s.noUpdates().Reason
	} else if st, err := s.upd.serviceStatus(r.Context()); err != nil {
		u.Error = err.Error()
	} else {
		u.Status, u.Version = st, st.Version
		u.Install = s.upd.activity()
	}
	s.render(w, http.StatusOK, "settings.html", settingsPage{Frame: s.Frame(r, "settings"), Update: u, MQTT: s.settingsMQTT()})
}

// slotState says what a slot state means, for the page (settings.js has
// the same words).
func slotState(state string) string {
	switch state {
	case update.SlotActive:
		return "running, committed"
	case update.SlotReady:
		return "ready: holds a verified firmware"
	case update.SlotTrying:
		return "on trial: not committed yet"
	case update.SlotIncomplete:
		return "incomplete: an install was interrupted or failed"
	case update.SlotEmpty:
		return "empty"
	}
	return state
}
