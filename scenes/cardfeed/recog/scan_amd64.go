package recog

import "golang.org/x/sys/cpu"

// popcntScan says whether nextBelow's POPCNT loop may run. Go checks the
// CPU before each math/bits count on amd64's baseline (GOAMD64=v1), which
// takes a register and a branch a word: the scan ran at half speed.
var popcntScan = cpu.X86.HasPOPCNT

// nextBelow is in scan_amd64.s.
//
//go:noescape
func nextBelow(hashes [][8]uint64, q *[8]uint64, below int) (i, d int)
