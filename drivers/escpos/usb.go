package escpos

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// USB is a printer-class device node (usblp: /dev/usb/lp0) as an
// io.ReadWriter. It opens on first use, and after an unplug (ENODEV, EIO...)
// closes the node so the next Write reopens it: replugging the printer needs
// no restart. Reads return the printer's replies (status) where the printer
// supports the bidirectional protocol.
type USB struct {
	// WriteTimeout bounds one Write; a stalled printer (no paper, brown-out)
	// would otherwise block forever. Default 20 s.
	WriteTimeout time.Duration
	// ReadTimeout bounds one Read. Default 2 s.
	ReadTimeout time.Duration
	// Clock times the fallback timeouts of nodes without deadline support.
	Clock Clock

	path string
	open func(path string) (devFile, error)

	mu sync.Mutex
	f  devFile
}

// devFile is what USB needs of an *os.File.
type devFile interface {
	io.ReadWriteCloser
	SetWriteDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
}

// OpenUSB returns the printer at path (e.g. /dev/usb/lp0). The node is opened
// lazily, so a missing printer is reported by the first Write, not here.
func OpenUSB(path string) *USB {
	return &USB{
		WriteTimeout: 20 * time.Second,
		ReadTimeout:  2 * time.Second,
		Clock:        systemClock{},
		path:         path,
		open: func(path string) (devFile, error) {
			return os.OpenFile(path, os.O_RDWR, 0)
		},
	}
}

// String returns the device path.
func (u *USB) String() string { return "usb:" + u.path }

// Write sends p, opening (or reopening) the device if needed.
func (u *USB) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.openLocked(); err != nil {
		return 0, err
	}
	n, err := u.io(p, u.WriteTimeout, true)
	if err != nil {
		return n, u.failLocked("write", err, u.WriteTimeout)
	}
	return n, nil
}

// Read reads a reply from the printer.
func (u *USB) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.openLocked(); err != nil {
		return 0, err
	}
	n, err := u.io(p, u.ReadTimeout, false)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, u.failLocked("read", err, u.ReadTimeout)
	}
	return n, err
}

// Close closes the device node; a later Write opens it again.
func (u *USB) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f == nil {
		return nil
	}
	err := u.f.Close()
	u.f = nil
	if err != nil {
		return fmt.Errorf("escpos: usb: close %s: %w", u.path, err)
	}
	return nil
}

// Halt closes the node so nothing more is sent.
func (u *USB) Halt() error { return u.Close() }

func (u *USB) openLocked() error {
	if u.f != nil {
		return nil
	}
	f, err := u.open(u.path)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EBUSY):
			return fmt.Errorf("escpos: usb: %s: resource busy: another process (e.g. CUPS) has the printer; stop it or unbind usblp: %w", u.path, err)
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return fmt.Errorf("escpos: usb: %s: permission denied: add the user to the lp group (or a udev rule) or run as root: %w", u.path, err)
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
			return fmt.Errorf("escpos: usb: %s: no printer there (unplugged, powered off, or usblp not loaded?): %w", u.path, err)
		}
		return fmt.Errorf("escpos: usb: open %s: %w", u.path, err)
	}
	u.f = f
	return nil
}

// failLocked turns an I/O error into a helpful one and drops the node when
// the device is gone, so the next call reopens it.
func (u *USB) failLocked(op string, err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		if op == "write" {
			// usblp keeps a half-written buffer queued; start afresh.
			u.closeQuietLocked()
		}
		return fmt.Errorf("escpos: usb: %s %s timed out after %v (printer stalled, out of paper, or a weak power supply?): %w", op, u.path, timeout, err)
	case isGone(err):
		u.closeQuietLocked()
		return fmt.Errorf("escpos: usb: %s %s: printer gone (unplugged?); will reopen on the next write: %w", op, u.path, err)
	}
	return fmt.Errorf("escpos: usb: %s %s: %w", op, u.path, err)
}

// closeQuietLocked drops a dead node. Its close error says nothing new: the
// I/O error being returned already explains the failure.
func (u *USB) closeQuietLocked() {
	if u.f != nil {
		_ = u.f.Close()
		u.f = nil
	}
}

func isGone(err error) bool {
	for _, e := range []error{syscall.ENODEV, syscall.EIO, syscall.ENXIO, syscall.EPIPE, syscall.ESHUTDOWN, os.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// errTimeout marks the fallback timeout; it wraps os.ErrDeadlineExceeded so
// both paths report alike.
var errTimeout = fmt.Errorf("fallback timer: %w", os.ErrDeadlineExceeded)

// io does one Read or Write with a timeout: a deadline when the node is
// pollable (usblp is), else a timer that closes the node to unblock it.
func (u *USB) io(p []byte, timeout time.Duration, write bool) (int, error) {
	f := u.f
	do := f.Read
	set := f.SetReadDeadline
	if write {
		do, set = f.Write, f.SetWriteDeadline
	}
	if timeout <= 0 {
		return do(p)
	}
	// OS deadlines run on the wall clock, whatever Clock is.
	if err := set(time.Now().Add(timeout)); err == nil {
		return do(p)
	}
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		n, err := do(p)
		ch <- result{n, err}
	}()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-u.Clock.After(timeout):
		// Closing unblocks the goroutine where the node allows it; how
		// much of p got through is unknown, so report none.
		u.closeQuietLocked()
		return 0, errTimeout
	}
}
