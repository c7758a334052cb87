package recog

import (
	"image"
	"math/rand/v2"
	"reflect"
	"testing"

	"tinkerbox/images/cards"
)

// TestSums420 checks the outline search's sums from a 4:2:0 frame's planes
// against the sums of the frame converted to RGBA, on random planes with
// many pixels near black and white: within 2 of 1020 where no pixel
// clamps, and in range everywhere.
func TestSums420(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	src := image.NewYCbCr(image.Rect(0, 0, 66, 50), image.YCbCrSubsampleRatio420)
	clamps := 0
	for round := 0; round < 20; round++ {
		for _, p := range [][]uint8{src.Y, src.Cb, src.Cr} {
			for i := range p {
				switch v := rnd.IntN(256); {
				case round%2 == 0 && v < 64:
					p[i] = uint8(rnd.IntN(12))
				case round%2 == 0 && v < 128:
					p[i] = uint8(255 - rnd.IntN(12))
				default:
					p[i] = uint8(v)
				}
			}
		}
		rgba := image.NewRGBA(image.Rect(0, 0, 66, 50))
		from420(rgba, src)
		w, h := 33, 25
		var got [3][]int32
		for c := range got {
			got[c] = make([]int32, w*h)
		}
		half := make([]uint8, 4*w*h)
		for y := 0; y < h; y++ {
			sums420(got[0][y*w:(y+1)*w], got[1][y*w:(y+1)*w], got[2][y*w:(y+1)*w], half[4*y*w:4*(y+1)*w], src, y)
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				cb, cr := int32(src.Cb[y*src.CStride+x])-128, int32(src.Cr[y*src.CStride+x])-128
				for c, term := range []int32{91881 * cr, -22554*cb - 46802*cr, 116130 * cb} {
					var want int32
					clamped := false
					for _, o := range []int{2*y*src.YStride + 2*x, 2*y*src.YStride + 2*x + 1, (2*y+1)*src.YStride + 2*x, (2*y+1)*src.YStride + 2*x + 1} {
						v := int32(src.Y[o])*0x10101 + term
						clamped = clamped || v < 0 || v >= 1<<24
						want += int32(rgba.Pix[rgba.PixOffset(o%src.YStride, o/src.YStride)+c])
					}
					g := got[c][y*w+x]
					if g < 0 || g > 1020 {
						t.Fatalf("round %d block (%d, %d) channel %d: %d, out of 0..1020", round, x, y, c, g)
					}
					if clamped {
						clamps++
					} else if g < want-2 || g > want+2 {
						t.Fatalf("round %d block (%d, %d) channel %d: %d, converted %d", round, x, y, c, g, want)
					}
				}
			}
		}
	}
	if clamps == 0 {
		t.Fatal("no block clamped: the planes are not hard enough")
	}
}

// TestLazyFrame checks that Identify reads no pixel of a camera frame it
// has not converted: working memory filled with garbage where the frame's
// RGBA goes gives the very match of clean memory.
func TestLazyFrame(t *testing.T) {
	cs, es := demo()
	x := NewIndex(es, nil)
	rnd := rand.New(rand.NewPCG(11, 12))
	shots := []func(*rand.Rand, int, int) cards.Shot{feeder(cards.BedDark), feeder(cards.BedGrey), feeder(cards.BedLight), cards.PhoneShot}
	for k := 0; k < 12; k++ {
		w, h := 640, 480
		if k%4 == 3 {
			w, h = 800, 600
		}
		img := shoot(t, cards.Render(cs[rnd.IntN(len(cs))]), shots[k%4](rnd, w, h), w, h)
		if _, ok := img.(*image.YCbCr); !ok {
			t.Fatalf("the JPEG decodes to %T, not YCbCr", img)
		}
		want, werr := x.identify(img, new(scratch))
		for _, poison := range []uint8{0, 0xff, 0x5a} {
			sc := &scratch{rgba: make([]uint8, 4*w*h)}
			for i := range sc.rgba {
				sc.rgba[i] = poison ^ uint8(i*7)
			}
			got, err := x.identify(img, sc)
			if !reflect.DeepEqual(got, want) || (err == nil) != (werr == nil) {
				t.Fatalf("shot %d, poison %#x: %+v (%v), in clean memory %+v (%v)", k, poison, got, err, want, werr)
			}
		}
	}
}

// TestLazyFrameReads checks each outline's refinement and warp on its own:
// they read only what they convert, so working memory filled with garbage
// gives the very outlines and grids of the frame converted whole.
func TestLazyFrameReads(t *testing.T) {
	cs, _ := demo()
	rnd := rand.New(rand.NewPCG(13, 14))
	shots := []func(*rand.Rand, int, int) cards.Shot{feeder(cards.BedDark), feeder(cards.BedGrey), feeder(cards.BedLight)}
	read := func(img image.Image, sc *scratch, whole bool) ([]Quad, []grid) {
		fr := newFrame(img, sc)
		if whole {
			fr.needAll()
		}
		qs, scale, err := findQuads(fr, 3, sc)
		if err != nil {
			t.Fatal(err)
		}
		p, gs := newPyramid(fr), make([]grid, len(qs))
		for i := range qs {
			p.read(&qs[i], true, scale, &gs[i])
		}
		return qs, gs
	}
	for k := 0; k < 9; k++ {
		img := shoot(t, cards.Render(cs[rnd.IntN(len(cs))]), shots[k%3](rnd, 640, 480), 640, 480)
		wq, wg := read(img, new(scratch), true)
		sc := &scratch{rgba: make([]uint8, 4*640*480)}
		for i := range sc.rgba {
			sc.rgba[i] = uint8(i * 13)
		}
		gq, gg := read(img, sc, false)
		if !reflect.DeepEqual(gq, wq) {
			t.Fatalf("shot %d: outlines %v, converted whole %v", k, gq, wq)
		}
		for i := range gg {
			if gg[i] != wg[i] {
				t.Fatalf("shot %d outline %d: the grid differs from the frame converted whole", k, i)
			}
		}
	}
}

// TestHalfLevel checks the half-size frame the outline search hands the
// pyramid against the pyramid's own halving of the frame converted whole:
// the same pixels from an RGBA frame, within a level from a 4:2:0 one.
func TestHalfLevel(t *testing.T) {
	cs, _ := demo()
	rnd := rand.New(rand.NewPCG(15, 16))
	img := shoot(t, cards.Render(cs[rnd.IntN(len(cs))]), feeder(cards.BedGrey)(rnd, 640, 480), 640, 480)
	for _, src := range []image.Image{img, toRGBA(img)} {
		sc := new(scratch)
		fr := newFrame(src, sc)
		newFinder(fr, sc)
		if fr.half == nil {
			t.Fatalf("%T: no half-size frame", src)
		}
		whole := toRGBA(img)
		want := newPyramid(&frame{rgba: whole}).level(1)
		if fr.half.Rect != want.Rect {
			t.Fatalf("%T: half %v, level 1 %v", src, fr.half.Rect, want.Rect)
		}
		tol := 1
		if _, ok := src.(*image.RGBA); ok {
			tol = 0
		}
		// (Off by more only where a pixel clamps: TestSums420.)
		worst, off := 0, 0
		for i := range want.Pix {
			d := abs(int(fr.half.Pix[i]) - int(want.Pix[i]))
			worst = max(worst, d)
			if d > tol {
				off++
			}
		}
		t.Logf("%T: %d of %d values more than %d off, worst %d", src, off, len(want.Pix), tol, worst)
		if off*200 > len(want.Pix) || worst > 4*tol {
			t.Errorf("%T: %d values more than %d levels off level 1 (worst %d), want under 0.5 %% and ≤ %d", src, off, tol, worst, 4*tol)
		}
	}
}

func abs(v int) int { return max(v, -v) }
