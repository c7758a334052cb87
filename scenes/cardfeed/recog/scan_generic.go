//go:build !amd64

package recog

// popcntScan: only amd64 has the assembly loop.
const popcntScan = false

// nextBelow is scan_amd64.s's loop in Go (firstBelow's own loop runs instead).
func nextBelow(hashes [][8]uint64, q *[8]uint64, below int) (i, d int) {
	for i := range hashes {
		if d := hammingCount(&hashes[i], q); d < below {
			return i, d
		}
	}
	return len(hashes), 0
}
