#!/bin/sh
# Buildroot post-build script (BR2_ROOTFS_POST_BUILD_SCRIPT): finishes the
# target tree after the packages and the rootfs overlay are installed.
# $1 is TARGET_DIR; Buildroot also exports it. $2 is the board
# (BR2_ROOTFS_POST_SCRIPT_ARGS).
set -eu

TARGET_DIR=${1:-${TARGET_DIR:?post-build.sh: TARGET_DIR not set}}
BOARD=${2:?post-build.sh: board name missing (set BR2_ROOTFS_POST_SCRIPT_ARGS)}
BOARD_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$BOARD_DIR/../../.." && pwd)

# Mount points: the boot partition (read-only) and the data partition.
mkdir -p "$TARGET_DIR/boot" "$TARGET_DIR/data"

# Fallback configuration when the maker deletes tinkerbox.toml from the boot
# partition: the documented defaults, copied rather than duplicated.
install -D -m 0644 "$SRC_DIR/tinkerbox.example.toml" "$TARGET_DIR/etc/tinkerbox.toml"

# What the updater checks a bundle against (see README "Updating"): the
# board, and the public half of the builder's signing key, which
# scripts/build-image.sh makes on the first build and puts next to this
# script in its staging copy (never in the repository).
PUBKEY=${TINKERBOX_UPDATE_PUBKEY:-$BOARD_DIR/update.pub}
[ -f "$PUBKEY" ] || { echo "post-build.sh: no update key $PUBKEY (scripts/build-image.sh makes one)" >&2; exit 1; }
grep -Eqx '[0-9a-f]{64}' "$PUBKEY" || { echo "post-build.sh: $PUBKEY is not an update public key" >&2; exit 1; }
install -D -m 0644 "$PUBKEY" "$TARGET_DIR/etc/tinkerbox/update.pub"
echo "$BOARD" >"$TARGET_DIR/etc/tinkerbox/board"

# The overlay's inittab starts the supervisor and the console logins; make
# sure no package's inittab won over it.
for entry in '::respawn:/usr/sbin/tinkerbox-supervise' '::respawn:/usr/sbin/tinkerbox-updater' \
	'::shutdown:/usr/bin/tinkerbox reboot-hook'; do
	grep -qxF "$entry" "$TARGET_DIR/etc/inittab" ||
		{ echo "post-build.sh: $TARGET_DIR/etc/inittab is not the overlay's (no $entry)" >&2; exit 1; }
done

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
