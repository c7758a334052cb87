package blinkt_test

import (
	"fmt"
	"image/color"
	"log"

	"periph.io/x/conn/v3/gpio/gpiotest"

	"tinkerbox/drivers/blinkt"
)

func Example() {
	// On the appliance the pins come from gpioreg.ByName("GPIO23") and ("GPIO24").
	dat := &gpiotest.Pin{N: "GPIO23", Num: 23}
	clk := &gpiotest.Pin{N: "GPIO24", Num: 24}
	b, err := blinkt.New(dat, clk, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Halt()
	if err := b.SetPixel(0, color.RGBA{R: 255, A: 255}); err != nil {
		log.Fatal(err)
	}
	if err := b.Show(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(b)
	fmt.Printf("% x\n", b.Frame()[:8])
	// Output:
	// blinkt(DAT GPIO23(23), CLK GPIO24(24))
	// e7 00 00 ff e7 00 00 00
}
