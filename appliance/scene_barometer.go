package appliance

import (
	"context"
	"time"

	"tinkerbox/appliance/config"
	"tinkerbox/appliance/web"
	"tinkerbox/scenes/barometer"
	"tinkerbox/scenes/scene"
)

// simSpeedup is the simulated weather's clock rate (board.openSim's
// WeatherOpts.Speedup): sampling every interval/simSpeedup of real time
// records one sample per simulated interval.
const simSpeedup = 60

// barometerOpts maps the config onto the scene's options. In simulation the
// samples are stamped with the weather's accelerated time, so a storm front
// develops on the front panel within minutes.
func (a *app) barometerOpts() barometer.Opts {
	o := barometer.DefaultOpts()
	if d := a.cfg.Barometer.SampleInterval.Duration; d > 0 {
		o.Interval = d
	}
	o.AltitudeM = a.cfg.Barometer.AltitudeM
	o.South = a.cfg.Barometer.Hemisphere == config.South
	o.Stamp = a.clock.Now
	if sb := a.board.Sim; sb != nil && sb.Weather != nil {
		o.Stamp = sb.Weather.SimTime
		o.Interval = max(o.Interval/simSpeedup, time.Second)
	}
	// The display driver applies scroll.brightness; at night the scene
	// scales its pixels down to scroll.night_brightness.
	sc := a.cfg.Scroll
	o.Dim = func(t time.Time) uint8 {
		if !sc.IsNight(t) || sc.Brightness <= 0 || sc.NightBrightness >= sc.Brightness {
			return 255
		}
		return uint8(sc.NightBrightness * 255 / sc.Brightness)
	}
	return o
}

// barometerScene builds the barometer on the Enviro pHAT's BMP280 (or the
// simulated weather), the scroll display and the status lights.
func (a *app) barometerScene() (scene.Scene, error) {
	a.resumeSimWeather(context.Background())
	o := a.barometerOpts()
	o.Recorded = true // a.recordBarometer samples whichever scene is on
	o.Reporter = a.reporter(barometer.Name)
	a.baro = barometer.New(a.board.Env, a.board.Display, a.board.Lights, a.store, a.clock, o)
	return a.baro, nil
}

// resumeSimWeather starts the simulated weather after the history a previous
// run stored: its accelerated clock runs ahead of real time, so a fresh one
// would stamp new samples under the old ones (a reading "from tomorrow" that
// never changes) and restart the pressure from the scenario's usual value.
func (a *app) resumeSimWeather(ctx context.Context) {
	sb := a.board.Sim
	if sb == nil || sb.Weather == nil {
		return
	}
	latest, err := a.store.Latest(ctx, 1)
	if err != nil || len(latest) == 0 {
		return
	}
	last := latest[0]
	step := max(a.barometerOpts().Interval*simSpeedup, time.Second)
	hpa := 0.0
	if last.OK() {
		hpa = float64(last.Pressure) / float64(barometer.HPa)
	}
	sb.Weather.Resume(last.At.Add(step), hpa)
}

// recordBarometer keeps the pressure history going while other scenes run,
// so a storm building overnight is in the chart whatever the box was doing.
func (a *app) recordBarometer(ctx context.Context) {
	if a.baro == nil {
		return
	}
	if err := a.baro.Record(ctx); err != nil {
		a.record("error", barometer.Name, "recording stopped: "+err.Error())
	}
}

// mountBarometer adds the barometer page and API; in simulation the page
// also chooses the weather scenario.
func (a *app) mountBarometer(srv *web.Server) {
	o := a.barometerOpts()
	var sim web.WeatherSim
	if sb := a.board.Sim; sb != nil && sb.Weather != nil {
		sim = sb.Weather
	}
	every := o.Interval // samples come this often, in the stamps' time
	if sim != nil {
		every *= simSpeedup
	}
	srv.MountBarometer(baroView{barometer.NewView(a.store, o.Stamp, o), every}, o.AltitudeM, sim)
}

// baroView tells the page how often samples come (web.BarometerClock), so
// it can say when they stopped.
type baroView struct {
	*barometer.View
	every time.Duration
}

func (v baroView) SampleEvery() time.Duration { return v.every }
