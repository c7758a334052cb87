package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"sync"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// CameraOpts configures a Camera.
type CameraOpts struct {
	Width, Height int   // pixels, 16..4096
	FPS           int   // frames per second of clock time, 1..120
	Quality       int   // JPEG quality, 1..100
	Clock         Clock // nil is the wall clock
}

// DefaultCameraOpts matches the rpicam-vid settings used on a Pi Zero.
func DefaultCameraOpts() CameraOpts { return CameraOpts{Width: 640, Height: 480, FPS: 15, Quality: 75} }

// ErrCameraBusy is returned by Stream while another Stream runs: the real
// camera can be opened by one process only.
var ErrCameraBusy = errors.New("sim: camera busy")

// Camera is a synthetic camera: a moving scene with the clock time burnt in,
// or whatever picture SetPicture installs (the card under the lens).
type Camera struct {
	opts CameraOpts
	clk  Clock

	mu        sync.Mutex
	picture   func(t time.Time) image.Image
	failErr   error
	failSig   chan struct{} // wakes a running Stream for FailNext
	stop      chan struct{} // closed by Halt; per Stream
	streaming bool
	frames    uint64

	renderMu sync.Mutex   // the buffers below belong to one render at a time
	bg       *image.YCbCr // synthetic background, drawn once
	img      *image.YCbCr // synthetic frame
	pic      *image.RGBA  // SetPicture frame
	mask     *image.Alpha
	buf      bytes.Buffer
}

// NewCamera returns a camera. Zero fields of opts take the defaults; invalid
// values are reported by Stream and Snapshot.
func NewCamera(opts *CameraOpts) *Camera {
	o := DefaultCameraOpts()
	if opts != nil {
		if opts.Width != 0 {
			o.Width = opts.Width
		}
		if opts.Height != 0 {
			o.Height = opts.Height
		}
		if opts.FPS != 0 {
			o.FPS = opts.FPS
		}
		if opts.Quality != 0 {
			o.Quality = opts.Quality
		}
		o.Clock = opts.Clock
	}
	o.Clock = orSystem(o.Clock)
	return &Camera{opts: o, clk: o.Clock, failSig: make(chan struct{}, 1)}
}

func (c *Camera) String() string {
	return fmt.Sprintf("sim.Camera(%dx%d@%d)", c.opts.Width, c.opts.Height, c.opts.FPS)
}

func (c *Camera) validate() error {
	o := c.opts
	switch {
	case o.Width < 16 || o.Width > 4096 || o.Height < 16 || o.Height > 4096:
		return fmt.Errorf("sim: camera: size %dx%d outside 16..4096", o.Width, o.Height)
	case o.FPS < 1 || o.FPS > 120:
		return fmt.Errorf("sim: camera: %d fps outside 1..120", o.FPS)
	case o.Quality < 1 || o.Quality > 100:
		return fmt.Errorf("sim: camera: quality %d outside 1..100", o.Quality)
	}
	return nil
}

// SetPicture replaces the synthetic scene by f(t), drawn at the frame's
// origin and cropped or padded (black) to the frame size. A nil f, or f
// returning nil, restores the synthetic scene.
func (c *Camera) SetPicture(f func(t time.Time) image.Image) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.picture = f
}

// FailNext makes the running Stream, or the next one if none runs, return err
// (for restart tests). A nil err cancels a pending failure.
func (c *Camera) FailNext(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failErr = err
	if err != nil {
		select {
		case c.failSig <- struct{}{}:
		default:
		}
	}
}

// Frames is the number of frames rendered so far.
func (c *Camera) Frames() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// Halt ends a running Stream with an error wrapping ErrHalted.
func (c *Camera) Halt() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streaming && c.stop != nil {
		close(c.stop)
		c.stop = nil
	}
	return nil
}

func (c *Camera) takeFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.failErr
	c.failErr = nil
	return err
}

// Stream emits one JPEG at once and then one every 1/FPS of clock time until
// ctx ends (it returns ctx.Err()), Halt is called, or a failure injected with
// FailNext. emit owns the slice it gets. A frame that takes longer than the
// interval delays the next one rather than bunching frames up.
func (c *Camera) Stream(ctx context.Context, emit func(jpeg []byte)) error {
	if emit == nil {
		return errors.New("sim: camera: nil emit func")
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.streaming {
		c.mu.Unlock()
		return ErrCameraBusy
	}
	c.streaming = true
	stop := make(chan struct{})
	c.stop = stop
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.streaming = false
		c.stop = nil
		c.mu.Unlock()
	}()

	interval := time.Second / time.Duration(c.opts.FPS)
	next := c.clk.Now()
	var tick <-chan time.Time // nil: the first frame goes out at once
	for {
		if tick != nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-stop:
				return fmt.Errorf("sim: camera: stream: %w", ErrHalted)
			case <-c.failSig:
				if err := c.takeFailure(); err != nil {
					return err
				}
				continue // cancelled failure: wait for the same tick again
			case <-tick:
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return fmt.Errorf("sim: camera: stream: %w", ErrHalted)
		case <-c.failSig:
			if err := c.takeFailure(); err != nil {
				return err
			}
		default:
		}
		frame, err := c.render(c.clk.Now())
		if err != nil {
			return err
		}
		emit(frame)
		now := c.clk.Now()
		if next = next.Add(interval); next.Before(now) {
			next = now
		}
		tick = c.clk.After(next.Sub(now))
	}
}

// Snapshot renders one frame at the clock's current time.
func (c *Camera) Snapshot() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c.render(c.clk.Now())
}

// render draws the frame for t and returns its JPEG in a fresh slice.
func (c *Camera) render(t time.Time) ([]byte, error) {
	c.mu.Lock()
	c.frames++
	seq := c.frames
	pic := c.picture
	c.mu.Unlock()

	var src image.Image
	if pic != nil {
		src = pic(t) // outside the locks: it may be slow
	}

	c.renderMu.Lock()
	defer c.renderMu.Unlock()
	r := image.Rect(0, 0, c.opts.Width, c.opts.Height)
	var frame image.Image
	if src != nil {
		if c.pic == nil {
			c.pic = image.NewRGBA(r)
		}
		draw.Draw(c.pic, r, image.Black, image.Point{}, draw.Src)
		draw.Draw(c.pic, r, src, src.Bounds().Min, draw.Src)
		frame = c.pic
	} else {
		if c.img == nil {
			// 4:2:0 like the camera's MJPEG: the encoder takes it without
			// colour conversion, a quarter of the encoding time.
			c.img = image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
			c.bg = image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
			drawBackground(c.bg)
		}
		c.drawScene(t, seq)
		frame = c.img
	}
	c.buf.Reset()
	if err := jpeg.Encode(&c.buf, frame, &jpeg.Options{Quality: c.opts.Quality}); err != nil {
		return nil, fmt.Errorf("sim: camera: encode: %w", err)
	}
	return bytes.Clone(c.buf.Bytes()), nil
}

// ycc is a colour in the frame's colour space.
type ycc struct{ y, cb, cr uint8 }

func rgb(r, g, b uint8) ycc {
	y, cb, cr := color.RGBToYCbCr(r, g, b)
	return ycc{y, cb, cr}
}

// drawBackground paints a textured wall once: colour gradients, a tiled grid
// and hashed grain, so the JPEG has detail like a real camera image.
func drawBackground(img *image.YCbCr) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g := int(hashUnit(uint64(y), int64(x)) * 10)
			r := 70 + 90*x/w + g
			gr := 80 + 60*y/h + g
			b := 120 - 50*x/w + 40*y/h + g
			if x%40 < 2 || y%40 < 2 {
				r, gr, b = r-35, gr-35, b-35
			}
			if (x/40+y/40)%2 == 0 {
				r, gr, b = r+12, gr+12, b+12
			}
			c := rgb(clamp8(r), clamp8(gr), clamp8(b))
			img.Y[img.YOffset(x, y)] = c.y
			if x%2 == 0 && y%2 == 0 {
				o := img.COffset(x, y)
				img.Cb[o], img.Cr[o] = c.cb, c.cr
			}
		}
	}
}

func clamp8(v int) uint8 { return uint8(max(0, min(255, v))) }

// drawScene draws the synthetic scene for time t: shapes moving over the
// background, the time and the frame number.
func (c *Camera) drawScene(t time.Time, seq uint64) {
	img := c.img
	copy(img.Y, c.bg.Y)
	copy(img.Cb, c.bg.Cb)
	copy(img.Cr, c.bg.Cr)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	// Phase in seconds within a minute keeps float precision.
	s := float64(t.UnixNano()%int64(time.Minute)) / 1e9
	unit := min(w, h)

	// A ball bouncing left and right, a square on a diagonal, a bar sweeping down.
	bx := triangleWave(s/4) * float64(w-unit/5)
	fillCircle(img, int(bx)+unit/10, h/3, unit/10, rgb(230, 60, 40))
	sx := triangleWave(s/6) * float64(w-unit/6)
	sy := triangleWave(s/5) * float64(h-unit/6)
	fillRect(img, image.Rect(int(sx), int(sy), int(sx)+unit/6, int(sy)+unit/6), rgb(250, 210, 40))
	by := triangleWave(s/3) * float64(h-unit/30)
	fillRect(img, image.Rect(w/2, int(by), w/2+w/3, int(by)+unit/30), rgb(40, 200, 90))

	scale := max(1, unit/120)
	c.drawText(t.Format("15:04:05.000"), 8*scale/2, h-8*scale/2-13*scale, scale)
	c.drawText(fmt.Sprintf("#%06d", seq), 8*scale/2, 8*scale/2, max(1, scale*2/3))
}

// triangleWave maps x to 0..1..0 with period 1.
func triangleWave(x float64) float64 {
	f := x - math.Floor(x)
	if f < 0.5 {
		return 2 * f
	}
	return 2 - 2*f
}

// chromaRect is r in chroma-sample coordinates (4:2:0: half resolution).
func chromaRect(r image.Rectangle) image.Rectangle {
	return image.Rect(r.Min.X/2, r.Min.Y/2, (r.Max.X+1)/2, (r.Max.Y+1)/2)
}

func fillRect(img *image.YCbCr, r image.Rectangle, c ycc) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Y[img.YOffset(r.Min.X, y):][:r.Dx()]
		for i := range row {
			row[i] = c.y
		}
	}
	cr := chromaRect(r)
	for y := cr.Min.Y; y < cr.Max.Y; y++ {
		o := img.COffset(2*cr.Min.X, 2*y)
		cb, crr := img.Cb[o:][:cr.Dx()], img.Cr[o:][:cr.Dx()]
		for i := range cb {
			cb[i], crr[i] = c.cb, c.cr
		}
	}
}

func fillCircle(img *image.YCbCr, cx, cy, rad int, c ycc) {
	for dy := -rad; dy <= rad; dy++ {
		dx := 0
		for (dx+1)*(dx+1)+dy*dy <= rad*rad {
			dx++
		}
		fillRect(img, image.Rect(cx-dx, cy+dy, cx+dx+1, cy+dy+1), c)
	}
}

// drawText draws s in basicfont scaled up by scale at (x, y) (top left), white
// on a darkened box so it reads on any background.
func (c *Camera) drawText(s string, x, y, scale int) {
	tw, th := len(s)*glyphAdvance, 13
	if c.mask == nil || c.mask.Rect.Dx() < tw {
		c.mask = image.NewAlpha(image.Rect(0, 0, tw, th))
	}
	m := c.mask
	clear(m.Pix)
	d := font.Drawer{Dst: m, Src: image.Opaque, Face: basicfont.Face7x13, Dot: fixed.P(0, 11)}
	d.DrawString(s)

	img := c.img
	box := image.Rect(x-scale*2, y-scale*2, x+tw*scale+scale*2, y+th*scale+scale*2).Intersect(img.Rect)
	if box.Empty() {
		return
	}
	for yy := box.Min.Y; yy < box.Max.Y; yy++ {
		row := img.Y[img.YOffset(box.Min.X, yy):][:box.Dx()]
		for i := range row {
			row[i] /= 3
		}
	}
	cb := chromaRect(box)
	for yy := cb.Min.Y; yy < cb.Max.Y; yy++ {
		o := img.COffset(2*cb.Min.X, 2*yy)
		for i := o; i < o+cb.Dx(); i++ {
			img.Cb[i] = 128 + uint8((int(img.Cb[i])-128)/3)
			img.Cr[i] = 128 + uint8((int(img.Cr[i])-128)/3)
		}
	}
	white := ycc{255, 128, 128}
	for gy := 0; gy < th; gy++ {
		for gx := 0; gx < tw; gx++ {
			if m.Pix[gy*m.Stride+gx] >= 128 {
				fillRect(img, image.Rect(x+gx*scale, y+gy*scale, x+(gx+1)*scale, y+(gy+1)*scale), white)
			}
		}
	}
}
