package escpos_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"log"
	"time"

	"tinkerbox/drivers/escpos"
)

func Example() {
	// On the device: w := escpos.OpenUSB("/dev/usb/lp0"), or
	// w, err := escpos.OpenSerial("/dev/serial0", nil) for a CSN-A2.
	var w bytes.Buffer
	p, err := escpos.New(&w, &escpos.Opts{Width: 384, Dither: escpos.Atkinson, FeedLines: 3})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Halt()

	img := image.NewGray(image.Rect(0, 0, 200, 100)) // black box, centred
	if err := p.Print(context.Background(), img); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p)
	fmt.Printf("% x ...\n", w.Bytes()[:10])
	fmt.Println(w.Len(), "bytes")
	// Output:
	// escpos.Dev{generic, 384 dots, *bytes.Buffer}
	// 1b 40 1d 76 30 00 30 00 64 00 ...
	// 4813 bytes
}

func ExampleDither() {
	// A mid-grey square dithered with an ordered 8x8 matrix: half the dots.
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	b := escpos.Dither(img, 64, &escpos.Opts{Dither: escpos.Bayer})
	black := 0
	for y := 0; y < b.Height; y++ {
		for x := 0; x < b.Width; x++ {
			if b.Black(x, y) {
				black++
			}
		}
	}
	fmt.Printf("%dx%d, %d%% black\n", b.Width, b.Height, 100*black/(64*64))
	// Output: 64x64, 50% black
}

func ExampleNewSerial() {
	// Pacing any link: here a buffer stands in for the UART.
	var link bytes.Buffer
	s, err := escpos.NewSerial(&link, &escpos.SerialOpts{Baud: 19200, LineTime: 30 * time.Millisecond, Clock: &virtualTime{}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := escpos.New(s, &escpos.Opts{Profile: escpos.Adafruit})
	if err != nil {
		log.Fatal(err)
	}
	stripes := image.NewGray(image.Rect(0, 0, 384, 8))
	for x := 0; x < 384; x++ {
		stripes.SetGray(x, 0, color.Gray{255})
	}
	if err := p.Print(context.Background(), stripes); err != nil {
		log.Fatal(err)
	}
	// The Adafruit init (wake, no sleep, reset, tab stops, heat, density)
	// and the first bitmap header: 8 rows of 48 bytes.
	fmt.Printf("% x\n", link.Bytes()[:29])
	// Output: ff 1b 38 00 00 1b 40 1b 44 04 08 0c 10 14 18 1c 00 1b 37 0b 78 28 12 23 4a 12 2a 08 30
}

// virtualTime jumps ahead instead of waiting (examples must not sleep).
type virtualTime struct{ now time.Time }

func (c *virtualTime) Now() time.Time { return c.now }
func (c *virtualTime) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}
