//go:build unix

package web

import "syscall"

// fdLimit is the process's soft limit on open files (the Go runtime has
// already raised it to the hard limit at start-up).
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<20 {
		return 2048
	}
	return int(r.Cur)
}
