#!/bin/sh
# Buildroot post-image script (BR2_ROOTFS_POST_IMAGE_SCRIPT): writes the boot
# partition files and assembles sdcard.img with genimage.
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

# config.txt = board part (firmware and kernel names) + shared settings.
cat "$BOARD_DIR/config-$BOARD.txt" "$BOARD_DIR/config.txt" >"$FW_DIR/config.txt"
cp "$BOARD_DIR/cmdline.txt" "$FW_DIR/cmdline.txt"

# Files the maker edits from any computer.
cp "$SRC_DIR/tinkerbox.example.toml" "$BINARIES_DIR/tinkerbox.toml"
cp "$BOARD_DIR/wifi.txt" "$BINARIES_DIR/wifi.txt"

kernel=$(sed -n 's/^kernel=//p' "$FW_DIR/config.txt" | tail -n 1)
[ -n "$kernel" ] || die "config-$BOARD.txt sets no kernel="
[ -f "$BINARIES_DIR/$kernel" ] || die "kernel $BINARIES_DIR/$kernel missing"

# Everything that goes onto the FAT partition, relative to BINARIES_DIR.
list="$BINARIES_DIR/boot-files.txt"
: >"$list"
for f in "$BINARIES_DIR"/*.dtb "$FW_DIR"/*; do
	[ -e "$f" ] || continue
	printf '%s\n' "${f#"$BINARIES_DIR"/}" >>"$list"
done
printf '%s\n' "$kernel" tinkerbox.toml wifi.txt >>"$list"

awk -v list="$list" '
	/^[ \t]*#BOOT_FILES#[ \t]*$/ {
		n = 0
		while ((getline f < list) > 0) {
			if (n++) printf ",\n"
			printf "\t\t\t\"%s\"", f
		}
		printf "\n"
		next
	}
	{ print }
' "$BOARD_DIR/genimage.cfg" >"$BINARIES_DIR/genimage.cfg"

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
