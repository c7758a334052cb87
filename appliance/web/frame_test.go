package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestNotFoundPage: a mistyped page is an HTML 404 (with the nav once signed
// in); the API's 404 stays JSON.
func TestNotFoundPage(t *testing.T) {
	f := newFixture(t)
	w := f.do(req("GET", "/no/such/page", ""))
	if w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /no/such/page = %d %q, want an HTML 404", w.Code, w.Header().Get("Content-Type"))
	}
	if b := w.Body.String(); !strings.Contains(b, "<title>Not found") || !strings.Contains(b, `href="/login"`) || strings.Contains(b, `class="pages"`) {
		t.Errorf("signed-out 404 page:\n%s", b)
	}
	sess, _ := f.login()
	r := req("GET", "/nope", "")
	r.AddCookie(sess)
	w = f.do(r)
	if b := w.Body.String(); w.Code != http.StatusNotFound || !strings.Contains(b, `class="pages"`) || !strings.Contains(b, "/static/live.js") {
		t.Errorf("signed-in 404 = %d, want the page frame:\n%s", w.Code, b)
	}
	if w := f.do(basic(req("GET", "/api/nope", ""))); w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("GET /api/nope = %d %q, want a JSON 404", w.Code, w.Header().Get("Content-Type"))
	}
	if w := f.do(basic(req("POST", "/nope", `{}`))); w.Code != http.StatusNotFound {
		t.Errorf("POST /nope = %d, want 404", w.Code)
	}
}

// TestPanelFrame: the front panel has the shared nav, marks itself current,
// and loads live.js.
func TestPanelFrame(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.login()
	r := req("GET", "/", "")
	r.AddCookie(sess)
	b := f.do(r).Body.String()
	for _, want := range []string{
		`<a href="/" aria-current="page">Front panel</a>`,
		`<a href="/comics">Comics</a>`, `<a href="/barometer">Barometer</a>`, `<a href="/spycam">Spy-cam</a>`, `<a href="/cards">Cards</a>`,
		`id="conn" class="conn" data-state="connecting"`,
		`<script src="/static/live.js?v=`,
		`action="/logout"`,
		`id="help-a"`, `data-legend="ready"`, `id="queue-note"`, `data-notify`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("front panel lacks %s", want)
		}
	}
	if strings.Count(b, "aria-current") != 1 {
		t.Errorf("%d aria-current marks, want 1", strings.Count(b, "aria-current"))
	}
}

// TestChordButton: POST /api/buttons/A+B is the 5 s hold of both buttons.
func TestChordButton(t *testing.T) {
	f := newFixture(t)
	if w := f.do(basic(req("POST", "/api/buttons/A+B", `{"press":"long"}`))); w.Code != http.StatusOK {
		t.Fatalf("POST /api/buttons/A+B = %d %s", w.Code, w.Body)
	}
	if got := f.app.pressLog(); len(got) != 1 || got[0] != "A+B:long" {
		t.Errorf("presses = %v, want [A+B:long]", got)
	}
}
