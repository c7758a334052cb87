package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/barometer"
)

func hpaP(v float64) physic.Pressure { return physic.Pressure(v * float64(barometer.HPa)) }

type fakeBaro struct {
	report barometer.Report
	err    error
	spans  []time.Duration
}

func (f *fakeBaro) Report(ctx context.Context) (barometer.Report, error) { return f.report, f.err }

// History: a falling line with a gap in the middle third.
func (f *fakeBaro) History(ctx context.Context, span time.Duration, n int) ([]barometer.Point, error) {
	f.spans = append(f.spans, span)
	if f.err != nil {
		return nil, f.err
	}
	pts := make([]barometer.Point, n)
	step := span / time.Duration(n)
	for i := range pts {
		pts[i].At = testStart.Add(-span + time.Duration(i)*step)
		if i >= n/3 && i < 2*n/3 {
			pts[i].Failed = 1
			continue
		}
		v := hpaP(1013 - 8*float64(i)/float64(n))
		pts[i].N, pts[i].Mean, pts[i].Min, pts[i].Max = 1, v, v, v
		pts[i].Temperature = physic.ZeroCelsius + 12*physic.Celsius
	}
	return pts, nil
}

type fakeWeather struct{ name string }

func (w *fakeWeather) Scenarios() []string { return []string{"steady", "storm", "clearing"} }
func (w *fakeWeather) Scenario() string    { return w.name }
func (w *fakeWeather) SetScenario(n string) error {
	if !slices.Contains(w.Scenarios(), n) {
		return errors.New("sim: weather: unknown scenario")
	}
	w.name = n
	return nil
}

func stormReport() barometer.Report {
	return barometer.Report{
		Valid: true, At: testStart, Pressure: hpaP(1005.2), SeaLevel: hpaP(1005.2),
		Temperature: physic.ZeroCelsius + 11*physic.Celsius, TendencyKnown: true,
		Change3h: hpaP(-7.8), Change1h: hpaP(-2.6), Tendency: "falling very rapidly", Trend: barometer.Falling,
		Level: barometer.LevelGale, Forecast: barometer.Forecast{Letter: "X", Text: "Rain, very unsettled"},
	}
}

func baroFixture(t *testing.T, sim WeatherSim) (*fixture, *fakeBaro) {
	f := newFixture(t)
	b := &fakeBaro{report: stormReport()}
	f.srv.MountBarometer(b, 0, sim)
	return f, b
}

func TestBarometerAPI(t *testing.T) {
	f, _ := baroFixture(t, nil)
	if w := f.do(req("GET", "/api/barometer", "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("unauthenticated = %d", w.Code)
	}
	w := f.do(basic(req("GET", "/api/barometer", "")))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/barometer = %d %s", w.Code, w.Body)
	}
	var got baroJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Valid || got.SeaLevelHPa != 1005.2 || got.Warning != "gale" || got.Tendency.HPa3h != -7.8 ||
		got.Tendency.Term != "falling very rapidly" || got.Forecast.Letter != "X" || !got.Sensor.OK || got.TemperatureC != 11 {
		t.Errorf("report = %+v", got)
	}
	if strings.Contains(w.Body.String(), "scenario") {
		t.Error("hardware report mentions scenarios")
	}
}

func TestBarometerHistoryJSONAndCSV(t *testing.T) {
	f, b := baroFixture(t, nil)
	w := f.do(basic(req("GET", "/api/barometer/history?hours=3", "")))
	if w.Code != http.StatusOK {
		t.Fatalf("history = %d %s", w.Code, w.Body)
	}
	var h baroHistory
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	if h.Hours != 3 || len(h.Points) != 180 || h.StepS != 60 || b.spans[0] != 3*time.Hour {
		t.Fatalf("history: hours %d, %d points, step %v", h.Hours, len(h.Points), h.StepS)
	}
	if h.Points[0].HPa == nil || *h.Points[0].HPa != 1013 || h.Points[90].HPa != nil || h.Points[90].Failed != 1 {
		t.Errorf("points: first %+v, middle %+v (want a gap)", h.Points[0], h.Points[90])
	}
	if !strings.Contains(w.Body.String(), `"hpa":null`) {
		t.Error("a gap is not null in the JSON")
	}
	for _, bad := range []string{"0", "-3", "x", "1e9", "87841"} {
		if w := f.do(basic(req("GET", "/api/barometer/history?hours="+bad, ""))); w.Code != http.StatusBadRequest {
			t.Errorf("hours=%s = %d, want 400", bad, w.Code)
		}
	}
	w = f.do(basic(req("GET", "/api/barometer/history.csv?hours=2", "")))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	if len(lines) != 121 || lines[0] != "time,pressure_hpa,sea_level_hpa,min_hpa,max_hpa,temperature_c,samples,failed" {
		t.Fatalf("csv: %d lines, header %q", len(lines), lines[0])
	}
	if !strings.HasSuffix(lines[61], ",,,,,,0,1") || !strings.Contains(lines[1], ",1013.00,1013.00,") {
		t.Errorf("csv rows: %q / %q", lines[1], lines[61])
	}
	// Over a week the export is hourly.
	w = f.do(basic(req("GET", "/api/barometer/history.csv?hours=720", "")))
	if n := strings.Count(w.Body.String(), "\n"); n != 721 {
		t.Errorf("30 d csv has %d lines, want 721 (hourly)", n)
	}
}

func TestBarometerPage(t *testing.T) {
	f, b := baroFixture(t, nil)
	w := f.do(basic(req("GET", "/barometer?range=7d", "")))
	if w.Code != http.StatusOK {
		t.Fatalf("page = %d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	for _, want := range []string{"Gale warning", "falling very rapidly", "-7.8 hPa in 3 h", "1005.2", "Rain, very unsettled",
		`class="baro-letter">X<`, `<svg id="baro-chart"`, `aria-current="page" class="current">7 d<`, "/api/barometer/history.csv?hours=24"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if b.spans[len(b.spans)-1] != 7*24*time.Hour {
		t.Errorf("chart span %v, want 7 d", b.spans[len(b.spans)-1])
	}
	// The gap breaks the line: two segments.
	d := body[strings.Index(body, `class="line" d="`):]
	d = d[:strings.Index(d, `"/>`)]
	if n := strings.Count(d, "M"); n != 2 {
		t.Errorf("line has %d segments, want 2 around the gap: %.80s", n, d)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "baro-scenario") {
		t.Error("inline script or a scenario selector on hardware")
	}
	// An unknown range falls back to 24 h; a failing store says so.
	b.err = errors.New("disk on fire")
	w = f.do(basic(req("GET", "/barometer?range=bogus", "")))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "could not be read") || strings.Contains(w.Body.String(), "disk on fire") {
		t.Errorf("failing store page = %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/api/barometer", ""))); w.Code != http.StatusInternalServerError {
		t.Errorf("failing store API = %d", w.Code)
	}
}

func TestBarometerSensorFaultBanner(t *testing.T) {
	f, b := baroFixture(t, nil)
	b.report.Failing, b.report.Failures, b.report.SensorError = true, 3, "pressure sensor BMP280: i2c: no ack"
	body := f.do(basic(req("GET", "/barometer", ""))).Body.String()
	if !strings.Contains(body, "Sensor failure: pressure sensor BMP280: i2c: no ack (3 failed reads") {
		t.Error("no sensor fault banner")
	}
	var got baroJSON
	json.Unmarshal(f.do(basic(req("GET", "/api/barometer", ""))).Body.Bytes(), &got)
	if got.Sensor.OK || got.Sensor.Failures != 3 || got.Sensor.Error == "" {
		t.Errorf("sensor = %+v", got.Sensor)
	}
}

func TestBarometerScenario(t *testing.T) {
	f, _ := baroFixture(t, nil)
	if w := f.do(basic(req("POST", "/api/barometer/scenario", `{"name":"storm"}`))); w.Code != http.StatusNotFound {
		t.Errorf("scenario on hardware = %d, want 404", w.Code)
	}
	weather := &fakeWeather{name: "steady"}
	f, _ = baroFixture(t, weather)
	if body := f.do(basic(req("GET", "/barometer", ""))).Body.String(); !strings.Contains(body, `<option value="steady" selected>`) {
		t.Error("page has no scenario selector in simulation")
	}
	w := f.do(basic(req("POST", "/api/barometer/scenario", `{"name":"storm"}`)))
	if w.Code != http.StatusOK || weather.name != "storm" {
		t.Fatalf("set storm = %d %s; scenario %q", w.Code, w.Body, weather.name)
	}
	for _, bad := range []string{`{"name":"hurricane"}`, `{"name":`, `[1]`} {
		if w := f.do(basic(req("POST", "/api/barometer/scenario", bad))); w.Code != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, w.Code)
		}
	}
	// A cookie session needs the CSRF token.
	sess, csrf := f.login()
	r := req("POST", "/api/barometer/scenario", `{"name":"clearing"}`)
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Errorf("without CSRF = %d, want 403", w.Code)
	}
	r = req("POST", "/api/barometer/scenario", `{"name":"clearing"}`)
	r.AddCookie(sess)
	r.Header.Set("X-CSRF-Token", csrf)
	if w := f.do(r); w.Code != http.StatusOK || weather.name != "clearing" {
		t.Errorf("with CSRF = %d, scenario %q", w.Code, weather.name)
	}
	var got baroJSON
	json.Unmarshal(f.do(basic(req("GET", "/api/barometer", ""))).Body.Bytes(), &got)
	if got.Scenario != "clearing" || len(got.ScenarioNames) != 3 || !got.Simulated {
		t.Errorf("report scenario = %q %v, simulated %v", got.Scenario, got.ScenarioNames, got.Simulated)
	}
	if body := f.do(basic(req("GET", "/barometer", ""))).Body.String(); got.Valid && !strings.Contains(body, "(simulated time)") {
		t.Error("the simulator's reading time is not marked as simulated")
	}
	hw, _ := baroFixture(t, nil)
	if body := hw.do(basic(req("GET", "/api/barometer", ""))).Body.String(); strings.Contains(body, "simulated") {
		t.Errorf("hardware reading marked simulated: %s", body)
	}
}
