package picam

import (
	"errors"
	"fmt"
)

// errNoSOF is returned for a JPEG without a usable frame header.
var errNoSOF = errors.New("picam: no valid SOF marker")

// ParseSize returns the width and height from the SOF (start of frame) marker
// of a JPEG, walking the marker segments before the first scan. A frame
// without a valid SOF is corrupt and cannot be displayed.
func ParseSize(jpeg []byte) (width, height int, err error) {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != mSOI {
		return 0, 0, errors.New("picam: not a JPEG (no SOI)")
	}
	p := 2
	for p+4 <= len(jpeg) {
		if jpeg[p] != 0xFF {
			return 0, 0, fmt.Errorf("picam: bad marker at offset %d: %w", p, errNoSOF)
		}
		m := jpeg[p+1]
		switch {
		case m == 0xFF:
			p++
			continue
		case m == mTEM || (m >= mRST0 && m <= mRST7):
			p += 2
			continue
		case m == mSOS || m == mEOI || m == mSOI || m == 0x00:
			return 0, 0, errNoSOF
		}
		n := int(jpeg[p+2])<<8 | int(jpeg[p+3])
		if n < 2 || p+2+n > len(jpeg) {
			return 0, 0, fmt.Errorf("picam: truncated segment at offset %d: %w", p, errNoSOF)
		}
		// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			if n < 8 {
				return 0, 0, errNoSOF
			}
			h := int(jpeg[p+5])<<8 | int(jpeg[p+6])
			w := int(jpeg[p+7])<<8 | int(jpeg[p+8])
			if w == 0 || h == 0 {
				return 0, 0, fmt.Errorf("picam: SOF says %dx%d: %w", w, h, errNoSOF)
			}
			return w, h, nil
		}
		p += 2 + n
	}
	return 0, 0, errNoSOF
}
