//go:build !unix

package web

// fdLimit is a guess where there is no RLIMIT_NOFILE.
func fdLimit() int { return 2048 }
