package barometer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Report is the barometer's reading and what follows from it: what the
// dashboard and GET /api/barometer show.
type Report struct {
	Valid       bool // a reading exists
	At          time.Time
	Pressure    physic.Pressure // station pressure
	SeaLevel    physic.Pressure
	Temperature physic.Temperature

	// TendencyKnown is false until there is at least an hour of history;
	// Estimated means Change3h was extrapolated from 1–3 hours.
	TendencyKnown bool
	Estimated     bool
	Change3h      physic.Pressure
	Change1h      physic.Pressure
	Tendency      string // Met Office term
	Trend         Trend
	Level         Level
	Forecast      Forecast

	// Failing is set after FailLimit failed reads in a row.
	Failing     bool
	Failures    int    // failed reads in a row (up to failScan)
	SensorError string // the last failure
}

// FailLimit is how many failed reads in a row mean the sensor is down.
const FailLimit = 3

// failScan bounds how far back failures are counted.
const failScan = 10

// View computes reports and chart histories from the store. The scene uses
// it for the display, the web server for the dashboard.
type View struct {
	store SampleStore
	now   func() time.Time
	opts  Opts
}

// NewView returns a view on store. now gives the current sample time (the
// simulated weather time in simulation); nil is time.Now.
func NewView(store SampleStore, now func() time.Time, opts Opts) *View {
	if now == nil {
		now = time.Now
	}
	return &View{store: store, now: now, opts: opts.withDefaults()}
}

// Now is the view's current time.
func (v *View) Now() time.Time { return v.now() }

// History returns points buckets covering the span that ends now. The buckets
// are aligned to multiples of their width, so a chart does not shimmer as
// time passes.
func (v *View) History(ctx context.Context, span time.Duration, points int) ([]Point, error) {
	if points <= 0 || span <= 0 {
		return nil, fmt.Errorf("barometer: history: span %v and points %d must be positive", span, points)
	}
	step := span / time.Duration(points)
	if step <= 0 {
		return nil, fmt.Errorf("barometer: history: %d points in %v is too many", points, span)
	}
	to := v.now()
	if step >= time.Second {
		to = to.Truncate(step).Add(step)
	}
	from := to.Add(-step * time.Duration(points))
	pts, err := v.store.History(ctx, from, to, points)
	if err != nil {
		return nil, fmt.Errorf("barometer: history: %w", err)
	}
	return pts, nil
}

// Report reads the store and computes the report.
func (v *View) Report(ctx context.Context) (Report, error) {
	now := v.now()
	latest, err := v.store.Latest(ctx, failScan)
	if err != nil {
		return Report{}, fmt.Errorf("barometer: report: %w", err)
	}
	// One-minute buckets over the last 3 h plus a window.
	w := window(v.opts.Interval)
	to := now.Truncate(time.Minute).Add(time.Minute)
	span := 3*time.Hour + w
	n := int(span / time.Minute)
	pts, err := v.store.History(ctx, to.Add(-time.Duration(n)*time.Minute), to, n)
	if err != nil {
		return Report{}, fmt.Errorf("barometer: report: %w", err)
	}
	return analyze(now, latest, pts, v.opts), nil
}

// window is the averaging window: ten minutes, or two samples if they are
// sparser, so sensor noise does not move the tendency.
func window(interval time.Duration) time.Duration {
	return max(10*time.Minute, 2*interval)
}

// analyze computes the report from the newest samples (newest first) and
// a downsampled history.
func analyze(now time.Time, latest []Sample, pts []Point, o Opts) Report {
	o = o.withDefaults()
	var r Report
	for _, s := range latest { // newest first: count the failures in a row
		if s.OK() {
			r.Valid, r.At, r.Pressure, r.Temperature = true, s.At, s.Pressure, s.Temperature
			break
		}
		if r.Failures == 0 {
			r.SensorError = s.Err
		}
		r.Failures++
	}
	r.Failing = r.Failures >= FailLimit
	if !r.Valid { // nothing recent: fall back on the newest bucket
		for i := len(pts) - 1; i >= 0; i-- {
			if !pts[i].Gap() {
				r.Valid, r.At, r.Pressure, r.Temperature = true, pts[i].At, pts[i].Mean, pts[i].Temperature
				break
			}
		}
	}
	if !r.Valid {
		r.Tendency = "unknown"
		return r
	}
	r.SeaLevel = SeaLevel(r.Pressure, r.Temperature, o.AltitudeM)

	w := window(o.Interval)
	cur, ok := meanIn(pts, now.Add(-w), now.Add(time.Nanosecond))
	if !ok {
		cur = hpa(r.Pressure)
	}
	if past, ok := meanIn(pts, now.Add(-3*time.Hour-w/2), now.Add(-3*time.Hour+w/2)); ok {
		r.TendencyKnown, r.Change3h = true, fromHPa(cur-past)
	} else if age, past, ok := oldest(pts, now, time.Hour); ok {
		r.TendencyKnown, r.Estimated = true, true
		r.Change3h = fromHPa((cur - past) * float64(3*time.Hour) / float64(age))
	}
	if past, ok := meanIn(pts, now.Add(-time.Hour-w/2), now.Add(-time.Hour+w/2)); ok {
		r.Change1h = fromHPa(cur - past)
	}
	r.Tendency = "unknown"
	if r.TendencyKnown {
		r.Tendency = Tendency(r.Change3h)
		r.Trend = TrendOf(r.Change3h)
		r.Level = Warn(r.Change3h, r.Change1h)
	}
	r.Forecast = Zambretti(r.SeaLevel, r.Trend, r.At.Month(), o.South)
	return r
}

// meanIn averages the non-gap buckets starting in [from, to), weighted by
// their sample counts, in hPa.
func meanIn(pts []Point, from, to time.Time) (float64, bool) {
	var sum float64
	n := 0
	for _, p := range pts {
		if p.Gap() || p.At.Before(from) || !p.At.Before(to) {
			continue
		}
		sum += hpa(p.Mean) * float64(p.N)
		n += p.N
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// oldest returns the age and pressure of the oldest bucket at least minAge
// old: the base of an estimated tendency when there is less than 3 h.
func oldest(pts []Point, now time.Time, minAge time.Duration) (time.Duration, float64, bool) {
	for _, p := range pts {
		if p.Gap() {
			continue
		}
		age := now.Sub(p.At)
		if age < minAge {
			return 0, 0, false
		}
		return age, hpa(p.Mean), true
	}
	return 0, 0, false
}

var errNoStore = errors.New("barometer: no sample store")
