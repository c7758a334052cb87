package store

import "time"

// Event is one line of the appliance's event log (scene switches, errors, faults).
type Event struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Level   string    `json:"level"`  // "info", "warn", "error"
	Source  string    `json:"source"` // scene or device name, "loop", "web"
	Message string    `json:"message"`
}
