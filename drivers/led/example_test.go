package led_test

import (
	"fmt"
	"log"
	"time"

	"periph.io/x/conn/v3/gpio/gpiotest"

	"tinkerbox/drivers/led"
)

func Example() {
	// On the appliance the pin comes from gpioreg.ByName("GPIO16").
	pin := &gpiotest.Pin{N: "GPIO16", Num: 16}
	l, err := led.New(pin, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Halt()
	if err := l.On(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(l, pin.Read())
	// Busy: 1 Hz blink until the next On, Off or Halt.
	if err := l.Blink(time.Second); err != nil {
		log.Fatal(err)
	}
	if err := l.Off(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(pin.Read())
	// Output:
	// led(GPIO16(16)) High
	// Low
}
