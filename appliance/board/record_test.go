package board

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"tinkerbox/appliance/config"
	"tinkerbox/scenes/scene/fakeclock"
)

// TestRecordI2C: the hardware path writes one .ops file per probe with its
// transactions, and an index, into a directory it creates.
func TestRecordI2C(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "rec")
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x74, W: []byte{0xfd, 0x0b}}, {Addr: 0x74, W: []byte{0x00}, R: []byte{0x42}}}}
	r := &recorder{dir: dir}
	b := r.wrap(bus, "scroll")
	r.wrap(bus, "enviro") // disabled: probed nothing
	if err := b.Tx(0x74, []byte{0xfd, 0x0b}, nil); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 1)
	if err := b.Tx(0x74, []byte{0x00}, got); err != nil {
		t.Fatal(err)
	}
	files, err := r.save()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || files[0].File != "enviro.ops" || files[1].File != "scroll.ops" || files[2].File != IndexFile {
		t.Fatalf("files %+v", files)
	}
	ops, _ := os.ReadFile(filepath.Join(dir, "scroll.ops"))
	if !strings.Contains(string(ops), "{Addr: 0x74, W: []byte{0xfd, 0xb}") || !strings.Contains(string(ops), "R: []byte{0x42}") {
		t.Errorf("scroll.ops:\n%s", ops)
	}
	idx, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	for _, w := range []string{"scroll.ops\t", "2 transactions", "enviro.ops\t", "none (disabled"} {
		if !strings.Contains(string(idx), w) {
			t.Errorf("index lacks %q:\n%s", w, idx)
		}
	}
	// No I2C device at all: the index says so rather than staying empty.
	r = &recorder{dir: filepath.Join(t.TempDir(), "none")}
	if files, err := r.save(); err != nil || len(files) != 1 {
		t.Fatalf("%v %+v", err, files)
	}
	idx, _ = os.ReadFile(filepath.Join(r.dir, IndexFile))
	if !strings.Contains(string(idx), "no I2C device was probed") {
		t.Errorf("index:\n%s", idx)
	}
}

// TestRecordSim: in the simulator the recording holds the bytes the printer
// received through the real encoder, and what the display and LEDs show.
func TestRecordSim(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	cfg := config.Default()
	b, err := Open(context.Background(), cfg, Options{Sim: true, Clock: fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), RecordDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Halt()
	files, err := b.SaveRecording()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.File)
	}
	if strings.Join(names, " ") != "printer.escpos printer.png display.txt leds.txt index.txt" {
		t.Fatalf("files %q", names)
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Error(err)
		}
	}
	if _, err := (&Board{}).SaveRecording(); err == nil {
		t.Error("a board without RecordDir saved a recording")
	}
}
