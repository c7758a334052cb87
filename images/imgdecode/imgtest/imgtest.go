// Package imgtest builds hostile images for tests: files of a few hundred
// bytes whose headers claim more pixels than any board has memory for.
package imgtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// PNGBomb is a valid PNG header (IHDR) claiming w×h pixels of 8-bit RGBA,
// followed by a small IDAT of compressed zero rows and IEND: the decoder
// believes it and allocates w×h×4 bytes before it reads a row.
func PNGBomb(w, h uint32) []byte { return PNGHeader(w, h, 6) }

// PNGHeader is PNGBomb in another colour type (0 grey, 2 RGB, 6 RGBA).
func PNGHeader(w, h uint32, colorType byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, colorType
	chunk(&b, "IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64<<10)) // a few rows' worth of zeros: a few hundred bytes compressed
	zw.Close()
	chunk(&b, "IDAT", z.Bytes())
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

func chunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}

// JPEGBomb is a JPEG whose frame header claims w×h pixels (at most 65535 a
// side) in three 4:4:4 components, baseline or progressive, with no scan
// data after it.
func JPEGBomb(w, h uint16, progressive bool) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8})
	// JFIF, so DecodeConfig stops at the frame header as for most files.
	b.Write([]byte{0xff, 0xe0, 0x00, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0})
	// A quantisation table, as real files have before the frame.
	b.Write([]byte{0xff, 0xdb, 0x00, 0x43, 0x00})
	for range 64 {
		b.WriteByte(1)
	}
	sof := byte(0xc0)
	if progressive {
		sof = 0xc2
	}
	b.Write([]byte{0xff, sof, 0x00, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0})
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

// GreyScanPNG writes a w×h 8-bit grey PNG of a scanned drawing, a black
// square ring (lines a hundredth of the side thick) from w/4 to 3w/4 on a
// white page, row by row: the test never holds the image, and the file
// compresses to a few hundred kilobytes however large it claims to be.
func GreyScanPNG(out io.Writer, w, h int) error {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8 bits, grey
	chunk(&b, "IHDR", ihdr)
	if _, err := out.Write(b.Bytes()); err != nil {
		return err
	}
	idat := &chunkWriter{w: out}
	zw, err := zlib.NewWriterLevel(idat, zlib.BestSpeed)
	if err != nil {
		return err
	}
	t := max(1, w/100)
	row := make([]byte, 1+w) // filter byte 0: none
	for y := range h {
		for x := range w {
			row[1+x] = 255
			in := x >= w/4 && x < 3*w/4 && y >= h/4 && y < 3*h/4
			edge := x < w/4+t || x >= 3*w/4-t || y < h/4+t || y >= 3*h/4-t
			if in && edge {
				row[1+x] = 0
			}
		}
		if _, err := zw.Write(row); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := idat.flush(); err != nil {
		return err
	}
	b.Reset()
	chunk(&b, "IEND", nil)
	_, err = out.Write(b.Bytes())
	return err
}

// chunkWriter cuts a zlib stream into IDAT chunks of up to 64 KiB.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for len(c.buf) >= 64<<10 {
		if err := c.emit(c.buf[:64<<10]); err != nil {
			return 0, err
		}
		c.buf = append(c.buf[:0], c.buf[64<<10:]...)
	}
	return len(p), nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := c.emit(c.buf)
	c.buf = c.buf[:0]
	return err
}

func (c *chunkWriter) emit(p []byte) error {
	var b bytes.Buffer
	chunk(&b, "IDAT", p)
	_, err := c.w.Write(b.Bytes())
	return err
}
