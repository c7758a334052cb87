package sim_test

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/drivers/sim"
	"tinkerbox/scenes/scene/fakeclock"
)

// The printer decodes what a real ESC/POS driver sends.
func ExamplePrinter() {
	p := sim.NewPrinter(nil)
	fmt.Fprint(p, "\x1b@Hello\n")                              // init, one text line
	p.Write([]byte{0x1d, 'v', '0', 0, 1, 0, 2, 0, 0xff, 0x0f}) // 8x2 raster
	p.Write([]byte{0x1d, 'V', 66, 0})                          // cut
	p.Write([]byte{0x10, 0x04, 4})                             // paper sensor?
	status := make([]byte, 1)
	p.Read(status)
	s := p.Stats()
	fmt.Printf("%d rows, %d text line, %d raster, %d cut, status %#x\n", p.Rows(), s.TextLines, s.Rasters, s.Cuts, status[0])
	// Output: 27 rows, 1 text line, 1 raster, 1 cut, status 0x12
}

// A storm scenario on an accelerated clock: three hours pass in three minutes.
func ExampleWeather() {
	clk := fakeclock.New(time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC))
	w := sim.NewWeather(&sim.WeatherOpts{Clock: clk, Scenario: sim.ScenarioStorm, Speedup: 60})
	var before, after physic.Env
	w.Sense(&before)
	clk.Advance(3 * time.Minute)
	w.Sense(&after)
	fall := float64(before.Pressure-after.Pressure) / float64(100*physic.Pascal)
	fmt.Printf("fell %.0f hPa by %s\n", fall, w.SimTime().Format("15:04"))
	// Output: fell 8 hPa by 15:00
}

// Servo positions follow the clock without a goroutine.
func ExampleServo() {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := sim.NewServo("gate", sim.Positional, clk)
	s.SetAngle(60 * physic.Degree)
	clk.Advance(50 * time.Millisecond)
	fmt.Println(s.State().Angle)
	clk.Advance(50 * time.Millisecond)
	fmt.Println(s.State().Angle)
	// Output:
	// 30.00°
	// 60.00°
}
