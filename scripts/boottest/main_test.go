package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// card writes a sparse card image with an MBR and the EBRs given:
// tables[lba] are the four entries {type, start, size} of the partition
// table in sector lba.
func card(t *testing.T, tables map[int64][][3]uint32) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "card.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for lba, entries := range tables {
		b := make([]byte, 512)
		for i, e := range entries {
			b[446+16*i+4] = byte(e[0])
			binary.LittleEndian.PutUint32(b[446+16*i+8:], e[1])
			binary.LittleEndian.PutUint32(b[446+16*i+12:], e[2])
		}
		b[510], b[511] = 0x55, 0xaa
		if _, err := f.WriteAt(b, lba*512); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestPartitionFollowsTheEBRChain(t *testing.T) {
	mbr := [][3]uint32{{0x0c, 8192, 73728}, {0x0c, 81920, 131072}, {0x0c, 212992, 131072}, {0x0f, 344064, 1105920}}
	want := map[int][2]int64{ // partition: start, size in sectors
		1: {8192, 73728}, 2: {81920, 131072}, 3: {212992, 131072}, 4: {344064, 1105920},
		5: {352256, 524288}, 6: {884736, 524288}, 7: {1417216, 32768},
	}
	for name, tables := range map[string]map[int64][][3]uint32{
		// As genimage writes it: each EBR 4 MiB before its partition.
		"genimage": {
			0:       mbr,
			344064:  {{0x83, 8192, 524288}, {0x0f, 532480, 532480}},
			876544:  {{0x83, 8192, 524288}, {0x0f, 1064960, 40960}},
			1409024: {{0x83, 8192, 32768}},
		},
		// As parted rewrites it after S05data's resizepart: EBRs moved.
		"parted": {
			0:       mbr,
			344064:  {{0x83, 8192, 524288}, {0x05, 539511, 525449}},
			883575:  {{0x83, 1161, 524288}, {0x05, 1069656, 36992}},
			1413720: {{0x83, 3496, 32768}},
		},
	} {
		c := card(t, tables)
		for n, w := range want {
			off, size, err := partition(c, n)
			if err != nil || off != w[0]*512 || size != w[1]*512 {
				t.Errorf("%s: partition %d: %d+%d, %v; want %d+%d", name, n, off/512, size/512, err, w[0], w[1])
			}
		}
		if _, _, err := partition(c, 8); err == nil {
			t.Errorf("%s: partition 8 found on a card with 7", name)
		}
	}
}
