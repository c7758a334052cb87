#!/bin/sh
# Buildroot post-build script (BR2_ROOTFS_POST_BUILD_SCRIPT): finishes the
# target tree after the packages and the rootfs overlay are installed.
# $1 is TARGET_DIR; Buildroot also exports it.
set -eu

TARGET_DIR=${1:-${TARGET_DIR:?post-build.sh: TARGET_DIR not set}}
BOARD_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BOARD_DIR/../../.." && pwd)

# Mount points: the boot partition (read-only) and the data partition.
mkdir -p "$TARGET_DIR/boot" "$TARGET_DIR/data"

# Fallback configuration when the maker deletes tinkerbox.toml from the boot
# partition: the documented defaults, copied rather than duplicated.
install -D -m 0644 "$SRC_DIR/tinkerbox.example.toml" "$TARGET_DIR/etc/tinkerbox.toml"

inittab="$TARGET_DIR/etc/inittab"
[ -f "$inittab" ] || { echo "post-build.sh: $inittab missing (BusyBox init?)" >&2; exit 1; }

# BusyBox init starts the appliance's supervisor after rcS (so /data is
# mounted and the network is up) and restarts it should it ever die.
if ! grep -q 'tinkerbox-supervise' "$inittab"; then
	printf '%s\n' '::respawn:/usr/sbin/tinkerbox-supervise' >>"$inittab"
fi

# A login on the HDMI console as well as on the serial console.
if ! grep -q '^tty1::' "$inittab"; then
	printf '%s\n' 'tty1::respawn:/sbin/getty -L tty1 0 vt100 # HDMI console' >>"$inittab"
fi
