#!/bin/sh
# make boot-test: builds the SD-card image of one 64-bit board (pi4_64) from
# this repository's real files and boots it under qemu-system-aarch64, twice
# and more, the card on an emulated SD controller as /dev/mmcblk0 (see
# scripts/boottest for what is checked).
#
# What Buildroot would build and cannot be built offline comes from Debian's
# packages: the kernel (linux-image-arm64), the firmware files
# (raspi-firmware), e2fsprogs and parted with the C library, and BusyBox,
# compiled here from Debian's source with buildroot/board/tinkerbox/
# busybox.config, the very config the image uses. Everything else is the
# image's own: the rootfs overlay, users.txt, the tinkerbox package's
# permissions, post-build.sh, post-image.sh and genimage.cfg. The only
# test-only piece is an initramfs that loads the drivers Debian builds as
# modules (SD controller, ext4, vfat, virtio-net, watchdog) and hands over to
# the image's /sbin/init. The Pi's boot firmware is played by the harness
# (scripts/boottest/firmware.go): autoboot.txt on p1 and the chosen slot's
# config.txt pick the kernel and command line off the card, and QEMU's own
# device tree gets the /chosen/bootloader node a Pi's firmware adds.
#
# Downloads and builds are cached in $BOOT_TEST_CACHE (default .cache/boot-test,
# ignored by git); a warm run spends its time booting.
#
# usage: scripts/boot-test.sh [ARM64-BINARY]   (default dist/tinkerbox-linux-arm64)
set -eu

cd "$(dirname "$0")/.."
SRC=$(pwd)
BOARD=pi4_64
BIN=${1:-dist/tinkerbox-linux-arm64}
BOARD_DIR=$SRC/buildroot/board/tinkerbox
CACHE=${BOOT_TEST_CACHE:-$SRC/.cache/boot-test}
SUITE=${BOOT_TEST_SUITE:-trixie}
T0=$(date +%s)

say() { echo "boot-test: [$(($(date +%s) - T0))s] $*"; }
die() {
	echo "boot-test: FAIL: $*" >&2
	exit 1
}

for t in qemu-system-aarch64 aarch64-linux-gnu-gcc make apt-get apt-cache dpkg-deb dpkg-source \
	depmod genimage mkfs.ext4 mkfs.vfat mcopy mtype setcap cpio gzip xz dtc fdtget go; do
	command -v "$t" >/dev/null && continue
	msg="$t not installed (Debian: qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross dpkg-dev kmod genimage e2fsprogs dosfstools mtools libcap2-bin cpio xz-utils device-tree-compiler; .ci/run installs them)"
	[ "${CI:-}" = true ] && die "$msg"
	echo "boot-test: SKIPPED: $msg"
	exit 0
done
[ -f "$BIN" ] || die "$BIN missing: run 'make arm' first"
file -b "$BIN" | grep -q 'ARM aarch64.*statically linked' || die "$BIN is not a static arm64 binary"

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# --- 1. Debian's arm64 archive, with apt state of its own -----------------
# The machine's apt configuration is neither read nor changed.
APTD=$CACHE/apt
mkdir -p "$APTD/lists/partial" "$APTD/archives/partial" "$CACHE/debs"
cat >"$APTD/sources.list" <<EOF
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main non-free-firmware
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
EOF
set -- -q -o Dir::Etc::SourceList="$APTD/sources.list" -o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists="$APTD/lists" -o Dir::Cache="$APTD" -o Dir::State::status=/dev/null \
	-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root
if [ -z "$(find "$APTD/lists" -name '*Packages*' -mtime -7 2>/dev/null | head -n 1)" ]; then
	say "reading Debian's $SUITE arm64 package lists"
	if ! apt-get "$@" update >"$APTD/update.log" 2>&1 && [ -z "$(find "$APTD/lists" -name '*Packages*' | head -n 1)" ]; then
		cat "$APTD/update.log" >&2
		# Offline on a laptop with nothing cached yet: the rest of make
		# test still runs. CI reaches Debian's archive, so there it fails.
		[ "${CI:-}" = true ] && die "apt-get update failed: Debian's archive is needed once"
		echo "boot-test: SKIPPED: Debian's package archive is not reachable and nothing is cached in $CACHE"
		exit 0
	fi
fi

# deb PACKAGE: the cached .deb of PACKAGE (downloaded once per version).
deb() {
	f=$(apt-cache "$@" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Filename: //p' | head -n 1)
	[ -n "$f" ] || die "Debian $SUITE has no arm64 package $pkg"
	f=$CACHE/debs/${f##*/}
	if [ ! -s "$f" ]; then
		# apt names the file after the version, epoch and all: take what it wrote.
		rm -rf "$CACHE/debs/new"
		mkdir -p "$CACHE/debs/new"
		(cd "$CACHE/debs/new" && apt-get "$@" download "$pkg" >/dev/null 2>&1) || die "cannot download $pkg"
		mv "$CACHE"/debs/new/*.deb "$f"
	fi
	echo "$f"
}
kpkg=$(apt-cache "$@" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
[ -n "$kpkg" ] || die "cannot resolve linux-image-arm64"
KVER=${kpkg#linux-image-}
# e2fsprogs and parted (S05data) with every library they load.
runtime=$(apt-cache "$@" depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances e2fsprogs parted libc6 | grep -E '^[a-z0-9]' | sort -u)
say "fetching $kpkg, raspi-firmware, $(echo "$runtime" | wc -l) runtime packages"
SYSROOT=$CACHE/sysroot-$(echo "$runtime" | md5sum | cut -c1-8)
if [ ! -f "$SYSROOT/.done" ]; then
	rm -rf "$SYSROOT"
	mkdir -p "$SYSROOT"
	for pkg in $runtime; do dpkg-deb -x "$(deb "$@")" "$SYSROOT"; done
	touch "$SYSROOT/.done"
fi
KDIR=$CACHE/kernel-$KVER
if [ ! -f "$KDIR/.done" ]; then
	rm -rf "$KDIR"
	mkdir -p "$KDIR"
	pkg=$kpkg
	dpkg-deb -x "$(deb "$@")" "$KDIR"
	mkdir -p "$KDIR/lib"
	ln -sfn ../usr/lib/modules "$KDIR/lib/modules"
	depmod -b "$KDIR" "$KVER"
	touch "$KDIR/.done"
fi
FWDIR=$CACHE/firmware
pkg=raspi-firmware
fwdeb=$(deb "$@")
if [ ! -f "$FWDIR/.done" ] || [ "$(cat "$FWDIR/.done")" != "$fwdeb" ]; then
	rm -rf "$FWDIR"
	mkdir -p "$FWDIR"
	dpkg-deb -x "$fwdeb" "$FWDIR"
	echo "$fwdeb" >"$FWDIR/.done"
fi

# --- 2. BusyBox: Debian's source, the image's config ------------------------
BBCONF=$BOARD_DIR/busybox.config
bbver=$(sed -n 's/^# Busybox version: //p' "$BBCONF")
# The Debian source of the version the config was made for, else the newest.
srcver=$(apt-cache "$@" showsrc busybox 2>/dev/null | sed -n 's/^Version: //p' | sort -u |
	awk -v v="$bbver" '{ u = $0; sub(/^[0-9]+:/, "", u); sub(/-[^-]*$/, "", u); if (u == v) print }' | tail -n 1)
if [ -z "$srcver" ]; then
	srcver=$(apt-cache "$@" showsrc busybox | sed -n 's/^Version: //p' | sort -V | tail -n 1)
	say "WARNING: Debian has no BusyBox $bbver source; building $srcver with the $bbver config"
fi
[ -n "$srcver" ] || die "Debian has no BusyBox source"
bbkey=$(md5sum <"$BBCONF" | cut -c1-8)-$(echo "$srcver" | tr ':~' '__')
BB=$CACHE/busybox-$bbkey
if [ ! -f "$BB/install/bin/busybox" ]; then
	say "building BusyBox $srcver (Debian source) with board/tinkerbox/busybox.config"
	rm -rf "$BB"
	mkdir -p "$BB/dl"
	(cd "$BB/dl" && apt-get "$@" source --download-only "busybox=$srcver" >/dev/null 2>&1) ||
		die "cannot download the BusyBox $srcver source"
	dpkg-source -x "$BB"/dl/busybox_*.dsc "$BB/src" >/dev/null
	cp "$BBCONF" "$BB/src/.config"
	(cd "$BB/src" && yes '' | make oldconfig >"$BB/oldconfig.log" 2>&1) || die "BusyBox oldconfig failed"
	# The config must build as it is: an option this source drops or
	# changes means the test would no longer boot what the image boots.
	grep -E '^(CONFIG_|# CONFIG_)' "$BBCONF" | sort >"$BB/want"
	grep -E '^(CONFIG_|# CONFIG_)' "$BB/src/.config" | sort >"$BB/got"
	comm -23 "$BB/want" "$BB/got" >"$BB/lost"
	[ ! -s "$BB/lost" ] || die "BusyBox $srcver does not take these options of busybox.config: $(tr '\n' ' ' <"$BB/lost")"
	comm -13 "$BB/want" "$BB/got" | grep '=' | sed 's/^/  Debian-only option, left at its default: /' || true
	make -C "$BB/src" -j"$(nproc)" CROSS_COMPILE=aarch64-linux-gnu- >"$BB/build.log" 2>&1 ||
		{ tail -n 30 "$BB/build.log" >&2; die "BusyBox build failed"; }
	make -C "$BB/src" CROSS_COMPILE=aarch64-linux-gnu- CONFIG_PREFIX="$BB/install" install >>"$BB/build.log" 2>&1 ||
		die "BusyBox install failed"
fi

# --- 3. the root filesystem, assembled as Buildroot does -------------------
WORK=$CACHE/work
rm -rf "$WORK"
TARGET_DIR=$WORK/target
BINARIES_DIR=$WORK/images
BUILD_DIR=$WORK/build
export TARGET_DIR BINARIES_DIR BUILD_DIR
mkdir -p "$TARGET_DIR" "$BINARIES_DIR/rpi-firmware" "$BUILD_DIR"
say "assembling the root filesystem"
(
	cd "$TARGET_DIR"
	# The skeleton (Buildroot's skeleton-init-common and -sysv): directories,
	# the symlinks that keep a read-only root writable where it must be, and
	# the base accounts, root with an empty password as Buildroot ships it.
	mkdir -p bin sbin lib usr/bin usr/sbin usr/lib etc dev proc sys tmp run root mnt media opt var/lib
	ln -s lib lib64
	ln -s lib usr/lib64
	for d in cache log spool tmp; do ln -s ../tmp "var/$d"; done
	ln -s ../run var/run
	ln -s ../run/lock var/lock
	ln -s ../../tmp var/lib/misc
	ln -s ../tmp/log dev/log
	ln -s ../proc/self/mounts etc/mtab
	ln -s ../run/resolv.conf etc/resolv.conf
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/bin/false' \
		'nobody:x:65534:65534:nobody:/home:/bin/false' >etc/passwd
	printf '%s\n' 'root::::::::' 'daemon:*:::::::' 'nobody:*:::::::' >etc/shadow
	chmod 0600 etc/shadow
	printf '%s\n' root:x:0: daemon:x:1: tty:x:5: disk:x:6: lp:x:7: kmem:x:9: wheel:x:10:root \
		dialout:x:18: video:x:28: audio:x:29: users:x:100: nogroup:x:65534: >etc/group
	echo tinkerbox >etc/hostname
	printf '127.0.0.1\tlocalhost\n127.0.1.1\ttinkerbox\n' >etc/hosts
	echo tinkerbox >etc/issue
	printf '%s\n' /bin/sh /bin/ash >etc/shells
	printf 'export PATH="/bin:/sbin:/usr/bin:/usr/sbin"\n' >etc/profile
)
# Packages: the C library, e2fsprogs and parted from Debian, then BusyBox
# without overwriting them (Buildroot's install-noclobber).
cp -a "$SYSROOT/usr/lib/aarch64-linux-gnu" "$TARGET_DIR/usr/lib/"
cp -L "$SYSROOT/usr/lib/ld-linux-aarch64.so.1" "$TARGET_DIR/lib/ld-linux-aarch64.so.1"
# Where Buildroot installs them: e2fsprogs in /sbin (--sbindir=/sbin), parted
# in /usr/sbin.
for f in mke2fs mkfs.ext4 e2fsck fsck.ext4 resize2fs dumpe2fs tune2fs; do
	cp -a "$SYSROOT/usr/sbin/$f" "$TARGET_DIR/sbin/$f"
done
cp -a "$SYSROOT/usr/sbin/parted" "$TARGET_DIR/usr/sbin/parted"
cp -an "$BB/install/." "$TARGET_DIR/"
# BusyBox's setuid bit, as Buildroot's busybox package sets it.
chmod 4755 "$TARGET_DIR/bin/busybox"
# The tinkerbox package.
install -D -m 0755 "$BIN" "$TARGET_DIR/usr/bin/tinkerbox"
# Target finalize: the overlay, then the post-build script.
cp -a "$BOARD_DIR/rootfs-overlay/." "$TARGET_DIR/"
# The update key: the test's own, made once in the cache (as make image
# makes the builder's outside the repository).
TINKERBOX_UPDATE_KEY=$CACHE/keys/update-signing.key
TINKERBOX_UPDATE_PUBKEY=$CACHE/keys/update.pub
export TINKERBOX_UPDATE_KEY TINKERBOX_UPDATE_PUBKEY
go run ./scripts/mkbundle -pub "$TINKERBOX_UPDATE_PUBKEY" || die "mkbundle: cannot make the update key"
"$BOARD_DIR/post-build.sh" "$TARGET_DIR" "$BOARD"

# Users table (Buildroot's mkusers): user, uid (-1: first free from 1000),
# group, gid, password (! = locked), home, shell, groups, comment.
grep -Ev '^[[:space:]]*(#|$)' "$BOARD_DIR/users.txt" | while read -r user uid group gid pass home shell groups comment; do
	next_id() { awk -F: '$3 >= 1000 && $3 < 30000 && $3 > m { m = $3 } END { print (m ? m + 1 : 1000) }' "$1"; }
	[ "$gid" = -1 ] && gid=$(next_id "$TARGET_DIR/etc/group")
	grep -q "^$group:" "$TARGET_DIR/etc/group" || echo "$group:x:$gid:" >>"$TARGET_DIR/etc/group"
	gid=$(awk -F: -v g="$group" '$1 == g { print $3 }' "$TARGET_DIR/etc/group")
	[ "$uid" = -1 ] && uid=$(next_id "$TARGET_DIR/etc/passwd")
	echo "$user:x:$uid:$gid:$comment:$home:$shell" >>"$TARGET_DIR/etc/passwd"
	case "$pass" in !) pass='!' ;; =*) pass=${pass#=} ;; esac
	echo "$user:$pass:::::::" >>"$TARGET_DIR/etc/shadow"
	for g in $(echo "$groups" | tr ',' ' '); do
		[ "$g" = - ] && continue
		if ! grep -q "^$g:" "$TARGET_DIR/etc/group"; then
			echo "$g:x:$(next_id "$TARGET_DIR/etc/group"):" >>"$TARGET_DIR/etc/group"
		fi
		awk -F: -v OFS=: -v g="$g" -v u="$user" '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' \
			"$TARGET_DIR/etc/group" >"$WORK/group" && cat "$WORK/group" >"$TARGET_DIR/etc/group"
	done
	chown "$uid:$gid" "$TARGET_DIR$home"
done
# Permissions table of the tinkerbox package (makedevs): NAME f MODE UID GID,
# then |xattr lines for the file capabilities.
sed -n '/^define TINKERBOX_PERMISSIONS/,/^endef/p' "$SRC/buildroot/package/tinkerbox/tinkerbox.mk" |
	sed '1d;$d' | while read -r name type mode uid gid _; do
	case "$name" in
	"|xattr") setcap "$type" "$TARGET_DIR$last" ;;
	/*)
		[ "$type" = f ] || die "permissions: only f entries are handled ($name $type)"
		chmod "$mode" "$TARGET_DIR$name"
		chown "$uid:$gid" "$TARGET_DIR$name"
		last=$name
		;;
	esac
done
getcap "$TARGET_DIR/usr/bin/tinkerbox" | grep -q cap_net_bind_service || die "no file capability on /usr/bin/tinkerbox"

rootfs_size=$(sed -n 's/^BR2_TARGET_ROOTFS_EXT2_SIZE="\(.*\)"$/\1/p' "$SRC/buildroot/configs/tinkerbox_${BOARD}_defconfig")
mkfs.ext4 -q -F -L rootfs -d "$TARGET_DIR" "$BINARIES_DIR/rootfs.ext4" "$rootfs_size" ||
	die "the root filesystem does not fit in $rootfs_size"

# --- 4. boot partitions and card, with the real post-image.sh ---------------
# The firmware files Buildroot's rpi-firmware package installs for the
# board's defconfig (package/rpi-firmware/rpi-firmware.mk: bootcode.bin for
# Pi 0-3, start*.elf and fixup*.dat of each variant, the overlays), taken
# from Debian's raspi-firmware, which has every variant.
DEFCONFIG=$SRC/buildroot/configs/tinkerbox_${BOARD}_defconfig
fw=$FWDIR/usr/lib/raspi-firmware
want=
grep -qx 'BR2_PACKAGE_RPI_FIRMWARE_BOOTCODE_BIN=y' "$DEFCONFIG" && want=bootcode.bin
variants=$(sed -n 's/^BR2_PACKAGE_RPI_FIRMWARE_VARIANT_\(.*\)=y$/\1/p' "$DEFCONFIG")
for v in $variants; do
	case "$v" in
	PI) want="$want start.elf fixup.dat" ;;
	PI_X) want="$want start_x.elf fixup_x.dat" ;;
	PI_CD) want="$want start_cd.elf fixup_cd.dat" ;;
	PI_DB) want="$want start_db.elf fixup_db.dat" ;;
	PI4) want="$want start4.elf fixup4.dat" ;;
	PI4_X) want="$want start4x.elf fixup4x.dat" ;;
	PI4_CD) want="$want start4cd.elf fixup4cd.dat" ;;
	PI4_DB) want="$want start4db.elf fixup4db.dat" ;;
	*) die "${DEFCONFIG##*/}: rpi-firmware variant $v is not known to the boot test" ;;
	esac
done
for f in $want; do
	cp "$fw/$f" "$BINARIES_DIR/rpi-firmware/" || die "Debian's raspi-firmware has no $f"
done
cp -a "$fw/overlays" "$BINARIES_DIR/rpi-firmware/"
cp "$KDIR/boot/vmlinuz-$KVER" "$BINARIES_DIR/Image"
cp "$KDIR/usr/lib/linux-image-$KVER/broadcom/bcm2711-rpi-4-b.dtb" "$BINARIES_DIR/"
"$BOARD_DIR/post-image.sh" "$BINARIES_DIR" "$BOARD" >"$WORK/genimage.log" 2>&1 ||
	{ cat "$WORK/genimage.log" >&2; die "post-image.sh failed"; }
sed -n "s/^dtoverlay=\([^,]*\).*/\1/p" "$BINARIES_DIR/rpi-firmware/config.txt" | while read -r o; do
	[ -f "$BINARIES_DIR/rpi-firmware/overlays/$o.dtbo" ] ||
		say "note: overlay $o.dtbo is not in Debian's raspi-firmware (Buildroot's rpi-firmware has it; QEMU does not read it)"
done
IMG=$BINARIES_DIR/sdcard.img
# QEMU's SD card must be a power of two: a 1 GiB card, so /data has room to grow.
CARD=$WORK/card.img
cp --sparse=always "$IMG" "$CARD"
truncate -s 1G "$CARD"

# --- 4b. update bundles, signed as make image signs them ---------------------
# A newer tinkerbox (the same root with another version stamped in), one
# whose tinkerbox does not start, and the newer one signed by another
# builder's key. The boot test installs them over the web (boottest/update.go).
say "building the update bundles"
NEXT_VERSION=boottest-next
BROKEN_VERSION=boottest-broken
go build -o "$WORK/mkbundle" ./scripts/mkbundle || die "cannot build mkbundle"
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w -X main.version=$NEXT_VERSION" \
	-o "$WORK/tinkerbox-next" . || die "cannot build the next tinkerbox"
for v in next broken; do
	rm -rf "$WORK/target-$v"
	cp -a "$TARGET_DIR" "$WORK/target-$v"
done
install -m 0755 "$WORK/tinkerbox-next" "$WORK/target-next/usr/bin/tinkerbox"
setcap cap_net_bind_service+ep "$WORK/target-next/usr/bin/tinkerbox"
printf '#!/bin/sh\necho "tinkerbox: this build does not start (the boot test'"'"'s broken bundle)" >&2\nexit 1\n' \
	>"$WORK/target-broken/usr/bin/tinkerbox"
chmod 0755 "$WORK/target-broken/usr/bin/tinkerbox"
for v in next broken; do
	mkfs.ext4 -q -F -L rootfs -d "$WORK/target-$v" "$WORK/rootfs-$v.ext4" "$rootfs_size" || die "rootfs-$v does not fit"
done
"$WORK/mkbundle" -board "$BOARD" -version "$NEXT_VERSION" -boot "$BINARIES_DIR/boot.vfat" -root "$WORK/rootfs-next.ext4" -o "$WORK/next.tbup"
"$WORK/mkbundle" -board "$BOARD" -version "$BROKEN_VERSION" -boot "$BINARIES_DIR/boot.vfat" -root "$WORK/rootfs-broken.ext4" -o "$WORK/broken.tbup"
TINKERBOX_UPDATE_KEY=$CACHE/keys/another-builder.key "$WORK/mkbundle" -board "$BOARD" -version "$NEXT_VERSION" \
	-boot "$BINARIES_DIR/boot.vfat" -root "$WORK/rootfs-next.ext4" -o "$WORK/badsig.tbup" 2>/dev/null

# --- 5. the test-only initramfs ---------------------------------------------
say "packing the test initramfs"
INITRD=$WORK/initramfs
mkdir -p "$INITRD/bin" "$INITRD/lib" "$INITRD/usr/lib" "$INITRD/proc" "$INITRD/sys" "$INITRD/dev" "$INITRD/newroot" "$INITRD/modules"
cp "$BB/install/bin/busybox" "$INITRD/bin/"
cp -a "$TARGET_DIR/usr/lib/aarch64-linux-gnu" "$INITRD/usr/lib/"
rm -rf "$INITRD/usr/lib/aarch64-linux-gnu/gconv"
cp "$TARGET_DIR/lib/ld-linux-aarch64.so.1" "$INITRD/lib/"
MODDIR=$KDIR/usr/lib/modules/$KVER
: >"$INITRD/modules/order"
# add MODULE: its dependencies first (modules.dep), each once.
add() {
	# shellcheck disable=SC3043 # local: the function recurses (dash and BusyBox sh have it)
	local line f dep
	line=$(grep -E "/$1\.ko(\.xz)?:" "$MODDIR/modules.dep") || die "no module $1 in $KVER"
	f=${line%%:*}
	for dep in ${line#*:}; do add "$(basename "$dep" | sed 's/\.ko.*//')"; done
	grep -qx "$1.ko" "$INITRD/modules/order" && return 0
	case "$f" in
	*.xz) xz -dc "$MODDIR/$f" >"$INITRD/modules/$1.ko" ;;
	*) cp "$MODDIR/$f" "$INITRD/modules/$1.ko" ;;
	esac
	echo "$1.ko" >>"$INITRD/modules/order"
}
for m in crc32c_generic sdhci-pci ext4 vfat nls_cp437 nls_ascii virtio_net i6300esb; do add "$m"; done
cat >"$INITRD/init" <<'EOF'
#!/bin/busybox sh
# Test-only: load the modules Debian's kernel needs for this machine (the
# Pi kernel has them built in), then start the image's own init.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "/modules/$m" || echo "initramfs: insmod $m failed"; done </modules/order
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
i=0
while [ ! -b "$root" ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
# Mounted as the kernel mounts a root itself (a Pi boots without an
# initramfs): from a node named /dev/root that is gone afterwards, so
# /proc/mounts says /dev/root and nothing can open that name (parted, for
# one, finds mounted partitions by it).
mknod /dev/root b $(tr ':' ' ' <"/sys/class/block/${root#/dev/}/dev")
mount -t ext4 -o ro /dev/root /newroot || { echo "initramfs: cannot mount $root"; poweroff -f; }
rm /dev/root
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
chmod 0755 "$INITRD/init"
(cd "$INITRD" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz"

# --- 6. boot it ---------------------------------------------------------------
# The harness plays the Pi's firmware: autoboot.txt, config.txt and the
# cmdline file on the card say which slot, kernel and command line boot.
say "image: sdcard.img $(($(stat -c %s "$IMG") / 1048576)) MiB, rootfs $(du -sm "$TARGET_DIR" | cut -f1) MiB used of $rootfs_size; kernel $KVER; BusyBox $srcver"
go run ./scripts/boottest -card "$CARD" -initrd "$WORK/initramfs.cpio.gz" -logs "$WORK" -t0 "$T0" \
	-bundle-next "$WORK/next.tbup" -bundle-broken "$WORK/broken.tbup" -bundle-badsig "$WORK/badsig.tbup" \
	-next-version "$NEXT_VERSION" -broken-version "$BROKEN_VERSION"
