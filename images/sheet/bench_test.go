package sheet

import "testing"

func benchmarkClean(b *testing.B, o PhotoOpts) {
	s := sheetThree()
	photo := camera(b, s, o).img
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Clean(photo, nil)
		if err != nil || len(res.Drawings) != 3 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkClean cleans a 640×480 camera photo of a sheet with three
// drawings.
func BenchmarkClean(b *testing.B) {
	benchmarkClean(b, PhotoOpts{Tilt: 6, Skew: 0.15, Shadow: 0.5, Noise: 5, Seed: 70})
}

// BenchmarkClean5MP cleans the same sheet photographed at 2592×1944, the
// Pi camera's full resolution.
func BenchmarkClean5MP(b *testing.B) {
	benchmarkClean(b, PhotoOpts{Tilt: 6, Skew: 0.15, Shadow: 0.5, Noise: 5, Seed: 70, Width: 2592, Height: 1944})
}
