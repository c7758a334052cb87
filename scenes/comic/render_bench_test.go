package comic

import (
	"slices"
	"testing"
	"time"

	art "tinkerbox/images/comic"
)

// BenchmarkRenderPrint is the strip as the printer gets it: composed and
// drawn at 384 dots (comic.orientation auto, with its footer), 100 seeds
// round. cold starts every strip from an empty cache of scaled art (the
// first press after start); warm keeps the cache as presses do. It reports
// the CPU time per strip (p50, p95), not the wall time: the build machine
// is shared. make bench runs it under qemu-arm-static -cpu arm1176 too.
func BenchmarkRenderPrint(b *testing.B) {
	for _, c := range []struct {
		name string
		cold bool
	}{{"cold", true}, {"warm", false}} {
		b.Run(c.name, func(b *testing.B) {
			pack, probs, err := LoadBuiltinPack(art.Pack())
			if err != nil || len(probs) > 0 {
				b.Fatal(err, probs)
			}
			var d []time.Duration
			seed := uint64(0)
			for b.Loop() {
				if c.cold {
					b.StopTimer()
					pack.dropCache()
					b.StartTimer()
				}
				t0 := cpuTime()
				s, err := pack.Compose(seed)
				if err != nil {
					b.Fatal(err)
				}
				pack.RenderPrint(s, 384, OrientAuto, "tinkerbox comic #1", "2026-05-01")
				d = append(d, cpuTime()-t0)
				seed = (seed + 1) % 100
			}
			reportPercentiles(b, d)
		})
	}
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	ms := func(v time.Duration) float64 { return float64(v.Microseconds()) / 1000 }
	b.ReportMetric(ms(d[len(d)/2]), "p50-cpu-ms")
	b.ReportMetric(ms(d[len(d)*95/100]), "p95-cpu-ms")
}
