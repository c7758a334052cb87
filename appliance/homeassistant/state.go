package homeassistant

import (
	"encoding/json"
	"math"
	"time"

	"periph.io/x/conn/v3/physic"
)

// reading is everything the poller last read, each part from its source;
// a nil part could not be read.
type reading struct {
	app     AppStatus
	weather *Weather
	cards   *Cards
	camera  *Capture
}

// encode writes the state <base>/state carries: one retained JSON object
// whose fields the entities pick with value_template. A field is null when
// its value is unknown (Home Assistant shows "unknown"; an absent field
// would log a template error with every message) and absent when the
// appliance lacks the feature. Values are rounded to what the entities
// show, so noise below that makes no messages.
func (b *Bridge) encode(r reading, now time.Time) []byte {
	s := map[string]any{"scene": r.app.Scene, "printer": r.app.Printer, "print_queue": r.app.PrintQueue}
	if b.o.Weather != nil {
		s["pressure_hpa"], s["tendency_hpa"], s["temperature_c"], s["warning"] = nil, nil, nil, nil
		if w := r.weather; w != nil && w.Valid {
			s["pressure_hpa"] = number(hpa(w.SeaLevel), 1)
			s["temperature_c"] = number(celsius(w.Temperature), 1)
			s["warning"] = w.Warning
			if w.TendencyKnown {
				s["tendency_hpa"] = number(hpa(w.Change3h), 1)
			}
		}
	}
	if b.o.Cards != nil {
		s["cards"], s["collection_usd"] = nil, nil
		if c := r.cards; c != nil {
			s["cards"], s["collection_usd"] = c.Count, number(c.ValueUSD, 2)
		}
	}
	if b.o.Camera != nil {
		s["motion"], s["last_motion"] = "OFF", nil
		if c := r.camera; c != nil && !c.LastMotion.IsZero() {
			s["last_motion"] = c.LastMotion.UTC().Format(time.RFC3339)
			if now.Sub(c.LastMotion) < b.o.MotionHold {
				s["motion"] = "ON"
			}
		}
	}
	out, err := json.Marshal(s)
	if err != nil {
		panic("homeassistant: state: " + err.Error()) // finite numbers and strings only
	}
	return out
}

// number is v rounded to digits decimals, or null when it is not a number
// (a sensor glitch must not stop the state from encoding).
func number(v float64, digits int) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	m := math.Pow(10, float64(digits))
	return math.Round(v*m) / m
}

func hpa(p physic.Pressure) float64 { return float64(p) / float64(100*physic.Pascal) }

func celsius(t physic.Temperature) float64 {
	return float64(t-physic.ZeroCelsius) / float64(physic.Celsius)
}
