// Command mkbundle signs tinkerbox update bundles (.tbup). make image runs
// it twice: first to make the builder's signing key if there is none yet
// and write its public half into the image (-pub), then, once Buildroot
// has built the slot's boot and root images, to bundle them (-o).
//
// The signing key stays outside the repository: $TINKERBOX_UPDATE_KEY, or
// ~/.config/tinkerbox/update-signing.key. Keep it: a device only installs
// bundles signed with the key whose public half its image holds.
//
//	go run ./scripts/mkbundle -pub buildroot-output/update.pub
//	go run ./scripts/mkbundle -board pi4_64 -version v1.2 -boot boot.vfat -root rootfs.ext4 -o dist/tinkerbox-pi4_64-v1.2.tbup
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"tinkerbox/appliance/update"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkbundle:", err)
		os.Exit(1)
	}
}

func defaultKey() string {
	if k := os.Getenv("TINKERBOX_UPDATE_KEY"); k != "" {
		return k
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "tinkerbox", "update-signing.key")
}

func run() error {
	keyPath := flag.String("key", defaultKey(), "the builder's signing key (made on first use)")
	pub := flag.String("pub", "", "write the key's public half to this file (for the image)")
	board := flag.String("board", "", "board the bundle is for (pi0w, pi3, pi02w, pi02w_64, pi4_64)")
	version := flag.String("version", "", "firmware version in the bundle")
	boot := flag.String("boot", "", "the boot partition image (boot.vfat)")
	root := flag.String("root", "", "the root filesystem image (rootfs.ext4)")
	out := flag.String("o", "", "the bundle to write")
	flag.Parse()
	if *keyPath == "" {
		return errors.New("no key path: set -key or $TINKERBOX_UPDATE_KEY")
	}
	key, err := loadOrMake(*keyPath)
	if err != nil {
		return err
	}
	if *pub != "" {
		if err := os.WriteFile(*pub, update.FormatPublicKey(key.Public().(ed25519.PublicKey)), 0o644); err != nil {
			return err
		}
	}
	if *out == "" {
		return nil
	}
	if *board == "" || *version == "" || *boot == "" || *root == "" {
		return errors.New("-o needs -board, -version, -boot and -root")
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	m, err := update.WriteBundle(f, key, *board, *version, time.Now(), []update.PartFile{{Name: "boot", Path: *boot}, {Name: "root", Path: *root}})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	st, _ := os.Stat(*out)
	fmt.Printf("mkbundle: %s: %s %s, boot %.1f MiB + root %.1f MiB, %.1f MiB compressed, signed with %s\n",
		*out, m.Board, m.Version, float64(m.Parts[0].Size)/(1<<20), float64(m.Parts[1].Size)/(1<<20), float64(st.Size())/(1<<20), *keyPath)
	return nil
}

// loadOrMake reads the signing key, making it (0600, in a 0700 dir) the
// first time.
func loadOrMake(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return update.ParsePrivateKey(b)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(update.FormatPrivateKey(key)); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "mkbundle: made a new update signing key %s: keep it (and a copy); devices built with it only install bundles it signs\n", path)
	return key, nil
}
