package main

// The harness plays the Raspberry Pi 4's boot firmware (the EEPROM
// bootloader and start4.elf) between QEMU runs, from what is on the card:
//
//   - autoboot.txt on p1 names the boot partition: boot_partition under
//     [all], or under [tryboot] when the one-shot tryboot flag is set;
//   - that FAT partition's config.txt (tryboot.txt on a tryboot without
//     tryboot_a_b=1), read through its [all], [none], [tryboot], [pi4]-like
//     and [boot_partition=N] filters, names the kernel= and the cmdline=
//     file; the kernel is copied off the partition and booted with that
//     file's first line as its command line;
//   - Linux is told what was booted the way a Pi's firmware tells it:
//     /chosen/bootloader/partition and /chosen/bootloader/tryboot, one
//     big-endian 32-bit cell each, in QEMU's own device tree for the
//     machine (dumped with -machine dumpdtb, the node added with dtc, the
//     result handed back with -dtb; QEMU then only rewrites /chosen's
//     bootargs and initrd properties, which boot() checks on every boot).
//
// The tryboot flag is the firmware's: false unless the last run ended in
// the kernel's "reboot: Restarting system with command '0 tryboot'" (a
// reboot, which QEMU's -no-reboot turns into an exit) or a test step asked
// for it with fw.tryNext(); the next boot uses it and clears it, so every
// later reset, power cut or panic boots the committed slot again. A power
// cut (machine.kill) loses a pending flag, as the Pi's reset register does.
//
// For a test step: t.fw.tryNext() makes the next t.boot a tryboot;
// m.booted says what that boot was (partition, tryboot, slot "A" or "B");
// t.checkFirmware(m, name, partition, tryboot) checks from a root shell on
// the board that Linux saw the same.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// firmware is what the boot firmware keeps between boots.
type firmware struct {
	mu   sync.Mutex
	next rebootArg // for the next boot only
}

// rebootArg is what the kernel passes to the Pi's firmware with
// reboot(2)'s RESTART2 command: "N" boots partition N once instead of
// autoboot.txt's choice (0: autoboot.txt's), "N tryboot" also sets the
// tryboot flag.
type rebootArg struct {
	partition int
	tryboot   bool
}

// tryNext sets the tryboot flag for the next boot, as `reboot "0 tryboot"`
// does.
func (f *firmware) tryNext() {
	f.mu.Lock()
	f.next = rebootArg{tryboot: true}
	f.mu.Unlock()
}

var restartRe = regexp.MustCompile(`reboot: Restarting system with command '(\d+)( tryboot)?'`)

// exited reads a finished run's console: a reboot with an argument the
// firmware understands sets what the next boot does. A run that was killed
// (a power cut) leaves nothing behind.
func (f *firmware) exited(console string, killed bool) {
	if killed {
		return
	}
	m := restartRe.FindAllStringSubmatch(console, -1)
	if m == nil {
		return
	}
	last := m[len(m)-1]
	n, _ := strconv.Atoi(last[1])
	f.mu.Lock()
	f.next = rebootArg{partition: n, tryboot: last[2] != ""}
	f.mu.Unlock()
}

// take returns the flags for this boot and clears them.
func (f *firmware) take() rebootArg {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.next
	f.next = rebootArg{}
	return a
}

// bootChoice is what the firmware did for one boot.
type bootChoice struct {
	partition            int  // FAT partition booted: /chosen/bootloader/partition
	tryboot              bool // /chosen/bootloader/tryboot
	config               string
	cmdlineFile, cmdline string
	kernelFile, kernel   string // name on the partition, copy on the host
	why                  string // how autoboot.txt and config.txt got there
}

// slot is "A" for p2, "B" for p3 (see appliance/update).
func (c bootChoice) slot() string {
	switch c.partition {
	case partBootA:
		return "A"
	case partBootA + 1:
		return "B"
	}
	return "?"
}

func (c bootChoice) String() string {
	return fmt.Sprintf("p%d (slot %s), tryboot %d: %s", c.partition, c.slot(), b2i(c.tryboot), c.why)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// choose reads the card as the firmware does before a boot and copies the
// kernel it would load into dir.
func (f *firmware) choose(card, dir string) (bootChoice, error) {
	arg := f.take()
	c := bootChoice{tryboot: arg.tryboot}
	var why []string
	ab := false
	txt, err := readFAT(card, partConfig, "autoboot.txt")
	switch {
	case errors.Is(err, os.ErrNotExist):
		why = append(why, "no autoboot.txt")
	case err != nil:
		return c, err
	default:
		c.partition, ab, err = autoboot(txt, arg.tryboot)
		if err != nil {
			return c, err
		}
		section := "[all]"
		if arg.tryboot {
			section = "[tryboot]"
		}
		why = append(why, fmt.Sprintf("autoboot.txt %s boot_partition=%d", section, c.partition))
	}
	// A partition given to reboot wins over autoboot.txt's.
	if arg.partition != 0 {
		c.partition = arg.partition
		why = append(why, fmt.Sprintf("reboot %d", arg.partition))
	}
	if c.partition == 0 {
		// The default: the first FAT partition with the Pi 4's start4.elf.
		for n := 1; n <= 4 && c.partition == 0; n++ {
			if _, err := readFAT(card, n, "start4.elf"); err == nil {
				c.partition = n
			}
		}
		if c.partition == 0 {
			return c, errors.New("firmware: no partition holds start4.elf: the Pi would not boot")
		}
		why = append(why, fmt.Sprintf("first with start4.elf: p%d", c.partition))
	}
	if _, err := readFAT(card, c.partition, "start4.elf"); err != nil {
		return c, fmt.Errorf("firmware: boot partition %d: no start4.elf (%w)", c.partition, err)
	}

	// On a tryboot, the firmware reads tryboot.txt unless autoboot.txt says
	// the A/B partitions take its place (tryboot_a_b=1).
	c.config = "config.txt"
	if arg.tryboot && !ab {
		c.config = "tryboot.txt"
	}
	cfg, err := readFAT(card, c.partition, c.config)
	if err != nil {
		return c, fmt.Errorf("firmware: p%d: %w", c.partition, err)
	}
	set, err := configTxt(cfg, c.partition, arg.tryboot)
	if err != nil {
		return c, fmt.Errorf("firmware: p%d %s: %w", c.partition, c.config, err)
	}
	if set["arm_64bit"] != "1" {
		return c, fmt.Errorf("firmware: p%d %s does not set arm_64bit=1: a Pi 4 would start the arm64 kernel in 32-bit mode", c.partition, c.config)
	}
	c.kernelFile = set["os_prefix"] + or(set["kernel"], "kernel8.img")
	c.cmdlineFile = set["os_prefix"] + or(set["cmdline"], "cmdline.txt")
	line, err := readFAT(card, c.partition, c.cmdlineFile)
	if err != nil {
		return c, fmt.Errorf("firmware: p%d: %w", c.partition, err)
	}
	c.cmdline = strings.TrimSpace(strings.SplitN(string(line), "\n", 2)[0])
	c.kernel = filepath.Join(dir, fmt.Sprintf("kernel-p%d", c.partition))
	if err := copyFAT(card, c.partition, c.kernelFile, c.kernel); err != nil {
		return c, fmt.Errorf("firmware: p%d: kernel=%s: %w", c.partition, c.kernelFile, err)
	}
	why = append(why, fmt.Sprintf("%s cmdline=%s kernel=%s", c.config, c.cmdlineFile, c.kernelFile))
	c.why = strings.Join(why, "; ")
	return c, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// autoboot reads autoboot.txt: the partition to boot, and tryboot_a_b.
// Lines before any section count as [all]; [none] turns settings off until
// the next section; [tryboot] applies on a tryboot only.
func autoboot(b []byte, tryboot bool) (int, bool, error) {
	if len(b) > 512 {
		return 0, false, fmt.Errorf("firmware: autoboot.txt is %d bytes; the firmware reads 512", len(b))
	}
	on, part, ab := true, 0, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case l == "[all]":
			on = true
		case l == "[none]":
			on = false
		case l == "[tryboot]":
			on = tryboot
		case strings.HasPrefix(l, "["):
			return 0, false, fmt.Errorf("firmware: autoboot.txt:%d: %s: autoboot.txt knows [all], [none] and [tryboot] only", n, l)
		case on:
			k, v, _ := strings.Cut(l, "=")
			switch strings.TrimSpace(k) {
			case "boot_partition":
				p, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || p < 0 || p > 4 {
					return 0, false, fmt.Errorf("firmware: autoboot.txt:%d: boot_partition %q (0 or a primary partition, 1-4)", n, v)
				}
				part = p
			case "tryboot_a_b":
				ab = strings.TrimSpace(v) == "1"
			}
		}
	}
	return part, ab, sc.Err()
}

// Model filters of config.txt and whether this board (a Pi 4 Model B) is
// one: they replace one another.
var models = map[string]bool{
	"pi1": false, "pi2": false, "pi3": false, "pi3+": false, "pi0": false, "pi0w": false, "pi02": false,
	"pi4": true, "pi400": false, "cm4": false, "cm4s": false, "pi5": false, "pi500": false, "cm5": false,
}

// configTxt returns the settings config.txt gives a boot from partition
// part: the last value of each, among the lines its filters let through.
// A filter that can depend on what this harness does not model (EDID,
// GPIO, serial numbers, ...) or an include is an error, not a guess.
func configTxt(b []byte, part int, tryboot bool) (map[string]string, error) {
	set := map[string]string{}
	// One condition per filter type; [all] clears them.
	conds := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if f, ok := strings.CutPrefix(l, "["); ok {
			f, ok = strings.CutSuffix(f, "]")
			if !ok {
				return nil, fmt.Errorf("line %d: %s", n, l)
			}
			switch {
			case f == "all":
				clear(conds)
			case f == "none":
				conds["none"] = false
			case f == "tryboot":
				conds["tryboot"] = tryboot
			case strings.HasPrefix(f, "boot_partition="):
				p, err := strconv.Atoi(strings.TrimPrefix(f, "boot_partition="))
				if err != nil {
					return nil, fmt.Errorf("line %d: %s", n, l)
				}
				conds["boot_partition"] = p == part
			default:
				is, known := models[f]
				if !known {
					return nil, fmt.Errorf("line %d: the filter [%s] is not modelled by the boot test", n, f)
				}
				conds["model"] = is
			}
			continue
		}
		if strings.HasPrefix(l, "include ") {
			return nil, fmt.Errorf("line %d: include is not modelled by the boot test", n)
		}
		apply := true
		for _, c := range conds {
			apply = apply && c
		}
		if !apply {
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			set[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return set, sc.Err()
}

// fatImage is the mtools name of FAT partition n of the card.
func fatImage(card string, n int) (string, error) {
	off, _, err := partition(card, n)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s@@%d", card, off), nil
}

// readFAT reads a file of FAT partition n; os.ErrNotExist if it is not
// there.
func readFAT(card string, n int, name string) ([]byte, error) {
	img, err := fatImage(card, n)
	if err != nil {
		return nil, err
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command("mtype", "-i", img, "::/"+name)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "not found") {
			return nil, fmt.Errorf("%s: %w", name, os.ErrNotExist)
		}
		return nil, fmt.Errorf("mtype p%d %s: %v: %s", n, name, err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// copyFAT copies a file of FAT partition n to dst.
func copyFAT(card string, n int, name, dst string) error {
	img, err := fatImage(card, n)
	if err != nil {
		return err
	}
	if out, err := exec.Command("mcopy", "-o", "-n", "-i", img, "::/"+name, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("mcopy: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// deviceTree writes the device tree the firmware hands Linux for boot c:
// QEMU's own for the machine (qemu is the complete command line of the
// boot, dumped with dumpdtb), with /chosen/bootloader added. Then it asks
// QEMU for the tree it would give the guest from that file, and checks
// that the node is still there and the bootargs are c's command line.
// The files are prefix.qemu.dtb (QEMU's), prefix.dts and prefix.dtb (the
// firmware's), prefix.final.dtb (what the guest gets).
func deviceTree(qemu []string, c bootChoice, prefix string) (string, error) {
	dump := prefix + ".qemu.dtb"
	dts := prefix + ".dts"
	dtb := prefix + ".dtb"
	final := prefix + ".final.dtb"
	run := func(name string, args ...string) error {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	for _, f := range []string{dump, final} {
		os.Remove(f)
	}
	if err := run(qemu[0], append(qemu[1:], "-machine", "virt,dumpdtb="+dump)...); err != nil {
		return "", err
	}
	src, err := exec.Command("dtc", "-q", "-I", "dtb", "-O", "dts", dump).Output()
	if err != nil {
		return "", fmt.Errorf("dtc %s: %w", dump, err)
	}
	// A second definition of a node merges into the first.
	src = fmt.Appendf(src, "\n/ {\n\tchosen {\n\t\tbootloader {\n\t\t\tpartition = <%d>;\n\t\t\ttryboot = <%d>;\n\t\t};\n\t};\n};\n",
		c.partition, b2i(c.tryboot))
	if err := os.WriteFile(dts, src, 0o644); err != nil {
		return "", err
	}
	if err := run("dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dtb, dts); err != nil {
		return "", err
	}
	if err := run(qemu[0], append(qemu[1:], "-dtb", dtb, "-machine", "virt,dumpdtb="+final)...); err != nil {
		return "", err
	}
	get := func(node, prop string, typ ...string) string {
		out, _ := exec.Command("fdtget", append(append([]string{}, typ...), final, node, prop)...).Output()
		return strings.TrimSpace(string(out))
	}
	p := get("/chosen/bootloader", "partition", "-tu")
	tb := get("/chosen/bootloader", "tryboot", "-tu")
	args := get("/chosen", "bootargs")
	if p != strconv.Itoa(c.partition) || tb != strconv.Itoa(b2i(c.tryboot)) || args != c.cmdline {
		return "", fmt.Errorf("QEMU does not hand the guest the firmware's device tree: /chosen/bootloader partition %q tryboot %q, bootargs %q (want %d, %d, %q)",
			p, tb, args, c.partition, b2i(c.tryboot), c.cmdline)
	}
	return dtb, nil
}
