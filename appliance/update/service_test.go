package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"runtime"
	"strings"
	"testing"
)

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// install runs Install and the reboot it asks for.
func (w *world) install(s *Service, bundle []byte) (Result, error) {
	res, err := s.Install(context.Background(), bytes.NewReader(bundle), nil)
	if err == nil {
		if cut, rb := guard(func() { s.RebootTrial() }); cut || rb == nil || !rb.tryboot {
			w.t.Fatalf("RebootTrial: cut %v, reboot %+v", cut, rb)
		}
	}
	return res, err
}

func TestUpdateCommitsAndGoesBack(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
	w.images = append(w.images, v2)
	s, slot := w.settle()
	if slot != SlotA || s.version != "v1" {
		t.Fatalf("first boot: slot %s %s", slot.Name, s.version)
	}
	st, err := s.Status()
	if err != nil || st.Other.State != SlotEmpty || st.CanRollback {
		t.Fatalf("status before: %+v %v", st, err)
	}
	data := bytes.Clone(w.data)
	res, err := w.install(s, writeBundle(t, key, "pi4_64", v2))
	if err != nil || res.Slot != "B" || res.Version != "v2" {
		t.Fatalf("install: %+v %v", res, err)
	}
	if !w.flag {
		t.Fatal("no tryboot flag after the install")
	}
	s, slot = w.settle()
	if slot != SlotB || s.version != "v2" {
		t.Fatalf("after the update: slot %s runs %s", slot.Name, s.version)
	}
	st, _ = s.Status()
	if st.Running != (SlotStatus{"B", "v2", SlotActive}) || st.Other != (SlotStatus{"A", "v1", SlotReady}) ||
		st.Last == nil || st.Last.Result != ResultCommitted || st.Last.Version != "v2" || !st.CanRollback {
		t.Fatalf("status after the update: %+v last %+v", st, st.Last)
	}
	if ab, _ := ParseAutoboot(w.files[AutobootFile]); ab != (Autoboot{3, 2}) {
		t.Fatalf("autoboot after commit: %+v", ab)
	}
	// A normal reboot stays on B.
	s, slot = w.settle()
	if slot != SlotB {
		t.Fatalf("reboot after commit: slot %s", slot.Name)
	}
	// Back to v1, on trial like an update.
	if _, err := s.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cut, rb := guard(func() { s.RebootTrial() }); cut || rb == nil {
		t.Fatal("rollback did not reboot")
	}
	s, slot = w.settle()
	st, _ = s.Status()
	if slot != SlotA || s.version != "v1" || st.Last.Result != ResultCommitted || st.Other != (SlotStatus{"B", "v2", SlotReady}) {
		t.Fatalf("after going back: slot %s %s, %+v", slot.Name, s.version, st)
	}
	if !bytes.Equal(w.data, data) {
		t.Fatal("/data changed")
	}
}

// Every write of an update, from the first to the commit, is a possible
// power cut; after each the board boots a whole firmware with its data,
// and installing again finishes the update.
func TestPowerCutAtEveryWrite(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	bundle := writeBundle(t, key, "pi4_64", v2)
	run := func(cutAt int) (w *world, total int, hit bool) {
		w = newWorld(t, key.Public().(ed25519.PublicKey), v1)
		w.images = append(w.images, v2)
		s, _ := w.settle()
		base := w.writes
		if cutAt > 0 {
			w.cut = base + cutAt
		}
		cut, _ := guard(func() { w.install(s, bundle) })
		if !cut {
			w.settle()
		}
		return w, w.writes - base, w.cut != 0 && w.writes >= w.cut
	}
	_, total, _ := run(0)
	if total < 10 {
		t.Fatalf("a whole update made only %d writes", total)
	}
	for k := 1; k <= total; k++ {
		w, _, hit := run(k)
		if !hit {
			t.Fatalf("cut %d of %d: never reached", k, total)
		}
		s, slot := w.settle()
		v := w.runs(slot)
		if v != s.version || (v != "v1" && v != "v2") {
			t.Fatalf("cut %d: slot %s holds %q, service says %q", k, slot.Name, v, s.version)
		}
		if string(w.data) != "the maker's collection" {
			t.Fatalf("cut %d: /data changed", k)
		}
		st, err := s.Status()
		if err != nil {
			t.Fatalf("cut %d: status: %v", k, err)
		}
		if v == "v1" && st.Other.State == SlotReady && st.Other.Version == "v2" && w.runs(SlotB) != "v2" {
			t.Fatalf("cut %d: slot B is said ready but holds no whole v2", k)
		}
		if v == "v2" && (st.Running.State != SlotActive) {
			t.Fatalf("cut %d: running v2 but %+v", k, st.Running)
		}
		// The maker tries again: it finishes.
		if v == "v1" {
			w.cut = 0
			if _, err := w.install(s, bundle); err != nil {
				t.Fatalf("cut %d: install again: %v", k, err)
			}
			s, slot = w.settle()
			if s.version != "v2" {
				t.Fatalf("cut %d: after installing again, %s runs", k, s.version)
			}
		}
	}
	t.Logf("%d writes in an update, a power cut tried at each", total)
}

func TestTrialThatDoesNotStartRollsBack(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
	w.images = append(w.images, v2)
	w.broken = "v2"
	s, _ := w.settle()
	if _, err := w.install(s, writeBundle(t, key, "pi4_64", v2)); err != nil {
		t.Fatal(err)
	}
	// Boot 1: the trial, whose tinkerbox does not start (the watchdog
	// resets it); boot 2: the committed slot, by itself.
	if s, slot, try := w.boot(); s != nil || slot != SlotB || !try {
		t.Fatalf("trial boot: service %v, slot %s, tryboot %v", s != nil, slot.Name, try)
	}
	s, slot, try := w.boot()
	if slot != SlotA || try || s == nil {
		t.Fatalf("second boot: slot %s tryboot %v", slot.Name, try)
	}
	if err := s.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Status()
	if st.Last == nil || st.Last.Result != ResultRolledBack || st.Last.Version != "v2" || st.Other.State != SlotFailed || st.CanRollback {
		t.Fatalf("status: %+v last %+v", st, st.Last)
	}
	t.Logf("last: %s", st.Last.Detail)
}

func TestTrialThatLosesADeviceRollsBack(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
	w.images = append(w.images, v2)
	s, _ := w.settle()
	if _, err := w.install(s, writeBundle(t, key, "pi4_64", v2)); err != nil {
		t.Fatal(err)
	}
	w.devices = map[string]string{"printer": "failed", "camera": "missing"}
	s, slot := w.settle()
	st, _ := s.Status()
	if slot != SlotA || st.Last.Result != ResultRolledBack || !strings.Contains(st.Last.Detail, "printer (failed)") {
		t.Fatalf("slot %s, last %+v", slot.Name, st.Last)
	}
}

func TestRefusedBundlesWriteNothing(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	good := writeBundle(t, key, "pi4_64", v2)
	cases := map[string]struct {
		bundle []byte
		want   string
	}{
		"another builder's key": {writeBundle(t, testKey(t, 2), "pi4_64", v2), "signature does not match"},
		"another board":         {writeBundle(t, key, "pi0w", v2), "for the pi0w board and this device is a pi4_64"},
		"not a bundle":          {[]byte("PK\x03\x04 a zip file, say"), "not a .tbup bundle"},
		"a text file":           {bytes.Repeat([]byte("not a tar header at all\n"), 100), "not a tinkerbox update bundle"},
		"empty":                 {nil, "ends before its manifest.json"},
		"cut in the manifest":   {good[:700], "manifest.json is cut short"},
		"cut before the parts":  {good[:bytes.LastIndex(good, []byte("boot.img.gz"))-200], "truncated"},
	}
	// The manifest altered after signing.
	alt := bytes.Clone(good)
	i := bytes.Index(alt, []byte(`"version": "v2"`))
	alt[i+13] = '9'
	cases["manifest altered"] = struct {
		bundle []byte
		want   string
	}{alt, "signature does not match"}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
			s, _ := w.settle()
			before := w.writes
			_, err := s.Install(context.Background(), bytes.NewReader(c.bundle), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if w.writes != before {
				t.Fatalf("%d writes before refusing", w.writes-before)
			}
		})
	}
}

// A bundle altered or cut inside a part: no byte that is not the signed
// firmware's reaches the card, the running slot is untouched, and the
// other slot is never booted.
func TestDamagedPartsNeverReachTheCard(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	good := writeBundle(t, key, "pi4_64", v2)
	root := bytes.LastIndex(good, []byte("root.img.gz"))
	for _, c := range []struct {
		name string
		mod  func([]byte) []byte
		want string
	}{
		{"a byte of the root flipped", func(b []byte) []byte { b[root+2000] ^= 0x40; return b }, "root"},
		{"a byte of the boot flipped", func(b []byte) []byte { b[root-5000] ^= 1; return b }, "boot"},
		{"cut inside the root", func(b []byte) []byte { return b[:root+(len(b)-root)/2] }, "truncated"},
		{"cut at the end", func(b []byte) []byte { return b[:len(b)-2000] }, "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
			w.images = append(w.images, v2)
			s, _ := w.settle()
			a := bytes.Clone(w.parts[SlotA.Root])
			_, err := s.Install(context.Background(), bytes.NewReader(c.mod(bytes.Clone(good))), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			for _, p := range []struct {
				n    int
				want []byte
			}{{SlotB.Boot, v2.boot}, {SlotB.Root, v2.root}} {
				got := w.parts[p.n][:len(p.want)]
				for i := range got {
					if got[i] != 0 && got[i] != p.want[i] {
						t.Fatalf("partition %d byte %d is neither blank nor the signed firmware's", p.n, i)
					}
				}
			}
			if !bytes.Equal(a, w.parts[SlotA.Root]) {
				t.Fatal("the running slot was written")
			}
			st, _ := s.Status()
			if st.Other.State != SlotIncomplete || st.CanRollback || st.Last.Result != ResultFailed {
				t.Fatalf("status %+v", st)
			}
			if s, slot := w.settle(); slot != SlotA || s.version != "v1" {
				t.Fatalf("boots slot %s", slot.Name)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// Streaming keeps memory flat: a 48 MiB root goes through in a few
// buffers, never held whole.
func TestInstallMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("48 MiB install")
	}
	key := testKey(t, 1)
	v1 := newImage("v1", 1)
	big := newImage("v2", 2)
	big.root = bytes.Repeat(big.root[:1<<20], 48)
	for i := range 48 {
		big.root[i<<20] = byte(i) // distinct blocks
	}
	w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
	w.parts[SlotB.Root] = make([]byte, 64<<20)
	bundle := writeBundle(t, key, "pi4_64", big)
	s, _ := w.settle()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	n := 0
	_, err := s.Install(context.Background(), bytes.NewReader(bundle), func(Progress) {
		if n++; n%8 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	growth := float64(peak-base) / (1 << 20)
	t.Logf("heap growth while installing a %d MiB bundle (%d MiB of parts): %.1f MiB", len(bundle)>>20, (len(big.root)+len(big.boot))>>20, growth)
	if growth > 16 {
		t.Fatalf("heap grew %.1f MiB, more than 16", growth)
	}
}

// Blocks the slot already holds are not written again: installing a
// version the slot nearly holds writes only the blocks that differ.
func TestOnlyChangedBlocksWritten(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
	w.images = append(w.images, v2)
	copy(w.parts[SlotB.Boot], v2.boot)
	copy(w.parts[SlotB.Root], v2.root)
	w.parts[SlotB.Root][2<<20+5] ^= 1 // one block of the root differs
	s, _ := w.settle()
	w.blocks = nil
	if _, err := w.install(s, writeBundle(t, key, "pi4_64", v2)); err != nil {
		t.Fatal(err)
	}
	if w.blocks[SlotB.Root] != 1 || w.blocks[SlotB.Boot] != 0 {
		t.Fatalf("block writes: %v, want 1 to the root and none to the boot", w.blocks)
	}
	if s, _ := w.settle(); s.version != "v2" {
		t.Fatalf("runs %s", s.version)
	}
}
