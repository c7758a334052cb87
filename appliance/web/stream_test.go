package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tinkerbox/appliance/store"
)

// sseReader reads Server-Sent Events from a response body.
type sseReader struct {
	t  *testing.T
	sc *bufio.Scanner
}

// next returns the next event's name and data, skipping comments and
// retry lines.
func (r *sseReader) next() (name, data string) {
	r.t.Helper()
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if name != "" || data != "" {
				return name, data
			}
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
	r.t.Fatalf("stream ended: %v", r.sc.Err())
	return "", ""
}

func (r *sseReader) nextState() State {
	r.t.Helper()
	name, data := r.next()
	if name != "state" {
		r.t.Fatalf("event %q, want state", name)
	}
	var s State
	if err := json.Unmarshal([]byte(data), &s); err != nil {
		r.t.Fatalf("state data %q: %v", data, err)
	}
	return s
}

func openStream(t *testing.T, f *fixture) (*sseReader, context.CancelFunc) {
	t.Helper()
	ts := httptest.NewServer(f.h)
	t.Cleanup(ts.Close) // waits for the handler: a stream that ignores disconnects hangs the test
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/state/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.SetBasicAuth("admin", testPassword)
	res, err := ts.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &sseReader{t: t, sc: bufio.NewScanner(res.Body)}, cancel
}

func TestStreamSendsStateChanges(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Events = nil })
	sse, cancel := openStream(t, f)

	if s := sse.nextState(); s.Scene != "comic" {
		t.Fatalf("first event scene = %q", s.Scene)
	}
	// Nothing changed: a poll sends nothing. Then a change arrives on the
	// next poll.
	f.clock.BlockUntil(1)
	f.clock.Advance(streamPoll)
	f.clock.BlockUntil(1)
	f.app.set(func(s *State) {
		s.Scene = "barometer"
		s.LEDs = map[string]LED{"warn": {Mode: ModeBlinkFast, Lit: true}}
	})
	f.clock.Advance(streamPoll)
	s := sse.nextState()
	if s.Scene != "barometer" || s.LEDs["warn"].Mode != ModeBlinkFast {
		t.Fatalf("after change: %+v", s)
	}
	f.clock.BlockUntil(1)
	f.app.set(func(s *State) { s.Display.Pixels[0] = 255 })
	f.clock.Advance(streamPoll)
	if s := sse.nextState(); s.Display.Pixels[0] != 255 {
		t.Fatalf("display change not sent: %v", s.Display.Pixels[:3])
	}
	cancel() // the handler must return: ts.Close in Cleanup waits for it
}

func TestStreamSendsEvents(t *testing.T) {
	f := newFixture(t)
	f.events.add(store.Event{At: testStart, Level: "info", Source: "loop", Message: "started"})
	sse, _ := openStream(t, f)
	sse.nextState()
	name, data := sse.next()
	if name != "events" || !strings.Contains(data, `"message":"started"`) {
		t.Fatalf("event %q %s, want the log", name, data)
	}
	f.events.add(store.Event{At: testStart, Level: "warn", Source: "printer", Message: "paper low"})
	for range streamEventPoll {
		f.clock.BlockUntil(1)
		f.clock.Advance(streamPoll)
	}
	name, data = sse.next()
	if name != "events" || !strings.Contains(data, `"message":"paper low"`) {
		t.Fatalf("event %q %s, want the new log entry", name, data)
	}
}

func TestStreamKeepalive(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Events = nil })
	ts := httptest.NewServer(f.h)
	defer ts.Close()
	r, _ := http.NewRequest("GET", ts.URL+"/api/state/stream", nil)
	r.SetBasicAuth("admin", testPassword)
	res, err := ts.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for range streamKeepalive {
		f.clock.BlockUntil(1)
		f.clock.Advance(streamPoll)
	}
	for sc.Scan() {
		if sc.Text() == ": ping" {
			return
		}
	}
	t.Fatalf("no keepalive: %v", sc.Err())
}

func TestEndStreams(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Events = nil })
	sse, _ := openStream(t, f)
	sse.nextState()
	f.srv.EndStreams()
	// The handler returns without the clock moving: the body ends.
	for sse.sc.Scan() {
	}
	if err := sse.sc.Err(); err != nil {
		t.Fatalf("stream ended with %v, want a clean end", err)
	}
	if w := f.do(basic(req("GET", "/api/state/stream", ""))); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("new stream after EndStreams = %d, want 503", w.Code)
	}
	f.srv.EndStreams() // twice is fine
}
