// Package blinkt drives a Pimoroni Blinkt!: eight APA102 RGB pixels on a
// two-wire bus bit-banged over GPIOs (DAT GPIO23, CLK GPIO24 on the Pi header).
//
// A frame is a start frame of 32 zero bits, then per pixel 0b111 plus a 5-bit
// global brightness, blue, green and red, each byte most significant bit first,
// the data line set before the rising clock edge that samples it; then 36 more
// clock pulses so the last pixels latch. periph's bitbang SPI is not used: it
// shifts least significant bit first.
//
// References:
//
//	APA102 datasheet: https://cdn-shop.adafruit.com/product-files/2343/APA102C.pdf
//	Blinkt! pinout and library: https://github.com/pimoroni/blinkt
//	Protocol notes (end frame): https://cpldcpu.com/2014/11/30/understanding-the-apa102-superled/
package blinkt
