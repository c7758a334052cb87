//go:build !linux

package v4l2

import (
	"context"
	"errors"
)

// Dev is a V4L2 capture device; V4L2 exists only on Linux.
type Dev struct {
	path          string
	card          string
	width, height int
	pixFmt        FourCC
}

var errNotLinux = errors.New("v4l2: only available on linux")

// Open fails: V4L2 is Linux-only.
func Open(path string, opts *Opts) (*Dev, error) { return nil, errNotLinux }

// Stream fails: V4L2 is Linux-only.
func (d *Dev) Stream(ctx context.Context, emit func(jpeg []byte)) error { return errNotLinux }

// Halt does nothing.
func (d *Dev) Halt() error { return nil }

// Close does nothing.
func (d *Dev) Close() error { return nil }
