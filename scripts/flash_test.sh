#!/bin/sh
# Checks scripts/flash.sh's refusals against a fake /sys and /proc/mounts.
# It never writes: with FLASH_SYSFS set, flash.sh stops before dd.
set -eu

cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=0
fail() {
	echo "flash_test: FAIL: $*" >&2
	failed=1
}

SYS=$WORK/sys
mkdir -p "$SYS/block/sda" "$SYS/block/sdb/device" "$SYS/block/sdb/sdb1"
echo 0 >"$SYS/block/sda/removable"
echo 1 >"$SYS/block/sdb/removable"
echo 31116288 >"$SYS/block/sdb/size"
echo "SD card" >"$SYS/block/sdb/device/model"
echo "/dev/sda2 / ext4 rw 0 0" >"$WORK/mounts"
echo image >"$WORK/img"
export FLASH_SYSFS="$SYS" FLASH_MOUNTS="$WORK/mounts"

# expect WANT_RC PATTERN [STDIN] -- ARGS: run flash.sh, check exit and output.
expect() {
	want=$1 pattern=$2 input=$3
	shift 4
	rc=0
	printf '%s\n' "$input" | sh scripts/flash.sh "$@" >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "flash.sh $*: exit $rc, want $want: $(cat "$WORK/out")"
	grep -q "$pattern" "$WORK/out" || fail "flash.sh $*: no '$pattern' in: $(cat "$WORK/out")"
}

expect 2 usage "" -- "$WORK/img"
expect 1 'not a removable disk' yes -- "$WORK/img" /dev/sda
expect 1 'partition or unknown' yes -- "$WORK/img" /dev/sdb1
expect 1 'no such file' yes -- "$WORK/nope" /dev/sdb
echo "/dev/sdb1 /media/boot vfat rw 0 0" >>"$WORK/mounts"
expect 1 'is mounted' yes -- "$WORK/img" /dev/sdb
echo "/dev/sda2 / ext4 rw 0 0" >"$WORK/mounts"
expect 1 'cancelled, nothing written' no -- "$WORK/img" /dev/sdb
expect 1 'About to ERASE /dev/sdb: SD card, 15931 MB' no -- "$WORK/img" /dev/sdb
expect 1 'test mode' yes -- "$WORK/img" /dev/sdb

[ "$failed" -eq 0 ] || exit 1
echo "flash_test: PASS"
