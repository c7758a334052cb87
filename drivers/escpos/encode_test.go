package escpos

import (
	"bytes"
	"fmt"
	"testing"
)

type band struct {
	rows, rowBytes int
	data           []byte
}

// splitJob walks a job stream independently of the encoder: every byte must
// belong to a known command. It returns the raster bands and the command
// names in order.
func splitJob(t *testing.T, p []byte) (bands []band, cmds []string) {
	t.Helper()
	for len(p) > 0 {
		switch {
		case bytes.HasPrefix(p, []byte{esc, '@'}):
			cmds, p = append(cmds, "ESC @"), p[2:]
		case p[0] == wake:
			cmds, p = append(cmds, "wake"), p[1:]
		case bytes.HasPrefix(p, []byte{esc, '8'}) && len(p) >= 4:
			cmds, p = append(cmds, fmt.Sprintf("ESC 8 %d %d", p[2], p[3])), p[4:]
		case bytes.HasPrefix(p, []byte{esc, 'D'}) && bytes.IndexByte(p[2:], 0) >= 0:
			end := 2 + bytes.IndexByte(p[2:], 0)
			cmds, p = append(cmds, fmt.Sprintf("ESC D %v", p[2:end+1])), p[end+1:]
		case bytes.HasPrefix(p, []byte{gs, 'a'}) && len(p) >= 3:
			cmds, p = append(cmds, fmt.Sprintf("GS a %d", p[2])), p[3:]
		case bytes.HasPrefix(p, []byte{esc, '7'}) && len(p) >= 5:
			cmds, p = append(cmds, fmt.Sprintf("ESC 7 %d %d %d", p[2], p[3], p[4])), p[5:]
		case bytes.HasPrefix(p, []byte{dc2, '#'}) && len(p) >= 3:
			cmds, p = append(cmds, fmt.Sprintf("DC2 # %#02x", p[2])), p[3:]
		case bytes.HasPrefix(p, []byte{esc, 'd'}) && len(p) >= 3:
			cmds, p = append(cmds, fmt.Sprintf("ESC d %d", p[2])), p[3:]
		case bytes.HasPrefix(p, []byte{gs, 'V', 66, 0}):
			cmds, p = append(cmds, "GS V 66 0"), p[4:]
		case bytes.HasPrefix(p, []byte{gs, 'v', '0', 0}) && len(p) >= 8:
			rb, rows := int(p[4])|int(p[5])<<8, int(p[6])|int(p[7])<<8
			if len(p) < 8+rb*rows {
				t.Fatalf("GS v 0 band of %dx%d bytes truncated", rb, rows)
			}
			bands = append(bands, band{rows, rb, p[8 : 8+rb*rows]})
			cmds, p = append(cmds, "GS v 0"), p[8+rb*rows:]
		case bytes.HasPrefix(p, []byte{dc2, '*'}) && len(p) >= 4:
			rows, rb := int(p[2]), int(p[3])
			if len(p) < 4+rb*rows {
				t.Fatalf("DC2 * band of %dx%d bytes truncated", rb, rows)
			}
			bands = append(bands, band{rows, rb, p[4 : 4+rb*rows]})
			cmds, p = append(cmds, "DC2 *"), p[4+rb*rows:]
		default:
			t.Fatalf("unexpected bytes % x", p[:min(len(p), 8)])
		}
	}
	return bands, cmds
}

func encodeBytes(t *testing.T, b *Bitmap, o *Opts) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, b, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodeGolden(t *testing.T) {
	img := testImage(24, 12)
	for _, tc := range []struct {
		name string
		opts Opts
		cmds []string
	}{
		{"generic.bin", Opts{Width: 24, FeedLines: 3}, []string{"ESC @", "GS v 0", "ESC d 3"}},
		// Adafruit_Thermal begin() for firmware 2.68 (read in its source,
		// Adafruit-Thermal-Printer-Library): wake() sends 255, waits 50 ms
		// and sends ESC 8 0 0; reset() sends ESC @ and the tab stops ESC D
		// 4 8 12 16 20 24 28 0; setHeatConfig() defaults to ESC 7 11 120 40.
		// Its setPrintDensity shifts the density into bits 7..5, against
		// the CSN-A2 manual (density in bits 4..0, break time in 7..5):
		// DC2 # follows the manual and Adafruit's Python library, 2<<5|10.
		// Adafruit's Python-Thermal-Printer, run once on a fake serial
		// port (not committed), sends ff 1b 76 00 1b 40 1b 44 04 08 0c 10
		// 14 18 1c 00 1b 37 0b 78 28 12 23 4a: the same bytes but for its
		// wake, ESC v 0 (a paper-status request on the CSN-A2) where the
		// Arduino library has ESC 8 0 0; we follow the Arduino library.
		{"adafruit.bin", Opts{Width: 24, Profile: Adafruit, FeedLines: 2},
			[]string{"wake", "ESC 8 0 0", "ESC @", "ESC D [4 8 12 16 20 24 28 0]", "ESC 7 11 120 40", "DC2 # 0x4a", "DC2 *", "ESC d 2"}},
		{"adafruit-dtr.bin", Opts{Width: 24, Profile: Adafruit, DTR: true},
			[]string{"wake", "ESC 8 0 0", "ESC @", "ESC D [4 8 12 16 20 24 28 0]", "ESC 7 11 120 40", "DC2 # 0x4a", "GS a 32", "DC2 *"}},
		{"cut.bin", Opts{Width: 24, FeedLines: 4, Cut: true}, []string{"ESC @", "GS v 0", "ESC d 4", "GS V 66 0"}},
		{"bands.bin", Opts{Width: 24, BandRows: 5}, []string{"ESC @", "GS v 0", "GS v 0", "GS v 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			b := Dither(img, 0, &o)
			got := encodeBytes(t, b, &o)
			_, cmds := splitJob(t, got)
			if fmt.Sprint(cmds) != fmt.Sprint(tc.cmds) {
				t.Errorf("commands %q, want %q", cmds, tc.cmds)
			}
			golden(t, tc.name, got)
		})
	}
}

func TestEncodeExactBytes(t *testing.T) {
	// A 10x2 bitmap: 2 bytes a row, the last 6 bits are white padding.
	// From the Epson reference for GS v 0 (m, xL xH bytes a row, yL yH
	// rows, rows packed MSB first, 1 = black). Cross-checked by reading
	// python-escpos (src/escpos/escpos.py image(), impl "bitImageRaster"):
	// GS "v0", density byte 0 for its default high density both ways, then
	// width_bytes and height low/high and EscposImage.to_raster_format(),
	// the inverted 1-bit image (black = 1) row by row; its fragment_height
	// (960) bands tall images as BandRows does. It starts jobs with ESC @.
	b := NewBitmap(10, 2)
	b.Set(0, 0, true)
	b.Set(9, 0, true)
	b.Set(8, 1, true)
	got := encodeBytes(t, b, &Opts{Width: 10})
	want := []byte{
		esc, '@',
		gs, 'v', '0', 0, 2, 0, 2, 0,
		0x80, 0x40,
		0x00, 0x80,
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestEncodeExactBytesAdafruit(t *testing.T) {
	// The same 10x2 bitmap for the CSN-A2: DC2 * r n (rows, bytes a row)
	// and the rows, after the init. From the CSN-A2 manual; cross-checked
	// by reading Adafruit_Thermal.cpp printBitmap(): writeBytes(DC2, '*',
	// chunkHeight, rowBytesClipped) then the row bytes MSB first, chunks of
	// at most 255 rows (with DTR; 256/rowBytes without, where our pacer
	// keeps 255-row bands within the buffer instead).
	b := NewBitmap(10, 2)
	b.Set(0, 0, true)
	b.Set(9, 0, true)
	b.Set(8, 1, true)
	got := encodeBytes(t, b, &Opts{Width: 10, Profile: Adafruit, FeedLines: 1})
	want := []byte{
		wake, esc, '8', 0, 0,
		esc, '@',
		esc, 'D', 4, 8, 12, 16, 20, 24, 28, 0,
		esc, '7', 11, 120, 40,
		dc2, '#', 2<<5 | 10,
		dc2, '*', 2, 2,
		0x80, 0x40,
		0x00, 0x80,
		esc, 'd', 1,
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestWidthNotMultipleOf8(t *testing.T) {
	o := &Opts{Width: 20}
	img := testImage(20, 9) // frame: every edge dot black
	b := Dither(img, 0, o)
	if b.Width != 20 || b.Stride != 3 {
		t.Fatalf("bitmap %dx%d stride %d, want width 20 stride 3", b.Width, b.Height, b.Stride)
	}
	bands, _ := splitJob(t, encodeBytes(t, b, o))
	if len(bands) != 1 || bands[0].rowBytes != 3 || bands[0].rows != 9 {
		t.Fatalf("bands %+v", bands)
	}
	for y := 0; y < 9; y++ {
		last := bands[0].data[y*3+2]
		if last&0x0f != 0 {
			t.Errorf("row %d: padding bits %08b not white", y, last)
		}
		if last&0x10 == 0 {
			t.Errorf("row %d: dot 19 (right frame edge) missing in %08b", y, last)
		}
	}
}

func TestBandsNeverExceedBandRows(t *testing.T) {
	for _, tc := range []struct {
		opts     Opts
		height   int
		maxRows  int
		maxBytes int
	}{
		{Opts{Width: 384}, 1000, 256, 48},
		{Opts{Width: 576, BandRows: 100}, 1001, 100, 72},
		{Opts{Width: 384, BandRows: MaxBandRows}, 5000, MaxBandRows, 48},
		{Opts{Width: 384, Profile: Adafruit}, 1000, 255, 48},
		{Opts{Width: 384, Profile: Adafruit, BandRows: 1000}, 600, 255, 48},
		{Opts{Width: 200, Profile: Adafruit, BandRows: 7}, 50, 7, 25},
	} {
		t.Run(fmt.Sprintf("%s-%d-%d", tc.opts.Profile, tc.opts.Width, tc.opts.BandRows), func(t *testing.T) {
			b := NewBitmap(tc.opts.Width, tc.height)
			for i := range b.Bits {
				b.Bits[i] = byte(i)
			}
			bands, _ := splitJob(t, encodeBytes(t, b, &tc.opts))
			total := 0
			var data []byte
			for _, bd := range bands {
				if bd.rows > tc.maxRows || bd.rows < 1 {
					t.Fatalf("band of %d rows, limit %d", bd.rows, tc.maxRows)
				}
				if bd.rowBytes != tc.maxBytes {
					t.Fatalf("band %d bytes wide, want %d", bd.rowBytes, tc.maxBytes)
				}
				total += bd.rows
				data = append(data, bd.data...)
			}
			if total != tc.height || !bytes.Equal(data, b.Bits) {
				t.Fatalf("bands carry %d rows, want %d with the bitmap's bytes", total, tc.height)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	var buf bytes.Buffer
	for name, tc := range map[string]struct {
		b *Bitmap
		o *Opts
	}{
		"nil":        {nil, nil},
		"too wide":   {NewBitmap(400, 1), nil},
		"malformed":  {&Bitmap{Width: 16, Height: 4, Stride: 2, Bits: make([]byte, 3)}, nil},
		"bad stride": {&Bitmap{Width: 16, Height: 1, Stride: 1, Bits: make([]byte, 3)}, nil},
		"bad opts":   {NewBitmap(8, 1), &Opts{BandRows: 4095}},
	} {
		if err := Encode(&buf, tc.b, tc.o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestOptsValidation(t *testing.T) {
	for name, o := range map[string]Opts{
		"width":        {Width: -1},
		"huge width":   {Width: MaxWidth + 8},
		"band":         {BandRows: 4000},
		"feed":         {FeedLines: 300},
		"gamma":        {Gamma: -1},
		"contrast":     {Contrast: 20},
		"profile":      {Profile: 9},
		"dither":       {Dither: 9},
		"adafruit 576": {Profile: Adafruit, Width: 576},
		"adafruit cut": {Profile: Adafruit, Cut: true},
		"density":      {Profile: Adafruit, Density: 32},
		"heat":         {Profile: Adafruit, Heat: Heat{Dots: 1, Time: 1}},
	} {
		if _, err := New(&bytes.Buffer{}, &o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		} else if err.Error()[:8] != "escpos: " {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil writer) succeeded")
	}
}
