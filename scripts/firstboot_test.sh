#!/bin/sh
# shellcheck disable=SC2016,SC2015 # stub bodies are literal code; A && B || fail is meant
# Runs the image's init scripts against a temporary root with stub commands
# on PATH (they log their arguments): the first-boot /data setup, the
# tinkerbox supervisor and the WiFi setup. No root, no sleeping, no network.
set -eu

cd "$(dirname "$0")/.."
OVERLAY=$(pwd)/buildroot/board/tinkerbox/rootfs-overlay
failed=0
fail() {
	echo "firstboot_test: FAIL: $*" >&2
	failed=1
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# stub NAME BODY: a command on the stub PATH that logs its arguments, then
# runs BODY (sh). $ROOT/state holds what the fake system remembers.
stub() {
	printf '#!/bin/sh\necho "%s $*" >>"$ROOT/cmds.log"\n%s\n' "$1" "$2" >"$WORK/bin/$1"
	/bin/chmod +x "$WORK/bin/$1" # absolute: chmod itself gets stubbed
}

# --- /data: first boot, second boot, interrupted first boot ---------------
# S05data runs against the real e2fsprogs (mkfs.ext4, dumpe2fs, e2fsck,
# resize2fs: the image's tools) on a partition image file. Only what needs
# a device or root is a stub, and each stub keeps the real tool's rules:
# parted grows the extended partition 4, and the logical partition 7 (the
# file) to the end of the card only once partition 4 reaches it; mount -t
# ext4 refuses anything that is not ext4.
for t in mkfs.ext4 dumpe2fs e2fsck resize2fs tune2fs; do
	command -v "$t" >/dev/null || PATH=$PATH:/sbin:/usr/sbin
	command -v "$t" >/dev/null && continue
	[ "${CI:-}" = true ] && { echo "firstboot_test: FAIL: $t not installed (Debian: e2fsprogs)" >&2; exit 1; }
	echo "firstboot_test: SKIPPED: $t not installed (Debian: e2fsprogs)"
	exit 0
done
DISK_SECTORS=4194304 # a 2 GiB card; p7 is the 16 MiB placeholder at 692 MiB
P7_START=1417216
new_root() {
	ROOT=$WORK/root
	rm -rf "$ROOT"
	mkdir -p "$ROOT/data" "$ROOT/state" "$ROOT/sys/class/block/mmcblk0/mmcblk0p7"
	echo "$DISK_SECTORS" >"$ROOT/sys/class/block/mmcblk0/size"
	echo "$P7_START" >"$ROOT/sys/class/block/mmcblk0/mmcblk0p7/start"
	echo 32768 >"$ROOT/sys/class/block/mmcblk0/mmcblk0p7/size"
	ln -s mmcblk0/mmcblk0p7 "$ROOT/sys/class/block/mmcblk0p7"
	# Where the extended partition 4 ends (sectors): where p7 ends, as
	# flashed. Only the partition table knows it (sysfs shows 2 sectors).
	echo $((P7_START + 32768)) >"$ROOT/state/p4-end"
	# The placeholder as flashed: zeros (sparse).
	TB_DATA_DEV=$ROOT/p7.img
	rm -f "$TB_DATA_DEV"
	truncate -s 16M "$TB_DATA_DEV"
	: >"$ROOT/cmds.log"
	export ROOT TB_DATA_DEV
}
# wrap NAME: the real NAME (never a stub of it), logged like a stub.
REAL_PATH=$PATH
wrap() {
	real=$(PATH=$REAL_PATH command -v "$1")
	printf '#!/bin/sh\necho "%s $*" >>"$ROOT/cmds.log"\nexec %s "$@"\n' "$1" "$real" >"$WORK/bin/$1"
	/bin/chmod +x "$WORK/bin/$1"
}
rm -rf "${WORK:?}/bin"
mkdir -p "$WORK/bin"
for t in mkfs.ext4 dumpe2fs e2fsck resize2fs; do wrap "$t"; done
stub parted 'disk=$(cat "$ROOT/sys/class/block/mmcblk0/size")
case "$*" in
"-s /dev/mmcblk0 resizepart 4 100%") echo "$disk" >"$ROOT/state/p4-end" ;;
"-s /dev/mmcblk0 resizepart 7 100%")
	# As parted: a logical partition stays inside its extended partition.
	[ "$(cat "$ROOT/state/p4-end")" = "$disk" ] || { echo "Error: Can not have overlapping partitions." >&2; exit 1; }
	size=$((disk - $(cat "$ROOT/sys/class/block/mmcblk0p7/start")))
	truncate -s $((size * 512)) "$TB_DATA_DEV"
	echo "$size" >"$ROOT/sys/class/block/mmcblk0p7/size"
	;;
*) echo "parted stub: unexpected $*" >&2; exit 1 ;;
esac'
stub mount 'case "$*" in
*tmpfs*) ;;
*"-t ext4"*) dumpe2fs -h "$TB_DATA_DEV" >/dev/null 2>&1 || { echo "mount: wrong fs type" >&2; exit 32; } ;;
*) exit 1 ;;
esac
touch "$ROOT/state/mounted"'
stub mountpoint '[ -f "$ROOT/state/mounted" ]'
stub umount 'rm -f "$ROOT/state/mounted"'
stub chown ''
stub chmod ''
stub sync ''
PATH=$WORK/bin:$PATH

count() { grep -c "^$1 " "$ROOT/cmds.log" || true; }
uuid() { dumpe2fs -h "$TB_DATA_DEV" 2>/dev/null | sed -n 's/^Filesystem UUID: *//p'; }
fs_bytes() { dumpe2fs -h "$TB_DATA_DEV" 2>/dev/null | awk -F: '/^Block count/ { c = $2 } /^Block size/ { s = $2 } END { print c * s }'; }
grown_bytes=$(((DISK_SECTORS - P7_START) * 512))

new_root
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data first boot: $(cat "$WORK/out")"
[ "$(grep '^parted ' "$ROOT/cmds.log" | tr '\n' ' ')" = "parted -s /dev/mmcblk0 resizepart 4 100% parted -s /dev/mmcblk0 resizepart 7 100% " ] ||
	fail "first boot: want parted to grow p4, then p7; got: $(grep '^parted ' "$ROOT/cmds.log" | tr '\n' ';')"
[ "$(count mkfs.ext4)" = 1 ] || fail "first boot: mkfs.ext4 ran $(count mkfs.ext4) times, want 1"
grep -q "^mkfs.ext4 .*-L tinkerbox-data .*-E nodiscard" "$ROOT/cmds.log" || fail "first boot: mkfs without the label or with discard: $(grep mkfs "$ROOT/cmds.log")"
[ "$(fs_bytes)" = "$grown_bytes" ] || fail "first boot: filesystem is $(fs_bytes) bytes, the grown partition $grown_bytes"
dumpe2fs -h "$TB_DATA_DEV" 2>/dev/null | grep -q '^Block size: *4096$' || fail "first boot: not 4 KiB blocks"
grep -q "^mount -t ext4 .* $TB_DATA_DEV $ROOT/data\$" "$ROOT/cmds.log" || fail "first boot: /data not mounted from p7"
first_uuid=$(uuid)
[ -n "$first_uuid" ] || fail "first boot: no filesystem made"

# Second boot: the same filesystem, checked and mounted, never formatted
# (BusyBox's blkid without FEATURE_BLKID_TYPE once made every boot a first).
rm -f "$ROOT/state/mounted"
: >"$ROOT/cmds.log"
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data second boot: $(cat "$WORK/out")"
for c in parted mkfs.ext4 resize2fs; do
	[ "$(count "$c")" = 0 ] || fail "second boot ran $c"
done
[ "$(count e2fsck)" = 1 ] && [ "$(count mount)" = 1 ] || fail "second boot: want one e2fsck and one mount, got: $(cat "$ROOT/cmds.log")"
[ "$(uuid)" = "$first_uuid" ] || fail "second boot: filesystem UUID changed: /data was reformatted"

# Already mounted (script run twice in one boot): nothing at all.
: >"$ROOT/cmds.log"
sh "$OVERLAY/etc/init.d/S05data" start >/dev/null 2>&1 || fail "S05data re-run failed"
[ "$(grep -vc '^mountpoint ' "$ROOT/cmds.log" || true)" = 0 ] || fail "re-run with /data mounted did something: $(cat "$ROOT/cmds.log")"

# A damaged primary superblock: repaired from the backup, never formatted.
rm -f "$ROOT/state/mounted"
dd if=/dev/zero of="$TB_DATA_DEV" bs=1024 seek=1 count=1 conv=notrunc status=none
: >"$ROOT/cmds.log"
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data with a damaged superblock: $(cat "$WORK/out")"
[ "$(count mkfs.ext4)" = 0 ] || fail "damaged superblock: /data was reformatted"
grep -q '^e2fsck -y -b 32768' "$ROOT/cmds.log" || fail "damaged superblock: not repaired from the backup: $(cat "$ROOT/cmds.log")"
[ "$(uuid)" = "$first_uuid" ] || fail "damaged superblock: UUID $(uuid), want $first_uuid"

# A backup superblock that e2fsck cannot bring back: still never formatted.
new_root
truncate -s 600M "$TB_DATA_DEV"
echo $((600 * 2048)) >"$ROOT/sys/class/block/mmcblk0p7/size"
echo $((600 * 2048 + P7_START)) >"$ROOT/sys/class/block/mmcblk0/size"
mkfs.ext4 -q -F -T default -b 4096 "$TB_DATA_DEV"
dd if=/dev/zero of="$TB_DATA_DEV" bs=1024 seek=1 count=1 conv=notrunc status=none
stub e2fsck 'exit 8'
: >"$ROOT/cmds.log"
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 && fail "S05data with an unrepairable filesystem succeeded"
[ "$(count mkfs.ext4)" = 0 ] || fail "unrepairable filesystem: formatted"
grep -q 'could not be repaired; nothing was formatted' "$WORK/out" || fail "unrepairable filesystem: no message: $(cat "$WORK/out")"
wrap e2fsck

# Power cut after the grow, before mkfs: the next boot only formats.
new_root
truncate -s "$grown_bytes" "$TB_DATA_DEV"
echo $((DISK_SECTORS - P7_START)) >"$ROOT/sys/class/block/mmcblk0p7/size"
echo "$DISK_SECTORS" >"$ROOT/state/p4-end"
sh "$OVERLAY/etc/init.d/S05data" start >/dev/null 2>&1 || fail "S05data after power cut failed"
[ "$(count parted)" = 0 ] && [ "$(count mkfs.ext4)" = 1 ] || fail "after a power cut: want mkfs only, got: $(cat "$ROOT/cmds.log")"

# Power cut between growing p4 and p7: the next boot grows both again (p4
# is already there) and formats the whole of p7.
new_root
echo "$DISK_SECTORS" >"$ROOT/state/p4-end"
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data after a cut between the grows: $(cat "$WORK/out")"
[ "$(count parted)" = 2 ] && [ "$(count mkfs.ext4)" = 1 ] && [ "$(fs_bytes)" = "$grown_bytes" ] ||
	fail "after a cut between the grows: want parted twice, one mkfs of $grown_bytes bytes; got $(fs_bytes) bytes: $(cat "$ROOT/cmds.log")"

# parted refuses to grow p4: no p7 grow attempted past it, a clear error,
# /data made where it is; the next boot grows it and keeps the filesystem.
new_root
cp "$WORK/bin/parted" "$ROOT/parted.real"
stub parted 'case "$*" in *" 4 "*) echo "Error: Partition /dev/mmcblk0p4 is being used." >&2; exit 1 ;; esac; exec "$ROOT/parted.real" "$@"'
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data with a failing parted: $(cat "$WORK/out")"
grep -q 'ERROR: parted could not grow partitions 4 and 7' "$WORK/out" || fail "failing parted: no message: $(cat "$WORK/out")"
[ "$(count parted)" = 1 ] && [ "$(count mkfs.ext4)" = 1 ] || fail "failing parted: want one parted, one mkfs; got: $(cat "$ROOT/cmds.log")"
refused_uuid=$(uuid)
cp "$ROOT/parted.real" "$WORK/bin/parted"
rm -f "$ROOT/state/mounted"
: >"$ROOT/cmds.log"
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data after a failing parted: $(cat "$WORK/out")"
[ "$(uuid)" = "$refused_uuid" ] && [ "$(fs_bytes)" = "$grown_bytes" ] && [ "$(count mkfs.ext4)" = 0 ] ||
	fail "after a failing parted: want the same filesystem grown to $grown_bytes bytes; got $(fs_bytes): $(cat "$ROOT/cmds.log")"

# A formatted but small partition (card cloned to a bigger one): grow + resize2fs, no mkfs.
new_root
mkfs.ext4 -q -F -T default -b 4096 "$TB_DATA_DEV"
small_uuid=$(uuid)
: >"$ROOT/cmds.log"
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data grow-existing failed: $(cat "$WORK/out")"
[ "$(count parted)" = 2 ] && [ "$(count resize2fs)" = 1 ] && [ "$(count mkfs.ext4)" = 0 ] ||
	fail "existing filesystem on a bigger card: want parted (p4, p7) + resize2fs, no mkfs; got: $(cat "$ROOT/cmds.log")"
[ "$(uuid)" = "$small_uuid" ] && [ "$(fs_bytes)" = "$grown_bytes" ] || fail "grown filesystem: UUID $(uuid) ($small_uuid), $(fs_bytes) bytes ($grown_bytes)"

# Mount fails: /data falls back to RAM so the appliance still starts.
new_root
stub mount 'case "$*" in *tmpfs*) touch "$ROOT/state/mounted" ;; *) exit 32 ;; esac'
sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1 || fail "S05data with a broken mount exited non-zero"
grep -q '^mount -t tmpfs ' "$ROOT/cmds.log" || fail "broken data partition: no tmpfs fallback"
grep -q 'stays in RAM' "$WORK/out" || fail "broken data partition: no message on the console"

# Without e2fsprogs nothing may be formatted: a clear error, /data in RAM.
new_root
rm -f "$WORK/bin/dumpe2fs"
(PATH=$WORK/bin:/bin:/usr/bin sh "$OVERLAY/etc/init.d/S05data" start >"$WORK/out" 2>&1) && fail "S05data without dumpe2fs succeeded"
grep -q 'ERROR: dumpe2fs missing' "$WORK/out" || fail "no message when dumpe2fs is missing: $(cat "$WORK/out")"
[ "$(count mkfs.ext4)" = 0 ] || fail "formatted without dumpe2fs"
wrap dumpe2fs

# --- console root login: locked unless /boot/root-password.txt holds a hash
new_root
mkdir -p "$ROOT/boot" "$ROOT/etc" "$ROOT/run"
printf '%s\n' 'root:*:::::::' 'tinkerbox:!:::::::' >"$ROOT/etc/shadow"
stub mount 'echo "$*" >"$ROOT/state/bound"'
sh "$OVERLAY/etc/init.d/S04console" start >"$WORK/out" 2>&1 || fail "S04console without a password file: $(cat "$WORK/out")"
[ ! -f "$ROOT/state/bound" ] || fail "console: opened without /boot/root-password.txt"
hash='$6$salt$abcdefghijklmnopqrstuvwxyz./ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
printf '%s\r\n' "$hash" >"$ROOT/boot/root-password.txt"
sh "$OVERLAY/etc/init.d/S04console" start >"$WORK/out" 2>&1 || fail "S04console with a hash: $(cat "$WORK/out")"
grep -qxF "root:$hash:::::::" "$ROOT/run/shadow" || fail "console: root's hash not set in the copy: $(cat "$ROOT/run/shadow")"
grep -qxF 'tinkerbox:!:::::::' "$ROOT/run/shadow" || fail "console: other accounts changed"
grep -qxF -- "--bind $ROOT/run/shadow $ROOT/etc/shadow" "$ROOT/state/bound" || fail "console: the copy is not bound over /etc/shadow"
rm -f "$ROOT/state/bound"
echo 'my secret password' >"$ROOT/boot/root-password.txt"
sh "$OVERLAY/etc/init.d/S04console" start >"$WORK/out" 2>&1 && fail "S04console accepted a plain password"
grep -q 'openssl passwd -6' "$WORK/out" || fail "console: a plain password gives no hint: $(cat "$WORK/out")"
[ ! -f "$ROOT/state/bound" ] || fail "console: opened with a plain password"

# --- supervisor: respawns tinkerbox, logs to syslog and console, stops on TERM
new_root
mkdir -p "$ROOT/boot"
: >"$ROOT/boot/tinkerbox.toml"
stub su 'shift 3; exec sh -c "$1"' # su -s /bin/sh -c CMD USER
stub date 'echo 1000'
stub sleep ''
stub logger 'while IFS= read -r l; do echo "$l" >>"$ROOT/syslog"; echo "$l" >&2; done'
cat >"$WORK/bin/tinkerbox" <<'STUB'
#!/bin/sh
echo "tinkerbox $*" >>"$ROOT/cmds.log"
n=$(($(cat "$ROOT/state/runs" 2>/dev/null || echo 0) + 1))
echo "$n" >"$ROOT/state/runs"
[ "$n" -ne 1 ] || echo "admin password: correct-horse"
if [ "$n" -ge 3 ]; then
	# the supervisor is our parent (su execs sh, sh execs us)
	kill -TERM "$PPID"
	exit 0
fi
exit 1
STUB
/bin/chmod +x "$WORK/bin/tinkerbox"
TINKERBOX_BIN=$WORK/bin/tinkerbox timeout 20 sh "$OVERLAY/usr/sbin/tinkerbox-supervise" 2>"$WORK/console" ||
	fail "supervisor exited with status $? (timeout = 124)"
[ "$(count tinkerbox)" = 3 ] || fail "supervisor started tinkerbox $(count tinkerbox) times, want 3"
grep -q "^su -s /bin/sh -c exec $WORK/bin/tinkerbox run --config /boot/tinkerbox.toml --data /data tinkerbox\$" "$ROOT/cmds.log" ||
	fail "supervisor did not run 'tinkerbox run --config /boot/tinkerbox.toml --data /data' as user tinkerbox: $(grep '^su' "$ROOT/cmds.log" | head -n 1)"
[ "$(grep '^sleep' "$ROOT/cmds.log" | tr '\n' ' ')" = "sleep 1 sleep 2 " ] || fail "restart pauses: $(grep '^sleep' "$ROOT/cmds.log" | tr '\n' ' '), want 1 then 2"
grep -q 'admin password: correct-horse' "$WORK/console" || fail "password line not on the console"
grep -q 'admin password: correct-horse' "$ROOT/syslog" || fail "password line not in syslog"
grep -q 'exited with status 1' "$ROOT/syslog" || fail "supervisor did not log the exit status"
grep -q 'tinkerbox-supervise: stopped' "$ROOT/syslog" || fail "supervisor did not log its stop"
[ ! -e "$ROOT/run/tinkerbox/supervise.pid" ] || fail "supervisor left its pid file"

# Without /boot/tinkerbox.toml the image's /etc/tinkerbox.toml is used.
new_root
rm -f "$ROOT/state/runs"
TINKERBOX_BIN=$WORK/bin/tinkerbox timeout 20 sh "$OVERLAY/usr/sbin/tinkerbox-supervise" 2>/dev/null || fail "supervisor (no boot config) failed"
grep -q -- '--config /etc/tinkerbox.toml' "$ROOT/cmds.log" || fail "supervisor did not fall back to /etc/tinkerbox.toml"

# --- a trial boot of new firmware (the firmware's tryboot flag) -------------
# The supervisor reboots after three failed starts on a trial boot, so the
# firmware's one-shot flag brings the committed slot back; not on a normal
# boot, and not once the update service has settled the trial.
trial_root() {
	new_root
	mkdir -p "$ROOT/boot" "$ROOT/proc/device-tree/chosen/bootloader"
	printf '\000\000\000\003' >"$ROOT/proc/device-tree/chosen/bootloader/partition"
	if [ "$1" = 1 ]; then printf '\000\000\000\001'; else printf '\000\000\000\000'; fi >"$ROOT/proc/device-tree/chosen/bootloader/tryboot"
	stub su 'shift 3; exec sh -c "$1"'
	stub date 'echo 1000'
	stub sleep ''
	stub logger 'while IFS= read -r l; do echo "$l" >>"$ROOT/syslog"; done'
	stub reboot 'kill -TERM "$PPID"'
	cat >"$WORK/bin/tinkerbox" <<'STUB'
#!/bin/sh
n=$(($(cat "$ROOT/state/runs" 2>/dev/null || echo 0) + 1))
echo "$n" >"$ROOT/state/runs"
# a normal boot: stop the supervisor after five failures
[ "$n" -lt 5 ] || kill -TERM "$PPID"
exit 1
STUB
	/bin/chmod +x "$WORK/bin/tinkerbox"
}
trial_root 1
REBOOT=reboot TINKERBOX_BIN=$WORK/bin/tinkerbox timeout 20 sh "$OVERLAY/usr/sbin/tinkerbox-supervise" 2>/dev/null
[ "$(count reboot)" = 1 ] && [ "$(cat "$ROOT/state/runs")" = 3 ] ||
	fail "trial boot: want a reboot after 3 failed starts; got $(count reboot) reboots after $(cat "$ROOT/state/runs") starts"
grep -q 'failed to start 3 times on its trial boot' "$ROOT/syslog" || fail "trial boot: the reboot is not logged"
trial_root 0
TINKERBOX_BIN=$WORK/bin/tinkerbox timeout 20 sh "$OVERLAY/usr/sbin/tinkerbox-supervise" 2>/dev/null
[ "$(count reboot)" = 0 ] || fail "normal boot: the supervisor rebooted"
trial_root 1
mkdir -p "$ROOT/run/tinkerbox"
: >"$ROOT/run/tinkerbox/trial-settled"
TINKERBOX_BIN=$WORK/bin/tinkerbox timeout 20 sh "$OVERLAY/usr/sbin/tinkerbox-supervise" 2>/dev/null
[ "$(count reboot)" = 0 ] || fail "settled trial: the supervisor rebooted"
# S99trial: on a trial boot, its watch reboots after the deadline unless
# the update service has settled the trial.
trial_root 1
stub reboot ''
TRIAL_DEADLINE=7 sh "$OVERLAY/etc/init.d/S99trial" watch >"$WORK/out" 2>&1 || fail "S99trial watch: $(cat "$WORK/out")"
[ "$(grep -c '^sleep 7$' "$ROOT/cmds.log")" = 1 ] && [ "$(count reboot)" = 1 ] ||
	fail "S99trial: want a reboot after the deadline of an unsettled trial: $(tr '\n' ';' <"$ROOT/cmds.log")"
grep -q 'did not settle within 7s' "$ROOT/syslog" || fail "S99trial: the reboot is not logged"
mkdir -p "$ROOT/run/tinkerbox"
: >"$ROOT/run/tinkerbox/trial-settled"
: >"$ROOT/cmds.log"
TRIAL_DEADLINE=7 sh "$OVERLAY/etc/init.d/S99trial" watch >"$WORK/out" 2>&1 || fail "S99trial watch: $(cat "$WORK/out")"
[ "$(count reboot)" = 0 ] || fail "S99trial: rebooted a settled trial"
trial_root 0
sh "$OVERLAY/etc/init.d/S99trial" start >"$WORK/out" 2>&1 || fail "S99trial: $(cat "$WORK/out")"
[ ! -s "$WORK/out" ] || fail "S99trial on a normal boot: $(cat "$WORK/out")"

# --- WiFi from the boot partition -------------------------------------------
new_root
mkdir -p "$ROOT/boot" "$ROOT/run"
stub start-stop-daemon ''
stub hostname 'echo tinkerbox'
stub wpa_passphrase 'printf "network={\n\tssid=\"%s\"\n\t#psk=\"%s\"\n\tpsk=%s\n}\n" "$1" "$2" 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
printf '\357\273\277# comment\r\nssid = Maker "Lab" #2\r\npassword = p@ss=word with spaces\r\ncountry = gb\r\nhidden = yes\r\n' >"$ROOT/boot/wifi.txt"
sh "$OVERLAY/etc/init.d/S36wifi" start >"$WORK/out" 2>&1 || fail "S36wifi: $(cat "$WORK/out")"
conf=$ROOT/run/wpa_supplicant.conf
ssid_hex=$(printf '%s' 'Maker "Lab" #2' | od -An -v -tx1 | tr -d ' \n')
grep -qx "	ssid=$ssid_hex" "$conf" 2>/dev/null || fail "wifi: ssid not written as hex: $(cat "$conf" 2>/dev/null)"
grep -qx '	psk=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' "$conf" || fail "wifi: psk missing"
grep -qx 'country=GB' "$conf" || fail "wifi: country missing"
grep -qx '	scan_ssid=1' "$conf" || fail "wifi: hidden network not scanned"
grep -q 'p@ss' "$conf" && fail "wifi: the plaintext password ended up in the config"
grep -q '^wpa_passphrase Maker "Lab" #2 p@ss=word with spaces$' "$ROOT/cmds.log" || fail "wifi: wpa_passphrase got the wrong ssid/password: $(grep wpa_passphrase "$ROOT/cmds.log")"
grep -q '^start-stop-daemon .*wpa_supplicant -- -i wlan0' "$ROOT/cmds.log" || fail "wifi: wpa_supplicant not started"

# Empty ssid (the shipped wifi.txt): nothing is started.
new_root
mkdir -p "$ROOT/boot" "$ROOT/run"
cp buildroot/board/tinkerbox/wifi.txt "$ROOT/boot/wifi.txt"
sh "$OVERLAY/etc/init.d/S36wifi" start >"$WORK/out" 2>&1 || fail "S36wifi with the shipped wifi.txt failed"
[ "$(count start-stop-daemon)" = 0 ] || fail "wifi: started wpa_supplicant without a network"

# Too-short password: a clear message, WiFi off, boot continues.
printf 'ssid=x\npassword=short\n' >"$ROOT/boot/wifi.txt"
sh "$OVERLAY/etc/init.d/S36wifi" start >"$WORK/out" 2>&1 || fail "S36wifi with a bad password must not fail the boot"
grep -q '8-63 characters' "$WORK/out" || fail "wifi: no message about the password length"
[ "$(count start-stop-daemon)" = 0 ] || fail "wifi: started with an invalid password"

# --- shellcheck the scripts git's *.sh lint does not see ---------------------
if command -v shellcheck >/dev/null; then
	shellcheck "$OVERLAY"/etc/init.d/* "$OVERLAY"/usr/sbin/tinkerbox-supervise "$OVERLAY"/usr/share/udhcpc/default.script || fail "shellcheck"
fi

if [ "$failed" -ne 0 ]; then
	exit 1
fi
echo "firstboot_test: PASS"
