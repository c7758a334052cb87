package servo

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
)

// recOut records what a Dev asks of its Output.
type recOut struct {
	calls []string
	err   error
}

func (r *recOut) SetPulse(d time.Duration) error {
	r.calls = append(r.calls, fmt.Sprintf("pulse %s", d))
	return r.err
}
func (r *recOut) Stop() error    { r.calls = append(r.calls, "stop"); return r.err }
func (r *recOut) String() string { return "rec" }

const us = time.Microsecond

func mustNew(t testing.TB, o *Opts) *Dev {
	t.Helper()
	d, err := New(&recOut{}, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAnglePulse(t *testing.T) {
	def := DefaultOpts()
	asym := Opts{MinPulse: 600 * us, CenterPulse: 1400 * us, MaxPulse: 2400 * us}
	inv := Opts{Invert: true}
	narrow := Opts{Range: 60 * physic.Degree}
	for _, c := range []struct {
		o    *Opts
		a    physic.Angle
		want time.Duration
	}{
		{&def, 0, 1500 * us},
		{&def, 90 * physic.Degree, 2500 * us},
		{&def, -90 * physic.Degree, 500 * us},
		{&def, 45 * physic.Degree, 2000 * us},
		{&def, -45 * physic.Degree, 1000 * us},
		{&def, physic.Degree, 1511111 * time.Nanosecond}, // 1000 µs/90 rounded
		{nil, 30 * physic.Degree, 1833333 * time.Nanosecond},
		{&asym, 45 * physic.Degree, 1900 * us},
		{&asym, -45 * physic.Degree, 1000 * us},
		{&asym, 90 * physic.Degree, 2400 * us},
		{&asym, -90 * physic.Degree, 600 * us},
		{&inv, 90 * physic.Degree, 500 * us},
		{&inv, -45 * physic.Degree, 2000 * us},
		{&narrow, 30 * physic.Degree, 2000 * us},
		{&narrow, -60 * physic.Degree, 500 * us},
	} {
		p, err := mustNew(t, c.o).AnglePulse(c.a)
		if err != nil || p != c.want {
			t.Errorf("%+v angle %s: %s, %v; want %s", c.o, c.a, p, err, c.want)
		}
	}
	d := mustNew(t, nil)
	for _, a := range []physic.Angle{91 * physic.Degree, -90*physic.Degree - 1, math.MaxInt64, math.MinInt64} {
		if _, err := d.AnglePulse(a); err == nil || !strings.HasPrefix(err.Error(), "servo: angle ") {
			t.Errorf("angle %d: err %v", a, err)
		}
	}
	if _, err := d.SpeedPulse(0); err == nil {
		t.Error("SetSpeed on a positional servo must fail")
	}
}

func TestSpeedPulse(t *testing.T) {
	cont := Opts{Kind: Continuous}
	db := Opts{Kind: Continuous, Deadband: 50 * us}
	inv := Opts{Kind: Continuous, Invert: true}
	for _, c := range []struct {
		o    *Opts
		s    float64
		want time.Duration
	}{
		{&cont, 0, 1500 * us},
		{&cont, 1, 2500 * us},
		{&cont, -1, 500 * us},
		{&cont, 0.5, 2000 * us},
		{&cont, -0.25, 1250 * us},
		{&db, 0, 1500 * us},
		{&db, 1, 2500 * us},
		{&db, -1, 500 * us},
		{&db, 0.5, 2025 * us}, // 1500 + 50 + 0.5*950
		{&db, -0.001, 1449050 * time.Nanosecond},
		{&inv, 1, 500 * us},
	} {
		p, err := mustNew(t, c.o).SpeedPulse(c.s)
		if err != nil || p != c.want {
			t.Errorf("%+v speed %v: %s, %v; want %s", c.o, c.s, p, err, c.want)
		}
	}
	d := mustNew(t, &cont)
	for _, s := range []float64{1.01, -2, math.NaN(), math.Inf(1)} {
		if _, err := d.SpeedPulse(s); err == nil {
			t.Errorf("speed %v accepted", s)
		}
	}
	if err := d.SetAngle(0); err == nil {
		t.Error("SetAngle on a continuous servo must fail")
	}
}

func TestBadOpts(t *testing.T) {
	for _, o := range []Opts{
		{Kind: 7},
		{MinPulse: -us},
		{MaxPulse: 30 * time.Millisecond},
		{CenterPulse: 2600 * us},
		{MinPulse: 2000 * us, MaxPulse: 1000 * us},
		{Range: -physic.Degree},
		{Range: 181 * physic.Degree},
		{Deadband: -us},
		{Kind: Continuous, Deadband: 1000 * us},
	} {
		if _, err := New(&recOut{}, &o); err == nil || !strings.HasPrefix(err.Error(), "servo: ") {
			t.Errorf("New(%+v): %v", o, err)
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("nil output accepted")
	}
}

func TestDevDrivesOutput(t *testing.T) {
	out := &recOut{}
	d, err := New(out, &Opts{Kind: Continuous})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetSpeed(1); err != nil {
		t.Fatal(err)
	}
	if d.Pulse() != 2500*us {
		t.Errorf("Pulse() = %s", d.Pulse())
	}
	if err := d.SetSpeed(2); err == nil {
		t.Fatal("speed 2 accepted")
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"pulse 2.5ms", "stop"}; !slices.Equal(out.calls, want) {
		t.Errorf("calls %q, want %q", out.calls, want)
	}
	if d.Pulse() != 0 {
		t.Error("Halt must clear Pulse()")
	}
	if s := d.String(); s != "servo{continuous rec}" {
		t.Errorf("String() = %q", s)
	}
	out.err = fmt.Errorf("boom")
	if err := d.SetSpeed(0); err == nil || err.Error() != "servo: rec: boom" {
		t.Errorf("err = %v", err)
	}
	if err := d.Halt(); err == nil {
		t.Error("Halt error swallowed")
	}
}

func BenchmarkSetAngle(b *testing.B) {
	d, err := New(nopOut{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	a := physic.Angle(0)
	for b.Loop() {
		if err := d.SetAngle(a); err != nil {
			b.Fatal(err)
		}
		a += physic.Degree
		if a > 90*physic.Degree {
			a = -90 * physic.Degree
		}
	}
}

type nopOut struct{}

func (nopOut) SetPulse(time.Duration) error { return nil }
func (nopOut) Stop() error                  { return nil }
func (nopOut) String() string               { return "nop" }

// FuzzPulse: whatever the input, a pulse is either refused or lies within
// the calibrated ends.
func FuzzPulse(f *testing.F) {
	f.Add(int64(0), 0.0, int64(500), int64(2500), int64(0), int64(0), false)
	f.Add(int64(90*physic.Degree), 1.0, int64(600), int64(2400), int64(1400), int64(50), true)
	f.Add(int64(math.MinInt64), math.Inf(-1), int64(1), int64(20000), int64(19999), int64(0), false)
	f.Fuzz(func(t *testing.T, angle int64, speed float64, minUS, maxUS, centerUS, deadUS int64, invert bool) {
		for _, kind := range []Kind{Positional, Continuous} {
			o := Opts{Kind: kind, MinPulse: time.Duration(minUS) * us, MaxPulse: time.Duration(maxUS) * us,
				CenterPulse: time.Duration(centerUS) * us, Deadband: time.Duration(deadUS) * us, Invert: invert}
			d, err := New(nopOut{}, &o)
			if err != nil {
				continue
			}
			var p time.Duration
			if kind == Positional {
				p, err = d.AnglePulse(physic.Angle(angle))
			} else {
				p, err = d.SpeedPulse(speed)
			}
			if err != nil {
				continue
			}
			if p < d.o.MinPulse || p > d.o.MaxPulse {
				t.Fatalf("%+v: pulse %s outside %s..%s", d.o, p, d.o.MinPulse, d.o.MaxPulse)
			}
		}
	})
}
