package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
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

func TestAutoboot(t *testing.T) {
	shipped := []byte("[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n")
	for _, c := range []struct {
		txt      string
		tryboot  bool
		part     int
		ab, fail bool
	}{
		{string(shipped), false, 2, true, false},
		{string(shipped), true, 3, true, false},
		// What the updater writes on a commit to B, comments and all.
		{"# Written by tinkerbox\n[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n", false, 3, true, false},
		{"boot_partition=2\n[none]\nboot_partition=3\n", false, 2, false, false},
		{"[pi4]\nboot_partition=2\n", false, 0, false, true},
		{"boot_partition=5\n", false, 0, false, true},
	} {
		part, ab, err := autoboot([]byte(c.txt), c.tryboot)
		if (err != nil) != c.fail || part != c.part || ab != c.ab {
			t.Errorf("autoboot(%q, tryboot %v) = %d, %v, %v; want %d, %v, fails %v", c.txt, c.tryboot, part, ab, err, c.part, c.ab, c.fail)
		}
	}
}

func TestConfigTxt(t *testing.T) {
	cfg := []byte("[all]\nkernel=Image\narm_64bit=1\n[boot_partition=2]\ncmdline=cmdline-a.txt\n[boot_partition=3]\ncmdline=cmdline-b.txt\n" +
		"[all]\ndtparam=i2c_arm=on\n[pi3]\nkernel=zImage\n[pi4]\ngpu_mem=128\n[tryboot]\nkernel=new.img\n[all]\nenable_uart=1\n")
	for _, c := range []struct {
		part    int
		tryboot bool
		want    map[string]string
	}{
		{2, false, map[string]string{"kernel": "Image", "arm_64bit": "1", "cmdline": "cmdline-a.txt", "dtparam": "i2c_arm=on", "gpu_mem": "128", "enable_uart": "1"}},
		{3, false, map[string]string{"kernel": "Image", "arm_64bit": "1", "cmdline": "cmdline-b.txt", "dtparam": "i2c_arm=on", "gpu_mem": "128", "enable_uart": "1"}},
		{3, true, map[string]string{"kernel": "new.img", "arm_64bit": "1", "cmdline": "cmdline-b.txt", "dtparam": "i2c_arm=on", "gpu_mem": "128", "enable_uart": "1"}},
	} {
		got, err := configTxt(cfg, c.part, c.tryboot)
		if err != nil || len(got) != len(c.want) {
			t.Errorf("p%d tryboot %v: %v, %v; want %v", c.part, c.tryboot, got, err, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("p%d tryboot %v: %s=%q, want %q", c.part, c.tryboot, k, got[k], v)
			}
		}
	}
	if _, err := configTxt([]byte("[EDID=DEL-DELL_U2422H]\ncmdline=x.txt\n"), 2, false); err == nil {
		t.Error("an EDID filter was guessed at")
	}
}

func TestTrybootFlagIsOneShot(t *testing.T) {
	var f firmware
	if a := f.take(); a != (rebootArg{}) {
		t.Fatalf("a fresh firmware has flags %+v", a)
	}
	con := "The system is going down NOW!\n[   28.39] reboot: Restarting system with command '0 tryboot'\n"
	f.exited(con, true) // power cut after the message: the flag is lost
	if a := f.take(); a != (rebootArg{}) {
		t.Errorf("a power cut kept %+v", a)
	}
	f.exited(con, false)
	if a := f.take(); a != (rebootArg{tryboot: true}) {
		t.Errorf("after reboot \"0 tryboot\": %+v", a)
	}
	if a := f.take(); a != (rebootArg{}) {
		t.Errorf("the second boot still has %+v", a)
	}
	f.exited("reboot: Restarting system\n", false)
	if a := f.take(); a != (rebootArg{}) {
		t.Errorf("a plain reboot set %+v", a)
	}
	f.exited("reboot: Restarting system with command '3'\n", false)
	if a := f.take(); a != (rebootArg{partition: 3}) {
		t.Errorf("after reboot 3: %+v", a)
	}
	f.tryNext()
	if a := f.take(); a != (rebootArg{tryboot: true}) {
		t.Errorf("after tryNext: %+v", a)
	}
}

// The console interleaves getty's prompt, which has no newline, with the
// appliance's log: only an init script's error line counts.
func TestInitErrorLines(t *testing.T) {
	console := "Starting syslogd: OK\r\n" +
		"tinkerbox-data: recovering journal\r\n" +
		"Starting network: OK (lo, DHCP on eth0)\r\n" +
		"tinkerbox login: tinkerbox: time=2026-12-03T16:24:39.911Z level=WARN msg=\"device missing\" device=printer detail=\"/dev/usb/lp0 not found\"\r\n" +
		"tinkerbox: time=2026-12-03T16:24:39.917Z level=WARN msg=\"device missing\" device=camera detail=\"rpicam-vid is not installed\"\r\n" +
		"parted: udevadm: not found\r\n" +
		"tinkerbox login: S48ntpd: ERROR: no time source\r\n" +
		"Starting mdev: FAIL\r\n" +
		"mount: can't find /data\r\n"
	got := initErrorLines(console)
	want := []string{"S48ntpd: ERROR: no time source", "Starting mdev: FAIL", "mount: can't find /data"}
	if !slices.Equal(got, want) {
		t.Errorf("initErrorLines = %q, want %q", got, want)
	}
}
