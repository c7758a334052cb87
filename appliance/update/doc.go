// Package update installs signed firmware bundles into the inactive A/B
// slot of the SD card, boots them once with the Raspberry Pi firmware's
// tryboot flag, and commits or rolls back.
//
// The card (see buildroot/board/tinkerbox/genimage.cfg):
//
//	p1 FAT  TINKERBOX  autoboot.txt, tinkerbox.toml, wifi.txt, update.json
//	p2 FAT  boot A     firmware, kernel, config.txt, cmdline-a.txt, cmdline-b.txt
//	p3 FAT  boot B     the same files, for slot B
//	p4      extended
//	p5 ext4 root A
//	p6 ext4 root B
//	p7 ext4 /data      never written by an update
//
// autoboot.txt names the committed slot's boot partition under [all] and
// the other one under [tryboot]; `reboot "0 tryboot"` boots the other slot
// once, and any later reset (power cut, watchdog, panic, plain reboot)
// comes back to the committed one. The boot partitions are the same image
// for both slots: config.txt picks cmdline-a.txt or cmdline-b.txt (and so
// the root) with the firmware's [boot_partition=N] filter.
//
// A bundle (.tbup) is a tar stream: manifest.json, manifest.sig (ed25519
// over the manifest's bytes), then each part gzip-compressed. The manifest
// holds the SHA-256 of every 1 MiB block of every part, so a streamed
// bundle is checked block by block before each block is written, and never
// held in memory.
package update
