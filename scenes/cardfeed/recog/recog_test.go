package recog

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"tinkerbox/images/cards"
)

// demo is the demo catalog with its reference features, built once per test
// binary.
var demo = sync.OnceValues(func() ([]cards.Card, []Entry) {
	cs := cards.Demo()
	es := make([]Entry, len(cs))
	parallel(len(cs), func(i int) {
		c := cs[i]
		es[i] = Entry{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Price: c.Price, Features: FromFace(cards.Render(c))}
	})
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

func TestFeaturesEncodeRoundTrip(t *testing.T) {
	_, es := demo()
	f := es[3].Features
	got, err := DecodeFeatures(f.Encode())
	if err != nil || got.Hash != f.Hash || got.Art != f.Art || got.Colour != f.Colour {
		t.Fatalf("round trip: %v", err)
	}
	old := f.Encode()
	old[0] = FeatureVersion - 1
	if _, err := DecodeFeatures(old); err != ErrOldFeatures {
		t.Fatalf("old version: %v, want ErrOldFeatures", err)
	}
	if _, err := DecodeFeatures(f.Encode()[:40]); err == nil {
		t.Fatal("short features accepted")
	}
}

func FuzzDecodeFeatures(f *testing.F) {
	f.Add(Features{}.Encode())
	f.Add([]byte{FeatureVersion, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeFeatures(b)
		if err == nil && !bytes.Equal(got.Encode(), b) {
			t.Fatalf("round trip %x -> %x", b, got.Encode())
		}
	})
}

// condition is one way of photographing cards.
type condition struct {
	name string
	w, h int
	shot func(r *rand.Rand, w, h int) cards.Shot
	// want is the share of cards that must be accepted under the right name:
	// 97 % from the feeder and 90 % from a phone.
	want float64
	// corners is the largest median corner error in pixels (0: unchecked).
	corners float64
}

func feeder(bed cards.Bed) func(r *rand.Rand, w, h int) cards.Shot {
	return func(r *rand.Rand, w, h int) cards.Shot {
		s := cards.FeederShot(r, w, h)
		s.Bed = bed
		return s
	}
}

var conditions = []condition{
	{"feeder, dark bed", 640, 480, feeder(cards.BedDark), 0.97, 6},
	{"feeder, grey bed", 640, 480, feeder(cards.BedGrey), 0.97, 3},
	{"feeder, light bed", 640, 480, feeder(cards.BedLight), 0.97, 3},
	{"phone, textured table", 800, 600, cards.PhoneShot, 0.90, 0},
}

// shoot photographs face as a JPEG the way the camera delivers it.
func shoot(t testing.TB, face image.Image, s cards.Shot, w, h int) image.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, cards.Photo(face, s, w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

type tally struct {
	n, right, accepted, wrong, printing, uncertain, wrongPrinting int
	rightD, strangerD, strangerGap                                []float64
}

// spread is the calibration summary of the distances seen.
func (c tally) spread() string {
	q := func(v []float64, p float64) float64 {
		if len(v) == 0 {
			return 0
		}
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	return fmt.Sprintf("right distance p50 %.0f p95 %.0f max %.0f; stranger distance min %.0f p5 %.0f, gap max %.0f",
		q(c.rightD, 0.5), q(c.rightD, 0.95), q(c.rightD, 1), q(c.strangerD, 0), q(c.strangerD, 0.05), q(c.strangerGap, 1))
}

func (c tally) String() string {
	return fmt.Sprintf("%d photos: %d right by name (%.1f %%), %d accepted, %d wrong accepted, %d printing right, %d printing marked uncertain, %d other printing without doubt",
		c.n, c.right, 100*float64(c.right)/float64(max(c.n, 1)), c.accepted, c.wrong, c.printing, c.uncertain, c.wrongPrinting)
}

// judge identifies photo k of card want and counts the verdict. known says
// whether the card is in the catalog.
func (c *tally) judge(t testing.TB, x *Index, img image.Image, want cards.Card, known bool, label string) Match {
	m, err := x.Identify(img)
	c.n++
	if err == nil {
		if known && m.Name == want.Name {
			c.rightD = append(c.rightD, float64(m.Distance))
		} else if !known {
			c.strangerD = append(c.strangerD, float64(m.Distance))
			c.strangerGap = append(c.strangerGap, float64(m.NameGap))
		}
	}
	if err != nil {
		if known {
			t.Logf("%s: %s: %v", label, want.ID, err)
		}
		return m
	}
	if !m.Accepted && known && testing.Verbose() {
		t.Logf("%s: %s rejected: %s", label, want.ID, m.Reason)
		if dumpDir != "" {
			dump(img, fmt.Sprintf("%s/%s-%s.png", dumpDir, strings.ReplaceAll(label, " ", ""), want.ID))
		}
	}
	if m.Accepted {
		c.accepted++
		if !known || m.Name != want.Name {
			c.wrong++
			t.Errorf("%s: %s (%s) accepted as %s (%s): distance %d gap %d", label, want.ID, want.Name, m.ID, m.Name, m.Distance, m.NameGap)
		} else {
			c.right++
			if m.ID == want.ID {
				c.printing++
			}
			if m.PrintingUncertain {
				c.uncertain++
			} else if m.ID != want.ID {
				c.wrongPrinting++
				t.Logf("%s: %s accepted as printing %s without doubt (confidence %.2f)", label, want.ID, m.ID, m.PrintingConfidence)
			}
		}
	}
	return m
}

// TestAccuracy photographs demo cards in every condition (as JPEG, like the
// camera) and checks the names, that no wrong card is ever accepted, and
// that the outline found is the card's.
func TestAccuracy(t *testing.T) {
	cs, es := demo()
	x := NewIndex(es, nil)
	n := 100
	if testing.Short() {
		n = 40
	}
	for ci, cond := range conditions {
		t.Run(cond.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(42, uint64(ci)))
			type job struct {
				card int
				shot cards.Shot
			}
			jobs := make([]job, n)
			for k := range jobs {
				jobs[k] = job{rnd.IntN(len(cs)), cond.shot(rnd, cond.w, cond.h)}
			}
			var mu sync.Mutex
			var c tally
			var cornerErr []float64
			parallel(n, func(k int) {
				j := jobs[k]
				img := shoot(t, cards.Render(cs[j.card]), j.shot, cond.w, cond.h)
				mu.Lock()
				defer mu.Unlock()
				m := c.judge(t, x, img, cs[j.card], true, cond.name)
				if m.Accepted && m.Name == cs[j.card].Name {
					cornerErr = append(cornerErr, cornerError(m.Where.Corners, cards.ShotCorners(j.shot, cond.w, cond.h)))
				}
			})
			t.Logf("%s: %s", cond.name, c.spread())
			t.Logf("%s: %v; corners within %.1f px (median), %.1f px (worst)", cond.name, c, median(cornerErr), maxOf(cornerErr))
			if float64(c.right) < cond.want*float64(n) {
				t.Errorf("%s: %d of %d right, want ≥ %.0f %%", cond.name, c.right, n, 100*cond.want)
			}
			// The card's own outline, the right way up, on a feeder's bed.
			if h := median(cornerErr); cond.corners > 0 && h > cond.corners {
				t.Errorf("%s: corners off by %.1f px (median), want ≤ %.0f", cond.name, h, cond.corners)
			}
			if c.wrongPrinting*20 > c.right {
				t.Errorf("%s: %d cards given another printing without doubt, want ≤ 5 %%", cond.name, c.wrongPrinting)
			}
		})
	}
}

// cornerError is the largest distance between matching corners.
func cornerError(a Quad, b [4][2]float64) float64 {
	e := 0.0
	for i := range a {
		e = math.Max(e, math.Hypot(a[i][0]-b[i][0], a[i][1]-b[i][1]))
	}
	return e
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

// TestCleanScans: a catalog card's own scan is always recognised.
func TestCleanScans(t *testing.T) {
	cs, es := demo()
	x := NewIndex(es, nil)
	var mu sync.Mutex
	var c tally
	parallel(len(cs), func(i int) {
		face := cards.Render(cs[i])
		mu.Lock()
		defer mu.Unlock()
		c.judge(t, x, face, cs[i], true, "clean scan")
	})
	t.Logf("clean scans: %v", c)
	if c.right != len(cs) {
		t.Errorf("clean scans: %d of %d right, want all", c.right, len(cs))
	}
}

// TestStrangersRejected: cards not in the catalog — other names, other art,
// same frames and sets — are never accepted, in any condition.
func TestStrangersRejected(t *testing.T) {
	_, es := demo()
	x := NewIndex(es, nil)
	n := 100
	if testing.Short() {
		n = 30
	}
	strangers := cards.Strangers(n)
	for ci, cond := range append(conditions, condition{name: "clean scan"}) {
		rnd := rand.New(rand.NewPCG(1234, uint64(ci)))
		shots := make([]cards.Shot, n)
		for k := range shots {
			if cond.shot != nil {
				shots[k] = cond.shot(rnd, cond.w, cond.h)
			}
		}
		var mu sync.Mutex
		var c tally
		parallel(n, func(k int) {
			var img image.Image = cards.Render(strangers[k])
			if cond.shot != nil {
				img = shoot(t, img, shots[k], cond.w, cond.h)
			}
			mu.Lock()
			defer mu.Unlock()
			c.judge(t, x, img, strangers[k], false, "stranger, "+cond.name)
		})
		t.Logf("strangers, %s: %d of %d accepted; %s", cond.name, c.accepted, n, c.spread())
	}
}

// TestReprints: same art in other sets (some with another border) is
// accepted by name; the printing is right or marked uncertain, never a
// confident wrong one (judge checks that).
func TestReprints(t *testing.T) {
	cs, es := demo()
	x := NewIndex(es, nil)
	rnd := rand.New(rand.NewPCG(3, 3))
	var c tally
	for i := cards.DistinctCards; i < len(cs); i++ {
		img := shoot(t, cards.Render(cs[i]), feeder(cards.BedGrey)(rnd, 640, 480), 640, 480)
		c.judge(t, x, img, cs[i], true, "reprint")
	}
	t.Logf("reprints: %v", c)
	if c.right < (len(cs)-cards.DistinctCards)*95/100 {
		t.Errorf("reprints: %d right of %d", c.right, len(cs)-cards.DistinctCards)
	}
}

// TestEmptyBed: nothing on a feeder bed is no card, not a guess.
func TestEmptyBed(t *testing.T) {
	for _, bed := range []cards.Bed{cards.BedDark, cards.BedGrey, cards.BedLight} {
		empty := image.NewRGBA(image.Rect(0, 0, 4, 4)) // Photo of a card shrunk to nothing
		s := cards.FeederShot(rand.New(rand.NewPCG(1, 1)), 640, 480)
		s.Bed, s.Height = bed, 1
		img := cards.Photo(empty, s, 640, 480)
		if _, err := FromFrame(img); err != ErrNoCard {
			t.Errorf("empty %v bed: %v, want ErrNoCard", bed, err)
		}
	}
	if _, err := FromFrame(image.NewRGBA(image.Rect(0, 0, 4, 4))); err == nil {
		t.Fatal("tiny frame: no error")
	}
}

func TestHomography(t *testing.T) {
	q := Quad{{10, 20}, {110, 30}, {120, 160}, {5, 150}}
	h := homographyFrom(q)
	for i, uv := range [4][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
		p := h.apply(uv[0], uv[1])
		if math.Hypot(p[0]-q[i][0], p[1]-q[i][1]) > 1e-9 {
			t.Errorf("corner %d: %v, want %v", i, p, q[i])
		}
	}
}

// dumpDir, from TINKERBOX_RECOG_DUMP, receives the photos that were not
// recognised, for a look.
var dumpDir = os.Getenv("TINKERBOX_RECOG_DUMP")

func dump(img image.Image, path string) {
	os.MkdirAll(dumpDir, 0o755)
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	jpeg.Encode(f, img, nil)
}
