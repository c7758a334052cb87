package sim

import "time"

// Clock is the time source of every simulated device. fakeclock.Clock and the
// scene package's SystemClock satisfy it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// systemClock is the wall clock, used when no Clock is given.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func orSystem(c Clock) Clock {
	if c == nil {
		return systemClock{}
	}
	return c
}
