package recog

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"testing"

	"tinkerbox/images/cards"
)

// bigIndex is the demo catalog padded to n printings with random features
// (their hashes are as far from a photo as a real stranger's, which is what
// the scan's cost depends on).
func bigIndex(n int) *Index {
	_, es := demo()
	rnd := rand.New(rand.NewPCG(1, 2))
	all := append(make([]Entry, 0, n), es...)
	for len(all) < n {
		var f Features
		for k := range f.Hash {
			f.Hash[k], f.Art[k] = rnd.Uint64(), rnd.Uint64()
		}
		for k := range f.Colour {
			f.Colour[k] = uint8(rnd.IntN(256))
		}
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", len(all), rnd.Uint64()>>16)
		all = append(all, Entry{ID: id, Name: fmt.Sprintf("Random Card %d", len(all)/2), Set: "rnd", Number: fmt.Sprint(len(all)), Features: f})
	}
	return NewIndex(all, nil)
}

func benchIdentify(b *testing.B, n int) {
	cs, _ := demo()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := bigIndex(n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	// A mix of what the feeder sees: 24 cards on the dark, grey and light
	// beds at any angle, as the camera's JPEG. ns/op is per frame.
	rnd := rand.New(rand.NewPCG(1, 2))
	beds := []cards.Bed{cards.BedDark, cards.BedGrey, cards.BedLight}
	var jpegs [][]byte
	var frames []image.Image
	var want []string
	for k := 0; k < 24; k++ {
		c := cs[rnd.IntN(len(cs))]
		img := cards.Photo(cards.Render(c), feeder(beds[k%3])(rnd, 640, 480), 640, 480)
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75})
		frame, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
		jpegs, frames, want = append(jpegs, buf.Bytes()), append(frames, frame), append(want, c.Name)
	}
	// The appliance identifies frame after frame: the first frame, which
	// grows the index's scratch memory (page faults, a few ms), is not
	// the cost of a frame.
	x.Identify(frames[0])
	b.Run("frame", func(b *testing.B) {
		i, right := 0, 0
		b.ReportAllocs()
		stop := cpuTimer(b)
		for b.Loop() {
			m, err := x.Identify(frames[i%len(frames)])
			if err != nil {
				b.Fatal(err)
			}
			if m.Accepted && m.Name == want[i%len(frames)] {
				right++
			}
			i++
		}
		stop()
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "index-MB")
		b.ReportMetric(100*float64(right)/float64(i), "%right")
	})
	b.Run("jpeg+frame", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		defer cpuTimer(b)()
		for b.Loop() {
			f, err := jpeg.Decode(bytes.NewReader(jpegs[i%len(jpegs)]))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := x.Identify(f); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	frame := frames[0]
	f, _ := FromFrame(frame)
	b.Run("search", func(b *testing.B) {
		b.ReportAllocs()
		defer cpuTimer(b)()
		for b.Loop() {
			x.Lookup(f)
		}
	})
	runtime.KeepAlive(x)
}

func BenchmarkIdentify30k(b *testing.B)  { benchIdentify(b, 30_000) }
func BenchmarkIdentify100k(b *testing.B) { benchIdentify(b, 100_000) }

func BenchmarkFromFace(b *testing.B) {
	cs, _ := demo()
	face := cards.Render(cs[3])
	for b.Loop() {
		FromFace(face)
	}
}
