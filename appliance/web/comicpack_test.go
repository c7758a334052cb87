package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	art "tinkerbox/images/comic"
	"tinkerbox/scenes/comic"
)

// fakeComicPack is the appliance's ComicPack around a real MakerPack: a
// photo is taken as one drawing as it is (the sheet clean-up is the
// appliance's).
type fakeComicPack struct {
	mp *comic.MakerPack

	mu       sync.Mutex
	changed  int
	camera   bool
	progress [][2]int
}

func (f *fakeComicPack) Pack() *comic.MakerPack { return f.mp }

func (f *fakeComicPack) AddPhotos(ctx context.Context, photos []NamedPhoto, progress func(done, total int)) ([]comic.ImageSpec, error) {
	var ims []image.Image
	for i, p := range photos {
		img, _, err := image.Decode(bytes.NewReader(p.Data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		ims = append(ims, img)
		progress(i+1, len(photos))
		f.mu.Lock()
		f.progress = append(f.progress, [2]int{i + 1, len(photos)})
		f.mu.Unlock()
	}
	return f.mp.Add(ims)
}

func (f *fakeComicPack) Capture(ctx context.Context) ([]comic.ImageSpec, error) {
	f.mu.Lock()
	cam := f.camera
	f.mu.Unlock()
	if !cam {
		return nil, ErrNoCamera
	}
	return f.mp.Add([]image.Image{sketch(400, 300, 2)})
}

func (f *fakeComicPack) Changed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changed++
}

func (f *fakeComicPack) changes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// sketch is a drawing on a white page: a ring and a stroke (varied by n).
func sketch(w, h, n int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	cx, cy, r := w/2, h/2, min(w, h)/3
	t := max(3, min(w, h)/40)
	for y := range h {
		for x := range w {
			dx, dy := x-cx, y-cy
			if d := dx*dx + dy*dy; d <= r*r && d >= (r-t)*(r-t) || x > cx && y > cy && max(dy*(n+1)-dx, dx-dy*(n+1)) < t {
				m.Pix[y*m.Stride+x] = 0
			}
		}
	}
	return m
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartBody is a form with one "photo" field per file.
func multipartBody(t testing.TB, files map[string][]byte, order ...string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, name := range order {
		fw, err := mw.CreateFormFile("photo", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(files[name])
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

type packFixture struct {
	*fixture
	pack  *fakeComicPack
	sess  *http.Cookie
	token string
}

func newPackFixture(t *testing.T) *packFixture {
	t.Helper()
	f := newFixture(t)
	mp := comic.OpenMakerPack(filepath.Join(t.TempDir(), "comic-pack"), art.Pack(), func() time.Time { return testStart })
	p := &fakeComicPack{mp: mp}
	f.srv.MountComicPack(p)
	sess, token := f.login()
	return &packFixture{fixture: f, pack: p, sess: sess, token: token}
}

// call sends a request with the session and its CSRF token.
func (f *packFixture) call(method, target, ct string, body []byte) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	r.AddCookie(f.sess)
	r.Header.Set("X-CSRF-Token", f.token)
	return f.do(r)
}

func (f *packFixture) jsonCall(method, target string, v any) *httptest.ResponseRecorder {
	f.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.call(method, target, "application/json", b)
}

func (f *packFixture) list() packJSON {
	f.t.Helper()
	w := f.call("GET", "/api/comics/pack", "", nil)
	if w.Code != http.StatusOK {
		f.t.Fatalf("GET /api/comics/pack = %d %s", w.Code, w.Body)
	}
	var out packJSON
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *packFixture) upload(files map[string][]byte, order ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	ct, body := multipartBody(f.t, files, order...)
	return f.call("POST", "/api/comics/pack/photos", ct, body)
}

// TestComicPackAPI: the editor's round trip on a real maker's pack on the
// built-in one: upload, list, serve, edit every field (as GET and LoadPack
// then see it), a refused focal area, a preview, delete.
func TestComicPackAPI(t *testing.T) {
	f := newPackFixture(t)
	dir := f.pack.mp.Dir()
	if got := f.list(); !got.Available || got.Name != "my drawings" || got.Base != comic.BaseBuiltin || got.Cell != 480 || len(got.Drawings) != 0 || got.Error != "" {
		t.Errorf("the new pack: %+v", got)
	}

	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, sketch(500, 400, 1), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	w := f.upload(map[string][]byte{"hedgehog.png": encodePNG(t, sketch(300, 300, 0)), "scan.jpg": jpg.Bytes()}, "hedgehog.png", "scan.jpg")
	if w.Code != http.StatusOK {
		t.Fatalf("upload = %d %s", w.Code, w.Body)
	}
	var up struct {
		Added []packDrawing `json:"added"`
	}
	json.Unmarshal(w.Body.Bytes(), &up)
	if len(up.Added) != 2 || up.Added[0].File != "drawings/20260314-150926-1.png" || up.Added[1].URL != "/comics/pack/drawings/20260314-150926-2.png" || up.Added[0].Width == 0 {
		t.Fatalf("added %+v", up.Added)
	}
	if f.pack.changes() != 1 || !reflect.DeepEqual(f.pack.progress, [][2]int{{1, 2}, {2, 2}}) {
		t.Errorf("after the upload: %d changes, progress %v", f.pack.changes(), f.pack.progress)
	}

	got := f.list()
	if len(got.Drawings) != 2 || len(got.Problems) != 0 || got.Error != "" || !strings.Contains(strings.Join(got.Themes, ","), "mine") {
		t.Fatalf("after the upload: %+v", got)
	}
	d := got.Drawings[0]
	if d.Theme != "mine" || d.Role != comic.Action || d.Anchor != comic.EdgeBottom || !d.Flip || d.MinW != 1 || d.Weight != 1 || !d.Removable || d.Width < 100 || d.Height < 100 {
		t.Errorf("default drawing %+v", d)
	}
	// The drawing itself, byte for byte; nothing else of the folder.
	img := f.call("GET", d.URL, "", nil)
	onDisk, _ := os.ReadFile(filepath.Join(dir, d.File))
	if img.Code != http.StatusOK || img.Header().Get("Content-Type") != "image/png" || !bytes.Equal(img.Body.Bytes(), onDisk) {
		t.Errorf("GET %s = %d %s", d.URL, img.Code, img.Header().Get("Content-Type"))
	}
	for _, u := range []string{"/comics/pack/manifest.json", "/comics/pack/drawings/none.png", "/comics/pack/drawings/.20260314-150926-1.png.tmp", "/comics/pack/"} {
		if w := f.call("GET", u, "", nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", u, w.Code)
		}
	}

	// Every field, through the API.
	focal := [4]int{10, 20, 150, 120}
	horizon := [2]float64{0.3, 0.7}
	edit := d.ImageSpec
	edit.Theme, edit.Character, edit.Role = "garden", "hedgehog", comic.Closing
	edit.Focal, edit.MinW, edit.MinH, edit.Anchor = &focal, 2, 2, comic.EdgeTop
	edit.Horizon, edit.Facing, edit.Flip, edit.Weight = &horizon, comic.FacingRight, false, 3
	before := f.pack.changes()
	w = f.jsonCall("PUT", "/api/comics/pack/drawings/"+d.File, edit)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"problems":[]`) {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	if f.pack.changes() != before+1 {
		t.Error("PUT did not tell the scene")
	}
	if got := f.list().Drawings[0].ImageSpec; !reflect.DeepEqual(got, edit) {
		t.Errorf("GET after PUT: %+v, want %+v", got, edit)
	}
	p, probs, err := comic.LoadPackOn(os.DirFS(dir), art.Pack())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	found := false
	for _, im := range p.Images {
		if im.File == d.File {
			found = reflect.DeepEqual(im.ImageSpec, edit)
		}
	}
	if !found {
		t.Error("LoadPackOn does not read the edited settings")
	}

	// A focal area outside the drawing: 422 with comic check's words, and
	// nothing written.
	manBefore, _ := os.ReadFile(filepath.Join(dir, comic.ManifestFile))
	bad := edit
	out := [4]int{10, 10, d.Width, 10}
	bad.Focal = &out
	w = f.jsonCall("PUT", "/api/comics/pack/drawings/"+d.File, bad)
	var refusal struct {
		Error    string        `json:"error"`
		Problems []packProblem `json:"problems"`
	}
	json.Unmarshal(w.Body.Bytes(), &refusal)
	want := fmt.Sprintf("comic: pack: %s: focal: %v is not inside the (%d,%d) image", d.File, out, d.Width, d.Height)
	if w.Code != http.StatusUnprocessableEntity || refusal.Error != want || len(refusal.Problems) != 1 || refusal.Problems[0].Message != want || refusal.Problems[0].Field != "focal" {
		t.Errorf("bad focal = %d %s, want 422 %q", w.Code, w.Body, want)
	}
	if manAfter, _ := os.ReadFile(filepath.Join(dir, comic.ManifestFile)); !bytes.Equal(manBefore, manAfter) {
		t.Error("a refused PUT changed the manifest")
	}
	bad = edit
	bad.Role = "hero"
	if w := f.jsonCall("PUT", "/api/comics/pack/drawings/"+d.File, bad); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `role: \"hero\" is not establishing`) {
		t.Errorf("bad role = %d %s", w.Code, w.Body)
	}
	for name, c := range map[string]struct {
		ct, body string
		status   int
	}{
		"unknown field": {"application/json", `{"theme":"x","role":"action","min_width":2}`, http.StatusBadRequest},
		"other file":    {"application/json", `{"file":"drawings/20260314-150926-2.png","theme":"x","role":"action"}`, http.StatusBadRequest},
		"not JSON":      {"text/plain", `{"theme":"x"}`, http.StatusUnsupportedMediaType},
	} {
		if w := f.call("PUT", "/api/comics/pack/drawings/"+d.File, c.ct, []byte(c.body)); w.Code != c.status {
			t.Errorf("%s: %d %s, want %d", name, w.Code, w.Body, c.status)
		}
	}
	// The file may be left out of the body: the address names it.
	if w := f.call("PUT", "/api/comics/pack/drawings/"+d.File, "application/json", []byte(`{"theme":"garden","role":"closing"}`)); w.Code != http.StatusOK {
		t.Errorf("PUT without file = %d %s", w.Code, w.Body)
	}

	// The preview: a PNG at screen size; unsaved settings that would not
	// load are refused like a save.
	w = f.jsonCall("POST", "/api/comics/pack/preview", map[string]any{"spec": edit, "seed": 7})
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("preview = %d %s", w.Code, w.Body)
	}
	pv, err := png.Decode(w.Body)
	if err != nil || max(pv.Bounds().Dx(), pv.Bounds().Dy()) != previewSide {
		t.Errorf("preview %v %v", pv.Bounds(), err)
	}
	if w := f.jsonCall("POST", "/api/comics/pack/preview", map[string]any{"spec": bad, "seed": 7}); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "role") {
		t.Errorf("bad preview = %d %s", w.Code, w.Body)
	}
	huge := edit
	huge.MinW, huge.MinH = 8, 8
	if w := f.jsonCall("POST", "/api/comics/pack/preview", map[string]any{"spec": huge, "seed": 7}); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "no panel") {
		t.Errorf("8×8 preview = %d %s", w.Code, w.Body)
	}

	// Delete: the entry and the file go; the scene is told.
	second := got.Drawings[1]
	before = f.pack.changes()
	if w := f.call("DELETE", "/api/comics/pack/drawings/"+second.File, "", nil); w.Code != http.StatusOK {
		t.Fatalf("DELETE = %d %s", w.Code, w.Body)
	}
	if _, err := os.Stat(filepath.Join(dir, second.File)); !os.IsNotExist(err) || f.pack.changes() != before+1 || len(f.list().Drawings) != 1 {
		t.Errorf("after DELETE: %v, %d changes", err, f.pack.changes()-before)
	}
	if w := f.call("DELETE", "/api/comics/pack/drawings/"+second.File, "", nil); w.Code != http.StatusNotFound {
		t.Errorf("second DELETE = %d", w.Code)
	}

	// The camera: none, then one.
	if w := f.jsonCall("POST", "/api/comics/pack/capture", struct{}{}); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "no camera") {
		t.Errorf("capture without a camera = %d %s", w.Code, w.Body)
	}
	f.pack.camera = true
	if w := f.call("POST", "/api/comics/pack/capture", "", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"added":[{"file":"drawings/`) {
		t.Errorf("capture = %d %s", w.Code, w.Body)
	}
}

// TestComicPackPaths: names that leave the pack, or that it does not list,
// are refused, and nothing outside it is touched.
func TestComicPackPaths(t *testing.T) {
	f := newPackFixture(t)
	if w := f.upload(map[string][]byte{"a.png": encodePNG(t, sketch(200, 200, 1))}, "a.png"); w.Code != http.StatusOK {
		t.Fatal(w.Code, w.Body)
	}
	dir := f.pack.mp.Dir()
	secret := filepath.Join(filepath.Dir(dir), "secret.png")
	os.WriteFile(secret, encodePNG(t, sketch(100, 100, 1)), 0o644)
	// A hand-written entry outside drawings/: editable, never deleted here.
	os.MkdirAll(filepath.Join(dir, "art"), 0o755)
	os.WriteFile(filepath.Join(dir, "art", "cat.png"), encodePNG(t, sketch(200, 200, 3)), 0o644)
	man, _ := f.pack.mp.Manifest()
	man.Images = append(man.Images, comic.ImageSpec{File: "art/cat.png", Theme: "cats", Role: comic.Action})
	b, _ := json.MarshalIndent(man, "", "  ")
	os.WriteFile(filepath.Join(dir, comic.ManifestFile), b, 0o644)
	manBefore, _ := os.ReadFile(filepath.Join(dir, comic.ManifestFile))

	spec := `{"theme":"x","role":"action"}`
	for target, status := range map[string]int{
		"/api/comics/pack/drawings/..%2Fsecret.png":                 http.StatusBadRequest,
		"/api/comics/pack/drawings/drawings%2F..%2F..%2Fsecret.png": http.StatusBadRequest,
		"/api/comics/pack/drawings/%2Fetc%2Fpasswd":                 http.StatusBadRequest,
		"/api/comics/pack/drawings/manifest.json":                   http.StatusNotFound,
		"/api/comics/pack/drawings/drawings/none.png":               http.StatusNotFound,
	} {
		for _, m := range []string{"PUT", "DELETE"} {
			if w := f.call(m, target, "application/json", []byte(spec)); w.Code != status {
				t.Errorf("%s %s = %d %s, want %d", m, target, w.Code, w.Body, status)
			}
		}
	}
	for _, target := range []string{"/comics/pack/..%2Fsecret.png", "/comics/pack/%2E%2E/secret.png", "/comics/pack/art/../../secret.png"} {
		if w := f.call("GET", target, "", nil); w.Code == http.StatusOK {
			t.Errorf("GET %s served a file", target)
		}
	}
	if w := f.call("DELETE", "/api/comics/pack/drawings/art/cat.png", "", nil); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "only drawings added here") {
		t.Errorf("DELETE a hand-written entry = %d %s", w.Code, w.Body)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Fatal("the file outside the pack is gone")
	}
	if _, err := os.Stat(filepath.Join(dir, "art", "cat.png")); err != nil {
		t.Fatal("the hand-written drawing is gone")
	}
	if manAfter, _ := os.ReadFile(filepath.Join(dir, comic.ManifestFile)); !bytes.Equal(manBefore, manAfter) {
		t.Error("a refused request changed the manifest")
	}
	if w := f.call("GET", "/comics/pack/art/cat.png", "", nil); w.Code != http.StatusOK {
		t.Errorf("GET a listed hand-written drawing = %d", w.Code)
	}
	if w := f.call("PUT", "/api/comics/pack/drawings/art/cat.png", "application/json", []byte(`{"theme":"cats","role":"closing"}`)); w.Code != http.StatusOK {
		t.Errorf("PUT a hand-written entry = %d %s", w.Code, w.Body)
	}
}

// TestComicPackUploadRules: two files at once work (above); the wrong type,
// too many bytes, too large a picture, a form without a picture and a
// picture that is not one are refused with what to do.
func TestComicPackUploadRules(t *testing.T) {
	f := newPackFixture(t)
	pic := encodePNG(t, sketch(120, 120, 1))
	ct, body := multipartBody(t, map[string][]byte{"a.png": pic}, "a.png")

	if w := f.call("POST", "/api/comics/pack/photos", "image/png", pic); w.Code != http.StatusUnsupportedMediaType || !strings.Contains(w.Body.String(), "multipart/form-data") {
		t.Errorf("a bare PNG = %d %s", w.Code, w.Body)
	}
	if w := f.call("POST", "/api/comics/pack/photos", "application/json", []byte(`{}`)); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("JSON = %d %s", w.Code, w.Body)
	}
	if w := f.upload(map[string][]byte{"notes.txt": []byte("hello, not a picture at all")}, "notes.txt"); w.Code != http.StatusUnsupportedMediaType || !strings.Contains(w.Body.String(), "notes.txt is not a PNG or JPEG picture") {
		t.Errorf("a text file = %d %s", w.Code, w.Body)
	}
	// Announced too large: refused before reading.
	r := httptest.NewRequest("POST", "/api/comics/pack/photos", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	r.ContentLength = maxPhotoUpload + 1
	r.AddCookie(f.sess)
	r.Header.Set("X-CSRF-Token", f.token)
	if w := f.do(r); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("announced 64 MiB + 1 = %d %s", w.Code, w.Body)
	}
	// Too large as it arrives (chunked: no length): the cap holds.
	big := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 30<<20)...)
	ct, body = multipartBody(t, map[string][]byte{"1.png": big, "2.png": big, "3.png": big}, "1.png", "2.png", "3.png")
	r = httptest.NewRequest("POST", "/api/comics/pack/photos", io.MultiReader(bytes.NewReader(body)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", ct)
	r.AddCookie(f.sess)
	r.Header.Set("X-CSRF-Token", f.token)
	if w := f.do(r); w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "64 MiB") {
		t.Errorf("90 MiB chunked = %d %s", w.Code, w.Body)
	}
	one := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, maxPhoto)...)
	if w := f.upload(map[string][]byte{"huge.png": one}, "huge.png"); w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "huge.png is larger than 32 MiB") {
		t.Errorf("one 32 MiB picture = %d %s", w.Code, w.Body)
	}
	files, order := map[string][]byte{}, []string{}
	for i := range maxPhotos + 1 {
		n := fmt.Sprintf("%d.png", i)
		files[n], order = pic, append(order, n)
	}
	if w := f.upload(files, order...); w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "at most 16 pictures") {
		t.Errorf("17 pictures = %d %s", w.Code, w.Body)
	}
	var empty bytes.Buffer
	mw := multipart.NewWriter(&empty)
	mw.WriteField("note", "hi")
	mw.Close()
	if w := f.call("POST", "/api/comics/pack/photos", mw.FormDataContentType(), empty.Bytes()); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "no picture") {
		t.Errorf("no picture = %d %s", w.Code, w.Body)
	}
	// A PNG that does not decode: the pack's ComicPack names it.
	if w := f.upload(map[string][]byte{"cut.png": pic[:40]}, "cut.png"); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "cut.png") {
		t.Errorf("a cut PNG = %d %s", w.Code, w.Body)
	}
	if d := f.list().Drawings; len(d) != 0 || f.pack.changes() != 0 {
		t.Errorf("refused uploads added %d drawings, %d changes", len(d), f.pack.changes())
	}
}

// TestComicPackAuth: every route needs a session or Basic credentials, and
// a session's changes its CSRF token.
func TestComicPackAuth(t *testing.T) {
	f := newPackFixture(t)
	if w := f.upload(map[string][]byte{"a.png": encodePNG(t, sketch(200, 200, 1))}, "a.png"); w.Code != http.StatusOK {
		t.Fatal(w.Code, w.Body)
	}
	file := f.list().Drawings[0].File
	ct, form := multipartBody(t, map[string][]byte{"b.png": encodePNG(t, sketch(200, 200, 2))}, "b.png")
	spec := []byte(`{"theme":"x","role":"action"}`)
	routes := []struct {
		method, target, ct string
		body               []byte
	}{
		{"GET", "/api/comics/pack", "", nil},
		{"GET", "/comics/pack/" + file, "", nil},
		{"PUT", "/api/comics/pack/drawings/" + file, "application/json", spec},
		{"DELETE", "/api/comics/pack/drawings/" + file, "", nil},
		{"POST", "/api/comics/pack/photos", ct, form},
		{"POST", "/api/comics/pack/capture", "application/json", []byte(`{}`)},
		{"POST", "/api/comics/pack/preview", "application/json", []byte(`{"spec":{"file":"` + file + `","theme":"x","role":"action"}}`)},
	}
	for _, c := range routes {
		r := httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		if w := f.do(r); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials = %d", c.method, c.target, w.Code)
		}
		if c.method == "GET" {
			continue
		}
		r = httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		r.AddCookie(f.sess)
		if w := f.do(r); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF") {
			t.Errorf("%s %s without the CSRF token = %d %s", c.method, c.target, w.Code, w.Body)
		}
		r = httptest.NewRequest(c.method, c.target, bytes.NewReader(c.body))
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		r.AddCookie(f.sess)
		r.Header.Set("X-CSRF-Token", "not-the-token")
		if w := f.do(r); w.Code != http.StatusForbidden {
			t.Errorf("%s %s with a wrong CSRF token = %d", c.method, c.target, w.Code)
		}
	}
	if d := f.list().Drawings; len(d) != 1 || d[0].Theme != "mine" || f.pack.changes() != 1 {
		t.Errorf("refused requests changed the pack: %+v, %d changes", d, f.pack.changes())
	}
	// A cross-site post with Basic credentials: refused by the origin check.
	r := basic(httptest.NewRequest("POST", "/api/comics/pack/photos", bytes.NewReader(form)))
	r.Header.Set("Content-Type", ct)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Errorf("cross-site upload = %d", w.Code)
	}
	// Scripts use Basic.
	if w := f.do(basic(req("GET", "/api/comics/pack", ""))); w.Code != http.StatusOK {
		t.Errorf("GET with Basic = %d", w.Code)
	}
	r = basic(httptest.NewRequest("POST", "/api/comics/pack/photos", bytes.NewReader(form)))
	r.Header.Set("Content-Type", ct)
	if w := f.do(r); w.Code != http.StatusOK {
		t.Errorf("upload with Basic = %d %s", w.Code, w.Body)
	}
}

// TestComicPackUnavailable: without a maker's pack the editor says so.
func TestComicPackUnavailable(t *testing.T) {
	f := newFixture(t)
	f.srv.MountComicPack(nil)
	sess, token := f.login()
	r := req("GET", "/api/comics/pack", "")
	r.AddCookie(sess)
	w := f.do(r)
	var out packJSON
	json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code != http.StatusOK || out.Available || out.Reason == "" {
		t.Errorf("GET = %d %s", w.Code, w.Body)
	}
	r = req("PUT", "/api/comics/pack/drawings/drawings/a.png", `{"theme":"x"}`)
	r.AddCookie(sess)
	r.Header.Set("X-CSRF-Token", token)
	if w := f.do(r); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "not available") {
		t.Errorf("PUT = %d %s", w.Code, w.Body)
	}
}
