package appliance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/images/cards"
	"tinkerbox/scenes/cardfeed/recog"
)

// instantClock never waits: sleeping advances it. Sleeps of concurrent
// callers add up, so it can only make the requests look slower, never
// faster than the limiter allows.
type instantClock struct {
	mu  sync.Mutex
	now time.Time
}

func newInstantClock() *instantClock {
	return &instantClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	c.mu.Unlock()
	return ch
}

// imageServer serves rendered demo cards as JPEGs at /img/<id>.jpg, and
// misbehaves for some ids the way real servers do.
type imageServer struct {
	t     testing.TB
	clk   *instantClock
	jpegs map[string][]byte
	// how: "404", "410", "500once", "503", "429secs", "429date", "hangonce",
	// "html", "truncated"; "" serves the image.
	how map[string]string

	mu      sync.Mutex
	hits    map[string]int
	at      map[string][]time.Time // on the injected clock, as requests arrive
	all     []time.Time
	agents  map[string]bool
	accepts map[string]bool
	// onServe, when set, is called after each image is served.
	onServe func(n int)
	served  int
}

func newImageServer(t testing.TB, clk *instantClock, ids []string, how map[string]string) (*imageServer, *httptest.Server) {
	s := &imageServer{t: t, clk: clk, jpegs: map[string][]byte{}, how: how, hits: map[string]int{}, at: map[string][]time.Time{},
		agents: map[string]bool{}, accepts: map[string]bool{}}
	demo := map[string]cards.Card{}
	for _, c := range cards.Demo() {
		demo[c.ID] = c
	}
	for _, id := range ids {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, cards.Render(demo[id]), &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		s.jpegs[id] = b.Bytes()
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *imageServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/img/"), ".jpg")
	s.mu.Lock()
	s.hits[id]++
	n := s.hits[id]
	now := s.clk.Now()
	s.at[id] = append(s.at[id], now)
	s.all = append(s.all, now)
	s.agents[r.UserAgent()] = true
	s.accepts[r.Header.Get("Accept")] = true
	s.mu.Unlock()
	body, ok := s.jpegs[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch how := s.how[id]; {
	case how == "404":
		http.NotFound(w, r)
		return
	case how == "410":
		http.Error(w, "gone", http.StatusGone)
		return
	case how == "503", how == "500once" && n == 1:
		http.Error(w, "busy", http.StatusInternalServerError+3*btoi(how == "503"))
		return
	case how == "429secs" && n == 1:
		w.Header().Set("Retry-After", "3")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case how == "429date" && n == 1:
		w.Header().Set("Retry-After", now.Add(7*time.Second).Format(http.TimeFormat))
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case how == "hangonce" && n == 1:
		w.Header().Set("Content-Type", "image/jpeg")
		w.WriteHeader(http.StatusOK)
		w.Write(body[:100])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // until the client gives up
		return
	case how == "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html><body>Please enable JavaScript</body></html>"))
		return
	case how == "truncated":
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(body)
	s.mu.Lock()
	s.served++
	n, f := s.served, s.onServe
	s.mu.Unlock()
	if f != nil {
		f(n)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// imageCatalog makes a store whose printings are demo cards with image URLs
// on srv.
func imageCatalog(t testing.TB, srv *httptest.Server, n int) (*store.Store, []string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var cs []store.CatalogCard
	var ids []string
	for _, c := range cards.Demo()[:n] {
		cs = append(cs, store.CatalogCard{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Image: srv.URL + "/img/" + c.ID + ".jpg"})
		ids = append(ids, c.ID)
	}
	seq := func(yield func(store.CatalogCard, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
	if _, err := st.ImportCatalog(ctx, seq, nil); err != nil {
		t.Fatal(err)
	}
	return st, ids
}

func testImagesOpts(clk *instantClock, dir string, stderr *bytes.Buffer) imagesOpts {
	o := defaultImagesOpts("test")
	o.Dir, o.Clock, o.Stderr = dir, clk, stderr
	o.Timeout = 500 * time.Millisecond // real time: only the hanging response waits for it
	return o
}

func demoIDs(n int) []string {
	var ids []string
	for _, c := range cards.Demo()[:n] {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestCatalogImages downloads and hashes a catalog from a server that
// misbehaves in every way the command handles, is interrupted, and
// finishes on the second run.
func TestCatalogImages(t *testing.T) {
	ctx := context.Background()
	clk := newInstantClock()
	ids := demoIDs(24)
	how := map[string]string{
		ids[0]: "404", ids[1]: "410", ids[2]: "500once", ids[3]: "503", ids[4]: "429secs",
		ids[5]: "429date", ids[6]: "hangonce", ids[7]: "html", ids[8]: "truncated",
	}
	failing := map[string]string{ // id → what the failure says
		ids[0]: "HTTP 404", ids[1]: "HTTP 410", ids[3]: "HTTP 503", ids[7]: `content type "text/html`, ids[8]: "not a readable image",
	}
	srvState, srv := newImageServer(t, clk, ids, how)
	st, _ := imageCatalog(t, srv, len(ids))
	dir := filepath.Join(t.TempDir(), "card-images")

	// The first run is interrupted (Ctrl-C) after the fifth image served.
	runCtx, cancel := context.WithCancel(ctx)
	srvState.onServe = func(n int) {
		if n == 5 {
			cancel()
		}
	}
	var stderr bytes.Buffer
	o := testImagesOpts(clk, dir, &stderr)
	sum1, err := catalogImages(runCtx, st, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "run the same command again") {
		t.Errorf("no hint to continue:\n%s", stderr.String())
	}
	if sum1.Downloaded < 3 || sum1.Downloaded > 6 {
		t.Errorf("interrupted run downloaded %d, want about 5", sum1.Downloaded)
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "*"+partSuffix)); len(parts) != 0 {
		t.Errorf("temporary files left by a clean stop: %v", parts)
	}
	// A run killed mid-write leaves a temporary file of a card not yet
	// fetched: it is removed and the card fetched again.
	var pending string
	for _, id := range ids[9:] {
		if _, err := os.Stat(filepath.Join(dir, imageFileName(id))); err != nil {
			pending = id
			break
		}
	}
	if pending == "" {
		t.Fatal("every card fetched before the cancel")
	}
	os.WriteFile(filepath.Join(dir, imageFileName(pending)+partSuffix), []byte("half a jpeg"), 0o644)
	fetched := map[string]bool{} // complete after the first run
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(dir, imageFileName(id))); err == nil {
			fetched[id] = true
		}
	}
	firstHits := map[string]int{}
	srvState.mu.Lock()
	for id, n := range srvState.hits {
		firstHits[id] = n
	}
	srvState.onServe = nil
	srvState.mu.Unlock()

	stderr.Reset()
	start := clk.Now()
	sum, err := catalogImages(ctx, st, o)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	elapsed := clk.Now().Sub(start)
	t.Logf("second run: %+v\n%s", sum, stderr.String())
	if sum.PartialRemoved != 1 {
		t.Errorf("%d partial files removed, want 1", sum.PartialRemoved)
	}
	// Every servable card has features and its local image; the others
	// failed with their reason.
	have := map[string]store.CatalogImage{}
	for c, err := range st.CatalogImages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		have[c.ID] = c
	}
	for _, id := range ids {
		c := have[id]
		if _, bad := failing[id]; bad {
			if c.Features != nil {
				t.Errorf("%s (%s) has features", id, how[id])
			}
			continue
		}
		if _, err := recog.DecodeFeatures(c.Features); err != nil {
			t.Errorf("%s (%s): features %v", id, how[id], err)
		}
		want := filepath.Join(dir, imageFileName(id))
		if c.Image != want {
			t.Errorf("%s: image %q, want %q", id, c.Image, want)
		}
		if b, err := os.ReadFile(want); err != nil || how[id] == "" && !bytes.Equal(b, srvState.jpegs[id]) {
			t.Errorf("%s: file differs from what was served (%v)", id, err)
		}
		if fetched[id] && srvState.hits[id] != firstHits[id] {
			t.Errorf("%s, complete after the first run, fetched again", id)
		}
	}
	servable := len(ids) - len(failing)
	if sum1.Downloaded+sum.Downloaded != servable || sum.AlreadyThere != sum1.Downloaded {
		t.Errorf("downloaded %d+%d, %d already there; want %d in all", sum1.Downloaded, sum.Downloaded, sum.AlreadyThere, servable)
	}
	if sum.Failed != len(failing) {
		t.Errorf("%d failed, want %d: %v", sum.Failed, len(failing), sum.Failures)
	}
	out := stderr.String()
	for id, reason := range failing {
		if !strings.Contains(out, id+": "+reason) {
			t.Errorf("summary does not say %s failed with %q", id, reason)
		}
	}
	if hits := srvState.hits[ids[3]] - firstHits[ids[3]]; hits != 4 {
		t.Errorf("503 asked %d times, want 4", hits)
	}
	if srvState.hits[ids[0]]-firstHits[ids[0]] != 1 {
		t.Errorf("404 asked %d times in one run, want 1", srvState.hits[ids[0]]-firstHits[ids[0]])
	}
	// Retry-After is honoured, in seconds and as a date.
	for id, wait := range map[string]time.Duration{ids[4]: 3 * time.Second, ids[5]: 6 * time.Second} {
		at := srvState.at[id]
		if len(at) < 2 || at[1].Sub(at[0]) < wait {
			t.Errorf("%s (%s): requests at %v, want %s apart", id, how[id], at, wait)
		}
	}
	for _, id := range []string{ids[2], ids[6]} { // retried after a 500, after a timeout
		if srvState.hits[id] != 2 {
			t.Errorf("%s (%s): %d requests, want 2", id, how[id], srvState.hits[id])
		}
	}
	// Never more than 10 requests a second, on the injected clock.
	requests := 0
	for id, n := range srvState.hits {
		requests += n - firstHits[id]
	}
	if min := time.Duration(requests-1) * time.Second / maxImageRate; elapsed < min {
		t.Errorf("%d requests in %s, faster than %d/s", requests, elapsed, maxImageRate)
	}
	ua := regexp.MustCompile(`^tinkerbox/test \(card sorter appliance; catalog reference images\)$`)
	for a := range srvState.agents {
		if !ua.MatchString(a) {
			t.Errorf("User-Agent %q", a)
		}
	}
	for a := range srvState.accepts {
		if a != "image/jpeg,image/*" {
			t.Errorf("Accept %q", a)
		}
	}
	for _, want := range []string{"images", "/s", "ETA", "downloaded", "hashed", "already there"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress/summary lacks %q:\n%s", want, out)
		}
	}

	// A third run has nothing left but the failures.
	stderr.Reset()
	sum3, err := catalogImages(ctx, st, o)
	if err != nil || sum3.Downloaded != 0 || sum3.Hashed != 0 || sum3.Failed != len(failing) {
		t.Errorf("third run: %+v %v", sum3, err)
	}
}

// TestCatalogImagesRate: one connection, --rate 4: no window of a second of
// the clock holds more than 4 requests, and a 429 holds every request back.
func TestCatalogImagesRate(t *testing.T) {
	ctx := context.Background()
	clk := newInstantClock()
	ids := demoIDs(20)
	srvState, srv := newImageServer(t, clk, ids, map[string]string{ids[10]: "429secs"})
	st, _ := imageCatalog(t, srv, len(ids))
	var stderr bytes.Buffer
	o := testImagesOpts(clk, t.TempDir(), &stderr)
	o.Rate, o.Conns, o.NoHash = 4, 1, true
	sum, err := catalogImages(ctx, st, o)
	if err != nil || sum.Downloaded != len(ids) || sum.Hashed != 0 {
		t.Fatalf("%+v %v\n%s", sum, err, stderr.String())
	}
	at := slices.Clone(srvState.all)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	if len(at) != len(ids)+1 {
		t.Fatalf("%d requests", len(at))
	}
	for i := 0; i+4 < len(at); i++ {
		if at[i+4].Sub(at[i]) < time.Second {
			t.Errorf("requests %d..%d within %s: more than 4 a second", i, i+4, at[i+4].Sub(at[i]))
		}
	}
	// The 429 asked for 3 s: the next request (of any card) waits for it.
	i := slices.Index(srvState.all, srvState.at[ids[10]][0])
	if gap := srvState.all[i+1].Sub(srvState.all[i]); gap < 3*time.Second {
		t.Errorf("the request after the 429 came %s later, want ≥ 3s", gap)
	}
	// --no-hash downloaded without hashing; the next run only hashes.
	o.NoHash = false
	sum, err = catalogImages(ctx, st, o)
	if err != nil || sum.Downloaded != 0 || sum.Hashed != len(ids) || sum.AlreadyThere != len(ids) {
		t.Fatalf("hash run: %+v %v", sum, err)
	}
	if _, usable, _, _ := catalogStatus(ctx, st); usable != len(ids) {
		t.Errorf("%d recognisable, want %d", usable, len(ids))
	}
	// A rate above Scryfall's is never used, whatever the caller asks.
	st2, _ := imageCatalog(t, srv, 15)
	before := len(srvState.all)
	o.Rate, o.Dir = 100, t.TempDir()
	if sum, err := catalogImages(ctx, st2, o); err != nil || sum.Downloaded != 15 {
		t.Fatalf("rate 100: %+v %v", sum, err)
	}
	at = srvState.all[before:]
	for i := 0; i+10 < len(at); i++ {
		if at[i+10].Sub(at[i]) < time.Second {
			t.Errorf("requests %d..%d within %s: more than 10 a second", i, i+10, at[i+10].Sub(at[i]))
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Tue, 01 Dec 2026 12:00:30 GMT": 30 * time.Second,
		"Tue, 01 Dec 2026 11:00:00 GMT": 0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", h, got, want)
		}
	}
}

func TestImageFileName(t *testing.T) {
	for id, want := range map[string]string{
		"e3285e6b-3e79-4d7c-bf96-d920f973b80d": "e3285e6b-3e79-4d7c-bf96-d920f973b80d.jpg",
		"../../etc/passwd":                     "_._.._etc_passwd.jpg",
		".hidden":                              "_hidden.jpg",
		"tbx-4":                                "tbx-4.jpg",
	} {
		if got := imageFileName(id); got != want {
			t.Errorf("%q: %q, want %q", id, got, want)
		}
	}
}

// BenchmarkCatalogHash is the hashing rate of `catalog images` on every
// core: decode a Scryfall-sized JPEG (488x680), FromFace, Encode.
func BenchmarkCatalogHash(b *testing.B) {
	var buf bytes.Buffer
	face := cards.Render(cards.Demo()[0])
	if err := jpeg.Encode(&buf, face, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Error(err)
				return
			}
			recog.FromFace(img).Encode()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "images/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCatalogImages is the whole pipeline against a local server on
// the real clock: at Scryfall's 10 requests a second, and unlimited (what
// the code itself can do).
func BenchmarkCatalogImages(b *testing.B) {
	for _, limited := range []bool{true, false} {
		name := "unlimited"
		n := 200
		if limited {
			name, n = "10rps", 20
		}
		b.Run(name, func(b *testing.B) {
			clk := newInstantClock()
			ids := demoIDs(n)
			_, srv := newImageServer(b, clk, ids, nil)
			var rate float64
			for b.Loop() {
				st, _ := imageCatalog(b, srv, n)
				var stderr bytes.Buffer
				o := testImagesOpts(clk, b.TempDir(), &stderr)
				o.Clock, o.unlimited, o.Timeout = defaultImagesOpts("").Clock, !limited, 30*time.Second
				sum, err := catalogImages(context.Background(), st, o)
				if err != nil || sum.Downloaded != n {
					b.Fatalf("%+v %v", sum, err)
				}
				rate = float64(sum.Downloaded) / sum.Elapsed.Seconds()
				b.Log(strings.TrimSpace(lastLine(stderr.String(), "catalog images:")))
			}
			b.ReportMetric(rate, "images/s")
		})
	}
}

func lastLine(s, prefix string) string {
	for _, l := range slices.Backward(strings.Split(s, "\n")) {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return fmt.Sprintf("no line %q", prefix)
}

// TestCatalogImagesTimeout: a response that never finishes is ended by the
// per-request timeout and asked again.
func TestCatalogImagesTimeout(t *testing.T) {
	ctx := context.Background()
	clk := newInstantClock()
	ids := demoIDs(3)
	srvState, srv := newImageServer(t, clk, ids, map[string]string{ids[1]: "hangonce"})
	st, _ := imageCatalog(t, srv, len(ids))
	var stderr bytes.Buffer
	o := testImagesOpts(clk, t.TempDir(), &stderr)
	o.Timeout = 300 * time.Millisecond
	sum, err := catalogImages(ctx, st, o)
	if err != nil || sum.Downloaded != 3 || sum.Hashed != 3 || srvState.hits[ids[1]] != 2 {
		t.Fatalf("%+v %v, %d requests for the hanging one\n%s", sum, err, srvState.hits[ids[1]], stderr.String())
	}
}
