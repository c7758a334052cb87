//go:build unix

package appliance

import (
	"fmt"
	"os"
	"syscall"
)

// actAsDataOwner makes a command run by root act as the owner of dir. On the
// device /data belongs to the tinkerbox user the appliance runs as: a root
// `catalog import` would leave a database journal or image files the
// appliance cannot write. It returns the user it became, "" when nothing
// changed.
func actAsDataOwner(dir string) (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", nil // checkDataDir reports it
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return "", nil
	}
	// Groups first: after Setuid there is no right to change them.
	if err := syscall.Setgroups(nil); err != nil {
		return "", fmt.Errorf("act as the owner of %s: %w", dir, err)
	}
	if err := syscall.Setgid(int(st.Gid)); err != nil {
		return "", fmt.Errorf("act as the owner of %s: %w", dir, err)
	}
	if err := syscall.Setuid(int(st.Uid)); err != nil {
		return "", fmt.Errorf("act as the owner of %s: %w", dir, err)
	}
	return fmt.Sprintf("uid %d, gid %d", st.Uid, st.Gid), nil
}
