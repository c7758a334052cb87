package sim

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ESC/POS control bytes the decoder knows.
const (
	bEOT = 0x04
	bLF  = 0x0A
	bCR  = 0x0D
	bDLE = 0x10
	bDC2 = 0x12
	bESC = 0x1B
	bGS  = 0x1D
)

const (
	textLineDots = 24 // dots per text line and per ESC d unit
	textSpacing  = 6  // dots fed after a text line (Adafruit: lineSpacing)
	glyphAdvance = 7  // basicfont.Face7x13 is fixed width
	textBaseline = 17 // 13-dot glyphs centred in a 24-dot line
	maxErrors    = 64 // decode errors kept (most recent)
	maxStatus    = 64 // queued DLE EOT answers
	maxDC2Bytes  = 48 // Adafruit/CSN-A2 bitmap rows are at most 384 dots
	maxTabStops  = 32 // ESC D n1 … nk NUL, k ≤ 32
	bWake        = 0xFF
)

// Printer faults. Write and Read return errors wrapping them.
var (
	ErrPaperOut  = errors.New("sim: printer paper out")
	ErrUnplugged = errors.New("sim: printer unplugged")
	// ErrNoStatus is returned by Read when no DLE EOT answer is queued: a real
	// printer sends nothing unless asked, and io.Reader forbids (0, nil).
	ErrNoStatus = errors.New("sim: printer has no status byte queued")
)

// PrinterOpts configures a Printer.
type PrinterOpts struct {
	Width   int // paper width in dots (58 mm = 384, 80 mm = 576)
	MaxRows int // dot rows kept on the roll; the oldest are dropped beyond it

	// Serial, if set, makes the printer a CSN-A2 on a UART with no flow
	// control: bytes take wire time, wait in a finite receive buffer and
	// leave it only as the head gets through them; bytes arriving into a
	// full buffer, or within 50 ms of a wake byte, are lost (the roll shows
	// the garbage a real printer makes of it). Nil: the printer takes
	// everything at once, as over USB where the kernel holds the writer back.
	Serial *SerialModel
}

// SerialModel is the timing of a serial printer. Zero fields take the
// CSN-A2 figures Adafruit's library uses.
type SerialModel struct {
	Clock      Clock         // drives the model; nil: the system clock
	Baud       int           // 10 bits a byte on the wire; 0: 19200
	BufferSize int           // receive buffer in bytes; 0: 256
	LineTime   time.Duration // one dot line at ESC 7 11 120 40, density 10, break 2; 0: 30 ms
	FeedTime   time.Duration // one dot line of paper feed; 0: 2.1 ms
}

// BufferStats is the serial model's receive buffer.
type BufferStats struct {
	Size    int // capacity in bytes
	Fill    int // bytes received and not yet processed, now
	Peak    int // the most it has held
	Dropped int // bytes lost: arrived into a full buffer or while waking
	// Finished is when the head is through everything received so far.
	Finished time.Time
}

// DefaultPrinterOpts is a 58 mm printer with about 2.5 m of roll kept.
func DefaultPrinterOpts() PrinterOpts { return PrinterOpts{Width: 384, MaxRows: 20000} }

// PrinterStats counts what the decoder has seen since the Printer was made.
type PrinterStats struct {
	Inits, Cuts, Rasters, Bitmaps, Feeds, TextLines int
	Heat                                            [3]byte // last ESC 7 n1 n2 n3
	Density                                         byte    // last DC2 # n
	DecodeErrors                                    int     // all of them; Errors keeps the latest
}

type decodeState uint8

const (
	stText decodeState = iota // text and command prefixes
	stCmd                     // collecting a command header
	stData                    // raster / bitmap payload
)

// Printer is a thermal printer that decodes the real ESC/POS byte stream into
// a paper roll. The decoder is streaming: a command may be split across any
// number of Write calls, as it is on a serial link.
type Printer struct {
	mu       sync.Mutex
	width    int
	rowBytes int
	lastMask byte // valid bits of a row's last byte (clips dots beyond the paper)
	maxRows  int

	roll  []byte // packed dot rows, 1 = black, MSB = leftmost; live rows start at row `start`
	start int

	state  decodeState
	cmd    [2 + maxTabStops + 1]byte // longest header: ESC D with every tab stop and its NUL
	ncmd   int
	cmdOff int64 // stream offset of the command being collected
	off    int64 // bytes decoded so far

	dataWidth int // bytes per incoming payload row
	dataRows  int // payload rows still to come
	dataCol   int // bytes of the current payload row seen

	line    []byte // pending text
	lineImg *image.Gray
	runes   []rune

	status    []byte
	errs      []string
	stats     PrinterStats
	paperOut  bool
	unplugged bool
	version   uint64

	serial *serialModel  // nil: no timing
	work   time.Duration // head time of what the last decoded byte completed
}

// NewPrinter returns an empty printer. Zero or nil options take the defaults.
func NewPrinter(opts *PrinterOpts) *Printer {
	o := DefaultPrinterOpts()
	if opts != nil {
		if opts.Width > 0 {
			o.Width = opts.Width
		}
		if opts.MaxRows > 0 {
			o.MaxRows = opts.MaxRows
		}
	}
	p := &Printer{
		width:    o.Width,
		rowBytes: (o.Width + 7) / 8,
		lastMask: 0xFF,
		maxRows:  o.MaxRows,
		lineImg:  image.NewGray(image.Rect(0, 0, o.Width, textLineDots)),
	}
	if r := o.Width % 8; r != 0 {
		p.lastMask = byte(0xFF << (8 - r))
	}
	if opts != nil && opts.Serial != nil {
		p.serial = newSerialModel(*opts.Serial)
	}
	return p
}

func (p *Printer) String() string { return fmt.Sprintf("sim.Printer(%d dots)", p.width) }

// Width is the paper width in dots.
func (p *Printer) Width() int { return p.width }

// Halt leaves the printer idle: a half-received command or text line is dropped,
// as when the link is reset. The roll is kept.
func (p *Printer) Halt() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = stText
	p.ncmd = 0
	p.line = p.line[:0]
	if m := p.serial; m != nil {
		// The reset empties the receive buffer and what was on its way.
		p.advance(m.clock.Now())
		m.wire, m.held, m.open, m.fill = m.wire[:0], m.held[:0], 0, 0
	}
	p.version++
	return nil
}

// Write feeds the ESC/POS stream to the printer. Bytes are always consumed
// whole unless the printer is unplugged or out of paper; undecodable input is
// recorded (see Errors) and skipped, never returned as an error, because a real
// printer does not report it either.
//
// While out of paper the printer is offline: a write made only of real-time
// status requests (DLE EOT n) is still answered, anything else is refused with
// an error wrapping ErrPaperOut and nothing is printed.
func (p *Printer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unplugged {
		return 0, fmt.Errorf("%w: write of %d bytes failed", ErrUnplugged, len(b))
	}
	if p.paperOut && !(p.state == stText && onlyStatusRequests(b)) {
		return 0, fmt.Errorf("%w: write of %d bytes refused", ErrPaperOut, len(b))
	}
	if len(b) == 0 {
		return 0, nil
	}
	if p.serial != nil {
		// The bytes go on the wire; they are decoded as they arrive.
		p.advance(p.serial.clock.Now())
		p.serial.send(b)
		return len(b), nil
	}
	p.decode(b)
	p.version++
	return len(b), nil
}

func onlyStatusRequests(b []byte) bool {
	if len(b) == 0 || len(b)%3 != 0 {
		return false
	}
	for i := 0; i < len(b); i += 3 {
		if b[i] != bDLE || b[i+1] != bEOT {
			return false
		}
	}
	return true
}

// Read returns queued answers to DLE EOT n status requests, oldest first, or
// (0, ErrNoStatus) when none is queued.
func (p *Printer) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	if p.unplugged {
		return 0, fmt.Errorf("%w: read failed", ErrUnplugged)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if len(p.status) == 0 {
		return 0, ErrNoStatus
	}
	n := copy(b, p.status)
	p.status = p.status[:copy(p.status, p.status[n:])]
	return n, nil
}

// SetPaperOut injects (or clears) the paper-out fault.
func (p *Printer) SetPaperOut(out bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paperOut != out {
		p.paperOut = out
		p.version++
	}
}

// SetUnplugged injects (or clears) a lost USB/serial link.
func (p *Printer) SetUnplugged(unplugged bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unplugged != unplugged {
		p.unplugged = unplugged
		p.version++
	}
}

// PaperOut reports the injected paper-out fault.
func (p *Printer) PaperOut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paperOut
}

// Unplugged reports the injected unplugged fault.
func (p *Printer) Unplugged() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unplugged
}

// ClearRoll tears off the paper: the roll becomes empty. Stats are kept.
func (p *Printer) ClearRoll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roll = p.roll[:0]
	p.start = 0
	p.version++
}

// Version increases on every change, so a UI can poll it cheaply.
func (p *Printer) Version() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	return p.version
}

// Stats returns the decoder's counters.
func (p *Printer) Stats() PrinterStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	return p.stats
}

// Errors returns the most recent decode errors, oldest first.
func (p *Printer) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	return append([]string(nil), p.errs...)
}

// Rows is the number of dot rows on the roll.
func (p *Printer) Rows() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	return p.rows()
}

// Roll returns a copy of the roll: Width wide, one row per printed dot line,
// 255 white and 0 black. An empty roll has zero height.
func (p *Printer) Roll() *image.Gray {
	return p.RollTail(-1)
}

// RollTail is Roll limited to the newest n rows (n < 0: all of them), for a
// front panel that shows the paper coming out.
func (p *Printer) RollTail(n int) *image.Gray {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	rows := p.rows()
	if n < 0 || n > rows {
		n = rows
	}
	img := image.NewGray(image.Rect(0, 0, p.width, n))
	first := p.start + rows - n
	for y := 0; y < n; y++ {
		src := p.roll[(first+y)*p.rowBytes:][:p.rowBytes]
		dst := img.Pix[y*img.Stride:][:p.width]
		for x := range dst {
			if src[x>>3]&(0x80>>(x&7)) != 0 {
				dst[x] = 0
			} else {
				dst[x] = 255
			}
		}
	}
	return img
}

// WritePNG writes the roll as a 1-bit PNG. An empty roll is one white row, as
// PNG has no empty images.
func (p *Printer) WritePNG(w io.Writer) error {
	g := p.Roll()
	h := g.Bounds().Dy()
	if h == 0 {
		h = 1
	}
	img := image.NewPaletted(image.Rect(0, 0, p.width, h), color.Palette{color.Gray{Y: 255}, color.Gray{Y: 0}})
	for i, v := range g.Pix {
		if v == 0 {
			img.Pix[i] = 1
		}
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("sim: printer: encode png: %w", err)
	}
	return nil
}

func (p *Printer) rows() int { return len(p.roll)/p.rowBytes - p.start }

// addRows appends n white rows and returns them; the oldest rows beyond
// MaxRows are dropped.
func (p *Printer) addRows(n int) []byte {
	if n > p.maxRows {
		n = p.maxRows // the rest would be dropped at once
	}
	if over := p.rows() + n - p.maxRows; over > 0 {
		p.start += over
	}
	// Compact when the dropped prefix is as large as the live roll: amortised O(1).
	if p.start > 0 && p.start >= p.rows() {
		live := p.roll[p.start*p.rowBytes:]
		p.roll = p.roll[:copy(p.roll, live)]
		p.start = 0
	}
	old := len(p.roll)
	add := n * p.rowBytes
	if cap(p.roll)-old < add {
		grown := make([]byte, old, 2*old+add)
		copy(grown, p.roll)
		p.roll = grown
	}
	p.roll = p.roll[:old+add]
	fresh := p.roll[old:]
	clear(fresh)
	return fresh
}

func (p *Printer) errorf(format string, args ...any) {
	p.stats.DecodeErrors++
	msg := fmt.Sprintf("sim: printer: byte %d: ", p.cmdOff) + fmt.Sprintf(format, args...)
	if len(p.errs) == maxErrors {
		p.errs = p.errs[:copy(p.errs, p.errs[1:])]
	}
	p.errs = append(p.errs, msg)
}

func (p *Printer) decode(b []byte) {
	for i := 0; i < len(b); {
		switch p.state {
		case stData:
			n := p.payload(b[i:])
			i += n
			p.off += int64(n)
		case stCmd:
			p.cmd[p.ncmd] = b[i]
			p.ncmd++
			i++
			p.off++
			need, ok := headerLen(p.cmd[:p.ncmd])
			if !ok {
				p.errorf("unknown command % X", p.cmd[:p.ncmd])
				p.state = stText
			} else if p.ncmd >= need {
				p.state = stText
				p.exec(p.cmd[:p.ncmd])
			}
		default:
			c := b[i]
			i++
			p.off++
			switch {
			case c == bESC || c == bGS || c == bDC2 || c == bDLE:
				p.state = stCmd
				p.cmd[0] = c
				p.ncmd = 1
				p.cmdOff = p.off - 1
			case c == bLF:
				p.printLine()
			case c == bWake:
				// Wakes a sleeping CSN-A2; nothing is printed.
				if p.serial != nil {
					p.serial.woken()
				}
			case c >= 0x20 && c != 0x7F:
				if len(p.line) >= max(1, p.width/glyphAdvance) {
					p.printLine() // the line is full: wrap like the real head
				}
				p.line = append(p.line, c)
			default:
				// CR and other C0 controls have no effect on these printers.
			}
		}
	}
}

// headerLen returns the full header length of the command begun in c, as far
// as the bytes so far tell, or false for an unknown command.
func headerLen(c []byte) (int, bool) {
	if len(c) < 2 {
		return 2, true
	}
	switch c[0] {
	case bESC:
		switch c[1] {
		case '@':
			return 2, true
		case 'd', 'J', 'a', 'E', '!':
			return 3, true
		case '7':
			return 5, true
		case '8': // sleep after n1 + 256·n2 s (firmware ≥ 2.64)
			return 4, true
		case 'D': // tab stops, up to a NUL
			if len(c) > 2 && c[len(c)-1] == 0 {
				return len(c), true
			}
			if len(c) >= 2+maxTabStops+1 {
				return 0, false
			}
			return len(c) + 1, true
		}
	case bGS:
		switch c[1] {
		case 'v':
			if len(c) >= 3 && c[2] != '0' {
				return 0, false
			}
			return 8, true
		case 'V':
			if len(c) < 3 {
				return 3, true
			}
			switch c[2] {
			case 0, 1, 48, 49:
				return 3, true
			case 65, 66:
				return 4, true
			}
		case 'a': // automatic status back; bit 5 drives DTR on the CSN-A2
			return 3, true
		}
	case bDC2:
		switch c[1] {
		case '*':
			return 4, true
		case '#':
			return 3, true
		}
	case bDLE:
		if c[1] == bEOT {
			return 3, true
		}
	}
	return 0, false
}

func (p *Printer) exec(c []byte) {
	switch c[0] {
	case bESC:
		switch c[1] {
		case '@': // initialise: the print buffer is cleared
			p.line = p.line[:0]
			p.stats.Inits++
		case 'd':
			p.printPending()
			p.addRows(int(c[2]) * textLineDots)
			p.feed(int(c[2]) * textLineDots)
			p.stats.Feeds++
		case 'J':
			p.printPending()
			p.addRows(int(c[2]))
			p.feed(int(c[2]))
			p.stats.Feeds++
		case '7':
			copy(p.stats.Heat[:], c[2:5])
			if p.serial != nil {
				p.serial.heat.dots, p.serial.heat.time, p.serial.heat.interval = c[2], c[3], c[4]
			}
		}
		// ESC a (justify), ESC E (bold), ESC ! (mode), ESC 8 (sleep
		// timer) and ESC D (tab stops) are accepted and ignored.
	case bGS:
		switch c[1] {
		case 'v':
			if m := c[3]; m > 3 && (m < 48 || m > 51) {
				p.errorf("GS v 0: bad mode %d, printed unscaled", m)
			}
			p.printPending()
			p.stats.Rasters++
			p.startPayload(int(c[4])|int(c[5])<<8, int(c[6])|int(c[7])<<8)
		case 'V':
			p.printPending()
			if len(c) == 4 {
				p.addRows(int(c[3]))
				p.feed(int(c[3]))
			}
			p.cut()
		case 'a':
			if p.serial != nil {
				p.serial.dtr = c[2]&0x20 != 0
			}
		}
	case bDC2:
		switch c[1] {
		case '*':
			if c[3] > maxDC2Bytes {
				p.errorf("DC2 *: %d bytes per row exceeds %d, clipped", c[3], maxDC2Bytes)
			}
			p.printPending()
			p.stats.Bitmaps++
			p.startPayload(int(c[3]), int(c[2]))
		case '#':
			p.stats.Density = c[2]
			if p.serial != nil {
				p.serial.heat.density, p.serial.heat.breakTime = c[2]&0x1F, c[2]>>5
			}
		}
	case bDLE:
		p.realtimeStatus(c[2])
	}
}

// realtimeStatus answers DLE EOT n with Epson's fixed bits (0x12) plus the
// fault bits of the paper-out state.
func (p *Printer) realtimeStatus(n byte) {
	var s byte
	switch n {
	case 1: // printer status: bit 3 offline
		s = 0x16
		if p.paperOut {
			s = 0x1E
		}
	case 2: // offline cause: bit 5 stopped by paper end
		s = 0x12
		if p.paperOut {
			s = 0x32
		}
	case 3: // error cause: none simulated
		s = 0x12
	case 4: // roll paper sensor: bits 2-3 near end, 5-6 end
		s = 0x12
		if p.paperOut {
			s = 0x72
		}
	default:
		p.errorf("DLE EOT: bad function %d", n)
		return
	}
	if len(p.status) >= maxStatus {
		p.errorf("DLE EOT: %d answers unread, dropped", len(p.status))
		return
	}
	p.status = append(p.status, s)
}

func (p *Printer) startPayload(widthBytes, rows int) {
	if widthBytes == 0 || rows == 0 {
		return
	}
	p.state = stData
	p.dataWidth = widthBytes
	p.dataRows = rows
	p.dataCol = 0
}

// payload consumes raster/bitmap bytes a row at a time and returns how many
// it took.
func (p *Printer) payload(b []byte) int {
	n := min(len(b), p.dataWidth-p.dataCol)
	if p.dataCol == 0 {
		p.addRows(1)
	}
	if p.dataCol < p.rowBytes {
		row := p.roll[len(p.roll)-p.rowBytes:]
		copy(row[p.dataCol:], b[:n])
		row[p.rowBytes-1] &= p.lastMask
	}
	p.dataCol += n
	if p.dataCol == p.dataWidth {
		p.printed(1)
		p.dataCol = 0
		p.dataRows--
		if p.dataRows == 0 {
			p.state = stText
		}
	}
	return n
}

// printPending prints a text line that has not been ended with LF yet, as
// ESC/POS print-and-feed commands do.
func (p *Printer) printPending() {
	if len(p.line) > 0 {
		p.printLine()
	}
}

// printLine renders the pending text as one 24-dot line.
func (p *Printer) printLine() {
	p.stats.TextLines++
	rows := p.addRows(textLineDots)
	if len(p.line) == 0 {
		p.feed(textLineDots + textSpacing)
		return
	}
	p.printed(textLineDots)
	p.feed(textSpacing)
	img := p.lineImg
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	// Bytes above 0x7F are taken as Latin-1, which basicfont covers.
	p.runes = p.runes[:0]
	for _, c := range p.line {
		p.runes = append(p.runes, rune(c))
	}
	d := font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(0, textBaseline)}
	d.DrawString(string(p.runes))
	p.line = p.line[:0]
	if len(rows) < textLineDots*p.rowBytes {
		return // MaxRows smaller than a text line: nothing sensible to draw
	}
	for y := 0; y < textLineDots; y++ {
		src := img.Pix[y*img.Stride:][:p.width]
		dst := rows[y*p.rowBytes:][:p.rowBytes]
		for x, v := range src {
			if v < 128 {
				dst[x>>3] |= 0x80 >> (x & 7)
			}
		}
	}
}

// cut draws the cut as a dashed row.
func (p *Printer) cut() {
	p.stats.Cuts++
	p.feed(1)
	row := p.addRows(1)
	for i := 0; i < len(row); i += 2 {
		row[i] = 0xFF
	}
	row[len(row)-1] &= p.lastMask
}

// Buffer returns the serial model's receive buffer, or zeros without one.
func (p *Printer) Buffer() BufferStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advanceNow()
	if p.serial == nil {
		return BufferStats{}
	}
	m := p.serial
	done := m.head
	if done.Before(m.lastByte) {
		done = m.lastByte
	}
	return BufferStats{Size: m.size, Fill: m.fill, Peak: m.peak, Dropped: m.dropped, Finished: done}
}

// Busy is the printer's DTR output as the serial model drives it: once
// `GS a 32` has enabled it, high while fewer than dtrRoom bytes are free.
// Undriven (no serial model, or not enabled) it reads as ready.
func (p *Printer) Busy() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unplugged {
		return false, fmt.Errorf("%w: busy line floating", ErrUnplugged)
	}
	p.advanceNow()
	m := p.serial
	if m == nil || !m.dtr {
		return false, nil
	}
	return m.size-m.fill < dtrRoom, nil
}

// dtrRoom is how much room the model's printer keeps when it raises DTR. The
// CSN-A2 manual gives no figure; a writer that looks at the line before
// every 16 bytes it sends (as escpos does) needs at least that.
const dtrRoom = 32

// wakeTime is how long a CSN-A2 takes to wake: the CSN-A2 manual and
// Adafruit's wake() ask for 50 ms before the next command.
const wakeTime = 50 * time.Millisecond

// modelHeat is what the printer was told with ESC 7 and DC2 #.
type modelHeat struct {
	dots, time, interval uint8 // ESC 7 n1 n2 n3
	density, breakTime   uint8 // DC2 # n: bits 4..0 and 7..5
}

// Power-on settings per Adafruit's notes on ESC 7 (7, 80 = 800 µs, 2 = 20 µs),
// and the settings at which Adafruit measured its 30 ms dot line.
var (
	powerOnHeat  = modelHeat{dots: 7, time: 80, interval: 2, density: 10, breakTime: 2}
	adafruitHeat = modelHeat{dots: 11, time: 120, interval: 40, density: 10, breakTime: 2}
)

// headWidthDots is the CSN-A2 head.
const headWidthDots = 384

// heating is the time the head spends heating one all-black dot line: it
// fires (n1+1)·8 dots at a time for n2·10 µs scaled by the density
// (50 % + 5 % × n), rests n3·10 µs between groups, and breaks for
// n·250 µs at the end of the line.
func (h modelHeat) heating() time.Duration {
	perGroup := (int(h.dots) + 1) * 8
	groups := (headWidthDots + perGroup - 1) / perGroup
	fire := time.Duration(h.time) * 10 * time.Microsecond * time.Duration(50+5*int(h.density)) / 100
	rest := time.Duration(h.interval) * 10 * time.Microsecond
	return time.Duration(groups)*(fire+rest) + time.Duration(h.breakTime)*250*time.Microsecond
}

// serialModel is the printer's UART, receive buffer and head timing.
type serialModel struct {
	clock    Clock
	byteTime time.Duration
	size     int
	line     time.Duration // a dot line at adafruitHeat
	feedTime time.Duration
	heat     modelHeat
	dtr      bool

	wire      []byte    // written, still on the wire
	wireStart time.Time // when the first byte of wire started
	lastByte  time.Time // when the last byte arrived
	now       time.Time // how far the model has run
	head      time.Time // when the head finishes the work accepted so far
	asleep    time.Time // bytes arriving before this are lost (waking)
	held      []heldBytes
	open      int // bytes accepted whose work is not complete yet
	fill      int
	peak      int
	dropped   int
}

// heldBytes are bytes in the buffer that leave it at free.
type heldBytes struct {
	n    int
	free time.Time
}

func newSerialModel(o SerialModel) *serialModel {
	if o.Baud <= 0 {
		o.Baud = 19200
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 256
	}
	if o.LineTime <= 0 {
		o.LineTime = 30 * time.Millisecond
	}
	if o.FeedTime <= 0 {
		o.FeedTime = 2100 * time.Microsecond
	}
	return &serialModel{
		clock:    orSystem(o.Clock),
		byteTime: time.Duration(10 * int64(time.Second) / int64(o.Baud)),
		size:     o.BufferSize,
		line:     o.LineTime,
		feedTime: o.FeedTime,
		heat:     powerOnHeat,
	}
}

// lineTime is one printed dot line under the current settings: the
// measured line scaled by the heating time, faster or slower.
func (m *serialModel) lineTime() time.Duration {
	return time.Duration(int64(m.line) * int64(m.heat.heating()) / int64(adafruitHeat.heating()))
}

// send puts b on the wire after what is already there.
func (m *serialModel) send(b []byte) {
	if len(m.wire) == 0 {
		m.wireStart = m.now
		if m.lastByte.After(m.wireStart) {
			m.wireStart = m.lastByte
		}
	}
	m.wire = append(m.wire, b...)
}

// woken starts the wake-up: what arrives in the next wakeTime is lost.
func (m *serialModel) woken() { m.asleep = m.lastByte.Add(wakeTime) }

// release frees the bytes the head is done with by t.
func (m *serialModel) release(t time.Time) {
	i := 0
	for i < len(m.held) && !m.held[i].free.After(t) {
		m.fill -= m.held[i].n
		i++
	}
	m.held = m.held[:copy(m.held, m.held[i:])]
}

func (p *Printer) advanceNow() {
	if p.serial != nil {
		p.advance(p.serial.clock.Now())
	}
}

// advance runs the model to t: bytes arrive one by one, each into the buffer
// (or lost), and is decoded; the head frees what it has printed.
func (p *Printer) advance(t time.Time) {
	m := p.serial
	if t.Before(m.now) {
		return
	}
	m.now = t
	i := 0
	for ; i < len(m.wire); i++ {
		at := m.wireStart.Add(time.Duration(i+1) * m.byteTime)
		if at.After(t) {
			break
		}
		m.lastByte = at
		m.release(at)
		if at.Before(m.asleep) || m.fill >= m.size {
			m.dropped++
			continue
		}
		m.fill++
		m.peak = max(m.peak, m.fill)
		m.open++
		p.work = 0
		p.decode(m.wire[i : i+1])
		p.version++
		switch {
		case p.work > 0:
			start := m.head
			if start.Before(at) {
				start = at
			}
			m.head = start.Add(p.work)
			m.held = append(m.held, heldBytes{m.open, m.head})
			m.open = 0
		case p.state == stText && len(p.line) == 0:
			// A complete command: done when the head reaches it.
			free := m.head
			if free.Before(at) {
				free = at
			}
			m.held = append(m.held, heldBytes{m.open, free})
			m.open = 0
		}
	}
	if i > 0 {
		m.wireStart = m.wireStart.Add(time.Duration(i) * m.byteTime)
		m.wire = m.wire[:copy(m.wire, m.wire[i:])]
	}
	m.release(t)
}

// printed adds the head time of n printed dot lines.
func (p *Printer) printed(n int) {
	if p.serial != nil {
		p.work += time.Duration(n) * p.serial.lineTime()
	}
}

// feed adds the time of n dot lines of paper feed.
func (p *Printer) feed(n int) {
	if p.serial != nil {
		p.work += time.Duration(n) * p.serial.feedTime
	}
}
