package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

func tokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

type loginData struct {
	Name    string
	Version string
	CSRF    string
	Next    string
	Error   string
}

// Frame is what the shared page frame needs: the "head" and "nav" templates
// in head.html. Every signed-in page's data embeds it, so a template reads
// .Name, .Version, .CSRF, .Page and .Sim:
//
//	type myPage struct {
//		Frame
//		Things []Thing
//	}
//	s.render(w, http.StatusOK, "my.html", myPage{Frame: s.Frame(r, "barometer"), …})
//
// and the template starts with
//
//	<head>{{template "head" .}}<title>…</title>…</head>
//	<body><header class="topbar">{{template "nav" .}}</header>
//
// page is one of the nav's keys: "panel", "comics", "barometer", "spycam",
// "cards", "settings" (it gets aria-current="page"); "" marks none.
type Frame struct {
	Name    string
	Version string
	CSRF    string
	Page    string
	Sim     bool
}

// Frame fills the page frame for a signed-in request.
func (s *Server) Frame(r *http.Request, page string) Frame {
	return Frame{Name: s.name, Version: s.version, CSRF: authFrom(r.Context()).csrf, Page: page, Sim: s.app.State().Sim}
}

type panelData struct {
	Frame
	State    State
	SheetSim bool // the front panel can put a sheet under the simulated camera
}

// safeNext keeps the post-login redirect on this site: a local absolute path
// ("/" then anything but "/" or "\"). Browsers drop tabs and newlines from a
// URL and read "\" as "/", so "/\t/evil.example" would become
// "//evil.example", another site: any control character, whitespace or
// backslash sends the user to "/" instead.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "/login") {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return "/"
		}
	}
	// What net/url cannot read (a bad escape), or reads as another host, is
	// not a path this server made.
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
}

// loginPage shows the form with a fresh double-submit CSRF token: the same
// random value goes into a cookie and a hidden field; a cross-site form can
// set neither.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, ok := s.sess.lookup(c.Value); ok {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	s.showLogin(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	tok, err := newToken()
	if err != nil {
		s.log.Error("web: login page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, s.cookie(r, loginCSRFCookie, tok, 3600))
	s.render(w, status, "login.html", loginData{
		Name: s.name, Version: s.version, CSRF: tok, Next: safeNext(next), Error: msg,
	})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.showLogin(w, r, http.StatusBadRequest, "", "That form could not be read. Please try again.")
		return
	}
	next := r.PostFormValue("next")
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || c.Value == "" || !tokenEqual(c.Value, r.PostFormValue("csrf")) {
		s.showLogin(w, r, http.StatusForbidden, next, "The login form expired. Please try again.")
		return
	}
	addr := clientAddr(r)
	user := r.PostFormValue("username")
	if user == "" {
		user = adminUser
	}
	switch v, wait := s.guard.attempt(r.Context(), addr, user, r.PostFormValue("password")); v {
	case gaveUp:
		return
	case lockedOut:
		w.Header().Set("Retry-After", retryAfter(wait.Seconds()))
		s.showLogin(w, r, http.StatusTooManyRequests, next, "Too many wrong passwords. Wait a minute, then try again.")
		return
	case denied:
		s.log.Warn("web: login failed", "addr", addr)
		s.showLogin(w, r, http.StatusUnauthorized, next, "Wrong password.")
		return
	}
	token, _, err := s.sess.create()
	if err != nil {
		s.log.Error("web: login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, token, int(sessionTTL.Seconds())))
	http.SetCookie(w, s.cookie(r, loginCSRFCookie, "", -1))
	s.log.Info("web: login", "addr", addr)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sess.remove(c.Value)
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) panel(w http.ResponseWriter, r *http.Request) {
	st := s.app.State()
	f := s.Frame(r, "panel")
	f.Sim = st.Sim
	s.render(w, http.StatusOK, "panel.html", panelData{Frame: f, State: st, SheetSim: s.sheetSim != nil})
}
