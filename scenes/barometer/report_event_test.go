package barometer

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
)

type reports struct {
	mu   sync.Mutex
	list []string
}

func (r *reports) Report(level, msg string) {
	r.mu.Lock()
	r.list = append(r.list, level+": "+msg)
	r.mu.Unlock()
}

func (r *reports) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.list...)
}

// TestGaleReported: a gale goes to the event log once (as an error, so the
// browser notifies), not once per sample.
func TestGaleReported(t *testing.T) {
	m := &memStore{}
	m.fill(t0.Add(-time.Minute), 4*60, func(ago int) float64 {
		return 1005 + 8*math.Min(float64(ago+1), 180)/180
	})
	rep := &reports{}
	o := DefaultOpts()
	o.Reporter = rep
	r := newRig(t, m, o)
	r.sensor.set(1005, false)
	r.start()
	defer r.stop()
	for range 3 {
		r.advance(o.Interval)
	}
	got := rep.get()
	if len(got) != 1 || !strings.HasPrefix(got[0], scene.LevelError+": gale warning: pressure -") {
		t.Fatalf("reports = %q, want one gale warning", got)
	}
	if h := r.scene.Help(); h.A == "" || h.ALong == "" || h.Lights[scene.LightWarn] == "" {
		t.Errorf("help = %+v, want A, A long and the warn light explained", h)
	}
}
