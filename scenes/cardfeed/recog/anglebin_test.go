package recog

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAngleBin: the polynomial bin is math.Atan2's, for random gradients,
// axis-aligned ones and directions on either side of every bin's edge.
func TestAngleBin(t *testing.T) {
	exact := func(gx, gy float64) int {
		a := math.Atan2(gy, gx)
		if a < 0 {
			a += math.Pi
		}
		return int(a*thetaBins/math.Pi+0.5) % thetaBins
	}
	check := func(gx, gy float64) {
		if gx == 0 && gy == 0 {
			return
		}
		if got, want := angleBin(gx, gy), exact(gx, gy); got != want {
			t.Fatalf("angleBin(%g, %g) = %d, math.Atan2 says %d", gx, gy, got, want)
		}
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		check(float64(float32(rnd.NormFloat64()*40)), float64(float32(rnd.NormFloat64()*40)))
	}
	for _, g := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {3, 3}, {-3, 3}, {3, -3}, {-3, -3}} {
		check(g[0], g[1])
	}
	for k := 0; k < 2*thetaBins; k++ {
		edge := (float64(k) + 0.5) * math.Pi / thetaBins
		for _, d := range []float64{-1e-3, -4e-5, -2e-5, -1e-7, 0, 1e-7, 2e-5, 4e-5, 1e-3} {
			s, c := math.Sincos(edge + d)
			check(float64(float32(50*c)), float64(float32(50*s)))
		}
	}
}
