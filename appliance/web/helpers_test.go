package web

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

const testPassword = "correct horse battery"

var testStart = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeApp is an appliance with a scene list; B short advances the scene.
type fakeApp struct {
	mu      sync.Mutex
	state   State
	presses []string
	failing error
	notify  chan string // if set, receives every press
}

func newFakeApp() *fakeApp {
	px := make([]uint8, scene.DisplayWidth*scene.DisplayHeight)
	for i := range px {
		if i%3 == 0 {
			px[i] = uint8(i * 2)
		}
	}
	return &fakeApp{state: State{
		Scene:  "comic",
		Scenes: []string{"comic", "cardfeed", "barometer", "spycam"},
		LEDs: map[string]LED{
			"ready": {Mode: ModeOn, Lit: true},
			"busy":  {Mode: ModeBlink},
			"warn":  {Mode: ModeOff},
		},
		Display: DisplayState{W: scene.DisplayWidth, H: scene.DisplayHeight, Pixels: px},
		Printer: PrinterState{Online: true, Status: "ready", Width: 384},
		Camera:  CameraState{},
		Sim:     true,
	}}
}

func (a *fakeApp) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.state
	s.Scenes = slices.Clone(s.Scenes)
	return s
}

func (a *fakeApp) SwitchScene(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failing != nil {
		return a.failing
	}
	if !slices.Contains(a.state.Scenes, name) {
		return errors.New("fake: unknown scene")
	}
	a.state.Scene = name
	return nil
}

func (a *fakeApp) Press(button string, p scene.Press) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.presses = append(a.presses, button+":"+p.String())
	if a.notify != nil {
		a.notify <- button + ":" + p.String()
	}
	if button == scene.ButtonB && p == scene.Short {
		i := slices.Index(a.state.Scenes, a.state.Scene)
		a.state.Scene = a.state.Scenes[(i+1)%len(a.state.Scenes)]
	}
	return nil
}

func (a *fakeApp) set(f func(s *State)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&a.state)
}

func (a *fakeApp) scene() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.Scene
}

func (a *fakeApp) pressLog() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.presses)
}

type fakeEvents struct {
	mu    sync.Mutex
	ev    []store.Event // newest first
	lastN int
}

func (f *fakeEvents) RecentEvents(ctx context.Context, n int) ([]store.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastN = n
	return slices.Clone(f.ev[:min(n, len(f.ev))]), nil
}

func (f *fakeEvents) add(e store.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.ID = int64(len(f.ev) + 1)
	f.ev = append([]store.Event{e}, f.ev...)
}

type fakeRoll struct{ img image.Image }

func (r fakeRoll) WritePNG(w io.Writer) error { return png.Encode(w, r.img) }

// fakeCamera hands out frame once set; without one, Next blocks until ctx ends.
type fakeCamera struct {
	frame scene.Frame
}

func (c *fakeCamera) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	if c.frame.Seq > after {
		return c.frame, nil
	}
	<-ctx.Done()
	return scene.Frame{}, ctx.Err()
}

type fixture struct {
	t      *testing.T
	srv    *Server
	h      http.Handler
	app    *fakeApp
	clock  *fakeclock.Clock
	events *fakeEvents
}

func testHash(t testing.TB) []byte {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newFixture(t *testing.T, edit ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{t: t, app: newFakeApp(), clock: fakeclock.New(testStart), events: &fakeEvents{}}
	opts := Options{
		App:          f.app,
		Events:       f.events,
		PasswordHash: testHash(t),
		Clock:        f.clock,
	}
	for _, e := range edit {
		e(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv, f.h = srv, srv.Handler()
	return f
}

// req builds a request from addr (host:port), with optional body.
func req(method, target, body string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func basic(r *http.Request) *http.Request {
	r.SetBasicAuth("admin", testPassword)
	return r
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// loginForm posts the login form from addr with password and returns the
// response.
func (f *fixture) loginForm(addr, password string) *httptest.ResponseRecorder {
	f.t.Helper()
	page := f.do(req("GET", "/login", ""))
	if page.Code != http.StatusOK {
		f.t.Fatalf("GET /login = %d", page.Code)
	}
	m := csrfField.FindStringSubmatch(page.Body.String())
	if m == nil {
		f.t.Fatal("login page has no csrf field")
	}
	var cookie *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == loginCSRFCookie {
			cookie = c
		}
	}
	if cookie == nil {
		f.t.Fatal("login page set no csrf cookie")
	}
	form := url.Values{"csrf": {m[1]}, "password": {password}, "next": {"/"}}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(cookie)
	r.RemoteAddr = addr
	return f.do(r)
}

// login logs in and returns the session cookie and the page's CSRF token.
func (f *fixture) login() (*http.Cookie, string) {
	f.t.Helper()
	w := f.loginForm("192.0.2.10:4000", testPassword)
	if w.Code != http.StatusSeeOther {
		f.t.Fatalf("login = %d, want 303; body %s", w.Code, w.Body)
	}
	var sess *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil {
		f.t.Fatal("login set no session cookie")
	}
	r := req("GET", "/", "")
	r.AddCookie(sess)
	page := f.do(r)
	if page.Code != http.StatusOK {
		f.t.Fatalf("GET / after login = %d", page.Code)
	}
	m := csrfMeta.FindStringSubmatch(page.Body.String())
	if m == nil {
		f.t.Fatal("panel has no csrf-token meta")
	}
	return sess, m[1]
}

// solid returns a w×h image of one colour.
func solid(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func httptestForm(target, body string) *http.Request {
	r := httptest.NewRequest("POST", target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
