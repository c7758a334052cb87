package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServeOpts are the limits the web server holds against slow and greedy
// clients. DefaultServeOpts is what ships; tests shorten the timeouts.
type ServeOpts struct {
	// ReadHeaderTimeout bounds the arrival of a request's header.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the arrival of the whole request, body included.
	// Once the body is in, the read deadline is lifted, so it never cuts a
	// stream.
	ReadTimeout time.Duration
	// WriteTimeout bounds an ordinary response. Streams (the state stream,
	// the MJPEG video) push their own deadline forward before every write.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections nobody uses.
	IdleTimeout time.Duration
	// MaxConns caps all open connections: each is a file descriptor, and a
	// client that runs the process out of them takes the server down.
	MaxConns int
	// MaxPerAddr caps the connections of one client address.
	MaxPerAddr int
	// MaxPendingPerAddr caps one address's connections that are not being
	// served: accepted with no complete request yet, trickling a body, or
	// idle. Slow-header and slow-body clients are all pending; over the cap
	// the address's oldest pending connection is closed to make room.
	MaxPendingPerAddr int
	// PendingGrace is how long a connection may be pending before it counts
	// against MaxPendingPerAddr: a burst of honest connections is still
	// reading its headers; a slow client is slow for longer.
	PendingGrace time.Duration
	// AcceptWait is how long a new connection waits for a slot when every
	// one is busy serving, before it is answered 503 and closed.
	AcceptWait time.Duration
	// Now is the clock of PendingGrace; nil is time.Now. Connection ages are
	// wall-clock like socket deadlines; tests inject one.
	Now func() time.Time
	// Log receives the http.Server's own errors (bad TLS handshakes and the
	// like) at debug level; nil discards them.
	Log *slog.Logger
}

// DefaultServeOpts returns the shipped limits. MaxConns follows the process's
// descriptor limit, leaving half of it to the database, captures and camera.
func DefaultServeOpts() *ServeOpts { return serveOptsFor(fdLimit()) }

// serveOptsFor is DefaultServeOpts for a process allowed fds descriptors.
func serveOptsFor(fds int) *ServeOpts {
	maxConns := min(1024, max(32, fds/2))
	return &ServeOpts{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // bodies are a few KB at most
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxConns:          maxConns,
		MaxPerAddr:        maxConns * 3 / 4, // one address never takes every slot
		MaxPendingPerAddr: 16,               // a browser opens at most 6 per host
		PendingGrace:      2 * time.Second,  // a TLS handshake on a busy Pi Zero
		AcceptWait:        time.Second,
	}
}

// NewHTTPServer returns the http.Server the appliance ships with, serving h
// with o's limits (nil: DefaultServeOpts), and the listener to serve: wrap
// must be applied to the raw TCP listener, under any TLS layer, so that the
// connection cap sees every connection before its handshake:
//
//	hs, wrap := web.NewHTTPServer(srv.Handler(), nil)
//	hs.Serve(tls.NewListener(wrap(tcp), cfg))
func NewHTTPServer(h http.Handler, o *ServeOpts) (hs *http.Server, wrap func(net.Listener) net.Listener) {
	if o == nil {
		o = DefaultServeOpts()
	}
	l := newConnLimiter(o)
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var protos http.Protocols
	protos.SetHTTP1(true) // the phase accounting is per connection: no HTTP/2 multiplexing
	hs = &http.Server{
		Handler:           l.track(h),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		Protocols:         &protos,
		ConnState:         l.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc := unwrapConn(c); lc != nil {
				return context.WithValue(ctx, limitConnKey{}, lc)
			}
			return ctx
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return hs, l.wrap
}

// connLimiter accounts for every connection of one server.
type connLimiter struct {
	o       ServeOpts
	mu      sync.Mutex
	conns   map[*limitConn]struct{}
	addrs   map[string]*addrCount
	seq     uint64        // orders pending connections: the oldest goes first
	changed chan struct{} // closed and replaced when a slot may have freed
	// Counters, for tests.
	admitted, evicted, refused uint64 // evicted: closed to make room; refused: answered 503
	peak                       int    // most connections open at once
}

type addrCount struct{ all, pending int }

type limitConn struct {
	net.Conn
	l       *connLimiter
	addr    string
	pending bool      // not being served (guarded by l.mu)
	since   uint64    // l.seq when it became pending
	at      time.Time // and when
	gone    bool      // released from the tables
}

type limitConnKey struct{}

func newConnLimiter(o *ServeOpts) *connLimiter {
	l := &connLimiter{o: *o, conns: map[*limitConn]struct{}{}, addrs: map[string]*addrCount{}, changed: make(chan struct{})}
	if l.o.Now == nil {
		l.o.Now = time.Now
	}
	if l.o.MaxConns <= 0 {
		l.o.MaxConns = 1024
	}
	if l.o.MaxPerAddr <= 0 || l.o.MaxPerAddr > l.o.MaxConns {
		l.o.MaxPerAddr = l.o.MaxConns
	}
	if l.o.MaxPendingPerAddr <= 0 || l.o.MaxPendingPerAddr > l.o.MaxPerAddr {
		l.o.MaxPendingPerAddr = l.o.MaxPerAddr
	}
	return l
}

func (l *connLimiter) wrap(ln net.Listener) net.Listener { return &limitListener{Listener: ln, l: l} }

type limitListener struct {
	net.Listener
	l *connLimiter
}

// Accept admits the next connection, closing the oldest pending ones that
// are over a cap; connections that cannot be admitted are refused with a 503
// and Accept goes on to the next.
func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := ll.l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func (l *connLimiter) admit(c net.Conn) *limitConn {
	addr := hostOf(c.RemoteAddr())
	var victims []*limitConn
	defer func() {
		for _, v := range victims {
			v.Conn.Close() // outside the lock: Close may block briefly
		}
	}()
	var timer *time.Timer
	waited := false
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		a := l.addrs[addr]
		if a == nil {
			a = &addrCount{}
		}
		// Over the address's caps: make room among its own pending
		// connections, never anyone else's.
		if a.pending >= l.o.MaxPendingPerAddr {
			if v := l.oldestPending(addr, l.o.Now().Add(-l.o.PendingGrace)); v != nil {
				victims = append(victims, l.evictLocked(v))
				continue
			}
		}
		if a.all >= l.o.MaxPerAddr {
			if v := l.oldestPending(addr, time.Time{}); v != nil {
				victims = append(victims, l.evictLocked(v))
				continue
			}
			l.refuseLocked(c)
			return nil
		}
		if len(l.conns) < l.o.MaxConns {
			break
		}
		// Out of descriptors: the oldest pending connection goes, however
		// young.
		if v := l.oldestPending("", time.Time{}); v != nil {
			victims = append(victims, l.evictLocked(v))
			continue
		}
		// Every slot is serving: wait a little for one to finish or fall idle.
		if waited {
			l.refuseLocked(c)
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(l.o.AcceptWait)
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			waited = true
		}
		l.mu.Lock()
	}
	lc := &limitConn{Conn: c, l: l, addr: addr}
	l.conns[lc] = struct{}{}
	a := l.addrs[addr]
	if a == nil {
		a = &addrCount{}
		l.addrs[addr] = a
	}
	a.all++
	l.admitted++
	l.peak = max(l.peak, len(l.conns))
	l.setPendingLocked(lc, true)
	return lc
}

// oldestPending is the longest-pending connection of addr ("" for any) that
// became pending before cutoff (zero: any). A linear scan: there are at most
// MaxConns.
func (l *connLimiter) oldestPending(addr string, cutoff time.Time) *limitConn {
	var best *limitConn
	for c := range l.conns {
		if c.pending && (addr == "" || c.addr == addr) && (cutoff.IsZero() || c.at.Before(cutoff)) &&
			(best == nil || c.since < best.since) {
			best = c
		}
	}
	return best
}

func (l *connLimiter) evictLocked(c *limitConn) *limitConn {
	l.releaseLocked(c)
	l.evicted++
	return c
}

// busy is the answer to a connection that finds every slot serving; the
// write cannot block on an empty socket, and a deadline makes sure.
const busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 1\r\nConnection: close\r\nContent-Length: 20\r\n\r\nserver busy, retry\r\n"

func (l *connLimiter) refuseLocked(c net.Conn) {
	l.refused++
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	io.WriteString(c, busy)
	c.Close()
}

func (l *connLimiter) releaseLocked(c *limitConn) {
	if c.gone {
		return
	}
	c.gone = true
	l.setPendingLocked(c, false)
	delete(l.conns, c)
	if a := l.addrs[c.addr]; a != nil {
		if a.all--; a.all <= 0 {
			delete(l.addrs, c.addr)
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *connLimiter) setPendingLocked(c *limitConn, pending bool) {
	if c.gone && pending {
		return
	}
	if pending {
		l.seq++
		c.since, c.at = l.seq, l.o.Now()
	}
	if c.pending == pending {
		return
	}
	c.pending = pending
	if a := l.addrs[c.addr]; a != nil {
		if pending {
			a.pending++
		} else {
			a.pending--
		}
	}
	if pending {
		close(l.changed) // a waiting Accept may evict it now
		l.changed = make(chan struct{})
	}
}

func (l *connLimiter) setPending(c *limitConn, pending bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setPendingLocked(c, pending)
}

func (c *limitConn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite passes the server's half-close through: it sends its last
// response before closing, and without it a client still sending a body
// would get a reset that loses that response.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the TCP connection's sendfile path for files.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// unwrapConn finds the limitConn under a TLS layer.
func unwrapConn(c net.Conn) *limitConn {
	for c != nil {
		if lc, ok := c.(*limitConn); ok {
			return lc
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

// connState follows the server's view: a connection whose request header is
// in is being served (track refines that for bodies); idle ones are pending.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	lc := unwrapConn(c)
	if lc == nil {
		return
	}
	switch st {
	case http.StateActive:
		l.setPending(lc, false)
	case http.StateIdle:
		l.setPending(lc, true)
	case http.StateClosed:
		l.mu.Lock()
		l.releaseLocked(lc)
		l.mu.Unlock()
	}
}

// track marks a request whose body is still arriving as pending (until the
// handler calls bodyServed), and lifts the read deadline once the request is
// all in: ReadTimeout is for slow clients, and left in place it would cancel
// a long stream's context.
func (l *connLimiter) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc, _ := r.Context().Value(limitConnKey{}).(*limitConn)
		if lc == nil {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			l.setPending(lc, true)
			r.Body = &watchedBody{ReadCloser: r.Body, done: func() {
				l.setPending(lc, false)
				rc.SetReadDeadline(time.Time{})
			}}
		} else {
			rc.SetReadDeadline(time.Time{})
		}
		// Finished, idle or lingering before close: free to evict.
		defer l.setPending(lc, true)
		h.ServeHTTP(w, r)
	})
}

// bodyServed tells the limiter that the handler of r reads a long request
// body under a stall deadline of its own (a firmware bundle: POST
// /api/update): its connection is being served, however long the body takes,
// and is never evicted to make room for others. Only a handler behind
// authentication that holds such a deadline may call it: a slow stranger
// must stay pending.
func bodyServed(r *http.Request) {
	if lc, _ := r.Context().Value(limitConnKey{}).(*limitConn); lc != nil {
		lc.l.setPending(lc, false)
	}
}

// watchedBody calls done once, when the body has been read to its end.
type watchedBody struct {
	io.ReadCloser
	done func()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && b.done != nil {
		b.done()
		b.done = nil
	}
	return n, err
}

// limitStats are the limiter's counters, for tests.
type limitStats struct {
	open, pending, peak        int
	admitted, evicted, refused uint64
}

func (l *connLimiter) statsLocked() limitStats {
	st := limitStats{open: len(l.conns), peak: l.peak, admitted: l.admitted, evicted: l.evicted, refused: l.refused}
	for _, a := range l.addrs {
		st.pending += a.pending
	}
	return st
}

// waitUntil waits, for at most d, until cond holds for the counters; it wakes
// on every change rather than polling.
func (l *connLimiter) waitUntil(d time.Duration, cond func(limitStats) bool) (limitStats, bool) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		st, ch := l.statsLocked(), l.changed
		l.mu.Unlock()
		if cond(st) {
			return st, true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return st, false
		}
	}
}
