// Package sim holds simulated devices for `tinkerbox run --sim`: a printer that
// decodes the real ESC/POS byte stream onto a paper roll, the 17x7 scroll
// display, status LEDs, front-panel buttons, a synthetic camera, servos and a
// weather-driven environment sensor.
//
// The simulator is a product feature, not a test mock: each device behaves like
// the real part (same byte protocol, same timing, same failure modes) so the
// scenes and drivers above it are exercised end to end, and the browser front
// panel shows the devices' state. Every device is safe for concurrent use, has
// String and Halt, takes an injected Clock, and exposes fault injection
// (paper out, unplugged printer, failing sensor, camera failure, jammed servo)
// for restart and error-path tests.
//
// Time-dependent state (LED blink phase, servo position, weather) is computed
// lazily from the clock when asked, never by background goroutines, so a fake
// clock makes all of it deterministic.
//
// References for the modelled parts:
//   - ESC/POS command reference (Epson): https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/index.html
//   - Adafruit/CSN-A2 thermal printer (DC2 *, ESC 7, DC2 #): https://cdn-shop.adafruit.com/datasheets/CSN-A2%20User%20Manual.pdf
//   - Scroll pHAT HD (IS31FL3731, 17x7): https://www.lumissil.com/assets/pdf/core/IS31FL3731_DS.pdf
//   - SG90 / FS90R servos: https://www.towerpro.com.tw/product/sg90-7/
//   - BMP280 (the Enviro pHAT's pressure sensor): https://www.bosch-sensortec.com/media/boschsensortec/downloads/datasheets/bst-bmp280-ds001.pdf
package sim
