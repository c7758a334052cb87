package sim

import (
	"math"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene/fakeclock"
)

// senseHPa reads w once; the test fails on a read error.
func senseHPa(t *testing.T, w *Weather) float64 {
	t.Helper()
	var e physic.Env
	if err := w.Sense(&e); err != nil {
		t.Fatal(err)
	}
	return hpa(e)
}

// Every change of scenario continues from the current pressure: no reading
// steps by more than the noise, minute to minute, and each scenario moves
// the pressure its own way from there.
func TestWeatherScenarioChangesAreSmooth(t *testing.T) {
	order := []string{ScenarioSteady, ScenarioStorm, ScenarioClearing, ScenarioStorm, ScenarioSteady, ScenarioClearing, ScenarioClearing}
	clk := fakeclock.New(t0)
	w := NewWeather(&WeatherOpts{Clock: clk, Seed: 3})
	prev := senseHPa(t, w)
	for i, sc := range order {
		if err := w.SetScenario(sc); err != nil {
			t.Fatal(err)
		}
		start := senseHPa(t, w)
		if d := math.Abs(start - prev); d > 0.15 {
			t.Errorf("switch %d to %s: pressure stepped %.2f hPa (%.2f -> %.2f)", i, sc, d, prev, start)
		}
		last := start
		for m := 0; m < 150; m++ { // 2.5 simulated hours, a sample a simulated minute
			clk.Advance(time.Second)
			p := senseHPa(t, w)
			// The steepest part of a storm's smoothstep is 4 hPa/h, 0.067 a
			// minute, plus the noise's own minute-to-minute change.
			if d := math.Abs(p - last); d > 0.07+0.1 {
				t.Errorf("%s minute %d: stepped %.2f hPa", sc, m, d)
			}
			last = p
		}
		switch d := last - start; sc {
		case ScenarioStorm:
			if d > -6 {
				t.Errorf("storm from %.1f fell only %.2f hPa in 2.5 h", start, d)
			}
		case ScenarioClearing:
			if d < 4 {
				t.Errorf("clearing from %.1f rose only %.2f hPa in 2.5 h", start, d)
			}
		case ScenarioSteady:
			if math.Abs(d) > 0.4 {
				t.Errorf("steady from %.1f moved %.2f hPa in 2.5 h", start, d)
			}
		}
		prev = last
	}
}

// Pressing "storm" again and again stops at a pressure barometers have seen.
func TestWeatherStaysPlausible(t *testing.T) {
	clk := fakeclock.New(t0)
	w := NewWeather(&WeatherOpts{Clock: clk, Scenario: ScenarioStorm})
	for range 20 {
		clk.Advance(4 * time.Minute)
		w.SetScenario(ScenarioStorm)
	}
	if p := senseHPa(t, w); p < lowestHPa-0.1 {
		t.Errorf("20 storms: %.1f hPa, below %d", p, lowestHPa)
	}
	for range 20 {
		clk.Advance(4 * time.Minute)
		w.SetScenario(ScenarioClearing)
	}
	if p := senseHPa(t, w); p > highestHPa+0.1 {
		t.Errorf("20 clearings: %.1f hPa, above %d", p, highestHPa)
	}
}

// Resume moves simulated time on past a stored history and continues from
// its last reading; a history in the past leaves the clock alone.
func TestWeatherResume(t *testing.T) {
	clk := fakeclock.New(t0)
	w := NewWeather(&WeatherOpts{Clock: clk, Seed: 1})
	stored := t0.Add(30 * time.Hour) // a previous run, 60x faster than real time
	w.Resume(stored, 1003.4)
	if got := w.SimTime(); !got.Equal(stored) {
		t.Errorf("SimTime after Resume = %v, want %v", got, stored)
	}
	if p := senseHPa(t, w); math.Abs(p-1003.4) > 0.1 {
		t.Errorf("resumed at %.2f hPa, want 1003.4", p)
	}
	clk.Advance(time.Minute)
	if got := w.SimTime(); !got.Equal(stored.Add(time.Hour)) {
		t.Errorf("an hour later SimTime = %v", got)
	}
	before := w.SimTime()
	w.Resume(t0, 0) // older history, no reading: time and pressure go on
	if got := w.SimTime(); !got.Equal(before) {
		t.Errorf("Resume into the past moved the clock to %v", got)
	}
	if p := senseHPa(t, w); math.Abs(p-1003.4) > 0.4 {
		t.Errorf("Resume without a reading jumped to %.2f hPa", p)
	}
}

func TestWeatherStart(t *testing.T) {
	clk := fakeclock.New(t0)
	start := t0.Add(-48 * time.Hour)
	w := NewWeather(&WeatherOpts{Clock: clk, Start: start})
	if got := w.SimTime(); !got.Equal(start) {
		t.Errorf("SimTime = %v, want the Start %v", got, start)
	}
}
