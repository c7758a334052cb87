package picam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// RPiCamOpts configures the rpicam-vid child process.
type RPiCamOpts struct {
	Width, Height int
	FrameRate     int // frames per second
	Quality       int // JPEG quality 1..100 (-q)
	// Command is the program to run: a name looked up on PATH or a path. ""
	// means rpicam-vid, or libcamera-vid on older images.
	Command string
	Args    []string // appended to the standard arguments
	Env     []string // added to the inherited environment, "KEY=value"
	// MaxFrame caps one JPEG (bytes); <= 0 means DefaultMaxFrame.
	MaxFrame int
	// StderrLines is how many trailing stderr lines are kept for errors.
	StderrLines int
}

// DefaultRPiCamOpts() suits a Pi Zero W, where MJPEG encoding is done in
// software: 640x480 at 15 fps.
func DefaultRPiCamOpts() RPiCamOpts {
	return RPiCamOpts{
		Width:       640,
		Height:      480,
		FrameRate:   15,
		Quality:     60,
		StderrLines: 8,
	}
}

var _ BorrowingSource = (*RPiCam)(nil)

// RPiCam is a Source that supervises rpicam-vid writing MJPEG to its stdout.
type RPiCam struct {
	opts RPiCamOpts

	mu     sync.Mutex
	cancel context.CancelFunc // of the running Stream, for Halt
	done   chan struct{}
}

// NewRPiCam returns a camera source; nothing runs until Stream. Zero fields of
// opts take the defaults.
func NewRPiCam(opts *RPiCamOpts) *RPiCam {
	o := DefaultRPiCamOpts()
	if opts != nil {
		o = *opts
		d := DefaultRPiCamOpts()
		if o.Width <= 0 || o.Height <= 0 {
			o.Width, o.Height = d.Width, d.Height
		}
		if o.FrameRate <= 0 {
			o.FrameRate = d.FrameRate
		}
		if o.Quality <= 0 || o.Quality > 100 {
			o.Quality = d.Quality
		}
		if o.StderrLines <= 0 {
			o.StderrLines = d.StderrLines
		}
	}
	return &RPiCam{opts: o}
}

func (c *RPiCam) String() string {
	name := "rpicam-vid"
	if c.opts.Command != "" {
		name = filepath.Base(c.opts.Command)
	}
	return fmt.Sprintf("%s %dx%d@%d", name, c.opts.Width, c.opts.Height, c.opts.FrameRate)
}

// Args returns the command-line arguments passed to the camera program.
func (c *RPiCam) Args() []string {
	o := c.opts
	a := []string{
		"-t", "0", "-n", "--codec", "mjpeg",
		"--width", strconv.Itoa(o.Width), "--height", strconv.Itoa(o.Height),
		"--framerate", strconv.Itoa(o.FrameRate), "-q", strconv.Itoa(o.Quality),
		"--flush", "-o", "-",
	}
	return append(a, o.Args...)
}

// command resolves the program: the configured one, else rpicam-vid, else
// libcamera-vid.
func (c *RPiCam) command() (string, error) {
	if c.opts.Command != "" {
		p, err := exec.LookPath(c.opts.Command)
		if err != nil {
			return "", fmt.Errorf("picam: %w", err)
		}
		return p, nil
	}
	for _, name := range []string{"rpicam-vid", "libcamera-vid"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("picam: neither rpicam-vid nor libcamera-vid is on PATH (install rpicam-apps)")
}

// Stream runs the camera program and emits every frame it writes until ctx
// ends (returns ctx.Err()) or the program exits (returns an error with its
// exit status and last stderr line). The whole process group is killed when
// ctx ends, so helper processes cannot keep the camera open. Each frame is a
// slice of its own.
func (c *RPiCam) Stream(ctx context.Context, emit func(jpeg []byte)) error {
	return c.StreamBorrowed(ctx, func(f []byte) { emit(bytes.Clone(f)) })
}

// StreamBorrowed is Stream, but each frame aliases the splitter's buffer and
// is valid only during the call to emit: the owner copies it into memory it
// reuses (see BorrowingSource).
func (c *RPiCam) StreamBorrowed(ctx context.Context, emit func(jpeg []byte)) error {
	path, err := c.command()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	c.mu.Lock()
	c.cancel, c.done = cancel, done
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.cancel, c.done = nil, nil
		c.mu.Unlock()
	}()

	name := filepath.Base(path)
	cmd := exec.CommandContext(ctx, path, c.Args()...)
	if len(c.opts.Env) > 0 {
		cmd.Env = append(os.Environ(), c.opts.Env...)
	}
	tail := &tailWriter{max: c.opts.StderrLines}
	cmd.Stderr = tail
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return killProcessGroup(cmd.Process) }
	// Safety net should something outside the group hold stderr open.
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("picam: %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("picam: start %s: %w", name, err)
	}

	sp := NewSplitter(stdout, c.opts.MaxFrame)
	var readErr error
	for {
		f, err := sp.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		emit(f)
	}
	if readErr != nil {
		// Stop the child before Wait, or Wait could block on a live process.
		_ = killProcessGroup(cmd.Process)
	}
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if readErr != nil {
		return fmt.Errorf("picam: %s: %w", name, readErr)
	}
	msg := tail.last()
	if waitErr == nil {
		waitErr = errors.New("exit status 0")
	}
	if msg != "" {
		return fmt.Errorf("picam: %s exited: %w: %s", name, waitErr, msg)
	}
	return fmt.Errorf("picam: %s exited: %w", name, waitErr)
}

// Halt stops a running Stream (killing the camera program) and waits for it
// to return.
func (c *RPiCam) Halt() error {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}

// tailWriter keeps the last lines written to it, each cut to a sane length.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

const maxLine = 512

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.add(p)
			break
		}
		t.add(p[:i])
		t.push()
		p = p[i+1:]
	}
	return n, nil
}

func (t *tailWriter) add(p []byte) {
	if room := maxLine - len(t.partial); room > 0 {
		t.partial = append(t.partial, p[:min(len(p), room)]...)
	}
}

func (t *tailWriter) push() {
	line := string(bytes.TrimSpace(t.partial))
	t.partial = t.partial[:0]
	if line == "" {
		return
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// last returns the last non-empty line, including an unterminated one.
func (t *tailWriter) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := string(bytes.TrimSpace(t.partial)); s != "" {
		return s
	}
	if len(t.lines) == 0 {
		return ""
	}
	return t.lines[len(t.lines)-1]
}
