package web

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/bcrypt"
)

func fastOpts() *PasswordOpts {
	o := DefaultPasswordOpts()
	o.Cost = bcrypt.MinCost
	return o
}

func matches(t *testing.T, hash []byte, pw string) bool {
	t.Helper()
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}

func TestPasswordEnvWins(t *testing.T) {
	dir := t.TempDir()
	stored, _ := bcrypt.GenerateFromPassword([]byte("stored"), bcrypt.MinCost)
	if err := os.WriteFile(filepath.Join(dir, PasswordFile), stored, 0o600); err != nil {
		t.Fatal(err)
	}
	h, gen, err := fastOpts().Password(dir, "from-env", "from-config")
	if err != nil || gen != "" {
		t.Fatalf("Password = %q, %v", gen, err)
	}
	if !matches(t, h, "from-env") || matches(t, h, "from-config") {
		t.Fatal("env password does not win")
	}
}

func TestPasswordConfig(t *testing.T) {
	dir := t.TempDir()
	h, gen, err := fastOpts().Password(dir, "", "from-config")
	if err != nil || gen != "" || !matches(t, h, "from-config") {
		t.Fatalf("plaintext config: %q %v", gen, err)
	}
	cfgHash, _ := bcrypt.GenerateFromPassword([]byte("hashed-config"), bcrypt.MinCost)
	h, gen, err = fastOpts().Password(dir, "", string(cfgHash))
	if err != nil || gen != "" || !bytes.Equal(h, cfgHash) {
		t.Fatalf("hashed config: %q %q %v", h, gen, err)
	}
	if _, _, err := fastOpts().Password(dir, "", "$2a$10$tooshort"); err == nil {
		t.Fatal("a broken config hash was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, PasswordFile)); !os.IsNotExist(err) {
		t.Fatalf("config password wrote a file: %v", err)
	}
}

func TestPasswordGeneratedOnceThenStored(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	h, gen, err := fastOpts().Password(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$`).MatchString(gen) {
		t.Fatalf("generated password %q has the wrong shape", gen)
	}
	if !matches(t, h, gen) {
		t.Fatal("hash does not match the generated password")
	}
	path := filepath.Join(dir, PasswordFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s mode = %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !bytes.Equal(bytes.TrimSpace(b), h) {
		t.Fatalf("stored %q, returned %q", b, h)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d files, want only the hash (no temp files)", len(entries))
	}

	h2, gen2, err := fastOpts().Password(dir, "", "")
	if err != nil || gen2 != "" || !bytes.Equal(h2, h) {
		t.Fatalf("second start: %q %q %v; want the stored hash and no new password", h2, gen2, err)
	}
	// A different generated password each time the file is missing.
	os.Remove(path)
	_, gen3, err := fastOpts().Password(dir, "", "")
	if err != nil || gen3 == "" || gen3 == gen {
		t.Fatalf("regenerated %q (was %q): %v", gen3, gen, err)
	}
}

func TestPasswordStoredGarbage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, PasswordFile), []byte("hunter2\n"), 0o600)
	_, _, err := fastOpts().Password(dir, "", "")
	if err == nil || !strings.HasPrefix(err.Error(), "web: ") {
		t.Fatalf("garbage stored hash: %v", err)
	}
}

func TestPasswordNoSource(t *testing.T) {
	if _, _, err := fastOpts().Password("", "", ""); err == nil {
		t.Fatal("no dir, no password: no error")
	}
	o := fastOpts()
	o.Rand = iotest.ErrReader(os.ErrClosed)
	if _, _, err := o.Password(t.TempDir(), "", ""); err == nil {
		t.Fatal("failing randomness: no error")
	}
}

func TestGeneratedPasswordIsUniform(t *testing.T) {
	// Every alphabet character shows up: a biased or truncated alphabet
	// would fail this with overwhelming probability.
	seen := map[rune]bool{}
	o := DefaultPasswordOpts()
	for range 200 {
		pw, err := o.generate()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range strings.ReplaceAll(pw, "-", "") {
			seen[c] = true
		}
	}
	if len(seen) != len(passwordAlphabet) {
		t.Fatalf("saw %d distinct characters, want %d", len(seen), len(passwordAlphabet))
	}
}
