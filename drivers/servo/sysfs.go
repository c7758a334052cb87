package servo

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock paces the wait for an exported PWM channel; fakeclock.Clock satisfies it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SysfsOpts selects a Linux PWM channel.
type SysfsOpts struct {
	// Root is the PWM class directory; tests point it at a temporary tree.
	Root string
	// Chip and Channel select /sys/class/pwm/pwmchipN/pwmM. With
	// dtoverlay=pwm-2chan, channel 0 is GPIO18 and channel 1 GPIO19.
	Chip, Channel int
	// Period is the pulse period.
	Period time.Duration
	// After exporting, the kernel creates pwmM/ and udev fixes its
	// permissions asynchronously: poll every PollInterval, at most PollTries times.
	PollInterval time.Duration
	PollTries    int
	// Clock paces the polling; nil means the wall clock.
	Clock Clock
}

// DefaultSysfsOpts is pwmchip0/pwm0 at 50 Hz, waiting up to 1 s for an export.
func DefaultSysfsOpts() SysfsOpts {
	return SysfsOpts{Root: "/sys/class/pwm", Period: Period, PollInterval: 20 * time.Millisecond, PollTries: 50}
}

// Sysfs is one hardware PWM channel driven through the kernel's sysfs ABI.
type Sysfs struct {
	mu      sync.Mutex
	dir     string // .../pwmchipN/pwmM
	name    string
	period  time.Duration
	enabled bool
	// write is the sysfs write; tests wrap it to log the order and apply
	// the kernel's checks.
	write func(path, val string) error
}

// NewSysfs exports the channel if needed, disables it and sets the period.
// Pulses start with the first SetPulse.
func NewSysfs(opts *SysfsOpts) (*Sysfs, error) {
	return newSysfs(opts, writeSysfs)
}

func newSysfs(opts *SysfsOpts, write func(path, val string) error) (*Sysfs, error) {
	o := DefaultSysfsOpts()
	if opts != nil {
		o = *opts
		def := DefaultSysfsOpts()
		if o.Root == "" {
			o.Root = def.Root
		}
		if o.Period == 0 {
			o.Period = def.Period
		}
		if o.PollInterval == 0 {
			o.PollInterval = def.PollInterval
		}
		if o.PollTries == 0 {
			o.PollTries = def.PollTries
		}
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Chip < 0 || o.Channel < 0 {
		return nil, fmt.Errorf("servo: invalid PWM chip %d channel %d", o.Chip, o.Channel)
	}
	if o.Period <= 0 {
		return nil, fmt.Errorf("servo: invalid PWM period %s", o.Period)
	}
	chip := filepath.Join(o.Root, "pwmchip"+strconv.Itoa(o.Chip))
	if _, err := os.Stat(chip); err != nil {
		return nil, fmt.Errorf("servo: no PWM chip %s: is dtoverlay=pwm-2chan in config.txt?: %w", chip, err)
	}
	if b, err := os.ReadFile(filepath.Join(chip, "npwm")); err == nil {
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("servo: %s/npwm: %w", chip, err)
		}
		if o.Channel >= n {
			return nil, fmt.Errorf("servo: %s has %d channels, no channel %d", chip, n, o.Channel)
		}
	}
	s := &Sysfs{
		dir:    filepath.Join(chip, "pwm"+strconv.Itoa(o.Channel)),
		name:   fmt.Sprintf("pwmchip%d/pwm%d", o.Chip, o.Channel),
		period: o.Period,
		write:  write,
	}
	if !s.ready() {
		if err := write(filepath.Join(chip, "export"), strconv.Itoa(o.Channel)); err != nil {
			return nil, fmt.Errorf("servo: export %s: %w", s.name, err)
		}
		for try := 0; !s.ready(); try++ {
			if try == o.PollTries {
				return nil, fmt.Errorf("servo: %s not ready %s after export", s.name, time.Duration(o.PollTries)*o.PollInterval)
			}
			<-o.Clock.After(o.PollInterval)
		}
	}
	// Stop whatever a previous run left going and set the period, in an
	// order every kernel accepts. Before Linux 6.11 every write is applied
	// as a whole state and refused while the period is 0 — as it is on a
	// freshly exported pwm-bcm2835 channel, which cannot read the hardware
	// back — so the period goes first there. Over an old run's state, duty
	// 0 goes first: the kernel refuses a period below the current duty.
	writes := []struct{ file, val string }{
		{"enable", "0"},
		{"duty_cycle", "0"},
		{"period", strconv.FormatInt(o.Period.Nanoseconds(), 10)},
	}
	if b, err := os.ReadFile(filepath.Join(s.dir, "period")); err == nil && strings.TrimSpace(string(b)) == "0" {
		writes = []struct{ file, val string }{writes[2], writes[1], writes[0]}
	}
	for _, w := range writes {
		if err := s.set(w.file, w.val); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ready reports whether the channel's files exist and are writable by us
// (udev may still be changing their group just after the export).
func (s *Sysfs) ready() bool {
	f, err := os.OpenFile(filepath.Join(s.dir, "period"), os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func (s *Sysfs) set(file, val string) error {
	if err := s.write(filepath.Join(s.dir, file), val); err != nil {
		return fmt.Errorf("servo: %s: set %s to %s: %w", s.name, file, val, err)
	}
	return nil
}

// writeSysfs writes val in one write(2), as sysfs attributes require. No
// O_CREATE: a missing attribute is an error, not a new file. O_TRUNC is a
// no-op on sysfs and keeps a test tree's files clean.
func writeSysfs(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(val)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// SetPulse sets the duty cycle to d and enables the output if needed.
func (s *Sysfs) SetPulse(d time.Duration) error {
	if d <= 0 || d > s.period {
		return fmt.Errorf("servo: %s: pulse %s outside 0..%s", s.name, d, s.period)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.set("duty_cycle", strconv.FormatInt(d.Nanoseconds(), 10)); err != nil {
		return err
	}
	if !s.enabled {
		if err := s.set("enable", "1"); err != nil {
			return err
		}
		s.enabled = true
	}
	return nil
}

// Stop disables the output; the pin idles low.
func (s *Sysfs) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.set("enable", "0"); err != nil {
		return err
	}
	s.enabled = false
	return nil
}

// Period returns the configured period.
func (s *Sysfs) Period() time.Duration { return s.period }

func (s *Sysfs) String() string { return s.name }

var _ Output = (*Sysfs)(nil)
