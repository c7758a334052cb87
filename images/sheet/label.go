package sheet

// run is a horizontal stretch of pixels [x0, x1) on row y.
type run struct {
	y, x0, x1 int32
	dark      uint8 // ink only: the run's darkest pixel
}

// labeler finds connected components as runs, row by row, joining each run
// to the runs of the row above that it touches (union-find). Its memory and
// work go with the number of runs, not pixels: a few per stroke and row.
type labeler struct {
	diag     int32 // 1: 8-connected (diagonal neighbours touch), 0: 4-connected
	runs     []run
	parent   []int32
	prev     [2]int // the previous row's runs
	row      int    // where the current row's runs start
	lastY    int32
	started  bool
	scanFrom int
}

func newLabeler(eight bool) *labeler {
	l := &labeler{}
	if eight {
		l.diag = 1
	}
	return l
}

func (l *labeler) find(i int32) int32 {
	for l.parent[i] != i {
		l.parent[i] = l.parent[l.parent[i]]
		i = l.parent[i]
	}
	return i
}

// add appends a run; runs must come in row order and, within a row, left to
// right.
func (l *labeler) add(y, x0, x1 int, dark uint8) {
	if !l.started || int32(y) != l.lastY {
		if l.started && int32(y) == l.lastY+1 {
			l.prev = [2]int{l.row, len(l.runs)}
		} else {
			l.prev = [2]int{len(l.runs), len(l.runs)} // a gap: nothing above
		}
		l.row, l.scanFrom, l.lastY, l.started = len(l.runs), l.prev[0], int32(y), true
	}
	r := run{int32(y), int32(x0), int32(x1), dark}
	id := int32(len(l.runs))
	l.runs = append(l.runs, r)
	l.parent = append(l.parent, id)
	for l.scanFrom < l.prev[1] && l.runs[l.scanFrom].x1+l.diag <= r.x0 {
		l.scanFrom++
	}
	for k := l.scanFrom; k < l.prev[1] && l.runs[k].x0 < r.x1+l.diag; k++ {
		if a, b := l.find(int32(k)), l.find(id); a != b {
			l.parent[max(a, b)] = min(a, b)
		}
	}
}

// addMask adds the runs of row y of a mask.
func (l *labeler) addMask(y int, row []bool) {
	for x := 0; x < len(row); {
		if !row[x] {
			x++
			continue
		}
		x0 := x
		for x < len(row) && row[x] {
			x++
		}
		l.add(y, x0, x, 0)
	}
}

// components numbers the components 0..n-1 and returns each run's.
func (l *labeler) components() (comp []int32, n int) {
	comp = make([]int32, len(l.runs))
	for i := range l.runs {
		// Unions keep the smaller index as the root, so a root comes
		// before the runs it holds and is numbered when it is reached.
		if root := l.find(int32(i)); root == int32(i) {
			comp[i] = int32(n)
			n++
		} else {
			comp[i] = comp[root]
		}
	}
	return comp, n
}

// maskRuns labels the 4-connected components of a w × h mask.
func maskRuns(mask []bool, w, h int) ([]run, []int32, int) {
	l := newLabeler(false)
	for y := 0; y < h; y++ {
		l.addMask(y, mask[y*w:(y+1)*w])
	}
	comp, n := l.components()
	return l.runs, comp, n
}
