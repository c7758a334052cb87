package escpos

import (
	"image"
	"image/color"
)

// Bitmap is a packed 1-bit image in printer order: Stride bytes per row, the
// most significant bit is the leftmost dot and 1 means black (the head heats).
// Padding bits at the end of a row are 0 (white).
type Bitmap struct {
	Width, Height, Stride int
	Bits                  []byte
}

// NewBitmap returns an all-white bitmap.
func NewBitmap(width, height int) *Bitmap {
	if width < 0 {
		width = 0
	}
	if height < 0 {
		height = 0
	}
	stride := (width + 7) / 8
	return &Bitmap{Width: width, Height: height, Stride: stride, Bits: make([]byte, stride*height)}
}

// Black reports whether the dot at (x, y) is black; outside the bitmap is white.
func (b *Bitmap) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height {
		return false
	}
	return b.Bits[y*b.Stride+x>>3]&(0x80>>uint(x&7)) != 0
}

// Set makes the dot at (x, y) black or white; outside the bitmap it does nothing.
func (b *Bitmap) Set(x, y int, black bool) {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height {
		return
	}
	i, m := y*b.Stride+x>>3, byte(0x80>>uint(x&7))
	if black {
		b.Bits[i] |= m
	} else {
		b.Bits[i] &^= m
	}
}

// ColorModel, Bounds and At make a Bitmap an image.Image (e.g. to save it as PNG).
func (b *Bitmap) ColorModel() color.Model { return color.GrayModel }

// Bounds returns the bitmap's rectangle, origin at (0, 0).
func (b *Bitmap) Bounds() image.Rectangle { return image.Rect(0, 0, b.Width, b.Height) }

// At returns black or white.
func (b *Bitmap) At(x, y int) color.Color {
	if b.Black(x, y) {
		return color.Gray{Y: 0}
	}
	return color.Gray{Y: 255}
}

// Gray renders the bitmap as 0 = black, 255 = white, the convention of the
// simulator's paper roll.
func (b *Bitmap) Gray() *image.Gray {
	g := image.NewGray(b.Bounds())
	for y := 0; y < b.Height; y++ {
		row := b.Bits[y*b.Stride : (y+1)*b.Stride]
		out := g.Pix[y*g.Stride : y*g.Stride+b.Width]
		for x := range out {
			if row[x>>3]&(0x80>>uint(x&7)) != 0 {
				out[x] = 0
			} else {
				out[x] = 255
			}
		}
	}
	return g
}
