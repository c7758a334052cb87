#!/bin/sh
# Assembles the SD-card image the way Buildroot does, from the cross-built
# binary, the real board files, rootfs overlay, post-build.sh and
# post-image.sh (genimage), with stand-in firmware and kernel files, then
# inspects the result: partition table, boot partition, root filesystem and
# the /data placeholder. No root, no loop mounts, no network.
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

for t in genimage mcopy mdir mtype mkfs.vfat mkfs.ext4 debugfs file od; do
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
"$BOARD_DIR/post-build.sh" "$TARGET_DIR"
# The size every defconfig gives the root filesystem: it must fill its slot.
rootfs_size=$(sed -n 's/^BR2_TARGET_ROOTFS_EXT2_SIZE="\(.*\)"$/\1/p' "$SRC/buildroot/configs/tinkerbox_${BOARD}_defconfig")
for c in "$SRC"/buildroot/configs/*_defconfig; do
	grep -qx "BR2_TARGET_ROOTFS_EXT2_SIZE=\"$rootfs_size\"" "$c" || fail "${c##*/}: root filesystem size differs from $rootfs_size"
	# shellcheck disable=SC2016 # a literal Buildroot $(...) reference
	grep -qx 'BR2_PACKAGE_BUSYBOX_CONFIG="$(BR2_EXTERNAL_TINKERBOX_PATH)/board/tinkerbox/busybox.config"' "$c" ||
		fail "${c##*/}: BusyBox is not configured from board/tinkerbox/busybox.config"
	grep -q 'BUSYBOX_CONFIG_FRAGMENT' "$c" && fail "${c##*/}: a BusyBox config fragment would make the image differ from the boot test"
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
# What rpi-firmware installs; post-image.sh must replace it.
echo "upstream sample" >"$BINARIES_DIR/rpi-firmware/config.txt"

"$BOARD_DIR/post-image.sh" "$BINARIES_DIR" "$BOARD" >"$WORK/genimage.log" 2>&1 ||
	{ cat "$WORK/genimage.log" >&2; fail "post-image.sh failed"; }
IMG=$BINARIES_DIR/sdcard.img
[ -f "$IMG" ] || fail "post-image.sh wrote no sdcard.img"
ok "post-image.sh assembled $(($(stat -c %s "$IMG") / MiB)) MiB sdcard.img"

# --- partition table (MBR) -----------------------------------------------
# u8/u32 OFFSET: little-endian integers from the image.
u8() { od -An -tu1 -j "$1" -N 1 "$IMG" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N 4 "$IMG" | tr -d ' '; }
[ "$(od -An -tx1 -j 510 -N 2 "$IMG" | tr -d ' ')" = 55aa ] || fail "no MBR signature"
# part N FIELD: type, flag, start or size (sectors) of MBR entry N.
part() {
	e=$((446 + ($1 - 1) * 16))
	case "$2" in
	flag) u8 "$e" ;;
	type) u8 $((e + 4)) ;;
	start) u32 $((e + 8)) ;;
	size) u32 $((e + 12)) ;;
	esac
}
prev_end=0
for n in 1 2 3 4; do
	s=$(part "$n" start)
	z=$(part "$n" size)
	[ "$z" -gt 0 ] || fail "partition $n is empty"
	[ $((s % 8192)) -eq 0 ] || fail "partition $n starts at sector $s, not 4 MiB aligned"
	[ "$s" -ge "$prev_end" ] || fail "partition $n overlaps partition $((n - 1))"
	prev_end=$((s + z))
done
start1=$(part 1 start)
start2=$(part 2 start)
size2=$(part 2 size)
start4=$(part 4 start)
if [ "$(part 1 type)" -ne 12 ] || [ "$(part 1 flag)" -ne 128 ]; then
	fail "p1 must be a bootable FAT32 LBA (0x0c) partition"
fi
for n in 2 3 4; do
	[ "$(part "$n" type)" -eq 131 ] || fail "p$n must be a Linux (0x83) partition"
done
[ "$(part 1 size)" -eq $((128 * 2048)) ] || fail "boot partition is not 128 MiB"
if [ "$size2" -ne $((256 * 2048)) ] || [ "$(part 3 size)" -ne "$size2" ]; then
	fail "root slots A and B must both be 256 MiB"
fi
[ "$prev_end" -le $(($(stat -c %s "$IMG") / 512)) ] || fail "p4 runs past the image"
ok "MBR: p1 boot FAT32 128M (bootable), p2 rootA 256M, p3 rootB 256M (reserved), p4 data last at sector $start4"

# --- boot partition -------------------------------------------------------
FAT="$IMG@@$((start1 * 512))"
mdir -i "$FAT" -b ::/ >"$WORK/fat.txt" || fail "boot partition is not a FAT filesystem"
mdir -i "$FAT" -b ::/overlays >>"$WORK/fat.txt" || fail "no overlays/ on the boot partition"
for f in bootcode.bin start.elf fixup.dat zImage bcm2708-rpi-zero-w.dtb config.txt cmdline.txt \
	tinkerbox.toml wifi.txt overlays/pwm-2chan.dtbo; do
	grep -q "^::/$f\$" "$WORK/fat.txt" || fail "boot partition lacks $f"
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
mtype -i "$FAT" ::/cmdline.txt >"$WORK/cmdline.txt"
grep -q 'root=/dev/mmcblk0p2 .*ro rootwait' "$WORK/cmdline.txt" || fail "cmdline.txt: root must be p2, read-only"
# The last console= is /dev/console: where init scripts and the first-start
# password go. It must be the serial port, not HDMI.
[ "$(tr ' ' '\n' <"$WORK/cmdline.txt" | grep '^console=' | tail -n 1)" = console=ttyAMA0,115200 ] ||
	fail "cmdline.txt: the serial console must be the last console= ($(cat "$WORK/cmdline.txt"))"
grep -q 'fsck\.' "$WORK/cmdline.txt" && fail "cmdline.txt: fsck.* options do nothing without an initramfs"
mtype -i "$FAT" ::/tinkerbox.toml | cmp -s - tinkerbox.example.toml || fail "tinkerbox.toml differs from tinkerbox.example.toml"
mtype -i "$FAT" ::/wifi.txt | grep -q '^ssid =' || fail "wifi.txt has no ssid line"
ok "boot partition: firmware, kernel, dtb, overlays, config.txt, cmdline.txt, tinkerbox.toml, wifi.txt"

# --- root filesystem ------------------------------------------------------
ROOTFS=$WORK/p2.ext4
dd if="$IMG" of="$ROOTFS" bs=$MiB skip=$((start2 / 2048)) count=$((size2 / 2048)) status=none
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
for d in /boot /data; do dbg "stat $d" | grep -q 'Type: directory' || fail "no mount point $d"; done
dbg "cat /etc/shadow" | grep -q '^root:\*:' || fail "root is not locked in /etc/shadow"
dbg "stat /etc/init.d/S01seedrng" | grep -q 'Type:' && fail "seedrng is still started (it fails on the read-only root)"
ok "rootfs: static ARM /usr/bin/tinkerbox, init scripts, overlay, inittab respawn, read-only fstab, root locked, no seedrng"

# --- /data placeholder -----------------------------------------------------
# S05data creates the filesystem on the device; the image must not carry a
# stale one (ext4 magic 0xEF53 at byte 1080 of the partition).
magic=$(od -An -tx1 -j $((start4 * 512 + 1080)) -N 2 "$IMG" | tr -d ' ')
[ "$magic" != 53ef ] || fail "p4 already holds an ext4 filesystem"
ok "data: p4 is an empty placeholder that S05data grows and formats on first boot"
echo "image-check: PASS"
