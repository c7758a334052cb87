#!/bin/sh
# Buildroot post-image script (BR2_ROOTFS_POST_IMAGE_SCRIPT): writes the boot
# partition files and assembles sdcard.img with genimage (see genimage.cfg:
# p1 config.vfat, p2 and p3 boot.vfat, p5 and p6 rootfs.ext4). boot.vfat and
# rootfs.ext4 stay in BINARIES_DIR: they are the two parts of an update
# bundle (scripts/build-image.sh), byte for byte what a slot holds.
# Arguments: BINARIES_DIR, then the board (BR2_ROOTFS_POST_SCRIPT_ARGS):
# pi0w, pi3, pi02w, pi02w_64 or pi4_64. Needs BINARIES_DIR and BUILD_DIR.
set -eu

BINARIES_DIR=${1:-${BINARIES_DIR:?post-image.sh: BINARIES_DIR not set}}
BOARD=${2:?post-image.sh: board name missing (set BR2_ROOTFS_POST_SCRIPT_ARGS)}
BUILD_DIR=${BUILD_DIR:?post-image.sh: BUILD_DIR not set}
BOARD_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BOARD_DIR/../../.." && pwd)
FW_DIR="$BINARIES_DIR/rpi-firmware"

die() { echo "post-image.sh: $*" >&2; exit 1; }

[ -f "$BOARD_DIR/config-$BOARD.txt" ] || die "unknown board $BOARD (no config-$BOARD.txt)"
[ -d "$FW_DIR" ] || die "$FW_DIR missing (is BR2_PACKAGE_RPI_FIRMWARE enabled?)"

# config.txt = board part (firmware and kernel names) + shared settings,
# with the [boot_partition=N] filter that picks cmdline-a.txt or
# cmdline-b.txt. Nothing reads a cmdline.txt (see config.txt): drop one
# rpi-firmware may have installed, so no stale root= lies on the card.
cat "$BOARD_DIR/config-$BOARD.txt" "$BOARD_DIR/config.txt" >"$FW_DIR/config.txt"
rm -f "$FW_DIR/cmdline.txt"
cp "$BOARD_DIR/cmdline-a.txt" "$BOARD_DIR/cmdline-b.txt" "$FW_DIR/"

# p1: the files the maker edits from any computer, autoboot.txt, and the
# Pi 0-3 boot ROM's bootcode.bin (it is only ever read from p1).
cp "$SRC_DIR/tinkerbox.example.toml" "$BINARIES_DIR/tinkerbox.toml"
cp "$BOARD_DIR/wifi.txt" "$BOARD_DIR/autoboot.txt" "$BINARIES_DIR/"

kernel=$(sed -n 's/^kernel=//p' "$FW_DIR/config.txt" | tail -n 1)
[ -n "$kernel" ] || die "config-$BOARD.txt sets no kernel="
[ -f "$BINARIES_DIR/$kernel" ] || die "kernel $BINARIES_DIR/$kernel missing"

# files LIST PLACEHOLDER: replace the #PLACEHOLDER# line of the genimage
# config on stdin with the files in LIST (paths relative to BINARIES_DIR).
files() {
	awk -v list="$1" -v mark="#$2#" '
		$1 == mark && NF == 1 {
			n = 0
			while ((getline f < list) > 0) {
				if (n++) printf ",\n"
				printf "\t\t\t\"%s\"", f
			}
			printf "\n"
			next
		}
		{ print }
	'
}

config="$BINARIES_DIR/config-files.txt"
printf '%s\n' autoboot.txt tinkerbox.toml wifi.txt >"$config"
if [ -f "$FW_DIR/bootcode.bin" ]; then
	echo rpi-firmware/bootcode.bin >>"$config"
fi

# Everything that goes onto the boot partitions, relative to BINARIES_DIR.
list="$BINARIES_DIR/boot-files.txt"
: >"$list"
for f in "$BINARIES_DIR"/*.dtb "$FW_DIR"/*; do
	[ -e "$f" ] || continue
	[ "${f##*/}" = bootcode.bin ] && continue
	printf '%s\n' "${f#"$BINARIES_DIR"/}" >>"$list"
done
echo "$kernel" >>"$list"

files "$config" CONFIG_FILES <"$BOARD_DIR/genimage.cfg" | files "$list" BOOT_FILES >"$BINARIES_DIR/genimage.cfg"

# genimage copies --rootpath; we hand it prebuilt images only, so give it an
# empty directory instead of TARGET_DIR.
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
rm -rf "$BUILD_DIR/genimage.tmp"
genimage \
	--rootpath "$empty" \
	--tmppath "$BUILD_DIR/genimage.tmp" \
	--inputpath "$BINARIES_DIR" \
	--outputpath "$BINARIES_DIR" \
	--config "$BINARIES_DIR/genimage.cfg"
