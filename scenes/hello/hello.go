// Package hello is the placeholder scene that exercises the loop until the
// real scenes land: it scrolls a greeting on the display, and button A blinks
// the busy light for a few seconds.
package hello

import (
	"context"
	"fmt"
	"image"
	"time"

	"tinkerbox/images/font"
	"tinkerbox/scenes/scene"
)

// Name of the scene in the config and the UI.
const Name = "hello"

const (
	step  = 60 * time.Millisecond // scroll speed: ~16 px/s reads comfortably
	blink = 3 * time.Second
)

// Scene scrolls text; A short blinks the busy light, A long counts up.
type Scene struct {
	display scene.Display
	lights  scene.Lights
	clock   scene.Clock
	text    string
}

// New returns the scene. display and lights may be nil (missing hardware).
func New(display scene.Display, lights scene.Lights, clock scene.Clock, text string) *Scene {
	if text == "" {
		text = "Hello from tinkerbox!"
	}
	return &Scene{display: display, lights: lights, clock: clock, text: text}
}

// Name implements scene.Scene.
func (s *Scene) Name() string { return Name }

// Run implements scene.Scene.
func (s *Scene) Run(ctx context.Context, events <-chan scene.Event) error {
	frame := image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
	scroll := font.NewScroller(font.Font5x7(), s.text, scene.DisplayWidth, scene.DisplayHeight)
	presses := 0
	var stopBlink <-chan time.Time
	defer s.light(scene.LightBusy, scene.LightOff)
	s.light(scene.LightReady, scene.LightOn)
	for i := 0; ; i++ {
		if s.display != nil {
			scroll.Frame(i%scroll.Len(), frame)
			if err := s.display.Show(frame); err != nil {
				return fmt.Errorf("hello: display: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.clock.After(step):
		case <-stopBlink:
			stopBlink = nil
			s.light(scene.LightBusy, scene.LightOff)
		case ev := <-events:
			if ev.Kind != scene.KindPress || ev.Button != scene.ButtonA {
				continue
			}
			switch ev.Press {
			case scene.Short:
				s.light(scene.LightBusy, scene.LightBlink)
				stopBlink = s.clock.After(blink)
			case scene.Long:
				presses++
				scroll = font.NewScroller(font.Font5x7(), fmt.Sprintf("%s #%d", s.text, presses), scene.DisplayWidth, scene.DisplayHeight)
				i = -1
			}
		}
	}
}

// light sets a status light; a missing light is not the scene's failure.
func (s *Scene) light(name string, m scene.LightMode) {
	if s.lights != nil {
		_ = s.lights.SetLight(name, m)
	}
}
