package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a string such as "20ms",
// "1s" or "1m".
type Duration struct{ time.Duration }

// String formats d without trailing zero units: "1m", not "1m0s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	d.Duration = v
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %s (want a number with a unit, like \"20ms\", \"1s\" or \"1m\")", quote(s))
	}
	return v, nil
}

// TimeOfDay is a wall-clock time written in TOML as "HH:MM" (24-hour).
type TimeOfDay struct {
	Hour   int // 0–23
	Minute int // 0–59
}

// Minutes is the number of minutes since midnight.
func (t TimeOfDay) Minutes() int { return t.Hour*60 + t.Minute }

// String formats t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// MarshalText implements encoding.TextMarshaler.
func (t TimeOfDay) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := parseTimeOfDay(string(b))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	*t = v
	return nil
}

func parseTimeOfDay(s string) (TimeOfDay, error) {
	bad := fmt.Errorf("invalid time of day %s (want 24-hour \"HH:MM\", like \"22:00\")", quote(s))
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 {
		return TimeOfDay{}, bad
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err := errors.Join(err1, err2); err != nil || hs[0] == '+' || hs[0] == '-' || ms[0] == '+' || ms[0] == '-' ||
		h < 0 || h > 23 || m < 0 || m > 59 {
		return TimeOfDay{}, bad
	}
	return TimeOfDay{Hour: h, Minute: m}, nil
}

// quote quotes s for an error message, shortening long values so a hostile
// file cannot produce huge messages.
func quote(s string) string {
	const maxLen = 40
	if len(s) > maxLen {
		// Cut on a rune boundary so the result stays valid UTF-8.
		cut := maxLen
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
