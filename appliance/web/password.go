package web

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// PasswordFile is the name of the stored admin password hash in the data dir.
const PasswordFile = "admin-password.bcrypt"

// PasswordEnv is the environment variable that overrides every other source
// of the admin password. The caller reads it and passes its value to Password.
const PasswordEnv = "TINKERBOX_PASSWORD"

// passwordAlphabet has no look-alikes (0/o, 1/l/i) so a password read off the
// scroll display or a printed slip can be typed back without guessing.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// PasswordOpts tunes Password; tests lower the bcrypt cost.
type PasswordOpts struct {
	Cost int       // bcrypt cost
	Rand io.Reader // randomness for generated passwords
}

// DefaultPasswordOpts returns the production settings: bcrypt cost 10 (about
// a second on a Pi Zero, paid once per login thanks to the server's cache)
// and crypto/rand.
func DefaultPasswordOpts() *PasswordOpts {
	return &PasswordOpts{Cost: bcrypt.DefaultCost, Rand: rand.Reader}
}

// Password returns the bcrypt hash of the admin password. The first source
// that is set wins: env (the value of TINKERBOX_PASSWORD), configured (the
// config's plaintext password, or a bcrypt hash starting "$2"), the hash
// stored in <dataDir>/admin-password.bcrypt. When none is set it generates a
// random password (15 characters, 74 bits), stores its hash and returns the
// plaintext once in generated: the caller shows it to the user; it is never
// returned again.
func Password(dataDir, env, configured string) (hash []byte, generated string, err error) {
	return DefaultPasswordOpts().Password(dataDir, env, configured)
}

// Password is like the package function Password, with o's settings.
func (o *PasswordOpts) Password(dataDir, env, configured string) (hash []byte, generated string, err error) {
	if env != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(env), o.Cost)
		if err != nil {
			return nil, "", fmt.Errorf("web: hash %s: %w", PasswordEnv, err)
		}
		return h, "", nil
	}
	if configured != "" {
		if strings.HasPrefix(configured, "$2") {
			h := []byte(configured)
			if _, err := bcrypt.Cost(h); err != nil {
				return nil, "", fmt.Errorf("web: configured password hash: %w", err)
			}
			return h, "", nil
		}
		h, err := bcrypt.GenerateFromPassword([]byte(configured), o.Cost)
		if err != nil {
			return nil, "", fmt.Errorf("web: hash configured password: %w", err)
		}
		return h, "", nil
	}
	if dataDir == "" {
		return nil, "", errors.New("web: no password set and no data dir to store a generated one")
	}
	path := filepath.Join(dataDir, PasswordFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		h := bytes.TrimSpace(b)
		if _, err := bcrypt.Cost(h); err != nil {
			// Regenerating would silently lock the user out; make them choose.
			return nil, "", fmt.Errorf("web: %s is not a bcrypt hash (delete it to generate a new password): %w", path, err)
		}
		return h, "", nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("web: read stored password: %w", err)
	}
	pw, err := o.generate()
	if err != nil {
		return nil, "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), o.Cost)
	if err != nil {
		return nil, "", fmt.Errorf("web: hash generated password: %w", err)
	}
	if err := writeFileAtomic(path, append(h, '\n')); err != nil {
		return nil, "", err
	}
	return h, pw, nil
}

// generate returns three groups of five characters, e.g. "k7m2p-xq9rt-c4hnw".
func (o *PasswordOpts) generate() (string, error) {
	r := o.Rand
	if r == nil {
		r = rand.Reader
	}
	const n = 15
	// Reject bytes above the largest multiple of the alphabet size so every
	// character is equally likely.
	limit := byte(256 - 256%len(passwordAlphabet))
	var sb strings.Builder
	buf := make([]byte, 32)
	for count := 0; count < n; {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("web: generate password: %w", err)
		}
		for _, c := range buf {
			if c >= limit || count == n {
				continue
			}
			if count > 0 && count%5 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(passwordAlphabet[int(c)%len(passwordAlphabet)])
			count++
		}
	}
	return sb.String(), nil
}

// writeFileAtomic writes data to path with mode 0600 so that a power cut
// leaves either no file or the whole file, never a truncated hash.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("web: store password: %w", err)
	}
	f, err := os.CreateTemp(dir, ".admin-password-*")
	if err != nil {
		return fmt.Errorf("web: store password: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp) // best effort; the real error is returned
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("web: store password: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("web: store password: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("web: store password: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("web: store password: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("web: store password: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("web: store password: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("web: store password: sync dir: %w", err)
	}
	return nil
}
