package font

import "image"

// Scroller renders a line of text as marquee frames for a small display.
// Text that fits is centred and static; longer text scrolls left, followed by
// a gap, then repeats. Frames are pre-rendered at construction, so Frame is
// cheap and allocation-free.
type Scroller struct {
	width, height int
	top           int     // row of the glyphs' top, centring the face vertically
	textWidth     int     // Measure(text)
	strip         []uint8 // one column mask per pixel of text then gap
	fits          bool
}

// NewScroller prepares text in face for a width x height display. The gap
// between repetitions is half the display width, so the end of the text and
// the start of the next pass are both visible while it wraps. A nil face means
// Font5x7; negative sizes count as zero.
func NewScroller(face *Face, text string, width, height int) *Scroller {
	if face == nil {
		face = Font5x7()
	}
	width, height = max(width, 0), max(height, 0)
	s := &Scroller{
		width:     width,
		height:    height,
		top:       (height - face.Height()) / 2,
		textWidth: face.Measure(text),
	}
	s.fits = s.textWidth <= width
	gap := 0
	if !s.fits {
		gap = max(width/2, 1)
	}
	s.strip = make([]uint8, s.textWidth+gap)
	x := 0
	for _, r := range text {
		g := face.glyph(r)
		copy(s.strip[x:], g.cols)
		x += g.width() + 1
	}
	return s
}

// Fits reports whether the text fits the display (Frame ignores step then).
func (s *Scroller) Fits() bool { return s.fits }

// Len is the number of steps in one full scroll cycle (text plus gap); 1 when
// the text fits, so step%Len() is always safe.
func (s *Scroller) Len() int {
	if s.fits {
		return 1
	}
	return len(s.strip)
}

// Frame renders the text scrolled left by step pixels into dst (from its
// top-left corner, clipped to its bounds): lit pixels are 255, the rest 0.
// Any step is valid, negative steps scroll right.
func (s *Scroller) Frame(step int, dst *image.Gray) {
	if dst == nil || !grayOK(dst) {
		return
	}
	b := dst.Bounds()
	w, h := min(s.width, b.Dx()), min(s.height, b.Dy())
	for y := 0; y < h; y++ {
		row := dst.Pix[dst.PixOffset(b.Min.X, b.Min.Y+y):]
		clear(row[:w])
	}
	n := len(s.strip)
	if n == 0 {
		return
	}
	var start int
	if s.fits {
		start = -(s.width - s.textWidth) / 2
	} else {
		start = step % n
		if start < 0 {
			start += n
		}
	}
	for x := 0; x < w; x++ {
		i := start + x
		if s.fits {
			if i < 0 || i >= n {
				continue
			}
		} else if i >= n {
			i -= n
		}
		col := s.strip[i]
		for r := 0; col != 0; r, col = r+1, col>>1 {
			y := s.top + r
			if col&1 != 0 && y >= 0 && y < h {
				dst.Pix[dst.PixOffset(b.Min.X+x, b.Min.Y+y)] = 255
			}
		}
	}
}
