package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"tinkerbox/scenes/scene"
)

// MJPEG stream settings.
const (
	mjpegBoundary = "tinkerboxframe"
	// streamWriteTimeout bounds the writing of one part: a viewer that stops
	// reading is dropped after this, without delaying anyone else.
	streamWriteTimeout = 5 * time.Second
	// streamFrameWait is how often the camera is asked for a frame while
	// anyone watches: asking keeps the on-demand camera running while it
	// restarts.
	streamFrameWait = 5 * time.Second
	// viewerSays caps what a viewer may send once its stream runs: it has
	// nothing to say, and reading more would be work for nobody.
	viewerSays = 64 << 10
)

// partHead is what every part starts with, up to its length.
const partHead = "--" + mjpegBoundary + "\r\nContent-Type: image/jpeg\r\nContent-Length: "

var crlf = []byte("\r\n")

// FrameHolder is a camera whose frames can be given back: Hold is Next, and
// the JPEG stays the caller's until Release, after which the camera may
// reuse its memory for a later frame. The stream holds each frame for the
// length of one write when the camera can (the appliance's can), so that
// frames cost the camera no allocation either.
type FrameHolder interface {
	Hold(ctx context.Context, after uint64) (scene.Frame, error)
	Release(f scene.Frame)
}

// stream serves multipart/x-mixed-replace JPEGs. Every viewer has its own
// goroutine waiting on the camera's single latest-frame slot: a slow viewer
// skips frames, and a stalled one hits its write deadline and is dropped;
// nothing queues and nobody waits for anybody else. Each part carries the
// frame's capture time (X-Timestamp, unix ns) and number (X-Frame).
//
// A frame costs a viewer no allocation and, on a plain TCP connection, one
// writev: the part header is rebuilt in the viewer's own buffer and the JPEG
// is the camera's, shared by every viewer.
func (v *spycamWeb) stream(w http.ResponseWriter, r *http.Request) {
	if v.s.camera == nil {
		writeError(w, http.StatusServiceUnavailable, "no camera")
		return
	}
	select {
	case <-v.s.done:
		writeError(w, http.StatusServiceUnavailable, "shutting down")
		return
	default:
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-v.s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	v.join()
	defer v.viewers.Add(-1)

	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace; boundary="+mjpegBoundary)
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Connection", "close") // a finished stream is not worth keeping alive
	// Delimited by the connection's end rather than chunked: parts go out
	// as they are, with no framing around them.
	h.Set("Transfer-Encoding", "identity")
	w.WriteHeader(http.StatusOK)
	pw, err := newPartWriter(w, r, v.writeTimeout, cancel)
	if err != nil {
		v.s.log.Debug("web: stream: viewer dropped", "addr", clientAddr(r), "err", err)
		return
	}
	defer pw.close()
	holder, _ := v.s.camera.(FrameHolder)
	var last uint64
	for {
		var f scene.Frame
		if holder != nil {
			f, err = holder.Hold(ctx, last)
		} else {
			f, err = v.s.camera.Next(ctx, last)
		}
		if err != nil {
			if ctx.Err() == nil {
				v.s.log.Info("web: stream: camera", "err", err)
			}
			return
		}
		last = f.Seq
		if len(f.JPEG) == 0 {
			if holder != nil {
				holder.Release(f)
			}
			continue
		}
		// Counted before the viewer can see it, so a viewer that has the
		// part always finds it counted.
		v.parts.Add(1)
		err = pw.write(f) // the bytes are in the socket (or TLS) buffer when it returns
		if holder != nil {
			holder.Release(f)
		}
		if err != nil {
			v.s.log.Debug("web: stream: viewer dropped", "addr", clientAddr(r), "err", err)
			return
		}
	}
}

// join counts a viewer and makes sure keepAwake runs.
func (v *spycamWeb) join() {
	v.viewers.Add(1)
	v.awakeMu.Lock()
	defer v.awakeMu.Unlock()
	if !v.awake {
		v.awake = true
		go v.keepAwake()
	}
}

// keepAwake asks the camera for a frame every streamFrameWait of the
// injected clock while anyone watches. The viewers wait in Next for as long
// as it takes; an on-demand camera pauses when nobody has asked for a while,
// and it counts this asking, which never waits (its context is done).
func (v *spycamWeb) keepAwake() {
	for {
		select {
		case <-v.s.clock.After(streamFrameWait):
		case <-v.s.done:
		}
		v.awakeMu.Lock()
		if v.viewers.Load() == 0 || v.isDone() {
			v.awake = false
			v.awakeMu.Unlock()
			return
		}
		v.awakeMu.Unlock()
		v.s.camera.Next(v.asked, math.MaxUint64)
	}
}

func (v *spycamWeb) isDone() bool {
	select {
	case <-v.s.done:
		return true
	default:
		return false
	}
}

// partWriter writes MJPEG parts to one viewer. On HTTP/1 over plain TCP it
// takes the connection from net/http and writes each part with one writev
// (header, the shared JPEG, CRLF); otherwise (TLS, a test recorder) it goes
// through the ResponseWriter, flushing each part.
type partWriter struct {
	hdr     []byte
	iov     [3][]byte
	bufs    net.Buffers
	timeout time.Duration

	conn net.Conn     // hijacked: closed by close
	tcp  *net.TCPConn // conn's TCP connection, nil if it has none
	w    http.ResponseWriter
	rc   *http.ResponseController
}

// newPartWriter sends the response header. gone is called when a hijacked
// viewer closes its end (or sends more than viewerSays): net/http no longer
// watches the connection for that.
func newPartWriter(w http.ResponseWriter, r *http.Request, timeout time.Duration, gone func()) (*partWriter, error) {
	pw := &partWriter{hdr: make([]byte, 0, 160), timeout: timeout, w: w, rc: http.NewResponseController(w)}
	if r.TLS == nil && r.ProtoMajor == 1 {
		conn, brw, err := pw.rc.Hijack() // flushes the header first
		if err == nil {
			pw.conn = conn
			pw.tcp = tcpConn(conn)
			go watchViewer(brw.Reader, gone)
			return pw, nil
		}
		if !errors.Is(err, http.ErrNotSupported) {
			return nil, err
		}
	}
	if err := pw.rc.Flush(); err != nil {
		return nil, err
	}
	return pw, nil
}

// tcpConn finds the TCP connection under the connection limiter's wrapper.
func tcpConn(c net.Conn) *net.TCPConn {
	if lc, ok := c.(*limitConn); ok {
		c = lc.Conn
	}
	tc, _ := c.(*net.TCPConn)
	return tc
}

// watchViewer reads what the viewer sends after its request until it closes
// the connection, then calls gone.
func watchViewer(r *bufio.Reader, gone func()) {
	io.CopyN(io.Discard, r, viewerSays)
	gone()
}

// write sends one part: boundary, headers, the JPEG, CRLF. A stalled viewer
// fails it after the timeout (socket deadlines are wall-clock by nature; the
// injected clock cannot drive them).
func (pw *partWriter) write(f scene.Frame) error {
	h := append(pw.hdr[:0], partHead...)
	h = strconv.AppendInt(h, int64(len(f.JPEG)), 10)
	h = append(h, "\r\nX-Timestamp: "...)
	h = strconv.AppendInt(h, f.At.UnixNano(), 10)
	h = append(h, "\r\nX-Frame: "...)
	h = strconv.AppendUint(h, f.Seq, 10)
	h = append(h, "\r\n\r\n"...)
	pw.hdr = h
	deadline := time.Now().Add(pw.timeout)
	if pw.conn != nil {
		c := pw.conn
		if pw.tcp != nil {
			c = pw.tcp // net.Buffers makes one writev only on the TCP connection itself
		}
		if err := c.SetWriteDeadline(deadline); err != nil {
			return err
		}
		pw.iov = [3][]byte{h, f.JPEG, crlf}
		pw.bufs = pw.iov[:]
		_, err := pw.bufs.WriteTo(c)
		pw.iov[1] = nil // the frame is the camera's: do not keep it
		return err
	}
	if err := pw.rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	for _, b := range [][]byte{h, f.JPEG, crlf} {
		if _, err := pw.w.Write(b); err != nil {
			return err
		}
	}
	return pw.rc.Flush()
}

// close ends a hijacked viewer's connection; net/http closes the others.
func (pw *partWriter) close() {
	if pw.conn != nil {
		pw.conn.Close()
	}
}
