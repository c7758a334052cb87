package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/drivers/picam"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
	"tinkerbox/scenes/spycam"
)

// pushCam is a camera whose frames the test pushes.
type pushCam struct {
	mu    sync.Mutex
	cur   scene.Frame
	ready chan struct{}
}

func newPushCam() *pushCam { return &pushCam{ready: make(chan struct{})} }

func (c *pushCam) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	for {
		c.mu.Lock()
		f, ready := c.cur, c.ready
		c.mu.Unlock()
		if f.Seq > after {
			return f, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return scene.Frame{}, ctx.Err()
		}
	}
}

func (c *pushCam) push(b []byte, at time.Time) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = scene.Frame{Seq: c.cur.Seq + 1, At: at, JPEG: b}
	close(c.ready)
	c.ready = make(chan struct{})
	return c.cur.Seq
}

// ownerCam adapts the camera owner the way the appliance does.
type ownerCam struct{ o *picam.Owner }

func (c ownerCam) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	f, err := c.o.Next(ctx, after)
	return scene.Frame(f), err
}

func (c ownerCam) Hold(ctx context.Context, after uint64) (scene.Frame, error) {
	f, err := c.o.Hold(ctx, after)
	return scene.Frame(f), err
}

func (c ownerCam) Release(f scene.Frame) { c.o.Release(picam.Frame(f)) }

var _ FrameHolder = ownerCam{}

// part is one MJPEG part.
type part struct {
	header textproto.MIMEHeader
	body   []byte
}

// partReader reads the stream by Content-Length, as a browser does, so a part
// is complete without waiting for the next boundary.
type partReader struct{ br *bufio.Reader }

func (p *partReader) next() (part, error) {
	tp := textproto.NewReader(p.br)
	line, err := tp.ReadLine()
	if err != nil {
		return part{}, err
	}
	if line != "--"+mjpegBoundary {
		return part{}, fmt.Errorf("boundary line %q", line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return part{}, err
	}
	n, err := strconv.Atoi(h.Get("Content-Length"))
	if err != nil || n < 0 {
		return part{}, fmt.Errorf("Content-Length %q", h.Get("Content-Length"))
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(p.br, body); err != nil {
		return part{}, err
	}
	if string(body[n:]) != "\r\n" {
		return part{}, errors.New("part not followed by CRLF")
	}
	return part{header: h, body: body[:n]}, nil
}

func spyJPEG(t testing.TB, w, h int, shade uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = shade + uint8(i%7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type spyFixture struct {
	*fixture
	ts  *httptest.Server
	cam scene.Camera
	web *spycamWeb
}

func newSpyFixture(t *testing.T, cam scene.Camera, captures SpycamCaptures, writeTimeout time.Duration) *spyFixture {
	f := newFixture(t, func(o *Options) { o.Camera = cam })
	v := f.srv.mountSpycam(captures, writeTimeout)
	ts := httptest.NewServer(f.h)
	t.Cleanup(func() {
		f.srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &spyFixture{fixture: f, ts: ts, cam: cam, web: v}
}

func (f *spyFixture) openStream(t *testing.T) *partReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/stream.mjpg", nil)
	r.SetBasicAuth("admin", testPassword)
	res, err := f.ts.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "multipart/x-mixed-replace; boundary="+mjpegBoundary {
		t.Fatalf("stream = %d %q", res.StatusCode, ct)
	}
	return &partReader{br: bufio.NewReader(res.Body)}
}

func TestSpycamStreamParts(t *testing.T) {
	cam := newPushCam()
	f := newSpyFixture(t, cam, nil, time.Second)
	pr := f.openStream(t)
	for i := range 3 {
		at := testStart.Add(time.Duration(i) * 66 * time.Millisecond)
		jpg := spyJPEG(t, 64, 48, uint8(40*i))
		seq := cam.push(jpg, at)
		p, err := pr.next()
		if err != nil {
			t.Fatal(err)
		}
		if p.header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(p.body, jpg) ||
			p.header.Get("X-Timestamp") != strconv.FormatInt(at.UnixNano(), 10) ||
			p.header.Get("X-Frame") != strconv.FormatUint(seq, 10) {
			t.Fatalf("part %d: %v, %d bytes", i, p.header, len(p.body))
		}
	}
}

func TestSpycamAuth(t *testing.T) {
	f := newSpyFixture(t, newPushCam(), nil, time.Second)
	for _, path := range []string{"/stream.mjpg", "/snapshot.jpg", "/api/spycam", "/api/spycam/captures", "/spycam/captures/20260314T150926.200Z-motion-0000.jpg"} {
		res, err := http.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without auth = %d, want 401 with a Basic challenge", path, res.StatusCode)
		}
		r, _ := http.NewRequest("GET", f.ts.URL+path, nil)
		r.SetBasicAuth("admin", "wrong")
		if res, err := http.DefaultClient.Do(r); err != nil || res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong password = %v %v", path, res.StatusCode, err)
		}
	}
	// A browser asking for the page is sent to the login form.
	r := req("GET", "/spycam", "")
	r.Header.Set("Accept", "text/html")
	if w := f.do(r); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login?next=") {
		t.Fatalf("GET /spycam = %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := f.do(basic(req("GET", "/spycam", ""))); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `src="/stream.mjpg"`) {
		t.Fatalf("GET /spycam with auth = %d", w.Code)
	}
}

// TestSpycamStalledViewer: a viewer that never reads fills its socket
// buffers; the healthy viewer still gets every frame at once, and the stalled
// one is dropped at its write deadline.
func TestSpycamStalledViewer(t *testing.T) {
	cam := newPushCam()
	// The write deadline is well above what a loaded machine takes to pass
	// a frame on, so "held up by the stalled viewer" (a delay of about the
	// deadline) cannot be mistaken for load (371 ms seen with two CPU hogs
	// against a 200 ms bound).
	const writeDeadline = 2 * time.Second
	f := newSpyFixture(t, cam, nil, writeDeadline)
	healthy := f.openStream(t)

	conn, err := net.Dial("tcp", f.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /stream.mjpg HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n\r\n", basicToken("admin", testPassword))

	// Wait until both are watching.
	for f.web.viewers.Load() != 2 {
		cam.push(spyJPEG(t, 64, 48, 0), testStart)
		if _, err := healthy.next(); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 256<<10) // 256 KB parts fill the stalled socket within a few frames
	copy(big, spyJPEG(t, 64, 48, 9))
	deadline := time.Now().Add(15 * time.Second)
	frames := 0
	for ; f.web.viewers.Load() != 1; frames++ {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled viewer was never dropped (%d frames)", frames)
		}
		start := time.Now()
		seq := cam.push(big, testStart)
		p, err := healthy.next()
		if err != nil {
			t.Fatal(err)
		}
		if got := p.header.Get("X-Frame"); got != strconv.FormatUint(seq, 10) {
			t.Fatalf("healthy viewer got frame %s, want %d: it was held up", got, seq)
		}
		if d := time.Since(start); d > writeDeadline/2 {
			t.Fatalf("frame %d took %v to reach the healthy viewer", frames, d)
		}
	}
	t.Logf("stalled viewer dropped after %d frames", frames)
	if frames < 3 {
		t.Fatalf("stalled viewer dropped after %d frames: it never stalled", frames)
	}
	// The healthy one carries on.
	seq := cam.push(spyJPEG(t, 64, 48, 100), testStart)
	if p, err := healthy.next(); err != nil || p.header.Get("X-Frame") != strconv.FormatUint(seq, 10) {
		t.Fatalf("after the drop: %v %v", p.header, err)
	}
}

type testSource struct {
	frames chan []byte
	fail   chan error
	starts chan int
	n      int
}

func (s *testSource) String() string { return "test source" }

func (s *testSource) Stream(ctx context.Context, emit func([]byte)) error {
	s.n++
	s.starts <- s.n
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b := <-s.frames:
			emit(b)
		case err := <-s.fail:
			return err
		}
	}
}

// TestSpycamCameraRestart: the camera process dies; the owner restarts it
// after its backoff and the open stream carries on with the new frames.
func TestSpycamCameraRestart(t *testing.T) {
	src := &testSource{frames: make(chan []byte), fail: make(chan error), starts: make(chan int, 4)}
	ownerClock := fakeclock.New(testStart)
	o := picam.NewOwner(src, &picam.OwnerOpts{Clock: ownerClock, BackoffMin: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	defer func() { cancel(); o.Halt(); <-done }()

	f := newSpyFixture(t, ownerCam{o}, nil, time.Second)
	pr := f.openStream(t)
	<-src.starts
	a := spyJPEG(t, 64, 48, 10)
	src.frames <- a
	if p, err := pr.next(); err != nil || !bytes.Equal(p.body, a) {
		t.Fatalf("first frame: %v", err)
	}
	src.fail <- errors.New("rpicam-vid: exit status 255")
	ownerClock.BlockUntil(1) // the owner waits out its backoff
	ownerClock.Advance(time.Second)
	if n := <-src.starts; n != 2 {
		t.Fatalf("start %d", n)
	}
	src.frames <- []byte("corrupt: no SOF") // dropped by the owner
	b := spyJPEG(t, 64, 48, 200)
	src.frames <- b
	p, err := pr.next()
	if err != nil || !bytes.Equal(p.body, b) {
		t.Fatalf("after the restart: %v (%d bytes)", err, len(p.body))
	}
	if f.web.viewers.Load() != 1 {
		t.Fatalf("viewers = %d", f.web.viewers.Load())
	}
}

// TestSpycamCameraSilent: while a viewer waits on a silent camera, the
// camera is asked again every streamFrameWait (keeping an on-demand camera
// awake), and the viewer gets the frame once it comes.
func TestSpycamCameraSilent(t *testing.T) {
	cam := &countingCam{pushCam: newPushCam()}
	f := newSpyFixture(t, cam, nil, time.Second)
	pr := f.openStream(t)
	waitFor(t, "the viewer to wait for a frame", func() bool { return cam.calls() >= 1 })
	for range 3 {
		f.clock.BlockUntil(1)
		f.clock.Advance(streamFrameWait)
	}
	f.clock.BlockUntil(1)
	if n := cam.calls(); n < 4 {
		t.Fatalf("Next called %d times over 3 waits, want 4", n)
	}
	jpg := spyJPEG(t, 64, 48, 1)
	cam.push(jpg, testStart)
	if p, err := pr.next(); err != nil || !bytes.Equal(p.body, jpg) {
		t.Fatalf("frame after silence: %v", err)
	}
}

type countingCam struct {
	*pushCam
	mu sync.Mutex
	n  int
}

func (c *countingCam) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.pushCam.Next(ctx, after)
}

func (c *countingCam) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestSpycamStatsAndCaptures(t *testing.T) {
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
	cam := newPushCam()
	f := newSpyFixture(t, cam, caps, time.Second)
	f.app.set(func(s *State) { s.Camera = CameraState{Online: true, FPS: 15, Width: 640, Height: 480, Frames: 99} })
	pr := f.openStream(t)
	cam.push(jpg, testStart)
	if _, err := pr.next(); err != nil {
		t.Fatal(err)
	}
	w := f.do(basic(req("GET", "/api/spycam", "")))
	var s SpycamStats
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || w.Code != 200 {
		t.Fatalf("stats %d %s: %v", w.Code, w.Body, err)
	}
	if s != (SpycamStats{Online: true, Viewers: 1, FPS: 15, Width: 640, Height: 480, Frames: 99, Parts: 1}) {
		t.Fatalf("stats = %+v", s)
	}

	name := "20260314T150926.200Z-motion-0000.jpg"
	page := f.do(basic(req("GET", "/spycam", "")))
	if !strings.Contains(page.Body.String(), `src="/spycam/captures/`+name+`"`) || !strings.Contains(page.Body.String(), "3 frames") {
		t.Fatalf("page does not list the capture:\n%s", page.Body)
	}
	var groups []store.CaptureGroup
	w = f.do(basic(req("GET", "/api/spycam/captures", "")))
	if err := json.Unmarshal(w.Body.Bytes(), &groups); err != nil || len(groups) != 1 || len(groups[0].Files) != 3 {
		t.Fatalf("captures = %s", w.Body)
	}
	w = f.do(basic(req("GET", "/spycam/captures/"+name, "")))
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" || !bytes.Equal(w.Body.Bytes(), jpg) {
		t.Fatalf("capture file = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"tinkerbox.db", "..%2ftinkerbox.db", "20260314T150926.200Z-motion-9999.jpg"} {
		if w := f.do(basic(req("GET", "/spycam/captures/"+bad, ""))); w.Code != http.StatusNotFound {
			t.Errorf("GET capture %q = %d, want 404", bad, w.Code)
		}
	}
}

func TestSpycamNoCamera(t *testing.T) {
	f := newSpyFixture(t, nil, nil, time.Second)
	if w := f.do(basic(req("GET", "/stream.mjpg", ""))); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("stream without camera = %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/spycam/captures/x.jpg", ""))); w.Code != http.StatusNotFound {
		t.Fatalf("captures without a store = %d", w.Code)
	}
}

func TestSpycamEndStreams(t *testing.T) {
	cam := newPushCam()
	f := newSpyFixture(t, cam, nil, time.Second)
	pr := f.openStream(t)
	f.srv.EndStreams()
	if _, err := pr.next(); err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after EndStreams: %v, want the stream to end", err)
	}
}

func basicToken(user, pw string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func BenchmarkSpycamFanOut20(b *testing.B) {
	cam := newPushCam()
	srv, err := New(Options{App: newFakeApp(), Camera: cam, PasswordHash: testHash(b)})
	if err != nil {
		b.Fatal(err)
	}
	srv.mountSpycam(nil, time.Second)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer ts.CloseClientConnections()
	const viewers = 20
	readers := make([]*partReader, viewers)
	for i := range readers {
		r, _ := http.NewRequest("GET", ts.URL+"/stream.mjpg", nil)
		r.SetBasicAuth("admin", testPassword)
		res, err := ts.Client().Do(r)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		readers[i] = &partReader{br: bufio.NewReaderSize(res.Body, 64<<10)}
	}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60})
	frame := buf.Bytes()
	b.SetBytes(int64(len(frame) * viewers))
	b.ReportAllocs()
	for b.Loop() {
		cam.push(frame, time.Now())
		var wg sync.WaitGroup
		for _, r := range readers {
			wg.Go(func() {
				if _, err := r.next(); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}
