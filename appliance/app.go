package appliance

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"tinkerbox/appliance/board"
	"tinkerbox/appliance/config"
	"tinkerbox/appliance/loop"
	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	"tinkerbox/drivers/picam"
	"tinkerbox/images/font"
	"tinkerbox/scenes/barometer"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
)

// app is the running appliance as the web server sees it.
type app struct {
	cfg      *config.Config
	board    *board.Board
	store    *store.Store
	loop     *loop.Loop
	camera   *demandCamera
	baro     *barometer.Scene // set when the barometer is configured
	clock    scene.Clock
	log      *slog.Logger
	sim      bool
	password string // generated on this start, "" otherwise
	// pwShown: the generated password has scrolled across the display once.
	pwShown atomic.Bool

	queueOnce  sync.Once
	comicQueue *comic.Queue // see printQueue
	drawOnce   sync.Once
	drawings   *drawings // see makerDrawings
	// startup counts the scenes' start-up work done in the background
	// (the comic pack loaded, the demo catalog seeded): see settle.
	startup sync.WaitGroup
}

var _ web.App = (*app)(nil)

// State implements web.App.
func (a *app) State() web.State {
	ls := a.loop.Status()
	s := web.State{Scene: ls.Scene, Scenes: ls.Scenes, Sim: a.sim, LEDs: map[string]web.LED{}}
	for name, m := range a.board.Lights.Modes() {
		l := web.LED{Mode: web.LEDMode(m), Lit: m != scene.LightOff}
		if a.board.Sim != nil {
			l.Lit = a.board.Sim.LEDs[name].State().Lit
		}
		s.LEDs[name] = l
	}
	s.Display = web.DisplayState{W: scene.DisplayWidth, H: scene.DisplayHeight, Pixels: make([]uint8, scene.DisplayWidth*scene.DisplayHeight)}
	if sd := a.board.Sim; sd != nil {
		copy(s.Display.Pixels, sd.Display.Frame().Pix)
	}
	if p := a.board.Printer; p != nil {
		s.Printer = web.PrinterState{Online: true, Status: "ready", Width: p.Width()}
		if sp := a.board.Sim; sp != nil {
			s.Printer.Rows, s.Printer.Version = sp.Printer.Rows(), sp.Printer.Version()
			switch {
			case sp.Printer.Unplugged():
				s.Printer.Online, s.Printer.Status = false, "unplugged"
			case sp.Printer.PaperOut():
				s.Printer.Status = "out of paper"
			}
		}
	} else {
		s.Printer.Status = "not connected"
	}
	// The queue as its gate counts it (jobs waiting plus strips being
	// composed for the printer); bounded, as State feeds every SSE push.
	qctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if n, err := a.printQueue().Len(qctx); err == nil {
		s.Printer.Queue = n
	} else {
		a.log.Debug("state: print queue", "err", err)
	}
	cancel()
	if c := a.board.Camera; c != nil {
		st := c.Stats()
		s.Camera = web.CameraState{Online: true, FPS: st.FPS, Width: st.Width, Height: st.Height, Frames: st.Frames, Error: st.LastError}
	}
	s.Help = web.Help{A: ls.Help.A, ALong: ls.Help.ALong, Lights: ls.Help.Lights}
	if ls.Next != "" && ls.Next != ls.Scene {
		s.Help.B = "next scene: " + ls.Next
	}
	if ls.LastError != "" {
		s.Extra = map[string]any{"scene_error": ls.LastError, "scene_restarts": ls.Restarts}
	}
	return s
}

// SwitchScene implements web.App.
func (a *app) SwitchScene(name string) error { return a.loop.Switch(name) }

// Press implements web.App. In simulation the press goes through the
// simulated buttons, exactly like a finger on the real ones.
func (a *app) Press(button string, p scene.Press) error {
	if button == web.ChordAB {
		// A 5 s hold of both is one event for the loop, simulated or not.
		return a.loop.Send(scene.Event{Kind: scene.KindPress, Button: web.ChordAB, Press: scene.Long})
	}
	if sb := a.board.Sim; sb != nil {
		return sb.Buttons.Press(button, p.String())
	}
	return a.loop.Send(scene.Event{Kind: scene.KindPress, Button: button, Press: p})
}

// pumpButtons forwards the board's button presses to the loop.
func (a *app) pumpButtons(ctx context.Context) {
	if a.board.Events == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-a.board.Events:
			if err := a.loop.Send(ev); err != nil {
				a.log.Warn("button press dropped", "button", ev.Button, "err", err)
			}
		}
	}
}

func (a *app) roll() web.Roll {
	if a.board.Sim == nil {
		return nil
	}
	return a.board.Sim.Printer
}

// reporter is the event log as a scene sees it: its reports carry its name.
func (a *app) reporter(source string) scene.Reporter {
	return scene.ReporterFunc(func(level, msg string) { a.record(level, source, msg) })
}

func (a *app) record(level, source, msg string) {
	if err := a.store.LogEvent(context.Background(), level, source, msg); err != nil {
		a.log.Error("event log", "err", err)
	}
}

// chord (A+B held) tells a person standing at the device how to reach it:
// a slip from the printer, and the event log. The password itself is never
// printed: only where it comes from.
func (a *app) chord() {
	url := fmt.Sprintf("http://%s.local/", a.cfg.Appliance.Name)
	a.record("info", "buttons", "A+B: open "+url+" and log in as admin")
	if a.board.Printer == nil {
		return
	}
	lines := []string{"tinkerbox", "", url, "user: admin", "password: shown once at", "first start (console,", "display, printed slip)", "reset: delete", "admin-password.bcrypt", "in the data dir"}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.board.Printer.Print(ctx, slip(lines, a.board.Printer.Width())); err != nil {
			a.record("warn", "printer", "A+B slip: "+err.Error())
		}
	}()
}

// printPassword prints the generated password once, on first start, for a
// maker with no console attached.
func (a *app) printPassword() {
	if a.password == "" || a.board.Printer == nil {
		return
	}
	lines := []string{"tinkerbox", "", fmt.Sprintf("http://%s.local/", a.cfg.Appliance.Name), "user: admin", "password:", a.password, "", "keep this slip safe"}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.board.Printer.Print(ctx, slip(lines, a.board.Printer.Width())); err != nil {
			a.record("warn", "printer", "password slip: "+err.Error())
		}
	}()
}

// slip renders lines of text for the printer with the display font, scaled
// up to stay readable on thermal paper.
func slip(lines []string, width int) image.Image {
	face := font.Font5x7()
	const k = 3 // dots per font pixel
	h := (face.Height() + 3) * k * len(lines)
	img := image.NewGray(image.Rect(0, 0, width, h+4*k))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	small := image.NewGray(image.Rect(0, 0, width/k, h/k+4))
	draw.Draw(small, small.Rect, image.White, image.Point{}, draw.Src)
	for i, l := range lines {
		face.Draw(small, 2, 1+i*(face.Height()+3), l, color.Black)
	}
	for y := 0; y < small.Rect.Dy(); y++ {
		for x := 0; x < small.Rect.Dx(); x++ {
			if small.GrayAt(x, y).Y < 128 {
				draw.Draw(img, image.Rect(x*k, y*k, x*k+k, y*k+k), image.Black, image.Point{}, draw.Src)
			}
		}
	}
	return img
}

// announce scrolls a scene's name once across the display before it starts;
// on the first start of a new appliance the generated password comes first,
// so a maker without a console still learns it. The font's scroller is
// cyclic (the text's start comes back in at the end of a cycle), so the text
// is padded with a display's width of blanks and scrolled until it is fully
// off: the announcement ends on a blank display, never on a clipped "sPy",
// and a scene that draws nothing leaves it blank.
func (a *app) announce(ctx context.Context, name string) {
	d := a.board.Display
	if d == nil {
		return
	}
	if a.password != "" && a.pwShown.CompareAndSwap(false, true) {
		name = "admin password " + a.password + "   " + name
	}
	face := font.Font5x7()
	frame := image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
	defer d.Show(image.NewGray(frame.Rect)) // blank, whatever happened
	width := face.Measure(name)
	if width <= scene.DisplayWidth {
		font.NewScroller(face, name, scene.DisplayWidth, scene.DisplayHeight).Frame(0, frame)
		if d.Show(frame) == nil {
			a.pause(ctx, 800*time.Millisecond)
		}
		return
	}
	padded := name
	for face.Measure(padded)-width < scene.DisplayWidth {
		padded += " "
	}
	sc := font.NewScroller(face, padded, scene.DisplayWidth, scene.DisplayHeight)
	// Step width puts the text's last column just off the left edge.
	for i := 0; i <= width; i++ {
		sc.Frame(i, frame)
		if d.Show(frame) != nil || !a.pause(ctx, 35*time.Millisecond) {
			return
		}
	}
}

// pause waits d on the appliance's clock; false when ctx ended first.
func (a *app) pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-a.clock.After(d):
		return true
	}
}

// demandCamera runs the camera only while someone looks: the owner is
// activated by the first Next and paused after a quiet spell, so an idle
// appliance does not spend a core encoding frames nobody sees.
type demandCamera struct {
	owner *picam.Owner
	clock scene.Clock

	mu     sync.Mutex
	last   time.Time
	active bool
}

const cameraIdle = 15 * time.Second

func newDemandCamera(o *picam.Owner, clk scene.Clock) *demandCamera {
	if o == nil {
		return nil
	}
	return &demandCamera{owner: o, clock: clk}
}

// Next implements scene.Camera.
func (d *demandCamera) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	d.mu.Lock()
	d.last = d.clock.Now()
	if !d.active {
		d.active = true
		d.owner.SetActive(true)
	}
	d.mu.Unlock()
	f, err := d.owner.Next(ctx, after)
	return scene.Frame(f), err
}

// idle pauses the camera when nobody asked for a frame for a while.
func (d *demandCamera) idle(ctx context.Context) {
	if d == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.clock.After(cameraIdle / 3):
		}
		d.mu.Lock()
		if d.active && d.clock.Now().Sub(d.last) > cameraIdle {
			d.active = false
			d.owner.SetActive(false)
		}
		d.mu.Unlock()
	}
}

// settle returns the memory the start-up used to the system once the
// scenes' background work is done, rather than whenever the scavenger gets
// to it: an idle appliance keeps what it uses, not what starting took.
func (a *app) settle(ctx context.Context) {
	done := make(chan struct{})
	go func() { a.startup.Wait(); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
		debug.FreeOSMemory()
	}
}
