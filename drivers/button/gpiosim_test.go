package button

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// simRoot is the configfs directory of the kernel's gpio-sim module
// (https://docs.kernel.org/admin-guide/gpio/gpio-sim.html).
const simRoot = "/sys/kernel/config/gpio-sim"

// simChip creates a live simulated chip with n lines and returns its name and
// a function that sets the external pull ("pull-up"/"pull-down") of a line.
func simChip(t *testing.T, n int) (string, func(line int, pull string)) {
	t.Helper()
	if _, err := os.Stat(simRoot); err != nil {
		t.Skipf("kernel gpio-sim not available (%v): modprobe gpio-sim and mount configfs to run this test", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("gpio-sim needs root to create a chip")
	}
	dir := filepath.Join(simRoot, fmt.Sprintf("tinkerbox-button-%d", os.Getpid()))
	bank := filepath.Join(dir, "bank0")
	write := func(p, v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if err := os.MkdirAll(bank, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(dir, "live"), []byte("0"), 0o644)
		_ = os.Remove(bank)
		_ = os.Remove(dir)
	})
	write(filepath.Join(bank, "num_lines"), fmt.Sprint(n))
	write(filepath.Join(dir, "live"), "1")
	chip := read(filepath.Join(bank, "chip_name"))
	dev := read(filepath.Join(dir, "dev_name"))
	return chip, func(line int, pull string) {
		write(fmt.Sprintf("/sys/devices/platform/%s/%s/sim_gpio%d/pull", dev, chip, line), pull)
	}
}

// TestOpenGPIOSim exercises Open end to end on a simulated chip: pull-up bias,
// both-edge events, the busy error, a long press and Halt.
func TestOpenGPIOSim(t *testing.T) {
	chip, pull := simChip(t, 8)
	o := DefaultOpts()
	o.Debounce = 5 * time.Millisecond
	o.LongPress = 100 * time.Millisecond
	s, err := Open(chip, map[string]int{"A": 1, "B": 2}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()

	if s2, err := Open(chip, map[string]int{"A": 1, "B": 2}, o); err == nil {
		s2.Halt()
		t.Fatal("second Open of the same lines succeeded")
	} else if !strings.Contains(err.Error(), "busy") {
		t.Fatalf("second Open: %v, want a busy error", err)
	}

	// Pressed = pulled to GND. Held: long arrives without a release.
	pull(1, "pull-down")
	select {
	case e := <-s.Events():
		if e.Name != "A" || e.Press != Long {
			t.Fatalf("got %v, want A long", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no long press from the simulated line")
	}
	pull(1, "pull-up")
	if err := s.Halt(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s.Events(); ok {
		t.Fatal("Events not closed by Halt")
	}
}
