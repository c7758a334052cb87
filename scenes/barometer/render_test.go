package barometer

import (
	"image"
	"math"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
)

func newFrame() *image.Gray {
	return image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
}

// sparkPoints makes 17 points from hPa values; NaN is a gap.
func sparkPoints(vals ...float64) []Point {
	pts := make([]Point, len(vals))
	for i, v := range vals {
		pts[i].At = t0.Add(time.Duration(i) * time.Minute)
		if !math.IsNaN(v) {
			pts[i].N, pts[i].Mean = 1, hp(v)
		}
	}
	return pts
}

func TestGoldenViews(t *testing.T) {
	nan := math.NaN()
	storm := make([]float64, 17)
	for i := range storm {
		storm[i] = 1013 - 8*float64(i)/16
	}
	reading := Report{Valid: true, Pressure: hp(1013.4), SeaLevel: hp(1013.4), TendencyKnown: true, Change3h: hp(-3.24)}
	for _, c := range []struct {
		name string
		sc   screen
	}{
		{"pressure", screen{view: viewPressure, report: reading}},
		{"pressure-none", screen{view: viewPressure}},
		{"pressure-998", screen{view: viewPressure, report: Report{Valid: true, SeaLevel: hp(998.2)}}},
		{"err", screen{view: viewSpark3, failing: true, report: reading}},
		{"label-12h", screen{view: viewSpark12, label: true}},
		{"spark-flat-gaps", screen{view: viewSpark3, spark: sparkPoints(
			1013, 1013.1, 1012.9, 1013, nan, nan, 1013.2, 1013.1, 1013, 1012.8, 1013, 1013, 1013.1, nan, 1013, 1013.2, 1013.1)}},
		{"spark-storm", screen{view: viewSpark24, spark: sparkPoints(storm...)}},
		{"spark-empty", screen{view: viewSpark24, spark: sparkPoints(nan, nan)}},
		{"tendency-falling", screen{view: viewTendency, report: reading}},
		{"tendency-rising", screen{view: viewTendency, report: Report{Valid: true, TendencyKnown: true, Change3h: hp(12.46)}}},
		{"tendency-steady", screen{view: viewTendency, report: Report{Valid: true, TendencyKnown: true, Change3h: hp(0.04)}}},
		{"tendency-unknown", screen{view: viewTendency, report: Report{Valid: true}}},
		{"flash", screen{view: viewPressure, report: reading, inverted: true}},
		{"dimmed", screen{view: viewPressure, report: reading, dim: 64}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFrame()
			for i := range f.Pix {
				f.Pix[i] = 7 // render must overwrite old content
			}
			if c.sc.dim == 0 {
				c.sc.dim = 255
			}
			newRenderer().render(f, &c.sc)
			golden(t, c.name, ascii(f))
		})
	}
}

func TestDimScalesPixels(t *testing.T) {
	f := newFrame()
	sc := screen{view: viewPressure, report: Report{Valid: true, SeaLevel: hp(1013)}, dim: 16}
	newRenderer().render(f, &sc)
	lit := 0
	for _, v := range f.Pix {
		if v != 0 && v != 16 {
			t.Fatalf("pixel %d at dim 16, want 0 or 16", v)
		}
		if v == 16 {
			lit++
		}
	}
	if lit == 0 {
		t.Fatal("nothing lit")
	}
}

func TestTextScrollsWhenTooWide(t *testing.T) {
	r := newRenderer()
	a, b := newFrame(), newFrame()
	sc := screen{view: viewTendency, report: Report{Valid: true, TendencyKnown: true, Change3h: hp(-123.4)}, dim: 255}
	r.render(a, &sc)
	sc.step = 3
	r.render(b, &sc)
	if string(a.Pix) == string(b.Pix) {
		t.Fatal("a 6-character tendency did not scroll")
	}
}

// BenchmarkFrame is the CPU per display frame: compose the screen and render
// it, cycling through every view (the scene then sends only changed frames).
func BenchmarkFrame(b *testing.B) {
	storm := make([]float64, 17)
	for i := range storm {
		storm[i] = 1013 - 8*float64(i)/16
	}
	s := New(nil, nil, nil, &memStore{}, nil, Opts{Dim: func(time.Time) uint8 { return 200 }})
	st := &state{sparks: map[viewKind][]Point{viewSpark3: sparkPoints(storm...), viewSpark12: sparkPoints(storm...), viewSpark24: sparkPoints(storm...)}}
	st.report = Report{Valid: true, SeaLevel: hp(1013.4), TendencyKnown: true, Change3h: hp(-3.2), Level: LevelGale}
	st.alarm = true
	r := newRenderer()
	f := newFrame()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		st.view = viewKind(i/16) % numViews
		st.frame = i
		s.compose(st)
		r.render(f, &st.screen)
		i++
	}
}
