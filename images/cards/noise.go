package cards

// fbm returns the w x h window at (x0, y0) of a field of fractal value
// noise in about [-1, 1]: octaves layers of smoothly interpolated random
// lattices, the first with cells of cell pixels, each next one half as
// coarse and half as strong. Lattice values hash their position, so windows
// of one field agree where they overlap: a card's art can be computed for
// the art box alone or for the whole borderless face. Lattices are
// upsampled row by row, which is what makes painting a face cheap.
func fbm(x0, y0, w, h int, cell float64, octaves int, seed uint64) []float32 {
	out := make([]float32, w*h)
	amp, norm := float32(1), float32(0)
	ix := make([]int, w)
	fx := make([]float32, w)
	for o := 0; o < octaves && cell >= 1; o++ {
		gw, gh := int(float64(x0+w)/cell)+3, int(float64(y0+h)/cell)+3
		g := make([]float32, gw*gh)
		ls := hash64(seed + uint64(o)*0x632be59bd9b4e019)
		for j := 0; j < gh; j++ {
			for i := 0; i < gw; i++ {
				g[j*gw+i] = float32(hash64(ls^uint64(j)<<32^uint64(i))>>40)/(1<<23) - 1
			}
		}
		// A random sub-cell phase keeps octaves' lattices from lining up.
		ox, oy := float64(ls>>11&1023)/1024, float64(ls>>23&1023)/1024
		for x := 0; x < w; x++ {
			t := float64(x0+x)/cell + ox
			i := int(t)
			ix[x], fx[x] = i, smooth(float32(t-float64(i)))
		}
		for y := 0; y < h; y++ {
			t := float64(y0+y)/cell + oy
			j := int(t)
			fy := smooth(float32(t - float64(j)))
			r0, r1 := g[j*gw:(j+1)*gw], g[(j+1)*gw:(j+2)*gw]
			row := out[y*w : (y+1)*w]
			for x := range row {
				i, f := ix[x], fx[x]
				a := r0[i] + (r0[i+1]-r0[i])*f
				b := r1[i] + (r1[i+1]-r1[i])*f
				row[x] += amp * (a + (b-a)*fy)
			}
		}
		norm += amp
		amp /= 2
		cell /= 2
	}
	if norm > 0 {
		k := 1.6 / norm // value noise sums rarely reach their bound: stretch a little
		for i := range out {
			out[i] *= k
		}
	}
	return out
}

func smooth(t float32) float32 { return t * t * (3 - 2*t) }

// hash64 mixes x into a well-spread 64-bit value (splitmix64).
func hash64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
