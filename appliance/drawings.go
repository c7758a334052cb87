package appliance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"time"

	"tinkerbox/appliance/web"
	"tinkerbox/drivers/sim"
	art "tinkerbox/images/comic"
	"tinkerbox/images/imgdecode"
	"tinkerbox/images/sheet"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
)

// settleFrames is how many frames the drawing mode lets go by after the
// camera starts before it keeps one: the real sensor's exposure and white
// balance take a few frames to settle.
const settleFrames = 4

// drawings brings the maker's drawings into their pack: a photo from the
// camera or an uploaded file goes through images/sheet (the sheet found,
// flattened, evened out, thresholded, split) into the comic-pack folder.
// It is the comic scene's drawing mode, the pack editor's ComicPack and the
// scene's PackSource at once, so that they all see one pack.
type drawings struct {
	a    *app
	dir  string // the pack folder the maker edits
	pack *comic.MakerPack

	// One photo at a time: the camera, and a Pi Zero's memory.
	mu sync.Mutex
}

var (
	_ comic.Drawings   = (*drawings)(nil)
	_ comic.PackSource = (*drawings)(nil)
	_ web.ComicPack    = comicPackWeb{}
)

// makerDrawings is the app's one drawings (made on first use).
func (a *app) makerDrawings() *drawings {
	a.drawOnce.Do(func() {
		dir := a.cfg.Comic.Pack
		if dir == "" {
			dir = filepath.Join(a.cfg.Appliance.DataDir, comicPackDir)
		}
		a.drawings = &drawings{a: a, dir: dir, pack: comic.OpenMakerPack(dir, art.Pack(), a.clock.Now)}
	})
	return a.drawings
}

// Pack implements web.ComicPack.
func (d *drawings) Pack() *comic.MakerPack { return d.pack }

// Version implements comic.PackSource.
func (d *drawings) Version() uint64 { return d.pack.Version() }

// Load implements comic.PackSource: the maker's pack once it has a
// manifest, the built-in one before.
func (d *drawings) Load() (*comic.Pack, error) {
	if _, err := os.Stat(filepath.Join(d.dir, comic.ManifestFile)); err != nil {
		if d.a.cfg != nil && d.a.cfg.Comic.Pack != "" {
			return loadComicPack(d.dir, d.a.log) // comic.pack names it: say what is wrong there
		}
		return loadComicPack("", d.a.log) // no drawing of the maker's yet
	}
	// Through the maker's pack: it keeps the base and the drawings that
	// did not change decoded, so a reload after one drawing is quick.
	p, probs, err := d.pack.Check()
	for _, pr := range probs {
		d.a.log.Warn(pr.String())
	}
	return p, err
}

// Changed implements web.ComicPack: the running comic scene reloads (one
// that is not running checks the version when it starts).
func (d *drawings) Changed() {
	if d.a.loop == nil {
		return
	}
	if err := d.a.loop.Send(scene.Event{Kind: scene.KindCommand, Command: comic.CommandReload}); err != nil {
		d.a.log.Debug("comic: reload", "err", err)
	}
}

// Capture implements comic.Drawings (A long in the comic scene).
func (d *drawings) Capture(ctx context.Context) (int, error) {
	specs, err := d.CaptureSpecs(ctx)
	return len(specs), err
}

// CaptureSpecs photographs the sheet under the camera and adds what is on
// it to the pack.
func (d *drawings) CaptureSpecs(ctx context.Context) ([]comic.ImageSpec, error) {
	if d.a.camera == nil {
		return nil, web.ErrNoCamera
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	start := d.a.clock.Now()
	f, err := d.a.camera.Next(ctx, 0)
	for i := 0; err == nil && i < settleFrames; i++ {
		f, err = d.a.camera.Next(ctx, f.Seq)
	}
	if err != nil {
		return nil, fmt.Errorf("comic: drawing mode: the camera: %w", err)
	}
	specs, err := d.add(f.JPEG, "the camera's photo")
	if err != nil {
		d.a.record("warn", comic.Name, "no drawing added from the camera: "+err.Error())
		return nil, err
	}
	d.a.log.Info("comic: drawings added from the camera", "n", len(specs), "took", d.a.clock.Now().Sub(start).Round(time.Millisecond))
	d.a.record("info", comic.Name, fmt.Sprintf("%d drawings added to your pack from the camera", len(specs)))
	d.Changed()
	return specs, nil
}

// AddPhotos implements web.ComicPack: each upload is cleaned like a photo
// from the camera. A photo that gives nothing is named in the error; the
// others are still added.
func (d *drawings) AddPhotos(ctx context.Context, photos []web.NamedPhoto, progress func(done, total int)) ([]comic.ImageSpec, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var added []comic.ImageSpec
	var errs []error
	for i, p := range photos {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		specs, err := d.add(p.Data, p.Name)
		added = append(added, specs...)
		if err != nil {
			errs = append(errs, err)
		}
		if progress != nil {
			progress(i+1, len(photos))
		}
	}
	if len(added) > 0 {
		d.a.record("info", comic.Name, fmt.Sprintf("%d drawings added to your pack from %d uploaded pictures", len(added), len(photos)))
		d.Changed()
	}
	return added, errors.Join(errs...)
}

// add decodes one photo, finds its drawings and adds them to the pack.
func (d *drawings) add(data []byte, name string) ([]comic.ImageSpec, error) {
	img, err := imgdecode.DecodeBytes(data, name, imgdecode.Photo())
	if err != nil {
		return nil, err
	}
	res, err := sheet.Clean(img, nil)
	img = nil
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ims := make([]image.Image, len(res.Drawings))
	for i, dr := range res.Drawings {
		ims[i] = dr.Image
	}
	specs, err := d.pack.Add(ims)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return specs, nil
}

// sheetSim lays a maker's picture under the simulated camera as paper on a
// table, photographed as images/sheet expects a Pi camera to.
type sheetSim struct {
	cam  *sim.Camera
	w, h int
}

// ShowSheet implements web.SheetSim.
func (s sheetSim) ShowSheet(img image.Image) error {
	if img.Bounds().Dx() < 16 || img.Bounds().Dy() < 16 {
		return fmt.Errorf("the picture is %v: too small to be a sheet", img.Bounds().Size())
	}
	photo := sheet.Photo(img, sheet.PhotoOpts{Width: s.w, Height: s.h, Tilt: 4, Skew: 0.08, Shadow: 0.35, Noise: 3, Seed: 1})
	s.cam.SetPicture(func(time.Time) image.Image { return photo })
	return nil
}

// ClearSheet implements web.SheetSim.
func (s sheetSim) ClearSheet() { s.cam.SetPicture(nil) }

// mountDrawings adds the pack editor and, in the simulator, the sheet under
// the camera.
func (a *app) mountDrawings(srv *web.Server) {
	srv.MountComicPack(comicPackWeb{a.makerDrawings()})
	if sb := a.board.Sim; sb != nil && sb.Camera != nil {
		srv.MountSheetSim(sheetSim{cam: sb.Camera, w: a.cfg.Camera.Width, h: a.cfg.Camera.Height})
	}
}

// comicPackWeb is drawings as the editor sees it (Capture gives the new
// entries rather than a count).
type comicPackWeb struct{ *drawings }

// Capture implements web.ComicPack.
func (c comicPackWeb) Capture(ctx context.Context) ([]comic.ImageSpec, error) {
	return c.CaptureSpecs(ctx)
}
