package appliance

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tinkerbox/appliance/config"
	"tinkerbox/scenes/scene/fakeclock"
)

func TestParseFlagsInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		sheet string
		pos   []string
	}{
		{[]string{"--sheet", "s.png", "dir"}, "s.png", []string{"dir"}},
		{[]string{"dir", "--sheet", "s.png"}, "s.png", []string{"dir"}},
		{[]string{"a", "--sheet=s.png", "b"}, "s.png", []string{"a", "b"}},
		{[]string{"--", "--sheet", "x"}, "default", []string{"--sheet", "x"}},
		{[]string{"a", "--", "-b"}, "default", []string{"a", "-b"}},
		{nil, "default", nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		sheet := fs.String("sheet", "default", "")
		pos, err := ParseFlags(fs, tc.args)
		if err != nil || *sheet != tc.sheet || !slices.Equal(pos, tc.pos) {
			t.Errorf("%q: sheet %q pos %q err %v; want %q %q", tc.args, *sheet, pos, err, tc.sheet, tc.pos)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	if _, err := ParseFlags(fs, []string{"dir", "--nope"}); err == nil {
		t.Error("an unknown flag after a positional was accepted")
	}
}

func TestResolveDataDir(t *testing.T) {
	def := config.Default()
	custom := config.Default()
	custom.Appliance.DataDir = "/srv/box"
	env := map[string]string{}
	for _, tc := range []struct {
		name     string
		flag     string
		env      string
		cfg      *config.Config
		onDevice bool
		want     string
		why      string
	}{
		{"flag wins", "flagdir", "envdir", custom, true, "flagdir", "--data"},
		{"env next", "", "envdir", custom, true, "envdir", "$TINKERBOX_DATA"},
		{"config next", "", "", custom, true, "/srv/box", "appliance.data_dir of box.toml"},
		{"device", "", "", def, true, "/data", "the device's data partition"},
		{"laptop", "", "", def, false, "data", "make run"},
	} {
		env["TINKERBOX_DATA"] = tc.env
		o := &Options{DataDir: tc.flag, Getenv: func(k string) string { return env[k] }, OnDevice: func() bool { return tc.onDevice }}
		dir, why := resolveDataDir(o, tc.cfg, "box.toml")
		if dir != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("%s: %q (%s), want %q (%s)", tc.name, dir, why, tc.want, tc.why)
		}
	}
}

// TestDataDirNotWritable: the error names the dir, where it came from and
// what to do.
func TestDataDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere: run as a normal user to see the permission error")
	}
	ro := t.TempDir()
	os.Chmod(ro, 0o500)
	defer os.Chmod(ro, 0o700)
	err := checkDataDir(filepath.Join(ro, "data"), "the device's data partition")
	if err == nil || !strings.Contains(err.Error(), "cannot write "+filepath.Join(ro, "data")) ||
		!strings.Contains(err.Error(), "permission denied; pass --data DIR or set TINKERBOX_DATA") {
		t.Errorf("%v", err)
	}
}

// TestDataDirNotADir covers the same message as root: a file in the way.
func TestDataDirNotADir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	err := checkDataDir(f, "--data")
	if err == nil || !strings.Contains(err.Error(), "cannot write "+f+" (data dir from --data)") || !strings.Contains(err.Error(), "pass --data DIR or set TINKERBOX_DATA") {
		t.Errorf("%v", err)
	}
}

// TestComicSameSeedSameBytes: the footer holds the seed and the pack, not a
// date, so the same seed renders the same PNG at any time of any day.
func TestComicSameSeedSameBytes(t *testing.T) {
	dir := t.TempDir()
	render := func(name string, at time.Time, args ...string) []byte {
		t.Helper()
		var out, errb bytes.Buffer
		o := Options{Stdout: &out, Stderr: &errb, Clock: fakeclock.New(at)}
		p := filepath.Join(dir, name)
		if err := Comic(context.Background(), o, append(args, "--png", p)); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := render("a.png", time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC), "--seed", "42")
	b := render("b.png", time.Date(2027, 6, 30, 23, 59, 0, 0, time.Local), "--seed", "42")
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different PNGs on two days")
	}
	// Flags after the seed's value or before: the same strip.
	c := render("c.png", time.Date(2030, 2, 2, 2, 2, 2, 0, time.UTC), "--width", "384", "--seed=42")
	if !bytes.Equal(a, c) {
		t.Fatal("reordered flags gave another strip")
	}
	if d := render("d.png", time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC), "--seed", "43"); bytes.Equal(a, d) {
		t.Fatal("seeds 42 and 43 gave the same PNG")
	}
	left, right := comicFooter(42, "default", "0123abcd")
	if left != "tinkerbox comic seed 42" || right != "pack default 0123abcd" {
		t.Errorf("footer %q %q", left, right)
	}
}

// TestComicCheckFlagsAfterDir: `comic check DIR --sheet F` (it used to say
// "check needs the pack directory") and `--sheet F DIR` both work.
func TestComicCheckFlagsAfterDir(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{
		{"check", "../images/comic/pack", "--sheet", filepath.Join(dir, "after.png")},
		{"check", "--sheet", filepath.Join(dir, "before.png"), "../images/comic/pack"},
	} {
		var out, errb bytes.Buffer
		if err := Comic(context.Background(), Options{Stdout: &out, Stderr: &errb}, args); err != nil {
			t.Fatalf("%d %q: %v\n%s", i, args, err, errb.String())
		}
	}
	for _, f := range []string{"after.png", "before.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	err := Comic(context.Background(), Options{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}, []string{"check", "a", "b"})
	if !errors.As(err, new(UsageError)) {
		t.Errorf("two dirs: %v", err)
	}
}
