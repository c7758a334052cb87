package spycam

import (
	"errors"
	"fmt"
)

// The motion grid needs each 8x8 block's mean luma, and a baseline JPEG
// stores exactly that: the DC coefficient of the block's DCT is 8 times its
// mean (less 128). dcGrid reads those coefficients and nothing else of the
// picture: the AC coefficients are decoded only to be skipped, so there is
// no inverse DCT, no chroma and no picture in memory, which is most of the
// work and all the memory of a full decode (ITU-T T.81: F.1.2, F.2.2, B.2).
// Anything but a baseline (sequential Huffman, 8-bit, one scan) JPEG is
// left to image/jpeg.

// errNotBaseline is a JPEG dcGrid leaves to image/jpeg.
var errNotBaseline = errors.New("spycam: not a baseline JPEG")

// lutBits is how many bits of a Huffman code are looked up at once; longer
// codes (rare: they are the rare symbols) take the slow path.
const lutBits = 9

type huffTable struct {
	lut     [1 << lutBits]uint16 // first lutBits bits → length<<8 | symbol; 0: a longer code
	maxcode [17]int32            // the largest code of each length, -1: none
	valptr  [17]int32            // index in vals of each length's first code
	mincode [17]int32
	vals    [256]uint8
	ok      bool
}

type dcComponent struct {
	id, h, v, tq uint8
	td, ta       uint8 // the scan's DC and AC table
	pred         int32 // the previous block's DC
}

// dcDecoder reads the luma DC coefficients of baseline JPEGs. Its buffers
// are reused from frame to frame. Not safe for concurrent use.
type dcDecoder struct {
	q          [4]int32 // each quantisation table's DC step
	dc, ac     [4]huffTable
	comps      [3]dcComponent
	nComp      int
	w, h       int
	hmax, vmax int
	ri         int // restart interval in MCUs; 0: none

	blocks []uint8 // luma block means, bw x bh (the MCUs cover the picture and a little more)
	bw, bh int

	data  []byte
	pos   int
	bits  uint64 // MSB first
	nbits uint
	zeros int // bytes made up past the end of the scan: too many is a truncated frame
}

// lumaGrid averages the block means of a baseline JPEG into out, a
// GridWidth x GridHeight grid of the same cells as downscale's: each block
// counts by the pixels it has in the cell. The picture must have at least a
// block per cell; smaller ones are decoded in full.
func (d *dcDecoder) lumaGrid(b []byte, out []uint8) error {
	if err := d.decode(b); err != nil {
		return err
	}
	if d.w < 8*GridWidth || d.h < 8*GridHeight {
		return errNotBaseline
	}
	for gy := range GridHeight {
		y0, y1 := gy*d.h/GridHeight, (gy+1)*d.h/GridHeight
		for gx := range GridWidth {
			x0, x1 := gx*d.w/GridWidth, (gx+1)*d.w/GridWidth
			sum, n := 0, 0
			for by := y0 / 8; by*8 < y1; by++ {
				oy := min(y1, by*8+8) - max(y0, by*8)
				row := d.blocks[by*d.bw:]
				for bx := x0 / 8; bx*8 < x1; bx++ {
					w := oy * (min(x1, bx*8+8) - max(x0, bx*8))
					sum += int(row[bx]) * w
					n += w
				}
			}
			out[gy*GridWidth+gx] = uint8(sum / n)
		}
	}
	return nil
}

func u16(b []byte, p int) int { return int(b[p])<<8 | int(b[p+1]) }

// decode walks the markers up to the first scan and decodes it.
func (d *dcDecoder) decode(b []byte) error {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return errors.New("spycam: not a JPEG")
	}
	d.nComp, d.ri = 0, 0
	for i := range d.dc {
		d.dc[i].ok, d.ac[i].ok = false, false
	}
	p := 2
	for {
		if p+4 > len(b) {
			return errors.New("spycam: JPEG ends before its scan")
		}
		if b[p] != 0xFF {
			return fmt.Errorf("spycam: JPEG marker expected at %d", p)
		}
		m := b[p+1]
		if m == 0xFF {
			p++
			continue
		}
		n := u16(b, p+2)
		if n < 2 || p+2+n > len(b) {
			return errors.New("spycam: truncated JPEG segment")
		}
		seg := b[p+4 : p+2+n]
		var err error
		switch {
		case m == 0xC0 || m == 0xC1:
			err = d.frameHeader(seg)
		case m >= 0xC2 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return errNotBaseline // progressive, lossless, arithmetic
		case m == 0xC4:
			err = d.huffTables(seg)
		case m == 0xDB:
			err = d.quantTables(seg)
		case m == 0xDD:
			if len(seg) < 2 {
				return errors.New("spycam: bad DRI")
			}
			d.ri = u16(seg, 0)
		case m == 0xDA:
			if err := d.scanHeader(seg); err != nil {
				return err
			}
			return d.scan(b[p+2+n:])
		case m == 0xD9 || m == 0xD8:
			return errors.New("spycam: JPEG without a scan")
		}
		if err != nil {
			return err
		}
		p += 2 + n
	}
}

func (d *dcDecoder) frameHeader(s []byte) error {
	if len(s) < 6 || s[0] != 8 {
		return errNotBaseline // 12-bit
	}
	d.h, d.w, d.nComp = u16(s, 1), u16(s, 3), int(s[5])
	// No camera makes more than 4096 pixels a side; a frame that says so is
	// left to image/jpeg and its limits.
	if d.w == 0 || d.h == 0 || d.w > 4096 || d.h > 4096 || d.nComp != 1 && d.nComp != 3 || len(s) < 6+3*d.nComp {
		return errNotBaseline
	}
	d.hmax, d.vmax = 1, 1
	for i := range d.nComp {
		c := &d.comps[i]
		c.id, c.h, c.v, c.tq = s[6+3*i], s[7+3*i]>>4, s[7+3*i]&15, s[8+3*i]
		if c.h < 1 || c.h > 2 || c.v < 1 || c.v > 2 || c.tq > 3 {
			return errNotBaseline
		}
		d.hmax, d.vmax = max(d.hmax, int(c.h)), max(d.vmax, int(c.v))
	}
	if d.nComp == 1 {
		d.comps[0].h, d.comps[0].v, d.hmax, d.vmax = 1, 1, 1, 1 // one component: blocks, not MCUs
	}
	// The luma is the first component and has the most samples (JFIF).
	if int(d.comps[0].h) != d.hmax || int(d.comps[0].v) != d.vmax {
		return errNotBaseline
	}
	return nil
}

func (d *dcDecoder) quantTables(s []byte) error {
	for len(s) > 0 {
		pq, tq := s[0]>>4, s[0]&15
		if tq > 3 || pq > 1 {
			return errors.New("spycam: bad DQT")
		}
		size := 1 + 64*(1+int(pq))
		if len(s) < size {
			return errors.New("spycam: truncated DQT")
		}
		if pq == 0 {
			d.q[tq] = int32(s[1])
		} else {
			d.q[tq] = int32(u16(s, 1))
		}
		s = s[size:]
	}
	return nil
}

func (d *dcDecoder) huffTables(s []byte) error {
	for len(s) > 0 {
		if len(s) < 17 {
			return errors.New("spycam: truncated DHT")
		}
		tc, th := s[0]>>4, s[0]&15
		if tc > 1 || th > 3 {
			return errors.New("spycam: bad DHT")
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		total := 0
		for _, c := range s[1:17] {
			total += int(c)
		}
		if total > 256 || len(s) < 17+total {
			return errors.New("spycam: bad DHT")
		}
		copy(t.vals[:], s[17:17+total])
		clear(t.lut[:])
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			n := int32(s[l])
			t.mincode[l], t.valptr[l] = code, k
			for range n {
				if code >= 1<<l {
					return errors.New("spycam: bad Huffman table")
				}
				if l <= lutBits {
					first := code << (lutBits - l)
					for i := range int32(1) << (lutBits - l) {
						t.lut[first+i] = uint16(l)<<8 | uint16(t.vals[k])
					}
				}
				code++
				k++
			}
			t.maxcode[l] = code - 1
			if n == 0 {
				t.maxcode[l] = -1
			}
			code <<= 1
		}
		t.ok = true
		s = s[17+total:]
	}
	return nil
}

func (d *dcDecoder) scanHeader(s []byte) error {
	if d.nComp == 0 {
		return errors.New("spycam: scan before the frame header")
	}
	if len(s) < 1 || int(s[0]) != d.nComp || len(s) < 1+2*d.nComp+3 {
		return errNotBaseline // one scan per component
	}
	for i := range d.nComp {
		c := &d.comps[i]
		if s[1+2*i] != c.id {
			return errNotBaseline
		}
		c.td, c.ta = s[2+2*i]>>4, s[2+2*i]&15
		if c.td > 3 || c.ta > 3 || !d.dc[c.td].ok || !d.ac[c.ta].ok {
			return errors.New("spycam: scan uses a missing Huffman table")
		}
	}
	if ss, se := s[1+2*d.nComp], s[2+2*d.nComp]; ss != 0 || se != 63 {
		return errNotBaseline
	}
	return nil
}

// scan decodes the entropy-coded data: every block's DC, the luma's kept.
func (d *dcDecoder) scan(data []byte) error {
	mcuw, mcuh := 8*d.hmax, 8*d.vmax
	mx, my := (d.w+mcuw-1)/mcuw, (d.h+mcuh-1)/mcuh
	d.bw, d.bh = mx*d.hmax, my*d.vmax
	if n := d.bw * d.bh; cap(d.blocks) < n {
		d.blocks = make([]uint8, n)
	} else {
		d.blocks = d.blocks[:n]
	}
	d.data, d.pos, d.bits, d.nbits, d.zeros = data, 0, 0, 0, 0
	for i := range d.nComp {
		d.comps[i].pred = 0
	}
	q := d.q[d.comps[0].tq]
	mcu := 0
	for y := range my {
		for x := range mx {
			if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
				if err := d.restart(); err != nil {
					return err
				}
			}
			mcu++
			for ci := range d.nComp {
				c := &d.comps[ci]
				for v := range int(c.v) {
					for h := range int(c.h) {
						if err := d.block(c); err != nil {
							return err
						}
						if ci == 0 {
							m := (128*8 + c.pred*q + 4) >> 3 // the block's mean, rounded
							d.blocks[(y*d.vmax+v)*d.bw+x*d.hmax+h] = uint8(max(0, min(255, m)))
						}
					}
				}
			}
			if d.zeros > 8 {
				return errors.New("spycam: truncated JPEG scan")
			}
		}
	}
	return nil
}

// block decodes one block, keeping its DC in c.pred and skipping the rest.
func (d *dcDecoder) block(c *dcComponent) error {
	s, err := d.huff(&d.dc[c.td])
	if err != nil {
		return err
	}
	if s > 11 {
		return errors.New("spycam: bad DC size")
	}
	if s > 0 {
		c.pred += d.receive(uint(s))
	}
	ac := &d.ac[c.ta]
	for k := 1; k < 64; {
		rs, err := d.huff(ac)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r != 15 {
				return nil // end of block
			}
			k += 16
			continue
		}
		k += r + 1
		if d.nbits < s {
			d.fill()
		}
		d.bits <<= s
		d.nbits -= s
	}
	return nil
}

// fill tops up the bit buffer, undoing the 0xFF00 stuffing. At a marker
// (the scan's end, or a restart) it makes up zero bytes and counts them.
func (d *dcDecoder) fill() {
	for d.nbits <= 56 {
		var c byte
		switch {
		case d.pos >= len(d.data):
			d.zeros++
		case d.data[d.pos] != 0xFF:
			c = d.data[d.pos]
			d.pos++
		case d.pos+1 < len(d.data) && d.data[d.pos+1] == 0x00:
			c = 0xFF
			d.pos += 2
		default:
			d.zeros++ // a marker: stay before it
		}
		d.bits |= uint64(c) << (56 - d.nbits)
		d.nbits += 8
	}
}

// huff decodes one Huffman-coded symbol.
func (d *dcDecoder) huff(t *huffTable) (uint8, error) {
	if d.nbits < 16 {
		d.fill()
	}
	if e := t.lut[d.bits>>(64-lutBits)]; e != 0 {
		n := uint(e >> 8)
		d.bits <<= n
		d.nbits -= n
		return uint8(e), nil
	}
	for l := lutBits + 1; l <= 16; l++ {
		code := int32(d.bits >> (64 - l))
		if code <= t.maxcode[l] {
			i := t.valptr[l] + code - t.mincode[l]
			if i < 0 || i > 255 {
				break
			}
			d.bits <<= uint(l)
			d.nbits -= uint(l)
			return t.vals[i], nil
		}
	}
	return 0, errors.New("spycam: bad Huffman code")
}

// receive reads an s-bit magnitude and extends its sign (T.81 F.2.2.1).
func (d *dcDecoder) receive(s uint) int32 {
	if d.nbits < s {
		d.fill()
	}
	v := int32(d.bits >> (64 - s))
	d.bits <<= s
	d.nbits -= s
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// restart expects an RSTn marker: the bit buffer is dropped (the rest of
// its byte is padding) and the predictions start again.
func (d *dcDecoder) restart() error {
	// Bytes already in the buffer belong before the marker; find it.
	d.bits, d.nbits = 0, 0
	for d.pos+1 < len(d.data) && !(d.data[d.pos] == 0xFF && d.data[d.pos+1] >= 0xD0 && d.data[d.pos+1] <= 0xD7) {
		if d.data[d.pos] == 0xFF && d.data[d.pos+1] != 0x00 && d.data[d.pos+1] != 0xFF {
			return errors.New("spycam: restart marker missing")
		}
		d.pos++
	}
	if d.pos+1 >= len(d.data) {
		return errors.New("spycam: truncated JPEG scan")
	}
	d.pos += 2
	d.zeros = 0
	for i := range d.nComp {
		d.comps[i].pred = 0
	}
	return nil
}
