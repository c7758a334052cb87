package web

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/scene"
)

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

func TestStateJSON(t *testing.T) {
	f := newFixture(t)
	w := f.do(basic(req("GET", "/api/state", "")))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/state = %d", w.Code)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scene", "scenes", "leds", "display", "printer", "camera", "sim"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("state JSON lacks %q: %s", k, w.Body)
		}
	}
	if _, ok := raw["extra"]; ok {
		t.Error("empty extra is not omitted")
	}
	// Pixels are numbers, not base64.
	if !regexp.MustCompile(`"pixels":\[0,0,0,6,`).Match(raw["display"]) {
		t.Errorf("display = %s", raw["display"])
	}
	for _, k := range []string{`"online"`, `"status"`, `"width"`, `"rows"`, `"version"`, `"queue"`} {
		if !bytes.Contains(raw["printer"], []byte(k)) {
			t.Errorf("printer JSON lacks %s: %s", k, raw["printer"])
		}
	}
	for _, k := range []string{`"online"`, `"fps"`, `"width"`, `"height"`, `"frames"`, `"error"`} {
		if !bytes.Contains(raw["camera"], []byte(k)) {
			t.Errorf("camera JSON lacks %s: %s", k, raw["camera"])
		}
	}
	if !bytes.Contains(raw["leds"], []byte(`"busy":{"mode":"blink","lit":false}`)) {
		t.Errorf("leds = %s", raw["leds"])
	}
	got := decode[State](t, w)
	want := f.app.State()
	if got.Scene != want.Scene || !slices.Equal(got.Scenes, want.Scenes) || !bytes.Equal(got.Display.Pixels, want.Display.Pixels) ||
		got.Display.W != 17 || got.Display.H != 7 || got.LEDs["ready"] != want.LEDs["ready"] || got.Printer != want.Printer {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
}

func TestDisplayJSONRejectsBadPixels(t *testing.T) {
	var d DisplayState
	for _, in := range []string{`{"w":1,"h":1,"pixels":[256]}`, `{"w":1,"h":1,"pixels":[-1]}`, `{"pixels":"AAA="}`, `[`} {
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", in)
		}
	}
}

func FuzzDisplayJSON(f *testing.F) {
	f.Add([]byte(`{"w":2,"h":1,"pixels":[0,255]}`))
	f.Add([]byte(`{"w":-3,"h":1e9,"pixels":[]}`))
	f.Add([]byte(`{"pixels":[1.5]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var d DisplayState
		if err := json.Unmarshal(in, &d); err != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var d2 DisplayState
		if err := json.Unmarshal(b, &d2); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if d.W != d2.W || d.H != d2.H || !bytes.Equal(d.Pixels, d2.Pixels) {
			t.Fatalf("round trip %+v != %+v", d, d2)
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "http://x", "/a?b=c", "/\r\nx", ""} {
		f.Add(s)
	}
	for _, s := range []string{"/\t/evil.example", "/ /x", "/\u2028/x", "/a\\b", "/%09/x"} {
		f.Add(s)
	}
	device, _ := url.Parse("http://device/")
	f.Fuzz(func(t *testing.T, in string) {
		got := safeNext(in)
		u, err := device.Parse(got)
		if err != nil || u.Host != "device" || u.Scheme != "http" {
			t.Fatalf("safeNext(%q) = %q resolves to %v (%v), off the site", in, got, u, err)
		}
		// Browsers strip tabs and newlines and read "\\" as "/" before
		// resolving; with none of them left they agree with net/url.
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' || unicode.IsSpace(r) }) {
			t.Fatalf("safeNext(%q) = %q keeps a character browsers rewrite", in, got)
		}
	})
}

func TestAPIScene(t *testing.T) {
	f := newFixture(t)
	w := f.do(basic(req("POST", "/api/scene", `{"name":"spycam"}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("switch = %d %s", w.Code, w.Body)
	}
	if s := decode[State](t, w); s.Scene != "spycam" || f.app.scene() != "spycam" {
		t.Fatalf("after switch: response %q, app %q", s.Scene, f.app.scene())
	}
	for _, body := range []string{`{"name":"disco"}`, `{}`, `{"name":`, `[1]`, ``} {
		w := f.do(basic(req("POST", "/api/scene", body)))
		if w.Code != http.StatusBadRequest {
			t.Errorf("POST /api/scene %q = %d, want 400", body, w.Code)
			continue
		}
		if e := decode[errorBody](t, w); e.Error == "" {
			t.Errorf("POST /api/scene %q: empty error", body)
		}
	}
	if w := f.do(basic(req("POST", "/api/scene", `{"name":"disco"}`))); !strings.Contains(w.Body.String(), `unknown scene \"disco\"`) {
		t.Errorf("unknown scene error = %s", w.Body)
	}
	big := `{"name":"` + strings.Repeat("x", 10<<10) + `"}`
	if w := f.do(basic(req("POST", "/api/scene", big))); w.Code != http.StatusBadRequest {
		t.Errorf("oversized body = %d, want 400", w.Code)
	}
	f.app.failing = context.DeadlineExceeded
	if w := f.do(basic(req("POST", "/api/scene", `{"name":"comic"}`))); w.Code != http.StatusInternalServerError {
		t.Errorf("failing switch = %d, want 500", w.Code)
	}
}

func TestAPIButtons(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path, body string
		code       int
	}{
		{"/api/buttons/A", ``, 200},
		{"/api/buttons/A", `{"press":"long"}`, 200},
		{"/api/buttons/b", `{"press":"double"}`, 200},
		{"/api/buttons/B", `{"press":"short"}`, 200},
		{"/api/buttons/B", `{"press":"hard"}`, 400},
		{"/api/buttons/B", `{"press":1}`, 400},
		{"/api/buttons/C", `{}`, 404},
	} {
		w := f.do(basic(req("POST", tc.path, tc.body)))
		if w.Code != tc.code {
			t.Errorf("POST %s %s = %d, want %d (%s)", tc.path, tc.body, w.Code, tc.code, w.Body)
		}
	}
	want := []string{"A:short", "A:long", "B:double", "B:short"}
	if got := f.app.pressLog(); !slices.Equal(got, want) {
		t.Errorf("presses = %v, want %v", got, want)
	}
	if f.app.scene() != "cardfeed" {
		t.Errorf("B short did not advance the scene: %q", f.app.scene())
	}
}

func TestAPIEvents(t *testing.T) {
	f := newFixture(t)
	if got := decode[[]store.Event](t, f.do(basic(req("GET", "/api/events", "")))); len(got) != 0 || f.events.lastN != 50 {
		t.Fatalf("empty log: %v, n = %d", got, f.events.lastN)
	}
	f.events.add(store.Event{At: testStart, Level: "info", Source: "loop", Message: "scene comic started"})
	f.events.add(store.Event{At: testStart, Level: "warn", Source: "printer", Message: "paper low"})
	got := decode[[]store.Event](t, f.do(basic(req("GET", "/api/events?n=1", ""))))
	if len(got) != 1 || got[0].Message != "paper low" || f.events.lastN != 1 {
		t.Fatalf("n=1: %+v (asked %d)", got, f.events.lastN)
	}
	for _, q := range []string{"abc", "0", "-1", "100000"} {
		if w := f.do(basic(req("GET", "/api/events?n="+q, ""))); w.Code != http.StatusBadRequest {
			t.Errorf("n=%s = %d, want 400", q, w.Code)
		}
	}
	// No event log: an empty list, not null.
	g := newFixture(t, func(o *Options) { o.Events = nil })
	if w := g.do(basic(req("GET", "/api/events", ""))); strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("no event log: %s", w.Body)
	}
}

func TestRoll(t *testing.T) {
	f := newFixture(t)
	if w := f.do(basic(req("GET", "/api/printer/roll.png", ""))); w.Code != http.StatusNotFound {
		t.Errorf("roll without sim printer = %d, want 404", w.Code)
	}
	g := newFixture(t, func(o *Options) { o.Roll = fakeRoll{solid(384, 40, color.White)} })
	w := g.do(basic(req("GET", "/api/printer/roll.png?v=3", "")))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("roll = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	img, err := png.Decode(w.Body)
	if err != nil || img.Bounds().Dx() != 384 {
		t.Fatalf("roll PNG: %v %v", err, img)
	}
}

func TestSnapshot(t *testing.T) {
	f := newFixture(t)
	if w := f.do(basic(req("GET", "/snapshot.jpg", ""))); w.Code != http.StatusServiceUnavailable {
		t.Errorf("no camera = %d, want 503", w.Code)
	}

	cam := &fakeCamera{}
	g := newFixture(t, func(o *Options) { o.Camera = cam })
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- g.do(basic(req("GET", "/snapshot.jpg", ""))) }()
	g.clock.BlockUntil(1) // the handler waits for a frame ...
	g.clock.Advance(snapshotWait)
	if w := <-done; w.Code != http.StatusServiceUnavailable { // ... for two seconds
		t.Errorf("no frame = %d, want 503", w.Code)
	}

	cam.frame = scene.Frame{Seq: 7, At: testStart, JPEG: []byte("\xff\xd8fake\xff\xd9")}
	w := g.do(basic(req("GET", "/snapshot.jpg", "")))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/jpeg" || w.Body.String() != "\xff\xd8fake\xff\xd9" {
		t.Errorf("snapshot = %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

func TestPanelPage(t *testing.T) {
	f := newFixture(t)
	sess, token := f.login()
	r := req("GET", "/", "")
	r.AddCookie(sess)
	w := f.do(r)
	body := w.Body.String()
	for _, want := range []string{
		`id="scene-name"`, `>comic</div>`, `id="scene-select"`, `<option value="barometer">`,
		`id="btn-a"`, `id="btn-b"`, `id="matrix"`, `data-led="ready"`, `mode-on`, `mode-blink`,
		`id="events"`, `id="roll"`, `Simulator`, `<meta name="csrf-token" content="` + token + `">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("panel lacks %q", want)
		}
	}
	// The CSP forbids inline code: every script must be a file, no inline
	// handlers or style attributes.
	if m := regexp.MustCompile(`<script(?:\s[^>]*)?>`).FindAllString(body, -1); len(m) == 0 {
		t.Error("panel loads no script")
	} else {
		for _, tag := range m {
			if !strings.Contains(tag, ` src="/static/`) {
				t.Errorf("inline script %s", tag)
			}
		}
	}
	if m := regexp.MustCompile(`\s(on[a-z]+|style)=`).FindString(body); m != "" {
		t.Errorf("panel has an inline %q attribute", m)
	}
	// The assets it links exist (and are cacheable by version).
	for _, m := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1) {
		r := req("GET", m[1], "")
		r.AddCookie(sess)
		w := f.do(r)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s = %d", m[1], w.Code)
		}
		if !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: Cache-Control %q", m[1], w.Header().Get("Cache-Control"))
		}
	}
	r = req("GET", "/static/", "")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusNotFound {
		t.Errorf("directory listing = %d, want 404", w.Code)
	}
}

func TestUnknownAPIIsJSON404(t *testing.T) {
	f := newFixture(t)
	w := f.do(basic(req("GET", "/api/nope", "")))
	if w.Code != http.StatusNotFound || decode[errorBody](t, w).Error == "" {
		t.Fatalf("GET /api/nope = %d %s", w.Code, w.Body)
	}
}

func TestPanelWithEmptyState(t *testing.T) {
	f := newFixture(t)
	f.app.set(func(s *State) { *s = State{} })
	w := f.do(basic(req("GET", "/", "")))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `class="led led-warn mode-off"`) {
		t.Fatalf("empty state panel = %d:\n%s", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), `id="paper-wrap" hidden`) {
		t.Error("paper roll shown on hardware")
	}
}
