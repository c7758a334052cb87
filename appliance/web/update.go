package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"tinkerbox/appliance/update"
)

// Updater is the A/B firmware updater (update.Client on a device).
type Updater interface {
	Status(ctx context.Context) (update.Status, error)
	Install(ctx context.Context, bundle io.Reader, progress func(update.Progress)) (update.Result, error)
	Rollback(ctx context.Context) error
}

var _ Updater = (*update.Client)(nil)

// Firmware update limits.
const (
	// maxBundle caps an uploaded bundle: a tinkerbox image is a few hundred
	// MB, compressed.
	maxBundle = 1 << 30
	// uploadStall closes an upload that sends nothing for this long. While
	// bytes arrive, the upload has no overall deadline.
	uploadStall = 30 * time.Second
	// uploadWriteTimeout bounds the writing of the answer to an upload; the
	// server-wide WriteTimeout, counted from the request's start, has long
	// passed by then.
	uploadWriteTimeout = 30 * time.Second
	// installTimeout is what the update service gets for one install: a
	// 1 GiB bundle on a slow card takes minutes; an hour means it hung.
	installTimeout = time.Hour
	// updateAsk bounds a status question to the service.
	updateAsk = 5 * time.Second
	// rollbackTimeout bounds a rollback: the service may check the other
	// slot before it switches.
	rollbackTimeout = 2 * time.Minute
)

// installActivity is what the web server knows of the install it runs, on
// top of the service's Status: GET /api/update carries it as "install" and
// the state stream pushes it as "update" events while it changes.
type installActivity struct {
	ID       uint64           `json:"id"` // counts the installs since the appliance started
	Running  bool             `json:"running"`
	Received int64            `json:"received"`           // bundle bytes received so far
	Size     int64            `json:"size"`               // the bundle's size; -1: not announced (chunked)
	Progress *update.Progress `json:"progress,omitempty"` // the service's latest report
	Result   *update.Result   `json:"result,omitempty"`   // the install succeeded: rebooting into it
	Error    string           `json:"error,omitempty"`    // the install failed or was refused
}

// updates is the server's side of firmware updates.
type updates struct {
	u       Updater // nil: no updates here
	version string  // the running firmware
	reason  string  // why there is no Updater

	lock chan struct{} // holds a token while an install or rollback runs

	mu     sync.Mutex
	act    *installActivity // nil until the first install of this process
	seq    uint64           // installs begun
	status *update.Status   // the last Status the service gave
}

func newUpdates(u Updater, version, reason string) *updates {
	up := &updates{u: u, version: version, reason: reason, lock: make(chan struct{}, 1)}
	if up.version == "" {
		up.version = "unknown"
	}
	return up
}

// tryLock takes the one install-or-rollback slot.
func (up *updates) tryLock() bool {
	select {
	case up.lock <- struct{}{}:
		return true
	default:
		return false
	}
}

func (up *updates) unlock() { <-up.lock }

func (up *updates) begin(size int64) {
	up.mu.Lock()
	defer up.mu.Unlock()
	up.seq++
	up.act = &installActivity{ID: up.seq, Running: true, Size: size}
}

func (up *updates) received(n int64) {
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.act != nil && up.act.Running {
		up.act.Received = n
	}
}

func (up *updates) progress(p update.Progress) {
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.act != nil && up.act.Running {
		up.act.Progress = &p
	}
}

func (up *updates) finish(res *update.Result, msg string) {
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.act != nil {
		up.act.Running, up.act.Result, up.act.Error = false, res, msg
	}
}

// activity is a copy of the install activity; nil before the first install.
func (up *updates) activity() *installActivity {
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.act == nil {
		return nil
	}
	a := *up.act
	if a.Progress != nil {
		p := *a.Progress
		a.Progress = &p
	}
	if a.Result != nil {
		r := *a.Result
		a.Result = &r
	}
	return &a
}

// activityJSON is the stream's "update" event; ok is false while there is
// nothing to tell (no install since the appliance started).
func (up *updates) activityJSON() (b []byte, ok bool) {
	a := up.activity()
	if a == nil {
		return nil, false
	}
	b, err := json.Marshal(a)
	return b, err == nil
}

func (up *updates) running() bool {
	a := up.activity()
	return a != nil && a.Running
}

// serviceStatus asks the service. While an install runs, a service too busy to
// answer is not "down": the last answer stands, with the install's progress.
func (up *updates) serviceStatus(ctx context.Context) (update.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, updateAsk)
	defer cancel()
	st, err := up.u.Status(ctx)
	up.mu.Lock()
	defer up.mu.Unlock()
	if err == nil {
		up.status = &st
		return st, nil
	}
	if up.act != nil && up.act.Running && up.status != nil {
		return *up.status, nil
	}
	return update.Status{}, fmt.Errorf("the update service is not answering: %w", err)
}

// updateStatusJSON is GET /api/update with an Updater.
type updateStatusJSON struct {
	update.Status
	Available bool             `json:"available"`
	Install   *installActivity `json:"install,omitempty"`
}

// noUpdatesJSON is GET /api/update without one.
type noUpdatesJSON struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
	Version   string `json:"version"`
}

// noUpdates is why this server cannot install updates.
func (s *Server) noUpdates() noUpdatesJSON {
	reason := s.upd.reason
	if reason == "" {
		if s.app.State().Sim {
			reason = "This is the simulator: firmware updates install on a tinkerbox device, from its own settings page."
		} else {
			reason = "This tinkerbox runs without the update service (it was not installed from the A/B SD-card image), so firmware updates cannot be installed from here."
		}
	}
	return noUpdatesJSON{Reason: reason, Version: s.upd.version}
}

// apiUpdate is GET /api/update: 200 with the service's Status and
// "available": true, or 200 with "available": false, the reason and the
// running version when there is no Updater; 503 when the service does not
// answer.
func (s *Server) apiUpdate(w http.ResponseWriter, r *http.Request) {
	if s.upd.u == nil {
		writeJSON(w, http.StatusOK, s.noUpdates())
		return
	}
	st, err := s.upd.serviceStatus(r.Context())
	if err != nil {
		s.log.Warn("web: update status", "err", err)
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, updateStatusJSON{Status: st, Available: true, Install: s.upd.activity()})
}

// installJSON is the answer to a successful install.
type installJSON struct {
	update.Result
	Rebooting bool `json:"rebooting"`
}

// bundleType is the one non-JSON body the API takes: POST /api/update.
const bundleType = "application/octet-stream"

// bundleUpload reports whether r is POST /api/update with a raw bundle: the
// one state-changing API request that is not JSON (see serveAuthed). A
// cross-site form cannot send application/octet-stream any more than JSON
// (forms send urlencoded, multipart or text/plain; another type needs a CORS
// preflight, which this server never grants), and the origin check and the
// session's CSRF token apply to it like to every other post.
func bundleUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.Path != "/api/update" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == bundleType
}

// apiInstall is POST /api/update: the body is the bundle, streamed to the
// Updater as it arrives. Status codes:
//
//	200 {"rebooting":true, slot, version, board}: installed; the service reboots into it
//	400 the service refused the bundle or failed to install it (its message, for the maker),
//	    or the upload broke off
//	408 the upload stalled: no byte for 30 s
//	409 another install or a rollback is running, here or in the service
//	413 the bundle is over 1 GiB
//	415 the body is not application/octet-stream
//	501 there is no Updater (simulator, PC): the reason
//	503 the update service does not answer
func (s *Server) apiInstall(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, msg string) {
		closeUnread(w, r)
		writeError(w, status, msg)
	}
	if s.upd.u == nil {
		refuse(http.StatusNotImplemented, s.noUpdates().Reason)
		return
	}
	if !bundleUpload(r) {
		refuse(http.StatusUnsupportedMediaType, "send the bundle (.tbup) as the raw request body with Content-Type: "+bundleType)
		return
	}
	if r.ContentLength > maxBundle {
		refuse(http.StatusRequestEntityTooLarge, "the file is larger than 1 GiB: it is not a tinkerbox update bundle")
		return
	}
	if !s.upd.tryLock() {
		refuse(http.StatusConflict, "another update (or a rollback) is already running; wait for it to finish")
		return
	}
	defer s.upd.unlock()
	st, err := s.upd.serviceStatus(r.Context())
	if err != nil {
		refuse(http.StatusServiceUnavailable, err.Error())
		return
	}
	if st.Busy != nil {
		refuse(http.StatusConflict, fmt.Sprintf("the update service is busy with another install (%s)", st.Busy.Phase))
		return
	}

	// From here the upload is this handler's: it keeps its own stall
	// deadline, so the connection limiter must not take it for a slow
	// client, however long it takes.
	bodyServed(r)
	rc := http.NewResponseController(w)
	body := &uploadBody{r: http.MaxBytesReader(w, r.Body, maxBundle), rc: rc, stall: s.uploadStall, count: s.upd.received}
	body.arm()
	s.upd.begin(r.ContentLength)
	s.log.Info("web: update: install started", "addr", clientAddr(r), "size", r.ContentLength)

	// A bundle that has arrived whole is installed even if the browser
	// goes away; one still arriving fails by itself when its body breaks.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), installTimeout)
	defer cancel()
	res, ierr := s.upd.u.Install(ctx, body, s.upd.progress)
	body.detach()

	status, msg := http.StatusOK, ""
	switch berr := body.failure(); {
	case ierr == nil:
	case errors.Is(berr, errUploadStalled):
		status, msg = http.StatusRequestTimeout, fmt.Sprintf("the upload stalled: nothing arrived for %s", s.uploadStall)
	case isMaxBytes(berr):
		status, msg = http.StatusRequestEntityTooLarge, "the file is larger than 1 GiB: it is not a tinkerbox update bundle"
	case berr != nil:
		status, msg = http.StatusBadRequest, "the upload broke off: "+berr.Error()
	case isUnreachable(ierr):
		status, msg = http.StatusServiceUnavailable, "the update service stopped answering: "+ierr.Error()
	default:
		status, msg = http.StatusBadRequest, ierr.Error()
	}
	if status == http.StatusOK {
		s.upd.finish(&res, "")
		s.log.Info("web: update: installed", "slot", res.Slot, "version", res.Version)
	} else {
		s.upd.finish(nil, msg)
		s.log.Warn("web: update: install failed", "status", status, "err", msg)
	}
	// The stream has told the page by now. The rest of the bundle (all of
	// it after an early refusal, the tar's padding after a success) is
	// read and dropped, so that the answer reaches a client that is still
	// sending rather than being lost to a reset; the page aborts its upload
	// as soon as the stream says it failed.
	if body.failure() != nil || body.drain() != nil {
		w.Header().Set("Connection", "close")
	}
	rc.SetWriteDeadline(time.Now().Add(uploadWriteTimeout))
	if status != http.StatusOK {
		writeError(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, installJSON{Result: res, Rebooting: true})
}

// apiRollback is POST /api/update/rollback {"confirm": true}: boot the other
// slot's firmware (on trial, like an update). 200 {"rebooting": true,
// "version": …}; 400 without the confirmation; 409 when there is nothing to
// go back to, an install runs or the service refuses (its message); 501
// without an Updater; 503 when the service does not answer.
func (s *Server) apiRollback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Confirm bool `json:"confirm"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		writeBodyError(w, err)
		return
	}
	if s.upd.u == nil {
		writeError(w, http.StatusNotImplemented, s.noUpdates().Reason)
		return
	}
	if !req.Confirm {
		writeError(w, http.StatusBadRequest, `going back to the previous firmware restarts the appliance: send {"confirm": true}`)
		return
	}
	if !s.upd.tryLock() {
		writeError(w, http.StatusConflict, "an update is being installed; wait for it to finish")
		return
	}
	defer s.upd.unlock()
	st, err := s.upd.serviceStatus(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if !st.CanRollback {
		msg := "there is no previous firmware to go back to"
		if st.Other.Name != "" {
			msg += fmt.Sprintf(" (slot %s is %s)", st.Other.Name, st.Other.State)
		}
		writeError(w, http.StatusConflict, msg)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), rollbackTimeout)
	defer cancel()
	if err := s.upd.u.Rollback(ctx); err != nil {
		s.log.Warn("web: update: rollback refused", "err", err)
		if isUnreachable(err) {
			writeError(w, http.StatusServiceUnavailable, "the update service is not answering: "+err.Error())
			return
		}
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	s.log.Info("web: update: rolling back", "to", st.Other.Version)
	writeJSON(w, http.StatusOK, struct {
		Rebooting bool   `json:"rebooting"`
		Version   string `json:"version"`
	}{true, st.Other.Version})
}

// isUnreachable tells a service that cannot be reached (no socket, a
// broken connection) from one that answered with a refusal.
func isUnreachable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

var (
	errUploadStalled = errors.New("upload stalled")
	errInstallOver   = errors.New("web: the install is over: the bundle is no longer readable")
)

// uploadBody is an uploaded bundle as the Updater reads it: it pushes the
// connection's read deadline uploadStall ahead while bytes arrive (the
// server's ReadTimeout is for requests of a few KB), counts them, and keeps
// the first read error. An Updater may read it from another goroutine, even
// after Install returns (an http.Client's transport does): detach ends that
// before the handler touches the body again.
type uploadBody struct {
	r     io.Reader
	rc    *http.ResponseController
	stall time.Duration
	count func(int64)

	mu       sync.Mutex
	n        int64
	pushed   time.Time // when the deadline was last pushed
	err      error     // the first read error other than EOF
	eof      bool
	detached bool
}

// arm gives the first byte uploadStall from now.
func (b *uploadBody) arm() {
	b.pushed = time.Now()
	b.rc.SetReadDeadline(b.pushed.Add(b.stall))
}

func (b *uploadBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errInstallOver
	}
	return b.read(p)
}

func (b *uploadBody) read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.eof {
		return 0, io.EOF
	}
	// The stall time counts while this read waits for the client, not
	// while the consumer was busy between reads (the update service
	// hashing a block under load can take longer than the stall time):
	// the connection's deadline is pushed as each read starts, at most a
	// few times a second (each is a system call).
	if now := time.Now(); now.Sub(b.pushed) >= b.stall/30 {
		b.pushed = now
		b.rc.SetReadDeadline(now.Add(b.stall))
	}
	n, err := b.r.Read(p)
	if n > 0 {
		b.n += int64(n)
		b.count(b.n)
	}
	switch {
	case err == nil:
	case err == io.EOF:
		// All in: what follows (verifying) has nothing to read.
		b.eof = true
		b.rc.SetReadDeadline(time.Time{})
	default:
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			err = fmt.Errorf("%w: nothing arrived for %s", errUploadStalled, b.stall)
		}
		b.err = err
	}
	return n, err
}

// detach makes the body unreadable for the Updater, waiting for a read in
// progress.
func (b *uploadBody) detach() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.detached = true
}

// failure is the body's first read error (nil: none, or only EOF).
func (b *uploadBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// drain reads what is left of the body, with the same stall deadline.
func (b *uploadBody) drain() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := make([]byte, 32<<10)
	for {
		_, err := b.read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
