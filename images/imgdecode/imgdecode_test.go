package imgdecode

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"tinkerbox/images/imgdecode/imgtest"
)

func TestBombsRefusedFromTheHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"photo.png", imgtest.PNGBomb(60000, 60000), "photo.png is 60000×60000, more than the 24 Mpixel limit"},
		{"tall.png", imgtest.PNGBomb(1, 1<<30), "more than the 24 Mpixel limit"},
		{"photo.jpg", imgtest.JPEGBomb(60000, 60000, false), "photo.jpg is 60000×60000, more than the 24 Mpixel limit"},
		// 16 Mpixel passes the pixel count, but progressive coefficients
		// would need 240 MB.
		{"prog.jpg", imgtest.JPEGBomb(4000, 4000, true), "prog.jpg is 4000×4000 and needs 229 MiB decoded, more than the 96 MiB limit"},
	} {
		_, err := DecodeBytes(tc.data, tc.name, Photo())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestJPEGCost(t *testing.T) {
	// A real 4:2:0 baseline JPEG: 1.5 bytes a pixel, rounded up to MCUs.
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 100, 60)), nil); err != nil {
		t.Fatal(err)
	}
	in, err := DecodeConfig(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(112*64 + 2*56*32); in.Decoded != want || in.Width != 100 || in.Format != "jpeg" {
		t.Fatalf("%+v, want %d bytes decoded", in, want)
	}
	img, err := DecodeBytes(b.Bytes(), "x.jpg", Photo())
	if err != nil || img.Bounds().Dx() != 100 {
		t.Fatal(img, err)
	}
}

func TestDecodesWithinLimits(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 300, 200)))
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	os.WriteFile(p, b.Bytes(), 0o644)
	img, err := ReadFile(p, Photo())
	if err != nil || img.Bounds().Dx() != 300 {
		t.Fatal(img, err)
	}
	if _, err := ReadFile(p, Limits{MaxPixels: 50_000}); err == nil || !strings.Contains(err.Error(), "300×200, more than the 0.1 Mpixel limit") {
		t.Fatal(err)
	}
	if _, err := ReadFile(p, Limits{MaxDecoded: 1 << 10}); err == nil || !strings.Contains(err.Error(), "needs 1 MiB decoded, more than the 1024 bytes limit") {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"a.png": {Data: b.Bytes()}}
	if _, in, err := ReadFS(fsys, "a.png", Photo()); err != nil || in.Decoded != 60000 {
		t.Fatal(in, err)
	}
	if in, err := ConfigFS(fsys, "a.png", Photo()); err != nil || in.Height != 200 {
		t.Fatal(in, err)
	}
}

func TestFileLimits(t *testing.T) {
	dir := t.TempDir()
	sparse := filepath.Join(dir, "big.png")
	f, _ := os.Create(sparse)
	f.Write(imgtest.PNGBomb(10, 10))
	f.Close()
	if err := os.Truncate(sparse, 1<<30); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(sparse, Photo()); err == nil || !strings.Contains(err.Error(), "big.png is 1073741824 bytes, more than the 64 MiB limit") {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	start := time.Now()
	_, err := ReadFile("/dev/zero", Photo())
	if err == nil || !strings.Contains(err.Error(), "/dev/zero is larger than the 64 MiB limit") {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
	if _, err := ReadFile(dir, Photo()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatal(err)
	}
}
