#!/bin/sh
# Writes a tinkerbox image to an SD card.
#
# usage: scripts/flash.sh IMAGE DEVICE    e.g. dist/tinkerbox-pi0w.img.xz /dev/sdb
#
# Refuses disks that are not removable, that are mounted, or that hold the
# running system, shows what it is about to overwrite and asks first
# (FLASH_YES=1 skips the question, for scripts). Needs root for the write.
set -eu

die() { echo "flash: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 IMAGE DEVICE   (e.g. dist/tinkerbox-pi0w.img.xz /dev/sdb)" >&2; exit 2; }
IMAGE=$1
DEV=$2
SYS=${FLASH_SYSFS:-/sys}

[ -f "$IMAGE" ] || die "$IMAGE: no such file"
case "$DEV" in
/dev/*) ;;
*) die "$DEV: give the whole device, e.g. /dev/sdb or /dev/mmcblk0" ;;
esac
[ -b "$DEV" ] || [ -n "${FLASH_SYSFS:-}" ] || die "$DEV: not a block device"
name=${DEV#/dev/}
case "$name" in
*/* | "") die "$DEV: not a disk" ;;
esac
[ -d "$SYS/block/$name" ] || die "$DEV is a partition or unknown; give the whole disk (e.g. /dev/sdb, not /dev/sdb1)"

# Removable media only: SD readers report removable=1; USB card readers
# sometimes do not, but then they sit on the usb bus.
removable=$(cat "$SYS/block/$name/removable" 2>/dev/null || echo 0)
if [ "$removable" != 1 ]; then
	case "$(readlink -f "$SYS/block/$name" 2>/dev/null)" in
	*/usb[0-9]*/* | */mmc_host/*) ;;
	*) die "$DEV is not a removable disk; refusing to overwrite it" ;;
	esac
fi

# Nothing on it may be mounted (that includes the running system).
mounts=${FLASH_MOUNTS:-/proc/mounts}
if grep -Eq "^$DEV(p?[0-9]+)?[[:space:]]" "$mounts"; then
	die "$DEV or one of its partitions is mounted; unmount it first (e.g. 'udisksctl unmount -b ${DEV}1')"
fi

size=$(($(cat "$SYS/block/$name/size") * 512 / 1000000))
model=$(cat "$SYS/block/$name/device/model" 2>/dev/null || echo "unknown model")
echo "About to ERASE $DEV: $model, $size MB, and write $IMAGE to it."
if [ "${FLASH_YES:-}" != 1 ]; then
	printf 'Type yes to continue: '
	read -r answer || answer=
	[ "$answer" = yes ] || die "cancelled, nothing written"
fi
[ -z "${FLASH_SYSFS:-}" ] || die "test mode (FLASH_SYSFS set): stopping before the write"

case "$IMAGE" in
*.xz) xz -dc "$IMAGE" ;;
*) cat "$IMAGE" ;;
esac | dd of="$DEV" bs=4M conv=fsync status=progress
sync
echo "flash: done. Edit wifi.txt on the card's TINKERBOX partition, then boot the Pi."
