package recog

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"tinkerbox/images/cards"
)

// demo is the demo catalog with its reference features, built once per test
// binary (rendering 368 faces takes a fraction of a second).
var demo = sync.OnceValues(func() ([]cards.Card, []Entry) {
	cs := cards.Demo()
	es := make([]Entry, len(cs))
	for i, c := range cs {
		es[i] = Entry{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Price: c.Price, Features: FromFace(cards.Render(c))}
	}
	return cs, es
})

func TestHashBytesRoundTrip(t *testing.T) {
	h := Hash{1, 2, 3, 1 << 63}
	got, err := HashFromBytes(h.Bytes())
	if err != nil || got != h {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := HashFromBytes([]byte{1}); err == nil {
		t.Fatal("short hash accepted")
	}
	if d := (Hash{}).Distance(Hash{^uint64(0), 0, 0, 1}); d != 65 {
		t.Fatalf("distance %d, want 65", d)
	}
}

func TestFindGeometry(t *testing.T) {
	cs, _ := demo()
	face := cards.Render(cs[0])
	for _, angle := range []float64{-8, -3, 0, 5, 8} {
		s := cards.Shot{Angle: angle, DX: 10, DY: -6, Height: 190, Noise: 4, Light: 0.3, Seed: 1}
		img := cards.Photo(face, s, 320, 240)
		g, err := Find(img)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(g.Angle-angle) > 1 || math.Abs(g.CX-170) > 2 || math.Abs(g.CY-114) > 2 || math.Abs(g.H-190) > 6 {
			t.Errorf("angle %v: found %+v, want centre (170,114), height 190", angle, g)
		}
	}
}

func TestEmptyBed(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = 30
	}
	if _, err := FromFrame(img); err == nil {
		t.Fatal("empty bed: no error")
	}
	if _, err := FromFrame(image.NewRGBA(image.Rect(0, 0, 4, 4))); err == nil {
		t.Fatal("tiny frame: no error")
	}
}

// TestAccuracy photographs demo cards under random feeder conditions (as
// JPEG, like the camera) and checks the names and that no wrong card is
// ever accepted.
func TestAccuracy(t *testing.T) {
	cs, es := demo()
	x := NewIndex(es, nil)
	n := 1000
	if testing.Short() {
		n = 200
	}
	rnd := rand.New(rand.NewPCG(42, 7))
	// The photos are drawn in order (deterministic), judged on all cores.
	type job struct {
		card int
		shot cards.Shot
	}
	jobs := make([]job, n)
	for k := range jobs {
		jobs[k] = job{rnd.IntN(len(cs)), cards.RandomShot(rnd, 320, 240)}
	}
	faces := make([]*image.RGBA, len(cs))
	for _, j := range jobs {
		if faces[j.card] == nil {
			faces[j.card] = cards.Render(cs[j.card])
		}
	}
	results := make([]Match, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < n; k += workers {
				img := cards.Photo(faces[jobs[k].card], jobs[k].shot, 320, 240)
				var buf bytes.Buffer
				if errs[k] = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); errs[k] != nil {
					continue
				}
				dec, err := jpeg.Decode(&buf)
				if errs[k] = err; err != nil {
					continue
				}
				results[k], errs[k] = x.Identify(dec)
			}
		}()
	}
	wg.Wait()
	var names, accepted, wrongAccepted int
	var minGap, maxRight = 256, 0
	for k, m := range results {
		i := jobs[k].card
		if errs[k] != nil {
			t.Fatalf("photo %d (%s): %v", k, cs[i].ID, errs[k])
		}
		if m.Name == cs[i].Name {
			names++
			maxRight = max(maxRight, m.Distance)
			minGap = min(minGap, m.NameGap)
		}
		if m.Accepted {
			accepted++
			if m.ID != cs[i].ID {
				wrongAccepted++
				t.Errorf("photo %d: %s accepted as %s (dist %d gap %d printing %.2f)", k, cs[i].ID, m.ID, m.Distance, m.NameGap, m.PrintingConfidence)
			}
		}
	}
	t.Logf("%d photos: names %d right, %d accepted, %d wrong accepted; worst right distance %d, smallest gap %d", n, names, accepted, wrongAccepted, maxRight, minGap)
	if names*100 < n*99 {
		t.Errorf("names right %d/%d, want ≥ 99 %%", names, n)
	}
	if accepted*100 < n*95 {
		t.Errorf("accepted %d/%d, want ≥ 95 %%", accepted, n)
	}
}

// TestReprintsTieBreak: same art in two sets must resolve to the right set.
func TestReprintsTieBreak(t *testing.T) {
	cs, es := demo()
	x := NewIndex(es, nil)
	rnd := rand.New(rand.NewPCG(3, 3))
	checked := 0
	for i := cards.DistinctCards; i < len(cs) && checked < 20; i++ {
		img := cards.Photo(cards.Render(cs[i]), cards.RandomShot(rnd, 320, 240), 320, 240)
		m, err := x.Identify(img)
		if err != nil {
			t.Fatal(err)
		}
		if m.Name != cs[i].Name {
			t.Errorf("%s: name %q, want %q", cs[i].ID, m.Name, cs[i].Name)
		}
		if m.Accepted && m.ID != cs[i].ID {
			t.Errorf("%s accepted as %s", cs[i].ID, m.ID)
		}
		if m.ID != cs[i].ID {
			t.Errorf("%s: printing %s chosen (confidence %.2f)", cs[i].ID, m.ID, m.PrintingConfidence)
		}
		checked++
	}
}

// TestUnknownCardRejected: a card not in the catalog must not be accepted.
func TestUnknownCardRejected(t *testing.T) {
	cs, es := demo()
	// Leave every printing of a few names out of the index.
	out := map[string]bool{cs[5].Name: true, cs[77].Name: true, cs[200].Name: true}
	var kept []Entry
	for _, e := range es {
		if !out[e.Name] {
			kept = append(kept, e)
		}
	}
	x := NewIndex(kept, nil)
	rnd := rand.New(rand.NewPCG(9, 9))
	for _, i := range []int{5, 77, 200} {
		for k := 0; k < 5; k++ {
			m, err := x.Identify(cards.Photo(cards.Render(cs[i]), cards.RandomShot(rnd, 320, 240), 320, 240))
			if err != nil {
				t.Fatal(err)
			}
			if m.Accepted {
				t.Errorf("%s (not in catalog) accepted as %s (dist %d gap %d)", cs[i].Name, m.Name, m.Distance, m.NameGap)
			}
		}
	}
}

// TestStrangersRejected: cards with art the catalog has never seen must all
// be rejected, never accepted under the nearest name.
func TestStrangersRejected(t *testing.T) {
	_, es := demo()
	x := NewIndex(es, nil)
	rnd := rand.New(rand.NewPCG(1234, 5))
	n := 200
	if testing.Short() {
		n = 40
	}
	for k := 0; k < n; k++ {
		c := cards.Card{Name: "Stranger", Set: "tbx", Number: "1", Art: rnd.Uint64()}
		m, err := x.Identify(cards.Photo(cards.Render(c), cards.RandomShot(rnd, 320, 240), 320, 240))
		if err != nil {
			t.Fatal(err)
		}
		if m.Accepted {
			t.Errorf("stranger %d accepted as %s (dist %d gap %d)", k, m.ID, m.Distance, m.NameGap)
		}
	}
}

func FuzzHashFromBytes(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := HashFromBytes(b)
		if err == nil && string(h.Bytes()) != string(b) {
			t.Fatalf("round trip %x -> %x", b, h.Bytes())
		}
	})
}

func BenchmarkIdentify30k(b *testing.B) {
	cs, es := demo()
	rnd := rand.New(rand.NewPCG(1, 2))
	all := append([]Entry(nil), es...)
	for len(all) < 30000 {
		var h Hash
		for k := range h {
			h[k] = rnd.Uint64()
		}
		all = append(all, Entry{ID: "rnd", Name: "random " + string(rune(len(all))), Features: Features{Hash: h}})
	}
	x := NewIndex(all, nil)
	img := cards.Photo(cards.Render(cs[17]), cards.RandomShot(rnd, 640, 480), 640, 480)
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
}
