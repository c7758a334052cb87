// Package barometer is the barometer scene: it samples pressure and
// temperature from the Enviro pHAT's BMP280 once a minute, stores every sample
// (failed reads as gaps), and shows the pressure, a sparkline of the last
// 3/12/24 hours and the 3-hour tendency on the 17x7 scroll display. A falling
// barometer raises a storm warning that flashes the display and the warning
// light until it is acknowledged with a long press of A.
//
// The rules (Met Office tendency terms, warning thresholds, sea-level
// reduction, Zambretti forecaster) are in ../../shared/docs/HARDWARE.md.
package barometer

import (
	"context"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene"
)

// Name of the scene in the config and the UI.
const Name = "barometer"

// Sample is one reading. A failed read is stored too, with Err set and no
// values, so charts show a gap instead of an invented value.
type Sample struct {
	At          time.Time
	Pressure    physic.Pressure    // station pressure (not reduced to sea level)
	Temperature physic.Temperature // zero when Err is set
	Err         string             // non-empty: the read failed
}

// OK reports whether the sample holds a reading.
func (s Sample) OK() bool { return s.Err == "" }

// Point is one bucket of a downsampled history: the samples in
// [At, At+step). N == 0 means a gap (no reading in the bucket).
type Point struct {
	At          time.Time
	N           int                // valid samples in the bucket
	Failed      int                // failed reads in the bucket
	Mean        physic.Pressure    // station pressure
	Min, Max    physic.Pressure    // station pressure
	Temperature physic.Temperature // mean
}

// Gap reports whether the bucket has no reading.
func (p Point) Gap() bool { return p.N == 0 }

// SampleStore keeps the samples. appliance/store implements it on SQLite.
type SampleStore interface {
	// AddSample appends one sample (a failed read when s.Err is set).
	AddSample(ctx context.Context, s Sample) error
	// History returns exactly points buckets evenly covering [from, to);
	// empty buckets are gaps. Old data may only exist as hourly aggregates.
	History(ctx context.Context, from, to time.Time, points int) ([]Point, error)
	// Latest returns up to n of the newest samples, newest first.
	Latest(ctx context.Context, n int) ([]Sample, error)
	// Compact folds raw samples older than before into hourly aggregates;
	// it is idempotent and safe to interrupt.
	Compact(ctx context.Context, before time.Time) error
}

// Opts configure the scene and the dashboard view.
type Opts struct {
	// Interval between samples; the datasheet's weather-monitoring mode
	// assumes one a minute.
	Interval time.Duration
	// AltitudeM is the station's altitude for the sea-level pressure.
	AltitudeM float64
	// South selects the southern hemisphere for the forecaster's seasons.
	South bool
	// Stamp gives each sample its time. nil means the scene clock. The
	// simulator passes its accelerated weather time, so sampling once a real
	// second records one simulated minute.
	Stamp func() time.Time
	// Dim is the display level (0 dark .. 255 full) at a wall-clock time:
	// night dimming on top of the display's own brightness. nil is 255.
	Dim func(time.Time) uint8
	// Keep is how long raw samples are kept before compaction into hourly
	// aggregates.
	Keep time.Duration
	// Recorded means Record runs beside the scene (started by the appliance
	// for as long as it runs), so history has no holes while other scenes
	// are on: Run then only reads the store.
	Recorded bool
	// Reporter gets storm watches, warnings and gales as they rise, and the
	// all-clear, for the event log; nil: none.
	Reporter scene.Reporter
}

// DefaultOpts samples once a minute at sea level in the northern hemisphere
// and keeps 30 days of raw samples.
func DefaultOpts() Opts {
	return Opts{Interval: time.Minute, Keep: 30 * 24 * time.Hour}
}

func (o Opts) withDefaults() Opts {
	d := DefaultOpts()
	if o.Interval <= 0 {
		o.Interval = d.Interval
	}
	if o.Keep <= 0 {
		o.Keep = d.Keep
	}
	return o
}
