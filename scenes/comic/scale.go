package comic

import (
	"image"
)

// Scaling is integer throughout: a Pi Zero's ARM1176 has no hardware
// divide and slow floating point, and golang.org/x/image/draw's kernels are
// float64 (the print render spent most of its time in them).
//
// A resize is separable: each axis is a table of taps (the source pixels an
// output pixel is made of, with weights summing to 1<<weightBits), applied
// across the rows, then down the columns. Shrinking averages the area an
// output pixel covers (a box filter of the exact footprint: the right
// filter for line art going to a dithered printer); enlarging is bilinear.

const weightBits = 12

// taps is one axis of a resize: output i is the sum of src[first[i]+t] *
// w[off[i]+t] for t below off[i+1]-off[i].
type taps struct {
	first []int32
	off   []int32
	w     []int32
	most  int // the most taps of an output
}

// axisTaps is the resize of n source pixels to m. The source may be a
// reduction by level of a master of full pixels (n is then full/level,
// rounded up, its last pixel the mean of what was left): the footprints
// are the master's, so a reduction draws where the master would.
func axisTaps(n, m, level, full int) taps {
	t := taps{first: make([]int32, m), off: make([]int32, m+1)}
	const one = 1 << weightBits
	if level <= 1 || full <= 0 {
		level, full = 1, n
	}
	for i := range m {
		start := len(t.w)
		if m <= full {
			// Output i covers [i*full, (i+1)*full) in units of 1/m master
			// pixel; source j covers [j*level*m, min((j+1)*level, full)*m).
			lo, hi := i*full, (i+1)*full
			span := level * m
			j0, j1 := lo/span, min((hi-1)/span, n-1)
			t.first[i] = int32(j0)
			sum := 0
			for j := j0; j <= j1; j++ {
				ov := min(hi, min((j+1)*level, full)*m) - max(lo, j*span)
				w := (ov*one + full/2) / full
				t.w = append(t.w, int32(w))
				sum += w
			}
			t.fix(start, one-sum)
		} else {
			// The output pixel's centre in source pixels, in 1/(2m) units:
			// (i+½)·n/m − ½.
			c := (2*i+1)*n - m
			j0 := c / (2 * m)
			frac := ((c - j0*2*m) * one) / (2 * m)
			if c < 0 {
				j0, frac = 0, 0
			}
			switch {
			case j0 >= n-1:
				t.first[i] = int32(n - 1)
				t.w = append(t.w, one)
			case frac == 0:
				t.first[i] = int32(j0)
				t.w = append(t.w, one)
			default:
				t.first[i] = int32(j0)
				t.w = append(t.w, int32(one-frac), int32(frac))
			}
		}
		t.off[i+1] = int32(len(t.w))
		t.most = max(t.most, len(t.w)-start)
	}
	return t
}

// fix adds d to the largest weight from start, so the weights sum to one
// exactly: a flat area stays flat.
func (t *taps) fix(start, d int) {
	big := start
	for k := start; k < len(t.w); k++ {
		if t.w[k] > t.w[big] {
			big = k
		}
	}
	t.w[big] += int32(d)
}

// from is what a resize's source is: a reduction by level of a master of
// size full (level 1: the master itself).
type from struct {
	level int
	full  image.Point
}

// resizeAlpha returns src resized to w×h.
func resizeAlpha(src *image.Alpha, w, h int, f from) *image.Alpha {
	dst := image.NewAlpha(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw == w && sh == h && f.level <= 1 {
		for y := range h {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+w], src.Pix[y*src.Stride:y*src.Stride+w])
		}
		return dst
	}
	resize(src.Pix, src.Stride, sw, sh, dst.Pix, dst.Stride, w, h, 1, f)
	return dst
}

// resizeRGBA returns src (premultiplied) resized to w×h.
func resizeRGBA(src *image.RGBA, w, h int, f from) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if sw == w && sh == h && f.level <= 1 {
		for y := range h {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], src.Pix[y*src.Stride:y*src.Stride+4*w])
		}
		return dst
	}
	resize(src.Pix, src.Stride, sw, sh, dst.Pix, dst.Stride, w, h, 4, f)
	return dst
}

// resize filters ch-channel pixels (origin at the start of sp and dp). The
// rows across are kept in a ring as long as the tallest tap down: the
// source is read once, and the working memory is a few rows, not a copy.
func resize(sp []uint8, sstride, sw, sh int, dp []uint8, dstride, w, h, ch int, f from) {
	tx, ty := axisTaps(sw, w, f.level, f.full.X), axisTaps(sh, h, f.level, f.full.Y)
	ring := make([][]uint32, ty.most)
	for i := range ring {
		ring[i] = make([]uint32, w*ch)
	}
	var sum []uint32 // for outputs of more than two rows
	if ty.most > 2 {
		sum = make([]uint32, w*ch)
	}
	next := 0 // the next source row to filter across
	for y := range h {
		first, o, e := int(ty.first[y]), int(ty.off[y]), int(ty.off[y+1])
		for ; next < first+e-o; next++ {
			across(sp[next*sstride:], ring[next%len(ring)], &tx, ch)
		}
		out := dp[y*dstride : y*dstride+w*ch]
		// Each pass is scaled by one<<weightBits: 255 at most, rounded.
		const shift, half = 2 * weightBits, 1 << (2*weightBits - 1)
		r0, w0 := ring[first%len(ring)][:len(out)], uint32(ty.w[o])
		switch e - o {
		case 1:
			for i, v := range r0 {
				out[i] = uint8((v*w0 + half) >> shift)
			}
		case 2:
			r1, w1 := ring[(first+1)%len(ring)][:len(out)], uint32(ty.w[o+1])
			for i, v := range r0 {
				out[i] = uint8((v*w0 + r1[i]*w1 + half) >> shift)
			}
		default:
			clear(sum)
			for k := o; k < e; k++ {
				wt := uint32(ty.w[k])
				row := ring[(first+k-o)%len(ring)][:len(out)]
				for i, v := range row {
					sum[i] += v * wt
				}
			}
			for i, v := range sum {
				out[i] = uint8((v + half) >> shift)
			}
		}
	}
}

// across filters one source row into out (w·ch values, weighted sums).
// Most outputs are of two or three taps: those are unrolled, and every
// slice is cut to its length first, so the loops check no bounds.
func across(row []uint8, out []uint32, tx *taps, ch int) {
	first, off, wt := tx.first, tx.off[:len(tx.first)+1], tx.w
	if ch == 1 {
		out = out[:len(first)]
		for i, f := range first {
			ws := wt[off[i]:off[i+1]]
			src := row[f:][:len(ws)]
			switch len(ws) {
			case 1:
				out[i] = uint32(src[0]) * uint32(ws[0])
			case 2:
				out[i] = uint32(src[0])*uint32(ws[0]) + uint32(src[1])*uint32(ws[1])
			case 3:
				out[i] = uint32(src[0])*uint32(ws[0]) + uint32(src[1])*uint32(ws[1]) + uint32(src[2])*uint32(ws[2])
			default:
				var s uint32
				for k, v := range src {
					s += uint32(v) * uint32(ws[k])
				}
				out[i] = s
			}
		}
		return
	}
	out = out[:4*len(first)]
	for i, f := range first {
		ws := wt[off[i]:off[i+1]]
		src := row[4*f:][:4*len(ws)]
		var r, g, b, a uint32
		for k, w := range ws {
			p := src[4*k : 4*k+4 : 4*k+4]
			r += uint32(p[0]) * uint32(w)
			g += uint32(p[1]) * uint32(w)
			b += uint32(p[2]) * uint32(w)
			a += uint32(p[3]) * uint32(w)
		}
		o := out[4*i : 4*i+4 : 4*i+4]
		o[0], o[1], o[2], o[3] = r, g, b, a
	}
}

// premultiplied is src as premultiplied RGBA at the origin (the colour
// scaled by the alpha, rounded as image/draw does), so that averaging
// does not let transparent pixels darken an edge.
func premultiplied(src *image.NRGBA) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		s := src.Pix[y*src.Stride : y*src.Stride+4*w]
		d := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for i := 0; i < len(s); i += 4 {
			a := uint32(s[i+3])
			switch a {
			case 0xff:
				copy(d[i:i+4], s[i:i+4])
			case 0:
				// Left at zero.
			default:
				// v·a/255, rounded, without a divide.
				for c := range 3 {
					v := uint32(s[i+c])*a + 128
					d[i+c] = uint8((v + v>>8) >> 8)
				}
				d[i+3] = uint8(a)
			}
		}
	}
	return dst
}
