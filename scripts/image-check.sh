#!/bin/sh
# Assembles the SD-card image the way Buildroot does, from the cross-built
# binary, the real board files, rootfs overlay, post-build.sh and
# post-image.sh (genimage), with stand-in firmware and kernel files, then
# inspects the result: partition table (MBR and the EBR chain of the
# logical partitions), the TINKERBOX partition, the two boot slots, the two
# root slots and the /data placeholder. No root, no loop mounts, no network.
#
# usage: scripts/image-check.sh [BINARY]   (default dist/tinkerbox-linux-armv6)
set -eu

cd "$(dirname "$0")/.."
SRC=$(pwd)
BOARD=pi0w
BIN=${1:-dist/tinkerbox-linux-armv6}
BOARD_DIR=$SRC/buildroot/board/tinkerbox
MiB=1048576

fail() { echo "image-check: FAIL: $*" >&2; exit 1; }
ok() { echo "image-check: ok: $*"; }

for t in genimage mcopy mdir mtype mlabel mkfs.vfat mkfs.ext4 debugfs file od; do
	command -v "$t" >/dev/null && continue
	# A laptop without the image tools still runs the rest of make test;
	# CI installs them (.ci/run), so there a missing tool is a failure.
	[ "${CI:-}" = true ] && fail "$t not installed (Debian: genimage mtools dosfstools e2fsprogs file)"
	echo "image-check: SKIPPED: $t not installed (Debian: genimage mtools dosfstools e2fsprogs file)"
	exit 0
done
[ -f "$BIN" ] || fail "$BIN missing: run 'make arm' first"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TARGET_DIR=$WORK/target
BINARIES_DIR=$WORK/images
BUILD_DIR=$WORK/build
export TARGET_DIR BINARIES_DIR BUILD_DIR
mkdir -p "$TARGET_DIR/etc" "$TARGET_DIR/usr/bin" "$BINARIES_DIR/rpi-firmware/overlays" "$BUILD_DIR"

# --- target tree: a stand-in for what Buildroot's packages install -------
# BusyBox's inittab (the overlay's must replace it) and Buildroot's skeleton
# shadow, whose root has an empty password (post-build.sh must lock it).
printf '%s\n' '::sysinit:/etc/init.d/rcS' '::shutdown:/etc/init.d/rcK' >"$TARGET_DIR/etc/inittab"
printf '%s\n' 'root::::::::' 'daemon:*:::::::' >"$TARGET_DIR/etc/shadow"
mkdir -p "$TARGET_DIR/etc/init.d"
echo 'seedrng || true' >"$TARGET_DIR/etc/init.d/S01seedrng"
cp -a "$BOARD_DIR/rootfs-overlay/." "$TARGET_DIR/"
install -m 0755 "$BIN" "$TARGET_DIR/usr/bin/tinkerbox"
# A stand-in for the builder's update key (post-build.sh bakes its public
# half in; only its format is checked there).
TINKERBOX_UPDATE_PUBKEY=$WORK/update.pub
export TINKERBOX_UPDATE_PUBKEY
printf '%064d\n' 0 >"$TINKERBOX_UPDATE_PUBKEY"
"$BOARD_DIR/post-build.sh" "$TARGET_DIR" "$BOARD"
# The size every defconfig gives the root filesystem: it must fill its slot.
rootfs_size=$(sed -n 's/^BR2_TARGET_ROOTFS_EXT2_SIZE="\(.*\)"$/\1/p' "$SRC/buildroot/configs/tinkerbox_${BOARD}_defconfig")
for c in "$SRC"/buildroot/configs/*_defconfig; do
	grep -qx "BR2_TARGET_ROOTFS_EXT2_SIZE=\"$rootfs_size\"" "$c" || fail "${c##*/}: root filesystem size differs from $rootfs_size"
	# shellcheck disable=SC2016 # a literal Buildroot $(...) reference
	grep -qx 'BR2_PACKAGE_BUSYBOX_CONFIG="$(BR2_EXTERNAL_TINKERBOX_PATH)/board/tinkerbox/busybox.config"' "$c" ||
		fail "${c##*/}: BusyBox is not configured from board/tinkerbox/busybox.config"
	grep -q 'BUSYBOX_CONFIG_FRAGMENT' "$c" && fail "${c##*/}: a BusyBox config fragment would make the image differ from the boot test"
	grep -qx 'BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE=""' "$c" || fail "${c##*/}: rpi-firmware would install a cmdline.txt (config.txt picks cmdline-a.txt or cmdline-b.txt)"
done
[ "$rootfs_size" = 256M ] || fail "root filesystem is $rootfs_size, its partition 256M"
for opt in CONFIG_LOGREAD=y CONFIG_FEATURE_IPC_SYSLOG=y CONFIG_MDEV=y CONFIG_INIT=y '# CONFIG_CROND is not set' '# CONFIG_SEEDRNG is not set'; do
	grep -qx "$opt" "$BOARD_DIR/busybox.config" || fail "busybox.config: want $opt"
done
mkfs.ext4 -q -F -L rootfs -d "$TARGET_DIR" "$BINARIES_DIR/rootfs.ext4" "$rootfs_size" >/dev/null

# --- stand-in firmware, kernel and device tree --------------------------
for f in bootcode.bin start.elf fixup.dat overlays/pwm-2chan.dtbo overlays/miniuart-bt.dtbo; do
	echo "stand-in $f" >"$BINARIES_DIR/rpi-firmware/$f"
done
echo "stand-in zImage" >"$BINARIES_DIR/zImage"
echo "stand-in dtb" >"$BINARIES_DIR/bcm2708-rpi-zero-w.dtb"
# What rpi-firmware installs; post-image.sh must replace the config and
# drop the cmdline (nothing reads one).
echo "upstream sample" >"$BINARIES_DIR/rpi-firmware/config.txt"
echo "root=/dev/mmcblk0p2 rootwait" >"$BINARIES_DIR/rpi-firmware/cmdline.txt"

"$BOARD_DIR/post-image.sh" "$BINARIES_DIR" "$BOARD" >"$WORK/genimage.log" 2>&1 ||
	{ cat "$WORK/genimage.log" >&2; fail "post-image.sh failed"; }
IMG=$BINARIES_DIR/sdcard.img
[ -f "$IMG" ] || fail "post-image.sh wrote no sdcard.img"
ok "post-image.sh assembled $(($(stat -c %s "$IMG") / MiB)) MiB sdcard.img"

# --- partition table: MBR, then the EBR chain -----------------------------
# u8/u32 OFFSET: little-endian integers from the image.
u8() { od -An -tu1 -j "$1" -N 1 "$IMG" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N 4 "$IMG" | tr -d ' '; }
sig() { [ "$(od -An -tx1 -j $(($1 * 512 + 510)) -N 2 "$IMG" | tr -d ' ')" = 55aa ]; }
# ent SECTOR N FIELD: type, flag, start or size of entry N (1-4) of the
# partition table in sector SECTOR (0: the MBR; else an EBR).
ent() {
	e=$(($1 * 512 + 446 + ($2 - 1) * 16))
	case "$3" in
	flag) u8 "$e" ;;
	type) u8 $((e + 4)) ;;
	start) u32 $((e + 8)) ;;
	size) u32 $((e + 12)) ;;
	esac
}
sig 0 || fail "no MBR signature"
# $WORK/parts: "N TYPE FLAG START SIZE" (absolute sectors) of every partition
# as Linux numbers them: the MBR's four, then one logical partition per EBR,
# each EBR's second entry pointing (from the extended partition's start) at
# the next.
: >"$WORK/parts"
for n in 1 2 3 4; do
	echo "$n $(ent 0 "$n" type) $(ent 0 "$n" flag) $(ent 0 "$n" start) $(ent 0 "$n" size)" >>"$WORK/parts"
done
[ "$(ent 0 4 type)" -eq 15 ] || fail "p4 must be the extended partition (type 0x0f), is 0x$(printf %02x "$(ent 0 4 type)")"
ext=$(ent 0 4 start)
ebr=$ext
n=5
while :; do
	sig "$ebr" || fail "the EBR of p$n (sector $ebr) has no signature"
	echo "$n $(ent "$ebr" 1 type) $(ent "$ebr" 1 flag) $((ebr + $(ent "$ebr" 1 start))) $(ent "$ebr" 1 size)" >>"$WORK/parts"
	[ "$(ent "$ebr" 2 type)" -ne 0 ] || break
	[ "$n" -lt 16 ] || fail "the EBR chain does not end"
	ebr=$((ext + $(ent "$ebr" 2 start)))
	n=$((n + 1))
done
# part N FIELD: type, flag, start or size (sectors) of partition N.
part() {
	awk -v n="$1" -v f="$2" '$1 == n { print $(f == "type" ? 2 : f == "flag" ? 3 : f == "start" ? 4 : 5) }' "$WORK/parts"
}
[ "$(wc -l <"$WORK/parts")" -eq 7 ] || fail "want p1-p3, the extended p4 and logical p5-p7; got: $(cat "$WORK/parts")"
prev_end=0
for n in 1 2 3 5 6 7; do
	s=$(part "$n" start)
	z=$(part "$n" size)
	[ "$z" -gt 0 ] || fail "partition $n is empty"
	[ $((s % 8192)) -eq 0 ] || fail "partition $n starts at sector $s, not 4 MiB aligned"
	[ "$s" -ge "$prev_end" ] || fail "partition $n overlaps the one before it"
	prev_end=$((s + z))
	case "$n" in
	[123]) want=12 ;; # FAT32 LBA
	*) want=131 ;;    # Linux
	esac
	[ "$(part "$n" type)" -eq "$want" ] || fail "p$n has type $(part "$n" type), want $want"
done
for n in 5 6 7; do
	[ "$(part "$n" start)" -gt "$ext" ] || fail "logical p$n starts before the extended partition"
done
ext_end=$((ext + $(ent 0 4 size)))
# S05data grows p4, then p7, to the end of the card: p7 must be last in p4,
# and p4 end where p7 ends.
[ "$ext_end" -eq "$prev_end" ] || fail "the extended partition ends at sector $ext_end, p7 at $prev_end"
[ "$prev_end" -eq $(($(stat -c %s "$IMG") / 512)) ] || fail "p7 does not end where the image ends"
[ "$(part 1 flag)" -eq 128 ] || fail "p1 is not marked bootable"
mib() { [ "$(part "$1" size)" -eq $(($2 * 2048)) ] || fail "p$1 is $(($(part "$1" size) / 2048)) MiB, want $2 MiB"; }
mib 1 36
mib 2 64
mib 3 64
mib 5 256
mib 6 256
mib 7 16
ok "partitions: p1 TINKERBOX 36M, p2/p3 boot A/B 64M, p4 extended, p5/p6 root A/B 256M, p7 data 16M last (sector $(part 7 start)), all 4 MiB aligned"

# fat N: the mtools image spec of FAT partition N; same N M: the partitions
# hold the same bytes; is FILE N: partition N is byte for byte FILE.
fat() { echo "$IMG@@$(($(part "$1" start) * 512))"; }
same() {
	[ "$(part "$1" size)" -eq "$(part "$2" size)" ] &&
		cmp -s -n $(($(part "$1" size) * 512)) -i "$(($(part "$1" start) * 512)):$(($(part "$2" start) * 512))" "$IMG" "$IMG"
}
is() { [ "$(stat -L -c %s "$1")" -eq $(($(part "$2" size) * 512)) ] && cmp -s -n "$(stat -L -c %s "$1")" -i "0:$(($(part "$2" start) * 512))" "$1" "$IMG"; }
for n in 1 2 3; do
	[ "$(od -An -c -j $(($(part "$n" start) * 512 + 82)) -N 5 "$IMG" | tr -d ' ')" = FAT32 ] || fail "p$n is not FAT32"
done

# --- p1: TINKERBOX -----------------------------------------------------------
mdir -i "$(fat 1)" -b ::/ >"$WORK/p1.txt" || fail "p1 is not a FAT filesystem"
for f in autoboot.txt tinkerbox.toml wifi.txt bootcode.bin; do
	grep -q "^::/$f\$" "$WORK/p1.txt" || fail "p1 lacks $f"
done
for f in start.elf config.txt cmdline.txt zImage; do
	grep -q "^::/$f\$" "$WORK/p1.txt" && fail "p1 holds $f (boot files belong to the slots p2/p3)"
done
mlabel -s -i "$(fat 1)" :: | grep -q 'Volume label is TINKERBOX *$' || fail "p1's label is not TINKERBOX"
mtype -i "$(fat 1)" ::/autoboot.txt >"$WORK/autoboot.txt"
cmp -s "$WORK/autoboot.txt" "$BOARD_DIR/autoboot.txt" || fail "autoboot.txt differs from the board's"
[ "$(stat -c %s "$WORK/autoboot.txt")" -le 512 ] || fail "autoboot.txt is over the firmware's 512 bytes"
printf '[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n' | cmp -s - "$WORK/autoboot.txt" ||
	fail "autoboot.txt must boot p2, and p3 on a tryboot, with tryboot_a_b=1: $(cat "$WORK/autoboot.txt")"
mtype -i "$(fat 1)" ::/bootcode.bin | cmp -s - "$BINARIES_DIR/rpi-firmware/bootcode.bin" || fail "p1's bootcode.bin is not rpi-firmware's"
mtype -i "$(fat 1)" ::/tinkerbox.toml | cmp -s - tinkerbox.example.toml || fail "tinkerbox.toml differs from tinkerbox.example.toml"
mtype -i "$(fat 1)" ::/wifi.txt | grep -q '^ssid =' || fail "wifi.txt has no ssid line"
ok "p1 TINKERBOX (FAT32): autoboot.txt (p2, tryboot p3), tinkerbox.toml, wifi.txt, bootcode.bin"

# --- p2, p3: the boot slots ----------------------------------------------------
same 2 3 || fail "p2 and p3 differ: a fresh card's slots must be the same boot.vfat"
is "$BINARIES_DIR/boot.vfat" 2 || fail "boot.vfat (an update's boot part) is not what p2 holds"
FAT=$(fat 2)
mdir -i "$FAT" -b ::/ >"$WORK/fat.txt" || fail "p2 is not a FAT filesystem"
mdir -i "$FAT" -b ::/overlays >>"$WORK/fat.txt" || fail "no overlays/ on p2"
for f in start.elf fixup.dat zImage bcm2708-rpi-zero-w.dtb config.txt cmdline-a.txt cmdline-b.txt overlays/pwm-2chan.dtbo; do
	grep -q "^::/$f\$" "$WORK/fat.txt" || fail "p2 lacks $f"
done
for f in cmdline.txt bootcode.bin autoboot.txt tinkerbox.toml wifi.txt; do
	grep -q "^::/$f\$" "$WORK/fat.txt" && fail "p2 holds $f"
done
mtype -i "$FAT" ::/config.txt >"$WORK/config.txt"
for want in '^kernel=zImage$' '^start_file=start.elf$' '^dtparam=i2c_arm=on$' '^dtoverlay=pwm-2chan' \
	'^camera_auto_detect=1$' '^dtparam=watchdog=on$' '^enable_uart=1$'; do
	grep -q "$want" "$WORK/config.txt" || fail "config.txt lacks $want"
done
grep -q 'upstream sample' "$WORK/config.txt" && fail "config.txt is rpi-firmware's sample, not ours"
sed -n 's/^gpu_mem[_0-9]*=//p' "$WORK/config.txt" | while read -r g; do
	[ "$g" -ge 32 ] || fail "config.txt sets gpu_mem=$g (below 32 breaks the camera)"
done
# eff P: the settings config.txt gives a boot from partition P, reading its
# filters as the firmware does; a filter this check does not know fails it.
eff() {
	awk -v p="$1" '
		BEGIN { on = 1 }
		{ sub(/\r$/, ""); sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") }
		/^#/ || $0 == "" { next }
		/^\[/ {
			if ($0 == "[all]") on = 1
			else if ($0 ~ /^\[boot_partition=[0-9]+\]$/) on = ($0 == "[boot_partition=" p "]")
			else { print "unknown filter " $0; exit 1 }
			next
		}
		on { print }
	' "$WORK/config.txt"
}
eff 2 >"$WORK/eff2" || fail "config.txt: $(tail -n 1 "$WORK/eff2")"
eff 3 >"$WORK/eff3" || fail "config.txt: $(tail -n 1 "$WORK/eff3")"
[ "$(sed -n 's/^cmdline=//p' "$WORK/eff2" | tail -n 1)" = cmdline-a.txt ] || fail "a boot from p2 does not get cmdline-a.txt"
[ "$(sed -n 's/^cmdline=//p' "$WORK/eff3" | tail -n 1)" = cmdline-b.txt ] || fail "a boot from p3 does not get cmdline-b.txt"
# Every other setting reaches both slots: it is back under [all].
grep -Ev '^[[:space:]]*(#|\[|cmdline=|$)' "$WORK/config.txt" >"$WORK/common"
for n in 2 3; do
	grep -v '^cmdline=' "$WORK/eff$n" | cmp -s - "$WORK/common" ||
		fail "a boot from p$n misses settings (a filter left open?): $(grep -v '^cmdline=' "$WORK/eff$n" | diff - "$WORK/common" | head -n 5)"
done
for slot in a:5 b:6; do
	f=cmdline-${slot%:*}.txt
	mtype -i "$FAT" "::/$f" >"$WORK/$f"
	[ "$(wc -l <"$WORK/$f")" -eq 1 ] || fail "$f must be one line"
	grep -q "^root=/dev/mmcblk0p${slot#*:} .*ro rootwait" "$WORK/$f" || fail "$f: root must be p${slot#*:}, read-only"
	tr ' ' '\n' <"$WORK/$f" | grep -qx 'panic=10' || fail "$f: no panic=10 (a panic on a trial boot must reset into the committed slot)"
	# The last console= is /dev/console: where init scripts and the
	# first-start password go. It must be the serial port, not HDMI.
	[ "$(tr ' ' '\n' <"$WORK/$f" | grep '^console=' | tail -n 1)" = console=ttyAMA0,115200 ] ||
		fail "$f: the serial console must be the last console= ($(cat "$WORK/$f"))"
	grep -q 'fsck\.' "$WORK/$f" && fail "$f: fsck.* options do nothing without an initramfs"
done
sed 's,root=/dev/mmcblk0p5 ,root=/dev/mmcblk0p6 ,' "$WORK/cmdline-a.txt" | cmp -s - "$WORK/cmdline-b.txt" ||
	fail "cmdline-a.txt and cmdline-b.txt differ in more than the root"
ok "p2 = p3 boot slots (FAT32): firmware, kernel, dtb, overlays, config.txt (p2: cmdline-a.txt root p5, p3: cmdline-b.txt root p6, the rest under [all]), no cmdline.txt"

# --- p5, p6: the root slots ------------------------------------------------------
same 5 6 || fail "p5 and p6 differ: a fresh card's slots must be the same rootfs.ext4"
is "$BINARIES_DIR/rootfs.ext4" 5 || fail "rootfs.ext4 (an update's root part) is not what p5 holds"
ROOTFS=$WORK/p5.ext4
dd if="$IMG" of="$ROOTFS" bs=$MiB skip=$(($(part 5 start) / 2048)) count=$(($(part 5 size) / 2048)) status=none
dbg() { debugfs -R "$1" "$ROOTFS" 2>/dev/null; }
dbg "dump /usr/bin/tinkerbox $WORK/tinkerbox"
[ -s "$WORK/tinkerbox" ] || fail "rootfs has no /usr/bin/tinkerbox"
cmp -s "$WORK/tinkerbox" "$BIN" || fail "/usr/bin/tinkerbox differs from $BIN"
file -b "$WORK/tinkerbox" | grep -q 'ELF 32-bit LSB executable, ARM.*statically linked' ||
	fail "/usr/bin/tinkerbox is not a static 32-bit ARM executable: $(file -b "$WORK/tinkerbox")"
mode() { dbg "stat $1" | sed -n 's/.*Mode: *\([0-7]*\).*/\1/p'; }
for s in $(cd "$BOARD_DIR/rootfs-overlay" && echo etc/init.d/* usr/sbin/tinkerbox-supervise usr/share/udhcpc/default.script); do
	[ "$(mode "/$s")" = 0755 ] || fail "/$s missing or not executable (mode $(mode "/$s"))"
done
(cd "$BOARD_DIR/rootfs-overlay" && find . -type f) | while read -r f; do
	dbg "cat /${f#./}" | cmp -s - "$BOARD_DIR/rootfs-overlay/$f" || fail "rootfs: ${f#./} differs from the overlay"
done
dbg "cat /etc/inittab" | grep -q '^::respawn:/usr/sbin/tinkerbox-supervise$' || fail "inittab does not respawn tinkerbox-supervise"
dbg "cat /etc/tinkerbox.toml" | cmp -s - tinkerbox.example.toml || fail "/etc/tinkerbox.toml is not the example config"
dbg "cat /etc/fstab" | grep -Eq '^/dev/root[[:space:]]+/[[:space:]]+ext4[[:space:]]+ro' || fail "fstab does not keep / read-only"
dbg "cat /etc/fstab" | grep -Eq '^/dev/mmcblk0p1[[:space:]]+/boot[[:space:]]+vfat[[:space:]]+ro' || fail "fstab does not mount p1 (TINKERBOX) read-only at /boot"
for d in /boot /data; do dbg "stat $d" | grep -q 'Type: directory' || fail "no mount point $d"; done
dbg "cat /etc/shadow" | grep -q '^root:\*:' || fail "root is not locked in /etc/shadow"
dbg "stat /etc/init.d/S01seedrng" | grep -q 'Type:' && fail "seedrng is still started (it fails on the read-only root)"
ok "p5 = p6 root slots: static ARM /usr/bin/tinkerbox, init scripts, overlay, inittab respawn, fstab (/ and /boot = p1 read-only), root locked, no seedrng"

# --- /data placeholder -----------------------------------------------------
# S05data creates the filesystem on the device; the image must not carry a
# stale one (ext4 magic 0xEF53 at byte 1080 of the partition).
magic=$(od -An -tx1 -j $(($(part 7 start) * 512 + 1080)) -N 2 "$IMG" | tr -d ' ')
[ "$magic" != 53ef ] || fail "p7 already holds an ext4 filesystem"
ok "data: p7 is an empty placeholder that S05data grows (with p4) and formats on first boot"
echo "image-check: PASS"
