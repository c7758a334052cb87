package recog

import (
	"math"
	"math/bits"
	"runtime"
)

// The catalog scan: a pass over the catalog per reading, the distance to
// every entry (64 bytes of hashes) worked out in line. How depends on the
// CPU: amd64, arm64 and the rest count bits in one instruction (or a few);
// 32-bit ARM (the Pi Zero's ARMv6) has none, and math/bits's count is some
// forty instructions of 64-bit shifts done in pairs of registers, so there
// the counts are added up a byte per lane, 32 bits at a time, and summed
// once per entry.
const countByLanes = runtime.GOARCH == "arm"

// hamming is the distance between two packed hashes.
func hamming(h, q *[8]uint64) int {
	if countByLanes {
		return hammingLanes(h, q)
	}
	return hammingCount(h, q)
}

func hammingCount(h, q *[8]uint64) int {
	return bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1]) + bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3]) +
		bits.OnesCount64(h[4]^q[4]) + bits.OnesCount64(h[5]^q[5]) + bits.OnesCount64(h[6]^q[6]) + bits.OnesCount64(h[7]^q[7])
}

// hammingLanes counts each 32-bit half's bits into four byte lanes (at most
// 8 a lane a half, 16 a word, 128 for the eight words: no lane overflows)
// and sums the lanes once, in two 16-bit lanes (the total reaches 512).
func hammingLanes(h, q *[8]uint64) int {
	var acc uint32
	for i := range h {
		x := h[i] ^ q[i]
		a, b := uint32(x), uint32(x>>32)
		a -= a >> 1 & 0x55555555
		b -= b >> 1 & 0x55555555
		a = a&0x33333333 + a>>2&0x33333333
		b = b&0x33333333 + b>>2&0x33333333
		a = (a + a>>4) & 0x0f0f0f0f
		b = (b + b>>4) & 0x0f0f0f0f
		acc += a + b
	}
	acc = acc&0x00ff00ff + acc>>8&0x00ff00ff // two 16-bit lanes, up to 256 each
	return int(acc&0xffff + acc>>16)
}

// scan is the entry nearest to q and the distance of the nearest of
// another name. An entry no nearer than that second distance changes
// nothing, which is nearly every entry.
func scan(hashes [][8]uint64, names []int32, q *[8]uint64) nearest {
	r := nearest{best: -1, bestD: math.MaxInt, second: math.MaxInt}
	names = names[:len(hashes)]
	if countByLanes {
		second := r.second
		for i := range hashes {
			if d := hammingLanes(&hashes[i], q); d < second {
				r.add(i, d, names)
				second = r.second
			}
		}
		return r
	}
	if popcntScan {
		second := r.second
		for i := 0; ; i++ {
			k, d := nextBelow(hashes[i:], q, second)
			if i += k; i == len(hashes) {
				return r
			}
			r.add(i, d, names)
			second = r.second
		}
	}
	// The query's words and the second distance held in registers.
	q0, q1, q2, q3, q4, q5, q6, q7 := q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]
	second := r.second
	for i := range hashes {
		h := &hashes[i]
		d := bits.OnesCount64(h[0]^q0) + bits.OnesCount64(h[1]^q1) + bits.OnesCount64(h[2]^q2) + bits.OnesCount64(h[3]^q3) +
			bits.OnesCount64(h[4]^q4) + bits.OnesCount64(h[5]^q5) + bits.OnesCount64(h[6]^q6) + bits.OnesCount64(h[7]^q7)
		if d < second {
			r.add(i, d, names)
			second = r.second
		}
	}
	return r
}

// firstBelow is the index and distance of the first of hashes nearer to q
// than below, or len(hashes).
func firstBelow(hashes [][8]uint64, q *[8]uint64, below int) (i, d int) {
	if popcntScan {
		return nextBelow(hashes, q, below)
	}
	for i := range hashes {
		if d := hamming(&hashes[i], q); d < below {
			return i, d
		}
	}
	return len(hashes), 0
}

// add takes entry i at distance d (below r.second) into r.
func (r *nearest) add(i, d int, names []int32) {
	if d < r.bestD {
		if r.best >= 0 && names[i] != names[r.best] {
			r.second = r.bestD
		}
		r.best, r.bestD = i, d
	} else if names[i] != names[r.best] {
		r.second = d
	}
}
