package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/barometer"
)

// BarometerSource is the barometer as the dashboard sees it
// (*barometer.View).
type BarometerSource interface {
	Report(ctx context.Context) (barometer.Report, error)
	History(ctx context.Context, span time.Duration, points int) ([]barometer.Point, error)
}

// BarometerClock is what a BarometerSource may also tell: the time its
// samples are stamped with (the simulator's, in simulation) and how often
// one comes, so the page can say readings stopped instead of showing a
// frozen one.
type BarometerClock interface {
	Now() time.Time
	SampleEvery() time.Duration
}

// baroStaleAfter is how many sample intervals without a reading make the
// reading stale ("paused").
const baroStaleAfter = 5

// WeatherSim is the simulator's weather (sim.Weather); nil on hardware.
type WeatherSim interface {
	SetScenario(name string) error
	Scenarios() []string
	Scenario() string
}

// Limits of the history endpoints.
const (
	baroMaxHours   = 24 * 366 * 10 // ten years
	baroChartWidth = 720
	baroChartH     = 240
	baroChartPts   = 360
	baroJSONPts    = 500
	baroMinSpanHPa = 4.0
)

// baroRanges are the chart ranges on the page.
var baroRanges = []struct {
	Key   string
	Label string
	Span  time.Duration
}{
	{"3h", "3 h", 3 * time.Hour},
	{"24h", "24 h", 24 * time.Hour},
	{"7d", "7 d", 7 * 24 * time.Hour},
	{"30d", "30 d", 30 * 24 * time.Hour},
}

// MountBarometer registers the barometer page and API. altitudeM reduces
// chart points to sea level like the reading; sim may be nil (hardware).
func (s *Server) MountBarometer(src BarometerSource, altitudeM float64, sim WeatherSim) {
	b := &baroHandlers{s: s, src: src, alt: altitudeM, sim: sim}
	s.Handle("GET /barometer", http.HandlerFunc(b.page))
	s.Handle("GET /api/barometer", http.HandlerFunc(b.current))
	s.Handle("GET /api/barometer/history", http.HandlerFunc(b.history))
	s.Handle("GET /api/barometer/history.csv", http.HandlerFunc(b.csv))
	s.Handle("POST /api/barometer/scenario", http.HandlerFunc(b.scenario))
}

type baroHandlers struct {
	s   *Server
	src BarometerSource
	alt float64
	sim WeatherSim
}

func hpaOf(p physic.Pressure) float64 { return float64(p) / float64(barometer.HPa) }

func round(v float64, digits int) float64 {
	m := math.Pow(10, float64(digits))
	return math.Round(v*m) / m
}

func celsiusOf(t physic.Temperature) float64 {
	return round(float64(t-physic.ZeroCelsius)/float64(physic.Celsius), 2)
}

// baroJSON is GET /api/barometer.
type baroJSON struct {
	Valid        bool               `json:"valid"`
	At           *time.Time         `json:"at"`
	PressureHPa  float64            `json:"pressure_hpa"`
	SeaLevelHPa  float64            `json:"sea_level_hpa"`
	TemperatureC float64            `json:"temperature_c"`
	Tendency     baroTendency       `json:"tendency"`
	Warning      string             `json:"warning"` // none, watch, warning, gale
	Forecast     barometer.Forecast `json:"forecast"`
	Sensor       baroSensor         `json:"sensor"`
	// Stale: no new reading for several sample intervals (sampling stopped).
	Stale bool `json:"stale"`
	// Thresholds are the sea-level pressures at which the fall since 3 h
	// ago would raise each warning level; null until the tendency is known.
	Thresholds    *baroThresholds `json:"thresholds"`
	Scenario      string          `json:"scenario,omitempty"`  // simulation only
	Simulated     bool            `json:"simulated,omitempty"` // At is the simulator's accelerated time
	ScenarioNames []string        `json:"scenarios,omitempty"`
}

type baroTendency struct {
	Known     bool    `json:"known"`
	Estimated bool    `json:"estimated"` // from less than 3 h of history
	HPa3h     float64 `json:"hpa_3h"`
	HPa1h     float64 `json:"hpa_1h"`
	Term      string  `json:"term"` // Met Office term
	Trend     string  `json:"trend"`
}

type baroThresholds struct {
	From    float64 `json:"from_hpa"` // sea-level pressure 3 h before the reading
	Watch   float64 `json:"watch_hpa"`
	Warning float64 `json:"warning_hpa"`
	Gale    float64 `json:"gale_hpa"`
}

type baroSensor struct {
	OK       bool   `json:"ok"`
	Failures int    `json:"failures"` // failed reads in a row
	Error    string `json:"error,omitempty"`
}

func (b *baroHandlers) reportJSON(r barometer.Report) baroJSON {
	j := baroJSON{
		Valid:        r.Valid,
		PressureHPa:  round(hpaOf(r.Pressure), 2),
		SeaLevelHPa:  round(hpaOf(r.SeaLevel), 2),
		TemperatureC: celsiusOf(r.Temperature),
		Tendency: baroTendency{Known: r.TendencyKnown, Estimated: r.Estimated, HPa3h: round(hpaOf(r.Change3h), 1),
			HPa1h: round(hpaOf(r.Change1h), 1), Term: r.Tendency, Trend: r.Trend.String()},
		Warning:  r.Level.String(),
		Forecast: r.Forecast,
		Sensor:   baroSensor{OK: !r.Failing, Failures: r.Failures, Error: r.SensorError},
	}
	if r.Valid {
		at := r.At.UTC()
		j.At = &at
		if c, ok := b.src.(BarometerClock); ok && c.SampleEvery() > 0 {
			j.Stale = c.Now().Sub(r.At) > baroStaleAfter*c.SampleEvery()
		}
		if r.TendencyKnown {
			// The falls barometer.Warn compares: 1.6, 3.6 and 6 hPa in 3 h.
			from := j.SeaLevelHPa - j.Tendency.HPa3h
			j.Thresholds = &baroThresholds{From: round(from, 1), Watch: round(from-1.6, 1), Warning: round(from-3.6, 1), Gale: round(from-6, 1)}
		}
	} else {
		j.TemperatureC = 0
	}
	if b.sim != nil {
		j.Scenario, j.ScenarioNames = b.sim.Scenario(), b.sim.Scenarios()
		j.Simulated = true
	}
	return j
}

func (b *baroHandlers) current(w http.ResponseWriter, r *http.Request) {
	rep, err := b.src.Report(r.Context())
	if err != nil {
		b.s.log.Error("web: barometer report", "err", err)
		writeError(w, http.StatusInternalServerError, "the barometer history could not be read")
		return
	}
	writeJSON(w, http.StatusOK, b.reportJSON(rep))
}

// hoursParam reads ?hours=N (default def), 1..ten years.
func hoursParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("hours")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > baroMaxHours {
		return 0, fmt.Errorf("hours must be a whole number from 1 to %d", baroMaxHours)
	}
	return n, nil
}

type baroPoint struct {
	T           time.Time `json:"t"`
	HPa         *float64  `json:"hpa"` // null: a gap (no reading, or failed reads)
	SeaLevelHPa *float64  `json:"sea_level_hpa"`
	MinHPa      *float64  `json:"min_hpa"`
	MaxHPa      *float64  `json:"max_hpa"`
	TempC       *float64  `json:"temperature_c"`
	Samples     int       `json:"samples"`
	Failed      int       `json:"failed"`
}

type baroHistory struct {
	Hours  int         `json:"hours"`
	StepS  float64     `json:"step_s"`
	Points []baroPoint `json:"points"`
}

func ptr(v float64) *float64 { return &v }

func (b *baroHandlers) point(p barometer.Point) baroPoint {
	bp := baroPoint{T: p.At.UTC(), Samples: p.N, Failed: p.Failed}
	if !p.Gap() {
		bp.HPa = ptr(round(hpaOf(p.Mean), 2))
		bp.SeaLevelHPa = ptr(round(hpaOf(barometer.SeaLevel(p.Mean, p.Temperature, b.alt)), 2))
		bp.MinHPa, bp.MaxHPa = ptr(round(hpaOf(p.Min), 2)), ptr(round(hpaOf(p.Max), 2))
		bp.TempC = ptr(celsiusOf(p.Temperature))
	}
	return bp
}

func (b *baroHandlers) history(w http.ResponseWriter, r *http.Request) {
	hours, err := hoursParam(r, 24)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n := min(hours*60, baroJSONPts) // at most one point a minute
	span := time.Duration(hours) * time.Hour
	pts, err := b.src.History(r.Context(), span, n)
	if err != nil {
		b.s.log.Error("web: barometer history", "err", err)
		writeError(w, http.StatusInternalServerError, "the barometer history could not be read")
		return
	}
	h := baroHistory{Hours: hours, StepS: (span / time.Duration(n)).Seconds(), Points: make([]baroPoint, len(pts))}
	for i, p := range pts {
		h.Points[i] = b.point(p)
	}
	writeJSON(w, http.StatusOK, h)
}

// csv exports one row a minute up to a week, one an hour beyond.
func (b *baroHandlers) csv(w http.ResponseWriter, r *http.Request) {
	hours, err := hoursParam(r, 24)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n := hours * 60
	if hours > 24*7 {
		n = hours
	}
	pts, err := b.src.History(r.Context(), time.Duration(hours)*time.Hour, n)
	if err != nil {
		b.s.log.Error("web: barometer csv", "err", err)
		writeError(w, http.StatusInternalServerError, "the barometer history could not be read")
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"time", "pressure_hpa", "sea_level_hpa", "min_hpa", "max_hpa", "temperature_c", "samples", "failed"})
	f := func(v *float64) string {
		if v == nil {
			return "" // a gap stays a gap
		}
		return strconv.FormatFloat(*v, 'f', 2, 64)
	}
	for _, p := range pts {
		bp := b.point(p)
		cw.Write([]string{bp.T.Format(time.RFC3339), f(bp.HPa), f(bp.SeaLevelHPa), f(bp.MinHPa), f(bp.MaxHPa), f(bp.TempC),
			strconv.Itoa(bp.Samples), strconv.Itoa(bp.Failed)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="barometer-%dh.csv"`, hours))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (b *baroHandlers) scenario(w http.ResponseWriter, r *http.Request) {
	if b.sim == nil {
		writeError(w, http.StatusNotFound, "weather scenarios exist only in simulation")
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := b.sim.SetScenario(body.Name); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	b.s.log.Info("web: weather scenario", "name", body.Name)
	writeJSON(w, http.StatusOK, map[string]any{"scenario": b.sim.Scenario(), "scenarios": b.sim.Scenarios()})
}

// Page data.

type baroRange struct {
	Key, Label string
	Current    bool
}

type baroTick struct {
	Y     float64
	Label string
}

type baroChart struct {
	W, H  int
	Line  string // SVG path; M starts a new segment after a gap
	Ticks []baroTick
	From  string
	To    string
	Empty bool
	Plot  struct{ X0, Y0, X1, Y1 float64 }
}

type baroPage struct {
	Frame
	Scene      sceneInfo
	Report     baroJSON
	Range      string
	Ranges     []baroRange
	Chart      baroChart
	SimWeather bool
	Scenario   string
	Scenarios  []string
	Error      string
}

func (b *baroHandlers) page(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("range")
	span := 24 * time.Hour
	found := false
	for _, rg := range baroRanges {
		if rg.Key == key {
			span, found = rg.Span, true
		}
	}
	if !found {
		key = "24h"
	}
	d := baroPage{Frame: b.s.Frame(r, "barometer"), Range: key, SimWeather: b.sim != nil,
		Scene: b.s.sceneInfo(barometer.Name, "barometer")}
	for _, rg := range baroRanges {
		d.Ranges = append(d.Ranges, baroRange{Key: rg.Key, Label: rg.Label, Current: rg.Key == key})
	}
	if b.sim != nil {
		d.Scenario, d.Scenarios = b.sim.Scenario(), b.sim.Scenarios()
	}
	rep, err := b.src.Report(r.Context())
	if err == nil {
		d.Report = b.reportJSON(rep)
		var pts []barometer.Point
		if pts, err = b.src.History(r.Context(), span, baroChartPts); err == nil {
			d.Chart = b.chart(pts, span)
		}
	}
	if err != nil {
		b.s.log.Error("web: barometer page", "err", err)
		d.Error = "The barometer history could not be read."
		d.Chart.Empty = true
	}
	b.s.render(w, http.StatusOK, "barometer.html", d)
}

// chart lays out the sea-level pressure as an SVG path: the y axis is
// autoscaled with a minimum span of 4 hPa (noise must not look like a storm)
// and gaps break the line.
func (b *baroHandlers) chart(pts []barometer.Point, span time.Duration) baroChart {
	c := baroChart{W: baroChartWidth, H: baroChartH}
	c.Plot.X0, c.Plot.Y0, c.Plot.X1, c.Plot.Y1 = 52, 12, float64(c.W)-12, float64(c.H)-28
	vals := make([]float64, len(pts))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, p := range pts {
		vals[i] = math.NaN()
		if !p.Gap() {
			vals[i] = hpaOf(barometer.SeaLevel(p.Mean, p.Temperature, b.alt))
			lo, hi = min(lo, vals[i]), max(hi, vals[i])
		}
	}
	layout := "15:04"
	if span > 24*time.Hour {
		layout = "Jan 2"
	}
	if len(pts) > 0 {
		c.From = pts[0].At.Format(layout)
		c.To = pts[len(pts)-1].At.Add(span / time.Duration(len(pts))).Format(layout)
	}
	if lo > hi {
		c.Empty = true
		return c
	}
	if hi-lo < baroMinSpanHPa {
		mid := (hi + lo) / 2
		lo, hi = mid-baroMinSpanHPa/2, mid+baroMinSpanHPa/2
	}
	pad := (hi - lo) * 0.08
	lo, hi = lo-pad, hi+pad
	x := func(i int) float64 {
		return c.Plot.X0 + (float64(i)+0.5)*(c.Plot.X1-c.Plot.X0)/float64(len(pts))
	}
	y := func(v float64) float64 { return c.Plot.Y1 - (v-lo)/(hi-lo)*(c.Plot.Y1-c.Plot.Y0) }
	var line bytes.Buffer
	pen := false
	for i, v := range vals {
		if math.IsNaN(v) {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
			// A lone point between gaps still shows, as a short tick.
			if i+1 >= len(vals) || math.IsNaN(vals[i+1]) {
				fmt.Fprintf(&line, "M%.1f %.1fh0.1", x(i), y(v))
				continue
			}
		}
		fmt.Fprintf(&line, "%s%.1f %.1f", cmd, x(i), y(v))
		pen = true
	}
	c.Line = line.String()
	step := niceStep((hi - lo) / 4)
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		c.Ticks = append(c.Ticks, baroTick{Y: round(y(v), 1), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return c
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}
