package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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
	maxFailures     = 5 // per client address, then locked for lockoutFor
	lockoutFor      = time.Minute
	maxTrackedAddrs = 4096
	// maxAccountFailures locks the account itself, whatever the address: a
	// guesser with many addresses still gets 20 a minute. Higher than the
	// per-address limit, so one noisy address cannot lock its owner out.
	maxAccountFailures = 20
	bcryptSlots        = 2 // bcrypt runs at a time
)

// newToken returns a random 256-bit token, URL-safe.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("web: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// guard decides every password check, Basic or form, in one place:
//
//   - the lockout per client address and per account is decided and the
//     attempt recorded (as a failure, undone on success) under one lock before
//     bcrypt runs, so concurrent guesses cannot all slip in before the first
//     failure is counted;
//   - bcrypt at cost 10 takes about a second on a Pi Zero, so a password that
//     passed once is remembered as an HMAC under a per-process random key
//     (memory only) and later compared in constant time;
//   - concurrent checks of the same credentials share one bcrypt run (a cold
//     server flooded by one script's requests does one check, not a hundred);
//   - at most bcryptSlots bcrypt runs at a time, failed ones included, so
//     guesses cannot monopolise the CPU.
type guard struct {
	clock   scene.Clock
	hash    []byte
	key     []byte
	compare func(hash, pw []byte) error // bcrypt's; tests count and hold it
	slots   chan struct{}
	evals   atomic.Int64 // bcrypt runs

	mu       sync.Mutex
	good     []byte // HMAC of the credentials that last passed bcrypt
	addrs    map[string]*failures
	accounts map[string]*failures
	inflight map[string]*pwCheck // by HMAC of the credentials
}

// pwCheck is one bcrypt run that others with the same credentials wait for.
type pwCheck struct {
	done     chan struct{}
	ok       bool
	canceled bool // the leader gave up before bcrypt ran: wait again
}

// verdict is the outcome of a password check.
type verdict int

const (
	denied    verdict = iota // wrong user or password
	granted                  // right
	lockedOut                // too many failures: refused without a check
	gaveUp                   // the client went away first
)

func newGuard(hash []byte, c scene.Clock) (*guard, error) {
	if _, err := bcrypt.Cost(hash); err != nil {
		return nil, fmt.Errorf("web: password hash: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("web: verifier key: %w", err)
	}
	return &guard{
		clock:    c,
		hash:     append([]byte(nil), hash...),
		key:      key,
		compare:  bcrypt.CompareHashAndPassword,
		slots:    make(chan struct{}, bcryptSlots),
		addrs:    map[string]*failures{},
		accounts: map[string]*failures{},
		inflight: map[string]*pwCheck{},
	}, nil
}

func (g *guard) mac(user, pw string) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	return m.Sum(nil)
}

// accountKey bounds what a client can make the table hold.
func accountKey(user string) string {
	if len(user) > 64 {
		return user[:64]
	}
	return user
}

// attempt checks user and pw for a client at addr. wait is how long a
// locked-out client must wait.
func (g *guard) attempt(ctx context.Context, addr, user, pw string) (v verdict, wait time.Duration) {
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(adminUser)) == 1
	d := g.mac(user, pw)
	key, acct := string(d), accountKey(user)
	for {
		now := g.clock.Now()
		g.mu.Lock()
		if wait, locked := g.lockedLocked(addr, acct, now); locked {
			g.mu.Unlock()
			return lockedOut, wait
		}
		if userOK && g.good != nil && hmac.Equal(d, g.good) {
			delete(g.addrs, addr) // a clean slate, as after any success
			g.mu.Unlock()
			return granted, 0
		}
		if c := g.inflight[key]; c != nil {
			// The same guess is being checked: its answer is ours, and it
			// is counted once.
			g.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return gaveUp, 0
			}
			if c.canceled {
				continue
			}
			if c.ok {
				return granted, 0
			}
			return denied, 0
		}
		// Count the attempt as a failure now; a success takes it back.
		g.failLocked(g.addrs, addr, maxFailures, now)
		g.failLocked(g.accounts, acct, maxAccountFailures, now)
		c := &pwCheck{done: make(chan struct{})}
		g.inflight[key] = c
		g.mu.Unlock()

		ok, err := g.bcrypt(ctx, pw)
		g.mu.Lock()
		delete(g.inflight, key)
		switch {
		case err != nil:
			c.canceled = true // nothing was checked: nothing to count
			g.undoLocked(g.addrs, addr, maxFailures)
			g.undoLocked(g.accounts, acct, maxAccountFailures)
			v = gaveUp
		case ok && userOK:
			c.ok = true
			g.good = d
			g.undoLocked(g.accounts, acct, maxAccountFailures)
			delete(g.addrs, addr)
			v = granted
		default:
			v = denied
		}
		close(c.done)
		g.mu.Unlock()
		return v, 0
	}
}

// bcrypt runs one comparison when a slot is free.
func (g *guard) bcrypt(ctx context.Context, pw string) (bool, error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-g.slots }()
	g.evals.Add(1)
	return g.compare(g.hash, []byte(pw)) == nil, nil
}

// failures are the counted attempts of one address or account.
type failures struct {
	n     int
	last  time.Time
	until time.Time // locked while now is before until
}

// lockedLocked reports whether addr or the account must wait, and for how
// long; a served lockout or failures older than lockoutFor are forgotten.
func (g *guard) lockedLocked(addr, acct string, now time.Time) (time.Duration, bool) {
	var wait time.Duration
	for _, t := range []struct {
		m map[string]*failures
		k string
	}{{g.addrs, addr}, {g.accounts, acct}} {
		f, ok := t.m[t.k]
		if !ok {
			continue
		}
		switch {
		case !f.until.IsZero() && now.Before(f.until):
			wait = max(wait, f.until.Sub(now))
		case !f.until.IsZero() || now.Sub(f.last) > lockoutFor:
			delete(t.m, t.k) // served its minute, or long quiet: a clean slate
		}
	}
	return wait, wait > 0
}

func (g *guard) failLocked(m map[string]*failures, k string, limit int, now time.Time) {
	f, ok := m[k]
	if !ok {
		if len(m) >= maxTrackedAddrs {
			prune(m, now)
		}
		f = &failures{}
		m[k] = f
	}
	f.n++
	f.last = now
	if f.n >= limit {
		f.until = now.Add(lockoutFor)
	}
}

// undoLocked takes back one counted attempt that turned out right or never
// ran; a lockout it alone caused is lifted.
func (g *guard) undoLocked(m map[string]*failures, k string, limit int) {
	f, ok := m[k]
	if !ok {
		return
	}
	if f.n > 0 {
		f.n--
	}
	if f.n < limit {
		f.until = time.Time{}
	}
}

// prune keeps a table bounded when many clients fail: locked-out entries
// and recent failures stay, stale ones go.
func prune(m map[string]*failures, now time.Time) {
	for k, f := range m {
		if !now.Before(f.until) && now.Sub(f.last) > lockoutFor {
			delete(m, k)
		}
	}
	if len(m) < maxTrackedAddrs {
		return
	}
	for k, f := range m {
		if !now.Before(f.until) {
			delete(m, k)
		}
	}
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

// clientAddr is the host part of RemoteAddr. X-Forwarded-For is ignored on
// purpose: a client could set it to dodge the lockout.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
