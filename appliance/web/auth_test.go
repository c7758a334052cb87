package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestHealthzIsOpen(t *testing.T) {
	f := newFixture(t)
	w := f.do(req("GET", "/healthz", ""))
	if w.Code != http.StatusOK || w.Body.String() != "ok" {
		t.Fatalf("GET /healthz = %d %q, want 200 ok", w.Code, w.Body)
	}
}

func TestNoAccessWithoutLogin(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/state"},
		{"GET", "/api/state/stream"},
		{"GET", "/api/events"},
		{"POST", "/api/scene"},
		{"POST", "/api/buttons/A"},
		{"GET", "/api/printer/roll.png"},
		{"GET", "/api/nothing"},
		{"GET", "/snapshot.jpg"},
		{"POST", "/logout"},
	} {
		w := f.do(req(tc.method, tc.path, ""))
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s = %d, want 401", tc.method, tc.path, w.Code)
			continue
		}
		if got := w.Header().Get("WWW-Authenticate"); got != `Basic realm="tinkerbox"` {
			t.Errorf("%s %s: WWW-Authenticate = %q", tc.method, tc.path, got)
		}
		if !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s %s: body %q is not a JSON error", tc.method, tc.path, w.Body)
		}
	}
	// A browser asking for a page goes to the login form.
	for _, path := range []string{"/", "/static/panel.js"} {
		r := req("GET", path, "")
		r.Header.Set("Accept", "text/html,application/xhtml+xml")
		w := f.do(r)
		if w.Code != http.StatusSeeOther {
			t.Errorf("GET %s = %d, want 303", path, w.Code)
			continue
		}
		if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("GET %s redirects to %q", path, loc)
		}
	}
	// The login page and its stylesheet are open.
	for _, path := range []string{"/login", "/static/base.css", "/static/logo.svg"} {
		if w := f.do(req("GET", path, "")); w.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, w.Code)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	f := newFixture(t)
	w := f.do(basic(req("GET", "/api/state", "")))
	if w.Code != http.StatusOK {
		t.Fatalf("Basic GET /api/state = %d", w.Code)
	}
	// The second call takes the cached path; it must still succeed.
	if w := f.do(basic(req("GET", "/api/state", ""))); w.Code != http.StatusOK {
		t.Fatalf("second Basic GET /api/state = %d", w.Code)
	}
	for _, cred := range [][2]string{{"admin", "wrong"}, {"root", testPassword}, {"admin", ""}} {
		r := req("GET", "/api/state", "")
		r.SetBasicAuth(cred[0], cred[1])
		if w := f.do(r); w.Code != http.StatusUnauthorized {
			t.Errorf("Basic %s:%s = %d, want 401", cred[0], cred[1], w.Code)
		}
	}
}

func TestLoginThenAPI(t *testing.T) {
	f := newFixture(t)
	w := f.loginForm("192.0.2.10:4000", testPassword)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("login = %d to %q", w.Code, w.Header().Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure || sess.Path != "/" {
		t.Errorf("cookie attributes: %+v", sess)
	}
	if len(sess.Value) < 43 { // 32 bytes, base64
		t.Errorf("session token %q is shorter than 256 bits", sess.Value)
	}
	r := req("GET", "/api/state", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("GET /api/state with cookie = %d", w.Code)
	}
	// Logged-in users skip the form.
	r = req("GET", "/login", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusSeeOther {
		t.Errorf("GET /login when logged in = %d, want 303", w.Code)
	}
}

func TestLoginOverTLSSetsSecure(t *testing.T) {
	f := newFixture(t)
	page := f.do(req("GET", "https://tinkerbox.local/login", ""))
	for _, c := range page.Result().Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s over TLS is not Secure", c.Name)
		}
	}
}

func TestLoginWrongPassword(t *testing.T) {
	f := newFixture(t)
	w := f.loginForm("192.0.2.10:4000", "nope")
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Wrong password") {
		t.Fatalf("wrong password = %d", w.Code)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			t.Fatal("wrong password got a session")
		}
	}
}

func TestLoginNeedsFormToken(t *testing.T) {
	f := newFixture(t)
	r := httptestForm("/login", "password="+testPassword+"&csrf=forged")
	r.AddCookie(&http.Cookie{Name: loginCSRFCookie, Value: "different"})
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Errorf("login with mismatched token = %d, want 403", w.Code)
	}
	r = httptestForm("/login", "password="+testPassword)
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Errorf("login without token = %d, want 403", w.Code)
	}
}

func TestNextStaysOnSite(t *testing.T) {
	for in, want := range map[string]string{
		"/":                 "/",
		"/snapshot.jpg":     "/snapshot.jpg",
		"//evil.example/":   "/",
		"/\\evil.example":   "/",
		"https://evil.com/": "/",
		"":                  "/",
		"/login?next=/":     "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	sess, token := f.login()

	r := req("POST", "/api/scene", `{"name":"barometer"}`)
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Fatalf("cookie POST without token = %d, want 403", w.Code)
	}
	r = req("POST", "/api/scene", `{"name":"barometer"}`)
	r.AddCookie(sess)
	r.Header.Set("X-CSRF-Token", "wrong")
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Fatalf("cookie POST with wrong token = %d, want 403", w.Code)
	}
	if got := f.app.scene(); got != "comic" {
		t.Fatalf("scene switched to %q without a CSRF token", got)
	}
	r = req("POST", "/api/scene", `{"name":"barometer"}`)
	r.AddCookie(sess)
	r.Header.Set("X-CSRF-Token", token)
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("cookie POST with token = %d: %s", w.Code, w.Body)
	}
	if got := f.app.scene(); got != "barometer" {
		t.Fatalf("scene = %q, want barometer", got)
	}
	// Basic auth is exempt.
	if w := f.do(basic(req("POST", "/api/scene", `{"name":"spycam"}`))); w.Code != http.StatusOK {
		t.Fatalf("Basic POST without token = %d", w.Code)
	}
	// The form field works too (logout is a plain form).
	r = httptestForm("/logout", "csrf="+token)
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusSeeOther {
		t.Fatalf("logout = %d", w.Code)
	}
	r = req("GET", "/api/state", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusUnauthorized {
		t.Fatalf("session still works after logout: %d", w.Code)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t)
	const addr = "198.51.100.7:5555"
	for i := range maxFailures {
		if w := f.loginForm(addr, "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, w.Code)
		}
	}
	w := f.loginForm(addr, testPassword)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("6th attempt with the right password = %d, want 429", w.Code)
	}
	if w.Header().Get("Retry-After") != "60" {
		t.Errorf("Retry-After = %q, want 60", w.Header().Get("Retry-After"))
	}
	// Basic auth from the same address is locked out as well ...
	r := basic(req("GET", "/api/state", ""))
	r.RemoteAddr = addr
	if w := f.do(r); w.Code != http.StatusTooManyRequests {
		t.Fatalf("Basic from locked address = %d, want 429", w.Code)
	}
	// ... X-Forwarded-For does not help ...
	r = basic(req("GET", "/api/state", ""))
	r.RemoteAddr = "198.51.100.7:6000"
	r.Header.Set("X-Forwarded-For", "203.0.113.1")
	if w := f.do(r); w.Code != http.StatusTooManyRequests {
		t.Fatalf("Basic with X-Forwarded-For from locked address = %d, want 429", w.Code)
	}
	// ... while other addresses are not.
	if w := f.loginForm("198.51.100.8:5555", testPassword); w.Code != http.StatusSeeOther {
		t.Fatalf("login from another address = %d", w.Code)
	}
	f.clock.Advance(lockoutFor - time.Second)
	if w := f.loginForm(addr, testPassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("login after 59 s = %d, want 429", w.Code)
	}
	f.clock.Advance(time.Second)
	if w := f.loginForm(addr, testPassword); w.Code != http.StatusSeeOther {
		t.Fatalf("login after a minute = %d, want 303", w.Code)
	}
}

func TestBasicFailuresLockOut(t *testing.T) {
	f := newFixture(t)
	for range maxFailures {
		r := req("GET", "/api/state", "")
		r.SetBasicAuth("admin", "guess")
		if w := f.do(r); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong Basic = %d", w.Code)
		}
	}
	if w := f.do(basic(req("GET", "/api/state", ""))); w.Code != http.StatusTooManyRequests {
		t.Fatalf("Basic after 5 failures = %d, want 429", w.Code)
	}
	f.clock.Advance(lockoutFor)
	if w := f.do(basic(req("GET", "/api/state", ""))); w.Code != http.StatusOK {
		t.Fatalf("Basic after a minute = %d, want 200", w.Code)
	}
}

func TestSessionExpires(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.login()
	f.clock.Advance(sessionTTL - time.Minute)
	r := req("GET", "/api/state", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("before expiry = %d", w.Code)
	}
	f.clock.Advance(time.Minute)
	r = req("GET", "/api/state", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusUnauthorized {
		t.Fatalf("after 7 days = %d, want 401", w.Code)
	}
}

func TestSessionsAreBounded(t *testing.T) {
	f := newFixture(t)
	first, _ := f.login()
	for range maxSessions {
		f.clock.Advance(time.Second)
		f.login()
	}
	r := req("GET", "/api/state", "")
	r.AddCookie(first)
	if w := f.do(r); w.Code != http.StatusUnauthorized {
		t.Fatalf("oldest of %d sessions still valid: %d", maxSessions+1, w.Code)
	}
	if n := len(f.srv.sess.m); n > maxSessions {
		t.Fatalf("%d sessions kept, want <= %d", n, maxSessions)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/healthz", "/login", "/api/state"} {
		h := f.do(req("GET", path, "")).Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code: %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
}

func TestHandleIsBehindAuth(t *testing.T) {
	f := newFixture(t)
	f.srv.Handle("GET /api/custom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("custom"))
	}))
	f.srv.Handle("POST /api/custom", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("posted"))
	}))
	if w := f.do(req("GET", "/api/custom", "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("unauthenticated scene route = %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/api/custom", ""))); w.Code != http.StatusOK || w.Body.String() != "custom" {
		t.Fatalf("scene route = %d %q", w.Code, w.Body)
	}
	sess, _ := f.login()
	r := req("POST", "/api/custom", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Fatalf("scene POST route without CSRF token = %d, want 403", w.Code)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	app := newFakeApp()
	if _, err := New(Options{PasswordHash: testHash(t)}); err == nil {
		t.Error("New without App succeeded")
	}
	if _, err := New(Options{App: app}); err == nil {
		t.Error("New without a password hash succeeded")
	}
	if _, err := New(Options{App: app, PasswordHash: []byte("plaintext")}); err == nil {
		t.Error("New with a non-bcrypt hash succeeded")
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	if _, err := New(Options{App: app, PasswordHash: h}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}
