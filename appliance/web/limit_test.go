package web

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeOptsFollowTheDescriptorLimit(t *testing.T) {
	for fds, want := range map[int]int{64: 32, 256: 128, 1024: 512, 1 << 20: 1024} {
		o := serveOptsFor(fds)
		if o.MaxConns != want || o.MaxPerAddr >= o.MaxConns || o.MaxPendingPerAddr > o.MaxPerAddr {
			t.Errorf("%d descriptors: %+v, want MaxConns %d and smaller per-address caps", fds, o, want)
		}
	}
	o := DefaultServeOpts()
	if o.ReadHeaderTimeout <= 0 || o.ReadTimeout < o.ReadHeaderTimeout || o.WriteTimeout <= 0 || o.IdleTimeout <= 0 {
		t.Errorf("timeouts %+v: all must be set", o)
	}
	hs, _ := NewHTTPServer(http.NotFoundHandler(), nil)
	if hs.ReadTimeout != o.ReadTimeout || hs.WriteTimeout != o.WriteTimeout || hs.IdleTimeout != o.IdleTimeout ||
		hs.ReadHeaderTimeout != o.ReadHeaderTimeout || hs.ConnState == nil {
		t.Errorf("NewHTTPServer(nil) does not use DefaultServeOpts: %+v", hs)
	}
}

// TestLimitRefusesWhenEverySlotServes: with every slot holding a stream, a
// new connection waits AcceptWait and is answered 503; once a stream ends,
// the next one is served.
func TestLimitRefusesWhenEverySlotServes(t *testing.T) {
	l := startLive(t, func(*fixture) *ServeOpts {
		o := DefaultServeOpts()
		o.MaxConns, o.AcceptWait = 2, 50*time.Millisecond
		return o
	})
	var streams []io.Closer
	for range 2 {
		r, _ := http.NewRequest("GET", l.base+"/api/state/stream", nil)
		r.SetBasicAuth("admin", testPassword)
		res, err := client(nil).Do(r)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("stream: %v %v", res, err)
		}
		bufio.NewReader(res.Body).ReadString('\n') // the stream is being served
		streams = append(streams, res.Body)
	}
	res, err := client(nil).Get(l.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "busy") {
		t.Fatalf("third connection = %d %q, want 503", res.StatusCode, body)
	}
	streams[0].Close()
	if st, ok := l.lim.waitUntil(5*time.Second, func(s limitStats) bool { return s.open < 2 }); !ok {
		t.Fatalf("the closed stream still holds its slot: %+v", st)
	}
	res, err = client(nil).Get(l.base + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("after a stream ended: %v %v", res, err)
	}
	res.Body.Close()
	streams[1].Close()
}

// TestLimitUnderTLS: the cap wraps the TCP listener under TLS; the server
// still sees TLS (Secure cookies) and the limiter still follows the
// connection.
func TestLimitUnderTLS(t *testing.T) {
	f := newFixture(t)
	cert, err := SelfSignedCert(t.TempDir(), "tinkerbox")
	if err != nil {
		t.Fatal(err)
	}
	hs, wrap := NewHTTPServer(f.h, nil)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := wrap(raw)
	go hs.Serve(tls.NewListener(ll, &tls.Config{Certificates: []tls.Certificate{cert}}))
	t.Cleanup(func() { hs.Close() })
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := c.Get("https://" + raw.Addr().String() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	// Read to the end: a body closed early closes the connection, and the
	// check below then races the server noticing.
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(res.Cookies()) == 0 || !res.Cookies()[0].Secure {
		t.Fatalf("GET /login over TLS = %d, cookies %v; want a Secure cookie", res.StatusCode, res.Cookies())
	}
	lim := ll.(*limitListener).l
	// The keep-alive connection is idle now: tracked, and pending.
	if st, ok := lim.waitUntil(5*time.Second, func(s limitStats) bool { return s.open == 1 && s.pending == 1 }); !ok {
		t.Fatalf("limiter under TLS: %+v, want 1 open idle connection", st)
	}
}
