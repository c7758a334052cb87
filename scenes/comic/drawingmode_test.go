package comic

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	art "tinkerbox/images/comic"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// themePack is the default pack with only theme's drawings: every strip
// it composes is of that theme, so a test can tell which pack drew one.
func themePack(t *testing.T, theme string) *Pack {
	t.Helper()
	raw, err := fs.ReadFile(art.Pack(), ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var keep []ImageSpec
	for _, im := range m.Images {
		if im.Theme == theme {
			keep = append(keep, im)
		}
	}
	m.Images = keep
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	p, probs, err := LoadBuiltinPack(overlay{fstest.MapFS{ManifestFile: {Data: raw}}, art.Pack()})
	if err != nil || len(probs) > 0 {
		t.Fatalf("%s pack: %v %v", theme, err, probs)
	}
	return p
}

// overlay serves its own files first, then base's.
type overlay struct {
	top  fstest.MapFS
	base fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if _, ok := o.top[name]; ok {
		return o.top.Open(name)
	}
	return o.base.Open(name)
}

// source is a PackSource whose pack the test swaps.
type source struct {
	mu     sync.Mutex
	ver    uint64
	pack   *Pack
	err    error
	loaded chan struct{}
}

func (s *source) Version() uint64 { s.mu.Lock(); defer s.mu.Unlock(); return s.ver }
func (s *source) Load() (*Pack, error) {
	s.mu.Lock()
	p, err := s.pack, s.err
	s.mu.Unlock()
	s.loaded <- struct{}{}
	return p, err
}
func (s *source) set(p *Pack, err error) {
	s.mu.Lock()
	s.ver++
	s.pack, s.err = p, err
	s.mu.Unlock()
}

// camera is the drawing mode's Drawings: each capture changes the pack.
type camera struct {
	calls chan struct{}
	then  func()
	err   error
}

func (c *camera) Capture(ctx context.Context) (int, error) {
	c.calls <- struct{}{}
	if c.err != nil {
		return 0, c.err
	}
	c.then()
	return 3, nil
}

type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) Report(level, msg string) {
	r.mu.Lock()
	r.got = append(r.got, level+": "+msg)
	r.mu.Unlock()
}

func TestDrawingModeAddsToThePackAndReloads(t *testing.T) {
	st := newMemStore()
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	pr := &printer{calls: make(chan image.Image, 16)}
	robots, sea := themePack(t, "robots"), themePack(t, "sea")
	src := &source{pack: robots, loaded: make(chan struct{}, 4)}
	cam := &camera{calls: make(chan struct{}, 1), then: func() { src.set(sea, nil) }}
	rep := &reports{}
	s := New(robots, pr, nil, nil, st, clk, &Opts{Dir: t.TempDir(), Drawings: cam, Source: src, Reporter: rep})
	if h := s.Help(); h.ALong == "" {
		t.Fatal("A long is not described as the drawing mode")
	}
	run := start(s)
	var n int64
	press := func() string {
		t.Helper()
		n++
		run.events <- pressA(scene.Short)
		recv(t, pr.calls)
		for !st.done(n) {
			run.events <- scene.Event{Kind: scene.KindCommand, Command: CommandWake}
		}
		clk.Advance(time.Second) // another seed
		r, err := st.Comic(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		return r.Theme
	}
	if th := press(); th != "robots" {
		t.Fatalf("before the drawing mode: theme %s", th)
	}

	run.events <- pressA(scene.Long)
	recv(t, cam.calls)
	recv(t, src.loaded) // reloaded by the loop, before it takes the next event
	for i := 0; i < 4; i++ {
		if th := press(); th != "sea" {
			t.Fatalf("strip %d after the drawing mode: theme %s, want the reloaded pack's", i, th)
		}
	}

	// An edit that breaks the pack keeps the one in use, and says so.
	src.set(nil, errors.New("comic: pack: no usable image"))
	run.events <- scene.Event{Kind: scene.KindCommand, Command: CommandReload}
	recv(t, src.loaded)
	if th := press(); th != "sea" {
		t.Fatalf("after a broken reload: theme %s", th)
	}
	rep.mu.Lock()
	warned := len(rep.got) > 0
	rep.mu.Unlock()
	if !warned {
		t.Fatal("a broken pack edit was not reported")
	}

	// A failed photo prints nothing and the scene goes on.
	cam.err = errors.New("sheet: no drawing found on the sheet")
	run.events <- pressA(scene.Long)
	recv(t, cam.calls)
	if th := press(); th != "sea" {
		t.Fatalf("after a failed photo: theme %s", th)
	}
	run.stop(t)
}

func TestReloadMendsAMissingPack(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	pr := &printer{calls: make(chan image.Image, 4)}
	src := &source{err: errors.New("comic: pack: no usable grid"), loaded: make(chan struct{}, 4)}
	s := New(nil, pr, nil, nil, newMemStore(), clk, &Opts{Dir: t.TempDir(), PackErr: src.err, Source: src})
	run := start(s)
	recv(t, src.loaded) // tried at the start: still broken, the error shows
	src.set(themePack(t, "cat"), nil)
	run.events <- scene.Event{Kind: scene.KindCommand, Command: CommandReload}
	recv(t, src.loaded)
	run.events <- pressA(scene.Short)
	recv(t, pr.calls)
	run.stop(t)
}
