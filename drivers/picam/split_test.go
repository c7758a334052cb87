package picam

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// splitAll runs Split and returns copies of the frames.
func splitAll(t testing.TB, r io.Reader, maxFrame int) [][]byte {
	t.Helper()
	var out [][]byte
	if err := Split(r, maxFrame, func(f []byte) { out = append(out, bytes.Clone(f)) }); err != nil {
		t.Fatalf("Split: %v", err)
	}
	return out
}

func checkFrames(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("frame %d: %d bytes differ from the %d expected", i, len(got[i]), len(want[i]))
		}
	}
}

func testFrames(t testing.TB, n int) [][]byte {
	var fs [][]byte
	for i := range n {
		fs = append(fs, makeJPEG(t, 96, 64, uint64(i)))
	}
	return fs
}

func TestSplitValidFrames(t *testing.T) {
	want := testFrames(t, 4)
	stream := bytes.Join(want, nil)
	checkFrames(t, splitAll(t, bytes.NewReader(stream), 0), want)
	// One byte per Read exercises every "need more data" path.
	checkFrames(t, splitAll(t, iotest.OneByteReader(bytes.NewReader(stream)), 0), want)
	checkFrames(t, splitAll(t, iotest.HalfReader(bytes.NewReader(stream)), 0), want)
}

func TestSplitEXIFThumbnail(t *testing.T) {
	thumb := makeJPEG(t, 16, 12, 9)
	want := [][]byte{withEXIF(makeJPEG(t, 96, 64, 1), thumb), withEXIF(makeJPEG(t, 96, 64, 2), thumb)}
	got := splitAll(t, bytes.NewReader(bytes.Join(want, nil)), 0)
	checkFrames(t, got, want)
}

func TestSplitGarbageBetweenFrames(t *testing.T) {
	fs := testFrames(t, 3)
	var stream []byte
	stream = append(stream, 0x00, 0xFF, 0xFF, 0xD9, 0x12, 0xFF) // lone markers, no SOI
	stream = append(stream, fs[0]...)
	stream = append(stream, []byte("garbage \xff\x00\xff\xd9 more")...)
	stream = append(stream, fs[1]...)
	stream = append(stream, 0xFF)
	stream = append(stream, fs[2]...)
	checkFrames(t, splitAll(t, bytes.NewReader(stream), 0), fs)
	checkFrames(t, splitAll(t, iotest.OneByteReader(bytes.NewReader(stream)), 0), fs)
}

func TestSplitTruncatedFrame(t *testing.T) {
	fs := testFrames(t, 3)
	for _, cut := range []int{3, 40, len(fs[1]) / 2, len(fs[1]) - 1} {
		stream := bytes.Join([][]byte{fs[0], fs[1][:cut], fs[2]}, nil)
		s := NewSplitter(bytes.NewReader(stream), 0)
		var got [][]byte
		for {
			f, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, bytes.Clone(f))
		}
		checkFrames(t, got, [][]byte{fs[0], fs[2]})
		if s.Dropped() != 1 {
			t.Errorf("cut at %d: Dropped = %d, want 1", cut, s.Dropped())
		}
	}
	// A partial frame at the very end is dropped too.
	s := NewSplitter(bytes.NewReader(append(bytes.Clone(fs[0]), fs[1][:100]...)), 0)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if s.Dropped() != 1 {
		t.Errorf("Dropped = %d, want 1", s.Dropped())
	}
}

func TestSplitOversizeFrame(t *testing.T) {
	small := makeJPEG(t, 16, 16, 1)
	big := makeJPEG(t, 320, 240, 2)
	limit := len(small) + 10
	if len(big) <= limit {
		t.Fatalf("test frames too alike: %d vs %d", len(big), len(small))
	}
	stream := bytes.Join([][]byte{small, big, small, big, big, small}, nil)
	for _, r := range []io.Reader{bytes.NewReader(stream), iotest.OneByteReader(bytes.NewReader(stream))} {
		got := splitAll(t, r, limit)
		checkFrames(t, got, [][]byte{small, small, small})
	}
	// Exactly at the cap is allowed.
	checkFrames(t, splitAll(t, bytes.NewReader(small), len(small)), [][]byte{small})
}

// TestSplitMarkers uses hand-made frames: restart markers and stuffed bytes in
// the scan, two scans (progressive layout), and segments whose payload holds
// FFD9.
func TestSplitMarkers(t *testing.T) {
	sof := []byte{0xFF, 0xC0, 0x00, 0x0B, 8, 0x00, 0x10, 0x00, 0x20, 1, 1, 0x11, 0}
	sos := []byte{0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0}
	com := []byte{0xFF, 0xFE, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD8}
	frame := func(parts ...[]byte) []byte {
		return append(append([]byte{0xFF, 0xD8}, bytes.Join(parts, nil)...), 0xFF, 0xD9)
	}
	a := frame(com, sof, sos, []byte{1, 2, 0xFF, 0x00, 3, 0xFF, 0xD0, 4, 0xFF, 0xFF, 0xD1, 5})
	b := frame(sof, sos, []byte{7, 0xFF, 0x00}, []byte{0xFF, 0xC4, 0x00, 0x04, 0xFF, 0xD9}, sos, []byte{9, 9})
	got := splitAll(t, bytes.NewReader(bytes.Join([][]byte{a, b, a}, nil)), 0)
	checkFrames(t, got, [][]byte{a, b, a})

	// EOI before any scan, a zero length and a bad byte where a marker belongs
	// are all dropped; the good frame after each is kept.
	bad := [][]byte{
		{0xFF, 0xD8, 0xFF, 0xD9},
		{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00},
		{0xFF, 0xD8, 0x12, 0x34},
		{0xFF, 0xD8, 0xFF, 0x00},
	}
	for i, g := range bad {
		got := splitAll(t, bytes.NewReader(append(bytes.Clone(g), a...)), 0)
		if len(got) != 1 || !bytes.Equal(got[0], a) {
			t.Errorf("bad prefix %d: got %d frames", i, len(got))
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestSplitReadError(t *testing.T) {
	boom := errors.New("boom")
	f := makeJPEG(t, 32, 32, 1)
	s := NewSplitter(io.MultiReader(bytes.NewReader(f), errReader{boom}), 0)
	if got, err := s.Next(); err != nil || !bytes.Equal(got, f) {
		t.Fatalf("Next = %d bytes, %v", len(got), err)
	}
	_, err := s.Next()
	if !errors.Is(err, boom) || err.Error() != "picam: read stream: boom" {
		t.Fatalf("Next error = %v", err)
	}
	if _, err2 := s.Next(); !errors.Is(err2, boom) {
		t.Fatalf("error not sticky: %v", err2)
	}
	if _, err := NewSplitter(errReader{nil}, 0).Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("empty reads: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	f := makeJPEG(t, 96, 64, 1)
	w, h, err := ParseSize(withEXIF(f, makeJPEG(t, 16, 12, 2)))
	if err != nil || w != 96 || h != 64 {
		t.Fatalf("ParseSize = %d, %d, %v; want 96, 64", w, h, err)
	}
	for _, bad := range [][]byte{nil, {0xFF, 0xD8}, f[:20], {0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9}, []byte("not a jpeg at all")} {
		if _, _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(% x) succeeded", bad)
		}
	}
}

func FuzzSplit(f *testing.F) {
	a := makeJPEG(f, 48, 32, 1)
	b := withEXIF(makeJPEG(f, 48, 32, 2), makeJPEG(f, 8, 8, 3))
	f.Add(bytes.Join([][]byte{a, b}, nil), uint16(0))
	f.Add(b, uint16(len(b)-1))
	f.Add(append(bytes.Clone(a[:len(a)/2]), b...), uint16(0))
	f.Add(bytes.Join([][]byte{[]byte("junk\xff\xd9\xff"), a, {0xFF, 0x00, 0xFF}, b}, nil), uint16(0))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9}, uint16(4))
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		limit := int(max)
		if limit == 0 {
			limit = DefaultMaxFrame
		}
		for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
			err := Split(r, int(max), func(fr []byte) {
				if len(fr) < 4 || fr[0] != 0xFF || fr[1] != 0xD8 || fr[len(fr)-2] != 0xFF || fr[len(fr)-1] != 0xD9 {
					t.Fatalf("bad frame % x", fr[:min(len(fr), 8)])
				}
				if len(fr) > limit {
					t.Fatalf("frame of %d bytes over the cap %d", len(fr), limit)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// benchStream is ~50 distinct JPEGs of about 40 KB each.
func benchStream(b *testing.B) []byte {
	var fs [][]byte
	for i := range 50 {
		fs = append(fs, makeJPEG(b, 384, 288, uint64(i)))
	}
	return bytes.Join(fs, nil)
}

func BenchmarkSplit(b *testing.B) {
	stream := benchStream(b)
	b.Logf("stream %d bytes, %d per frame", len(stream), len(stream)/50)
	r := bytes.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(stream)
		n := 0
		if err := Split(r, 0, func([]byte) { n++ }); err != nil || n != 50 {
			b.Fatalf("%d frames, %v", n, err)
		}
	}
}

// TestSplitRandomStream mixes frames and random garbage and checks every
// frame that was not touched by garbage comes out whole.
func TestSplitRandomStream(t *testing.T) {
	fs := testFrames(t, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	for i := range 40 {
		g := make([]byte, rng.IntN(300))
		for j := range g {
			g[j] = byte(rng.IntN(256))
			if g[j] == 0xD8 {
				g[j] = 0xD7 // no accidental SOI in the garbage
			}
		}
		stream = append(stream, g...)
		stream = append(stream, fs[i%5]...)
	}
	got := splitAll(t, iotest.HalfReader(bytes.NewReader(stream)), 0)
	if len(got) != 40 {
		t.Fatalf("got %d frames, want 40", len(got))
	}
	for i, f := range got {
		if !bytes.Equal(f, fs[i%5]) {
			t.Fatalf("frame %d differs", i)
		}
	}
}
