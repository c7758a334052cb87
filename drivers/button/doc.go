// Package button reads push buttons wired from a GPIO line to GND (internal
// pull-up, pressed = low) and turns their edges into presses: short, long,
// double and a held chord of several buttons (e.g. "A+B" held for 5 s).
//
// The press logic is the Decoder, a pure state machine fed with debounced
// edges and the expiries of an injected clock, so it is tested without
// hardware. Open wires a Decoder to GPIO lines requested through the Linux GPIO
// character device with go-gpiocdev: both-edge events, the internal pull-up,
// kernel debounce where the uAPI v2 offers it, and software debounce always
// (kernel debounce is missing on older kernels and contacts bounce anyway).
//
// References:
//
//	go-gpiocdev: https://pkg.go.dev/github.com/warthog618/go-gpiocdev
//	GPIO character device uAPI: https://docs.kernel.org/userspace-api/gpio/chardev.html
//	Contact bounce (Ganssle): https://www.ganssle.com/debouncing.htm
package button
