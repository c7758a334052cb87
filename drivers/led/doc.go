// Package led drives a single LED on a GPIO output: on, off, blinking at 50 %
// duty, or any on/off pattern, with the timing taken from an injected clock.
//
// A blinking LED uses one goroutine, stopped by the next On, Off, Blink,
// Pattern or Halt, so an LED never has two writers.
//
// References:
//
//	periph gpio.PinOut: https://pkg.go.dev/periph.io/x/conn/v3/gpio#PinOut
//	Raspberry Pi GPIO electrical limits: https://www.raspberrypi.com/documentation/computers/raspberry-pi.html#gpio
package led
