package update

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Slot is one half of the card: a boot partition and a root partition.
type Slot struct {
	Name string // "A" or "B"
	Boot int    // FAT partition the firmware boots
	Root int    // ext4 root the slot's cmdline names
}

// The card's two slots (see doc.go).
var (
	SlotA = Slot{Name: "A", Boot: 2, Root: 5}
	SlotB = Slot{Name: "B", Boot: 3, Root: 6}
)

// slotOfBoot returns the slot whose boot partition is n.
func slotOfBoot(n int) (Slot, bool) {
	switch n {
	case SlotA.Boot:
		return SlotA, true
	case SlotB.Boot:
		return SlotB, true
	}
	return Slot{}, false
}

func (s Slot) other() Slot {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

// Autoboot is what autoboot.txt on p1 says: the boot partition of a normal
// boot, and the one of a tryboot.
type Autoboot struct {
	Default int
	Tryboot int
}

// AutobootFile is autoboot.txt's name on p1.
const AutobootFile = "autoboot.txt"

// ParseAutoboot reads autoboot.txt the way the firmware does for the keys
// that matter here: boot_partition under [all] (and before any section)
// for a normal boot, under [tryboot] for a trial; tryboot_a_b must be 1.
func ParseAutoboot(b []byte) (Autoboot, error) {
	var a Autoboot
	section, ab := "all", false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		switch {
		case l == "":
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = strings.ToLower(l[1 : len(l)-1])
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				continue
			}
			switch strings.TrimSpace(k) {
			case "boot_partition":
				switch section {
				case "all":
					a.Default = n
				case "tryboot":
					a.Tryboot = n
				}
			case "tryboot_a_b":
				if section == "all" {
					ab = n == 1
				}
			}
		}
	}
	if _, ok := slotOfBoot(a.Default); !ok {
		return a, fmt.Errorf("update: autoboot.txt names boot partition %d under [all], not %d or %d", a.Default, SlotA.Boot, SlotB.Boot)
	}
	if _, ok := slotOfBoot(a.Tryboot); !ok || a.Tryboot == a.Default {
		return a, fmt.Errorf("update: autoboot.txt names boot partition %d under [tryboot], want the other slot's", a.Tryboot)
	}
	if !ab {
		return a, fmt.Errorf("update: autoboot.txt does not set tryboot_a_b=1")
	}
	return a, nil
}

// Format writes autoboot.txt for a committed slot.
func (a Autoboot) Format() []byte {
	return fmt.Appendf(nil, "# Written by tinkerbox: the Raspberry Pi firmware boots partition %d;\n"+
		"# reboot \"0 tryboot\" boots partition %d once. Do not edit.\n"+
		"[all]\ntryboot_a_b=1\nboot_partition=%d\n[tryboot]\nboot_partition=%d\n", a.Default, a.Tryboot, a.Default, a.Tryboot)
}
