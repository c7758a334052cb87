package hello

import (
	"context"
	"image"
	"testing"
	"time"

	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

type display chan *image.Gray

func (d display) Show(f *image.Gray) error {
	c := image.NewGray(f.Rect)
	copy(c.Pix, f.Pix)
	d <- c
	return nil
}

type lights chan string

func (l lights) SetLight(name string, m scene.LightMode) error {
	l <- name + "=" + map[scene.LightMode]string{scene.LightOff: "off", scene.LightOn: "on", scene.LightBlink: "blink"}[m]
	return nil
}

func recv[T any](t *testing.T, c chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second): // hang guard only
		t.Fatal("nothing received")
		panic("unreachable")
	}
}

func lit(f *image.Gray) int {
	n := 0
	for _, p := range f.Pix {
		if p > 0 {
			n++
		}
	}
	return n
}

func TestScrollsAndBlinks(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	d, l := make(display, 64), make(lights, 64)
	s := New(d, l, clk, "")
	events := make(chan scene.Event, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, events) }()

	if got := recv(t, l); got != "ready=on" {
		t.Fatalf("first light = %q", got)
	}
	first := recv(t, d)
	if first.Rect.Dx() != 17 || first.Rect.Dy() != 7 || lit(first) == 0 {
		t.Fatalf("first frame %v with %d lit pixels", first.Rect, lit(first))
	}
	clk.BlockUntil(1)
	clk.Advance(step)
	second := recv(t, d)
	if string(first.Pix) == string(second.Pix) {
		t.Fatal("the text did not scroll")
	}

	events <- scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: scene.Short}
	if got := recv(t, l); got != "busy=blink" {
		t.Fatalf("after A: %q", got)
	}
	clk.Advance(blink)
	for got := recv(t, l); got != "busy=off"; got = recv(t, l) {
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
