package sim

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"periph.io/x/conn/v3/physic"
)

// CardStackOpts configures a CardStack.
type CardStackOpts struct {
	// Face draws the printed face of a card by id (required): the simulator
	// does not know the catalog, the wiring does.
	Face func(id string) image.Image
	// Width, Height of the camera frame; 0 is 640x480.
	Width, Height int
	// Pitch is how far (wheel revolutions) the wheel turns to push one card
	// past the gate; 0 is 0.2. Turning stops when the wheel stops, so a
	// pulse shorter than Pitch moves nothing and one between Pitch and
	// 2·Pitch moves exactly one card.
	Pitch float64
	// Sorter, when set, is read when a card drops off the bed: its angle
	// says which chute the card fell into.
	Sorter *Servo
	Seed   uint64
}

// Dropped is a card that left the lens bed.
type Dropped struct {
	ID    string
	Angle physic.Angle // sorter angle when it dropped
}

// CardStackState is the stack at one instant.
type CardStackState struct {
	Hopper  int       // cards still in the hopper
	Lens    []string  // cards on the lens bed, top first (two after a double feed)
	Out     []Dropped // cards that went down the chutes, in order
	Jammed  bool
	Doubles int // double feeds still to come
}

// CardStack is a virtual stack of trading cards in the feeder: the feed
// wheel (a continuous servo) pushes the top card onto the lens bed, where
// the camera sees it rotated, shifted, blurred, noisy and unevenly lit; the
// next push drops it down the chute the sorter points at. Jams (the card
// does not move) and double feeds (two cards move at once) can be injected.
type CardStack struct {
	feed *Servo
	opts CardStackOpts

	mu       sync.Mutex
	hopper   []string
	lens     []string
	out      []Dropped
	jammed   bool
	doubles  int
	revs     float64 // wheel position at the last look
	progress float64 // how far the top card has been pushed
	serial   uint64  // feeds so far: each placement differs
	photo    *image.RGBA
	frame    *image.RGBA
	bed      *image.RGBA
}

// NewCardStack returns an empty stack fed by feed.
func NewCardStack(feed *Servo, opts *CardStackOpts) (*CardStack, error) {
	if feed == nil || feed.Kind() != Continuous {
		return nil, fmt.Errorf("sim: card stack needs a continuous feed servo")
	}
	if opts == nil || opts.Face == nil {
		return nil, fmt.Errorf("sim: card stack needs a Face function")
	}
	o := *opts
	if o.Width == 0 {
		o.Width, o.Height = 640, 480
	}
	if o.Width < 64 || o.Height < 64 || o.Width > 4096 || o.Height > 4096 {
		return nil, fmt.Errorf("sim: card stack frame %dx%d outside 64..4096", o.Width, o.Height)
	}
	if o.Pitch <= 0 {
		o.Pitch = 0.2
	}
	s := &CardStack{feed: feed, opts: o, revs: feed.State().Revolutions}
	s.bed = image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	for y := 0; y < o.Height; y++ {
		for x := 0; x < o.Width; x++ {
			g := uint8(26 + hashUnit(uint64(y), int64(x))*8)
			i := s.bed.PixOffset(x, y)
			s.bed.Pix[i], s.bed.Pix[i+1], s.bed.Pix[i+2], s.bed.Pix[i+3] = g, g+2, g+5, 255
		}
	}
	return s, nil
}

func (s *CardStack) String() string { return "sim.CardStack(" + s.feed.String() + ")" }

// Halt stops the feed wheel.
func (s *CardStack) Halt() error { return s.Wheel().Halt() }

// Load puts cards on top of the hopper (ids[0] is fed first).
func (s *CardStack) Load(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.hopper = append(append([]string(nil), ids...), s.hopper...)
}

// SetJammed injects or clears a jam: the wheel turns, the card stays.
func (s *CardStack) SetJammed(j bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.jammed = j
	s.progress = 0
}

// DoubleFeed makes the next feed push two cards at once.
func (s *CardStack) DoubleFeed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doubles++
}

// State returns the stack now.
func (s *CardStack) State() CardStackState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	return CardStackState{Hopper: len(s.hopper), Lens: append([]string(nil), s.lens...),
		Out: append([]Dropped(nil), s.out...), Jammed: s.jammed, Doubles: s.doubles}
}

// advance turns the wheel's motion since the last look into card motion.
func (s *CardStack) advance() {
	r := s.feed.State().Revolutions
	d := r - s.revs
	s.revs = r
	if d <= 0 || s.jammed {
		return
	}
	s.progress += d
	for s.progress >= s.opts.Pitch {
		s.progress -= s.opts.Pitch
		s.feedOne()
	}
}

func (s *CardStack) feedOne() {
	var angle physic.Angle
	if s.opts.Sorter != nil {
		angle = s.opts.Sorter.State().Angle
	}
	for _, id := range s.lens {
		s.out = append(s.out, Dropped{ID: id, Angle: angle})
	}
	s.lens = nil
	n := 1
	if s.doubles > 0 {
		s.doubles--
		n = 2
	}
	for ; n > 0 && len(s.hopper) > 0; n-- {
		s.lens = append(s.lens, s.hopper[0])
		s.hopper = s.hopper[1:]
	}
	s.serial++
	s.photo = nil
}

// Wheel is the feed servo as the scene drives it: the stack watches its
// pulses (a stopped wheel lets the gate push a half-fed card back).
func (s *CardStack) Wheel() *Wheel { return &Wheel{s: s} }

// Wheel wraps the feed servo of a CardStack.
type Wheel struct{ s *CardStack }

func (w *Wheel) String() string { return "sim.Wheel(" + w.s.feed.String() + ")" }

// SetAngle is not supported by a continuous servo.
func (w *Wheel) SetAngle(a physic.Angle) error { return w.s.feed.SetAngle(a) }

// SetSpeed turns the wheel.
func (w *Wheel) SetSpeed(v float64) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.advance()
	if v == 0 {
		w.s.progress = 0
	}
	return w.s.feed.SetSpeed(v)
}

// Halt stops the wheel.
func (w *Wheel) Halt() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.advance()
	w.s.progress = 0
	return w.s.feed.Halt()
}

// Picture is the camera's view at t: for (*Camera).SetPicture.
func (s *CardStack) Picture(t time.Time) image.Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if s.frame == nil {
		s.frame = image.NewRGBA(s.bed.Rect)
	}
	if len(s.lens) == 0 {
		copy(s.frame.Pix, s.bed.Pix)
	} else {
		if s.photo == nil {
			s.photo = s.shoot(s.lens[0])
		}
		copy(s.frame.Pix, s.photo.Pix)
	}
	// Sensor noise, new every frame: ±6 levels from a cheap hash.
	seed := uint64(t.UnixNano())
	for i := 0; i < len(s.frame.Pix); i += 4 {
		h := (uint64(i) + seed) * 0x9E3779B97F4A7C15
		h ^= h >> 29
		for k := 0; k < 3; k++ {
			n := int(h>>(8*k)&15) - 7
			s.frame.Pix[i+k] = uint8(max(0, min(255, int(s.frame.Pix[i+k])+n)))
		}
	}
	return s.frame
}

// shoot places card id on the bed as this feed left it: rotated up to ±8°,
// shifted, softly blurred and lit from one side.
func (s *CardStack) shoot(id string) *image.RGBA {
	out := image.NewRGBA(s.bed.Rect)
	copy(out.Pix, s.bed.Pix)
	face := s.opts.Face(id)
	if face == nil {
		return out
	}
	src := image.NewRGBA(image.Rect(0, 0, face.Bounds().Dx(), face.Bounds().Dy()))
	draw.Draw(src, src.Rect, face, face.Bounds().Min, draw.Src)
	rnd := rand.New(rand.NewPCG(s.opts.Seed, s.serial))
	w, h := float64(s.opts.Width), float64(s.opts.Height)
	angle := (rnd.Float64()*2 - 1) * 8 * math.Pi / 180
	cx := w/2 + (rnd.Float64()*2-1)*0.05*w
	cy := h/2 + (rnd.Float64()*2-1)*0.03*h
	height := h * (0.76 + 0.06*rnd.Float64())
	light, lightDir := 0.35*rnd.Float64(), rnd.Float64()*2*math.Pi
	scale := float64(src.Rect.Dy()) / height
	sin, cos := math.Sincos(angle)
	fw, fh := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	ls, lc := math.Sincos(lightDir)
	for y := 0; y < s.opts.Height; y++ {
		for x := 0; x < s.opts.Width; x++ {
			px, py := float64(x)+0.5-cx, float64(y)+0.5-cy
			u := (cos*px+sin*py)*scale + fw/2
			v := (-sin*px+cos*py)*scale + fh/2
			if u < 0 || v < 0 || u >= fw || v >= fh {
				continue
			}
			// Lit more on one side, like a lamp off to the side.
			gain := 1 - light*((px*lc+py*ls)/math.Max(w, h)+0.5) + light/2
			i, j := src.PixOffset(int(u), int(v)), out.PixOffset(x, y)
			for k := 0; k < 3; k++ {
				out.Pix[j+k] = uint8(math.Min(255, float64(src.Pix[i+k])*gain))
			}
		}
	}
	blur3(out)
	return out
}

// blur3 is a 3x3 box blur in place: the lens is never quite in focus.
func blur3(img *image.RGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	src := append([]uint8(nil), img.Pix...)
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			for k := 0; k < 3; k++ {
				sum := 0
				for dy := -1; dy <= 1; dy++ {
					o := (y+dy)*img.Stride + (x-1)*4 + k
					sum += int(src[o]) + int(src[o+4]) + int(src[o+8])
				}
				img.Pix[y*img.Stride+x*4+k] = uint8(sum / 9)
			}
		}
	}
}
