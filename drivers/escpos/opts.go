package escpos

import (
	"fmt"
	"time"
)

// Profile is the printer's command dialect.
type Profile uint8

const (
	// Generic printers take `GS v 0` raster images (most USB receipt printers).
	Generic Profile = iota
	// Adafruit is the CSN-A2 family: `DC2 *` bitmaps (≤ 255 rows, ≤ 48 bytes
	// wide), heat and density settings at init.
	Adafruit
)

func (p Profile) String() string {
	switch p {
	case Generic:
		return "generic"
	case Adafruit:
		return "adafruit"
	}
	return fmt.Sprintf("Profile(%d)", uint8(p))
}

// Algorithm is how grey levels become black and white dots.
type Algorithm uint8

const (
	// FloydSteinberg error diffusion: the best tonal range, the default.
	FloydSteinberg Algorithm = iota
	// Atkinson diffuses only 3/4 of the error: more contrast, cleaner whites,
	// loved for line art and faces on thermal paper.
	Atkinson
	// Bayer is an ordered 8x8 dither: regular cross-hatch, no worms, robust
	// when the head smears neighbouring dots.
	Bayer
	// Threshold at 50 %: for text and line art only.
	Threshold
)

func (a Algorithm) String() string {
	switch a {
	case FloydSteinberg:
		return "floyd-steinberg"
	case Atkinson:
		return "atkinson"
	case Bayer:
		return "bayer"
	case Threshold:
		return "threshold"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// Heat is the CSN-A2 `ESC 7 n1 n2 n3` setting.
type Heat struct {
	Dots     uint8 // max heating dots, in units of 8 dots, minus one (n1)
	Time     uint8 // heating time in 10 µs (n2, ≥ 3): longer is darker but slower
	Interval uint8 // heating interval in 10 µs (n3): longer is clearer but slower
}

// Clock is what the package needs of time; scene.Clock and fakeclock.Clock
// satisfy it.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Limits.
const (
	// MaxBandRows keeps raster commands far from the 4095-row ceiling some
	// firmwares mishandle.
	MaxBandRows = 1024
	// MaxWidth is the widest head supported (80 mm heads are 576 dots).
	MaxWidth = 2048
	// adafruitMaxWidth is 48 bytes: the CSN-A2 head.
	adafruitMaxWidth = 384
	// adafruitMaxRows is the `DC2 *` row count limit (one byte).
	adafruitMaxRows = 255
	// maxPixels bounds the source image Print accepts (≈ a 67 Mpx photo).
	maxPixels = 1 << 26
)

// Opts configures a Dev and the Dither/Encode helpers. Zero fields take their
// defaults, so &Opts{Width: 576} is valid.
type Opts struct {
	// Width of the head in dots: 384 (58 mm), 576 or 512 (80 mm). Any width
	// from 1 to MaxWidth works: rows are padded to whole bytes with white.
	Width   int
	Profile Profile
	Dither  Algorithm
	// Gamma > 1 lightens mid-tones (thermal prints tend to come out dark),
	// < 1 darkens. 0 means 1.
	Gamma float64
	// Contrast scales around mid-grey: > 1 more, < 1 less. 0 means 1.
	Contrast float64
	// BandRows is the height of one raster command; 0 means 256 (255 on
	// Adafruit). At most MaxBandRows.
	BandRows int
	// FeedLines fed after a print (`ESC d n`) so the image clears the tear bar.
	FeedLines int
	// Cut sends `GS V 66 0` after the feed. Only for printers with a cutter.
	Cut bool

	// Heat, Density and BreakTime are sent at init by the Adafruit profile.
	// A zero Heat means {Dots: 11, Time: 120, Interval: 40}; Density is
	// 50 % + 5 % × n (1..31, 0 means 10 = 100 %); BreakTime is n × 250 µs
	// (0..7, 0 means 2).
	Heat      Heat
	Density   uint8
	BreakTime uint8
	// DTR makes the Adafruit init send `GS a 32`, after which the printer
	// raises its DTR pin while busy; read it with SerialOpts.Busy.
	DTR bool

	// StatusTimeout bounds Status; 0 means 2 s.
	StatusTimeout time.Duration
	// Clock for timeouts; nil means the system clock.
	Clock Clock
}

// DefaultOpts returns the options for a 58 mm generic printer: 384 dots,
// Floyd–Steinberg, 3 lines of feed, no cut.
func DefaultOpts() *Opts {
	return &Opts{
		Width:     384,
		Profile:   Generic,
		Dither:    FloydSteinberg,
		Gamma:     1,
		Contrast:  1,
		BandRows:  256,
		FeedLines: 3,
	}
}

// normalized fills defaults and validates.
func (o *Opts) normalized() (Opts, error) {
	var n Opts
	if o == nil {
		n = *DefaultOpts()
	} else {
		n = *o
	}
	if n.Width == 0 {
		n.Width = 384
	}
	if n.Width < 1 || n.Width > MaxWidth {
		return n, fmt.Errorf("escpos: width %d dots out of range 1..%d", n.Width, MaxWidth)
	}
	switch n.Profile {
	case Generic, Adafruit:
	default:
		return n, fmt.Errorf("escpos: unknown profile %d", n.Profile)
	}
	switch n.Dither {
	case FloydSteinberg, Atkinson, Bayer, Threshold:
	default:
		return n, fmt.Errorf("escpos: unknown dither algorithm %d", n.Dither)
	}
	if n.Gamma == 0 {
		n.Gamma = 1
	}
	if n.Contrast == 0 {
		n.Contrast = 1
	}
	if !(n.Gamma > 0 && n.Gamma <= 10) {
		return n, fmt.Errorf("escpos: gamma %g out of range (0, 10]", n.Gamma)
	}
	if !(n.Contrast > 0 && n.Contrast <= 10) {
		return n, fmt.Errorf("escpos: contrast %g out of range (0, 10]", n.Contrast)
	}
	if n.BandRows == 0 {
		n.BandRows = 256
	}
	if n.BandRows < 1 || n.BandRows > MaxBandRows {
		return n, fmt.Errorf("escpos: band of %d rows out of range 1..%d", n.BandRows, MaxBandRows)
	}
	if n.FeedLines < 0 || n.FeedLines > 255 {
		return n, fmt.Errorf("escpos: feed of %d lines out of range 0..255", n.FeedLines)
	}
	if n.Profile == Adafruit {
		if n.Width > adafruitMaxWidth {
			return n, fmt.Errorf("escpos: the adafruit profile prints at most %d dots, not %d", adafruitMaxWidth, n.Width)
		}
		if n.Cut {
			return n, fmt.Errorf("escpos: the adafruit profile has no cutter")
		}
		if n.BandRows > adafruitMaxRows {
			n.BandRows = adafruitMaxRows
		}
		if n.Heat == (Heat{}) {
			n.Heat = Heat{Dots: 11, Time: 120, Interval: 40}
		}
		if n.Heat.Time < 3 {
			return n, fmt.Errorf("escpos: heating time %d below the minimum 3 (30 µs)", n.Heat.Time)
		}
		if n.Density == 0 {
			n.Density = 10
		}
		if n.Density > 31 {
			return n, fmt.Errorf("escpos: density %d out of range 0..31", n.Density)
		}
		if n.BreakTime == 0 {
			n.BreakTime = 2
		}
		if n.BreakTime > 7 {
			return n, fmt.Errorf("escpos: break time %d out of range 0..7", n.BreakTime)
		}
	} else if n.DTR {
		return n, fmt.Errorf("escpos: the dtr busy line is an adafruit profile feature")
	}
	if n.StatusTimeout == 0 {
		n.StatusTimeout = 2 * time.Second
	}
	if n.StatusTimeout < 0 {
		return n, fmt.Errorf("escpos: negative status timeout %v", n.StatusTimeout)
	}
	if n.Clock == nil {
		n.Clock = systemClock{}
	}
	return n, nil
}
