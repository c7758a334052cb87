package comic

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// makerWith is a maker's pack (on the built-in one) with n doodles added,
// remembering its checks in cache.
func makerWith(t *testing.T, dir, cache string, n int) *MakerPack {
	t.Helper()
	m := OpenMakerPack(dir, newMaker(t).base, makerClock)
	m.RememberChecks(OpenCheckCache(cache))
	if n > 0 {
		var ds []image.Image
		for i := range n {
			ds = append(ds, doodle(300, 260, i))
		}
		if _, err := m.Add(ds); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// own is what a check found of the pack's own drawings, by file.
func own(t *testing.T, m *MakerPack) map[string]drawn {
	t.Helper()
	p, probs, err := m.Check()
	if err != nil || len(probs) > 0 {
		t.Fatalf("check: %v %v", err, probs)
	}
	out := map[string]drawn{}
	for _, im := range p.Images {
		if strings.HasPrefix(im.File, drawingsDir+"/") {
			out[im.File] = drawn{Reduce: im.reduce, Box: im.box}
		}
	}
	return out
}

func readCache(t *testing.T, file string) checkCacheFile {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f checkCacheFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeCache(t *testing.T, file string, f checkCacheFile) {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A maker's drawings are checked once: the next run takes what the check
// found from the cache, by the files' hashes (an entry made to say another
// box is believed, which shows it is read, not found again); a changed
// file is checked again, and a removed drawing leaves the cache.
func TestCheckCacheRemembersByContent(t *testing.T) {
	dir, cache := filepath.Join(t.TempDir(), "pack"), filepath.Join(t.TempDir(), "cache", "pack-x.json")
	first := own(t, makerWith(t, dir, cache, 3))
	f := readCache(t, cache)
	if len(f.Drawings) != 3 || f.Format != checkCacheFormat {
		t.Fatalf("cache %+v, want 3 drawings", f)
	}
	// What a full check finds, the cache gives.
	if again := own(t, makerWith(t, dir, cache, 0)); !reflect.DeepEqual(again, first) {
		t.Fatalf("from the cache %v, checked %v", again, first)
	}
	// Believed while the hash matches.
	for i := range f.Drawings {
		f.Drawings[i].Box[2]--
	}
	writeCache(t, cache, f)
	for file, d := range own(t, makerWith(t, dir, cache, 0)) {
		if d.Box.Max.X != first[file].Box.Max.X-1 {
			t.Fatalf("%s: box %v, the cache says %v: checked again", file, d.Box, first[file].Box.Max.X-1)
		}
	}
	// A file changed under the same name is checked again.
	man := readJSONManifest(t, dir)
	victim := man.Images[0].File
	if err := os.WriteFile(filepath.Join(dir, victim), pngBytes(t, doodle(200, 300, 7)), 0o644); err != nil {
		t.Fatal(err)
	}
	got := own(t, makerWith(t, dir, cache, 0))
	fresh := own(t, OpenMakerPack(dir, newMaker(t).base, makerClock)) // no cache
	if d := got[victim]; d != fresh[victim] || d == first[victim] {
		t.Fatalf("changed %s: box %v, checked %v (was %v): the stale entry was used", victim, d.Box, fresh[victim].Box, first[victim].Box)
	}
	// The old content's entry is gone; removing a drawing drops its entry.
	m := makerWith(t, dir, cache, 0)
	if err := m.Remove(victim); err != nil {
		t.Fatal(err)
	}
	own(t, m)
	if n := len(readCache(t, cache).Drawings); n != 2 {
		t.Fatalf("%d entries for 2 drawings", n)
	}
}

// A cache that does not read, or holds what no check could find, is not
// trusted: the drawings are checked again and the file is written anew.
func TestCheckCacheNotTrustedBlindly(t *testing.T) {
	dir, cache := filepath.Join(t.TempDir(), "pack"), filepath.Join(t.TempDir(), "pack-x.json")
	want := own(t, makerWith(t, dir, cache, 2))
	good := readCache(t, cache)
	for name, corrupt := range map[string]func(){
		"torn": func() {
			os.WriteFile(cache, []byte(`{"format":"tinkerbox-comic-check-cache","version":1,"drawings":[{"sha`), 0o644)
		},
		"version": func() { f := good; f.Version = 99; writeCache(t, cache, f) },
		"box outside the file": func() {
			f := checkCacheFile{Format: good.Format, Version: good.Version, Drawings: append([]checkCacheEntry(nil), good.Drawings...)}
			for i := range f.Drawings {
				f.Drawings[i].Box = [4]int{0, 0, 100000, 100000}
			}
			writeCache(t, cache, f)
		},
		"size": func() {
			f := checkCacheFile{Format: good.Format, Version: good.Version, Drawings: append([]checkCacheEntry(nil), good.Drawings...)}
			for i := range f.Drawings {
				f.Drawings[i].Size[0]++
			}
			writeCache(t, cache, f)
		},
	} {
		corrupt()
		if got := own(t, makerWith(t, dir, cache, 0)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		if f := readCache(t, cache); !reflect.DeepEqual(f, good) {
			t.Errorf("%s: the cache was not written anew: %+v", name, f)
		}
	}
}

// A cache that cannot be written costs only speed: the pack loads, and Err
// says why.
func TestCheckCacheUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := OpenCheckCache(filepath.Join(blocker, "cache", "pack-x.json")) // under a file: cannot be made
	m := makerWith(t, filepath.Join(t.TempDir(), "pack"), filepath.Join(t.TempDir(), "unused.json"), 1)
	m.RememberChecks(c)
	if len(own(t, m)) != 1 {
		t.Fatal("the pack did not load")
	}
	if c.Err() == nil {
		t.Fatal("no error for a cache that cannot be written")
	}
}

func TestCheckCacheFile(t *testing.T) {
	a, b := CheckCacheFile("/data/cache", "/data/comic-pack"), CheckCacheFile("/data/cache", "/media/pack")
	if a == b || filepath.Dir(a) != "/data/cache" || !strings.HasPrefix(filepath.Base(a), "pack-") {
		t.Fatalf("%s, %s", a, b)
	}
}
