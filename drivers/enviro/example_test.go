package enviro_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/host/v3"

	"tinkerbox/drivers/enviro"
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
	opts := enviro.DefaultOpts()
	d, err := enviro.New(bus, gpioreg.ByName("GPIO4"), &opts)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Halt()

	var env physic.Env
	if err := d.Sense(&env); err != nil {
		log.Fatal(err)
	}
	fmt.Println(env.Pressure, env.Temperature)

	// Light a card, measure it, switch off.
	if err := d.LightsOn(); err != nil {
		log.Fatal(err)
	}
	if d.HasLight() {
		rgbc, err := d.Light()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rgbc)
	}
	if err := d.LightsOff(); err != nil {
		log.Fatal(err)
	}
}
