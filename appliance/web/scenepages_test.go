package web

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/barometer"
	"tinkerbox/scenes/cardfeed"
	"tinkerbox/scenes/spycam"
)

// fakeGallery is an archive of strips 1..3 with a queue of max 3.
type fakeGallery struct {
	mu      sync.Mutex
	jobs    []PrintJob
	printed int // PrintNew calls
	max     int
	dir     string // the archive PNGs, <n>.png
}

func (g *fakeGallery) Comics(ctx context.Context) ([]store.Comic, error) {
	return []store.Comic{{N: 3}, {N: 2}, {N: 1}}, nil
}
func (g *fakeGallery) ComicFile(n int64) string {
	return filepath.Join(g.dir, fmt.Sprintf("%d.png", n))
}
func (g *fakeGallery) Reprint(ctx context.Context, n int64) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n > 3 {
		return 0, store.ErrNoComic
	}
	if len(g.jobs) >= g.max {
		return 0, ErrComicQueueFull
	}
	id := int64(100 + len(g.jobs))
	g.jobs = append(g.jobs, PrintJob{ID: id, Strip: n})
	return id, nil
}
func (g *fakeGallery) DeleteComic(ctx context.Context, n int64) error { return nil }
func (g *fakeGallery) PrintNew(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.jobs) >= g.max {
		return ErrComicQueueFull
	}
	g.printed++
	return nil
}
func (g *fakeGallery) PrintQueue(ctx context.Context) ([]PrintJob, int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]PrintJob(nil), g.jobs...), g.max, nil
}

// session returns a request maker with a cookie session and its CSRF token.
func (f *fixture) session() func(method, target, body string) *http.Request {
	sess, csrf := f.login()
	return func(method, target, body string) *http.Request {
		r := req(method, target, body)
		r.AddCookie(sess)
		r.Header.Set("X-CSRF-Token", csrf)
		return r
	}
}

func errorOf(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not a JSON error: %s", body)
	}
	return e.Error
}

// checkGuards: no credentials is 401, a cookie without the CSRF token 403,
// a form body 415. Nothing may have happened after any of them.
func checkGuards(t *testing.T, f *fixture, method, target string) {
	t.Helper()
	if w := f.do(req(method, target, "{}")); w.Code != http.StatusUnauthorized {
		t.Errorf("%s %s without credentials = %d, want 401", method, target, w.Code)
	}
	sess, _ := f.login()
	r := req(method, target, "{}")
	r.AddCookie(sess)
	if w := f.do(r); w.Code != http.StatusForbidden {
		t.Errorf("%s %s without CSRF = %d, want 403", method, target, w.Code)
	}
	r = basic(httptestForm(target, "a=1"))
	r.Method = method
	if w := f.do(r); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("%s %s with a form body = %d, want 415", method, target, w.Code)
	}
}

func TestComicQueueAndPrintNew(t *testing.T) {
	f := newFixture(t)
	g := &fakeGallery{max: 3}
	f.srv.MountComic(g)
	as := f.session()
	checkGuards(t, f, "POST", "/api/comics/print")
	if w := f.do(req("GET", "/api/comics/queue", "")); w.Code != http.StatusUnauthorized {
		t.Errorf("queue without credentials = %d", w.Code)
	}

	// The comic scene runs (the fake's default): a reprint says where it is.
	w := f.do(as("POST", "/api/comics/2/reprint", "{}"))
	if w.Code != http.StatusAccepted {
		t.Fatalf("reprint = %d %s", w.Code, w.Body)
	}
	var rp struct {
		Queued, Position, Queue int
		Running                 bool
	}
	json.Unmarshal(w.Body.Bytes(), &rp)
	if rp.Queued != 2 || rp.Position != 1 || rp.Queue != 1 || !rp.Running {
		t.Errorf("reprint answer = %s", w.Body)
	}
	if w := f.do(as("POST", "/api/comics/print", "{}")); w.Code != http.StatusAccepted || g.printed != 1 {
		t.Errorf("print new while comic runs = %d %s; printed %d", w.Code, w.Body, g.printed)
	}

	// Another scene runs: a new strip is refused, nothing composed; a
	// reprint is queued and says it waits for the comic scene.
	f.app.SwitchScene("cardfeed")
	w = f.do(as("POST", "/api/comics/print", "{}"))
	if w.Code != http.StatusConflict || !strings.Contains(errorOf(t, w.Body.Bytes()), "switch to comic first") || g.printed != 1 {
		t.Errorf("print new under cardfeed = %d %s; printed %d", w.Code, w.Body, g.printed)
	}
	w = f.do(as("POST", "/api/comics/1/reprint", "{}"))
	json.Unmarshal(w.Body.Bytes(), &rp)
	if w.Code != http.StatusAccepted || rp.Position != 2 || rp.Running {
		t.Errorf("reprint under cardfeed = %d %s", w.Code, w.Body)
	}
	var q printQueueJSON
	w = f.do(basic(req("GET", "/api/comics/queue", "")))
	if err := json.Unmarshal(w.Body.Bytes(), &q); err != nil || q.Count != 2 || q.Max != 3 || q.Running || q.Scene != "cardfeed" ||
		q.Jobs[0].Strip != 2 || q.Jobs[0].Position != 1 || q.Jobs[1].Strip != 1 || q.Jobs[1].Position != 2 {
		t.Errorf("queue = %s", w.Body)
	}
	page := f.do(as("GET", "/comics", "")).Body.String()
	for _, want := range []string{"The comic scene is not running (cardfeed is).", `id="scene-switch"`, "Queued strips print when the comic scene runs.", "Print a new strip"} {
		if !strings.Contains(page, want) {
			t.Errorf("comics page lacks %q", want)
		}
	}

	// A full queue is refused with a clear message, for both.
	f.app.SwitchScene("comic")
	f.do(as("POST", "/api/comics/3/reprint", "{}"))
	for _, target := range []string{"/api/comics/print", "/api/comics/1/reprint"} {
		w := f.do(as("POST", target, "{}"))
		if w.Code != http.StatusConflict || !strings.Contains(errorOf(t, w.Body.Bytes()), "queue is full") {
			t.Errorf("%s on a full queue = %d %s", target, w.Code, w.Body)
		}
	}
	for _, bad := range []string{"/api/comics/0/reprint", "/api/comics/x/reprint", "/api/comics/01/delete"} {
		if w := f.do(as("POST", bad, "{}")); w.Code != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, w.Code)
		}
	}
	if w := f.do(as("POST", "/api/comics/9/reprint", "{}")); w.Code != http.StatusNotFound {
		t.Errorf("reprint of a missing strip = %d", w.Code)
	}
	if w := f.do(as("POST", "/api/comics/2/delete", "{}")); w.Code != http.StatusOK {
		t.Errorf("POST delete = %d %s", w.Code, w.Body)
	}
}

type badFeed struct{ fakeFeed }

func (badFeed) Command(string) error { return errors.New("loop: busy") }

func TestCardsFeedActionNeedsItsScene(t *testing.T) {
	f, _, feed := cardsFixture(t, nil)
	as := f.session()
	checkGuards(t, f, "POST", "/api/cards/feed")
	for _, bad := range []string{`{}`, `{"action":"jump"}`, `{"action":1}`, `null`} {
		if w := f.do(as("POST", "/api/cards/feed", bad)); w.Code != http.StatusBadRequest {
			t.Errorf("feed %s = %d, want 400", bad, w.Code)
		}
	}
	// The comic scene runs: refused, and nothing reaches the loop (A would
	// have printed a comic).
	w := f.do(as("POST", "/api/cards/feed", `{"action":"start"}`))
	if msg := errorOf(t, w.Body.Bytes()); w.Code != http.StatusConflict || msg != "the card feeder is not running (comic is): switch to cardfeed first" {
		t.Errorf("start under comic = %d %q", w.Code, msg)
	}
	if len(feed.commands) != 0 || len(f.app.pressLog()) != 0 {
		t.Errorf("commands %v, presses %v: want none", feed.commands, f.app.pressLog())
	}
	f.app.SwitchScene("cardfeed")
	for _, a := range []string{"start", "stop"} {
		if w := f.do(as("POST", "/api/cards/feed", `{"action":"`+a+`"}`)); w.Code != http.StatusAccepted {
			t.Errorf("%s under cardfeed = %d %s", a, w.Code, w.Body)
		}
	}
	if strings.Join(feed.commands, ",") != "start,stop" || len(f.app.pressLog()) != 0 {
		t.Errorf("commands %v, presses %v", feed.commands, f.app.pressLog())
	}
	page := f.do(as("GET", "/cards", "")).Body.String()
	if !strings.Contains(page, `data-running="true"`) || !strings.Contains(page, "The card feeder scene is running.") {
		t.Error("cards page does not say the feeder scene runs")
	}

	g := newFixture(t)
	g.app.SwitchScene("cardfeed")
	g.srv.MountCards(&badFeed{}, &fakeCardStore{}, nil, nil, "")
	if w := g.do(basic(req("POST", "/api/cards/feed", `{"action":"start"}`))); w.Code != http.StatusServiceUnavailable {
		t.Errorf("busy loop = %d", w.Code)
	}
	h := newFixture(t)
	h.srv.MountCards(nil, &fakeCardStore{}, nil, nil, "")
	if w := h.do(basic(req("POST", "/api/cards/feed", `{"action":"start"}`))); w.Code != http.StatusConflict {
		t.Errorf("no feeder configured = %d", w.Code)
	}
}

type rejectStore struct {
	fakeCardStore
	dir  string
	more atomic.Bool // a newer scan, 10, arrived
}

func (s *rejectStore) RecentScans(ctx context.Context, n int) ([]cardfeed.Scan, error) {
	var newer []cardfeed.Scan
	if s.more.Load() {
		newer = append(newer, cardfeed.Scan{ID: 10, Name: "Lightning Bolt", CardID: "a", Price: 2.5, Accepted: true, Bin: 3, NameConfidence: 1, PrintingConfidence: 1})
	}
	return append(newer, []cardfeed.Scan{
		{ID: 9, Name: "Iron Cog", CardID: "demo-tbx-1", Price: 1.5, NameConfidence: 0, Accepted: false, Bin: 4,
			Reason: "not in the catalog: the nearest card, Iron Cog, differs in 78 of 512 bits (at most 48 for a match)",
			Image:  filepath.Join(s.dir, "20260314-150926.123.jpg")},
		{ID: 8, Name: "Odd", Accepted: false, Bin: 4, Image: "/etc/passwd"},
		{ID: 7, Name: "Iron Cog", CardID: "demo-tbx-1", Price: 1.5, Accepted: true, Bin: 3, NameConfidence: .9, PrintingConfidence: 1},
	}...), nil
}

func TestCardsRejectPhotosAndPlainWords(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	jpg := spyJPEG(t, 32, 24, 90)
	if err := os.WriteFile(filepath.Join(dir, "20260314-150926.123.jpg"), jpg, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.jpg"), []byte("secret"), 0o644)
	f.srv.MountCards(&fakeFeed{}, &rejectStore{dir: dir}, nil, nil, dir)

	w := f.do(basic(req("GET", "/api/cards", "")))
	body := w.Body.String()
	if strings.Contains(body, dir) || strings.Contains(body, "/etc/passwd") {
		t.Errorf("the JSON gives away a path on the device: %s", body)
	}
	var got struct {
		Recent []struct {
			ID      int64
			Photo   string
			Verdict string
		}
	}
	json.Unmarshal(w.Body.Bytes(), &got)
	if len(got.Recent) != 3 || got.Recent[0].Photo != "/api/cards/rejects/20260314-150926.123.jpg" || got.Recent[1].Photo != "" {
		t.Fatalf("recent = %+v", got.Recent)
	}
	if v := got.Recent[0].Verdict; v != "Not recognised — no catalog card looks close enough" {
		t.Errorf("verdict %q", v)
	}
	if v := got.Recent[2].Verdict; v != "Recognised" {
		t.Errorf("accepted verdict %q", v)
	}

	if w := f.do(req("GET", "/api/cards/rejects/20260314-150926.123.jpg", "")); w.Code != http.StatusUnauthorized {
		t.Errorf("photo without credentials = %d", w.Code)
	}
	w = f.do(basic(req("GET", "/api/cards/rejects/20260314-150926.123.jpg", "")))
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" || !bytes.Equal(w.Body.Bytes(), jpg) {
		t.Errorf("photo = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"..%2fsecret.jpg", "secret.jpg", "20260314-150926.124.jpg", "20260314-150926.123.jpg%00", ".tmp-1", "..%2F..%2Fetc%2Fpasswd"} {
		if w := f.do(basic(req("GET", "/api/cards/rejects/"+bad, ""))); w.Code != http.StatusNotFound {
			t.Errorf("photo %q = %d, want 404", bad, w.Code)
		}
	}
}

type snapCaptures struct {
	*store.Captures
	snaps int
}

func (s *snapCaptures) Snapshot() error { s.snaps++; return nil }

func TestSpycamSnapshotDeleteZip(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	caps, err := st.SpycamCaptures(filepath.Join(dir, "captures"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	jpg := spyJPEG(t, 64, 48, 50)
	ev := time.Date(2026, 3, 14, 15, 9, 26, 200e6, time.UTC)
	for i := range 3 {
		if err := caps.SaveCapture(context.Background(), spycam.CaptureFrame{Event: ev, Kind: spycam.KindMotion, Index: i, At: ev, JPEG: jpg}); err != nil {
			t.Fatal(err)
		}
	}
	sc := &snapCaptures{Captures: caps}
	f := newSpyFixture(t, nil, sc, time.Second)
	as := f.session()
	checkGuards(t, f.fixture, "POST", "/api/spycam/snapshot")
	checkGuards(t, f.fixture, "POST", "/api/spycam/captures/20260314T150926.200Z-motion/delete")

	// Snapshots need the spy-cam scene.
	w := f.do(as("POST", "/api/spycam/snapshot", "{}"))
	if w.Code != http.StatusConflict || !strings.Contains(errorOf(t, w.Body.Bytes()), "switch to spycam first") || sc.snaps != 0 {
		t.Errorf("snapshot under comic = %d %s, %d snaps", w.Code, w.Body, sc.snaps)
	}
	page := f.do(as("GET", "/spycam", "")).Body.String()
	if !strings.Contains(page, "Motion detection is off") {
		t.Error("the page does not say motion detection is off")
	}
	f.app.SwitchScene("spycam")
	if w := f.do(as("POST", "/api/spycam/snapshot", "{}")); w.Code != http.StatusAccepted || sc.snaps != 1 {
		t.Errorf("snapshot under spycam = %d %s, %d snaps", w.Code, w.Body, sc.snaps)
	}

	// The list carries the ID; the zip has the frames, in order.
	var groups []captureJSON
	json.Unmarshal(f.do(basic(req("GET", "/api/spycam/captures", ""))).Body.Bytes(), &groups)
	id := "20260314T150926.200Z-motion"
	if len(groups) != 1 || groups[0].ID != id {
		t.Fatalf("captures = %+v", groups)
	}
	if w := f.do(req("GET", "/spycam/captures/"+id+".zip", "")); w.Code != http.StatusUnauthorized {
		t.Errorf("zip without credentials = %d", w.Code)
	}
	w = f.do(basic(req("GET", "/spycam/captures/"+id+".zip", "")))
	zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if w.Code != 200 || err != nil || len(zr.File) != 3 || zr.File[0].Name != id+"-0000.jpg" || zr.File[2].Name != id+"-0002.jpg" {
		t.Fatalf("zip = %d %v", w.Code, err)
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("zip disposition %q", cd)
	}
	for _, bad := range []string{"..%2fcaptures", "20260314T150926.200Z-motion-0000", "20260314T150926.200Z-other", "20260314T150926.201Z-motion", "..%2F..%2Ftinkerbox.db"} {
		if w := f.do(basic(req("GET", "/spycam/captures/"+bad+".zip", ""))); w.Code != http.StatusNotFound {
			t.Errorf("zip %q = %d, want 404", bad, w.Code)
		}
		if w := f.do(as("POST", "/api/spycam/captures/"+bad+"/delete", "{}")); w.Code != http.StatusNotFound {
			t.Errorf("delete %q = %d, want 404", bad, w.Code)
		}
	}
	// Delete, by POST (pages) or DELETE (scripts).
	w = f.do(as("POST", "/api/spycam/captures/"+id+"/delete", "{}"))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"frames":3`) {
		t.Fatalf("delete = %d %s", w.Code, w.Body)
	}
	if g, _ := caps.CaptureGroups(context.Background(), 10); len(g) != 0 || caps.Used() != 0 {
		t.Errorf("after delete: %d groups, %d bytes", len(g), caps.Used())
	}
	if w := f.do(basic(req("DELETE", "/api/spycam/captures/"+id, ""))); w.Code != http.StatusNotFound {
		t.Errorf("second delete = %d, want 404", w.Code)
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err != nil {
		t.Errorf("the database went too: %v", err)
	}
}

// baroClock is a BarometerSource that tells its time and sample interval.
type baroClock struct {
	*fakeBaro
	now time.Time
}

func (b baroClock) Now() time.Time             { return b.now }
func (b baroClock) SampleEvery() time.Duration { return time.Minute }

func TestBarometerPausedAndThresholds(t *testing.T) {
	f := newFixture(t)
	b := baroClock{fakeBaro: &fakeBaro{report: stormReport()}, now: testStart.Add(2 * time.Minute)}
	f.srv.MountBarometer(b, 0, nil)
	var got baroJSON
	json.Unmarshal(f.do(basic(req("GET", "/api/barometer", ""))).Body.Bytes(), &got)
	// 1005.2 now after −7.8 in 3 h: 1013.0 then; watch, warning and gale
	// 1.6, 3.6 and 6 hPa below it.
	if got.Stale || got.Thresholds == nil || *got.Thresholds != (baroThresholds{From: 1013, Watch: 1011.4, Warning: 1009.4, Gale: 1007}) {
		t.Errorf("fresh: stale %v, thresholds %+v", got.Stale, got.Thresholds)
	}
	page := f.do(basic(req("GET", "/barometer", ""))).Body.String()
	if !strings.Contains(page, `id="baro-stale" class="banner banner-warn" role="status" hidden`) {
		t.Error("a fresh reading is marked paused")
	}
	if !strings.Contains(page, "The barometer scene is not running (comic is).") {
		t.Error("the page does not say the barometer scene is not running")
	}

	b.now = testStart.Add(10 * time.Minute)
	f = newFixture(t)
	f.srv.MountBarometer(b, 0, nil)
	json.Unmarshal(f.do(basic(req("GET", "/api/barometer", ""))).Body.Bytes(), &got)
	if !got.Stale {
		t.Error("a reading ten intervals old is not stale")
	}
	if page := f.do(basic(req("GET", "/barometer", ""))).Body.String(); !strings.Contains(page, "Paused: no new reading for a while (the last is from 2026-03-14 15:09 UTC)") {
		t.Error("a stale reading is not marked paused")
	}
	b.report.TendencyKnown = false
	b.report.Valid = true
	json.Unmarshal(f.do(basic(req("GET", "/api/barometer", ""))).Body.Bytes(), &got)
	if got.Thresholds != nil {
		t.Errorf("thresholds without a tendency: %+v", got.Thresholds)
	}
	_ = barometer.LevelNone
}
