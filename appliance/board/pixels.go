package board

import (
	"image/color"
	"sync"
	"time"

	"tinkerbox/drivers/blinkt"
	"tinkerbox/scenes/scene"
)

// blinktPixels maps the status lights onto Blinkt pixels and colours: ready
// green on the left, busy amber next to it, warning red on the right.
func blinktPixels() map[string]pixelSpec {
	return map[string]pixelSpec{
		scene.LightReady: {0, color.RGBA{0, 255, 0, 255}},
		scene.LightBusy:  {1, color.RGBA{255, 140, 0, 255}},
		scene.LightWarn:  {7, color.RGBA{255, 0, 0, 255}},
	}
}

type pixelSpec struct {
	index int
	color color.RGBA
}

// pixelStrip drives status lights on a Blinkt. Blinking pixels share one
// refresh goroutine, which runs only while some pixel blinks.
type pixelStrip struct {
	dev   *blinkt.Dev
	clock scene.Clock

	mu      sync.Mutex
	period  map[int]time.Duration // 0 steady
	on      map[int]bool
	colors  map[int]color.RGBA
	running bool
	quit    chan struct{}
}

func newPixelStrip(dev *blinkt.Dev, clk scene.Clock) *pixelStrip {
	return &pixelStrip{dev: dev, clock: clk, period: map[int]time.Duration{}, on: map[int]bool{}, colors: map[int]color.RGBA{}, quit: make(chan struct{})}
}

func (s *pixelStrip) pixel(p pixelSpec) *pixelLight {
	s.mu.Lock()
	s.colors[p.index] = p.color
	s.mu.Unlock()
	return &pixelLight{strip: s, index: p.index}
}

// set changes one pixel and shows the strip.
func (s *pixelStrip) set(i int, on bool, period time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on[i], s.period[i] = on, period
	if period > 0 && !s.running {
		s.running = true
		go s.refresh()
	}
	return s.showLocked()
}

func (s *pixelStrip) showLocked() error {
	now := s.clock.Now()
	for i, c := range s.colors {
		lit := s.on[i]
		if p := s.period[i]; lit && p > 0 {
			lit = now.UnixNano()%int64(p) < int64(p)/2
		}
		if !lit {
			c = color.RGBA{}
		}
		if err := s.dev.SetPixel(i, c); err != nil {
			return err
		}
	}
	return s.dev.Show()
}

// refresh redraws blinking pixels until none blink or the strip stops.
func (s *pixelStrip) refresh() {
	for {
		select {
		case <-s.quit:
			return
		case <-s.clock.After(fastBlink / 2):
		}
		s.mu.Lock()
		blinking := false
		for _, p := range s.period {
			blinking = blinking || p > 0
		}
		if !blinking {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.showLocked()
		s.mu.Unlock()
	}
}

func (s *pixelStrip) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
}

// pixelLight is one status light on the strip.
type pixelLight struct {
	strip *pixelStrip
	index int
}

func (l *pixelLight) On() error                   { return l.strip.set(l.index, true, 0) }
func (l *pixelLight) Off() error                  { return l.strip.set(l.index, false, 0) }
func (l *pixelLight) Blink(p time.Duration) error { return l.strip.set(l.index, true, p) }
