// Package is31fl3731 drives the ISSI/Lumissil IS31FL3731 matrix LED driver as
// wired on the Pimoroni Scroll pHAT HD: a 17x7 matrix of single-colour LEDs
// with 8-bit PWM per LED, on I²C at 0x74.
//
// The driver uses picture mode and double-buffers between frames 0 and 1: a
// new image is written to the hidden frame in one burst, then the display
// switches to it, so a half-written image is never visible. Brightness is a
// software gamma table applied before the write.
//
// Datasheet: https://www.lumissil.com/assets/pdf/core/IS31FL3731_DS.pdf
package is31fl3731
