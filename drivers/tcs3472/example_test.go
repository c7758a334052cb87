package tcs3472_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"tinkerbox/drivers/tcs3472"
)

func Example() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	bus, err := i2creg.Open("")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	opts := tcs3472.DefaultOpts()
	opts.Gain = tcs3472.Gain16x
	d, err := tcs3472.New(bus, &opts)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Halt()
	r, err := d.Sense()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, %s\n", r, r.ColorTemp)
}
