package config_test

import (
	"fmt"

	"tinkerbox/appliance/config"
)

func ExampleParse() {
	cfg, err := config.Parse("tinkerbox.toml", []byte(`
[printer]
width = 576
profile = "adafruit"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Printer.Width, cfg.Printer.Profile, cfg.Buttons.Debounce)
	// Output: 576 adafruit 20ms
}

func ExampleParse_errors() {
	_, err := config.Parse("tinkerbox.toml", []byte(`
[web]
lisen = ":8080"

[buttons]
a = 99
debounce = 20
`))
	fmt.Println(err)
	// Output:
	// tinkerbox.toml:3: web.lisen: unknown key
	// tinkerbox.toml:6: buttons.a: pin 99 out of range (BCM 0–27)
	// tinkerbox.toml:7: buttons.debounce: want a duration like "20ms", got integer 20
}

func ExampleConfig_Validate() {
	cfg := config.Default()
	cfg.Web.Listen = "127.0.0.1:8080" // from --listen
	cfg.Buttons.A = 26                // clashes with the busy LED
	fmt.Println(cfg.Validate())
	// Output: config: buttons.a: GPIO 26 also used by leds.busy
}
