// Package enviro drives the Pimoroni Enviro pHAT as one device: the BMP280
// pressure/temperature sensor (through periph's bmxx80 driver, set up as
// Pimoroni's library does: ×16 oversampling, IIR filter 16, normal mode),
// the optional TCS3472 colour sensor and the two white LEDs on GPIO4 that
// light cards under the camera.
//
// Board: https://shop.pimoroni.com/products/enviro-phat
// BMP280: https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bmp280-ds001.pdf
// TCS3472: https://ams.com/documents/20143/36005/TCS3472_DS000390_3-00.pdf
//
// The pHAT also carries an LSM303D (0x1D) and an ADS1015 (0x49); tinkerbox
// does not use them.
package enviro
