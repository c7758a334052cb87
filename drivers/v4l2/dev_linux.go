//go:build linux

package v4l2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Dev is a V4L2 capture device streaming MJPEG through mmap buffers. It is a
// camera source: Stream(ctx, emit) and String().
type Dev struct {
	path string
	opts Opts

	mu      sync.Mutex // serialises Stream, Halt and reopening
	fd      int        // -1 when closed
	bufs    [][]byte   // mmap'ed driver buffers
	card    string
	width   int
	height  int
	pixFmt  FourCC
	cancel  func()
	running chan struct{}
}

// Open opens a UVC webcam (e.g. /dev/video0), checks it can stream MJPEG and
// sets the format, frame rate and buffers. Close or Halt releases it.
func Open(path string, opts *Opts) (*Dev, error) {
	d := &Dev{path: path, opts: opts.withDefaults(), fd: -1}
	if err := d.open(); err != nil {
		return nil, err
	}
	return d, nil
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// open does everything up to (not including) STREAMON.
func (d *Dev) open() error {
	fd, err := unix.Open(d.path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("v4l2: open %s: %w", d.path, err)
	}
	d.fd = fd
	if err := d.setup(); err != nil {
		d.release()
		return err
	}
	return nil
}

func (d *Dev) setup() error {
	var c capability
	if err := ioctl(d.fd, vidiocQueryCap, unsafe.Pointer(&c)); err != nil {
		return fmt.Errorf("v4l2: %s is not a V4L2 device (VIDIOC_QUERYCAP): %w", d.path, err)
	}
	d.card = cstr(c.card[:])
	caps := c.capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.deviceCaps
	}
	if caps&capVideoCapture == 0 || caps&capStreaming == 0 {
		return fmt.Errorf("v4l2: %s (%s) cannot stream video capture (caps %#x)", d.path, d.card, caps)
	}

	// Pick MJPEG (or plain JPEG) from what the camera offers.
	var offered []string
	want := FourCC(0)
	for i := uint32(0); i < 64; i++ {
		fd := fmtDesc{index: i, typ: bufTypeVideoCapture}
		if err := ioctl(d.fd, vidiocEnumFmt, unsafe.Pointer(&fd)); err != nil {
			break // EINVAL ends the list
		}
		f := FourCC(fd.pixelFormat)
		offered = append(offered, f.String())
		if f == PixFmtMJPEG || (f == PixFmtJPEG && want == 0) {
			want = f
		}
	}
	if want == 0 {
		return fmt.Errorf("v4l2: %s (%s) does not offer MJPEG (formats: %s)", d.path, d.card, strings.Join(offered, ", "))
	}

	var f format
	f.typ = bufTypeVideoCapture
	p := f.pix()
	p.width, p.height = uint32(d.opts.Width), uint32(d.opts.Height)
	p.pixelFormat = uint32(want)
	p.field = fieldAny
	if err := ioctl(d.fd, vidiocSFmt, unsafe.Pointer(&f)); err != nil {
		return fmt.Errorf("v4l2: %s: set format %s %dx%d: %w", d.path, want, d.opts.Width, d.opts.Height, err)
	}
	if got := FourCC(p.pixelFormat); got != PixFmtMJPEG && got != PixFmtJPEG {
		return fmt.Errorf("v4l2: %s (%s) refused MJPEG, offers %s", d.path, d.card, got)
	}
	d.width, d.height, d.pixFmt = int(p.width), int(p.height), FourCC(p.pixelFormat)

	// Frame rate is a wish: many cameras ignore it, so failure is not fatal.
	var sp streamParm
	sp.typ = bufTypeVideoCapture
	sp.capture().timePerFrame = fract{numerator: 1, denominator: uint32(d.opts.FrameRate)}
	_ = ioctl(d.fd, vidiocSParm, unsafe.Pointer(&sp)) // best effort by design

	rb := requestBuffers{count: uint32(d.opts.Buffers), typ: bufTypeVideoCapture, memory: memoryMMAP}
	if err := ioctl(d.fd, vidiocReqBufs, unsafe.Pointer(&rb)); err != nil {
		return fmt.Errorf("v4l2: %s: request buffers: %w", d.path, err)
	}
	if rb.count < 2 {
		return fmt.Errorf("v4l2: %s: driver granted %d buffers, need 2", d.path, rb.count)
	}
	for i := uint32(0); i < rb.count; i++ {
		b := buffer{index: i, typ: bufTypeVideoCapture, memory: memoryMMAP}
		if err := ioctl(d.fd, vidiocQueryBuf, unsafe.Pointer(&b)); err != nil {
			return fmt.Errorf("v4l2: %s: query buffer %d: %w", d.path, i, err)
		}
		m, err := unix.Mmap(d.fd, int64(b.offset()), int(b.length), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("v4l2: %s: mmap buffer %d: %w", d.path, i, err)
		}
		d.bufs = append(d.bufs, m)
	}
	return nil
}

// release unmaps the buffers and closes the device.
func (d *Dev) release() error {
	var errs []error
	for _, b := range d.bufs {
		if err := unix.Munmap(b); err != nil {
			errs = append(errs, err)
		}
	}
	d.bufs = nil
	if d.fd >= 0 {
		if err := unix.Close(d.fd); err != nil {
			errs = append(errs, err)
		}
		d.fd = -1
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("v4l2: %s: close: %w", d.path, err)
	}
	return nil
}

// Stream captures frames and emits a copy of each (the slice is the
// receiver's) until ctx ends (returns ctx.Err()) or the camera fails. After a
// failure the device is closed, and the next Stream reopens it, so an
// unplugged and replugged webcam recovers.
func (d *Dev) Stream(ctx context.Context, emit func(jpeg []byte)) (err error) {
	d.mu.Lock()
	if d.running != nil {
		d.mu.Unlock()
		return fmt.Errorf("v4l2: %s: already streaming", d.path)
	}
	if d.fd < 0 {
		if err := d.open(); err != nil {
			d.mu.Unlock()
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	running := make(chan struct{})
	d.cancel, d.running = cancel, running
	fd, bufs := d.fd, d.bufs
	d.mu.Unlock()
	defer func() {
		broken := err != nil && ctx.Err() == nil
		cancel()
		d.mu.Lock()
		if broken {
			// Reopened by the next Stream; the stream error says more than
			// any error from closing a dead device.
			_ = d.release()
		}
		d.cancel, d.running = nil, nil
		d.mu.Unlock()
		close(running)
	}()

	// An eventfd wakes poll when ctx ends.
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("v4l2: eventfd: %w", err)
	}
	defer unix.Close(wake)
	stop := context.AfterFunc(ctx, func() {
		var one = [8]byte{1}
		unix.Write(wake, one[:]) // cannot fail short of a closed fd: wake is ours
	})
	defer stop()

	for i := range bufs {
		b := buffer{index: uint32(i), typ: bufTypeVideoCapture, memory: memoryMMAP}
		if err := ioctl(fd, vidiocQBuf, unsafe.Pointer(&b)); err != nil {
			return fmt.Errorf("v4l2: %s: queue buffer %d: %w", d.path, i, err)
		}
	}
	typ := int32(bufTypeVideoCapture)
	if err := ioctl(fd, vidiocStreamOn, unsafe.Pointer(&typ)); err != nil {
		return fmt.Errorf("v4l2: %s: stream on: %w", d.path, err)
	}
	defer func() {
		// STREAMOFF also takes every buffer back from the driver.
		if e := ioctl(fd, vidiocStreamOff, unsafe.Pointer(&typ)); e != nil && err == nil && ctx.Err() == nil {
			err = fmt.Errorf("v4l2: %s: stream off: %w", d.path, e)
		}
	}()

	timeoutMS := int(d.opts.Timeout.Milliseconds())
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake), Events: unix.POLLIN}}
	for {
		pfd[0].Revents, pfd[1].Revents = 0, 0
		n, err := unix.Poll(pfd, timeoutMS)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("v4l2: %s: poll: %w", d.path, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if n == 0 {
			return fmt.Errorf("v4l2: %s: no frame for %v", d.path, d.opts.Timeout)
		}
		if pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 && pfd[0].Revents&unix.POLLIN == 0 {
			return fmt.Errorf("v4l2: %s: device error (unplugged?), poll events %#x", d.path, pfd[0].Revents)
		}
		b := buffer{typ: bufTypeVideoCapture, memory: memoryMMAP}
		if err := ioctl(fd, vidiocDQBuf, unsafe.Pointer(&b)); err != nil {
			if err == unix.EAGAIN {
				continue
			}
			return fmt.Errorf("v4l2: %s: dequeue buffer: %w", d.path, err)
		}
		if int(b.index) >= len(bufs) {
			return fmt.Errorf("v4l2: %s: driver returned buffer %d of %d", d.path, b.index, len(bufs))
		}
		if b.flags&bufFlagError == 0 && b.bytesUsed > 0 {
			src := bufs[b.index]
			emit(bytes.Clone(src[:min(int(b.bytesUsed), len(src))]))
		}
		if err := ioctl(fd, vidiocQBuf, unsafe.Pointer(&b)); err != nil {
			return fmt.Errorf("v4l2: %s: requeue buffer: %w", d.path, err)
		}
	}
}

// Halt stops a running Stream and releases the device (buffers and file);
// a later Stream reopens it.
func (d *Dev) Halt() error {
	d.mu.Lock()
	cancel, running := d.cancel, d.running
	d.mu.Unlock()
	if cancel != nil {
		cancel()
		<-running
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.release()
}

// Close is Halt, for io.Closer.
func (d *Dev) Close() error { return d.Halt() }
