// Package config owns tinkerbox.toml: the Config struct, its defaults (the
// wiring in docs/HARDWARE.md), loading and validation.
//
// Every key is optional; a file only overrides what it names. The annotated
// reference is tinkerbox.example.toml at the repository root, which a test
// keeps equal to Default.
//
// Errors name the file, the line and the dotted key, one problem a line, so
// a maker editing the file on the SD card sees every mistake at once:
//
//	tinkerbox.toml:3: web.lisen: unknown key
//	tinkerbox.toml:5: printer.width: want an integer, got string "wide"
//	tinkerbox.toml:12: buttons.a: pin 99 out of range (BCM 0–27)
//	tinkerbox.toml:7: syntax error: expected newline but got U+0078 'x'
//
// Parsing runs in three passes: go-toml's parser walks the document and
// every key and value is checked against the Config type (so all unknown
// keys and wrong types are reported, not only the first); go-toml then
// decodes strictly over Default; finally Validate checks values and the
// wiring as a whole. Values are always range-checked; clashes (a GPIO or an
// I2C address used twice) only count between enabled devices.
package config
