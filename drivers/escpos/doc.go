// Package escpos drives ESC/POS thermal receipt printers: it turns an image into
// a 1-bit dithered bitmap, encodes it as raster commands and sends it over a
// USB printer-class device (usblp) or a paced serial link.
//
// Two command dialects are supported:
//   - Generic: `GS v 0` raster bit images, as on most 58/80 mm USB printers.
//   - Adafruit: the CSN-A2 family (Adafruit "mini thermal printer") which wants
//     `DC2 *` bitmaps of at most 255 rows by 48 bytes, `ESC 7` heat settings and
//     `DC2 #` density, and software pacing because it has no flow control: a
//     model of its buffer and head, slowed down for darker heat settings,
//     and its DTR busy line when that is wired.
//
// Datasheets and references:
//   - Epson ESC/POS command reference: https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/
//   - CSN-A2 user manual (Adafruit 597): https://cdn-shop.adafruit.com/datasheets/CSN-A2%20User%20Manual.pdf
//   - Linux usblp: https://www.kernel.org/doc/html/latest/usb/usb-help.html
package escpos
