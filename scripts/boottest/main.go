// Command boottest boots the tinkerbox SD image under qemu-system-aarch64
// (scripts/boot-test.sh builds it) four times and checks it the way a maker
// meets it: the first boot creates /data, later boots keep it, two power
// cuts (one at a random point of making a comic strip, one inside its
// archive write) lose nothing that was acknowledged, a poweroff is clean,
// the consoles and the log work, and the appliance answers on the network. It prints a table and exits 1 when a
// check fails. Everything it reads comes from the emulated board: its serial
// console, its web server through a port forward on 127.0.0.1, and the card
// image between boots. Before each boot it plays the Raspberry Pi firmware
// (firmware.go): autoboot.txt and config.txt on the card pick the slot, its
// kernel and command line, and the device tree tells Linux what was booted.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"
)

type options struct {
	card, initrd, logs string
	t0                 int64
	// Update bundles (boot-test.sh builds them) and their versions.
	bundleNext, bundleBroken, bundleBadSig string
	nextVersion, brokenVersion             string
}

func main() {
	var o options
	flag.StringVar(&o.card, "card", "", "SD card image (a power of two in size)")
	flag.StringVar(&o.initrd, "initrd", "", "initramfs (the kernel and its command line come from the card)")
	flag.StringVar(&o.logs, "logs", ".", "directory for the console logs")
	flag.StringVar(&o.bundleNext, "bundle-next", "", "an update bundle of a newer tinkerbox")
	flag.StringVar(&o.bundleBroken, "bundle-broken", "", "an update bundle whose tinkerbox does not start")
	flag.StringVar(&o.bundleBadSig, "bundle-badsig", "", "the next bundle signed with another key")
	flag.StringVar(&o.nextVersion, "next-version", "", "the version in -bundle-next")
	flag.StringVar(&o.brokenVersion, "broken-version", "", "the version in -bundle-broken")
	flag.Int64Var(&o.t0, "t0", 0, "unix time the whole boot test started (for the wall-time figure)")
	flag.Parse()
	if o.card == "" || o.initrd == "" {
		flag.Usage()
		os.Exit(2)
	}
	t := &test{o: o}
	err := t.run()
	t.report()
	if err != nil {
		fmt.Fprintln(os.Stderr, "boottest: FAIL:", err)
		os.Exit(1)
	}
	if t.failed() {
		os.Exit(1)
	}
}

// check is one row of the table.
type check struct {
	what, detail string
	ok           bool
}

type test struct {
	o      options
	fw     firmware // the Pi's boot firmware, between boots
	checks []check
	// learnt on the way
	password, rootPassword string
	uuid                   string
	acked                  []int64
	firstVersion           string
	figures                []string
}

func (t *test) check(ok bool, what, format string, args ...any) bool {
	t.checks = append(t.checks, check{what: what, ok: ok, detail: fmt.Sprintf(format, args...)})
	mark := "ok  "
	if !ok {
		mark = "FAIL"
	}
	fmt.Printf("boottest: %s %s: %s\n", mark, what, fmt.Sprintf(format, args...))
	return ok
}

func (t *test) failed() bool {
	return slices.ContainsFunc(t.checks, func(c check) bool { return !c.ok })
}

func (t *test) figure(format string, args ...any) {
	t.figures = append(t.figures, fmt.Sprintf(format, args...))
}

func (t *test) report() {
	fmt.Println()
	fmt.Println("boot test                                          result  detail")
	fmt.Println("-------------------------------------------------  ------  ------")
	for _, c := range t.checks {
		r := "ok"
		if !c.ok {
			r = "FAIL"
		}
		fmt.Printf("%-50s  %-6s  %s\n", c.what, r, c.detail)
	}
	if t.o.t0 > 0 {
		t.figure("boot-test wall time: %ds", time.Now().Unix()-t.o.t0)
	}
	if len(t.figures) > 0 {
		fmt.Println()
		for _, f := range t.figures {
			fmt.Println("figure:", f)
		}
	}
	n := 0
	for _, c := range t.checks {
		if c.ok {
			n++
		}
	}
	fmt.Printf("\n%d passed, %d failed\n", n, len(t.checks)-n)
	// Repeated last: a CI log shows its tail.
	for _, c := range t.checks {
		if !c.ok {
			fmt.Printf("FAIL %s: %s\n", c.what, c.detail)
		}
	}
}

func (t *test) run() error {
	if err := t.firstBoot(); err != nil {
		return fmt.Errorf("boot 1: %w", err)
	}
	if err := t.openConsole(); err != nil {
		return err
	}
	if err := t.secondBoot(); err != nil {
		return fmt.Errorf("boot 2: %w", err)
	}
	if err := t.thirdBoot(); err != nil {
		return fmt.Errorf("boot 3: %w", err)
	}
	if err := t.afterPoweroff(); err != nil {
		return err
	}
	if err := t.fourthBoot(); err != nil {
		return fmt.Errorf("boot 4: %w", err)
	}
	return t.updateCycle()
}

// Boot 1: the card as flashed. /data is created, the password is shown on
// the serial console, root cannot log in, a comic is archived through the
// web API, then the power is cut while more are being written.
func (t *test) firstBoot() error {
	m, err := t.boot("boot1")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 1"); err != nil {
		return err
	}
	pw, err := m.con.find(`admin password \(shown once[^)]*\): (\S+)`)
	t.check(err == nil, "boot 1: password on the serial console", "%s", orErr(err, "shown once, on ttyAMA0"))
	if err != nil {
		return err
	}
	t.password = pw[1]
	_, err = m.con.find(`S05data: growing /dev/mmcblk0p7 to the end of the card`)
	_, err2 := m.con.find(`S05data: creating the ext4 filesystem on /dev/mmcblk0p7`)
	t.check(err == nil && err2 == nil, "boot 1: /data grown and created", "%s", orErr(errors.Join(err, err2), "partitions 4 and 7 grown, then p7 formatted"))
	t.scriptsClean(m, "boot 1")

	// root is locked on the serial console.
	if err := m.login("root", ""); err == nil {
		t.check(false, "boot 1: console root login refused", "root logged in with an empty password")
	} else {
		t.check(errors.Is(err, errLoginRefused), "boot 1: console root login refused", "%v", err)
	}

	// A row through the web API: press A in the comic scene, the strip is
	// archived (PNG, JSON and its row) and queued for the absent printer.
	c := m.client(t.password)
	if err := c.press(); err != nil {
		return err
	}
	list, err := c.waitComics(1, 8*time.Minute)
	if !t.check(err == nil, "boot 1: comic archived through the web API", "%s", orErr(err, fmt.Sprintf("strip #%d", lastN(list)))) {
		return err
	}

	// Power cut while tinkerbox writes: time one more strip from press to
	// archive, press again, and cut the power at a random point of the
	// next one's making (composing, rendering, writing PNG, JSON and rows).
	before := len(list)
	pressed := time.Now()
	if err := c.press(); err != nil {
		return err
	}
	list, err = c.waitComics(before+1, 8*time.Minute)
	if err != nil {
		return err
	}
	took := time.Since(pressed)
	if err := c.press(); err != nil {
		return err
	}
	var r [1]byte
	rand.Read(r[:])
	cut := took * time.Duration(30+int(r[0])%70) / 100
	select {
	case <-m.exited:
		return errors.New("QEMU exited before the power cut")
	case <-time.After(cut):
	}
	m.kill()
	for _, s := range list {
		t.acked = append(t.acked, s.N)
	}
	t.check(true, "boot 1: power cut while writing", "QEMU killed %.1fs into a strip that takes %.1fs, strips %v acknowledged", cut.Seconds(), took.Seconds(), t.acked)
	sb, err := readSuper(t.o.card, partData)
	if err != nil {
		return err
	}
	t.uuid = sb.uuid
	t.check(sb.mounts == 1, "boot 1: /data mounted once", "mount count %d, UUID %s", sb.mounts, sb.uuid)
	return nil
}

// openConsole does what the README tells a maker: put the hash of a
// password in root-password.txt on the TINKERBOX partition (p1, /boot),
// from a computer.
func (t *test) openConsole() error {
	b := make([]byte, 9)
	rand.Read(b)
	// Hex, not URL-safe base64: a password starting with "-" is read by
	// openssl as an option (1 run in 64 failed that way).
	t.rootPassword = hex.EncodeToString(b)
	out, err := exec.Command("openssl", "passwd", "-6", t.rootPassword).Output()
	if err != nil {
		return fmt.Errorf("openssl passwd -6: %w", err)
	}
	f := filepath.Join(t.o.logs, "root-password.txt")
	if err := os.WriteFile(f, out, 0o600); err != nil {
		return err
	}
	start, _, err := partition(t.o.card, partConfig)
	if err != nil {
		return err
	}
	if out, err := exec.Command("mcopy", "-o", "-i", fmt.Sprintf("%s@@%d", t.o.card, start), f, "::/root-password.txt").CombinedOutput(); err != nil {
		return fmt.Errorf("mcopy root-password.txt: %v: %s", err, out)
	}
	return nil
}

// Boot 2: after the first power cut, with the console opened. The same
// /data, no new password, nothing acknowledged lost; the system as the
// README says. Then a power cut in the middle of an archive write.
func (t *test) secondBoot() error {
	m, err := t.boot("boot2")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 2"); err != nil {
		return err
	}
	_, err = m.con.find(`admin password \(shown once`)
	_, err2 := m.con.find(`S05data: creating the ext4`)
	t.check(err != nil && err2 != nil, "boot 2: no new filesystem, no new password", "%s",
		map[bool]string{true: "kept /data and the stored password hash", false: "formatted or generated again"}[err != nil && err2 != nil])
	t.scriptsClean(m, "boot 2")

	if err := m.login("root", t.rootPassword); err != nil {
		t.check(false, "boot 2: console root login with root-password.txt", "%v", err)
		return err
	}
	t.check(true, "boot 2: console root login with root-password.txt", "root shell on ttyAMA0")

	t.checkFirmware(m, "boot 2", partBootA, false)

	tune, err := m.run("tune2fs -l /dev/mmcblk0p7")
	if err != nil {
		return err
	}
	uuid := field(tune, "Filesystem UUID")
	mounts := field(tune, "Mount count")
	t.check(uuid == t.uuid && mounts == "2", "boot 2: the same /data", "UUID %s (boot 1: %s), mount count %s", uuid, t.uuid, mounts)
	blocks, _ := strconv.ParseInt(field(tune, "Block count"), 10, 64)
	bsize, _ := strconv.ParseInt(field(tune, "Block size"), 10, 64)
	// Output is tagged: the appliance's log shares the serial console.
	card, err := m.run(`echo "CARD $(cat /sys/class/block/mmcblk0/size) $(cat /sys/class/block/mmcblk0p7/start) $(cat /sys/class/block/mmcblk0p7/size)"`)
	if err != nil {
		return err
	}
	var disk, start, size int64
	if cm := regexp.MustCompile(`CARD (\d+) (\d+) (\d+)`).FindStringSubmatch(card); cm != nil {
		disk, _ = strconv.ParseInt(cm[1], 10, 64)
		start, _ = strconv.ParseInt(cm[2], 10, 64)
		size, _ = strconv.ParseInt(cm[3], 10, 64)
	}
	grown := start+size == disk && blocks*bsize >= (size*512)-bsize
	t.check(grown, "boot 2: /data reaches the end of the card", "p7 sectors %d-%d of %d, filesystem %d MiB", start, start+size, disk, blocks*bsize>>20)

	// The root is mounted as the kernel names it, /dev/root: its device
	// numbers tell the partition.
	mounts2, err := m.run(`cat /proc/mounts; echo "ROOTDEV $(awk '$5 == "/" { d = $3 } END { print d }' /proc/self/mountinfo) $(cat /sys/class/block/mmcblk0p5/dev)"`)
	if err != nil {
		return err
	}
	rootDev := regexp.MustCompile(`ROOTDEV (\S+) (\S+)`).FindStringSubmatch(mounts2)
	rootP5 := rootDev != nil && rootDev[1] == rootDev[2]
	rootRO := rootP5 && regexp.MustCompile(`(?m)^/dev/root / ext4 ro[,\s]`).MatchString(mounts2)
	bootRO := regexp.MustCompile(`(?m)^/dev/mmcblk0p1 /boot vfat ro[,\s]`).MatchString(mounts2)
	dataRW := regexp.MustCompile(`(?m)^/dev/mmcblk0p7 /data ext4 rw[,\s]`).MatchString(mounts2)
	t.check(rootRO && bootRO && dataRW, "boot 2: / p5 and /boot p1 read-only, /data p7", "root p5 (device %s, p5 is %s) ro %v, boot p1 ro %v, data p7 rw %v",
		firstOr(rootDev, 1), firstOr(rootDev, 2), rootRO, bootRO, dataRW)

	proc, err := m.run(`for p in $(pidof tinkerbox); do grep -E '^(Name|Uid|CapEff|CapPrm|CapAmb)' /proc/$p/status; done; echo "TBUID=$(id -u tinkerbox)"`)
	if err != nil {
		return err
	}
	uidLine := regexp.MustCompile(`Uid:\s+(\d+)\s+(\d+)`).FindStringSubmatch(proc)
	wantUID := firstOr(regexp.MustCompile(`TBUID=(\d+)`).FindStringSubmatch(proc), 1)
	capEff := field(proc, "CapEff")
	capPrm := field(proc, "CapPrm")
	capAmb := field(proc, "CapAmb")
	asUser := uidLine != nil && uidLine[1] == wantUID && uidLine[2] == wantUID && wantUID != "0"
	// cap_net_bind_service is capability 10; nothing is passed on to children.
	t.check(asUser && capEff == "0000000000000400" && capPrm == "0000000000000400" && capAmb == "0000000000000000",
		"boot 2: tinkerbox as user tinkerbox, cap_net_bind_service only",
		"uid %s (tinkerbox is %s), CapEff %s, CapPrm %s, CapAmb %s", firstOr(uidLine, 1), wantUID, capEff, capPrm, capAmb)

	logs, err := m.run(`echo "LOGS $(logread | grep -c ' tinkerbox: ') $(logread | grep -c 'database is locked')"; logread | grep ' tinkerbox: ' | tail -n 1 | sed 's/^/LAST /'`)
	if err != nil {
		return err
	}
	nTB, nLocked := -1, -1
	if lm := regexp.MustCompile(`LOGS (\d+) (\d+)`).FindStringSubmatch(logs); lm != nil {
		nTB, _ = strconv.Atoi(lm[1])
		nLocked, _ = strconv.Atoi(lm[2])
	}
	last := firstOr(regexp.MustCompile(`(?m)^LAST (.*)$`).FindStringSubmatch(logs), 1)
	t.check(nTB > 0, "boot 2: logread shows tinkerbox", "%d lines, the last: %s", nTB, last)
	t.check(nLocked == 0, "boot 2: no 'database is locked' in the log", "%d such lines", nLocked)

	// The board waits (not the test) until it has been up for twice the
	// watchdog's timeout and a little more.
	wd, err := m.run(`t=$(cat /sys/class/watchdog/watchdog0/timeout); while [ "$(cut -d. -f1 /proc/uptime)" -le $((2 * t + 5)) ]; do sleep 1; done; ` +
		`echo "WD $(cat /sys/class/watchdog/watchdog0/state) $t $(pidof watchdog >/dev/null && echo fed || echo unfed) $(cut -d' ' -f1 /proc/uptime)"`)
	if err != nil {
		return err
	}
	var wdState, wdFed string
	var wdTimeout int
	var up float64
	if wm := regexp.MustCompile(`WD (\S+) (\d+) (\S+) ([\d.]+)`).FindStringSubmatch(wd); wm != nil {
		wdState, wdFed = wm[1], wm[3]
		wdTimeout, _ = strconv.Atoi(wm[2])
		up, _ = strconv.ParseFloat(wm[4], 64)
	}
	// An unfed i6300esb resets the board, and -no-reboot makes QEMU exit:
	// still up after more than twice the timeout, the watchdog is fed.
	t.check(wdState == "active" && wdFed == "fed" && wdTimeout > 0 && up > 2*float64(wdTimeout),
		"boot 2: the hardware watchdog is fed", "state %s, timeout %ds, the watchdog daemon %s it, up %.0fs without a reset", wdState, wdTimeout, wdFed, up)

	t.nothingLost(m, "boot 2", t.acked)

	// A second power cut, in the middle of the archive write: the shell
	// waits for the strip's temporary file, and the power goes at once.
	c := m.client(t.password)
	list, err := c.comics()
	if err != nil {
		return err
	}
	t.acked = nil
	for _, s := range list {
		t.acked = append(t.acked, s.N)
	}
	if err := c.press(); err != nil {
		return err
	}
	// A loop without forks (globs are the shell's): it sees the temporary
	// file of the JSON or the PNG, or else the new JSON, as soon as it is there.
	// A strip takes 10-20 s here, and minutes on a loaded machine.
	out, err := m.runWithin(`n=$(ls /data/comics/*.json | wc -l); while :; do set -- /data/comics/.tmp-*; [ -e "$1" ] && break; `+
		`set -- /data/comics/*.json; [ $# -gt "$n" ] && break; done; echo "DIR $*"`, 8*time.Minute)
	m.kill()
	if err != nil {
		return err
	}
	t.check(true, "boot 2: power cut during the archive write", "QEMU killed on seeing %s, strips %v acknowledged",
		firstOr(regexp.MustCompile(`DIR ([^\n]*)`).FindStringSubmatch(out), 1), t.acked)
	return nil
}

// Boot 3: after the cut in the archive write. Nothing acknowledged lost,
// the interrupted strip gone; then a clean power-off.
func (t *test) thirdBoot() error {
	m, err := t.boot("boot3")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 3"); err != nil {
		return err
	}
	t.scriptsClean(m, "boot 3")
	t.nothingLost(m, "boot 3", t.acked)
	if err := m.login("root", t.rootPassword); err != nil {
		t.check(false, "boot 3: poweroff is clean", "login: %v", err)
		return err
	}
	m.send("poweroff\r")
	err = m.waitExit(3 * time.Minute)
	_, rcErr := m.con.find(`rcK: ERROR`)
	t.check(err == nil && rcErr != nil, "boot 3: poweroff is clean", "%s", orErr(errors.Join(err, notErr(rcErr, "a stop script failed")), "every stop script ran, the board powered off"))
	return nil
}

// checkFirmware checks, from a root shell on the board, that Linux was
// told what the firmware booted, as a Pi's firmware tells it (the
// partition and the tryboot flag in /chosen/bootloader, one big-endian
// cell each), with the command line it chose, and that this is the boot
// the test step wanted.
func (t *test) checkFirmware(m *machine, name string, partition int, tryboot bool) {
	c := m.booted
	want := fmt.Sprintf("p%d (slot %s), tryboot %d", partition, map[int]string{partBootA: "A", partBootA + 1: "B"}[partition], b2i(tryboot))
	out, err := m.run(`d=/proc/device-tree/chosen/bootloader; echo "FWPART $(od -An -tx1 $d/partition)"; echo "FWTRY $(od -An -tx1 $d/tryboot)"; echo "CMDLINE $(cat /proc/cmdline)"`)
	if err != nil {
		t.check(false, name+": firmware: booted "+want, "%v", err)
		return
	}
	get := func(tag string) string {
		return strings.Join(strings.Fields(firstOr(regexp.MustCompile(`(?m)^`+tag+` (.*)$`).FindStringSubmatch(out), 1)), " ")
	}
	part, try, cmdline := get("FWPART"), get("FWTRY"), get("CMDLINE")
	ok := part == fmt.Sprintf("00 00 00 %02x", partition) && try == fmt.Sprintf("00 00 00 %02x", b2i(tryboot)) &&
		cmdline == c.cmdline && c.partition == partition && c.tryboot == tryboot
	t.check(ok, name+": firmware: booted "+want, "%s; the board reads /proc/device-tree/chosen/bootloader partition %s, tryboot %s, /proc/cmdline %q",
		c, part, try, cmdline)
}

// nothingLost: every strip acknowledged before a power cut is listed with
// a PNG that decodes; a strip the cut interrupted is not listed.
func (t *test) nothingLost(m *machine, name string, acked []int64) {
	c := m.client(t.password)
	list, err := c.comics()
	if err != nil {
		t.check(false, name+": nothing acknowledged lost", "%v", err)
		return
	}
	have := map[int64]bool{}
	for _, s := range list {
		have[s.N] = true
	}
	var lost, broken []int64
	for _, n := range acked {
		if !have[n] {
			lost = append(lost, n)
		}
	}
	for _, s := range list {
		if err := c.png(s.N); err != nil {
			broken = append(broken, s.N)
		}
	}
	dropped := "none was interrupted"
	if ev, err := c.do("GET", "/api/events", nil); err == nil {
		if d := regexp.MustCompile(`strip #\d+ was interrupted[^"]*`).Find(ev); d != nil {
			dropped = string(d)
		}
	}
	t.check(len(lost) == 0 && len(broken) == 0, name+": nothing acknowledged lost", "strips %v acknowledged before the cut; the archive lists %d, each with a readable PNG (%s); lost %v, broken %v",
		acked, len(list), dropped, lost, broken)
}

func (t *test) afterPoweroff() error {
	sb, err := readSuper(t.o.card, partData)
	if err != nil {
		return err
	}
	t.check(sb.clean && !sb.recover, "after poweroff: /data unmounted cleanly", "state clean %v, journal needs recovery %v", sb.clean, sb.recover)
	db, err := dumpDB(t.o.card, t.o.logs)
	if err != nil {
		t.check(false, "after poweroff: database integrity", "%v", err)
		return nil
	}
	res, n, err := integrity(db)
	t.check(err == nil && res == "ok", "after poweroff: database integrity", "PRAGMA integrity_check = %q, %d comics rows%s", res, n, orEmpty(err))
	return nil
}

// Boot 4: after the clean poweroff, fsck finds the filesystem clean.
func (t *test) fourthBoot() error {
	m, err := t.boot("boot4")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 4"); err != nil {
		return err
	}
	line, err := m.con.find(`tinkerbox-data: clean, [^\r\n]*`)
	t.check(err == nil, "boot 4: fsck says clean", "%s", orErr(err, firstOr(line, 0)))
	return nil
}

// upAndRunning waits for tinkerbox's start line, then for /healthz.
func (t *test) upAndRunning(m *machine, name string) error {
	if _, err := m.con.wait(regexp.MustCompile(`tinkerbox \S+ is running`), 6*time.Minute); err != nil {
		t.check(false, name+": tinkerbox starts", "%v", err)
		return err
	}
	took, err := m.healthz(time.Minute)
	if !t.check(err == nil, name+": /healthz through the port forward", "%s", orErr(err, fmt.Sprintf("%.1fs after power-on", took.Seconds()))) {
		return err
	}
	t.figure("%s: /healthz %.1fs after power-on (QEMU TCG, -smp 2)", name, took.Seconds())
	return nil
}

// scriptsClean: every S-script ran and none printed an error line.
func (t *test) scriptsClean(m *machine, name string) {
	out := m.con.text()
	bad := initErrorLines(out)
	_, err := m.con.find(`Starting network: OK`)
	t.check(len(bad) == 0 && err == nil, name+": init scripts ran without an error line", "%s",
		map[bool]string{true: "rcS ran every S-script; no ERROR/FAIL line", false: fmt.Sprintf("%q", bad)}[len(bad) == 0 && err == nil])
}

var (
	// getty's prompt has no newline: whatever is written to the console
	// next lands on the same line ("tinkerbox login: tinkerbox: ...").
	loginPrompt = regexp.MustCompile(`^(\S+ login: )+`)
	errorLine   = regexp.MustCompile(`(?i)\b(ERROR|FAIL(ED)?)\b|can't|not found|No such file|seedrng|crond`)
)

// initErrorLines returns the console lines that look like an init
// script's error.
func initErrorLines(console string) []string {
	var bad []string
	for _, l := range strings.Split(console, "\n") {
		l = loginPrompt.ReplaceAllString(strings.TrimSpace(l), "")
		switch {
		case strings.HasPrefix(l, "tinkerbox: "):
			// The appliance's own log (missing hardware on this board is
			// reported there, as it should be), not an init script's.
		case strings.HasSuffix(l, "udevadm: not found"):
			// Debian's parted is built with udev and calls udevadm after
			// resizing; Buildroot's parted, without eudev, does not.
		case errorLine.MatchString(l):
			bad = append(bad, l)
		}
	}
	return bad
}

// --- the machine -------------------------------------------------------------

type machine struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	con    *console
	port   int
	start  time.Time
	booted bootChoice // what the firmware booted
	killed atomic.Bool
	exited chan struct{}
	err    error
}

// qemu is the command line that boots kernel on the card (the firmware's
// device tree is added with -dtb).
func qemu(card, kernel, initrd, cmdline string, port int) []string {
	return []string{"qemu-system-aarch64",
		"-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
		"-accel", "tcg,thread=multi",
		"-display", "none", "-serial", "stdio", "-monitor", "none",
		"-no-reboot",
		"-kernel", kernel, "-initrd", initrd, "-append", cmdline,
		"-device", "sdhci-pci", "-drive", "if=none,id=card,format=raw,file=" + card, "-device", "sd-card,drive=card",
		"-netdev", fmt.Sprintf("user,id=net0,hostfwd=tcp:127.0.0.1:%d-:80", port), "-device", "virtio-net-pci,netdev=net0,romfile=",
		"-device", "i6300esb", "-action", "watchdog=reset",
	}
}

// boot powers the board on: the firmware picks what to boot from the card
// (and the flags the last run left), then QEMU starts it.
func (t *test) boot(name string) (*machine, error) {
	c, err := t.fw.choose(t.o.card, t.o.logs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := qemu(t.o.card, c.kernel, t.o.initrd, c.cmdline, port)
	dtb, err := deviceTree(args, c, filepath.Join(t.o.logs, name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	log, err := os.Create(filepath.Join(t.o.logs, name+".console.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], append(args[1:], "-dtb", dtb)...)
	con := newConsole(log)
	cmd.Stdout = con
	cmd.Stderr = con
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	m := &machine{cmd: cmd, in: in, con: con, port: port, start: time.Now(), booted: c, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("qemu-system-aarch64: %w", err)
	}
	fmt.Printf("boottest: %s: firmware booted %s\n", name, c)
	fmt.Printf("boottest: %s: QEMU started (console log %s, web on 127.0.0.1:%d)\n", name, log.Name(), port)
	go func() {
		m.err = cmd.Wait()
		con.close()
		log.Close()
		t.fw.exited(con.text(), m.killed.Load())
		close(m.exited)
	}()
	return m, nil
}

// kill cuts the power.
func (m *machine) kill() {
	select {
	case <-m.exited:
	default:
		m.killed.Store(true)
		m.cmd.Process.Kill()
		<-m.exited
	}
}

func (m *machine) waitExit(d time.Duration) error {
	select {
	case <-m.exited:
		return m.err
	case <-time.After(d):
		return fmt.Errorf("still running after %s", d)
	}
}

func (m *machine) send(s string) {
	io.WriteString(m.in, s)
}

var errLoginRefused = errors.New("login refused")

// login answers getty and login on the serial console.
func (m *machine) login(user, password string) error {
	mark := m.con.mark()
	m.send("\r")
	if _, err := m.con.waitFrom(mark, regexp.MustCompile(`login: $`), 2*time.Minute); err != nil {
		return fmt.Errorf("no login prompt: %w", err)
	}
	m.send(user + "\r")
	if _, err := m.con.waitFrom(mark, regexp.MustCompile(`Password: $`), time.Minute); err != nil {
		return fmt.Errorf("no password prompt: %w", err)
	}
	after := m.con.mark()
	m.send(password + "\r")
	// A shell answers an echo; a refused login says so.
	m.send("echo \"==\"LOGGED\"==\"\r")
	// BusyBox login says "Login incorrect", or for a locked account ("*")
	// "bad salt", and getty asks again.
	got, err := m.con.waitFrom(after, regexp.MustCompile(`==LOGGED==|Login incorrect|bad salt|login: $`), time.Minute)
	if err != nil {
		return fmt.Errorf("no answer after the password: %w", err)
	}
	if got[0] != "==LOGGED==" {
		return fmt.Errorf("%w (%q)", errLoginRefused, strings.TrimSpace(got[0]))
	}
	return nil
}

// run runs a shell command on the serial console and returns its output.
func (m *machine) run(command string) (string, error) { return m.runWithin(command, 2*time.Minute) }

// runWithin is run for a command that waits for something on the board.
func (m *machine) runWithin(command string, d time.Duration) (string, error) {
	mark := m.con.mark()
	m.send("echo \"==\"BEGIN\"==\"; " + command + "; echo \"==\"END $?\"==\"\r")
	got, err := m.con.waitFrom(mark, regexp.MustCompile(`(?s)==BEGIN==\r?\n(.*?)==END (\d+)==`), d)
	if err != nil {
		return "", fmt.Errorf("%q: %w", command, err)
	}
	return strings.ReplaceAll(got[1], "\r", ""), nil
}

// healthz waits for /healthz; it returns the time since power-on.
func (m *machine) healthz(d time.Duration) (time.Duration, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(d)
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", m.port))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == "ok" {
				return time.Since(m.start), nil
			}
			err = fmt.Errorf("status %d %q", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("/healthz: %w", err)
		}
		select {
		case <-m.exited:
			return 0, errors.New("QEMU exited")
		case <-time.After(backoff):
		}
	}
}

type client struct {
	m        *machine
	password string
	http     *http.Client
}

func (m *machine) client(password string) *client {
	return &client{m: m, password: password, http: &http.Client{Timeout: 30 * time.Second}}
}

func (c *client) do(method, path string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", c.m.port, path), r)
	req.SetBasicAuth("admin", c.password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, err
}

func (c *client) press() error {
	_, err := c.do("POST", "/api/buttons/A", map[string]string{"press": "short"})
	return err
}

type strip struct {
	N int64 `json:"n"`
}

func (c *client) comics() ([]strip, error) {
	b, err := c.do("GET", "/api/comics", nil)
	if err != nil {
		return nil, err
	}
	var list []strip
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("/api/comics: %w", err)
	}
	return list, nil
}

// waitComics polls the archive until it lists n strips.
func (c *client) waitComics(n int, d time.Duration) ([]strip, error) {
	deadline := time.Now().Add(d)
	for {
		list, err := c.comics()
		if err == nil && len(list) >= n {
			return list, nil
		}
		if time.Now().After(deadline) {
			return list, fmt.Errorf("the archive lists %d strips after %s, want %d (%v)", len(list), d, n, err)
		}
		select {
		case <-c.m.exited:
			return nil, errors.New("QEMU exited")
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *client) png(n int64) error {
	b, err := c.do("GET", fmt.Sprintf("/comics/%d.png", n), nil)
	if err != nil {
		return err
	}
	_, err = png.Decode(bytes.NewReader(b))
	return err
}

// --- the serial console --------------------------------------------------------

type console struct {
	mu      sync.Mutex
	buf     []byte
	changed chan struct{}
	closed  bool
	log     io.Writer
}

func newConsole(log io.Writer) *console {
	return &console{changed: make(chan struct{}), log: log}
}

func (c *console) Write(p []byte) (int, error) {
	c.log.Write(p)
	c.mu.Lock()
	c.buf = append(c.buf, p...)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return len(p), nil
}

func (c *console) close() {
	c.mu.Lock()
	c.closed = true
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *console) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}

func (c *console) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

func (c *console) find(re string) ([]string, error) {
	m := regexp.MustCompile(re).FindStringSubmatch(c.text())
	if m == nil {
		return nil, fmt.Errorf("not on the console: %s", re)
	}
	return m, nil
}

func (c *console) wait(re *regexp.Regexp, d time.Duration) ([]string, error) {
	return c.waitFrom(0, re, d)
}

// waitFrom waits until re matches the console output after byte from.
func (c *console) waitFrom(from int, re *regexp.Regexp, d time.Duration) ([]string, error) {
	timeout := time.After(d)
	for {
		c.mu.Lock()
		m := re.FindStringSubmatch(string(c.buf[from:]))
		closed, changed := c.closed, c.changed
		c.mu.Unlock()
		if m != nil {
			return m, nil
		}
		if closed {
			return nil, fmt.Errorf("QEMU exited before %q", re)
		}
		select {
		case <-changed:
		case <-timeout:
			return nil, fmt.Errorf("no %q on the console within %s", re, d)
		}
	}
}

// --- the card, read between boots -----------------------------------------------

// The card's partitions (buildroot/board/tinkerbox/genimage.cfg).
const (
	partConfig = 1 // TINKERBOX: autoboot.txt, tinkerbox.toml, ... (/boot)
	partBootA  = 2 // slot A's boot files (p3: slot B's)
	partRootA  = 5 // slot A's root (p6: slot B's)
	partData   = 7 // /data, the last logical partition
)

// partition returns the byte offset and size of partition n as Linux
// numbers them: 1-4 from the MBR, 5 and up from the chain of extended boot
// records in the extended partition, one logical partition each.
func partition(card string, n int) (int64, int64, error) {
	f, err := os.Open(card)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	// table reads the four entries of the partition table in sector lba.
	type entry struct {
		typ         byte
		start, size int64 // sectors
	}
	table := func(lba int64) ([4]entry, error) {
		var t [4]entry
		b := make([]byte, 512)
		if _, err := f.ReadAt(b, lba*512); err != nil {
			return t, err
		}
		if b[510] != 0x55 || b[511] != 0xaa {
			return t, fmt.Errorf("no partition table signature in sector %d", lba)
		}
		for i := range t {
			e := b[446+16*i:]
			t[i] = entry{e[4], int64(binary.LittleEndian.Uint32(e[8:])), int64(binary.LittleEndian.Uint32(e[12:]))}
		}
		return t, nil
	}
	mbr, err := table(0)
	if err != nil {
		return 0, 0, fmt.Errorf("card: MBR: %w", err)
	}
	if n >= 1 && n <= 4 {
		e := mbr[n-1]
		if e.typ == 0 {
			return 0, 0, fmt.Errorf("card has no partition %d", n)
		}
		return e.start * 512, e.size * 512, nil
	}
	var ext int64 = -1
	for _, e := range mbr {
		if e.typ == 0x05 || e.typ == 0x0f || e.typ == 0x85 {
			ext = e.start
		}
	}
	if n < 5 || ext < 0 {
		return 0, 0, fmt.Errorf("card has no partition %d", n)
	}
	// Each EBR: the logical partition (from the EBR), then the next EBR
	// (from the start of the extended partition).
	ebr := ext
	for i := 5; ; i++ {
		t, err := table(ebr)
		if err != nil {
			return 0, 0, fmt.Errorf("card: EBR of partition %d: %w", i, err)
		}
		if i == n {
			return (ebr + t[0].start) * 512, t[0].size * 512, nil
		}
		if t[1].typ == 0 || i > 64 {
			return 0, 0, fmt.Errorf("card has no partition %d (the last is %d)", n, i)
		}
		ebr = ext + t[1].start
	}
}

type super struct {
	uuid           string
	mounts         int
	clean, recover bool
}

// readSuper reads the ext4 superblock of partition n.
func readSuper(card string, n int) (super, error) {
	off, _, err := partition(card, n)
	if err != nil {
		return super{}, err
	}
	f, err := os.Open(card)
	if err != nil {
		return super{}, err
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, off+1024); err != nil {
		return super{}, err
	}
	if binary.LittleEndian.Uint16(sb[0x38:]) != 0xef53 {
		return super{}, fmt.Errorf("partition %d holds no ext4 filesystem", n)
	}
	u := hex.EncodeToString(sb[0x68:0x78])
	return super{
		uuid:    u[0:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:],
		mounts:  int(binary.LittleEndian.Uint16(sb[0x34:])),
		clean:   binary.LittleEndian.Uint16(sb[0x3a:])&1 == 1,
		recover: binary.LittleEndian.Uint32(sb[0x60:])&0x4 != 0,
	}, nil
}

// dumpDB copies the database (and its WAL, if any) out of /data with
// debugfs, reading the card image after a clean unmount.
func dumpDB(card, dir string) (string, error) {
	off, size, err := partition(card, partData)
	if err != nil {
		return "", err
	}
	part := filepath.Join(dir, "data.ext4")
	src, err := os.Open(card)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.Create(part)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(dst, io.NewSectionReader(src, off, size))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	db := filepath.Join(dir, "tinkerbox.db")
	for _, name := range []string{"tinkerbox.db", "tinkerbox.db-wal"} {
		os.Remove(filepath.Join(dir, name))
		out, err := exec.Command("debugfs", "-R", "dump /"+name+" "+filepath.Join(dir, name), part).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("debugfs dump %s: %v: %s", name, err, out)
		}
	}
	if st, err := os.Stat(db); err != nil || st.Size() == 0 {
		return "", fmt.Errorf("no /tinkerbox.db on /data")
	}
	return db, nil
}

func integrity(path string) (string, int, error) {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return "", 0, err
	}
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM comics").Scan(&n)
	return res, n, err
}

// --- small helpers ----------------------------------------------------------------

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// field returns the value of "Name: value" in tune2fs or /proc output.
func field(s, name string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s*(.*?)\s*$`).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

func lastN(l []strip) int64 {
	if len(l) == 0 {
		return 0
	}
	return slices.MaxFunc(l, func(a, b strip) int { return int(a.N - b.N) }).N
}

func firstOr(m []string, i int) string {
	if len(m) > i {
		return m[i]
	}
	return ""
}

func orErr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

func orEmpty(err error) string {
	if err != nil {
		return ": " + err.Error()
	}
	return ""
}

// notErr turns "not found" (err != nil) into success and a match into msg.
func notErr(err error, msg string) error {
	if err == nil {
		return errors.New(msg)
	}
	return nil
}
