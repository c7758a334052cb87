package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/scene"
)

// Stream and snapshot timing.
const (
	streamPoll      = 100 * time.Millisecond // how often the stream looks for a new State
	streamEventPoll = 10                     // look for new log events every 10 polls (1 s)
	streamKeepalive = 150                    // comment line after 150 quiet polls (15 s)
	streamEvents    = 20                     // events sent on the stream
	snapshotWait    = 2 * time.Second
	maxEvents       = 1000
)

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// errNotJSON is a body of another type: a cross-site form can send
// text/plain or urlencoded bodies, never application/json.
var errNotJSON = errors.New("the body must be JSON, sent with Content-Type: application/json")

// decodeBody reads a small JSON object; an empty body leaves v untouched.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if !jsonRequest(r) {
		return errNotJSON
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("body is not the expected JSON object: %w", err)
	}
	return nil
}

// writeBodyError answers a decodeBody error: 415 for a body that is not
// JSON, else 400.
func writeBodyError(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotJSON) {
		writeError(w, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

func (s *Server) apiState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.app.State())
}

func (s *Server) apiScene(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		writeBodyError(w, err)
		return
	}
	if req.Name == "" {
		writeError(w, http.StatusBadRequest, `missing scene name: send {"name":"…"}`)
		return
	}
	if !slices.Contains(s.app.State().Scenes, req.Name) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown scene %q", req.Name))
		return
	}
	if err := s.app.SwitchScene(req.Name); err != nil {
		s.log.Error("web: switch scene", "scene", req.Name, "err", err)
		writeError(w, http.StatusInternalServerError, "switch scene: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.app.State())
}

// ChordAB is A and B held together for 5 s (show the address and the
// password hint); POST /api/buttons/A+B does it in one request.
const ChordAB = "A+B"

func (s *Server) apiButton(w http.ResponseWriter, r *http.Request) {
	button := strings.ToUpper(r.PathValue("button"))
	if button != scene.ButtonA && button != scene.ButtonB && button != ChordAB {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no button %q; the buttons are A, B and the chord A+B", r.PathValue("button")))
		return
	}
	var req struct {
		Press string `json:"press"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		writeBodyError(w, err)
		return
	}
	press := scene.Short
	if req.Press != "" {
		p, ok := scene.ParsePress(req.Press)
		if !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown press %q; want short, long or double", req.Press))
			return
		}
		press = p
	}
	if err := s.app.Press(button, press); err != nil {
		s.log.Error("web: press", "button", button, "press", press, "err", err)
		writeError(w, http.StatusInternalServerError, "press: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.app.State())
}

func (s *Server) recentEvents(ctx context.Context, n int) ([]store.Event, error) {
	if s.events == nil {
		return []store.Event{}, nil
	}
	ev, err := s.events.RecentEvents(ctx, n)
	if err != nil {
		return nil, err
	}
	if ev == nil {
		ev = []store.Event{}
	}
	return ev, nil
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	n := 50
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEvents {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("n must be a number from 1 to %d", maxEvents))
			return
		}
	}
	ev, err := s.recentEvents(r.Context(), n)
	if err != nil {
		s.log.Error("web: events", "err", err)
		writeError(w, http.StatusInternalServerError, "read events: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func (s *Server) apiRoll(w http.ResponseWriter, r *http.Request) {
	if s.roll == nil {
		writeError(w, http.StatusNotFound, "no simulated printer roll")
		return
	}
	var buf bytes.Buffer
	if err := s.roll.WritePNG(&buf); err != nil {
		s.log.Error("web: roll", "err", err)
		writeError(w, http.StatusInternalServerError, "render roll: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// snapshot serves the latest camera frame, waiting at most two seconds (on
// the injected clock) for one to exist.
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) {
	if s.camera == nil {
		writeError(w, http.StatusServiceUnavailable, "no camera")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	timeout := s.clock.After(snapshotWait)
	go func() {
		select {
		case <-timeout:
			cancel()
		case <-ctx.Done():
		}
	}()
	f, err := s.camera.Next(ctx, 0)
	if err != nil || len(f.JPEG) == 0 {
		if r.Context().Err() != nil {
			return // client gone
		}
		writeError(w, http.StatusServiceUnavailable, "no camera frame within 2 s")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.JPEG)))
	w.Write(f.JPEG)
}

// apiStream pushes "state" events whenever State changes (polled every
// 100 ms of the injected clock), "events" when the log grows, and "update"
// (the installActivity of GET /api/update) when a firmware install moves on.
// It ends when the client goes away.
func (s *Server) apiStream(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.done:
		writeError(w, http.StatusServiceUnavailable, "shutting down")
		return
	default:
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := s.extendWrite(rc); err != nil {
		return
	}
	if _, err := io.WriteString(w, "retry: 2000\n\n"); err != nil {
		return
	}
	ctx := r.Context()
	var lastState, lastEvents, lastUpdate []byte
	quiet := 0
	for tick := 0; ; tick++ {
		// Whatever this round writes must go out within streamWriteTimeout;
		// the server-wide WriteTimeout would otherwise cut a healthy stream.
		if err := s.extendWrite(rc); err != nil {
			return
		}
		sent := false
		b, err := json.Marshal(s.app.State())
		if err != nil {
			s.log.Error("web: stream: encode state", "err", err)
			return
		}
		if !bytes.Equal(b, lastState) {
			if err := writeEvent(w, "state", b); err != nil {
				return
			}
			lastState, sent = b, true
		}
		if s.events != nil && tick%streamEventPoll == 0 {
			ev, err := s.recentEvents(ctx, streamEvents)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("web: stream: events", "err", err)
			} else if b, err := json.Marshal(ev); err == nil && !bytes.Equal(b, lastEvents) {
				if err := writeEvent(w, "events", b); err != nil {
					return
				}
				lastEvents, sent = b, true
			}
		}
		// An install's progress, while there is one to tell.
		if b, ok := s.upd.activityJSON(); ok && !bytes.Equal(b, lastUpdate) {
			if err := writeEvent(w, "update", b); err != nil {
				return
			}
			lastUpdate, sent = b, true
		}
		if quiet++; !sent && quiet >= streamKeepalive {
			// A comment line: proxies keep the connection and a dead client
			// shows up as a write error.
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
			sent = true
		}
		if sent {
			quiet = 0
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-s.clock.After(streamPoll):
		}
	}
}

// extendWrite gives a stream's next write streamWriteTimeout from now (a
// socket deadline, so the wall clock): a client that stops reading is
// dropped after that, and a reading one is never cut.
func (s *Server) extendWrite(rc *http.ResponseController) error {
	err := rc.SetWriteDeadline(time.Now().Add(s.streamWrite))
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

func writeEvent(w io.Writer, name string, data []byte) error {
	// json.Marshal output has no newlines, so one data line is enough.
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
	return err
}
