package is31fl3731_test

import (
	"fmt"
	"image"
	"log"

	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/host/v3"

	"tinkerbox/drivers/is31fl3731"
	"tinkerbox/images/font"
)

// Scroll a message on a Scroll pHAT HD on the Pi's default I²C bus.
func Example() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	bus, err := i2creg.Open("")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()

	opts := is31fl3731.DefaultOpts()
	opts.Brightness = 64
	opts.Rotate180 = true // mounted upside down
	d, err := is31fl3731.New(bus, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Halt()

	s := font.NewScroller(font.Font5x7(), "Hello, maker!", is31fl3731.Width, is31fl3731.Height)
	frame := image.NewGray(d.Bounds())
	for step := 0; step < s.Len(); step++ {
		s.Frame(step, frame)
		if err := d.Show(frame); err != nil {
			log.Fatal(err)
		}
		// A real loop waits ~30 ms here (on an injected clock).
	}
}

// Showing a frame is four writes: select the hidden frame, its 144 PWM bytes
// in one burst, select the function page, display the hidden frame.
func ExampleDev_Show() {
	rec := &i2ctest.Record{} // records the writes instead of a real bus
	d, err := is31fl3731.New(rec, nil)
	if err != nil {
		log.Fatal(err)
	}
	rec.Ops = nil
	frame := image.NewGray(d.Bounds())
	font.Font3x5().Draw(frame, 1, 1, "1013", image.White)
	if err := d.Show(frame); err != nil {
		log.Fatal(err)
	}
	for _, op := range rec.Ops {
		fmt.Printf("% x (%d bytes)\n", op.W[:2], len(op.W))
	}
	// Output:
	// fd 01 (2 bytes)
	// 24 00 (145 bytes)
	// fd 0b (2 bytes)
	// 01 01 (2 bytes)
}
