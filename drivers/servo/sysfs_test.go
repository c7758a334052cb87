package servo

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

// fakeSysfs is a temporary tree shaped like /sys/class/pwm.
type fakeSysfs struct {
	t    *testing.T
	root string
	log  []string // "file=value" in write order, paths relative to root
	// before611 models Linux before 6.11: every write applies the whole
	// state, refused while the period is 0 (pwm_apply_state's
	// "!state->period" check), whatever is written.
	before611 bool
}

func newFakeSysfs(t *testing.T, npwm int) *fakeSysfs {
	t.Helper()
	f := &fakeSysfs{t: t, root: t.TempDir()}
	chip := filepath.Join(f.root, "pwmchip0")
	if err := os.MkdirAll(chip, 0o755); err != nil {
		t.Fatal(err)
	}
	f.file("pwmchip0/export", "")
	f.file("pwmchip0/npwm", strconv.Itoa(npwm)+"\n")
	return f
}

func (f *fakeSysfs) file(rel, val string) {
	f.t.Helper()
	p := filepath.Join(f.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(val), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// channel creates pwmN/ as the kernel does on export.
func (f *fakeSysfs) channel(n int, period, duty, enable string) {
	d := "pwmchip0/pwm" + strconv.Itoa(n) + "/"
	f.file(d+"period", period)
	f.file(d+"duty_cycle", duty)
	f.file(d+"enable", enable)
}

func (f *fakeSysfs) read(rel string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (f *fakeSysfs) num(dir, name string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		f.t.Fatalf("%s/%s: %v", dir, name, err)
	}
	return n
}

// write logs the write and applies the kernel's pwm sysfs checks
// (drivers/pwm/sysfs.c + pwm_apply_state): duty ≤ period at all times and
// no enable without a period (before 6.11: nothing at all without one);
// then writes like the driver does.
func (f *fakeSysfs) write(path, val string) error {
	rel, _ := filepath.Rel(f.root, path)
	f.log = append(f.log, rel+"="+val)
	dir, base := filepath.Dir(path), filepath.Base(path)
	v, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return syscall.EINVAL
	}
	if f.before611 && base != "export" {
		period := f.num(dir, "period")
		if base == "period" {
			period = v
		}
		if period == 0 {
			return syscall.EINVAL
		}
	}
	switch base {
	case "period":
		if f.num(dir, "duty_cycle") > v {
			return syscall.EINVAL
		}
	case "duty_cycle":
		if v > f.num(dir, "period") {
			return syscall.EINVAL
		}
	case "enable":
		if v == 1 && f.num(dir, "period") == 0 {
			return syscall.EINVAL
		}
	}
	return writeSysfs(path, val)
}

func TestSysfsExportAndPulses(t *testing.T) {
	for _, before611 := range []bool{true, false} {
		t.Run(map[bool]string{true: "linux<6.11", false: "linux>=6.11"}[before611], func(t *testing.T) {
			testSysfsExportAndPulses(t, before611)
		})
	}
}

func testSysfsExportAndPulses(t *testing.T, before611 bool) {
	fs := newFakeSysfs(t, 2)
	fs.before611 = before611
	clk := fakeclock.New(time.Unix(0, 0))
	type res struct {
		s   *Sysfs
		err error
	}
	done := make(chan res, 1)
	go func() {
		s, err := newSysfs(&SysfsOpts{Root: fs.root, Channel: 1, Clock: clk}, fs.write)
		done <- res{s, err}
	}()
	// NewSysfs exported the channel and now polls for pwm1/.
	clk.BlockUntil(1)
	if got := fs.read("pwmchip0/export"); got != "1" {
		t.Fatalf("export = %q", got)
	}
	clk.Advance(20 * time.Millisecond) // still not there: polls again
	clk.BlockUntil(1)
	fs.channel(1, "0", "0", "0") // a freshly exported channel
	clk.Advance(20 * time.Millisecond)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	s := r.s
	if err := s.SetPulse(1500 * time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPulse(2500 * time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPulse(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pwmchip0/export=1",
		"pwmchip0/pwm1/period=20000000", // first: a fresh channel's period is 0
		"pwmchip0/pwm1/duty_cycle=0",
		"pwmchip0/pwm1/enable=0",
		"pwmchip0/pwm1/duty_cycle=1500000",
		"pwmchip0/pwm1/enable=1",
		"pwmchip0/pwm1/duty_cycle=2500000", // already enabled: duty only
		"pwmchip0/pwm1/enable=0",
		"pwmchip0/pwm1/duty_cycle=1000000",
		"pwmchip0/pwm1/enable=1",
	}
	if !slices.Equal(fs.log, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(fs.log, "\n"), strings.Join(want, "\n"))
	}
	for file, v := range map[string]string{"period": "20000000", "duty_cycle": "1000000", "enable": "1"} {
		if got := fs.read("pwmchip0/pwm1/" + file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	if s.String() != "pwmchip0/pwm1" || s.Period() != Period {
		t.Errorf("String %q Period %s", s, s.Period())
	}
	for _, p := range []time.Duration{0, -1, 21 * time.Millisecond} {
		if err := s.SetPulse(p); err == nil {
			t.Errorf("pulse %s accepted", p)
		}
	}
}

// A channel left running by a previous program with a long duty cycle must
// still accept a shorter period (only possible with duty lowered first).
func TestSysfsShorterPeriodOverOldState(t *testing.T) {
	fs := newFakeSysfs(t, 2)
	fs.before611 = true
	fs.channel(0, "20000000", "2000000", "1")
	s, err := newSysfs(&SysfsOpts{Root: fs.root, Period: time.Millisecond}, fs.write)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pwmchip0/pwm0/enable=0", "pwmchip0/pwm0/duty_cycle=0", "pwmchip0/pwm0/period=1000000"}
	if !slices.Equal(fs.log, want) {
		t.Errorf("writes %q, want %q (no export: already there)", fs.log, want)
	}
	if err := s.SetPulse(500 * time.Microsecond); err != nil {
		t.Fatal(err)
	}
}

func TestSysfsExportTimeout(t *testing.T) {
	fs := newFakeSysfs(t, 2)
	clk := fakeclock.New(time.Unix(0, 0))
	errc := make(chan error, 1)
	go func() {
		_, err := newSysfs(&SysfsOpts{Root: fs.root, Clock: clk, PollTries: 3, PollInterval: time.Millisecond}, fs.write)
		errc <- err
	}()
	for range 3 {
		clk.BlockUntil(1)
		clk.Advance(time.Millisecond)
	}
	err := <-errc
	if err == nil || !strings.Contains(err.Error(), "pwmchip0/pwm0 not ready 3ms after export") {
		t.Fatalf("err = %v", err)
	}
}

func TestSysfsErrors(t *testing.T) {
	fs := newFakeSysfs(t, 2)
	if _, err := NewSysfs(&SysfsOpts{Root: fs.root, Chip: 1}); err == nil || !strings.Contains(err.Error(), "dtoverlay=pwm-2chan") {
		t.Errorf("missing chip: %v", err)
	}
	if _, err := NewSysfs(&SysfsOpts{Root: fs.root, Channel: 2}); err == nil || !strings.Contains(err.Error(), "has 2 channels, no channel 2") {
		t.Errorf("channel beyond npwm: %v", err)
	}
	if _, err := NewSysfs(&SysfsOpts{Root: fs.root, Channel: -1}); err == nil {
		t.Error("negative channel accepted")
	}
	// A missing attribute is an error, never created by us.
	fs.file("pwmchip0/pwm0/period", "20000000")
	_, err := NewSysfs(&SysfsOpts{Root: fs.root})
	if err == nil || !strings.Contains(err.Error(), "set enable to 0") {
		t.Errorf("missing enable: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(fs.root, "pwmchip0/pwm0/enable")); statErr == nil {
		t.Error("enable was created")
	}
}

func BenchmarkSysfsSetPulse(b *testing.B) {
	root := b.TempDir()
	for _, f := range []string{"export", "pwm0/period", "pwm0/duty_cycle", "pwm0/enable"} {
		p := filepath.Join(root, "pwmchip0", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("0"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s, err := NewSysfs(&SysfsOpts{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SetPulse(1500 * time.Microsecond); err != nil {
			b.Fatal(err)
		}
	}
}
