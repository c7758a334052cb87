package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"tinkerbox/drivers/sim"
)

// Each frame the feeder writes carries a JPEG comment (COM) segment right
// after its SOI: stampMagic, the frame's number and the wall-clock time of
// the write. Both servers pass the JPEG through untouched, so a viewer can
// tell which frame it got and how long it took, whoever served it.
const (
	stampMagic = "tbfo"
	stampLen   = 2 + 2 + 4 + 4 + 8 // marker, length, magic, seq, unix ns
)

// stampAt writes the COM segment for frame seq at t into b[2:2+stampLen].
func stampAt(b []byte, seq uint32, t time.Time) {
	b[2], b[3] = 0xFF, 0xFE
	binary.BigEndian.PutUint16(b[4:], stampLen-2)
	copy(b[6:], stampMagic)
	binary.BigEndian.PutUint32(b[10:], seq)
	binary.BigEndian.PutUint64(b[14:], uint64(t.UnixNano()))
}

// readStamp returns the stamp of a JPEG the feeder wrote.
func readStamp(jpeg []byte) (seq uint32, at time.Time, ok bool) {
	if len(jpeg) < 2+stampLen || jpeg[2] != 0xFF || jpeg[3] != 0xFE || string(jpeg[6:10]) != stampMagic {
		return 0, time.Time{}, false
	}
	return binary.BigEndian.Uint32(jpeg[10:]), time.Unix(0, int64(binary.BigEndian.Uint64(jpeg[14:]))), true
}

// stepClock is the simulated camera's clock while frames are recorded: it
// stands still between frames.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }
func (c *stepClock) After(d time.Duration) <-chan time.Time {
	panic("benchfanout: recording never waits")
}

// recordFrames writes n frames of the simulated camera (the spy-cam's moving
// scene and clock, 640x480, the simulator's quality 75) into dir, one
// 1/fps apart, and returns their mean size.
func recordFrames(dir string, n, fps int) (mean int, err error) {
	clk := &stepClock{t: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
	cam := sim.NewCamera(&sim.CameraOpts{Width: 640, Height: 480, FPS: fps, Quality: 75, Clock: clk})
	total := 0
	for i := range n {
		b, err := cam.Snapshot()
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d.jpg", i)), b, 0o644); err != nil {
			return 0, err
		}
		total += len(b)
		clk.t = clk.t.Add(time.Second / time.Duration(fps))
	}
	return total / n, nil
}

// loadFrames reads the JPEGs of dir in name order, each with room for the
// stamp after its SOI.
func loadFrames(dir string) ([][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var frames [][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
			return nil, fmt.Errorf("%s: not a JPEG", name)
		}
		f := make([]byte, 0, len(b)+stampLen)
		f = append(f, b[:2]...)
		f = append(f, make([]byte, stampLen)...)
		f = append(f, b[2:]...)
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		return nil, fmt.Errorf("%s: no .jpg frames", dir)
	}
	return frames, nil
}

// feed is the camera both servers run: it writes the recorded frames to
// stdout as MJPEG (concatenated JPEGs, as rpicam-vid does) at fps, each in
// one write, stamped just before it. A late frame is not made up for: like a
// camera, the feeder never bursts. It ignores its arguments (tinkerbox passes
// rpicam-vid's) and ends when stdout is closed.
func feed() error {
	raisePriority()
	frames, err := loadFrames(os.Getenv("BENCHFANOUT_FRAMES"))
	if err != nil {
		return err
	}
	fps, err := strconv.Atoi(os.Getenv("BENCHFANOUT_FPS"))
	if err != nil || fps <= 0 {
		return errors.New("BENCHFANOUT_FPS: not a frame rate")
	}
	interval := time.Second / time.Duration(fps)
	next := time.Now()
	for seq := uint32(1); ; seq++ {
		f := frames[int(seq-1)%len(frames)]
		stampAt(f, seq, time.Now())
		if _, err := os.Stdout.Write(f); err != nil {
			return err
		}
		now := time.Now()
		if next = next.Add(interval); next.Before(now) {
			next = now
		}
		time.Sleep(next.Sub(now)) // a program, not a test: wall time is the point
	}
}

// hog is one busy loop: the CPU starvation the camera path must survive.
func hog() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Println(x) // never: keeps the loop from being optimised away
		}
	}
}

// raisePriority puts the measuring side (the feeder, the viewers) ahead of
// the busy loops and the servers, where the system allows it (nice -10 needs
// root or CAP_SYS_NICE): under starvation the figures are then the servers'
// doing, not a late camera's or a late viewer's. It says whether it could.
func raisePriority() bool {
	return syscall.Setpriority(syscall.PRIO_PROCESS, 0, -10) == nil
}
