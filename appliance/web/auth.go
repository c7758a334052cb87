package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tinkerbox/scenes/scene"
)

// Auth settings.
const (
	adminUser       = "admin"
	sessionCookie   = "tinkerbox_session"
	loginCSRFCookie = "tinkerbox_login_csrf"
	sessionTTL      = 7 * 24 * time.Hour
	maxSessions     = 64
	maxFailures     = 5
	lockoutFor      = time.Minute
	maxTrackedAddrs = 4096
)

// newToken returns a random 256-bit token, URL-safe.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// verifier checks the admin password. bcrypt at cost 10 takes about a second
// on a Pi Zero, far too slow for every Basic-authenticated API call, so a
// password that passed bcrypt once is remembered as an HMAC under a per-process
// random key (memory only) and later compared in constant time.
type verifier struct {
	hash []byte
	key  []byte

	mu   sync.Mutex
	good []byte // HMAC of the last password that passed bcrypt
}

func newVerifier(hash []byte) (*verifier, error) {
	if _, err := bcrypt.Cost(hash); err != nil {
		return nil, fmt.Errorf("web: password hash: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("web: verifier key: %w", err)
	}
	return &verifier{hash: append([]byte(nil), hash...), key: key}, nil
}

func (v *verifier) mac(pw string) []byte {
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(pw))
	return m.Sum(nil)
}

func (v *verifier) check(user, pw string) bool {
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(adminUser)) == 1
	d := v.mac(pw)
	v.mu.Lock()
	cached := v.good != nil && hmac.Equal(d, v.good)
	v.mu.Unlock()
	if cached {
		return userOK
	}
	if bcrypt.CompareHashAndPassword(v.hash, []byte(pw)) != nil {
		return false
	}
	v.mu.Lock()
	v.good = d
	v.mu.Unlock()
	return userOK
}

// session is a logged-in browser.
type session struct {
	csrf    string
	expires time.Time
}

// sessions are kept in memory keyed by the SHA-256 of the cookie value, so a
// map lookup leaks nothing useful about the token through timing. A reboot
// logs everyone out, which is fine for an appliance.
type sessions struct {
	clock scene.Clock
	mu    sync.Mutex
	m     map[[32]byte]*session
}

func newSessions(c scene.Clock) *sessions {
	return &sessions{clock: c, m: map[[32]byte]*session{}}
}

// create starts a session and returns its cookie value and CSRF token.
func (s *sessions) create() (token, csrf string, err error) {
	token, err = newToken()
	if err != nil {
		return "", "", err
	}
	csrf, err = newToken()
	if err != nil {
		return "", "", err
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	// Bounded: evict the session closest to expiry.
	for len(s.m) >= maxSessions {
		var oldest [32]byte
		var first = true
		var at time.Time
		for k, v := range s.m {
			if first || v.expires.Before(at) {
				oldest, at, first = k, v.expires, false
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(token))] = &session{csrf: csrf, expires: now.Add(sessionTTL)}
	return token, csrf, nil
}

// lookup returns the session's CSRF token.
func (s *sessions) lookup(token string) (csrf string, ok bool) {
	if token == "" {
		return "", false
	}
	k := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return "", false
	}
	if !s.clock.Now().Before(v.expires) {
		delete(s.m, k)
		return "", false
	}
	return v.csrf, true
}

func (s *sessions) remove(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(token)))
}

// lockout counts failed logins per client address.
type lockout struct {
	clock scene.Clock
	mu    sync.Mutex
	m     map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time // locked while now is before until
}

func newLockout(c scene.Clock) *lockout {
	return &lockout{clock: c, m: map[string]*failures{}}
}

// locked reports whether addr must wait, and for how long.
func (l *lockout) locked(addr string) (time.Duration, bool) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[addr]
	if !ok || f.until.IsZero() {
		return 0, false
	}
	if now.Before(f.until) {
		return f.until.Sub(now), true
	}
	delete(l.m, addr) // served its minute: a clean slate
	return 0, false
}

func (l *lockout) fail(addr string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[addr]
	if !ok {
		if len(l.m) >= maxTrackedAddrs {
			l.prune(now)
		}
		f = &failures{}
		l.m[addr] = f
	}
	f.n++
	f.last = now
	if f.n >= maxFailures {
		f.until = now.Add(lockoutFor)
	}
}

func (l *lockout) succeed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, addr)
}

// prune keeps the table bounded when many addresses fail: locked-out entries
// and recent failures stay, stale ones go.
func (l *lockout) prune(now time.Time) {
	for k, f := range l.m {
		if !now.Before(f.until) && now.Sub(f.last) > lockoutFor {
			delete(l.m, k)
		}
	}
	if len(l.m) < maxTrackedAddrs {
		return
	}
	for k, f := range l.m {
		if !now.Before(f.until) {
			delete(l.m, k)
		}
	}
}

// clientAddr is the host part of RemoteAddr. X-Forwarded-For is ignored on
// purpose: a client could set it to dodge the lockout.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
