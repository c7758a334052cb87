package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	art "tinkerbox/images/comic"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
)

// comicPackDir, inside the data dir, holds a maker's own art pack; when it
// has a manifest it replaces the embedded default (unless comic.pack is set).
const comicPackDir = "comic-pack"

func (a *app) comicDir() string { return filepath.Join(a.cfg.Appliance.DataDir, "comics") }

// comicScene builds the comic scene. A pack that cannot be used is not an
// error here: the scene shows it on the display and the appliance runs on.
func (a *app) comicScene() (scene.Scene, error) {
	a.dropUnfinishedComics()
	dir := a.cfg.Comic.Pack
	if dir == "" {
		dir = filepath.Join(a.cfg.Appliance.DataDir, comicPackDir)
		if _, err := os.Stat(filepath.Join(dir, comic.ManifestFile)); err != nil {
			dir = "" // the built-in pack
		}
	}
	l := &lazyComic{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		pack, err := loadComicPack(dir, a.log)
		if err != nil {
			a.record("error", comic.Name, err.Error())
		}
		l.scene = comic.New(pack, a.board.Printer, a.board.Display, a.board.Lights, a.store, a.clock, &comic.Opts{
			Dir: a.comicDir(), QueueMax: a.cfg.Comic.Queue, PackErr: err, Log: a.log,
		})
		// Checking the pack decoded every drawing once; give that memory
		// back now rather than whenever the scavenger gets to it.
		debug.FreeOSMemory()
	}()
	return l, nil
}

// lazyComic loads the art pack in the background: checking every drawing
// takes seconds on a Pi Zero, and the appliance should answer at once. The
// scene starts when its pack is ready.
type lazyComic struct {
	ready chan struct{}
	scene *comic.Scene // set before ready closes
}

func (l *lazyComic) Name() string { return comic.Name }

func (l *lazyComic) Run(ctx context.Context, events <-chan scene.Event) error {
	select {
	case <-ctx.Done():
		return nil
	case <-l.ready:
	}
	return l.scene.Run(ctx, events)
}

// loadComicPack loads the pack in dir ("" = the embedded default), logging
// one line per skipped item.
func loadComicPack(dir string, log *slog.Logger) (*comic.Pack, error) {
	load, fsys := comic.LoadBuiltinPack, art.Pack() // checked by the tests
	if dir != "" {
		load, fsys = comic.LoadPack, os.DirFS(dir)
	}
	p, probs, err := load(fsys)
	for _, pr := range probs {
		log.Warn(pr.String())
	}
	return p, err
}

// mountComic adds the gallery to the web server.
func (a *app) mountComic(srv *web.Server) {
	srv.MountComic(&comicGallery{a: a})
}

// comicGallery is the archive for the web gallery.
type comicGallery struct{ a *app }

func (g *comicGallery) Comics(ctx context.Context) ([]store.Comic, error) {
	return g.a.store.Comics(ctx, 0)
}

func (g *comicGallery) ComicFile(n int64) string {
	return filepath.Join(g.a.comicDir(), strconv.FormatInt(n, 10)+".png")
}

// Reprint queues the strip and wakes the scene's print worker (if the comic
// scene is not running, the job prints when it next runs).
func (g *comicGallery) Reprint(ctx context.Context, n int64) error {
	jobs, err := g.a.store.PendingPrints(ctx)
	if err != nil {
		return err
	}
	if len(jobs) >= g.a.cfg.Comic.Queue {
		return web.ErrComicQueueFull
	}
	if _, err := g.a.store.EnqueuePrint(ctx, n); err != nil {
		return err
	}
	if g.a.loop != nil {
		if err := g.a.loop.Send(scene.Event{Kind: scene.KindCommand, Command: comic.CommandWake}); err != nil {
			g.a.log.Debug("comic: wake", "err", err)
		}
	}
	g.a.record("info", comic.Name, fmt.Sprintf("strip #%d queued for reprint from the web", n))
	return nil
}

// dropUnfinishedComics removes the strips a power cut interrupted before
// their archive was complete (they never reached the gallery), and the
// temporary files of interrupted writes.
func (a *app) dropUnfinishedComics() {
	ctx := context.Background()
	ns, err := a.store.UnfinishedComics(ctx)
	if err != nil {
		a.record("error", comic.Name, err.Error())
		return
	}
	g := &comicGallery{a: a}
	for _, n := range ns {
		if err := g.removeComic(ctx, n); err != nil {
			a.record("error", comic.Name, err.Error())
			continue
		}
		a.record("warn", comic.Name, fmt.Sprintf("strip #%d was interrupted (power cut?) before its archive was written; removed", n))
	}
	tmps, _ := filepath.Glob(filepath.Join(a.comicDir(), ".tmp-*"))
	for _, f := range tmps {
		os.Remove(f)
	}
}

// DeleteComic removes the strip from the index, then its files.
func (g *comicGallery) DeleteComic(ctx context.Context, n int64) error {
	if _, err := g.a.store.Comic(ctx, n); err != nil {
		return err
	}
	if err := g.removeComic(ctx, n); err != nil {
		return err
	}
	g.a.record("info", comic.Name, fmt.Sprintf("strip #%d deleted from the web", n))
	return nil
}

// removeComic deletes strip n from the index, then its files.
func (g *comicGallery) removeComic(ctx context.Context, n int64) error {
	if err := g.a.store.DeleteComic(ctx, n); err != nil {
		return err
	}
	base := filepath.Join(g.a.comicDir(), strconv.FormatInt(n, 10))
	var errs []error
	for _, ext := range []string{".png", ".json"} {
		if err := os.Remove(base + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
