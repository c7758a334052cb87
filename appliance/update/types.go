package update

import "time"

// BlockSize is the unit the manifest hashes and the installer verifies
// before it writes.
const BlockSize = 1 << 20

// FormatVersion is the bundle format this package reads and writes.
const FormatVersion = 1

// Manifest describes a bundle; its exact bytes are what the signature covers.
type Manifest struct {
	Format  int       `json:"format"`
	Board   string    `json:"board"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	Parts   []Part    `json:"parts"`
}

// Part is one partition image in a bundle: "boot" (a FAT image) or "root"
// (an ext4 image), in that order.
type Part struct {
	Name   string   `json:"name"`
	File   string   `json:"file"`   // tar member, gzip-compressed
	Size   int64    `json:"size"`   // bytes once decompressed
	SHA256 string   `json:"sha256"` // of the decompressed part, hex
	Blocks []string `json:"blocks"` // SHA-256 of each BlockSize block, hex
}

// Slot states, as the status reports them.
const (
	SlotActive     = "active"     // running and committed
	SlotReady      = "ready"      // holds a verified firmware that can be booted
	SlotTrying     = "trying"     // running on trial (tryboot), not committed yet
	SlotIncomplete = "incomplete" // an install was interrupted or failed
	SlotEmpty      = "empty"      // never written
)

// SlotStatus is one slot as the settings page shows it.
type SlotStatus struct {
	Name    string `json:"name"` // "A" or "B"
	Version string `json:"version,omitempty"`
	State   string `json:"state"`
}

// Outcome is the last update's result.
type Outcome struct {
	Result  string    `json:"result"` // "committed", "rolled back", "failed", "refused"
	Version string    `json:"version,omitempty"`
	From    string    `json:"from,omitempty"`
	At      time.Time `json:"at"`
	Detail  string    `json:"detail,omitempty"`
}

// Outcome results.
const (
	ResultCommitted  = "committed"
	ResultRolledBack = "rolled back"
	ResultFailed     = "failed"
	ResultRefused    = "refused"
)

// Status is what GET /status answers.
type Status struct {
	Board       string     `json:"board"`
	Version     string     `json:"version"`
	Running     SlotStatus `json:"running"`
	Other       SlotStatus `json:"other"`
	Tryboot     bool       `json:"tryboot"`
	Last        *Outcome   `json:"last,omitempty"`
	Busy        *Progress  `json:"busy,omitempty"`
	CanRollback bool       `json:"can_rollback"`
}

// Progress of an install.
type Progress struct {
	Phase string `json:"phase"` // "checking", "writing boot", "writing root", "verifying", "rebooting"
	Done  int64  `json:"done"`  // bytes of this phase
	Total int64  `json:"total"`
}

// Result of a successful install: the slot written and what is in it. The
// service reboots into it (tryboot) right after answering.
type Result struct {
	Slot    string `json:"slot"`
	Version string `json:"version"`
	Board   string `json:"board"`
}
