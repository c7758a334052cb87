package sim

import (
	"fmt"
	"image"
	"image/color"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/scene/fakeclock"
)

func plainFace(id string) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 63, 88))
	c := color.RGBA{200, 180, 150, 255}
	if id == "b" {
		c = color.RGBA{90, 200, 120, 255}
	}
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	return img
}

func newTestStack(t *testing.T) (*CardStack, *Wheel, *Servo, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Unix(0, 0))
	feed := NewServo("feed", Continuous, clk)
	sorter := NewServo("sorter", Positional, clk)
	s, err := NewCardStack(feed, &CardStackOpts{Face: plainFace, Width: 160, Height: 120, Sorter: sorter, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Wheel(), sorter, clk
}

// pulse turns the wheel at full speed for d (FS90R: 0.75 rev/s).
func pulse(t *testing.T, w *Wheel, clk *fakeclock.Clock, d time.Duration) {
	t.Helper()
	if err := w.SetSpeed(1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(d)
	if err := w.SetSpeed(0); err != nil {
		t.Fatal(err)
	}
}

func meanLuma(img image.Image) float64 {
	r := img.(*image.RGBA)
	sum := 0
	for i := 0; i < len(r.Pix); i += 4 {
		sum += int(r.Pix[i+1])
	}
	return float64(sum) / float64(len(r.Pix)/4)
}

func TestCardStackFeeds(t *testing.T) {
	s, w, sorter, clk := newTestStack(t)
	s.Load("a", "b", "c", "d", "e")
	if bed := meanLuma(s.Picture(clk.Now())); bed > 45 {
		t.Fatalf("empty bed is too bright: %.0f", bed)
	}
	pulse(t, w, clk, 200*time.Millisecond) // 0.15 rev < pitch 0.2: nothing
	if st := s.State(); len(st.Lens) != 0 || st.Hopper != 5 {
		t.Fatalf("short pulse moved a card: %+v", st)
	}
	pulse(t, w, clk, 350*time.Millisecond) // 0.26 rev: one card
	if st := s.State(); len(st.Lens) != 1 || st.Lens[0] != "a" || st.Hopper != 4 {
		t.Fatalf("after one pulse: %+v", st)
	}
	if lit := meanLuma(s.Picture(clk.Now())); lit < 60 {
		t.Fatalf("card not visible: mean %.0f", lit)
	}
	sorter.SetAngle(40 * physic.Degree)
	clk.Advance(time.Second)
	pulse(t, w, clk, 350*time.Millisecond)
	st := s.State()
	if len(st.Out) != 1 || st.Out[0].ID != "a" || st.Out[0].Angle != 40*physic.Degree || st.Lens[0] != "b" {
		t.Fatalf("eject: %+v", st)
	}

	// A jam: the wheel turns, the card stays.
	s.SetJammed(true)
	pulse(t, w, clk, 350*time.Millisecond)
	if st := s.State(); st.Lens[0] != "b" || len(st.Out) != 1 {
		t.Fatalf("moved while jammed: %+v", st)
	}
	s.SetJammed(false)

	// A double feed puts two cards on the bed; both leave together.
	s.DoubleFeed()
	pulse(t, w, clk, 350*time.Millisecond)
	if st := s.State(); len(st.Lens) != 2 || st.Lens[0] != "c" || st.Lens[1] != "d" || st.Hopper != 1 {
		t.Fatalf("double feed: %+v", st)
	}
	pulse(t, w, clk, 350*time.Millisecond)
	pulse(t, w, clk, 350*time.Millisecond)
	st = s.State()
	if len(st.Lens) != 0 || len(st.Out) != 5 || st.Hopper != 0 {
		t.Fatalf("emptied: %+v", st)
	}
	if err := s.Halt(); err != nil || feedPowered(s) {
		t.Fatalf("halt: %v", err)
	}
}

func feedPowered(s *CardStack) bool { return s.feed.State().Powered }

func TestCardStackPlacementsDiffer(t *testing.T) {
	s, w, _, clk := newTestStack(t)
	s.Load("a", "a")
	pulse(t, w, clk, 350*time.Millisecond)
	p1 := append([]uint8(nil), s.Picture(clk.Now()).(*image.RGBA).Pix...)
	same := append([]uint8(nil), s.Picture(clk.Now().Add(time.Millisecond)).(*image.RGBA).Pix...)
	pulse(t, w, clk, 350*time.Millisecond)
	p2 := s.Picture(clk.Now()).(*image.RGBA).Pix
	diff := func(a, b []uint8) int {
		n := 0
		for i := range a {
			if d := int(a[i]) - int(b[i]); d > 30 || d < -30 {
				n++
			}
		}
		return n
	}
	if d := diff(p1, same); d != 0 {
		t.Errorf("the same card moved between two frames: %d bytes differ", d)
	}
	if d := diff(p1, p2); d < 100 {
		t.Errorf("two copies of a card lie exactly alike (%d bytes differ): jams would be undetectable", d)
	}
}

func TestCardStackBadOpts(t *testing.T) {
	clk := fakeclock.New(time.Unix(0, 0))
	if _, err := NewCardStack(NewServo("s", Positional, clk), &CardStackOpts{Face: plainFace}); err == nil {
		t.Error("positional feed servo accepted")
	}
	if _, err := NewCardStack(NewServo("s", Continuous, clk), nil); err == nil {
		t.Error("no Face accepted")
	}
	if _, err := NewCardStack(NewServo("s", Continuous, clk), &CardStackOpts{Face: plainFace, Width: 10, Height: 10}); err == nil {
		t.Error("tiny frame accepted")
	}
}

// A card stack under the simulated camera: the wheel pulse moves the top
// card onto the lens bed.
func ExampleCardStack() {
	clk := fakeclock.New(time.Unix(0, 0))
	feed := NewServo("feed", Continuous, clk)
	stack, err := NewCardStack(feed, &CardStackOpts{Face: plainFace, Width: 160, Height: 120})
	if err != nil {
		fmt.Println(err)
		return
	}
	cam := NewCamera(&CameraOpts{Width: 160, Height: 120, Clock: clk})
	cam.SetPicture(stack.Picture)
	stack.Load("a", "b")
	w := stack.Wheel()
	w.SetSpeed(1)
	clk.Advance(350 * time.Millisecond)
	w.SetSpeed(0)
	fmt.Println(stack.State().Lens, stack.State().Hopper)
	// Output: [a] 1
}
