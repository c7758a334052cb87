package recog

import (
	"math/rand/v2"
	"testing"
)

// TestHammingLanes checks the byte-lane count (the Pi Zero's) against
// math/bits on random words and the extremes.
func TestHammingLanes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	var zero, ones [8]uint64
	for i := range ones {
		ones[i] = ^uint64(0)
	}
	if d := hammingLanes(&zero, &ones); d != 512 {
		t.Fatalf("all bits differ: %d, want 512", d)
	}
	for n := 0; n < 10000; n++ {
		var h, q [8]uint64
		for i := range h {
			h[i], q[i] = rnd.Uint64(), rnd.Uint64()
			if n%3 == 0 {
				q[i] = h[i] ^ (rnd.Uint64() & rnd.Uint64() & rnd.Uint64())
			}
		}
		if a, b := hammingLanes(&h, &q), hammingCount(&h, &q); a != b {
			t.Fatalf("%x vs %x: lanes %d, bits %d", h, q, a, b)
		}
	}
}
