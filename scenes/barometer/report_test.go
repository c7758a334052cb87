package barometer

import (
	"context"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func report(t *testing.T, m *memStore, opts Opts) Report {
	t.Helper()
	r, err := NewView(m, func() time.Time { return t0 }, opts).Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportStormFront(t *testing.T) {
	m := &memStore{}
	// 1013 hPa falling 8 hPa over the last 3 h, with ±0.05 hPa jitter.
	m.fill(t0, 4*60, func(ago int) float64 {
		jitter := 0.05 * math.Sin(float64(ago)*1.7)
		if ago >= 180 {
			return 1013 + jitter
		}
		return 1005 + 8*float64(ago)/180 + jitter
	})
	r := report(t, m, DefaultOpts())
	if !r.Valid || !r.TendencyKnown || r.Estimated {
		t.Fatalf("report = %+v", r)
	}
	if d := hpa(r.Change3h); math.Abs(d+7.8) > 0.3 { // the windows average over ±5 min
		t.Errorf("Change3h = %.2f, want ≈ -7.8", d)
	}
	if r.Tendency != "falling very rapidly" || r.Level != LevelGale || r.Trend != Falling {
		t.Errorf("tendency %q level %v trend %v", r.Tendency, r.Level, r.Trend)
	}
	if r.Forecast.Letter == "" || r.Failing {
		t.Errorf("forecast %+v failing %v", r.Forecast, r.Failing)
	}
}

func TestReportSteadyAndWatch(t *testing.T) {
	m := &memStore{}
	m.fill(t0, 4*60, func(ago int) float64 { return 1021 + 0.02*math.Sin(float64(ago)) })
	r := report(t, m, DefaultOpts())
	if r.Tendency != "steady" || r.Level != LevelNone || r.Trend != Steady || r.Forecast.Letter != "B" { // 1021 hPa steady: option 15
		t.Errorf("steady: %+v", r)
	}
	m = &memStore{}
	m.fill(t0, 4*60, func(ago int) float64 { return 1010 - 2*float64(180-min(ago, 180))/180 })
	r = report(t, m, DefaultOpts())
	if r.Level != LevelWatch || r.Tendency != "falling" {
		t.Errorf("2 hPa fall: level %v tendency %q change %.2f", r.Level, r.Tendency, hpa(r.Change3h))
	}
}

func TestReportSeaLevelAndHemisphere(t *testing.T) {
	m := &memStore{}
	m.fill(t0, 10, func(int) float64 { return 1000 })
	r := report(t, m, Opts{AltitudeM: 100})
	if d := hpa(r.SeaLevel); math.Abs(d-1011.916) > 0.001 {
		t.Errorf("sea level %.4f, want 1011.916 (15 °C, 100 m)", d)
	}
	if r.TendencyKnown || r.Tendency != "unknown" || r.Level != LevelNone {
		t.Errorf("10 minutes of history: %+v", r)
	}
}

func TestReportEstimatesFromOneHour(t *testing.T) {
	m := &memStore{}
	// 90 minutes falling 1 hPa/h: 3 hPa in 3 h, estimated.
	m.fill(t0, 90, func(ago int) float64 { return 1000 + float64(ago)/60 })
	r := report(t, m, DefaultOpts())
	if !r.TendencyKnown || !r.Estimated {
		t.Fatalf("report = %+v", r)
	}
	if d := hpa(r.Change3h); math.Abs(d+3) > 0.3 {
		t.Errorf("estimated Change3h = %.2f, want ≈ -3", d)
	}
	if d := hpa(r.Change1h); math.Abs(d+1) > 0.1 {
		t.Errorf("Change1h = %.2f, want ≈ -1", d)
	}
}

func TestReportFailuresAndGaps(t *testing.T) {
	m := &memStore{}
	m.fill(t0, 30, func(ago int) float64 {
		if ago < 3 {
			return math.NaN()
		}
		return 1012
	})
	r := report(t, m, DefaultOpts())
	if !r.Failing || r.Failures != 3 || r.SensorError != "failed" {
		t.Errorf("3 failures: %+v", r)
	}
	// The last good reading is still reported, with its time.
	if !r.Valid || r.Pressure != hp(1012) || !r.At.Equal(t0.Add(-3*time.Minute)) {
		t.Errorf("last good reading: %+v", r)
	}
	m.fill(t0.Add(time.Minute), 0, func(int) float64 { return 1012 })
	if r := report(t, m, DefaultOpts()); r.Failing || r.Failures != 0 {
		t.Errorf("after recovery: %+v", r)
	}
	// Nothing stored at all.
	if r := report(t, &memStore{}, DefaultOpts()); r.Valid || r.Tendency != "unknown" {
		t.Errorf("empty: %+v", r)
	}
}

func TestHistoryAlignedAndValidated(t *testing.T) {
	m := &memStore{}
	v := NewView(m, func() time.Time { return t0.Add(7 * time.Minute) }, DefaultOpts())
	pts, err := v.History(context.Background(), 3*time.Hour, 18) // 10-minute buckets
	if err != nil || len(pts) != 18 {
		t.Fatalf("%d points, %v", len(pts), err)
	}
	if !pts[17].At.Equal(t0) || !pts[0].At.Equal(t0.Add(-170*time.Minute)) {
		t.Errorf("buckets %v .. %v, want aligned to 10 minutes ending with %v", pts[0].At, pts[17].At, t0)
	}
	for _, c := range []struct {
		span time.Duration
		n    int
	}{{0, 17}, {time.Hour, 0}, {time.Nanosecond, 5}} {
		if _, err := v.History(context.Background(), c.span, c.n); err == nil {
			t.Errorf("History(%v, %d) accepted", c.span, c.n)
		}
	}
}
