package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
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
	// A browser's fetch gets no Basic challenge (its dialog would cache
	// credentials every cross-site request carries) but the way to log in.
	for _, h := range []map[string]string{
		{"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"},
		{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"},
	} {
		r := req("GET", "/api/state", "")
		for k, v := range h {
			r.Header.Set(k, v)
		}
		w := f.do(r)
		if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "" {
			t.Errorf("browser %v: %d, WWW-Authenticate %q; want 401 without a challenge", h, w.Code, w.Header().Get("WWW-Authenticate"))
		}
		if !strings.Contains(w.Body.String(), `"login":"/login?next=%2F"`) {
			t.Errorf("browser %v: body %s lacks the login URL", h, w.Body)
		}
	}
	// A browser that already tried Basic is asked again.
	r := req("GET", "/api/state", "")
	r.Header.Set("User-Agent", "Mozilla/5.0")
	r.SetBasicAuth("admin", "stale")
	if w := f.do(r); w.Header().Get("WWW-Authenticate") == "" {
		t.Error("a browser that sent Basic got no challenge")
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
		"/\t/evil.example":  "/",
		"/\n/evil.example":  "/",
		"/ /evil.example":   "/",
		"/a\\b":             "/",
		"/\u2003/x":         "/",
		"/\x00":             "/",
		"/\xff":             "/",
		"/a\tb":             "/",
		"/comics?n=3#top":   "/comics?n=3#top",
		"/%09/evil.example": "/%09/evil.example", // still escaped: a path on this site
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
	// Basic needs no token (scripts have none): the origin check and the
	// JSON rule stop cross-site posts whatever the credentials.
	if w := f.do(basic(req("POST", "/api/scene", `{"name":"spycam"}`))); w.Code != http.StatusOK {
		t.Fatalf("Basic POST without token = %d", w.Code)
	}
	r = basic(req("POST", "/api/scene", `{"name":"comic"}`))
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := f.do(r); w.Code != http.StatusForbidden || f.app.scene() != "spycam" {
		t.Fatalf("cross-site Basic POST = %d, scene %q", w.Code, f.app.scene())
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

func TestStateChangesMustBeJSON(t *testing.T) {
	f := newFixture(t)
	sess, token := f.login()
	for _, tc := range []struct {
		name, ct, body string
		cookie         bool
		want           int
	}{
		{"basic text/plain", "text/plain", `{"name":"barometer"}`, false, http.StatusUnsupportedMediaType},
		{"basic form", "application/x-www-form-urlencoded", "name=barometer", false, http.StatusUnsupportedMediaType},
		{"cookie form with token", "application/x-www-form-urlencoded", "name=barometer&csrf=" + token, true, http.StatusUnsupportedMediaType},
		{"basic JSON with charset", "application/json; charset=utf-8", `{"name":"cardfeed"}`, false, http.StatusOK},
		{"basic no body", "", "", false, http.StatusBadRequest}, // reaches the handler: no name
	} {
		r := httptest.NewRequest("POST", "/api/scene", strings.NewReader(tc.body))
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		if tc.cookie {
			r.AddCookie(sess)
			r.Header.Set("X-CSRF-Token", token)
		} else {
			basic(r)
		}
		if w := f.do(r); w.Code != tc.want {
			t.Errorf("%s = %d, want %d: %s", tc.name, w.Code, tc.want, w.Body)
		}
	}
	if got := f.app.scene(); got != "cardfeed" {
		t.Fatalf("scene = %q, want cardfeed (only the JSON post)", got)
	}
	// decodeBody refuses other types itself, wherever it is called from.
	r := httptest.NewRequest("POST", "/x", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "text/plain")
	var v struct{}
	if err := decodeBody(httptest.NewRecorder(), r, &v); !errors.Is(err, errNotJSON) {
		t.Fatalf("decodeBody(text/plain) = %v, want errNotJSON", err)
	}
}

func TestAccountLockout(t *testing.T) {
	f := newFixture(t)
	// 4 failures from each of 5 addresses: none is locked by itself ...
	for a := range maxAccountFailures / (maxFailures - 1) {
		for range maxFailures - 1 {
			r := req("GET", "/api/state", "")
			r.SetBasicAuth("admin", "guess")
			r.RemoteAddr = fmt.Sprintf("198.51.100.%d:1000", a+1)
			if w := f.do(r); w.Code != http.StatusUnauthorized {
				t.Fatalf("guess from address %d = %d, want 401", a+1, w.Code)
			}
		}
	}
	// ... but the account is, for everyone.
	r := basic(req("GET", "/api/state", ""))
	r.RemoteAddr = "203.0.113.9:1000"
	if w := f.do(r); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right password on a locked account = %d, want 429", w.Code)
	}
	// Another user name is another account.
	r = req("GET", "/api/state", "")
	r.SetBasicAuth("root", "x")
	if w := f.do(r); w.Code != http.StatusUnauthorized {
		t.Fatalf("other account = %d, want 401", w.Code)
	}
	f.clock.Advance(lockoutFor)
	r = basic(req("GET", "/api/state", ""))
	r.RemoteAddr = "203.0.113.9:1000"
	if w := f.do(r); w.Code != http.StatusOK {
		t.Fatalf("after a minute = %d, want 200", w.Code)
	}
}

func TestLockoutSuccessTakesBackItsAttempt(t *testing.T) {
	f := newFixture(t)
	const addr = "198.51.100.20:1"
	guess := func(pw string) int {
		r := req("GET", "/api/state", "")
		r.SetBasicAuth("admin", pw)
		r.RemoteAddr = addr
		return f.do(r).Code
	}
	for range maxFailures - 1 {
		guess("typo")
	}
	// The fifth attempt was counted up front and locks the address; being
	// right takes it back and clears the address's typos.
	if c := guess(testPassword); c != http.StatusOK {
		t.Fatalf("right password after 4 typos = %d", c)
	}
	for i := range maxFailures {
		if c := guess(fmt.Sprint("again", i)); c != http.StatusUnauthorized {
			t.Fatalf("failure %d after a success = %d, want 401", i+1, c)
		}
	}
	if c := guess(testPassword); c != http.StatusTooManyRequests {
		t.Fatalf("after 5 new failures = %d, want 429", c)
	}
	if n := f.srv.guard.accounts[adminUser].n; n != 2*maxFailures-1 {
		t.Errorf("account counts %d failures, want %d (the success is not one)", n, 2*maxFailures-1)
	}
}

func TestGuardGivesBackAnAttemptNeverChecked(t *testing.T) {
	f := newFixture(t)
	g := f.srv.guard
	gt := holdBcrypt(g)
	defer close(gt.open)
	for i := range bcryptSlots { // fill the slots
		go g.attempt(context.Background(), "192.0.2.1", adminUser, fmt.Sprint("held", i))
	}
	for gt.evals.Load() < bcryptSlots {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan verdict)
	go func() {
		v, _ := g.attempt(ctx, "192.0.2.2", adminUser, "waiting")
		done <- v
	}()
	cancel()
	if v := <-done; v != gaveUp {
		t.Fatalf("cancelled attempt = %v, want gaveUp", v)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.addrs["192.0.2.2"]; f != nil && f.n != 0 {
		t.Fatalf("an attempt that never reached bcrypt is still counted: %d", f.n)
	}
	if n := gt.evals.Load(); n != bcryptSlots {
		t.Fatalf("%d bcrypt runs, want %d (at most bcryptSlots at a time)", n, bcryptSlots)
	}
}
