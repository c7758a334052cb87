package barometer

import (
	"fmt"
	"image"
	"math"
	"strings"

	"tinkerbox/images/font"
	"tinkerbox/scenes/scene"
)

// Display views, cycled by a short press of A.
type viewKind uint8

const (
	viewPressure viewKind = iota
	viewSpark3
	viewSpark12
	viewSpark24
	viewTendency
	numViews
)

func (v viewKind) String() string {
	return [...]string{"pressure", "3h", "12h", "24h", "tendency"}[v]
}

// Sparkline brightness: the line itself full, the area under it dim, so the
// shape reads at a glance and the level is still visible.
const (
	sparkTop  = 255
	sparkFill = 48
	minSpan   = 4.0 // hPa: sensor noise must never look like a storm
)

// screen is what the display should show: everything render needs.
type screen struct {
	view     viewKind
	label    bool // show the view's label (just switched to a sparkline)
	failing  bool
	valid    bool
	report   Report
	spark    []Point // for sparkline views
	step     int     // scroll position
	inverted bool    // warning flash phase
	dim      uint8   // 255 = no dimming
}

// renderer draws screens; it caches the text scroller between frames.
type renderer struct {
	face   *font.Face
	text   string
	scroll *font.Scroller
}

func newRenderer() *renderer { return &renderer{face: font.Font3x5()} }

// text draws s centred, or scrolled by step when it is too wide.
func (r *renderer) drawText(dst *image.Gray, s string, step int) {
	if r.scroll == nil || s != r.text {
		r.text, r.scroll = s, font.NewScroller(r.face, s, scene.DisplayWidth, scene.DisplayHeight)
	}
	r.scroll.Frame(step%r.scroll.Len(), dst)
}

// render draws sc into dst (17x7 at the origin).
func (r *renderer) render(dst *image.Gray, sc *screen) {
	switch {
	case sc.failing:
		r.drawText(dst, "ERR", sc.step)
	case sc.label:
		r.drawText(dst, strings.ToUpper(sc.view.String()), sc.step)
	case sc.view == viewPressure:
		r.drawText(dst, pressureText(sc.report), sc.step)
	case sc.view == viewTendency:
		r.drawText(dst, tendencyText(sc.report), sc.step)
	default:
		drawSpark(dst, sc.spark)
	}
	if sc.inverted {
		for i, v := range dst.Pix {
			dst.Pix[i] = 255 - v
		}
	}
	if sc.dim < 255 {
		d := uint32(sc.dim)
		for i, v := range dst.Pix {
			dst.Pix[i] = uint8((uint32(v)*d + 127) / 255)
		}
	}
}

// pressureText is the sea-level pressure in whole hPa: "1013" fits the
// display in the 3x5 face.
func pressureText(r Report) string {
	if !r.Valid {
		return "----"
	}
	return fmt.Sprintf("%.0f", hpa(r.SeaLevel))
}

// tendencyText is an arrow and the 3-hour change in hPa, e.g. "↓3.2".
func tendencyText(r Report) string {
	if !r.Valid || !r.TendencyKnown {
		return "→--"
	}
	d := math.Round(hpa(r.Change3h)*10) / 10
	arrow := "→"
	switch {
	case d >= 0.1:
		arrow = "↑"
	case d <= -0.1:
		arrow = "↓"
	}
	return fmt.Sprintf("%s%.1f", arrow, math.Abs(d))
}

// drawSpark draws one column per point (up to the display width), autoscaled
// with a minimum span; gaps stay dark.
func drawSpark(dst *image.Gray, pts []Point) {
	clear(dst.Pix)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if !p.Gap() {
			v := hpa(p.Mean)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		return // no data at all
	}
	if hi-lo < minSpan {
		mid := (hi + lo) / 2
		lo, hi = mid-minSpan/2, mid+minSpan/2
	}
	const rows = scene.DisplayHeight
	for x, p := range pts {
		if x >= scene.DisplayWidth {
			break
		}
		if p.Gap() {
			continue
		}
		level := int(math.Round((hpa(p.Mean) - lo) / (hi - lo) * (rows - 1)))
		level = min(max(level, 0), rows-1)
		top := rows - 1 - level
		dst.Pix[top*dst.Stride+x] = sparkTop
		for y := top + 1; y < rows; y++ {
			dst.Pix[y*dst.Stride+x] = sparkFill
		}
	}
}
