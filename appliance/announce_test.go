package appliance

import (
	"context"
	"image"
	"sync"
	"testing"
	"time"

	"tinkerbox/appliance/board"
	"tinkerbox/drivers/sim"
	"tinkerbox/images/font"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// frameLog is the simulated display, keeping every frame it was shown.
type frameLog struct {
	*sim.Display
	mu     sync.Mutex
	frames [][]uint8
}

func (f *frameLog) Show(frame *image.Gray) error {
	f.mu.Lock()
	f.frames = append(f.frames, append([]uint8(nil), frame.Pix...))
	f.mu.Unlock()
	return f.Display.Show(frame)
}

func lit(px []uint8) int {
	n := 0
	for _, p := range px {
		if p != 0 {
			n++
		}
	}
	return n
}

// announceFrames runs announce for name on the fake clock, advancing it
// whenever announce waits, and returns every frame shown.
func announceFrames(t *testing.T, name string) (*frameLog, [][]uint8) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	d := &frameLog{Display: sim.NewDisplay()}
	a := &app{board: &board.Board{Display: d}, clock: clk}
	done := make(chan struct{})
	go func() { a.announce(context.Background(), name); close(done) }()
	for {
		waiting := make(chan struct{})
		go func() { clk.BlockUntil(1); close(waiting) }()
		select {
		case <-done:
			d.mu.Lock()
			defer d.mu.Unlock()
			return d, d.frames
		case <-waiting:
			clk.Advance(time.Second)
		}
	}
}

// TestAnnounceEndsBlank: a scene's name scrolls fully off the 17×7 display
// (no "sPy" left from the scroller's next cycle), and the display ends blank.
func TestAnnounceEndsBlank(t *testing.T) {
	for _, name := range []string{"spycam", "cardfeed", "barometer", "comic"} {
		d, frames := announceFrames(t, name)
		if len(frames) < 2 {
			t.Fatalf("%s: %d frames", name, len(frames))
		}
		if n := lit(frames[0]); n == 0 {
			t.Errorf("%s: the first frame is blank", name)
		}
		if n := lit(d.Frame().Pix); n != 0 {
			t.Errorf("%s: the display ends with %d pixels lit, want blank", name, n)
		}
		// Once the text has gone, nothing comes back in.
		gone := false
		for i, f := range frames {
			switch n := lit(f); {
			case n == 0:
				gone = true
			case gone:
				t.Fatalf("%s: frame %d of %d lights %d pixels after the text had scrolled off", name, i, len(frames), n)
			}
		}
		// Scrolling left one column a frame: a frame's columns are the last
		// one's shifted by one, so the text never jumps or wraps.
		w := scene.DisplayWidth
		for i := 1; i < len(frames)-1; i++ {
			for y := range scene.DisplayHeight {
				for x := 0; x < w-1; x++ {
					if frames[i][y*w+x] != frames[i-1][y*w+x+1] {
						t.Fatalf("%s: frame %d is not frame %d scrolled by one column", name, i, i-1)
					}
				}
			}
		}
		if want := font.Font5x7().Measure(name) + 2; len(frames) != want {
			t.Errorf("%s: %d frames, want %d (every step until off, then blank)", name, len(frames), want)
		}
	}
}

// TestAnnounceShortName: a name that fits is shown still, then cleared.
func TestAnnounceShortName(t *testing.T) {
	d, frames := announceFrames(t, "ab")
	if len(frames) != 2 || lit(frames[0]) == 0 || lit(frames[1]) != 0 || lit(d.Frame().Pix) != 0 {
		t.Fatalf("frames lit %v, want the name, then blank", func() (l []int) {
			for _, f := range frames {
				l = append(l, lit(f))
			}
			return
		}())
	}
}
