package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fakeSheet struct {
	shown   []image.Point
	cleared int
}

func (f *fakeSheet) ShowSheet(img image.Image) error {
	f.shown = append(f.shown, img.Bounds().Size())
	return nil
}
func (f *fakeSheet) ClearSheet() { f.cleared++ }

func TestSimSheetUpload(t *testing.T) {
	f := newFixture(t)
	sim := &fakeSheet{}
	f.srv.MountSheetSim(sim)
	sess, token := f.login()
	var pngFile bytes.Buffer
	if err := png.Encode(&pngFile, solid(120, 90, color.White)); err != nil {
		t.Fatal(err)
	}
	post := func(ct, tok string, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/sim/camera/sheet", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		r.AddCookie(sess)
		if tok != "" {
			r.Header.Set("X-CSRF-Token", tok)
		}
		return f.do(r)
	}
	for name, c := range map[string]struct {
		w      *httptest.ResponseRecorder
		status int
		msg    string
	}{
		"no credentials": {f.do(httptest.NewRequest("POST", "/api/sim/camera/sheet", bytes.NewReader(pngFile.Bytes()))), http.StatusUnauthorized, ""},
		"no csrf token":  {post("image/png", "", pngFile.Bytes()), http.StatusForbidden, "CSRF"},
		"text/plain":     {post("text/plain", token, pngFile.Bytes()), http.StatusUnsupportedMediaType, "image/png or image/jpeg"},
		"not a picture":  {post("image/jpeg", token, []byte("hello")), http.StatusUnprocessableEntity, "picture"},
		"cut PNG":        {post("image/png", token, pngFile.Bytes()[:60]), http.StatusUnprocessableEntity, ""},
	} {
		if c.w.Code != c.status || !strings.Contains(c.w.Body.String(), c.msg) {
			t.Errorf("%s: %d %s, want %d with %q", name, c.w.Code, c.w.Body, c.status, c.msg)
		}
	}
	if len(sim.shown) != 0 {
		t.Fatalf("refused uploads reached the camera: %v", sim.shown)
	}
	if w := post("image/png", token, pngFile.Bytes()); w.Code != http.StatusOK || len(sim.shown) != 1 || sim.shown[0] != image.Pt(120, 90) {
		t.Fatalf("upload = %d %s; shown %v", w.Code, w.Body, sim.shown)
	}
	r := httptest.NewRequest("DELETE", "/api/sim/camera/sheet", nil)
	r.AddCookie(sess)
	r.Header.Set("X-CSRF-Token", token)
	if w := f.do(r); w.Code != http.StatusOK || sim.cleared != 1 {
		t.Fatalf("delete = %d %s, cleared %d", w.Code, w.Body, sim.cleared)
	}

	// The front panel offers it.
	r = req("GET", "/", "")
	r.AddCookie(sess)
	if page := f.do(r).Body.String(); !strings.Contains(page, `id="sheet-file"`) {
		t.Fatal("the front panel has no sheet chooser")
	}
}

func TestSimSheetAbsentOnHardware(t *testing.T) {
	f := newFixture(t)
	f.srv.MountSheetSim(nil)
	sess, token := f.login()
	r := httptest.NewRequest("POST", "/api/sim/camera/sheet", strings.NewReader("x"))
	r.Header.Set("Content-Type", "image/png")
	r.Header.Set("X-CSRF-Token", token)
	r.AddCookie(sess)
	if w := f.do(r); w.Code == http.StatusOK {
		t.Fatalf("no simulator, yet the upload = %d", w.Code)
	}
	r = req("GET", "/", "")
	r.AddCookie(sess)
	if strings.Contains(f.do(r).Body.String(), `id="sheet-file"`) {
		t.Fatal("the front panel offers a sheet without a simulated camera")
	}
}
