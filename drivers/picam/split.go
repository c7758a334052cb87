package picam

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrame caps one JPEG frame: a 640x480 MJPEG frame is 20–80 KB, so
// anything near 2 MB is a broken stream, not a picture.
const DefaultMaxFrame = 2 << 20

// JPEG marker bytes (ITU T.81 table B.1).
const (
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mRST0 = 0xD0
	mRST7 = 0xD7
	mTEM  = 0x01
)

type splitState uint8

const (
	stSearch  splitState = iota // looking for SOI
	stHeader                    // walking marker segments by their lengths
	stEntropy                   // inside entropy-coded scan data
)

// Splitter cuts an MJPEG byte stream (concatenated JPEGs, as rpicam-vid writes
// them) into frames by parsing JPEG markers. Segment payloads are skipped by
// their length, so SOI/EOI markers inside EXIF thumbnails do not split a frame.
// Frames larger than the cap, truncated frames and garbage are dropped and the
// splitter resynchronises at the next SOI.
type Splitter struct {
	r        io.Reader
	maxFrame int

	buf   []byte
	start int // first byte of the current frame (or of unscanned garbage)
	pos   int // parse position, absolute index into buf
	end   int // bytes valid in buf
	state splitState
	scan  bool // an SOS was seen in the current frame

	dropped uint64
	err     error // sticky read error
}

// NewSplitter returns a Splitter reading from r. maxFrame <= 0 means
// DefaultMaxFrame.
func NewSplitter(r io.Reader, maxFrame int) *Splitter {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	n := 64 << 10
	if n > maxFrame+readChunk {
		n = maxFrame + readChunk
	}
	return &Splitter{r: r, maxFrame: maxFrame, buf: make([]byte, n)}
}

// readChunk is the least free space offered to each Read: a pipe delivers up
// to 64 KB per read.
const readChunk = 32 << 10

// Dropped returns the number of frames discarded so far (too large,
// truncated or malformed).
func (s *Splitter) Dropped() uint64 { return s.dropped }

// Next returns the next complete frame, from its SOI to its EOI inclusive. The
// slice aliases the splitter's buffer and is valid only until the next call:
// copy it to keep it. At the end of the stream Next returns io.EOF (a partial
// last frame is dropped); read errors are returned wrapped.
func (s *Splitter) Next() ([]byte, error) {
	for {
		if f, ok := s.parse(); ok {
			return f, nil
		}
		if s.err != nil {
			if s.state != stSearch {
				s.dropped++ // a partial frame at the end of the stream
				s.state = stSearch
			}
			s.start, s.pos = s.end, s.end
			return nil, s.err
		}
		s.fill()
	}
}

// Split reads r to its end and calls emit with every frame; the slice is valid
// only during the call. It returns nil at the end of the stream.
func Split(r io.Reader, maxFrame int, emit func(jpeg []byte)) error {
	s := NewSplitter(r, maxFrame)
	for {
		f, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		emit(f)
	}
}

// fill reads more data, first making room: bytes before start are no longer
// needed, and a frame that has grown past the cap is given up.
func (s *Splitter) fill() {
	if s.state != stSearch && s.end-s.start > s.maxFrame {
		s.dropped++
		s.state = stSearch
		s.start = s.end
		if s.end > 0 && s.buf[s.end-1] == 0xFF {
			s.start-- // may be the first half of the next SOI
		}
		s.pos = s.start
	}
	if s.start > 0 && len(s.buf)-s.end < readChunk {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.pos -= s.start
		s.end = n
		s.start = 0
	}
	if len(s.buf)-s.end < readChunk {
		nb := make([]byte, max(2*len(s.buf), s.end+readChunk))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.err = io.EOF
			} else {
				s.err = fmt.Errorf("picam: read stream: %w", err)
			}
			return
		}
		if n > 0 {
			return
		}
	}
	s.err = fmt.Errorf("picam: read stream: %w", io.ErrNoProgress)
}

// parse advances the state machine over the buffered bytes. It returns a frame
// when one is complete, or false when it needs more data.
func (s *Splitter) parse() ([]byte, bool) {
	buf := s.buf[:s.end]
	for {
		switch s.state {
		case stSearch:
			for {
				i := bytes.IndexByte(buf[s.pos:], 0xFF)
				if i < 0 {
					s.pos = len(buf)
					s.start = s.pos
					return nil, false
				}
				p := s.pos + i
				if p+1 >= len(buf) {
					s.pos, s.start = p, p // keep the FF: it may begin an SOI
					return nil, false
				}
				if buf[p+1] == mSOI {
					s.begin(p)
					break
				}
				s.pos = p + 1
			}
		case stHeader:
			p := s.pos
			if p+1 >= len(buf) {
				return nil, false
			}
			if buf[p] != 0xFF {
				s.corrupt()
				continue
			}
			m := buf[p+1]
			switch {
			case m == 0xFF: // fill byte before a marker
				s.pos = p + 1
			case m == mSOI: // a new frame starts: the current one was cut short
				s.dropped++
				s.begin(p)
			case m == mEOI:
				if !s.scan {
					s.corrupt()
					continue
				}
				if f, ok := s.finish(p + 2); ok {
					return f, true
				}
			case m == mTEM || (m >= mRST0 && m <= mRST7):
				s.pos = p + 2
			case m == 0x00:
				s.corrupt()
			default:
				if p+3 >= len(buf) {
					return nil, false
				}
				n := int(buf[p+2])<<8 | int(buf[p+3])
				if n < 2 {
					s.corrupt()
					continue
				}
				s.pos = p + 2 + n
				if s.pos-s.start > s.maxFrame {
					s.oversize()
					continue
				}
				if m == mSOS {
					s.scan = true
					s.state = stEntropy
				}
			}
		case stEntropy:
			for {
				if s.pos >= len(buf) {
					return nil, false // still inside the SOS header
				}
				i := bytes.IndexByte(buf[s.pos:], 0xFF)
				if i < 0 {
					s.pos = len(buf)
					return nil, false
				}
				p := s.pos + i
				if p+1 >= len(buf) {
					s.pos = p
					return nil, false
				}
				m := buf[p+1]
				if m == 0x00 || (m >= mRST0 && m <= mRST7) {
					s.pos = p + 2
					continue
				}
				if m == 0xFF {
					s.pos = p + 1
					continue
				}
				if m == mEOI {
					if f, ok := s.finish(p + 2); ok {
						return f, true
					}
					break
				}
				if m == mSOI {
					s.dropped++
					s.begin(p)
					break
				}
				// Another segment (progressive JPEGs: DHT/SOS between scans).
				s.pos = p
				s.state = stHeader
				break
			}
		}
	}
}

func (s *Splitter) begin(p int) {
	s.start = p
	s.pos = p + 2
	s.state = stHeader
	s.scan = false
}

// finish ends the frame at e (exclusive); an oversized frame is dropped.
func (s *Splitter) finish(e int) ([]byte, bool) {
	f := s.buf[s.start:e:e]
	s.start, s.pos = e, e
	s.state = stSearch
	if len(f) > s.maxFrame {
		s.dropped++
		return nil, false
	}
	return f, true
}

// corrupt drops the current frame and searches for an SOI after its start: a
// bad length may have jumped over the next frame.
func (s *Splitter) corrupt() {
	s.dropped++
	s.state = stSearch
	s.pos = s.start + 1
}

// oversize drops a frame whose segments alone exceed the cap.
func (s *Splitter) oversize() {
	s.dropped++
	s.state = stSearch
	s.pos = s.start + 2
}
