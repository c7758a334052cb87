package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagsInAnyOrder runs each subcommand with its flags before and after
// its other arguments.
func TestFlagsInAnyOrder(t *testing.T) {
	t.Setenv("TINKERBOX_DATA", "")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	img := filepath.Join(dir, "in.png")
	f, _ := os.Create(img)
	png.Encode(f, image.NewGray(image.Rect(0, 0, 64, 32)))
	f.Close()
	csv := filepath.Join(dir, "cards.csv")
	os.WriteFile(csv, []byte("name,set,number,price\nBolt,lea,1,2.50\n"), 0o644)
	for _, args := range [][]string{
		{"selftest", "--sim", "--data", data, "--record", filepath.Join(dir, "rec1")},
		{"selftest", "--record", filepath.Join(dir, "rec2"), "--data", data, "--sim"},
		{"print", "--sim", "--data", data, img},
		{"print", img, "--sim", "--data", data},
		{"comic", "--seed", "3", "--png", filepath.Join(dir, "a.png")},
		{"comic", "--png", filepath.Join(dir, "b.png"), "--seed=3"},
		{"comic", "check", "images/comic/pack", "--sheet", filepath.Join(dir, "s1.png")},
		{"comic", "check", "--sheet", filepath.Join(dir, "s2.png"), "images/comic/pack"},
		{"catalog", "import", "--data", data, "--images", dir, csv},
		{"catalog", "import", csv, "--images", dir, "--data", data},
		{"catalog", "--data", data, "identify", img},
	} {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		if args[len(args)-2] == "identify" {
			// A blank image matches no card (exit 1), but gets its line.
			if !strings.Contains(out.String(), `"image":`) {
				t.Errorf("%q: exit %d\n%s%s", args, code, out.String(), errb.String())
			}
			continue
		}
		if code != 0 {
			t.Errorf("%q: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
	}
	for _, rec := range []string{"rec1", "rec2"} {
		if _, err := os.Stat(filepath.Join(dir, rec, "index.txt")); err != nil {
			t.Errorf("selftest --record: %v", err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a.png"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.png"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("comic --seed 3 in two flag orders: different PNGs")
	}
}

// TestHelpStatesDataDirRule: every subcommand's --help says how the data
// dir is found.
func TestHelpStatesDataDirRule(t *testing.T) {
	for _, cmd := range []string{"run", "selftest", "print", "catalog", "comic"} {
		var out, errb bytes.Buffer
		if code := run([]string{cmd, "--help"}, &out, &errb); code != 0 {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
		if s := out.String() + errb.String(); !strings.Contains(s, "TINKERBOX_DATA") || !strings.Contains(s, "./data") {
			t.Errorf("%s --help does not state the data-dir rule:\n%s", cmd, s)
		}
	}
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"run", "extra"}, {"run", "--bogus"}, {"print", "x.png", "--bogus"}, {"catalog", "--bogus"}, {"comic", "check", "d", "--bogus"}} {
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (bad usage)", args, code)
		}
	}
}
