package appliance

import (
	"context"
	"math"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/appliance/board"
	"tinkerbox/appliance/config"
	"tinkerbox/appliance/store"
	"tinkerbox/drivers/sim"
	"tinkerbox/scenes/barometer"
	"tinkerbox/scenes/scene/fakeclock"
)

// simBaro is the simulator's barometer path: the simulated weather, the real
// store and the barometer's own analysis, on a fake clock.
type simBaro struct {
	t     *testing.T
	clk   *fakeclock.Clock
	a     *app
	w     *sim.Weather
	view  *barometer.View
	every time.Duration // real time between samples
}

func newSimBaro(t *testing.T, dir string, clk *fakeclock.Clock) *simBaro {
	t.Helper()
	st, err := store.Open(context.Background(), dir, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := sim.NewWeather(&sim.WeatherOpts{Clock: clk, Speedup: simSpeedup, Scenario: sim.ScenarioSteady, Seed: 1})
	a := &app{cfg: config.Default(), board: &board.Board{Sim: &board.Sim{Weather: w}}, store: st, clock: clk}
	a.resumeSimWeather(context.Background())
	o := a.barometerOpts()
	return &simBaro{t: t, clk: clk, a: a, w: w, view: barometer.NewView(st, o.Stamp, o), every: o.Interval}
}

// run records n samples the way the scene does and returns the highest
// warning level the analysis reported.
func (b *simBaro) run(n int) barometer.Level {
	b.t.Helper()
	ctx := context.Background()
	worst := barometer.LevelNone
	for range n {
		b.clk.Advance(b.every)
		var e physic.Env
		if err := b.w.Sense(&e); err != nil {
			b.t.Fatal(err)
		}
		smp := barometer.Sample{At: b.w.SimTime(), Pressure: e.Pressure, Temperature: e.Temperature}
		if err := b.a.store.AddSample(ctx, smp); err != nil {
			b.t.Fatal(err)
		}
		r, err := b.view.Report(ctx)
		if err != nil {
			b.t.Fatal(err)
		}
		worst = max(worst, r.Level)
	}
	return worst
}

// The cases: "clearing" after a steady high raised a gale warning
// (the pressure jumped from 1021 to 995), and a storm must still warn.
func TestSimWeatherWarnsOnlyInAStorm(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	b := newSimBaro(t, t.TempDir(), clk)
	if lvl := b.run(4 * 60); lvl != barometer.LevelNone { // 4 simulated hours steady
		t.Fatalf("steady weather warned: %v", lvl)
	}
	b.w.SetScenario(sim.ScenarioClearing)
	if lvl := b.run(6 * 60); lvl != barometer.LevelNone {
		t.Errorf("clearing after steady warned: %v", lvl)
	}
	b.w.SetScenario(sim.ScenarioSteady)
	if lvl := b.run(4 * 60); lvl != barometer.LevelNone {
		t.Errorf("steady after clearing warned: %v", lvl)
	}
	b.w.SetScenario(sim.ScenarioStorm)
	if lvl := b.run(4 * 60); lvl < barometer.LevelWarning {
		t.Errorf("a storm reached only %v", lvl)
	}
	b.w.SetScenario(sim.ScenarioClearing)
	b.run(4 * 60)
	if r, _ := b.view.Report(context.Background()); r.Level != barometer.LevelNone {
		t.Errorf("4 h into clearing after the storm: still %v", r.Level)
	}
}

// A second run of the simulator on the same data continues after the first
// run's samples, from their last pressure: no reading "from tomorrow" that
// never changes, no hour with more than 60 one-a-minute samples.
func TestSimWeatherResumesAfterStoredHistory(t *testing.T) {
	dir := t.TempDir()
	clk := fakeclock.New(time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC))
	first := newSimBaro(t, dir, clk)
	first.w.SetScenario(sim.ScenarioStorm)
	first.run(5 * 60) // 5 simulated hours in 5 real minutes
	lastRun, err := first.a.store.Latest(context.Background(), 1)
	if err != nil || len(lastRun) != 1 {
		t.Fatal(lastRun, err)
	}
	clk.Advance(10 * time.Second) // restarted: real time has hardly moved, simulated time was 5 h ahead
	second := newSimBaro(t, dir, clk)
	if got := second.w.SimTime(); !got.After(lastRun[0].At) {
		t.Fatalf("restarted simulation at %v, before the stored %v", got, lastRun[0].At)
	}
	second.run(90)
	from, to := lastRun[0].At.Add(-6*time.Hour), second.w.SimTime()
	pts, err := second.a.store.History(context.Background(), from, to, 12)
	if err != nil {
		t.Fatal(err)
	}
	perBucket := int(to.Sub(from)/12/time.Minute) + 1 // one sample a simulated minute
	for _, p := range pts {
		if p.N > perBucket {
			t.Errorf("the %d minutes at %v hold %d samples", perBucket, p.At, p.N)
		}
	}
	r, err := second.view.Report(context.Background())
	if err != nil || !r.Valid {
		t.Fatal(r, err)
	}
	if !r.At.After(lastRun[0].At) {
		t.Errorf("report at %v, not after the first run's last sample %v", r.At, lastRun[0].At)
	}
	was := float64(lastRun[0].Pressure) / float64(barometer.HPa)
	if now := float64(r.Pressure) / float64(barometer.HPa); math.Abs(now-was) > 0.5 {
		t.Errorf("pressure went from %.2f to %.2f hPa across the restart", was, now)
	}
}
