package barometer

import (
	"math"
	"time"

	"periph.io/x/conn/v3/physic"
)

// HPa is one hectopascal (millibar), the unit barometers are read in.
const HPa = 100 * physic.Pascal

// hpa converts p to hectopascals for arithmetic.
func hpa(p physic.Pressure) float64 { return float64(p) / float64(HPa) }

// fromHPa converts hectopascals back, rounded to the nanopascal.
func fromHPa(v float64) physic.Pressure { return physic.Pressure(math.Round(v * float64(HPa))) }

// celsius converts t to degrees Celsius.
func celsius(t physic.Temperature) float64 {
	return float64(t-physic.ZeroCelsius) / float64(physic.Celsius)
}

// SeaLevel reduces the station pressure p, measured at altitudeM metres with
// air temperature t, to sea level (QNH-like, the barometric formula of the
// international standard atmosphere):
//
//	P0 = P · (1 − 0.0065h/(T + 0.0065h + 273.15))^−5.257
func SeaLevel(p physic.Pressure, t physic.Temperature, altitudeM float64) physic.Pressure {
	if altitudeM == 0 {
		return p
	}
	lh := 0.0065 * altitudeM
	k := 1 - lh/(celsius(t)+lh+273.15)
	if k <= 0 || math.IsNaN(k) {
		return p // absurd altitude or temperature: no reduction rather than Inf
	}
	return fromHPa(hpa(p) * math.Pow(k, -5.257))
}

// Tendency names a 3-hour pressure change in the UK Met Office terms.
func Tendency(change physic.Pressure) string {
	d := math.Round(hpa(change)*10) / 10 // the Met Office reports tenths
	dir := "rising"
	if d < 0 {
		dir, d = "falling", -d
	}
	switch {
	case d < 0.1:
		return "steady"
	case d <= 1.5:
		return dir + " slowly"
	case d <= 3.5:
		return dir
	case d <= 6.0:
		return dir + " quickly"
	}
	return dir + " very rapidly"
}

// Level is a storm warning level.
type Level uint8

const (
	LevelNone    Level = iota
	LevelWatch         // fall of 1.6 hPa in 3 h
	LevelWarning       // 3.6 hPa in 3 h
	LevelGale          // 6 hPa in 3 h, or faster than 2 hPa/h
)

func (l Level) String() string {
	switch l {
	case LevelNone:
		return "none"
	case LevelWatch:
		return "watch"
	case LevelWarning:
		return "warning"
	case LevelGale:
		return "gale"
	}
	return "unknown"
}

// Warn returns the warning level for a 3-hour change and the change over the
// last hour (both negative when falling). Changes are compared in tenths of a
// hPa, like the tendency terms, so "falling 1.6" and "watch" always agree.
func Warn(change3h, change1h physic.Pressure) Level {
	d3 := math.Round(hpa(change3h)*10) / 10
	d1 := math.Round(hpa(change1h)*10) / 10
	switch {
	case d3 <= -6 || d1 < -2:
		return LevelGale
	case d3 <= -3.6:
		return LevelWarning
	case d3 <= -1.6:
		return LevelWatch
	}
	return LevelNone
}

// Trend is the direction the Zambretti forecaster needs.
type Trend int8

const (
	Falling Trend = -1
	Steady  Trend = 0
	Rising  Trend = 1
)

func (t Trend) String() string {
	switch t {
	case Falling:
		return "falling"
	case Rising:
		return "rising"
	}
	return "steady"
}

// trendThreshold is the 3-hour change that counts as rising or falling for
// the forecaster: 0.1 hPa/h (as pywws), well above the BMP280's ±0.12 hPa
// relative accuracy once samples are averaged.
const trendThreshold = 0.3

// TrendOf classifies a 3-hour change for Zambretti.
func TrendOf(change3h physic.Pressure) Trend {
	switch d := hpa(change3h); {
	case d >= trendThreshold:
		return Rising
	case d <= -trendThreshold:
		return Falling
	}
	return Steady
}

// Zambretti option tables (beteljuice form): index by the pressure option
// 0 (950 hPa) .. 21 (1050 hPa), value is the letter A=0 .. Z=25.
var (
	zRise   = [22]uint8{25, 25, 25, 24, 24, 19, 16, 12, 11, 9, 8, 6, 5, 2, 1, 1, 0, 0, 0, 0, 0, 0}
	zSteady = [22]uint8{25, 25, 25, 25, 25, 25, 23, 23, 22, 18, 15, 13, 10, 4, 1, 1, 0, 0, 0, 0, 0, 0}
	zFall   = [22]uint8{25, 25, 25, 25, 25, 25, 25, 25, 23, 23, 21, 20, 17, 14, 7, 3, 1, 1, 1, 0, 0, 0}
	zText   = [26]string{
		"Settled fine", "Fine weather", "Becoming fine", "Fine, becoming less settled",
		"Fine, possible showers", "Fairly fine, improving", "Fairly fine, possible showers early",
		"Fairly fine, showery later", "Showery early, improving", "Changeable, mending",
		"Fairly fine, showers likely", "Rather unsettled, clearing later", "Unsettled, probably improving",
		"Showery, bright intervals", "Showery, becoming less settled", "Changeable, some rain",
		"Unsettled, short fine intervals", "Unsettled, rain later", "Unsettled, some rain",
		"Mostly very unsettled", "Occasional rain, worsening", "Rain at times, very unsettled",
		"Rain at frequent intervals", "Rain, very unsettled", "Stormy, may improve", "Stormy, much rain",
	}
)

// Forecast is a Zambretti forecast.
type Forecast struct {
	Letter      string `json:"letter"` // "A" (settled fine) .. "Z" (stormy, much rain)
	Text        string `json:"text"`
	Exceptional bool   `json:"exceptional"` // pressure outside 950–1050 hPa
}

// Zambretti forecasts from the sea-level pressure p0, its trend and the
// month, for calm wind (tinkerbox has no wind sensor). south selects the
// southern hemisphere, whose seasons are swapped.
func Zambretti(p0 physic.Pressure, trend Trend, month time.Month, south bool) Forecast {
	const bottom, top = 950.0, 1050.0
	const rng = top - bottom
	k := math.Round(rng/22*1000) / 1000 // 4.545, as the original rounds it
	p := hpa(p0)
	summer := month >= time.April && month <= time.September
	if summer != south { // the adjustment applies in the local summer
		p += float64(trend) * 7.0 / 100 * rng
	}
	if p == top {
		p = top - 1
	}
	opt := math.Floor((p - bottom) / k)
	f := Forecast{}
	if opt < 0 || math.IsNaN(opt) {
		opt, f.Exceptional = 0, true
	}
	if opt > 21 {
		opt, f.Exceptional = 21, true
	}
	var idx uint8
	switch trend {
	case Rising:
		idx = zRise[int(opt)]
	case Falling:
		idx = zFall[int(opt)]
	default:
		idx = zSteady[int(opt)]
	}
	f.Letter = string(rune('A' + idx))
	f.Text = zText[idx]
	if f.Exceptional {
		f.Text = "Exceptional weather, " + f.Text
	}
	return f
}
