package cards

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRender renders the whole demo catalog once per iteration.
func BenchmarkRender(b *testing.B) {
	cs := Demo()
	fonts()
	b.ResetTimer()
	for b.Loop() {
		for _, c := range cs {
			Render(c)
		}
	}
}

// BenchmarkPhoto shoots a 640 x 480 frame, alternating feeder and phone shots.
func BenchmarkPhoto(b *testing.B) {
	face := Render(Demo()[17])
	r := rand.New(rand.NewPCG(1, 1))
	shots := make([]Shot, 16)
	for i := range shots {
		if i%2 == 0 {
			shots[i] = FeederShot(r, 640, 480)
		} else {
			shots[i] = PhoneShot(r, 640, 480)
		}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		Photo(face, shots[i%len(shots)], 640, 480)
		i++
	}
}
