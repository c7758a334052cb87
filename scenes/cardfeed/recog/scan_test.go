package recog

import (
	"math"
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

// TestScan checks the scan (on amd64 the assembly loop) against the
// distance to every entry worked out one by one: the same nearest entry,
// the same nearest of another name, on catalogs with near entries and
// repeated names.
func TestScan(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 300; n++ {
		size := rnd.IntN(400)
		hashes, names := make([][8]uint64, size), make([]int32, size)
		var q [8]uint64
		for i := range q {
			q[i] = rnd.Uint64()
		}
		for i := range hashes {
			for k := range hashes[i] {
				hashes[i][k] = rnd.Uint64()
				if rnd.IntN(4) == 0 { // near the query
					hashes[i][k] = q[k] ^ (rnd.Uint64() & rnd.Uint64() & rnd.Uint64() & rnd.Uint64())
				}
			}
			names[i] = int32(rnd.IntN(max(1, size/3)))
		}
		want := nearest{best: -1, bestD: math.MaxInt, second: math.MaxInt}
		for i := range hashes {
			if d := hammingCount(&hashes[i], &q); d < want.second {
				want.add(i, d, names)
			}
		}
		got := scan(hashes, names, &q)
		if size == 0 {
			if got.best != -1 {
				t.Fatalf("empty catalog: best %d", got.best)
			}
			continue
		}
		if got.best != want.best || got.bestD != want.bestD || got.second != want.second {
			t.Fatalf("catalog %d of %d: scan %+v, one by one %+v", n, size, got, want)
		}
		// The first entry below a bound, for bounds from none to all.
		for _, below := range []int{0, 1, want.bestD, want.bestD + 1, want.second, 257, 513, math.MaxInt} {
			wi, wd := len(hashes), 0
			for i := range hashes {
				if d := hammingCount(&hashes[i], &q); d < below {
					wi, wd = i, d
					break
				}
			}
			for _, f := range []func([][8]uint64, *[8]uint64, int) (int, int){firstBelow, nextBelow} {
				if i, d := f(hashes, &q, below); i != wi || d != wd {
					t.Fatalf("below %d: entry %d at %d, want %d at %d", below, i, d, wi, wd)
				}
			}
		}
	}
}
