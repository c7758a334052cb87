package picam

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// makeJPEG encodes a deterministic test picture: a gradient with some noise,
// so the entropy data has a realistic density of 0xFF bytes.
func makeJPEG(tb testing.TB, w, h int, seed uint64) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 42))
	for y := range h {
		for x := range w {
			n := uint8(rng.IntN(48))
			img.Set(x, y, color.RGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8(seed*40) + n, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF inserts an APP1 segment carrying a thumbnail JPEG (with its own SOI
// and EOI) right after the SOI, as cameras do.
func withEXIF(main, thumb []byte) []byte {
	payload := append([]byte("Exif\x00\x00MM\x00\x2a"), thumb...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, main[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, main[2:]...)
}

// isolatedEnv marks a test binary run to measure one test alone.
const isolatedEnv = "TINKERBOX_TEST_ISOLATED"

// TestMain doubles as a stand-in for rpicam-vid: when PICAM_FAKE_CAMERA is set
// the test binary behaves like the camera program instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PICAM_FAKE_CAMERA"); mode != "" {
		os.Exit(fakeCamera(mode))
	}
	os.Exit(m.Run())
}

// fakeCamera modes:
//
//	frames:N:EXIT:MSG  write N small JPEGs, MSG to stderr, exit with EXIT
//	args               print the arguments to stderr, exit 3
//	hang:N             write N JPEGs, start a grandchild holding stdout, hang
//	sleep              hang (the grandchild)
func fakeCamera(mode string) int {
	parts := strings.SplitN(mode, ":", 4)
	switch parts[0] {
	case "frames":
		n, _ := strconv.Atoi(parts[1])
		code, _ := strconv.Atoi(parts[2])
		for i := range n {
			os.Stdout.Write(makeJPEG(fatalTB{}, 64, 48, uint64(i)))
		}
		fmt.Fprintln(os.Stderr, "INFO: starting camera")
		fmt.Fprintln(os.Stderr, parts[3])
		return code
	case "args":
		fmt.Fprintln(os.Stderr, strings.Join(os.Args[1:], " "))
		return 3
	case "hang":
		n, _ := strconv.Atoi(parts[1])
		gc := exec.Command(os.Args[0])
		gc.Env = append(os.Environ(), "PICAM_FAKE_CAMERA=sleep")
		gc.Stdout = os.Stdout
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Frames only after the grandchild runs, so the test cancels then.
		for i := range n {
			os.Stdout.Write(makeJPEG(fatalTB{}, 64, 48, uint64(i)))
		}
		time.Sleep(time.Hour) // a camera that never stops; killed by the test
		return 0
	case "sleep":
		time.Sleep(time.Hour)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown fake mode", mode)
	return 2
}

// fatalTB lets makeJPEG run outside a test (in the fake camera).
type fatalTB struct{ testing.TB }

func (fatalTB) Helper()           {}
func (fatalTB) Fatal(args ...any) { fmt.Fprintln(os.Stderr, args...); os.Exit(1) }
