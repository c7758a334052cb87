//go:build unix

package appliance

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// dataOwner returns, for a command run by root on a data dir someone else
// owns, a function that gives every root-owned file under dir back to that
// owner. On the device /data belongs to the tinkerbox user the appliance
// runs as: a root `catalog import` would otherwise leave a database journal
// or image files the appliance cannot write. Root keeps its rights while the
// command runs (it may read its input from /root); nil means nothing to do.
func dataOwner(dir string) func() (int, error) {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	uid, gid := int(st.Uid), int(st.Gid)
	return func() (int, error) {
		n := 0
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if s, ok := info.Sys().(*syscall.Stat_t); ok && s.Uid == 0 {
				if err := os.Lchown(path, uid, gid); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("give %s back to its owner (uid %d): %w", dir, uid, err)
		}
		return n, nil
	}
}
