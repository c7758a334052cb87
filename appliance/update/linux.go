//go:build linux

package update

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"
)

// DevCard is the SD card as block devices: Disk is "/dev/mmcblk0", its
// partitions "/dev/mmcblk0p<n>".
type DevCard struct{ Disk string }

// Open opens partition n for reading and writing.
func (c DevCard) Open(n int) (Partition, error) {
	f, err := os.OpenFile(fmt.Sprintf("%sp%d", c.Disk, n), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	size, err := f.Seek(0, 2)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &devPartition{File: f, size: size}, nil
}

type devPartition struct {
	*os.File
	size int64
}

func (p *devPartition) Size() int64 { return p.size }

// blkflsbuf is BLKFLSBUF: write back and drop the block device's buffers.
const blkflsbuf = 0x1261

func (p *devPartition) Sync() error {
	if err := p.File.Sync(); err != nil {
		return err
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, p.Fd(), blkflsbuf, 0); e != 0 {
		return fmt.Errorf("BLKFLSBUF: %w", e)
	}
	return nil
}

// MountedFAT is p1 mounted read-only at Dir from Dev: writes remount it
// read-write for as long as they take.
type MountedFAT struct {
	Dir, Dev string
	mu       sync.Mutex
}

// ReadFile reads a file of p1.
func (m *MountedFAT) ReadFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(m.Dir, name))
}

// The mount flags of /boot in fstab (ro,nodev,nosuid,noexec).
const bootFlags = syscall.MS_NODEV | syscall.MS_NOSUID | syscall.MS_NOEXEC

// WriteFile writes name on p1: a temporary file, fsync, rename, fsync of
// the directory, as durable as FAT allows.
func (m *MountedFAT) WriteFile(name string, data []byte) (err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := syscall.Mount(m.Dev, m.Dir, "vfat", syscall.MS_REMOUNT|bootFlags, ""); err != nil {
		return fmt.Errorf("remount %s read-write: %w", m.Dir, err)
	}
	defer func() {
		syscall.Sync()
		if rerr := syscall.Mount(m.Dev, m.Dir, "vfat", syscall.MS_REMOUNT|syscall.MS_RDONLY|bootFlags, ""); rerr != nil && err == nil {
			err = fmt.Errorf("remount %s read-only: %w", m.Dir, rerr)
		}
	}()
	tmp := filepath.Join(m.Dir, name+".new")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(m.Dir, name)); err != nil {
		return err
	}
	d, err := os.Open(m.Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// DeviceTree reads what the Raspberry Pi firmware passes to Linux under
// /chosen/bootloader (Dir is /proc/device-tree/chosen/bootloader).
type DeviceTree struct{ Dir string }

// Booted returns the partition the firmware booted and its tryboot flag.
func (d DeviceTree) Booted() (int, bool, error) {
	cell := func(name string) (uint32, error) {
		b, err := os.ReadFile(filepath.Join(d.Dir, name))
		if err != nil {
			return 0, err
		}
		if len(b) != 4 {
			return 0, fmt.Errorf("%s: %d bytes, want one 32-bit cell", name, len(b))
		}
		return binary.BigEndian.Uint32(b), nil
	}
	part, err := cell("partition")
	if err != nil {
		return 0, false, fmt.Errorf("%w (is this a Raspberry Pi with current firmware?)", err)
	}
	try, err := cell("tryboot")
	if err != nil {
		return 0, false, err
	}
	return int(part), try == 1, nil
}

// InitReboot reboots through BusyBox init (SIGTERM to pid 1), so that the
// stop scripts run and /data is unmounted; for a tryboot it first leaves
// Marker, which `tinkerbox reboot-hook` (the last shutdown entry of
// inittab) reads to make the final reboot(2) call with "0 tryboot".
type InitReboot struct{ Marker string }

// Reboot asks init to reboot.
func (r InitReboot) Reboot(tryboot bool) error {
	if tryboot {
		if err := os.WriteFile(r.Marker, []byte(TrybootArg+"\n"), 0o600); err != nil {
			return fmt.Errorf("update: %w", err)
		}
	} else {
		os.Remove(r.Marker)
	}
	return syscall.Kill(1, syscall.SIGTERM)
}

// TrybootArg is what the Raspberry Pi kernel's firmware driver reads from
// the reboot command: partition 0 (the default) with the tryboot flag.
const TrybootArg = "0 tryboot"

// RebootHook is the end of a reboot: when the marker is there, every file
// system is already unmounted or read-only, and it restarts the board with
// the tryboot argument. BusyBox's reboot cannot pass one.
func RebootHook(marker string) error {
	b, err := os.ReadFile(marker)
	if err != nil {
		return nil // a plain reboot or poweroff: init finishes it
	}
	arg := string(b)
	for len(arg) > 0 && (arg[len(arg)-1] == '\n' || arg[len(arg)-1] == '\r') {
		arg = arg[:len(arg)-1]
	}
	if arg != TrybootArg {
		return fmt.Errorf("update: %s holds %q, not %q", marker, arg, TrybootArg)
	}
	syscall.Sync()
	p, err := syscall.BytePtrFromString(arg)
	if err != nil {
		return err
	}
	_, _, e := syscall.Syscall6(syscall.SYS_REBOOT, syscall.LINUX_REBOOT_MAGIC1, syscall.LINUX_REBOOT_MAGIC2,
		syscall.LINUX_REBOOT_CMD_RESTART2, uintptr(unsafe.Pointer(p)), 0, 0)
	return fmt.Errorf("update: reboot(RESTART2, %q): %w", arg, e)
}
