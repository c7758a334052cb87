package web

// The reliability suite: the shipping http.Server (NewHTTPServer) on a real
// 127.0.0.1 listener, under slow, cross-site and concurrent clients. Every
// wait is on an event with a deadline; the only wall-clock waits are the ones
// that let a socket deadline pass, and they are a few hundred milliseconds.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tinkerbox/scenes/scene"
)

// live is a fixture served by the shipping http.Server.
type live struct {
	*fixture
	base string // http://127.0.0.1:port
	host string // 127.0.0.1:port
	opts *ServeOpts
	lim  *connLimiter
}

// startLive serves a fixture with the options opts returns (given the
// fixture, so they can use its clock).
func startLive(t *testing.T, opts func(*fixture) *ServeOpts, edit ...func(*Options)) *live {
	t.Helper()
	f := newFixture(t, edit...)
	o := opts(f)
	hs, wrap := NewHTTPServer(f.h, o)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := wrap(raw)
	go hs.Serve(ln)
	t.Cleanup(func() {
		f.srv.EndStreams()
		hs.Close()
	})
	return &live{fixture: f, base: "http://" + raw.Addr().String(), host: raw.Addr().String(), opts: o, lim: ln.(*limitListener).l}
}

// client makes one fresh connection per request (from local, if set), so
// every request goes through the listener's admission.
func client(local net.IP) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	return &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (l *live) get(t *testing.T, c *http.Client, path string) (*http.Response, time.Duration) {
	t.Helper()
	r, _ := http.NewRequest("GET", l.base+path, nil)
	r.SetBasicAuth("admin", testPassword)
	start := time.Now()
	res, err := c.Do(r)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, time.Since(start)
}

// attack opens n connections from local (nil: 127.0.0.1) that send head and
// then nothing; closed counts the ones the server has closed. It returns once
// every connection is open and has sent its head.
func attack(t *testing.T, host string, local net.IP, n int, head func(i int) string, closed *atomic.Int64) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, err := d.Dial("tcp", host)
			if err != nil {
				errs <- err
				return
			}
			t.Cleanup(func() { c.Close() })
			if _, err := io.WriteString(c, head(i)); err != nil {
				closed.Add(1) // already evicted
				return
			}
			go func() {
				io.Copy(io.Discard, c) // until the server closes it
				closed.Add(1)
			}()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("attacker dial: %v", err)
	}
}

func slowBody(host string) func(int) string {
	return func(i int) string {
		if i%2 == 0 {
			return "POST /login HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
				"Content-Length: 4000\r\n\r\npassword="
		}
		return "POST /api/scene HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" +
			"Content-Length: 4000\r\n\r\n{\"name\":"
	}
}

func slowHeader(host string) func(int) string {
	return func(int) string { return "GET /api/state HTTP/1.1\r\nHost: " + host + "\r\nX-Slow: " }
}

// TestReliabilitySlowClients: 300 slow-body and 100 slow-header clients from
// the normal client's own address hold every connection they can; the normal
// client still gets its answer in under a second.
func TestReliabilitySlowClients(t *testing.T) {
	l := startLive(t, func(f *fixture) *ServeOpts {
		o := DefaultServeOpts() // what ships, with the grace on the test's clock
		o.Now = f.clock.Now
		return o
	})
	c := client(nil)
	if res, _ := l.get(t, c, "/api/state"); res.StatusCode != http.StatusOK { // caches the password
		t.Fatalf("warm-up = %d", res.StatusCode)
	}
	var closed atomic.Int64
	attack(t, l.host, nil, 300, slowBody(l.host), &closed)
	attack(t, l.host, nil, 100, slowHeader(l.host), &closed)
	// Every attacker is in: the 150 unauthenticated API posts answered 401
	// and closed, the 150 login posts trickling their body, the 100 headers
	// unfinished.
	if st, ok := l.lim.waitUntil(5*time.Second, func(s limitStats) bool {
		return s.admitted >= 401 && s.open == 250 && s.pending == 250
	}); !ok {
		t.Fatalf("the attack did not settle: %+v", st)
	}
	// The attack is older than the grace an honest burst gets.
	l.clock.Advance(l.opts.PendingGrace + time.Second)

	var worst time.Duration
	for range 5 {
		res, took := l.get(t, c, "/api/state")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("normal client under attack = %d", res.StatusCode)
		}
		worst = max(worst, took)
	}
	if worst >= time.Second {
		t.Fatalf("normal client took %v under 400 slow clients, want < 1 s", worst)
	}
	// An unauthenticated slow body is answered and closed at once, not
	// drained for ReadTimeout, and the answer is not lost to a reset.
	sc, err := net.Dial("tcp", l.host)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	io.WriteString(sc, slowBody(l.host)(1))
	start := time.Now()
	sc.SetReadDeadline(start.Add(5 * time.Second))
	answer, err := io.ReadAll(sc)
	if err != nil || !strings.HasPrefix(string(answer), "HTTP/1.1 401") || time.Since(start) >= l.opts.ReadTimeout/2 {
		t.Errorf("slow unauthenticated body: %q, %v after %v; want a 401 and the close at once", answer, err, time.Since(start))
	}
	// All but a pending cap's worth of attackers were closed: the 401s at
	// once, the rest to make room.
	want := int64(400 - l.opts.MaxPendingPerAddr)
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() < want && time.Now().Before(deadline) {
		l.lim.waitUntil(time.Until(deadline), func(limitStats) bool { return closed.Load() >= want })
	}
	st, _ := l.lim.waitUntil(0, func(limitStats) bool { return true })
	if closed.Load() < want {
		t.Errorf("%d of 400 attackers closed, want >= %d (%+v)", closed.Load(), want, st)
	}
	if st.evicted == 0 || st.peak > l.opts.MaxConns {
		t.Errorf("limiter %+v: want evictions and at most %d open", st, l.opts.MaxConns)
	}
	t.Logf("normal client, 5 requests under 300 slow-body + 100 slow-header clients: worst %v; limiter %+v", worst, st)
}

// TestReliabilityDescriptorBudget: on a process allowed 256 descriptors
// (MaxConns 128, 96 per address), 400 slow clients from two other addresses
// cannot take the slots the normal client needs, young as they are, and
// never hold more than the budget.
func TestReliabilityDescriptorBudget(t *testing.T) {
	l := startLive(t, func(*fixture) *ServeOpts { return serveOptsFor(256) })
	if l.opts.MaxConns != 128 {
		t.Fatalf("MaxConns for 256 descriptors = %d, want 128", l.opts.MaxConns)
	}
	attackers := []net.IP{net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3)}
	for _, ip := range attackers {
		if c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}).Dial("tcp", l.host); err != nil {
			t.Skipf("cannot dial from %v: %v", ip, err)
		} else {
			c.Close()
		}
	}
	var closed atomic.Int64
	for _, ip := range attackers {
		attack(t, l.host, ip, 150, slowBody(l.host), &closed)
		attack(t, l.host, ip, 50, slowHeader(l.host), &closed)
	}
	if st, ok := l.lim.waitUntil(5*time.Second, func(s limitStats) bool { return s.admitted >= 402 }); !ok {
		t.Fatalf("the server admitted only %d of 402 connections", st.admitted)
	}
	res, took := l.get(t, client(nil), "/api/state")
	if res.StatusCode != http.StatusOK || took >= time.Second {
		t.Fatalf("normal client = %d in %v, want 200 in < 1 s", res.StatusCode, took)
	}
	st, _ := l.lim.waitUntil(0, func(limitStats) bool { return true })
	if st.peak > l.opts.MaxConns || st.evicted == 0 {
		t.Errorf("limiter %+v: want evictions and at most %d open", st, l.opts.MaxConns)
	}
	t.Logf("128-connection budget, 400 slow clients from two other addresses: normal client %v; limiter %+v", took, st)
}

// TestReliabilityTimeouts: the read timeouts close slow clients by
// themselves, and streams outlive every server-wide timeout.
func TestReliabilityTimeouts(t *testing.T) {
	const short = 300 * time.Millisecond
	cam := newPushCam()
	l := startLive(t, func(*fixture) *ServeOpts {
		o := DefaultServeOpts()
		o.ReadHeaderTimeout, o.ReadTimeout, o.WriteTimeout = short, short, short
		return o
	}, func(o *Options) {
		o.Clock = scene.SystemClock{} // the state stream polls for real
		o.Camera = cam
	})
	l.srv.MountSpycam(nil)

	t.Run("slow clients are cut", func(t *testing.T) {
		for name, head := range map[string]string{"header": slowHeader(l.host)(0), "body": slowBody(l.host)(0)} {
			c, err := net.Dial("tcp", l.host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, head)
			start := time.Now()
			c.SetReadDeadline(start.Add(5 * time.Second))
			_, err = io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("slow %s still open after 5 s", name)
			}
			t.Logf("slow %s closed after %v", name, time.Since(start).Round(time.Millisecond))
		}
	})

	t.Run("streams outlive the timeouts", func(t *testing.T) {
		r, _ := http.NewRequest("GET", l.base+"/api/state/stream", nil)
		r.SetBasicAuth("admin", testPassword)
		res, err := client(nil).Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		sse := &sseReader{t: t, sc: bufio.NewScanner(res.Body)}
		sse.sc.Buffer(make([]byte, 64<<10), 1<<20)
		if s := sse.nextState(); s.Scene != "comic" {
			t.Fatalf("first state %q", s.Scene)
		}
		m, _ := http.NewRequest("GET", l.base+"/stream.mjpg", nil)
		m.SetBasicAuth("admin", testPassword)
		cam.push(spyJPEG(t, 32, 24, 10), time.Now())
		mres, err := client(nil).Do(m)
		if err != nil {
			t.Fatal(err)
		}
		defer mres.Body.Close()
		parts := &partReader{br: bufio.NewReader(mres.Body)}
		if _, err := parts.next(); err != nil {
			t.Fatalf("first part: %v", err)
		}
		// Let every server-wide timeout pass (socket deadlines are wall-clock).
		<-time.After(4 * short)
		l.app.set(func(s *State) { s.Scene = "spycam" })
		for {
			name, data := sse.next()
			if name == "state" {
				if !strings.Contains(data, `"scene":"spycam"`) {
					t.Fatalf("state after the timeouts: %s", data)
				}
				break
			}
		}
		cam.push(spyJPEG(t, 32, 24, 20), time.Now())
		if _, err := parts.next(); err != nil {
			t.Fatalf("part after the timeouts: %v", err)
		}
	})
}

// TestReliabilityCrossOrigin: a page on another site posts forms to the
// appliance while the browser holds Basic credentials or a session cookie.
func TestReliabilityCrossOrigin(t *testing.T) {
	l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() })
	c := client(nil)
	if res, _ := l.get(t, c, "/api/state"); res.StatusCode != http.StatusOK { // cached Basic credentials
		t.Fatal(res.Status)
	}
	sess, token := l.login()
	creds := map[string]func(*http.Request){
		"basic":  func(r *http.Request) { r.SetBasicAuth("admin", testPassword) },
		"cookie": func(r *http.Request) { r.AddCookie(sess); r.Header.Set("X-CSRF-Token", token) },
	}
	origins := map[string]func(*http.Request){
		"cross-site": func(r *http.Request) {
			r.Header.Set("Origin", "http://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.Header.Set("Sec-Fetch-Mode", "navigate")
		},
		"same-site": func(r *http.Request) {
			r.Header.Set("Origin", "http://printer.lan")
			r.Header.Set("Sec-Fetch-Site", "same-site")
		},
		"old browser": func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") },
		"null origin": func(r *http.Request) { r.Header.Set("Origin", "null") },
	}
	bodies := map[string][2]string{
		"text/plain": {"text/plain", `{"name":"barometer"}`},
		"urlencoded": {"application/x-www-form-urlencoded", "name=barometer&csrf=" + token},
		"multipart":  {"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbarometer\r\n--x--\r\n"},
	}
	n := 0
	for cn, cred := range creds {
		for on, origin := range origins {
			for bn, body := range bodies {
				for _, path := range []string{"/api/scene", "/api/buttons/B", "/logout"} {
					r, _ := http.NewRequest("POST", l.base+path, strings.NewReader(body[1]))
					r.Header.Set("Content-Type", body[0])
					cred(r)
					origin(r)
					res, err := c.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					n++
					if res.StatusCode != http.StatusForbidden {
						t.Errorf("%s, %s, %s POST %s = %d, want 403", cn, on, bn, path, res.StatusCode)
					}
				}
			}
		}
	}
	// Without any browser header (curl) a form body is still not JSON.
	for cn, cred := range creds {
		r, _ := http.NewRequest("POST", l.base+"/api/scene", strings.NewReader(`{"name":"barometer"}`))
		r.Header.Set("Content-Type", "text/plain")
		cred(r)
		res, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s text/plain without Origin = %d, want 415", cn, res.StatusCode)
		}
	}
	if got := l.app.scene(); got != "comic" || len(l.app.pressLog()) != 0 {
		t.Fatalf("after %d cross-origin posts: scene %q, presses %v", n, got, l.app.pressLog())
	}
	if r := l.do(func() *http.Request { r := req("GET", "/api/state", ""); r.AddCookie(sess); return r }()); r.Code != http.StatusOK {
		t.Fatalf("the session was logged out cross-site: %d", r.Code)
	}
	// The control: the front panel's own request is accepted.
	for cn, cred := range creds {
		r, _ := http.NewRequest("POST", l.base+"/api/scene", strings.NewReader(`{"name":"barometer"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Origin", l.base)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		cred(r)
		res, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || l.app.scene() != "barometer" {
			t.Fatalf("%s same-origin JSON POST = %d, scene %q", cn, res.StatusCode, l.app.scene())
		}
		l.app.set(func(s *State) { s.Scene = "comic" })
	}
	// A cross-site login form (login CSRF) is refused too.
	r, _ := http.NewRequest("POST", l.base+"/login", strings.NewReader("password=x&csrf=y"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := c.Do(r); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login = %v %v, want 403", res.Status, err)
	}
	t.Logf("%d cross-origin posts refused, 0 state changes", n)
}

// gate holds every bcrypt run until opened, and counts them.
type gate struct {
	open  chan struct{}
	evals atomic.Int64
}

func holdBcrypt(g *guard) *gate {
	gt := &gate{open: make(chan struct{})}
	open := gt.open
	g.compare = func(hash, pw []byte) error {
		gt.evals.Add(1)
		<-open
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	return gt
}

// guessAll fires n requests at once and returns their status codes; once
// refused answers have arrived (or 5 s have passed) it lets bcrypt run.
func guessAll(t *testing.T, n, refused int, gt *gate, do func(i int) int) map[int]int {
	t.Helper()
	codes := make(chan int, n)
	for i := range n {
		go func() { codes <- do(i) }()
	}
	got := map[int]int{}
	deadline := time.After(5 * time.Second)
	opened := false
	for received := 0; received < n; {
		if got[http.StatusTooManyRequests] >= refused && !opened {
			close(gt.open)
			opened = true
		}
		select {
		case c := <-codes:
			got[c]++
			received++
		case <-deadline:
			if opened {
				t.Fatalf("requests still unanswered after bcrypt was released: %v", got)
			}
			close(gt.open) // the lockout did not refuse in time: let it finish, and fail below
			opened = true
			deadline = time.After(5 * time.Second)
		}
	}
	return got
}

// TestReliabilityConcurrentGuesses: 50 simultaneous wrong Basic requests and
// 30 simultaneous wrong form logins from one address: at most maxFailures
// reach bcrypt, and the address is then locked, right password or not.
func TestReliabilityConcurrentGuesses(t *testing.T) {
	t.Run("basic", func(t *testing.T) {
		l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() })
		gt := holdBcrypt(l.srv.guard)
		c := client(nil)
		got := guessAll(t, 50, 50-maxFailures, gt, func(i int) int {
			r, _ := http.NewRequest("GET", l.base+"/api/state", nil)
			r.SetBasicAuth("admin", fmt.Sprintf("guess-%d", i))
			res, err := c.Do(r)
			if err != nil {
				return -1
			}
			res.Body.Close()
			return res.StatusCode
		})
		if n := gt.evals.Load(); n > maxFailures || got[http.StatusOK] != 0 || got[http.StatusUnauthorized] > maxFailures {
			t.Fatalf("50 concurrent wrong Basic: %d bcrypt runs, answers %v; want <= %d runs, the rest 429", n, got, maxFailures)
		}
		if res, _ := l.get(t, c, "/api/state"); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password after the guesses = %d, want 429", res.StatusCode)
		}
		t.Logf("50 concurrent wrong Basic: %d bcrypt runs, answers %v", gt.evals.Load(), got)
	})
	t.Run("form", func(t *testing.T) {
		l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() })
		gt := holdBcrypt(l.srv.guard)
		c := client(nil)
		res, err := c.Get(l.base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfField.FindSubmatch(body)
		var cookie *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == loginCSRFCookie {
				cookie = ck
			}
		}
		if m == nil || cookie == nil {
			t.Fatal("no login CSRF token")
		}
		post := func(pw string) int {
			form := url.Values{"csrf": {string(m[1])}, "password": {pw}, "next": {"/"}}
			r, _ := http.NewRequest("POST", l.base+"/login", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(cookie)
			res, err := c.Do(r)
			if err != nil {
				return -1
			}
			res.Body.Close()
			return res.StatusCode
		}
		got := guessAll(t, 30, 30-maxFailures, gt, func(i int) int { return post(fmt.Sprintf("guess-%d", i)) })
		if n := gt.evals.Load(); n > maxFailures || got[http.StatusSeeOther] != 0 || got[http.StatusUnauthorized] > maxFailures {
			t.Fatalf("30 concurrent wrong logins: %d bcrypt runs, answers %v; want <= %d runs, the rest 429", n, got, maxFailures)
		}
		if code := post(testPassword); code != http.StatusTooManyRequests {
			t.Fatalf("right password after the guesses = %d, want 429", code)
		}
		t.Logf("30 concurrent wrong form logins: %d bcrypt runs, answers %v", gt.evals.Load(), got)
	})
}

// coldHash is the admin password at the shipped bcrypt cost.
func coldHash(t *testing.T) func(*Options) {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.PasswordHash = h }
}

// TestReliabilityColdStampede: right after a restart (nothing cached), 100
// concurrent correct Basic requests cost one bcrypt run, and 200 state
// streams plus 200 API calls are all served.
func TestReliabilityColdStampede(t *testing.T) {
	t.Run("100 basic", func(t *testing.T) {
		l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() }, coldHash(t))
		c := client(nil)
		start := time.Now()
		var wg sync.WaitGroup
		var bad atomic.Int64
		for range 100 {
			wg.Go(func() {
				r, _ := http.NewRequest("GET", l.base+"/api/state", nil)
				r.SetBasicAuth("admin", testPassword)
				res, err := c.Do(r)
				if err != nil || res.StatusCode != http.StatusOK {
					bad.Add(1)
					return
				}
				res.Body.Close()
			})
		}
		wg.Wait()
		took := time.Since(start)
		if n := l.srv.guard.evals.Load(); n != 1 || bad.Load() != 0 {
			t.Fatalf("100 cold Basic requests: %d bcrypt runs, %d failed; want 1 and 0", n, bad.Load())
		}
		t.Logf("100 concurrent correct Basic on a cold server (cost %d): %v, 1 bcrypt run", bcrypt.DefaultCost, took)
	})
	t.Run("200 streams 200 calls", func(t *testing.T) {
		l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() }, coldHash(t))
		start := time.Now()
		var wg sync.WaitGroup
		var bad atomic.Int64
		var errOnce sync.Once
		var firstErr error
		fail := func(err error) {
			bad.Add(1)
			errOnce.Do(func() { firstErr = err })
		}
		streams := make(chan io.Closer, 200)
		for range 200 {
			wg.Go(func() {
				r, _ := http.NewRequest("GET", l.base+"/api/state/stream", nil)
				r.SetBasicAuth("admin", testPassword)
				res, err := client(nil).Do(r)
				if err != nil {
					fail(err)
					return
				}
				streams <- res.Body
				if res.StatusCode != http.StatusOK {
					fail(errors.New(res.Status))
					return
				}
				sc := bufio.NewScanner(res.Body)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "event: state") {
						return
					}
				}
				fail(fmt.Errorf("stream ended: %v", sc.Err()))
			})
		}
		c := client(nil)
		for range 200 {
			wg.Go(func() {
				r, _ := http.NewRequest("GET", l.base+"/api/state", nil)
				r.SetBasicAuth("admin", testPassword)
				res, err := c.Do(r)
				if err != nil {
					fail(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					fail(errors.New(res.Status))
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		close(streams)
		for s := range streams {
			s.Close()
		}
		if n := l.srv.guard.evals.Load(); n != 1 || bad.Load() != 0 {
			t.Fatalf("cold 200 streams + 200 calls: %d bcrypt runs, %d failed (first: %v); want 1 and 0", n, bad.Load(), firstErr)
		}
		t.Logf("cold server, 200 SSE + 200 API clients: all served in %v, 1 bcrypt run", took)
	})
}

// TestReliabilityOpenRedirect: whatever next says, the login lands on this
// site.
func TestReliabilityOpenRedirect(t *testing.T) {
	l := startLive(t, func(*fixture) *ServeOpts { return DefaultServeOpts() })
	c := client(nil)
	for _, next := range []string{
		"/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "//evil.example", "/%5Cevil.example",
		"/\\/evil.example", "https://evil.example/", "%2F%2Fevil.example", "/%20/evil.example", "/%E2%80%83/evil.example",
		"javascript:alert(1)", "/%00/evil.example", "/.%09/evil.example",
	} {
		res, err := c.Get(l.base + "/login?next=" + next)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfField.FindSubmatch(body)
		var cookie *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == loginCSRFCookie {
				cookie = ck
			}
		}
		if m == nil || cookie == nil {
			t.Fatalf("login page for next=%s has no CSRF token", next)
		}
		if !strings.Contains(string(body), `name="next" value="/">`) {
			t.Errorf("login page for next=%s carries another next", next)
		}
		raw, _ := url.QueryUnescape(next)
		form := url.Values{"csrf": {string(m[1])}, "password": {testPassword}, "next": {raw}}
		r, _ := http.NewRequest("POST", l.base+"/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		res, err = c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc := res.Header.Get("Location")
		u, err := url.Parse("http://device/")
		if err != nil {
			t.Fatal(err)
		}
		dest, err := u.Parse(loc)
		if res.StatusCode != http.StatusSeeOther || err != nil || dest.Host != "device" || strings.ContainsAny(loc, "\t\r\n\\ ") {
			t.Errorf("next=%s: %d to %q, want a redirect on this site", next, res.StatusCode, loc)
		}
	}
	// A genuine page survives.
	if got := safeNext("/spycam?x=1"); got != "/spycam?x=1" {
		t.Errorf("safeNext(/spycam?x=1) = %q", got)
	}
}
