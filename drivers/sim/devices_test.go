package sim

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene/fakeclock"
)

func TestDisplay(t *testing.T) {
	d := NewDisplay()
	if err := d.Show(image.NewGray(image.Rect(0, 0, 17, 8))); err == nil {
		t.Error("17x8 frame accepted")
	}
	if err := d.Show(image.NewGray(image.Rect(1, 0, 18, 7))); err == nil {
		t.Error("frame off the origin accepted")
	}
	if err := d.Show(nil); err == nil {
		t.Error("nil frame accepted")
	}
	// A sub-image has a stride wider than 17: Show must honour it.
	big := image.NewGray(image.Rect(0, 0, 40, 10))
	f := big.SubImage(image.Rect(0, 0, 17, 7)).(*image.Gray)
	f.SetGray(0, 0, color.Gray{Y: 200})
	f.SetGray(16, 6, color.Gray{Y: 100})
	v0 := d.Version()
	if err := d.Show(f); err != nil {
		t.Fatal(err)
	}
	f.SetGray(0, 0, color.Gray{Y: 1}) // Show copied: later changes are not shown
	got := d.Frame()
	if got.GrayAt(0, 0).Y != 200 || got.GrayAt(16, 6).Y != 100 || got.GrayAt(1, 0).Y != 0 {
		t.Errorf("frame: %d %d %d", got.GrayAt(0, 0).Y, got.GrayAt(16, 6).Y, got.GrayAt(1, 0).Y)
	}
	d.SetBrightness(128)
	if got := d.Frame(); got.GrayAt(0, 0).Y != 100 || got.GrayAt(16, 6).Y != 50 {
		t.Errorf("at brightness 128: %d %d", got.GrayAt(0, 0).Y, got.GrayAt(16, 6).Y)
	}
	if d.Version() <= v0 {
		t.Error("Version did not increase")
	}
	d.Halt()
	if got := d.Frame(); slices.ContainsFunc(got.Pix, func(v uint8) bool { return v != 0 }) {
		t.Error("Halt did not clear the display")
	}
}

func TestLED(t *testing.T) {
	clk := fakeclock.New(t0)
	l := NewLED("busy", clk)
	if s := l.State(); s.Mode != LEDOff || s.Lit {
		t.Errorf("new LED %+v", s)
	}
	l.On()
	if s := l.State(); s.Mode != LEDOn || !s.Lit {
		t.Errorf("on: %+v", s)
	}
	if err := l.Blink(0); err == nil {
		t.Error("zero blink period accepted")
	}
	l.Blink(time.Second)
	want := []bool{true, true, false, false, true, true, false}
	for i, w := range want {
		if s := l.State(); s.Lit != w || s.Mode != LEDBlink || s.Period != time.Second {
			t.Errorf("at %v: %+v, want lit=%v", time.Duration(i)*250*time.Millisecond, s, w)
		}
		clk.Advance(250 * time.Millisecond)
		if i == 2 {
			l.Blink(time.Second) // same blink again: the phase is kept
		}
	}
	l.Halt()
	if s := l.State(); s.Mode != LEDOff || s.Lit {
		t.Errorf("after Halt: %+v", s)
	}
	if l.String() != "sim.LED(busy)" {
		t.Errorf("String = %q", l.String())
	}
}

func TestButtons(t *testing.T) {
	clk := fakeclock.New(t0)
	b := NewButtons("A", "B")
	b.SetClock(clk)
	if err := b.Press("C", "short"); err == nil || !strings.Contains(err.Error(), "unknown button") {
		t.Errorf("unknown button: %v", err)
	}
	if err := b.Press("A", "tap"); err == nil {
		t.Error("unknown press accepted")
	}
	if err := b.Press("B", PressLong); err != nil {
		t.Fatal(err)
	}
	if ev := <-b.Events(); ev != (ButtonEvent{Name: "B", Press: "long", At: t0}) {
		t.Errorf("event %+v", ev)
	}
	for i := 0; i < eventQueue; i++ {
		if err := b.Press("A", PressShort); err != nil {
			t.Fatalf("press %d: %v", i, err)
		}
	}
	if err := b.Press("A", PressDouble); err == nil {
		t.Error("press on a full queue did not fail")
	}
	b.Halt()
	if len(b.Events()) != 0 {
		t.Error("Halt kept queued presses")
	}
	if err := b.Press("A", PressShort); err == nil {
		t.Error("press after Halt accepted")
	}
}

func deg(a physic.Angle) float64 { return float64(a) / float64(physic.Degree) }

func TestServoPositional(t *testing.T) {
	clk := fakeclock.New(t0)
	s := NewServo("gate", Positional, clk)
	if err := s.SetSpeed(0.5); err == nil {
		t.Error("SetSpeed on a positional servo accepted")
	}
	for _, a := range []physic.Angle{91 * physic.Degree, -91 * physic.Degree} {
		if err := s.SetAngle(a); err == nil {
			t.Errorf("SetAngle(%v) accepted", a)
		}
	}
	if st := s.State(); st.Powered || st.Angle != 0 {
		t.Errorf("new servo %+v", st)
	}
	if err := s.SetAngle(90 * physic.Degree); err != nil {
		t.Fatal(err)
	}
	clk.Advance(50 * time.Millisecond) // 600°/s: 30°
	if st := s.State(); math.Abs(deg(st.Angle)-30) > 1e-6 || deg(st.Target) != 90 || !st.Powered {
		t.Errorf("after 50 ms: %+v", st)
	}
	clk.Advance(100 * time.Millisecond) // would be 90°: arrives exactly
	if st := s.State(); deg(st.Angle) != 90 {
		t.Errorf("after 150 ms: %v°", deg(st.Angle))
	}
	s.SetAngle(-90 * physic.Degree)
	clk.Advance(100 * time.Millisecond) // 60° back
	s.Halt()
	clk.Advance(time.Second) // limp: no further motion
	if st := s.State(); math.Abs(deg(st.Angle)-30) > 1e-6 || st.Powered || st.Target != st.Angle {
		t.Errorf("halted: %+v", st)
	}
	s.SetAngle(0)
	s.SetJammed(true)
	clk.Advance(time.Second)
	if st := s.State(); math.Abs(deg(st.Angle)-30) > 1e-6 || !st.Jammed {
		t.Errorf("jammed servo moved: %+v", st)
	}
	s.SetJammed(false)
	clk.Advance(time.Second)
	if st := s.State(); st.Angle != 0 {
		t.Errorf("unjammed servo did not arrive: %+v", st)
	}
}

func TestServoContinuous(t *testing.T) {
	clk := fakeclock.New(t0)
	s := NewServo("feed", Continuous, clk)
	if err := s.SetAngle(0); err == nil {
		t.Error("SetAngle on a continuous servo accepted")
	}
	for _, v := range []float64{1.01, -2, math.NaN()} {
		if err := s.SetSpeed(v); err == nil {
			t.Errorf("SetSpeed(%v) accepted", v)
		}
	}
	s.SetSpeed(1)
	clk.Advance(2 * time.Second) // 1.5 rev
	s.SetSpeed(-0.5)
	clk.Advance(2 * time.Second) // -0.75 rev
	st := s.State()
	if math.Abs(st.Revolutions-0.75) > 1e-9 || st.Speed != -0.5 || st.Kind != "continuous" {
		t.Errorf("state %+v, want 0.75 rev", st)
	}
	if math.Abs(deg(st.Angle)-270) > 1e-6 {
		t.Errorf("wheel angle %v°, want 270°", deg(st.Angle))
	}
	s.Halt()
	clk.Advance(time.Minute)
	if st := s.State(); math.Abs(st.Revolutions-0.75) > 1e-9 || st.Speed != 0 || st.Powered {
		t.Errorf("halted: %+v", st)
	}
}

func hpa(e physic.Env) float64 { return float64(e.Pressure) / float64(100*physic.Pascal) }

func TestWeatherScenarios(t *testing.T) {
	for _, tc := range []struct {
		scenario     string
		start, delta float64 // hPa at start, change over 3 simulated hours
		after        float64 // change over the next 3 hours
	}{
		{ScenarioStorm, 1013, -8, 0},
		{ScenarioClearing, 995, 6, 0},
		{ScenarioSteady, 1021, 0.3 * math.Sin(math.Pi/4), 0.3 - 0.3*math.Sin(math.Pi/4)}, // 24 h sine
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			clk := fakeclock.New(t0)
			w := NewWeather(&WeatherOpts{Clock: clk, Scenario: tc.scenario, Seed: 7})
			var e0, e3, e6 physic.Env
			if err := w.Sense(&e0); err != nil {
				t.Fatal(err)
			}
			clk.Advance(3 * time.Minute) // 3 h at the default 60x
			if got := w.SimTime().Sub(t0); got != 3*time.Hour {
				t.Fatalf("SimTime advanced %v, want 3h", got)
			}
			w.Sense(&e3)
			clk.Advance(3 * time.Minute)
			w.Sense(&e6)
			if d := hpa(e0) - tc.start; math.Abs(d) > 0.1 {
				t.Errorf("start %.2f hPa, want %.0f", hpa(e0), tc.start)
			}
			if d := hpa(e3) - hpa(e0); math.Abs(d-tc.delta) > 0.2 {
				t.Errorf("3 h change %.2f hPa, want %.0f ±0.2", d, tc.delta)
			}
			if d := hpa(e6) - hpa(e3); math.Abs(d-tc.after) > 0.4 {
				t.Errorf("next 3 h change %.2f hPa, want about %.0f", d, tc.after)
			}
			c := e0.Temperature.Celsius()
			if c < -5 || c > 30 || e0.Humidity < 10*physic.PercentRH || e0.Humidity > 100*physic.PercentRH {
				t.Errorf("implausible %v %v", e0.Temperature, e0.Humidity)
			}
		})
	}
}

func TestWeatherSteadyWobbleAndNoise(t *testing.T) {
	clk := fakeclock.New(t0)
	w := NewWeather(&WeatherOpts{Clock: clk, Seed: 1})
	other := NewWeather(&WeatherOpts{Clock: clk, Seed: 2})
	same := NewWeather(&WeatherOpts{Clock: clk, Seed: 1})
	lo, hi := math.Inf(1), math.Inf(-1)
	differ := false
	for i := 0; i < 48*60; i++ { // two simulated days, a sample a simulated minute
		var a, b, c physic.Env
		w.Sense(&a)
		other.Sense(&b)
		same.Sense(&c)
		if a != c {
			t.Fatal("same seed, different readings")
		}
		differ = differ || a.Pressure != b.Pressure
		lo, hi = math.Min(lo, hpa(a)), math.Max(hi, hpa(a))
		clk.Advance(time.Second)
	}
	if lo < 1021-0.36 || hi > 1021+0.36 || hi-lo < 0.5 {
		t.Errorf("steady range %.2f..%.2f, want a ±0.3 wobble around 1021", lo, hi)
	}
	if !differ {
		t.Error("different seeds gave identical noise")
	}
}

func TestWeatherControls(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC))
	w := NewWeather(&WeatherOpts{Clock: clk, Speedup: 3600})
	if got := w.Scenarios(); !slices.Equal(got, []string{"steady", "storm", "clearing"}) {
		t.Errorf("Scenarios = %v", got)
	}
	if err := w.SetScenario("hurricane"); err == nil {
		t.Error("unknown scenario accepted")
	}
	var night, day physic.Env
	w.Sense(&night)
	clk.Advance(12 * time.Second) // 12 simulated hours: 03:00 -> 15:00
	w.Sense(&day)
	if d := day.Temperature.Celsius() - night.Temperature.Celsius(); d < 5 {
		t.Errorf("no daily swing: night %v, day %v", night.Temperature, day.Temperature)
	}
	if err := w.SetScenario(ScenarioStorm); err != nil {
		t.Fatal(err)
	}
	var e physic.Env
	w.Sense(&e) // the storm starts from the steady reading, not from 1013
	if math.Abs(hpa(e)-hpa(day)) > 0.15 || w.Scenario() != "storm" || w.String() != "sim.Weather(storm)" {
		t.Errorf("after SetScenario: %.2f hPa (was %.2f), %s", hpa(e), hpa(day), w)
	}
	w.SetFailing(true)
	if err := w.Sense(&e); err == nil {
		t.Error("failing sensor answered")
	}
	w.SetFailing(false)
	if err := w.Sense(nil); err == nil {
		t.Error("nil env accepted")
	}
	bad := NewWeather(&WeatherOpts{Clock: clk, Scenario: "tornado"})
	if err := bad.Sense(&e); err == nil || !strings.Contains(err.Error(), "tornado") {
		t.Errorf("unknown scenario from opts: %v", err)
	}
}

// TestConcurrent exercises every device from several goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	clk := fakeclock.New(t0)
	p := NewPrinter(&PrinterOpts{MaxRows: 500})
	d := NewDisplay()
	l := NewLED("x", clk)
	b := NewButtons("A")
	s := NewServo("s", Continuous, clk)
	w := NewWeather(&WeatherOpts{Clock: clk})
	cam := NewCamera(&CameraOpts{Width: 32, Height: 32, Clock: clk})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				fmt.Fprintf(p, "line %d\n", i)
				p.Roll()
				d.Show(image.NewGray(image.Rect(0, 0, 17, 7)))
				d.Frame()
				l.Blink(time.Second)
				l.State()
				b.Press("A", "short")
				select {
				case <-b.Events():
				default:
				}
				s.SetSpeed(0.5)
				s.State()
				var e physic.Env
				w.Sense(&e)
				cam.Snapshot()
				clk.Advance(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if st := p.Stats(); st.TextLines != 200 {
		t.Errorf("TextLines = %d, want 200", st.TextLines)
	}
}
