package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tinkerbox/appliance/update"
)

// fakeUpdater is the update service as the web sees it. install, if set,
// does the install; otherwise the bundle is read to its end.
type fakeUpdater struct {
	mu        sync.Mutex
	status    update.Status
	statusErr error
	install   func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error)
	rollErr   error
	rollbacks int
	installs  int
}

func (f *fakeUpdater) Status(ctx context.Context) (update.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.statusErr
}

func (f *fakeUpdater) Install(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
	f.mu.Lock()
	f.installs++
	install := f.install
	f.mu.Unlock()
	if install != nil {
		return install(ctx, bundle, progress)
	}
	if _, err := io.Copy(io.Discard, bundle); err != nil {
		return update.Result{}, fmt.Errorf("update: %w", err)
	}
	return update.Result{Slot: "B", Version: "v2.0.0", Board: "pi0w"}, nil
}

func (f *fakeUpdater) Rollback(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollbacks++
	return f.rollErr
}

func (f *fakeUpdater) rollbackCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rollbacks
}

func (f *fakeUpdater) set(fn func(f *fakeUpdater)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// deviceStatus is a device running v1.4.0 from slot A, with v1.3.0 in B.
func deviceStatus() update.Status {
	return update.Status{
		Board:       "pi0w",
		Version:     "v1.4.0",
		Running:     update.SlotStatus{Name: "A", Version: "v1.4.0", State: update.SlotActive},
		Other:       update.SlotStatus{Name: "B", Version: "v1.3.0", State: update.SlotReady},
		Last:        &update.Outcome{Result: update.ResultCommitted, Version: "v1.4.0", From: "v1.3.0", At: testStart, Detail: "healthy after 41 s"},
		CanRollback: true,
	}
}

func newUpdateFixture(t *testing.T, edit ...func(*Options)) (*fixture, *fakeUpdater) {
	t.Helper()
	u := &fakeUpdater{status: deviceStatus()}
	f := newFixture(t, append([]func(*Options){func(o *Options) { o.Updater = u; o.FirmwareVersion = "v1.4.0" }}, edit...)...)
	return f, u
}

// bundleReq is a bundle upload with Basic credentials.
func bundleReq(body io.Reader, size int64) *http.Request {
	r := httptest.NewRequest("POST", "/api/update", body)
	r.Header.Set("Content-Type", "application/octet-stream")
	r.ContentLength = size
	return basic(r)
}

func decodeJSON[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer %d %q: %v", w.Code, w.Body, err)
	}
	return v
}

// TestUpdateStatus: GET /api/update is the service's Status plus
// "available"; without an Updater it says why and gives the version; a
// service that does not answer is a 503 that says so.
func TestUpdateStatus(t *testing.T) {
	t.Run("no updater", func(t *testing.T) {
		f := newFixture(t, func(o *Options) { o.FirmwareVersion = "v1.4.0-dirty" })
		w := f.do(basic(req("GET", "/api/update", "")))
		got := decodeJSON[map[string]any](t, w)
		if w.Code != http.StatusOK || got["available"] != false || got["version"] != "v1.4.0-dirty" ||
			!strings.Contains(got["reason"].(string), "simulator") {
			t.Fatalf("GET /api/update without an updater = %d %v", w.Code, got)
		}
		f = newFixture(t, func(o *Options) { o.NoUpdaterReason = "no update service at /run/tinkerbox/update.sock" })
		if got := decodeJSON[map[string]any](t, f.do(basic(req("GET", "/api/update", "")))); got["reason"] != "no update service at /run/tinkerbox/update.sock" || got["version"] != "unknown" {
			t.Fatalf("with a reason and no version: %v", got)
		}
	})
	t.Run("updater", func(t *testing.T) {
		f, u := newUpdateFixture(t)
		w := f.do(basic(req("GET", "/api/update", "")))
		got := decodeJSON[updateStatusJSON](t, w)
		if w.Code != http.StatusOK || !got.Available || got.Version != "v1.4.0" || got.Other.Version != "v1.3.0" ||
			!got.CanRollback || got.Last == nil || got.Last.Result != "committed" || got.Install != nil {
			t.Fatalf("GET /api/update = %d %s", w.Code, w.Body)
		}
		u.set(func(u *fakeUpdater) {
			u.statusErr = errors.New("update: no update service at /run/tinkerbox/update.sock: connection refused")
		})
		w = f.do(basic(req("GET", "/api/update", "")))
		if msg := decodeJSON[errorBody](t, w).Error; w.Code != http.StatusServiceUnavailable ||
			!strings.Contains(msg, "not answering") || !strings.Contains(msg, "connection refused") {
			t.Fatalf("service down: %d %s", w.Code, w.Body)
		}
	})
}

// patterned is n bytes of a fixed pattern, made as they are read: a body
// the test never holds either.
type patterned struct{ n, off int64 }

func (p *patterned) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		x := p.off + int64(i)
		b[i] = byte(x*7 + x>>11)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// unfilled is n bytes of whatever the reader's buffer holds: cheap volume.
type unfilled struct{ n, off int64 }

func (u *unfilled) Read(b []byte) (int, error) {
	if u.off >= u.n {
		return 0, io.EOF
	}
	k := min(int64(len(b)), u.n-u.off)
	u.off += k
	return int(k), nil
}

// TestUpdateInstallStreams: a 64 MiB bundle goes to the Updater byte for
// byte while it arrives (through a pipe, as update.Client sends it on), the
// handler allocates a small fraction of it, and the answer is the Result.
func TestUpdateInstallStreams(t *testing.T) {
	const size = 64 << 20
	want := sha256.New()
	io.Copy(want, &patterned{n: size})

	f, u := newUpdateFixture(t)
	var got int64
	var sum []byte
	u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() { // the service's end
			h := sha256.New()
			n, err := io.Copy(h, pr)
			got, sum = n, h.Sum(nil)
			done <- err
		}()
		progress(update.Progress{Phase: "writing root", Done: 1, Total: 2})
		_, err := io.Copy(pw, bundle)
		pw.CloseWithError(err)
		if err := <-done; err != nil {
			return update.Result{}, err
		}
		progress(update.Progress{Phase: "verifying", Done: 2, Total: 2})
		return update.Result{Slot: "B", Version: "v2.0.0", Board: "pi0w"}, nil
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	w := f.do(bundleReq(&patterned{n: size}, size))
	runtime.ReadMemStats(&after)
	if w.Code != http.StatusOK {
		t.Fatalf("install = %d %s", w.Code, w.Body)
	}
	res := decodeJSON[installJSON](t, w)
	if !res.Rebooting || res.Version != "v2.0.0" || res.Slot != "B" {
		t.Errorf("answer %s, want rebooting into v2.0.0 in B", w.Body)
	}
	if got != size || !bytes.Equal(sum, want.Sum(nil)) {
		t.Errorf("the updater got %d bytes (sha256 %x), want the %d sent (%x)", got, sum, size, want.Sum(nil))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("installing a 64 MiB bundle allocated %d MiB: the handler holds the body", alloc>>20)
	} else {
		t.Logf("64 MiB bundle: %d KiB allocated", alloc>>10)
	}
	st := decodeJSON[updateStatusJSON](t, f.do(basic(req("GET", "/api/update", ""))))
	if a := st.Install; a == nil || a.Running || a.Received != size || a.Size != size || a.Result == nil || a.Result.Version != "v2.0.0" ||
		a.Progress == nil || a.Progress.Phase != "verifying" {
		t.Errorf("install activity after = %+v", st.Install)
	}
}

// TestUpdateInstallRefused: the service's refusal reaches the maker word
// for word as a 400, after the rest of the bundle is read; the activity
// says so at once.
func TestUpdateInstallRefused(t *testing.T) {
	f, u := newUpdateFixture(t)
	const refusal = "update: the bundle is signed by a key this device does not trust"
	u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
		io.ReadFull(bundle, make([]byte, 1024)) // the manifest and its signature
		progress(update.Progress{Phase: "checking"})
		return update.Result{}, errors.New(refusal)
	}
	body := &patterned{n: 4 << 20}
	w := f.do(bundleReq(body, body.n))
	if msg := decodeJSON[errorBody](t, w).Error; w.Code != http.StatusBadRequest || msg != refusal {
		t.Fatalf("refused bundle = %d %s, want 400 %q", w.Code, w.Body, refusal)
	}
	if body.off != body.n {
		t.Errorf("read %d of %d bytes: the rest of a refused bundle must be read before the answer", body.off, body.n)
	}
	st := decodeJSON[updateStatusJSON](t, f.do(basic(req("GET", "/api/update", ""))))
	if a := st.Install; a == nil || a.Running || a.Error != refusal || a.Result != nil {
		t.Errorf("activity after a refusal = %+v", st.Install)
	}

	// A service that goes away mid-install is a 503.
	u.set(func(u *fakeUpdater) {
		u.install = func(context.Context, io.Reader, func(update.Progress)) (update.Result, error) {
			return update.Result{}, fmt.Errorf("update: %w", &net.OpError{Op: "read", Net: "unix", Err: errors.New("connection reset by peer")})
		}
	})
	if w := f.do(bundleReq(strings.NewReader("x"), 1)); w.Code != http.StatusServiceUnavailable {
		t.Errorf("service gone mid-install = %d %s, want 503", w.Code, w.Body)
	}
	// Too big, by its announced size or by what arrives.
	if w := f.do(bundleReq(strings.NewReader("x"), maxBundle+1)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("announced 1 GiB + 1 = %d, want 413", w.Code)
	}
	u.set(func(u *fakeUpdater) { u.install = nil })
	if w := f.do(bundleReq(&unfilled{n: maxBundle + 1}, -1)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 1 GiB + 1 = %d %s, want 413", w.Code, w.Body)
	}
}

// TestUpdateInstallRules: the upload is behind auth, the origin check and
// the CSRF token like every post; it must be application/octet-stream; one
// install runs at a time.
func TestUpdateInstallRules(t *testing.T) {
	f, u := newUpdateFixture(t)
	sess, token := f.login()
	cookieReq := func(ct string, tok string) *http.Request {
		r := httptest.NewRequest("POST", "/api/update", strings.NewReader("bundle"))
		r.Header.Set("Content-Type", ct)
		r.AddCookie(sess)
		if tok != "" {
			r.Header.Set("X-CSRF-Token", tok)
		}
		return r
	}
	for name, c := range map[string]struct {
		r      *http.Request
		status int
		msg    string
	}{
		"no credentials": {httptest.NewRequest("POST", "/api/update", strings.NewReader("x")), http.StatusUnauthorized, ""},
		"no csrf token":  {cookieReq("application/octet-stream", ""), http.StatusForbidden, "CSRF"},
		"text/plain":     {cookieReq("text/plain", token), http.StatusUnsupportedMediaType, "application/octet-stream"},
		"json":           {cookieReq("application/json", token), http.StatusUnsupportedMediaType, "application/octet-stream"},
		"form":           {cookieReq("application/x-www-form-urlencoded", token), http.StatusUnsupportedMediaType, "application/octet-stream"},
		"cross-origin": {func() *http.Request {
			r := cookieReq("application/octet-stream", token)
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			return r
		}(), http.StatusForbidden, "cross-origin"},
		"cross-origin basic": {func() *http.Request {
			r := bundleReq(strings.NewReader("x"), 1)
			r.Header.Set("Origin", "http://evil.example")
			return r
		}(), http.StatusForbidden, "cross-origin"},
		"octet-stream elsewhere": {func() *http.Request {
			r := bundleReq(strings.NewReader("x"), 1)
			r.URL.Path = "/api/scene"
			return r
		}(), http.StatusUnsupportedMediaType, "JSON"},
	} {
		w := f.do(c.r)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.msg) {
			t.Errorf("%s: %d %s, want %d with %q", name, w.Code, w.Body, c.status, c.msg)
		}
	}
	if u.installs != 0 {
		t.Fatalf("%d installs ran for refused requests", u.installs)
	}
	if w := f.do(cookieReq("application/octet-stream", token)); w.Code != http.StatusOK {
		t.Fatalf("same-origin upload with the token = %d %s", w.Code, w.Body)
	}

	// One at a time: a second upload and a rollback wait for the first.
	started, release := make(chan struct{}), make(chan struct{})
	u.set(func(u *fakeUpdater) {
		u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
			io.Copy(io.Discard, bundle)
			progress(update.Progress{Phase: "writing root", Done: 3, Total: 10})
			close(started)
			<-release
			return update.Result{Slot: "B", Version: "v2.0.0"}, nil
		}
	})
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- f.do(bundleReq(strings.NewReader("bundle one"), 10)) }()
	<-started
	if w := f.do(bundleReq(strings.NewReader("bundle two"), 10)); w.Code != http.StatusConflict || w.Header().Get("Connection") != "close" {
		t.Errorf("second install = %d %s (Connection %q), want 409 and close", w.Code, w.Body, w.Header().Get("Connection"))
	}
	if w := f.do(basic(req("POST", "/api/update/rollback", `{"confirm":true}`))); w.Code != http.StatusConflict {
		t.Errorf("rollback during an install = %d %s, want 409", w.Code, w.Body)
	}
	st := decodeJSON[updateStatusJSON](t, f.do(basic(req("GET", "/api/update", ""))))
	if a := st.Install; a == nil || !a.Running || a.Received != 10 || a.Progress == nil || a.Progress.Phase != "writing root" {
		t.Errorf("activity while installing = %+v", st.Install)
	}
	close(release)
	if w := <-first; w.Code != http.StatusOK {
		t.Fatalf("first install = %d %s", w.Code, w.Body)
	}
	if u.installs != 2 {
		t.Errorf("%d installs, want 2", u.installs)
	}
	// The service busy with an install of its own (the CLI's) is a 409 too.
	u.set(func(u *fakeUpdater) { u.status.Busy = &update.Progress{Phase: "writing boot"} })
	if w := f.do(bundleReq(strings.NewReader("x"), 1)); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "busy") {
		t.Errorf("service busy = %d %s, want 409", w.Code, w.Body)
	}
}

// TestUpdateNoUpdater: without an Updater the posts are 501 with the reason.
func TestUpdateNoUpdater(t *testing.T) {
	f := newFixture(t)
	if w := f.do(bundleReq(strings.NewReader("x"), 1)); w.Code != http.StatusNotImplemented || !strings.Contains(w.Body.String(), "simulator") {
		t.Errorf("install without an updater = %d %s", w.Code, w.Body)
	}
	if w := f.do(basic(req("POST", "/api/update/rollback", `{"confirm":true}`))); w.Code != http.StatusNotImplemented {
		t.Errorf("rollback without an updater = %d %s", w.Code, w.Body)
	}
}

// TestUpdateRollback: only with the confirmation, only when there is a
// firmware to go back to; the service's refusal is a 409 with its words.
func TestUpdateRollback(t *testing.T) {
	f, u := newUpdateFixture(t)
	post := func(body string) *httptest.ResponseRecorder {
		return f.do(basic(req("POST", "/api/update/rollback", body)))
	}
	if w := post(`{}`); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "confirm") {
		t.Errorf("no confirmation = %d %s", w.Code, w.Body)
	}
	r := basic(httptest.NewRequest("POST", "/api/update/rollback", strings.NewReader(`{"confirm":true}`)))
	r.Header.Set("Content-Type", "text/plain")
	if w := f.do(r); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain rollback = %d", w.Code)
	}
	if u.rollbacks != 0 {
		t.Fatalf("%d rollbacks without a confirmation", u.rollbacks)
	}
	w := post(`{"confirm":true}`)
	if got := decodeJSON[map[string]any](t, w); w.Code != http.StatusOK || got["rebooting"] != true || got["version"] != "v1.3.0" || u.rollbacks != 1 {
		t.Errorf("rollback = %d %s (%d calls)", w.Code, w.Body, u.rollbacks)
	}
	u.set(func(u *fakeUpdater) { u.rollErr = errors.New("update: slot B did not validate: it cannot be booted") })
	if w := post(`{"confirm":true}`); w.Code != http.StatusConflict || decodeJSON[errorBody](t, w).Error != "update: slot B did not validate: it cannot be booted" {
		t.Errorf("refused rollback = %d %s", w.Code, w.Body)
	}
	u.set(func(u *fakeUpdater) { u.status.CanRollback, u.status.Other.State = false, update.SlotIncomplete })
	if w := post(`{"confirm":true}`); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "slot B is incomplete") || u.rollbacks != 2 {
		t.Errorf("nothing to go back to = %d %s (%d calls)", w.Code, w.Body, u.rollbacks)
	}
	u.set(func(u *fakeUpdater) { u.statusErr = errors.New("connection refused") })
	if w := post(`{"confirm":true}`); w.Code != http.StatusServiceUnavailable {
		t.Errorf("service down = %d %s", w.Code, w.Body)
	}
}

// TestUpdateStreamEvents: the state stream pushes the install's progress as
// "update" events, and nothing of the kind before an install.
func TestUpdateStreamEvents(t *testing.T) {
	f, u := newUpdateFixture(t, func(o *Options) { o.Events = nil })
	step, release := make(chan struct{}), make(chan struct{})
	u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
		io.Copy(io.Discard, bundle)
		progress(update.Progress{Phase: "writing root", Done: 5, Total: 10})
		close(step)
		<-release
		return update.Result{Slot: "B", Version: "v2.0.0"}, nil
	}
	sse, _ := openStream(t, f)
	sse.nextState()
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- f.do(bundleReq(strings.NewReader("0123456789"), 10)) }()
	<-step
	f.clock.BlockUntil(1)
	f.clock.Advance(streamPoll)
	name, data := sse.next()
	for name == "events" {
		name, data = sse.next()
	}
	var a installActivity
	if err := json.Unmarshal([]byte(data), &a); name != "update" || err != nil || !a.Running || a.ID != 1 || a.Received != 10 ||
		a.Progress == nil || a.Progress.Phase != "writing root" || a.Progress.Done != 5 {
		t.Fatalf("event %q %s, want the install's progress", name, data)
	}
	close(release)
	<-done
	f.clock.BlockUntil(1)
	f.clock.Advance(streamPoll)
	name, data = sse.next()
	if json.Unmarshal([]byte(data), &a); name != "update" || a.Running || a.Result == nil || a.Result.Version != "v2.0.0" {
		t.Fatalf("event %q %s, want the end of the install", name, data)
	}
}

// TestUpdateUploadOutlivesTimeoutsAndLimiter: over real TCP, with a 300 ms
// ReadTimeout and WriteTimeout, a 500 ms stall time and room for six
// connections, an upload that takes 1.5 s completes while slow clients from
// its own address fill the server: the limiter evicts them, never the upload
// that is making progress.
func TestUpdateUploadOutlivesTimeoutsAndLimiter(t *testing.T) {
	const short = 300 * time.Millisecond
	u := &fakeUpdater{status: deviceStatus()}
	var got atomic.Int64
	var once sync.Once
	firstBytes := make(chan struct{})
	u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
		buf := make([]byte, 4096)
		for {
			n, err := bundle.Read(buf)
			if got.Add(int64(n)) > 0 {
				once.Do(func() { close(firstBytes) })
			}
			if err == io.EOF {
				return update.Result{Slot: "B", Version: "v2.0.0"}, nil
			}
			if err != nil {
				return update.Result{}, err
			}
		}
	}
	l := startLive(t, func(*fixture) *ServeOpts {
		o := DefaultServeOpts()
		o.ReadHeaderTimeout, o.ReadTimeout, o.WriteTimeout = short, short, short
		o.MaxConns, o.MaxPerAddr, o.MaxPendingPerAddr = 6, 6, 6
		return o
	}, func(o *Options) { o.Updater = u })
	l.srv.uploadStall = 500 * time.Millisecond // pushed ahead by every chunk, never reached

	// The bundle: 64 KiB every 100 ms for 1.5 s, five ReadTimeouts and three
	// stall times.
	const chunk, chunks = 64 << 10, 15
	pr, pw := io.Pipe()
	attacked := make(chan struct{})
	go func() {
		for i := range chunks {
			if i == 1 {
				<-attacked
			}
			if _, err := pw.Write(bytes.Repeat([]byte{byte(i)}, chunk)); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	r, _ := http.NewRequest("POST", l.base+"/api/update", pr)
	r.Header.Set("Content-Type", "application/octet-stream")
	r.ContentLength = chunk * chunks
	r.SetBasicAuth("admin", testPassword)
	c := client(nil)
	c.Timeout = 20 * time.Second
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	start := time.Now()
	go func() {
		res, err := c.Do(r)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answered <- answer{status: res.StatusCode, body: string(b)}
	}()
	// Mid-upload, slow clients from the same address, twice what the
	// server has room for: the oldest pending connections make room.
	select {
	case <-firstBytes:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload never reached the updater")
	}
	var closed atomic.Int64
	attack(t, l.host, nil, 12, slowHeader(l.host), &closed)
	close(attacked)
	a := <-answered
	took := time.Since(start)
	if a.err != nil || a.status != http.StatusOK || !strings.Contains(a.body, `"rebooting":true`) {
		t.Fatalf("upload = %d %s %v after %v", a.status, a.body, a.err, took)
	}
	if got.Load() != chunk*chunks {
		t.Errorf("the updater got %d bytes, want %d", got.Load(), chunk*chunks)
	}
	st, _ := l.lim.waitUntil(0, func(limitStats) bool { return true })
	if st.evicted == 0 || st.peak > 6 {
		t.Errorf("limiter %+v: want evictions (the slow clients) and at most 6 open", st)
	}
	if took < 4*short {
		t.Errorf("the upload took %v: not long enough to outlive the timeouts", took)
	}
	t.Logf("upload of %d KiB over %v past %v timeouts and 12 slow clients; limiter %+v", chunk*chunks>>10, took.Round(time.Millisecond), short, st)
}

// TestUpdateUploadStalls: an upload that stops sending is answered 408 and
// closed after the stall time, and the Updater sees the body fail.
func TestUpdateUploadStalls(t *testing.T) {
	u := &fakeUpdater{status: deviceStatus()}
	installErr := make(chan error, 1)
	u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
		_, err := io.Copy(io.Discard, bundle)
		installErr <- err
		return update.Result{}, fmt.Errorf("update: %w", err)
	}
	l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() }, func(o *Options) { o.Updater = u })
	l.srv.uploadStall = 300 * time.Millisecond
	c, err := net.Dial("tcp", l.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, _ := http.NewRequest("POST", "http://"+l.host+"/api/update", nil)
	r.SetBasicAuth("admin", testPassword)
	head := "POST /api/update HTTP/1.1\r\nHost: " + l.host + "\r\nAuthorization: " + r.Header.Get("Authorization") +
		"\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
	io.WriteString(c, head+strings.Repeat("x", 5000))
	start := time.Now()
	c.SetReadDeadline(start.Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	took := time.Since(start)
	if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "stalled") || !res.Close {
		t.Errorf("stalled upload = %d %s (close %v), want 408 and close", res.StatusCode, body, res.Close)
	}
	if took > 2*time.Second {
		t.Errorf("answered after %v, want about the 300 ms stall", took)
	}
	select {
	case err := <-installErr:
		if err == nil {
			t.Error("the updater read the stalled body to a clean end")
		}
	default:
		t.Error("the updater's read did not fail")
	}
	// The slot is free again.
	if w := l.do(bundleReq(strings.NewReader("x"), 1)); w.Code == http.StatusConflict {
		t.Errorf("after a stalled upload the next one = %d", w.Code)
	}
}

// TestUpdateSlowConsumerIsNoStall: a client that sends steadily is not cut
// off because the Updater stops reading for longer than the stall time
// (the device's service hashing under load): only a client that sends
// nothing while the server waits for it stalls.
func TestUpdateSlowConsumerIsNoStall(t *testing.T) {
	u := &fakeUpdater{status: deviceStatus()}
	const size = 256 << 10
	u.install = func(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error) {
		buf := make([]byte, 32<<10)
		n := 0
		for {
			k, err := bundle.Read(buf)
			n += k
			if err == io.EOF {
				break
			}
			if err != nil {
				return update.Result{}, err
			}
			if n >= 64<<10 && n-k < 64<<10 {
				// A consumer busy for three stall times, while the
				// client's bytes wait in the socket.
				<-time.After(900 * time.Millisecond)
			}
		}
		if n != size {
			return update.Result{}, fmt.Errorf("got %d bytes", n)
		}
		return update.Result{Slot: "B", Version: "v2.0.0"}, nil
	}
	l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() }, func(o *Options) { o.Updater = u })
	l.srv.uploadStall = 300 * time.Millisecond
	r, _ := http.NewRequest("POST", l.base+"/api/update", bytes.NewReader(bytes.Repeat([]byte("b"), size)))
	r.Header.Set("Content-Type", "application/octet-stream")
	r.SetBasicAuth("admin", testPassword)
	res, err := client(nil).Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"rebooting":true`) {
		t.Fatalf("upload with a slow consumer = %d %s, want it installed", res.StatusCode, body)
	}
}

// TestSettingsPage: /settings is in the nav and draws the slots, the trial
// flag and the last outcome; without an updater it says why and shows the
// version; with the service down it says that.
func TestSettingsPage(t *testing.T) {
	page := func(f *fixture) string {
		t.Helper()
		sess, _ := f.login()
		r := req("GET", "/settings", "")
		r.AddCookie(sess)
		w := f.do(r)
		if w.Code != http.StatusOK {
			t.Fatalf("GET /settings = %d", w.Code)
		}
		return w.Body.String()
	}
	f, u := newUpdateFixture(t)
	u.status.Tryboot = true
	b := page(f)
	for _, want := range []string{
		`<a href="/settings" aria-current="page">Settings</a>`,
		`<script src="/static/settings.js?v=`, `data-available="true"`,
		`<dd id="upd-version">v1.4.0</dd>`, `<dd id="upd-slot">A</dd>`, `on trial (tryboot)`,
		`<dd id="upd-other">B · v1.3.0 · ready: holds a verified firmware</dd>`,
		`data-result="committed">committed</span> v1.4.0 (from v1.3.0) · <time datetime="2026-03-14T15:09:26Z">2026-03-14 15:09 UTC</time> · healthy after 41 s`,
		`<input id="upd-file" name="bundle" type="file" accept=".tbup"`,
		`Go back to the previous firmware (v1.3.0)</button>`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("settings page lacks %s", want)
		}
	}
	if strings.Contains(b, `id="upd-rollback" type="button" class="btn btn-danger" data-version="v1.3.0" disabled`) {
		t.Error("rollback is disabled although the service can roll back")
	}
	u.set(func(u *fakeUpdater) { u.status.CanRollback = false })
	if b := page(f); !strings.Contains(b, `data-version="v1.3.0" disabled>`) {
		t.Error("rollback is enabled although the service cannot roll back")
	}
	u.set(func(u *fakeUpdater) { u.statusErr = errors.New("connection refused") })
	if b := page(f); !strings.Contains(b, `role="alert">the update service is not answering: connection refused</p>`) {
		t.Error("the page does not say the service is down")
	}

	f = newFixture(t, func(o *Options) { o.FirmwareVersion = "v1.4.0"; o.NoUpdaterReason = "No update service on this card." })
	b = page(f)
	if !strings.Contains(b, `data-available="false"`) || !strings.Contains(b, `<p id="upd-reason" class="upd-reason">No update service on this card.</p>`) ||
		!strings.Contains(b, `<dd id="upd-version">v1.4.0</dd>`) || strings.Contains(b, `id="upd-form"`) {
		t.Errorf("settings page without an updater:\n%s", b)
	}
}

// TestUpdateThroughClient: the handler with the real update.Client, talking
// the service's protocol over a Unix socket to a stand-in service: the
// bundle arrives whole, progress lines become the activity, and a refusal
// sent before the bundle is all read (while the client's transport is still
// sending it) comes back as the 400.
func TestUpdateThroughClient(t *testing.T) {
	const refusal = "update: manifest.sig does not verify"
	var got atomic.Int64
	var sum atomic.Value
	svc := http.NewServeMux()
	svc.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(deviceStatus())
	})
	svc.HandleFunc("POST /install", func(w http.ResponseWriter, r *http.Request) {
		enc := json.NewEncoder(w)
		rc := http.NewResponseController(w)
		rc.EnableFullDuplex()
		head := make([]byte, 1024)
		if _, err := io.ReadFull(r.Body, head); err != nil {
			enc.Encode(map[string]string{"error": err.Error()})
			return
		}
		if head[0] == 'X' {
			enc.Encode(map[string]string{"error": refusal})
			return
		}
		enc.Encode(update.Progress{Phase: "writing root", Done: 1, Total: 2})
		rc.Flush()
		h := sha256.New()
		h.Write(head)
		n, err := io.Copy(h, r.Body)
		if err != nil {
			enc.Encode(map[string]string{"error": err.Error()})
			return
		}
		got.Store(n + 1024)
		sum.Store(h.Sum(nil))
		enc.Encode(map[string]any{"result": update.Result{Slot: "B", Version: "v2.0.0", Board: "pi0w"}})
	})
	sock := filepath.Join(t.TempDir(), "u.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	hs := &http.Server{Handler: svc}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	f := newFixture(t, func(o *Options) { o.Updater = update.NewClient(sock) })
	ts := httptest.NewServer(f.h)
	t.Cleanup(ts.Close)
	post := func(body io.Reader, size int64) (int, string) {
		t.Helper()
		r, _ := http.NewRequest("POST", ts.URL+"/api/update", body)
		r.Header.Set("Content-Type", "application/octet-stream")
		r.ContentLength = size
		r.SetBasicAuth("admin", testPassword)
		res, err := ts.Client().Do(r)
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	const size = 16 << 20
	want := sha256.New()
	io.Copy(want, &patterned{n: size})
	if status, body := post(&patterned{n: size}, size); status != http.StatusOK || !strings.Contains(body, `"version":"v2.0.0"`) {
		t.Fatalf("install through the client = %d %s", status, body)
	}
	if s, _ := sum.Load().([]byte); got.Load() != size || !bytes.Equal(s, want.Sum(nil)) {
		t.Errorf("the service got %d bytes (%x), want %d (%x)", got.Load(), s, size, want.Sum(nil))
	}
	st := decodeJSON[updateStatusJSON](t, f.do(basic(req("GET", "/api/update", ""))))
	if st.Install == nil || st.Install.Progress == nil || st.Install.Progress.Phase != "writing root" {
		t.Errorf("the service's progress is not in the activity: %+v", st.Install)
	}

	refused := io.MultiReader(strings.NewReader(strings.Repeat("X", 1024)), &patterned{n: size})
	if status, body := post(refused, size+1024); status != http.StatusBadRequest || !strings.Contains(body, refusal) {
		t.Fatalf("refusal through the client = %d %s, want 400 %q", status, body, refusal)
	}
	hs.Close()
	if status, body := post(strings.NewReader("x"), 1); status != http.StatusServiceUnavailable || !strings.Contains(body, "not answering") {
		t.Errorf("service gone = %d %s, want 503", status, body)
	}
}
