package barometer

import (
	"math"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
)

func hp(v float64) physic.Pressure { return fromHPa(v) }

func TestSeaLevelVector(t *testing.T) {
	// HARDWARE.md: 1000 hPa at 100 m and 15 °C → 1011.916 hPa.
	got := hpa(SeaLevel(hp(1000), physic.ZeroCelsius+15*physic.Celsius, 100))
	if math.Abs(got-1011.916) > 0.0005 {
		t.Errorf("SeaLevel = %.4f hPa, want 1011.916", got)
	}
	if got := SeaLevel(hp(1000), physic.ZeroCelsius, 0); got != hp(1000) {
		t.Errorf("at sea level = %v, want unchanged", got)
	}
	// An absurd altitude must not produce Inf or NaN.
	if got := SeaLevel(hp(1000), physic.ZeroCelsius, -1e9); got != hp(1000) {
		t.Errorf("absurd altitude = %v, want the station pressure", got)
	}
}

func TestTendencyTerms(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0, "steady"}, {0.04, "steady"}, {-0.04, "steady"},
		{0.1, "rising slowly"}, {1.5, "rising slowly"}, {1.6, "rising"}, {3.5, "rising"},
		{3.6, "rising quickly"}, {6.0, "rising quickly"}, {6.1, "rising very rapidly"},
		{-0.1, "falling slowly"}, {-1.6, "falling"}, {-3.6, "falling quickly"}, {-8, "falling very rapidly"},
	} {
		if got := Tendency(hp(c.d)); got != c.want {
			t.Errorf("Tendency(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestWarnLevels(t *testing.T) {
	for _, c := range []struct {
		d3, d1 float64
		want   Level
	}{
		{0, 0, LevelNone}, {-1.5, -0.5, LevelNone}, {+5, +2, LevelNone},
		{-1.6, -0.5, LevelWatch}, {-3.5, -1, LevelWatch},
		{-3.6, -1.2, LevelWarning}, {-5.9, -1.9, LevelWarning},
		{-6, -2, LevelGale}, {-2, -2.1, LevelGale}, // a fast fall in the last hour
	} {
		if got := Warn(hp(c.d3), hp(c.d1)); got != c.want {
			t.Errorf("Warn(%v, %v) = %v, want %v", c.d3, c.d1, got, c.want)
		}
	}
	if LevelGale.String() != "gale" || Level(9).String() != "unknown" {
		t.Error("Level names")
	}
}

func TestZambrettiVectors(t *testing.T) {
	// HARDWARE.md: 1013 hPa, January, calm: falling → O, steady → E, rising → C.
	for trend, want := range map[Trend]string{Falling: "O", Steady: "E", Rising: "C"} {
		f := Zambretti(hp(1013), trend, time.January, false)
		if f.Letter != want || f.Exceptional {
			t.Errorf("Zambretti(1013, %v, Jan) = %+v, want %s", trend, f, want)
		}
	}
	if f := Zambretti(hp(1013), Falling, time.January, false); f.Text != "Showery, becoming less settled" {
		t.Errorf("O text = %q", f.Text)
	}
	// Southern January is summer: rising adds 7 hPa → option 15 → rise[15] = B.
	if f := Zambretti(hp(1013), Rising, time.January, true); f.Letter != "B" {
		t.Errorf("south January rising = %+v, want B", f)
	}
	// Northern July is summer too.
	if f := Zambretti(hp(1013), Rising, time.July, false); f.Letter != "B" {
		t.Errorf("north July rising = %+v, want B", f)
	}
	if f := Zambretti(hp(930), Falling, time.March, false); f.Letter != "Z" || !f.Exceptional {
		t.Errorf("930 hPa = %+v, want exceptional Z", f)
	}
	if f := Zambretti(hp(1080), Steady, time.March, false); f.Letter != "A" || !f.Exceptional {
		t.Errorf("1080 hPa = %+v, want exceptional A", f)
	}
	if f := Zambretti(hp(1050), Steady, time.March, false); f.Letter != "A" || f.Exceptional {
		t.Errorf("1050 hPa = %+v, want A", f)
	}
}

func TestTrendOf(t *testing.T) {
	if TrendOf(hp(0.29)) != Steady || TrendOf(hp(0.3)) != Rising || TrendOf(hp(-0.3)) != Falling {
		t.Error("TrendOf thresholds")
	}
}
