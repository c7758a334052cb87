package barometer

import (
	"context"
	"errors"
	"flag"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// memStore is an in-memory SampleStore with the SQLite store's semantics
// (scenes may not import appliance/store).
type memStore struct {
	mu      sync.Mutex
	samples []Sample // sorted by At
	failAdd error
}

func (m *memStore) AddSample(ctx context.Context, s Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAdd != nil {
		return m.failAdd
	}
	s.At = s.At.Truncate(time.Second)
	i := sort.Search(len(m.samples), func(i int) bool { return !m.samples[i].At.Before(s.At) })
	if i < len(m.samples) && m.samples[i].At.Equal(s.At) {
		m.samples[i] = s
		return nil
	}
	m.samples = append(m.samples, Sample{})
	copy(m.samples[i+1:], m.samples[i:])
	m.samples[i] = s
	return nil
}

func (m *memStore) History(ctx context.Context, from, to time.Time, points int) ([]Point, error) {
	if points <= 0 || !to.After(from) {
		return nil, errors.New("memstore: bad range")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	width := (to.Sub(from) + time.Duration(points) - 1) / time.Duration(points)
	out := make([]Point, points)
	sums := make([]float64, points)
	tsum := make([]float64, points)
	for i := range out {
		out[i].At = from.Add(time.Duration(i) * width)
	}
	for _, s := range m.samples {
		if s.At.Before(from) || !s.At.Before(to) {
			continue
		}
		b := int(s.At.Sub(from) / width)
		if b >= points {
			continue
		}
		p := &out[b]
		if !s.OK() {
			p.Failed++
			continue
		}
		if p.N == 0 || s.Pressure < p.Min {
			p.Min = s.Pressure
		}
		if p.N == 0 || s.Pressure > p.Max {
			p.Max = s.Pressure
		}
		p.N++
		sums[b] += float64(s.Pressure)
		tsum[b] += float64(s.Temperature)
	}
	for i := range out {
		if out[i].N > 0 {
			out[i].Mean = physic.Pressure(math.Round(sums[i] / float64(out[i].N)))
			out[i].Temperature = physic.Temperature(math.Round(tsum[i] / float64(out[i].N)))
		}
	}
	return out, nil
}

func (m *memStore) Latest(ctx context.Context, n int) ([]Sample, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Sample
	for i := len(m.samples) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, m.samples[i])
	}
	return out, nil
}

func (m *memStore) Compact(ctx context.Context, before time.Time) error { return nil }

func (m *memStore) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.samples)
}

// fill stores one sample a minute ending at end, pressure f(minutes before end).
func (m *memStore) fill(end time.Time, minutes int, f func(ago int) float64) {
	for ago := minutes; ago >= 0; ago-- {
		s := Sample{At: end.Add(-time.Duration(ago) * time.Minute)}
		if v := f(ago); math.IsNaN(v) {
			s.Err = "failed"
		} else {
			s.Pressure, s.Temperature = hp(v), physic.ZeroCelsius+15*physic.Celsius
		}
		m.AddSample(context.Background(), s)
	}
}

// ascii draws a frame: '.' off, ':' dim (1–127), '#' bright.
func ascii(g *image.Gray) string {
	var b strings.Builder
	for y := 0; y < g.Rect.Dy(); y++ {
		for x := 0; x < g.Rect.Dx(); x++ {
			switch v := g.Pix[y*g.Stride+x]; {
			case v == 0:
				b.WriteByte('.')
			case v < 128:
				b.WriteByte(':')
			default:
				b.WriteByte('#')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// golden compares got with testdata/name.txt (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\ngot\n%swant\n%s", name, got, want)
	}
}
