#!/bin/sh
# Builds the tinkerbox SD-card image with Buildroot.
#
# usage: scripts/build-image.sh BOARD    (pi0w pi3 pi02w pi02w_64 pi4_64)
# env:   BR_DIR  where Buildroot and its downloads live (default ~/.cache/tinkerbox-br)
#        OUT     build directory (default output/BOARD in the checkout)
#        JOBS    parallel jobs (default: all cores)
#
# Downloads the Buildroot release pinned in buildroot/buildroot.hash,
# verifies its sha256, copies the checkout to a staging tree and vendors the
# Go modules there (the checkout itself is never modified), then configures
# and builds, and writes dist/tinkerbox-BOARD.img.xz and the update bundle
# dist/tinkerbox-BOARD-VERSION.tbup. A first build takes about an hour and
# ~15 GB of disk; later builds reuse OUT.
#
# Bundles are signed with the builder's key, $TINKERBOX_UPDATE_KEY or
# ~/.config/tinkerbox/update-signing.key, made on the first build; the
# image holds its public half and installs only bundles it signed. Keep the
# key (and a copy): without it, the devices flashed from this machine can
# only be updated by flashing them again.
set -eu

cd "$(dirname "$0")/.."
SRC=$(pwd)
BOARD=${1:-}
case "$BOARD" in
pi0w | pi3 | pi02w | pi02w_64 | pi4_64) ;;
*)
	echo "usage: $0 pi0w|pi3|pi02w|pi02w_64|pi4_64" >&2
	exit 2
	;;
esac

die() { echo "build-image: $*" >&2; exit 1; }

HASHFILE=$SRC/buildroot/buildroot.hash
BR_TARBALL=$(awk '$1 == "sha256" && $3 ~ /^buildroot-.*\.tar\.xz$/ { print $3; exit }' "$HASHFILE")
[ -n "$BR_TARBALL" ] || die "buildroot/buildroot.hash names no buildroot-*.tar.xz"
BR_VERSION=${BR_TARBALL#buildroot-}
BR_VERSION=${BR_VERSION%.tar.xz}
BR_SHA256=$(awk -v f="$BR_TARBALL" '$1 == "sha256" && $3 == f { print $2 }' "$HASHFILE")
if ! printf '%s' "$BR_SHA256" | grep -Eq '^[0-9a-f]{64}$'; then
	die "no confirmed sha256 for $BR_TARBALL in buildroot/buildroot.hash (see the comment there)"
fi

BR_DIR=${BR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tinkerbox-br}
OUT=${OUT:-$SRC/output/$BOARD}
JOBS=${JOBS:-$(nproc)}
for t in curl tar xz make go git rsync; do
	command -v "$t" >/dev/null || die "$t is needed (see README, 'Building the image')"
done

# 1. Buildroot, verified.
mkdir -p "$BR_DIR/dl"
if [ ! -f "$BR_DIR/buildroot-$BR_VERSION/Makefile" ]; then
	tarball=$BR_DIR/dl/$BR_TARBALL
	[ -f "$tarball" ] || curl -fL --retry 3 -o "$tarball.part" "https://buildroot.org/downloads/$BR_TARBALL"
	[ -f "$tarball" ] || mv "$tarball.part" "$tarball"
	echo "$BR_SHA256  $tarball" | sha256sum -c - ||
		{ rm -f "$tarball"; die "$BR_TARBALL: checksum mismatch, deleted"; }
	tar -C "$BR_DIR" -xJf "$tarball"
fi
BR=$BR_DIR/buildroot-$BR_VERSION

# 2. A staging copy of the checkout with vendored modules: Buildroot builds
# Go with -mod=vendor and no network, and a vendor/ in the checkout would
# change everyone's everyday builds.
STAGE=$OUT/src
mkdir -p "$STAGE"
rsync -a --delete --exclude=/.git --exclude=/.cache --exclude=/dist --exclude=/output --exclude=/data --exclude=/vendor "$SRC/" "$STAGE/"
(cd "$STAGE" && go mod vendor)
VERSION=$(git -C "$SRC" describe --tags --always --dirty 2>/dev/null || echo dev)
# The signing key (made once) and its public half for post-build.sh.
go run ./scripts/mkbundle -pub "$STAGE/buildroot/board/tinkerbox/update.pub" ||
	die "cannot make or read the update signing key"

# 3. Configure and build.
make -C "$BR" O="$OUT" BR2_EXTERNAL="$STAGE/buildroot" BR2_DL_DIR="$BR_DIR/dl" "tinkerbox_${BOARD}_defconfig"
# Source changes must reach the image: rebuild the package every time.
rm -rf "$OUT"/build/tinkerbox-*/
make -C "$OUT" BR2_DL_DIR="$BR_DIR/dl" TINKERBOX_VERSION="$VERSION" -j"$JOBS"

# 4. Compress for flashing.
mkdir -p "$SRC/dist"
xz -T0 -6 -c "$OUT/images/sdcard.img" >"$SRC/dist/tinkerbox-$BOARD.img.xz.part"
mv "$SRC/dist/tinkerbox-$BOARD.img.xz.part" "$SRC/dist/tinkerbox-$BOARD.img.xz"
echo "build-image: wrote dist/tinkerbox-$BOARD.img.xz ($VERSION)"

# 5. The update bundle: this build's boot and root images, signed.
go run ./scripts/mkbundle -board "$BOARD" -version "$VERSION" -boot "$OUT/images/boot.vfat" \
	-root "$OUT/images/rootfs.ext4" -o "$SRC/dist/tinkerbox-$BOARD-$VERSION.tbup"
