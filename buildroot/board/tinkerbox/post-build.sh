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

# The overlay's inittab starts the supervisor and the console logins; make
# sure no package's inittab won over it.
grep -q '^::respawn:/usr/sbin/tinkerbox-supervise$' "$TARGET_DIR/etc/inittab" ||
	{ echo "post-build.sh: $TARGET_DIR/etc/inittab is not the overlay's" >&2; exit 1; }

# Services the appliance does not use. seedrng would write its seed to the
# read-only root at every boot and shutdown (and fail); the kernel seeds its
# RNG by itself. crond has no jobs here.
for s in S01seedrng S20seedrng S20urandom S50crond; do
	if [ -e "$TARGET_DIR/etc/init.d/$s" ]; then
		echo "post-build.sh: removing /etc/init.d/$s (not used by the appliance)"
		rm -f "$TARGET_DIR/etc/init.d/$s"
	fi
done

# No passwordless root: lock an empty root password (S04console opens the
# console for a maker who asks). A hash set on purpose at build time stays.
sed -i 's,^root::,root:*:,' "$TARGET_DIR/etc/shadow"
if grep -q '^root::' "$TARGET_DIR/etc/shadow"; then
	echo "post-build.sh: root still has an empty password" >&2
	exit 1
fi
