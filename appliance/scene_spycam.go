package appliance

import (
	"context"
	"errors"
	"path/filepath"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	"tinkerbox/drivers/picam"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/spycam"
)

// Spy-cam settings until they have config keys ([spycam] quota_mb,
// threshold, min_area_percent, indicator).
// spycamDir holds the motion captures, inside the data dir.
const spycamDir = "captures"

// spycamCaptures opens the capture directory in the data dir.
func (a *app) spycamCaptures() (*store.Captures, error) {
	return a.store.SpycamCaptures(filepath.Join(a.cfg.Appliance.DataDir, spycamDir), int64(a.cfg.Spycam.QuotaMB)<<20)
}

// spycamScene builds the spy-cam scene on the on-demand camera. Without a
// camera the scene still runs and says so in the event log.
func (a *app) spycamScene() (scene.Scene, error) {
	caps, err := a.spycamCaptures()
	if err != nil {
		return nil, err
	}
	var cam scene.Camera // a nil *demandCamera must stay a nil interface
	if a.camera != nil {
		cam = a.camera
	}
	sc := a.cfg.Spycam
	o := spycam.DefaultOpts()
	o.Motion.Threshold = uint8(sc.Threshold) // validated 1–255
	o.Motion.MinArea = sc.MinAreaPercent / 100
	o.Indicator = sc.Indicator
	o.AnalyzeEvery = sc.AnalyzeEvery.Duration
	o.PreFrames = sc.PreFrames
	o.Log = a.log
	return spycam.New(cam, a.board.Lights, caps, a.clock, o), nil
}

// mountSpycam adds /stream.mjpg, /spycam and the capture list to the web
// server; the stream works whichever scene runs.
func (a *app) mountSpycam(srv *web.Server) {
	caps, err := a.spycamCaptures()
	if err != nil {
		a.log.Error("spycam: captures unavailable on the web page", "err", err)
		srv.MountSpycam(nil)
		return
	}
	srv.MountSpycam(spycamWeb{Captures: caps, a: a})
}

// spycamWeb is the capture directory for the page, which can also ask the
// running spy-cam scene for a snapshot.
type spycamWeb struct {
	*store.Captures
	a *app
}

// Snapshot implements web.SpycamSnapshotter: a command, which another
// scene ignores.
func (s spycamWeb) Snapshot() error {
	if s.a.loop == nil {
		return errors.New("appliance: no scene loop")
	}
	return s.a.loop.Send(scene.Event{Kind: scene.KindCommand, Command: "snapshot"})
}

// The stream and the spy-cam scene give their frames back, so that the
// camera owner reuses their memory instead of allocating every frame.
var (
	_ web.FrameHolder    = (*demandCamera)(nil)
	_ spycam.FrameHolder = (*demandCamera)(nil)
)

// Hold is Next for a reader that gives the frame back with Release.
func (d *demandCamera) Hold(ctx context.Context, after uint64) (scene.Frame, error) {
	d.want()
	f, err := d.owner.Hold(ctx, after)
	return scene.Frame(f), err
}

// Release gives back a frame from Hold.
func (d *demandCamera) Release(f scene.Frame) { d.owner.Release(picam.Frame(f)) }

// want is what asking for a frame does to the on-demand camera, as in Next:
// it runs, and idle leaves it running for a while.
func (d *demandCamera) want() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = d.clock.Now()
	if !d.active {
		d.active = true
		d.owner.SetActive(true)
	}
}
