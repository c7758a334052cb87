//go:build unix

package appliance

import (
	"syscall"
	"time"
)

// cpuTime is the process's user + system time: the shared build machine is
// often busy, so a wall-clock figure says more about the others' tests.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
