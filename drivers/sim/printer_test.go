package sim

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenStream has every printing command the decoder knows: text, raster,
// DC2 * bitmap, feeds, cuts and settings.
func goldenStream() []byte {
	var b bytes.Buffer
	b.Write([]byte{0x1B, '@'})
	b.Write([]byte{0x1B, '7', 11, 120, 40}) // heat
	b.Write([]byte{0x12, '#', 0x5F})        // density
	b.WriteString("Hello, tinkerbox!\n")
	b.Write([]byte{0x1B, 'a', 1, 0x1B, 'E', 1, 0x1B, '!', 0x08}) // ignored modes
	b.WriteString("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz wraps\r\n")
	// Raster: 48 bytes x 40 rows, diagonal stripes.
	b.Write([]byte{0x1D, 'v', '0', 0, 48, 0, 40, 0})
	for y := 0; y < 40; y++ {
		for x := 0; x < 48; x++ {
			if (x+y/8)%2 == 0 {
				b.WriteByte(0xF0 >> (y % 4))
			} else {
				b.WriteByte(0)
			}
		}
	}
	// DC2 * bitmap: 30 rows x 48 bytes, a filled disc.
	b.Write([]byte{0x12, '*', 30, 48})
	for y := 0; y < 30; y++ {
		for xb := 0; xb < 48; xb++ {
			var v byte
			for bit := 0; bit < 8; bit++ {
				dx, dy := xb*8+bit-192, y-15
				if dx*dx+dy*dy <= 14*14 {
					v |= 0x80 >> bit
				}
			}
			b.WriteByte(v)
		}
	}
	b.Write([]byte{0x1B, 'd', 1})                   // feed one text line
	b.Write([]byte{0x1B, 'J', 10})                  // feed 10 dots
	b.WriteString("cut below")                      // printed by the cut
	b.Write([]byte{0x1D, 'V', 66, 12})              // feed 12 dots and cut
	b.WriteString("second slip\n")                  //
	b.Write([]byte{0x1D, 'V', 0})                   // plain cut
	b.Write([]byte{0x10, 0x04, 4})                  // status query: no ink on paper
	b.Write([]byte{0x1B, 'd', 0})                   // zero feed
	b.Write([]byte{0x1D, 'v', '0', 48, 0, 0, 0, 0}) // empty raster
	return b.Bytes()
}

func decodePNG(t testing.TB, data []byte) *image.Gray {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	g := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

func TestPrinterGolden(t *testing.T) {
	p := NewPrinter(nil)
	if n, err := p.Write(goldenStream()); err != nil || n != len(goldenStream()) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if errs := p.Errors(); len(errs) != 0 {
		t.Fatalf("decode errors: %q", errs)
	}
	var buf bytes.Buffer
	if err := p.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "roll.png")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	got, exp := decodePNG(t, buf.Bytes()), decodePNG(t, want)
	if got.Bounds() != exp.Bounds() {
		t.Fatalf("roll is %v, golden %v", got.Bounds(), exp.Bounds())
	}
	if !bytes.Equal(got.Pix, exp.Pix) {
		t.Fatal("roll differs from testdata/roll.png (inspect with -update and git diff)")
	}
	if !bytes.Equal(p.Roll().Pix, got.Pix) {
		t.Fatal("Roll and WritePNG disagree")
	}

	// Rows: 2 text lines + 1 wrapped + 40 raster + 30 bitmap + 24 + 10 feed
	// + text line + 12 + cut + text line + cut.
	wantRows := 24*3 + 40 + 30 + 24 + 10 + 24 + 12 + 1 + 24 + 1
	if r := p.Rows(); r != wantRows {
		t.Errorf("Rows = %d, want %d", r, wantRows)
	}
	want2 := PrinterStats{Inits: 1, Cuts: 2, Rasters: 2, Bitmaps: 1, Feeds: 3, TextLines: 5,
		Heat: [3]byte{11, 120, 40}, Density: 0x5F}
	if s := p.Stats(); s != want2 {
		t.Errorf("Stats = %+v, want %+v", s, want2)
	}
	st := make([]byte, 4)
	if n, err := p.Read(st); err != nil || n != 1 || st[0] != 0x12 {
		t.Errorf("Read = %d, %v, % X; want 1 byte 12", n, err, st[:n])
	}
}

func TestPrinterSplitWrites(t *testing.T) {
	stream := goldenStream()
	whole := NewPrinter(nil)
	whole.Write(stream)

	bytewise := NewPrinter(nil)
	for i := range stream {
		if _, err := bytewise.Write(stream[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	chunked := NewPrinter(nil)
	r := rand.New(rand.NewPCG(1, 2))
	for rest := stream; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(100))
		chunked.Write(rest[:n])
		rest = rest[n:]
	}
	for name, p := range map[string]*Printer{"byte by byte": bytewise, "random chunks": chunked} {
		if p.Stats() != whole.Stats() {
			t.Errorf("%s: stats %+v, want %+v", name, p.Stats(), whole.Stats())
		}
		if !bytes.Equal(p.Roll().Pix, whole.Roll().Pix) || p.Rows() != whole.Rows() {
			t.Errorf("%s: roll differs", name)
		}
	}
}

func TestPrinterRasterBits(t *testing.T) {
	// 12 dots: the raster's third byte and the low nibble of the second are
	// beyond the paper and must be clipped.
	p := NewPrinter(&PrinterOpts{Width: 12})
	p.Write([]byte{0x1D, 'v', '0', 0, 3, 0, 2, 0, 0x80, 0xFF, 0xFF, 0x01, 0x10, 0x00})
	g := p.Roll()
	if g.Bounds() != image.Rect(0, 0, 12, 2) {
		t.Fatalf("bounds %v", g.Bounds())
	}
	row := func(y int) string {
		var s strings.Builder
		for x := 0; x < 12; x++ {
			if g.GrayAt(x, y).Y == 0 {
				s.WriteByte('#')
			} else {
				s.WriteByte('.')
			}
		}
		return s.String()
	}
	if got, want := row(0), "#.......####"; got != want {
		t.Errorf("row 0 = %s, want %s", got, want)
	}
	if got, want := row(1), ".......#...#"; got != want {
		t.Errorf("row 1 = %s, want %s", got, want)
	}
}

func TestPrinterText(t *testing.T) {
	p := NewPrinter(&PrinterOpts{Width: 70}) // 10 characters a line
	p.Write([]byte("I\n\nABCDEFGHIJKL\n"))
	if s := p.Stats(); s.TextLines != 4 {
		t.Errorf("TextLines = %d, want 4 (I, empty, wrapped line of 10, rest)", s.TextLines)
	}
	g := p.Roll()
	if g.Bounds().Dy() != 4*24 {
		t.Fatalf("rows = %d", g.Bounds().Dy())
	}
	black := func(x0, y0, x1, y1 int) int {
		n := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if g.GrayAt(x, y).Y == 0 {
					n++
				}
			}
		}
		return n
	}
	if black(0, 0, 7, 24) == 0 {
		t.Error("'I' not drawn in the first cell")
	}
	if black(7, 0, 70, 24) != 0 || black(0, 24, 70, 48) != 0 {
		t.Error("ink outside the glyph or on the empty line")
	}
	if black(63, 48, 70, 72) == 0 || black(0, 72, 14, 96) == 0 || black(14, 72, 70, 96) != 0 {
		t.Error("wrap: want J in the last cell of line 3 and KL on line 4")
	}
}

func TestPrinterStatus(t *testing.T) {
	p := NewPrinter(nil)
	buf := make([]byte, 8)
	if _, err := p.Read(buf); !errors.Is(err, ErrNoStatus) {
		t.Fatalf("Read on empty queue: %v, want ErrNoStatus", err)
	}
	ask := []byte{0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4}
	p.Write(ask)
	if n, err := p.Read(buf); err != nil || !bytes.Equal(buf[:n], []byte{0x16, 0x12, 0x12, 0x12}) {
		t.Errorf("status = % X, %v", buf[:n], err)
	}

	before := p.Version()
	p.SetPaperOut(true)
	if p.Version() == before {
		t.Error("Version did not change on SetPaperOut")
	}
	if n, err := p.Write([]byte("hello\n")); !errors.Is(err, ErrPaperOut) || n != 0 {
		t.Errorf("Write with paper out = %d, %v", n, err)
	}
	if p.Rows() != 0 || p.Stats().TextLines != 0 {
		t.Error("printed while out of paper")
	}
	if n, err := p.Write(ask); err != nil || n != len(ask) {
		t.Fatalf("status request with paper out = %d, %v", n, err)
	}
	// Read in two parts: the queue keeps order.
	if n, err := p.Read(buf[:1]); err != nil || n != 1 || buf[0] != 0x1E {
		t.Errorf("first status = % X, %v", buf[:n], err)
	}
	if n, err := p.Read(buf); err != nil || !bytes.Equal(buf[:n], []byte{0x32, 0x12, 0x72}) {
		t.Errorf("status = % X, %v", buf[:n], err)
	}
	p.SetPaperOut(false)
	if _, err := p.Write([]byte("hello\n")); err != nil || p.Stats().TextLines != 1 {
		t.Errorf("after paper refill: %v, %d lines", err, p.Stats().TextLines)
	}

	p.SetUnplugged(true)
	if _, err := p.Write(ask); !errors.Is(err, ErrUnplugged) {
		t.Errorf("Write unplugged: %v", err)
	}
	if _, err := p.Read(buf); !errors.Is(err, ErrUnplugged) {
		t.Errorf("Read unplugged: %v", err)
	}
	p.SetUnplugged(false)

	p.Write([]byte{0x10, 0x04, 9})
	if _, err := p.Read(buf); !errors.Is(err, ErrNoStatus) {
		t.Errorf("bad DLE EOT function answered: %v", err)
	}
	if e := p.Errors(); len(e) != 1 || !strings.Contains(e[0], "DLE EOT") {
		t.Errorf("Errors = %q", e)
	}
}

func TestPrinterUnknownCommands(t *testing.T) {
	p := NewPrinter(nil)
	p.Write([]byte{0x1B, 0x99, 'A', '\n', 0x1D, 'V', 7, 0x1D, 'v', '1', 0x12, 'x', 0x10, 'y', 'B', '\n'})
	errs := p.Errors()
	if len(errs) != 5 {
		t.Fatalf("Errors = %q, want 5", errs)
	}
	if !strings.HasPrefix(errs[0], "sim: printer: byte 0: unknown command 1B 99") {
		t.Errorf("first error %q", errs[0])
	}
	if s := p.Stats(); s.TextLines != 2 || s.Cuts != 0 || s.DecodeErrors != 5 {
		t.Errorf("text after bad commands not printed: %+v", s)
	}
	for i := 0; i < 2*maxErrors; i++ {
		p.Write([]byte{0x1B, 0xFF})
	}
	if e := p.Errors(); len(e) != maxErrors {
		t.Errorf("Errors kept %d, want bounded to %d", len(e), maxErrors)
	}
}

func TestPrinterMaxRows(t *testing.T) {
	p := NewPrinter(&PrinterOpts{Width: 8, MaxRows: 10})
	// 25 raster rows numbered 1..25 in their bits, then check the newest 10.
	stream := []byte{0x1D, 'v', '0', 0, 1, 0, 25, 0}
	for i := 1; i <= 25; i++ {
		stream = append(stream, byte(i))
	}
	for round := 0; round < 3; round++ {
		p.Write(stream)
		if p.Rows() != 10 {
			t.Fatalf("Rows = %d, want 10", p.Rows())
		}
		g := p.Roll()
		for y := 0; y < 10; y++ {
			var v byte
			for x := 0; x < 8; x++ {
				if g.GrayAt(x, y).Y == 0 {
					v |= 0x80 >> x
				}
			}
			if want := byte(16 + y); v != want {
				t.Fatalf("round %d row %d = %d, want %d", round, y, v, want)
			}
		}
	}
	p.Write([]byte{0x1B, 'd', 255}) // far more than MaxRows
	if p.Rows() != 10 {
		t.Errorf("Rows after long feed = %d", p.Rows())
	}
	if tail := p.RollTail(3); tail.Bounds().Dy() != 3 {
		t.Errorf("RollTail(3) height %d", tail.Bounds().Dy())
	}
	p.ClearRoll()
	if p.Rows() != 0 {
		t.Errorf("Rows after ClearRoll = %d", p.Rows())
	}
}

func TestPrinterEmptyPNGAndHalt(t *testing.T) {
	p := NewPrinter(nil)
	var buf bytes.Buffer
	if err := p.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	g := decodePNG(t, buf.Bytes())
	if g.Bounds() != image.Rect(0, 0, 384, 1) || g.GrayAt(10, 0).Y != 255 {
		t.Errorf("empty roll PNG: %v", g.Bounds())
	}
	// A half-sent raster header is dropped by Halt: the next text prints.
	p.Write([]byte{0x1D, 'v', '0', 0})
	if err := p.Halt(); err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("x\n"))
	if s := p.Stats(); s.TextLines != 1 || s.Rasters != 0 {
		t.Errorf("after Halt: %+v", s)
	}
	if p.String() != "sim.Printer(384 dots)" {
		t.Errorf("String = %q", p.String())
	}
}

func FuzzPrinter(f *testing.F) {
	f.Add(goldenStream())
	f.Add([]byte{0x1D, 'v', '0', 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3})
	f.Add([]byte{0x12, '*', 0xFF, 0xFF, 0x1B, 0x1B, 0x1B})
	f.Add([]byte{0x1D, 'V', 'B', 0xFF, 0x10, 0x04, 0x00, 0x1B, '7', 1})
	f.Add([]byte("\x00\x7f\x80\xff\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &PrinterOpts{Width: 60, MaxRows: 300}
		whole := NewPrinter(opts)
		if n, err := whole.Write(data); err != nil || n != len(data) {
			t.Fatalf("Write = %d, %v", n, err)
		}
		split := NewPrinter(opts)
		for i := range data {
			split.Write(data[i : i+1])
		}
		if whole.Rows() > 300 {
			t.Fatalf("Rows %d beyond MaxRows", whole.Rows())
		}
		if whole.Stats() != split.Stats() || !bytes.Equal(whole.Roll().Pix, split.Roll().Pix) {
			t.Fatal("byte-by-byte decode differs from whole decode")
		}
		whole.Read(make([]byte, 8))
		if err := whole.WritePNG(&bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	})
}

// rasterStream is a 384-dot image of rows, sent in bands of 255 rows.
func rasterStream(rows int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0x1B, '@'})
	for done := 0; done < rows; {
		n := min(255, rows-done)
		b.Write([]byte{0x1D, 'v', '0', 0, 48, 0, byte(n), 0})
		for y := 0; y < n; y++ {
			for x := 0; x < 48; x++ {
				b.WriteByte(byte(x*7 + y))
			}
		}
		done += n
	}
	return b.Bytes()
}

func BenchmarkPrinterDecode(b *testing.B) {
	stream := rasterStream(1024)
	p := NewPrinter(nil)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Write(stream); err != nil {
			b.Fatal(err)
		}
	}
}

// stepClock is virtual time moved by the test.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// bitmapRows is a DC2 * bitmap of n black 48-byte rows.
func bitmapRows(n int) []byte {
	b := []byte{0x12, '*', byte(n), 48}
	return append(b, bytes.Repeat([]byte{0xFF}, 48*n)...)
}

// printTime is how long the serial model takes for a 5-row bitmap sent
// after heat settings (ESC 7 n1 n2 n3, DC2 # n).
func printTime(t *testing.T, heat [3]byte, density byte) time.Duration {
	t.Helper()
	clk := &stepClock{now: time.Unix(0, 0)}
	p := NewPrinter(&PrinterOpts{Serial: &SerialModel{Clock: clk}})
	job := []byte{0x1B, '7', heat[0], heat[1], heat[2], 0x12, '#', density}
	job = append(job, bitmapRows(5)...)
	p.Write(job)
	clk.now = clk.now.Add(time.Hour)
	b := p.Buffer()
	if b.Dropped != 0 || b.Fill != 0 || p.Rows() != 5 {
		t.Fatalf("dropped %d, fill %d, rows %d", b.Dropped, b.Fill, p.Rows())
	}
	// The head is the bottleneck at 19200 baud: it starts once the first
	// row is in (settings, header and 48 bytes) and never waits after.
	first := time.Duration(len(job)-4*48) * (10 * time.Second / 19200)
	return b.Finished.Sub(time.Unix(0, 0)) - first
}

func TestSerialModelLineTime(t *testing.T) {
	// Adafruit's settings: 30 ms a dot line, as its library measured.
	ref := printTime(t, [3]byte{11, 120, 40}, 2<<5|10)
	if ref < 149*time.Millisecond || ref > 151*time.Millisecond {
		t.Errorf("5 rows at Adafruit's settings in %v, want about 150 ms", ref)
	}
	// Darker or slower settings take longer; each knob on its own.
	prev := ref
	for _, tc := range []struct {
		name    string
		heat    [3]byte
		density byte
	}{
		{"longer heat time", [3]byte{11, 200, 40}, 2<<5 | 10},
		{"longer interval", [3]byte{11, 200, 120}, 2<<5 | 10},
		{"higher density", [3]byte{11, 200, 120}, 2<<5 | 31},
		{"longer break", [3]byte{11, 200, 120}, 7<<5 | 31},
		{"fewer dots at once", [3]byte{3, 200, 120}, 7<<5 | 31},
	} {
		got := printTime(t, tc.heat, tc.density)
		t.Logf("%s: 5 rows in %v", tc.name, got)
		if got <= prev {
			t.Errorf("%s: %v, not slower than %v", tc.name, got, prev)
		}
		prev = got
	}
}

func TestSerialModelOverflow(t *testing.T) {
	clk := &stepClock{now: time.Unix(0, 0)}
	// 100 ms a row against 25 ms of wire: the buffer fills.
	p := NewPrinter(&PrinterOpts{Serial: &SerialModel{Clock: clk, BufferSize: 256, LineTime: 100 * time.Millisecond}})
	p.Write(bitmapRows(20))
	clk.now = clk.now.Add(time.Hour)
	b := p.Buffer()
	if b.Peak != 256 || b.Dropped == 0 {
		t.Fatalf("peak %d, %d dropped: want a full buffer and lost bytes", b.Peak, b.Dropped)
	}
	// Paced by hand at one row per 101 ms, nothing is lost.
	clk2 := &stepClock{now: time.Unix(0, 0)}
	q := NewPrinter(&PrinterOpts{Serial: &SerialModel{Clock: clk2, BufferSize: 256, LineTime: 100 * time.Millisecond}})
	job := bitmapRows(20)
	q.Write(job[:4+48*4])
	for rest := job[4+48*4:]; len(rest) > 0; rest = rest[48:] {
		clk2.now = clk2.now.Add(101 * time.Millisecond)
		q.Write(rest[:48])
	}
	clk2.now = clk2.now.Add(time.Hour)
	if b := q.Buffer(); b.Dropped != 0 || q.Rows() != 20 {
		t.Fatalf("paced: %d dropped, %d rows", b.Dropped, q.Rows())
	}
}

func TestSerialModelWakeAndDTR(t *testing.T) {
	clk := &stepClock{now: time.Unix(0, 0)}
	p := NewPrinter(&PrinterOpts{Serial: &SerialModel{Clock: clk, LineTime: 200 * time.Millisecond}})
	// Adafruit's begin(): wake, 50 ms, ESC 8 0 0, ESC @, tab stops, heat,
	// then GS a 32 to drive DTR.
	p.Write([]byte{0xFF})
	clk.now = clk.now.Add(51 * time.Millisecond)
	p.Write([]byte{0x1B, '8', 0, 0, 0x1B, '@', 0x1B, 'D', 4, 8, 12, 16, 20, 24, 28, 0, 0x1B, '7', 11, 120, 40, 0x1D, 'a', 32})
	if busy, err := p.Busy(); err != nil || busy {
		t.Fatalf("Busy = %v, %v before anything to print", busy, err)
	}
	clk.now = clk.now.Add(time.Second)
	if b := p.Buffer(); b.Dropped != 0 || len(p.Errors()) != 0 || p.Stats().Inits != 1 {
		t.Fatalf("init: %d dropped, errors %q, stats %+v", b.Dropped, p.Errors(), p.Stats())
	}
	p.Write(bitmapRows(5)) // 244 bytes: fewer than 32 free once arrived, at 200 ms a row
	clk.now = clk.now.Add(130 * time.Millisecond)
	if busy, _ := p.Busy(); !busy {
		t.Errorf("not busy with %d of 256 bytes held", p.Buffer().Fill)
	}
	clk.now = clk.now.Add(2 * time.Second)
	if busy, _ := p.Busy(); busy {
		t.Errorf("still busy once printed")
	}
	// Bytes within 50 ms of a wake byte are lost.
	p.Write([]byte{0xFF, 'x', '\n'})
	clk.now = clk.now.Add(time.Second)
	if b := p.Buffer(); b.Dropped != 2 {
		t.Errorf("%d bytes lost after the wake byte, want 2", b.Dropped)
	}
	p.SetUnplugged(true)
	if _, err := p.Busy(); !errors.Is(err, ErrUnplugged) {
		t.Errorf("Busy unplugged: %v", err)
	}
}

func FuzzSerialModel(f *testing.F) {
	f.Add(goldenStream(), uint8(3))
	f.Add([]byte{0xFF, 0x1B, '8', 0, 0, 0x1B, 'D', 4, 8, 0, 0x1D, 'a', 32, 0x12, '*', 3, 2, 1, 2, 3, 4, 5, 6}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		clk := &stepClock{now: time.Unix(0, 0)}
		p := NewPrinter(&PrinterOpts{Width: 60, MaxRows: 300, Serial: &SerialModel{Clock: clk, BufferSize: 160}})
		for i := 0; i < len(data); i += 7 {
			p.Write(data[i:min(i+7, len(data))])
			clk.now = clk.now.Add(time.Duration(step) * time.Millisecond)
			if b := p.Buffer(); b.Fill < 0 || b.Fill > b.Size || b.Peak > b.Size {
				t.Fatalf("buffer %+v", b)
			}
			p.Busy()
		}
		clk.now = clk.now.Add(24 * time.Hour)
		if b := p.Buffer(); b.Dropped+b.Fill > len(data) {
			t.Fatalf("buffer %+v after %d bytes", b, len(data))
		}
		p.Halt()
		if b := p.Buffer(); b.Fill != 0 {
			t.Fatalf("fill %d after Halt", b.Fill)
		}
	})
}
