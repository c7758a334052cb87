// Package imgtest builds hostile images for tests: files of a few hundred
// bytes whose headers claim more pixels than any board has memory for.
package imgtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// PNGBomb is a valid PNG header (IHDR) claiming w×h pixels of 8-bit RGBA,
// followed by a small IDAT of compressed zero rows and IEND: the decoder
// believes it and allocates w×h×4 bytes before it reads a row.
func PNGBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
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
