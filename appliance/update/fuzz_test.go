package update

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"testing"
)

// FuzzParseAutoboot: never a panic, and what it accepts formats back to
// the same meaning.
func FuzzParseAutoboot(f *testing.F) {
	f.Add([]byte("[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"))
	f.Add(Autoboot{3, 2}.Format())
	f.Add([]byte("boot_partition=2 # x\n[TRYBOOT]\nboot_partition = 3\n[all]\ntryboot_a_b=1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAutoboot(b)
		if err != nil {
			return
		}
		back, err := ParseAutoboot(a.Format())
		if err != nil || back != a {
			t.Fatalf("%+v formats to %q, which parses to %+v %v", a, a.Format(), back, err)
		}
	})
}

// FuzzOpen: whatever the bytes, a reader never hands out a part's byte
// that the signed manifest does not vouch for.
func FuzzOpen(f *testing.F) {
	key := testKey(f, 1)
	im := image{version: "v2", boot: bytes.Repeat([]byte("boot"), 300), root: bytes.Repeat([]byte("root!"), 900)}
	good := writeBundle(f, key, "pi4_64", im)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(bytes.NewReader(b), []ed25519.PublicKey{pub}, "pi4_64")
		if err != nil {
			return
		}
		for {
			p, pr, err := r.Next()
			if err != nil {
				return
			}
			got, err := io.ReadAll(pr)
			want := im.boot
			if p.Name == "root" {
				want = im.root
			}
			if !bytes.HasPrefix(want, got) {
				t.Fatalf("part %s yielded bytes the signed bundle does not hold", p.Name)
			}
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("part %s ended cleanly but incomplete", p.Name)
			}
			if err != nil {
				return
			}
		}
	})
}
