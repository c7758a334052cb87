package recog

import (
	"bytes"
	"fmt"
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
	rnd := rand.New(rand.NewPCG(1, 2))
	img := cards.Photo(cards.Render(cs[17]), feeder(cards.BedGrey)(rnd, 640, 480), 640, 480)
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75})
	frame, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	b.Run("frame", func(b *testing.B) {
		for b.Loop() {
			m, err := x.Identify(frame)
			if err != nil || m.ID != cs[17].ID {
				b.Fatalf("%v %s", err, m.ID)
			}
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "index-MB")
	})
	b.Run("jpeg+frame", func(b *testing.B) {
		for b.Loop() {
			f, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := x.Identify(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	f, _ := FromFrame(frame)
	b.Run("search", func(b *testing.B) {
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
