package sim

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Weather scenarios. Each starts from the pressure at the moment it is
// chosen, so a change of scenario never jumps; a fresh sensor starts from the
// scenario's usual pressure.
const (
	ScenarioSteady   = "steady"   // holds, ±0.3 hPa daily wobble (fresh: a 1021 hPa high)
	ScenarioStorm    = "storm"    // falls 8 hPa over 3 h, then bottoms out (fresh: from 1013)
	ScenarioClearing = "clearing" // rises 6 hPa over 3 h, then holds (fresh: from 995)
)

const (
	noiseHPa = 0.05 // sensor noise amplitude
	// Scenarios stop at these bounds: pressing "storm" again and again must
	// not take the sea below any pressure a barometer has seen.
	lowestHPa, highestHPa = 960, 1045
)

// freshHPa is where a scenario starts on a sensor with no history.
var freshHPa = map[string]float64{ScenarioSteady: 1021, ScenarioStorm: 1013, ScenarioClearing: 995}

// freshCloud is a fresh scenario's sky: 0 fair, 1 stormy.
var freshCloud = map[string]float64{ScenarioSteady: 0, ScenarioStorm: 0, ScenarioClearing: 1}

// WeatherOpts configures a Weather.
type WeatherOpts struct {
	Clock    Clock   // real time; nil is the wall clock
	Speedup  float64 // simulated seconds per real second
	Scenario string  // one of Scenarios()
	Seed     int64   // noise seed: same seed, same readings
	// Start is the simulated time to start at; zero is the clock's now.
	// The simulator resumes after the history it already stored (Resume).
	Start time.Time
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
	base      float64   // hPa at scStart, before noise
	cloud     float64   // progress (0 fair .. 1 stormy) at scStart
	failing   bool
}

// NewWeather returns a sensor running opts.Scenario from now. Zero or nil
// options take the defaults. An unknown scenario makes Sense fail until
// SetScenario names a known one.
func NewWeather(opts *WeatherOpts) *Weather {
	o := DefaultWeatherOpts()
	if opts != nil {
		o.Clock, o.Seed, o.Start = opts.Clock, opts.Seed, opts.Start
		if opts.Speedup > 0 && !math.IsInf(opts.Speedup, 0) {
			o.Speedup = opts.Speedup
		}
		if opts.Scenario != "" {
			o.Scenario = opts.Scenario
		}
	}
	clk := orSystem(o.Clock)
	now := clk.Now()
	start := now
	if !o.Start.IsZero() {
		start = o.Start
	}
	return &Weather{
		clk:       clk,
		speedup:   o.Speedup,
		seed:      uint64(o.Seed),
		realStart: now,
		simStart:  start,
		scenario:  o.Scenario,
		scStart:   start,
		base:      freshHPa[o.Scenario],
		cloud:     freshCloud[o.Scenario],
	}
}

// Resume continues the weather after a stored history: simulated time jumps
// forward to after (when that is later than now, as it is after a restart of
// an accelerated simulator) and the running scenario continues from hpa, the
// last stored reading. Without this a restart starts the clock under the
// stored samples and the pressure from the scenario's usual value.
func (w *Weather) Resume(after time.Time, hpa float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.simTime(); after.After(t) {
		w.realStart, w.simStart = w.clk.Now(), after
	}
	w.scStart = w.simTime()
	if hpa >= lowestHPa && hpa <= highestHPa {
		w.base = hpa
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

// SetScenario starts scenario name from the current simulated time and
// pressure, so the reading moves on smoothly instead of jumping.
func (w *Weather) SetScenario(name string) error {
	if !slices.Contains(w.Scenarios(), name) {
		return fmt.Errorf("sim: weather: unknown scenario %q (have %v)", name, w.Scenarios())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.simTime()
	if p, c, ok := w.curve(now); ok {
		w.base, w.cloud = p, c
	} else {
		// From an unknown scenario: nothing to continue from.
		w.base, w.cloud = freshHPa[name], freshCloud[name]
	}
	w.scenario, w.scStart = name, now
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
	hpa, progress, ok := w.curve(t)
	if !ok {
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

// curve is the scenario's pressure at simulated time t, without noise, and
// its progress from fair (0) to stormy (1) for temperature and humidity.
// Changes follow a smoothstep, so a new scenario starts at the old one's
// pressure and slope zero: the 3-hour tendency never sees a step.
func (w *Weather) curve(t time.Time) (hpa, progress float64, ok bool) {
	e := t.Sub(w.scStart).Hours()
	f := smoothstep(e / 3)
	switch w.scenario {
	case ScenarioSteady:
		return w.base + 0.3*math.Sin(2*math.Pi*e/24), w.cloud * (1 - f), true
	case ScenarioStorm:
		drop := math.Max(0, math.Min(8, w.base-lowestHPa))
		return w.base - drop*f, w.cloud + (1-w.cloud)*f, true
	case ScenarioClearing:
		rise := math.Max(0, math.Min(6, highestHPa-w.base))
		return w.base + rise*f, w.cloud * (1 - f), true
	}
	return 0, 0, false
}

// smoothstep eases 0..1 in and out; x is clamped to 0..1.
func smoothstep(x float64) float64 {
	x = math.Max(0, math.Min(1, x))
	return x * x * (3 - 2*x)
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
