package escpos

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

// nodeFile behaves like an open usblp node: once the node disappears
// (unplug) writes fail with ENODEV, as the kernel's do.
type nodeFile struct {
	*os.File
	path string
}

func (f nodeFile) Write(p []byte) (int, error) {
	if _, err := os.Stat(f.path); err != nil {
		return 0, &os.PathError{Op: "write", Path: f.path, Err: syscall.ENODEV}
	}
	return f.File.Write(p)
}

func TestUSBReopensAfterUnplug(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lp0")
	u := OpenUSB(path)
	opens := 0
	u.open = func(p string) (devFile, error) {
		opens++
		f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			return nil, err
		}
		return nodeFile{f, p}, nil
	}
	defer u.Close()

	// Not plugged in yet: a clear error naming the path, nothing opened.
	_, err := u.Write([]byte("a"))
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no printer") {
		t.Fatalf("absent printer: %v", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error does not wrap the cause: %v", err)
	}

	plug := func() {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plug()
	if _, err := u.Write([]byte("first ")); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("job\n")); err != nil {
		t.Fatal(err)
	}
	if opens != 2 { // the failed try and one successful open
		t.Fatalf("%d opens, want the node opened once and kept", opens)
	}

	// Unplug: the write fails with ENODEV and the node is dropped.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = u.Write([]byte("lost"))
	if !errors.Is(err, syscall.ENODEV) || !strings.Contains(err.Error(), "unplugged") {
		t.Fatalf("write after unplug: %v", err)
	}
	// Still absent: the reopen fails clearly.
	if _, err = u.Write([]byte("lost")); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("write while absent: %v", err)
	}
	// Replug: the next write reopens the node and goes through.
	plug()
	if _, err := u.Write([]byte("second job\n")); err != nil {
		t.Fatalf("write after replug: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "second job\n" {
		t.Fatalf("new node holds %q", got)
	}
	if s := u.String(); s != "usb:"+path {
		t.Errorf("String() = %q", s)
	}
}

func TestUSBOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.EBUSY, "resource busy: another process (e.g. CUPS) has the printer; stop it or unbind usblp"},
		{syscall.EACCES, "permission denied"},
		{syscall.EPERM, "permission denied"},
		{syscall.ENODEV, "no printer there"},
		{syscall.EINVAL, "open /dev/usb/lp0"},
	} {
		u := OpenUSB("/dev/usb/lp0")
		u.open = func(p string) (devFile, error) {
			return nil, &os.PathError{Op: "open", Path: p, Err: tc.errno}
		}
		_, err := u.Write([]byte{0})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "escpos: usb: ") {
			t.Errorf("%v: %v, want it to mention %q", tc.errno, err, tc.want)
		}
		if !errors.Is(err, tc.errno) {
			t.Errorf("%v not wrapped: %v", tc.errno, err)
		}
	}
}

// stuckFile never completes a write until closed, and has no deadlines,
// like a non-pollable node in front of a stalled printer.
type stuckFile struct {
	closed chan struct{}
}

func (f *stuckFile) Write(p []byte) (int, error) { <-f.closed; return 0, os.ErrClosed }
func (f *stuckFile) Read(p []byte) (int, error)  { <-f.closed; return 0, os.ErrClosed }
func (f *stuckFile) Close() error {
	close(f.closed)
	return nil
}
func (f *stuckFile) SetWriteDeadline(time.Time) error { return os.ErrNoDeadline }
func (f *stuckFile) SetReadDeadline(time.Time) error  { return os.ErrNoDeadline }

func TestUSBWriteTimeout(t *testing.T) {
	clk := fakeclock.New(time.Unix(0, 0))
	u := OpenUSB("/dev/usb/lp9")
	u.Clock = clk
	u.WriteTimeout = 5 * time.Second
	var files []*stuckFile
	u.open = func(string) (devFile, error) {
		f := &stuckFile{closed: make(chan struct{})}
		files = append(files, f)
		return f, nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := u.Write(bytes.Repeat([]byte{0}, 100))
		done <- err
	}()
	clk.BlockUntil(1)
	clk.Advance(4 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("returned before the timeout: %v", err)
	default:
	}
	clk.Advance(time.Second)
	err := <-done
	if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 5s") {
		t.Fatalf("timeout error: %v", err)
	}
	select {
	case <-files[0].closed:
	default:
		t.Fatal("the stuck node was not closed")
	}
	// The next write opens a fresh node.
	go func() {
		_, err := u.Write([]byte{1})
		done <- err
	}()
	clk.BlockUntil(1)
	clk.Advance(5 * time.Second)
	<-done
	if len(files) != 2 {
		t.Fatalf("%d opens, want a reopen after the timeout", len(files))
	}
}

var _ io.ReadWriter = (*USB)(nil)
