package sim

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Weather scenarios.
const (
	ScenarioSteady   = "steady"   // 1021 hPa high, ±0.3 hPa daily wobble
	ScenarioStorm    = "storm"    // 1013 hPa falling 8 hPa over 3 h, then bottoming out at 1005
	ScenarioClearing = "clearing" // 995 hPa rising 6 hPa over 3 h, then steady at 1001
)

const noiseHPa = 0.05 // sensor noise amplitude

// WeatherOpts configures a Weather.
type WeatherOpts struct {
	Clock    Clock   // real time; nil is the wall clock
	Speedup  float64 // simulated seconds per real second
	Scenario string  // one of Scenarios()
	Seed     int64   // noise seed: same seed, same readings
}

// DefaultWeatherOpts runs the steady scenario an hour a minute.
func DefaultWeatherOpts() WeatherOpts {
	return WeatherOpts{Speedup: 60, Scenario: ScenarioSteady}
}

// Weather is an environment sensor (the Enviro pHAT's BMP280 shape) reading a
// weather scenario on an accelerated clock, so hours of weather pass in
// minutes. Readings are a pure function of simulated time and Seed.
type Weather struct {
	mu        sync.Mutex
	clk       Clock
	speedup   float64
	seed      uint64
	realStart time.Time // real time at which simulated time was simStart
	simStart  time.Time
	scenario  string
	scStart   time.Time // simulated time the scenario (re)started
	failing   bool
}

// NewWeather returns a sensor running opts.Scenario from now. Zero or nil
// options take the defaults. An unknown scenario makes Sense fail until
// SetScenario names a known one.
func NewWeather(opts *WeatherOpts) *Weather {
	o := DefaultWeatherOpts()
	if opts != nil {
		o.Clock, o.Seed = opts.Clock, opts.Seed
		if opts.Speedup > 0 && !math.IsInf(opts.Speedup, 0) {
			o.Speedup = opts.Speedup
		}
		if opts.Scenario != "" {
			o.Scenario = opts.Scenario
		}
	}
	clk := orSystem(o.Clock)
	now := clk.Now()
	return &Weather{
		clk:       clk,
		speedup:   o.Speedup,
		seed:      uint64(o.Seed),
		realStart: now,
		simStart:  now,
		scenario:  o.Scenario,
		scStart:   now,
	}
}

func (w *Weather) String() string { return fmt.Sprintf("sim.Weather(%s)", w.Scenario()) }

// Halt does nothing: the sensor has nothing to stop.
func (w *Weather) Halt() error { return nil }

// Scenarios lists the known scenario names.
func (w *Weather) Scenarios() []string {
	return []string{ScenarioSteady, ScenarioStorm, ScenarioClearing}
}

// Scenario is the running scenario's name.
func (w *Weather) Scenario() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.scenario
}

// SetScenario restarts the weather with scenario name from the current
// simulated time.
func (w *Weather) SetScenario(name string) error {
	if !slices.Contains(w.Scenarios(), name) {
		return fmt.Errorf("sim: weather: unknown scenario %q (have %v)", name, w.Scenarios())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scenario = name
	w.scStart = w.simTime()
	return nil
}

// SetFailing makes Sense fail, like a sensor that stopped answering on the bus.
func (w *Weather) SetFailing(f bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failing = f
}

// SimTime is the accelerated time the weather runs on.
func (w *Weather) SimTime() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.simTime()
}

func (w *Weather) simTime() time.Time {
	elapsed := w.clk.Now().Sub(w.realStart)
	return w.simStart.Add(time.Duration(float64(elapsed) * w.speedup))
}

// Sense fills env with the pressure, temperature and humidity at the current
// simulated time.
func (w *Weather) Sense(env *physic.Env) error {
	if env == nil {
		return fmt.Errorf("sim: weather: nil env")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing {
		return fmt.Errorf("sim: weather: sensor not responding")
	}
	t := w.simTime()
	e := t.Sub(w.scStart).Hours()
	var hpa, progress float64 // progress: 0 fair .. 1 stormy, for temperature and humidity
	switch w.scenario {
	case ScenarioSteady:
		hpa = 1021 + 0.3*math.Sin(2*math.Pi*e/24)
	case ScenarioStorm:
		f := math.Min(e/3, 1)
		hpa, progress = 1013-8*f, f
	case ScenarioClearing:
		f := math.Min(e/3, 1)
		hpa, progress = 995+6*f, 1-f
	default:
		return fmt.Errorf("sim: weather: unknown scenario %q", w.scenario)
	}
	hpa += noiseHPa * w.noise(t)
	// Daily swing peaking mid-afternoon; cloud flattens and cools it.
	day := 2 * math.Pi * (hourOfDay(t) - 9) / 24
	celsius := 12 + (1-0.6*progress)*6*math.Sin(day) - 2*progress
	rh := 65 - 15*math.Sin(day) + 25*progress
	rh = math.Max(0, math.Min(100, rh))

	env.Pressure = physic.Pressure(math.Round(hpa * 100 * float64(physic.Pascal)))
	env.Temperature = physic.ZeroCelsius + physic.Temperature(math.Round(celsius*float64(physic.Celsius)))
	env.Humidity = physic.RelativeHumidity(math.Round(rh * float64(physic.PercentRH)))
	return nil
}

func hourOfDay(t time.Time) float64 {
	h, m, s := t.Clock()
	return float64(h) + float64(m)/60 + float64(s)/3600
}

// noise is smooth deterministic noise in -1..1: values hashed from the seed
// per simulated minute, interpolated linearly between minutes.
func (w *Weather) noise(t time.Time) float64 {
	m := float64(t.UnixNano()) / float64(time.Minute)
	k := math.Floor(m)
	a, b := hashUnit(w.seed, int64(k)), hashUnit(w.seed, int64(k)+1)
	return a + (b-a)*(m-k)
}

// hashUnit maps (seed, k) to -1..1 with splitmix64.
func hashUnit(seed uint64, k int64) float64 {
	z := seed + uint64(k)*0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	z ^= z >> 31
	return float64(z>>11)/float64(1<<52) - 1
}
