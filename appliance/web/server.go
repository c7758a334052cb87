package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/scene"
)

// App is the appliance as the web sees it.
type App interface {
	State() State
	SwitchScene(name string) error
	Press(button string, p scene.Press) error
}

// EventLog is the appliance's event log.
type EventLog interface {
	RecentEvents(ctx context.Context, n int) ([]store.Event, error)
}

// Roll renders the simulated printer's paper roll.
type Roll interface {
	WritePNG(w io.Writer) error
}

// Options configure a Server. App and PasswordHash are required.
type Options struct {
	App          App
	Camera       scene.Camera // nil: no camera
	Roll         Roll         // sim printer roll; nil on hardware
	Events       EventLog     // nil: no event log
	PasswordHash []byte       // bcrypt hash of the admin password
	Clock        scene.Clock  // nil: the wall clock
	Log          *slog.Logger // nil: discard
	Name         string       // shown in the page header; "" is "tinkerbox"

	// Updater installs firmware updates from /settings; nil: updates are
	// not available here (the simulator, a PC, a card without the update
	// service), and the page says why.
	Updater Updater
	// FirmwareVersion is the running firmware's version (what `tinkerbox
	// version` prints); /settings shows it when there is no Updater.
	FirmwareVersion string
	// NoUpdaterReason is why there is no Updater, in a sentence for the
	// maker; "" picks one for the simulator or a PC.
	NoUpdaterReason string
}

// Server is the appliance's web server. Its handler is safe for concurrent use.
type Server struct {
	app     App
	camera  scene.Camera
	roll    Roll
	events  EventLog
	clock   scene.Clock
	log     *slog.Logger
	name    string
	guard   *guard
	sess    *sessions
	origin  *http.CrossOriginProtection
	pages   *template.Template
	static  fs.FS
	version string // hash of the static files, for cache busting
	mux     *http.ServeMux
	handler http.Handler

	upd *updates

	streamWrite time.Duration // per-write deadline of the state stream
	uploadStall time.Duration // an upload that sends nothing this long is closed

	closeOnce sync.Once
	done      chan struct{} // closed by EndStreams

	// uploads are the API posts that take files instead of JSON: path →
	// the media types accepted (see HandleUpload). Written before serving.
	uploads map[string][]string

	sheetSim SheetSim // the simulated camera's sheet; nil: none
}

//go:embed templates/*.html static/*
var assets embed.FS

// New builds a Server: it parses the templates and registers the routes.
func New(opts Options) (*Server, error) {
	if opts.App == nil {
		return nil, errors.New("web: Options.App is nil")
	}
	if len(opts.PasswordHash) == 0 {
		return nil, errors.New("web: no password hash (there is no default password)")
	}
	s := &Server{
		app:     opts.App,
		camera:  opts.Camera,
		roll:    opts.Roll,
		events:  opts.Events,
		clock:   opts.Clock,
		log:     opts.Log,
		name:    opts.Name,
		mux:     http.NewServeMux(),
		done:    make(chan struct{}),
		uploads: map[string][]string{},
		upd:     newUpdates(opts.Updater, opts.FirmwareVersion, opts.NoUpdaterReason),

		streamWrite: streamWriteTimeout,
		uploadStall: uploadStall,
	}
	if s.clock == nil {
		s.clock = scene.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.name == "" {
		s.name = "tinkerbox"
	}
	var err error
	if s.guard, err = newGuard(opts.PasswordHash, s.clock); err != nil {
		return nil, err
	}
	s.sess = newSessions(s.clock)
	s.origin = http.NewCrossOriginProtection()
	s.origin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		closeUnread(w, r)
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	if s.static, err = fs.Sub(assets, "static"); err != nil {
		return nil, fmt.Errorf("web: static: %w", err)
	}
	if s.version, err = hashFS(s.static); err != nil {
		return nil, err
	}
	if s.pages, err = template.New("").Funcs(template.FuncMap{
		"ledNames":  func() []string { return []string{scene.LightReady, scene.LightBusy, scene.LightWarn} },
		"slotState": slotState,
	}).ParseFS(assets, "templates/*.html"); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s.routes()
	// Every state-changing request, whatever its credentials, must come
	// from this site: browsers send cached Basic credentials and cookies
	// with a cross-site form post too.
	s.handler = s.secure(s.origin.Handler(s.mux))
	return s, nil
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// EndStreams ends every open event stream and refuses new ones (503), so
// that http.Server.Shutdown does not wait for them forever:
//
//	httpSrv.RegisterOnShutdown(webSrv.EndStreams)
func (s *Server) EndStreams() {
	s.closeOnce.Do(func() { close(s.done) })
}

// Handle adds a route (a Go 1.22 ServeMux pattern) for a scene; it is always
// behind authentication and the CSRF check. Like ServeMux.Handle it panics on
// a pattern that conflicts with an existing one: that is a programming error.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.auth(h))
}

// HandleUpload adds POST path (an exact path under /api/) whose body is a
// file of one of the media types (e.g. "multipart/form-data", "image/png")
// rather than JSON: the one other exception to the JSON rule than the
// firmware bundle. A browser form cannot send a CSRF header, so the session
// check still holds; the handler must cap and time the body itself.
func (s *Server) HandleUpload(path string, types []string, h http.Handler) {
	s.uploads[path] = types
	s.Handle("POST "+path, h)
}

// upload reports whether r is a post to an upload path with a media type
// it accepts.
func (s *Server) upload(r *http.Request) bool {
	types, ok := s.uploads[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && slices.Contains(types, mt)
}

func (s *Server) routes() {
	// Open.
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
	})
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.Handle("GET /static/base.css", s.staticFiles())
	s.mux.Handle("GET /static/logo.svg", s.staticFiles())

	// Authenticated.
	s.Handle("GET /{$}", http.HandlerFunc(s.panel))
	s.Handle("GET /static/", s.staticFiles())
	s.Handle("POST /logout", http.HandlerFunc(s.logout))
	s.Handle("GET /api/state", http.HandlerFunc(s.apiState))
	s.Handle("GET /api/state/stream", http.HandlerFunc(s.apiStream))
	s.Handle("POST /api/scene", http.HandlerFunc(s.apiScene))
	s.Handle("POST /api/buttons/{button}", http.HandlerFunc(s.apiButton))
	s.Handle("GET /api/events", http.HandlerFunc(s.apiEvents))
	s.Handle("GET /api/printer/roll.png", http.HandlerFunc(s.apiRoll))
	s.Handle("GET /snapshot.jpg", http.HandlerFunc(s.snapshot))
	s.Handle("GET /settings", http.HandlerFunc(s.settingsPage))
	s.Handle("GET /api/update", http.HandlerFunc(s.apiUpdate))
	s.Handle("POST /api/update", http.HandlerFunc(s.apiInstall))
	s.Handle("POST /api/update/rollback", http.HandlerFunc(s.apiRollback))
	s.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint")
	}))
	// Any other path: an HTML page (the API above stays JSON).
	s.mux.HandleFunc("/", s.notFound)
}

// notFound is the HTML 404. It is open, like the login page, so a mistyped
// address says "not found" rather than asking to sign in; a signed-in
// browser gets the page frame with the nav.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if !safeMethod(r.Method) {
		closeUnread(w, r)
		http.NotFound(w, r)
		return
	}
	data := struct {
		Frame
		Path string
	}{Frame: Frame{Name: s.name, Version: s.version}, Path: r.URL.Path}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if csrf, ok := s.sess.lookup(c.Value); ok {
			data.CSRF, data.Sim = csrf, s.app.State().Sim
		}
	}
	s.render(w, http.StatusNotFound, "404.html", data)
}

// secure sets the headers every response carries. The CSP forbids inline
// scripts and styles: all JS and CSS are embedded static files.
func (s *Server) secure(next http.Handler) http.Handler {
	const csp = "default-src 'self'; img-src 'self' data: blob:; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// authInfo is what auth learnt about the request.
type authInfo struct {
	csrf   string // the session's CSRF token; "" for Basic auth
	cookie bool   // authenticated by session cookie
}

type authKey struct{}

func authFrom(ctx context.Context) authInfo {
	a, _ := ctx.Value(authKey{}).(authInfo)
	return a
}

// auth admits a request with a valid session cookie (plus the CSRF token on
// anything but GET/HEAD) or valid Basic credentials. A state-changing API
// request must also be JSON: a cross-site form cannot send that without a
// CORS preflight, which this server never grants. The one exception is the
// firmware upload, POST /api/update with application/octet-stream, which a
// form cannot send either (see bundleUpload). (The origin check in New
// comes first, for every kind of credentials.)
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			if csrf, ok := s.sess.lookup(c.Value); ok {
				if !safeMethod(r.Method) && !s.csrfOK(r, csrf) {
					closeUnread(w, r)
					writeError(w, http.StatusForbidden, "missing or wrong CSRF token")
					return
				}
				s.serveAuthed(w, r, next, authInfo{csrf: csrf, cookie: true})
				return
			}
		}
		user, pw, tried := r.BasicAuth()
		if tried {
			addr := clientAddr(r)
			switch v, wait := s.guard.attempt(r.Context(), addr, user, pw); v {
			case granted:
				s.serveAuthed(w, r, next, authInfo{})
				return
			case lockedOut:
				closeUnread(w, r)
				tooMany(w, wait)
				return
			case gaveUp:
				return // the client went away
			}
			s.log.Warn("web: basic auth failed", "addr", addr, "user", user)
		}
		s.unauthorized(w, r, tried)
	})
}

func (s *Server) serveAuthed(w http.ResponseWriter, r *http.Request, next http.Handler, a authInfo) {
	if !safeMethod(r.Method) && strings.HasPrefix(r.URL.Path, "/api/") && !jsonRequest(r) && !bundleUpload(r) && !s.upload(r) {
		closeUnread(w, r)
		if r.Method == http.MethodPost && r.URL.Path == "/api/update" {
			writeError(w, http.StatusUnsupportedMediaType, "send the bundle (.tbup) as the raw request body with Content-Type: "+bundleType)
			return
		}
		if types, ok := s.uploads[r.URL.Path]; ok && r.Method == http.MethodPost {
			writeError(w, http.StatusUnsupportedMediaType, "send the file as "+strings.Join(types, " or "))
			return
		}
		writeError(w, http.StatusUnsupportedMediaType, "send the request body as JSON with Content-Type: application/json")
		return
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authKey{}, a)))
}

// unauthorized sends a browser to the login page and asks anything else for
// Basic credentials. A browser never gets the Basic challenge: its dialog
// would cache credentials that every cross-site request then carries.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, triedBasic bool) {
	closeUnread(w, r)
	if wantsPage(r) {
		http.Redirect(w, r, "/login?next="+pathEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if !isBrowser(r) || triedBasic {
		w.Header().Set("WWW-Authenticate", `Basic realm="tinkerbox"`)
	}
	if !isBrowser(r) {
		writeError(w, http.StatusUnauthorized, "authentication required")
		return
	}
	next := "/"
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		next = r.URL.RequestURI()
	}
	writeJSON(w, http.StatusUnauthorized, struct {
		Error string `json:"error"`
		Login string `json:"login"`
	}{"login required", "/login?next=" + pathEscape(next)})
}

// isBrowser tells a browser (Fetch metadata, or a Mozilla-compatible user
// agent) from curl and scripts.
func isBrowser(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Mode") != "" || r.Header.Get("Sec-Fetch-Site") != "" ||
		strings.Contains(r.UserAgent(), "Mozilla")
}

// jsonRequest reports whether r's body is JSON, or absent altogether.
func jsonRequest(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.ContentLength == 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// closeUnread makes a refusal close the connection at once when the request
// has a body nobody will read: the server would otherwise drain up to 256 KB
// of it, as slowly as the client likes, before reusing or closing the
// connection.
func closeUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		w.Header().Set("Connection", "close")
		http.NewResponseController(w).SetReadDeadline(time.Now()) // a past deadline: no draining
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfOK checks the X-CSRF-Token header, or the csrf field of a URL-encoded
// form.
func (s *Server) csrfOK(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, 8<<10)
		got = r.PostFormValue("csrf")
	}
	return got != "" && tokenEqual(got, want)
}

// wantsPage tells a browser navigating to a page (redirect it to the login
// form) from an API client or an <img> (answer 401).
func wantsPage(r *http.Request) bool {
	if !safeMethod(r.Method) || strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	acc := r.Header.Get("Accept")
	if acc == "" { // curl and friends: pages have no file extension
		return !strings.Contains(path.Base(r.URL.Path), ".")
	}
	return strings.Contains(acc, "text/html")
}

// pathEscape makes a request URI safe to carry in the next parameter.
func pathEscape(uri string) string {
	return template.URLQueryEscaper(uri)
}

func retryAfter(secs float64) string {
	n := int(secs + 0.999)
	if n < 1 {
		n = 1
	}
	return fmt.Sprint(n)
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", retryAfter(wait.Seconds()))
	writeError(w, http.StatusTooManyRequests, "too many failed logins; try again in a minute")
}

// render executes a template into a buffer first, so a template error gives
// a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("web: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		s.log.Debug("web: write page", "template", name, "err", err)
	}
}

// staticFiles serves the embedded assets. Templates link them with
// ?v=<hash of all assets>, so such requests may be cached for good.
func (s *Server) staticFiles() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(s.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if r.URL.Query().Get("v") == s.version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

func hashFS(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		io.WriteString(h, p)
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("web: hash assets: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)[:6]), nil
}
