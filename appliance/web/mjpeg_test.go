package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/drivers/picam"
)

// chanSource lends the frames sent to it from one buffer it overwrites, as
// picam's RPiCam does (a picam.BorrowingSource).
type chanSource chan []byte

func (s chanSource) String() string { return "chan source" }

func (s chanSource) Stream(ctx context.Context, emit func([]byte)) error {
	return s.StreamBorrowed(ctx, func(b []byte) { emit(bytes.Clone(b)) })
}

func (s chanSource) StreamBorrowed(ctx context.Context, emit func([]byte)) error {
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b := <-s:
			buf = append(buf[:0], b...)
			emit(buf)
		}
	}
}

var _ picam.BorrowingSource = chanSource(nil)

// leanReader reads parts by Content-Length into one buffer, allocating
// nothing per part, so a benchmark's allocations are the server's.
type leanReader struct {
	br  *bufio.Reader
	buf []byte
}

func (p *leanReader) next() ([]byte, error) {
	size := -1
	for {
		line, err := p.br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if size >= 0 {
				break
			}
			continue // the CRLF after the previous part
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return nil, err
			}
			size = n
		}
	}
	if cap(p.buf) < size {
		p.buf = make([]byte, size)
	}
	p.buf = p.buf[:size]
	_, err := io.ReadFull(p.br, p.buf)
	return p.buf, err
}

func benchFrame(b testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 31)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// fanOut is a server streaming the frames sent to src to n viewers over
// loopback through a camera owner, as in the appliance.
type fanOut struct {
	src  chanSource
	wg   sync.WaitGroup // one Done per part a viewer read
	errs chan error
}

func newFanOut(tb testing.TB, n int) *fanOut {
	fo := &fanOut{src: make(chanSource), errs: make(chan error, n)}
	o := picam.NewOwner(fo.src, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	srv, err := New(Options{App: newFakeApp(), Camera: ownerCam{o}, PasswordHash: testHash(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	srv.mountSpycam(nil, time.Second)
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		srv.EndStreams()
		ts.Close()
		cancel()
		o.Halt()
		<-done
	})
	for range n {
		r, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/stream.mjpg", nil)
		r.SetBasicAuth("admin", testPassword)
		res, err := ts.Client().Do(r)
		if err != nil {
			tb.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			tb.Fatalf("stream: %s", res.Status)
		}
		lr := &leanReader{br: bufio.NewReaderSize(res.Body, 64<<10)}
		go func() {
			defer res.Body.Close()
			for {
				if _, err := lr.next(); err != nil {
					if ctx.Err() == nil {
						fo.errs <- err
					}
					return
				}
				fo.wg.Done()
			}
		}()
	}
	return fo
}

// BenchmarkSpycamFanOut is one camera frame delivered to each of N viewers:
// the steady state allocates nothing (allocs/op 0).
func BenchmarkSpycamFanOut(b *testing.B) {
	frame := benchFrame(b)
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			fo := newFanOut(b, n)
			for range 3 {
				fo.send(b, n, frame) // warm up: buffers grow once
			}
			b.SetBytes(int64(len(frame) * n))
			b.ReportAllocs()
			for b.Loop() {
				fo.send(b, n, frame)
			}
		})
	}
}

// send has one frame delivered to all n viewers. A viewer that fails makes
// it hang rather than fail (waiting on anything but the group would
// allocate); the test's time limit catches that.
func (fo *fanOut) send(tb testing.TB, n int, frame []byte) {
	fo.wg.Add(n)
	fo.src <- frame
	fo.wg.Wait()
	select {
	case err := <-fo.errs:
		tb.Fatal(err)
	default:
	}
}

// isolatedEnv marks a test binary run to measure one test alone.
const isolatedEnv = "TINKERBOX_TEST_ISOLATED"

// runAlone reruns the test named name in a process of its own and reports
// whether this is that process. Allocation counts are the whole process's,
// and other tests' goroutines (a stream ending, a state poller) would count.
func runAlone(t *testing.T, name string) bool {
	t.Helper()
	if os.Getenv(isolatedEnv) != "" {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), isolatedEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("measured alone: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("measured alone, it did not run:\n%s", out)
	}
	t.Logf("measured alone:\n%s", out)
	return false
}

// TestSpycamFanOutAllocs: in the steady state a frame costs the camera
// owner and the stream nothing on the heap, whatever the number of viewers
// (it was 9 allocations per viewer per frame: a context, a goroutine and a
// timer for each wait; and per frame a channel and the frame's copy, now
// made into memory the owner reuses once the viewers gave it back).
func TestSpycamFanOutAllocs(t *testing.T) {
	if !runAlone(t, "TestSpycamFanOutAllocs") {
		return
	}
	frame := benchFrame(t)
	const n = 10
	fo := newFanOut(t, n)
	for range 3 {
		fo.send(t, n, frame) // buffers and wake channels are made once
	}
	// AllocsPerRun runs on one P: the viewers' goroutines take turns.
	allocs := testing.AllocsPerRun(100, func() { fo.send(t, n, frame) })
	t.Logf("%.2f allocations per frame to %d viewers", allocs, n)
	// Not 0: the runtime itself (a timer, a trace buffer) may allocate now
	// and then; 100 frames to 10 viewers at the old rate would be 9000.
	if allocs > 0.5 {
		t.Fatalf("%.2f allocations per frame to %d viewers, want 0", allocs, n)
	}
}

// recorder is a ResponseWriter that can flush but not be hijacked, like
// HTTP/2's; safe to read while the handler writes.
type recorder struct {
	mu     sync.Mutex
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	r.mu.Lock()
	r.code = code
	r.mu.Unlock()
}
func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.body.Write(b)
}
func (r *recorder) Flush() {}
func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.body.Bytes())
}

// TestSpycamStreamNoHijack: where the connection cannot be taken over
// (HTTP/2, TLS, a recorder), parts go through the ResponseWriter, the same
// bytes.
func TestSpycamStreamNoHijack(t *testing.T) {
	cam := newPushCam()
	f := newSpyFixture(t, cam, nil, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{header: http.Header{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.h.ServeHTTP(rec, basic(req("GET", "/stream.mjpg", "")).WithContext(ctx))
	}()
	jpg := spyJPEG(t, 64, 48, 7)
	cam.push(jpg, testStart) // the stream's first Next takes it whenever it asks
	var body []byte
	waitFor(t, "the part", func() bool { body = rec.bytes(); return bytes.Contains(body, jpg) })
	cancel()
	<-done
	pr := &partReader{br: bufio.NewReader(bytes.NewReader(body))}
	p, err := pr.next()
	if err != nil || !bytes.Equal(p.body, jpg) || p.header.Get("X-Frame") == "" {
		t.Fatalf("part: %v %v", p.header, err)
	}
	if rec.code != http.StatusOK || rec.header.Get("Content-Type") != "multipart/x-mixed-replace; boundary="+mjpegBoundary {
		t.Fatalf("response %d %v", rec.code, rec.header)
	}
}

// TestSpycamStreamTLS: over TLS the stream is written through net/http too.
func TestSpycamStreamTLS(t *testing.T) {
	cam := newPushCam()
	f := newFixture(t, func(o *Options) { o.Camera = cam })
	f.srv.mountSpycam(nil, time.Second)
	ts := httptest.NewTLSServer(f.h)
	defer ts.Close()
	defer f.srv.EndStreams()
	r, _ := http.NewRequest("GET", ts.URL+"/stream.mjpg", nil)
	r.SetBasicAuth("admin", testPassword)
	res, err := ts.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	pr := &partReader{br: bufio.NewReader(res.Body)}
	for i := range 2 {
		jpg := spyJPEG(t, 64, 48, uint8(60*i))
		seq := cam.push(jpg, testStart)
		p, err := pr.next()
		if err != nil || !bytes.Equal(p.body, jpg) || p.header.Get("X-Frame") != strconv.FormatUint(seq, 10) {
			t.Fatalf("part %d over TLS: %v %v", i, p.header, err)
		}
	}
}

// TestSpycamViewerLeaves: a viewer that closes its connection while the
// camera is silent is let go at once, not at the next frame: the stream
// watches the connection it took over from net/http.
func TestSpycamViewerLeaves(t *testing.T) {
	cam := newPushCam()
	f := newSpyFixture(t, cam, nil, time.Second)
	conn, err := net.Dial("tcp", f.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /stream.mjpg HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n\r\n", basicToken("admin", testPassword))
	br := bufio.NewReader(conn)
	if status, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("status %q %v", status, err)
	}
	waitFor(t, "the viewer to be counted", func() bool { return f.web.viewers.Load() == 1 })
	conn.Close()
	waitFor(t, "the viewer to be let go", func() bool { return f.web.viewers.Load() == 0 })
}

// waitFor polls cond until it holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition of another goroutine, with a deadline
	}
}
