package board

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/appliance/config"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

func openSimBoard(t *testing.T) (*Board, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	b, err := Open(context.Background(), config.Default(), Options{Sim: true, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Halt)
	return b, clk
}

func TestSimBoardHasEveryDevice(t *testing.T) {
	b, _ := openSimBoard(t)
	if b.Display == nil || b.Printer == nil || b.Camera == nil || b.Env == nil || b.Feed == nil || b.Sorter == nil || b.CardLight == nil || b.Events == nil || b.Sim == nil {
		t.Fatalf("missing device: %+v", b)
	}
	if !b.OK() {
		t.Fatalf("probes: %+v", b.Probes)
	}
	if got := strings.Join(b.Lights.Names(), ","); got != "busy,ready,warn" {
		t.Fatalf("lights %s", got)
	}
	var env physic.Env
	if err := b.Env.Sense(&env); err != nil || env.Pressure < 900*physic.Pascal*100 {
		t.Fatalf("sense: %v %v", env.Pressure, err)
	}
}

func TestLightsDriveTheLEDs(t *testing.T) {
	b, clk := openSimBoard(t)
	if err := b.Lights.SetLight(scene.LightBusy, scene.LightBlink); err != nil {
		t.Fatal(err)
	}
	st := b.Sim.LEDs[scene.LightBusy].State()
	if st.Mode != "blink" || st.Period != time.Second {
		t.Fatalf("busy = %+v, want a 1 s blink", st)
	}
	lit := st.Lit
	clk.Advance(500 * time.Millisecond)
	if b.Sim.LEDs[scene.LightBusy].State().Lit == lit {
		t.Fatal("a blinking LED did not change after half a period")
	}
	if err := b.Lights.SetLight(scene.LightWarn, scene.LightBlinkFast); err != nil {
		t.Fatal(err)
	}
	if p := b.Sim.LEDs[scene.LightWarn].State().Period; p != 250*time.Millisecond {
		t.Fatalf("fast blink period %s", p)
	}
	if err := b.Lights.SetLight("disco", scene.LightOn); err == nil || !strings.Contains(err.Error(), `no light "disco"`) {
		t.Fatalf("unknown light: %v", err)
	}
	if m := b.Lights.Modes(); m[scene.LightBusy] != scene.LightBlink || m[scene.LightReady] != scene.LightOff {
		t.Fatalf("modes %v", m)
	}
}

func TestSafeStopsMotionAndDarkens(t *testing.T) {
	b, _ := openSimBoard(t)
	b.Feed.SetSpeed(1)
	b.Sorter.SetAngle(45 * physic.Degree)
	b.Lights.SetLight(scene.LightReady, scene.LightOn)
	frame := image.NewGray(image.Rect(0, 0, 17, 7))
	for i := range frame.Pix {
		frame.Pix[i] = 255
	}
	b.Display.Show(frame)

	b.Safe()
	if st := b.Sim.Feed.State(); st.Powered || st.Speed != 0 {
		t.Fatalf("feed after Safe: %+v", st)
	}
	if st := b.Sim.Sorter.State(); st.Powered {
		t.Fatalf("sorter after Safe: %+v", st)
	}
	if st := b.Sim.LEDs[scene.LightReady].State(); st.Mode != "off" {
		t.Fatalf("ready after Safe: %+v", st)
	}
	for _, p := range b.Sim.Display.Frame().Pix {
		if p != 0 {
			t.Fatal("display not blank after Safe")
		}
	}
	// Safe keeps the devices usable.
	if err := b.Feed.SetSpeed(0.5); err != nil {
		t.Fatal(err)
	}
}

func TestHaltOrderAndIdempotence(t *testing.T) {
	b := &Board{Lights: &Lights{lights: map[string]light{}}}
	var order []string
	for _, n := range []string{"servo", "light", "printer"} {
		b.addHalter(n, func() error { order = append(order, n); return nil })
	}
	b.addHalter("broken", func() error { order = append(order, "broken"); return errors.New("x") })
	b.log = discard()
	b.Halt()
	b.Halt()
	if got := fmt.Sprint(order); got != "[servo light printer broken]" {
		t.Fatalf("halt order %s", got)
	}
}

func TestSimButtonsBecomeSceneEvents(t *testing.T) {
	b, _ := openSimBoard(t)
	if err := b.Sim.Buttons.Press("B", "long"); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-b.Events:
		if ev.Kind != scene.KindPress || ev.Button != "B" || ev.Press != scene.Long {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(30 * time.Second): // hang guard
		t.Fatal("no event")
	}
}

func TestSimPrinterGetsRealESCPOS(t *testing.T) {
	b, _ := openSimBoard(t)
	img := image.NewGray(image.Rect(0, 0, 384, 40)) // black
	if err := b.Printer.Print(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	if st := b.Sim.Printer.Stats(); st.Inits == 0 || st.Rasters == 0 {
		t.Fatalf("printer stats %+v", st)
	}
	roll := b.Sim.Printer.Roll()
	black := 0
	for _, p := range roll.Pix {
		if p == 0 {
			black++
		}
	}
	if black != 384*40 {
		t.Fatalf("%d black dots on the roll, want %d", black, 384*40)
	}
}

func TestRealBoardWithoutPi(t *testing.T) {
	if _, err := Open(context.Background(), config.Default(), Options{}); err == nil {
		t.Skip("this machine looks like a Raspberry Pi")
	} else if !strings.Contains(err.Error(), "--sim") && !strings.Contains(err.Error(), "periph") {
		t.Fatalf("error %q should suggest --sim", err)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestScanI2CListsWhatAnswers(t *testing.T) {
	bus := &scanBus{present: map[uint16]bool{0x29: true, 0x74: true, 0x77: true}}
	if got := scanI2C(bus); got != "0x29 0x74 0x77" {
		t.Fatalf("scan = %q", got)
	}
	if got := scanI2C(&scanBus{}); !strings.HasPrefix(got, "nothing") {
		t.Fatalf("empty bus scan = %q", got)
	}
}

// scanBus acknowledges reads at the addresses present, like a real bus.
type scanBus struct{ present map[uint16]bool }

func (b *scanBus) String() string                  { return "scan" }
func (b *scanBus) SetSpeed(physic.Frequency) error { return nil }
func (b *scanBus) Tx(addr uint16, w, r []byte) error {
	if !b.present[addr] {
		return errors.New("i2c: no ack")
	}
	return nil
}

// The simulator sends the configured ESC 7 as a whole, as the real board
// does: setting heat_time alone once sent 0 dots and a 0 interval.
func TestSimAdafruitPrinterGetsTheConfiguredHeat(t *testing.T) {
	cfg := config.Default()
	cfg.Printer.Profile = config.ProfileAdafruit
	cfg.Printer.HeatDots, cfg.Printer.HeatTime, cfg.Printer.HeatInterval, cfg.Printer.Density = 7, 150, 60, 12
	clk := fakeclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	b, err := Open(context.Background(), cfg, Options{Sim: true, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Halt)
	if err := b.Printer.Print(context.Background(), image.NewGray(image.Rect(0, 0, 384, 8))); err != nil {
		t.Fatal(err)
	}
	if st := b.Sim.Printer.Stats(); st.Heat != [3]byte{7, 150, 60} || st.Density&0x1f != 12 { // DC2 # n: density in bits 0-4, break time above
		t.Errorf("printer got ESC 7 %v, DC2 # %d; want [7 150 60], 12", st.Heat, st.Density)
	}
}
