package appliance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"tinkerbox/appliance/config"
	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	"tinkerbox/drivers/escpos"
	art "tinkerbox/images/comic"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
)

// comicPackDir, inside the data dir, holds a maker's own art pack; when it
// has a manifest it replaces the embedded default (unless comic.pack is set).
const comicPackDir = "comic-pack"

func (a *app) comicDir() string { return filepath.Join(a.cfg.Appliance.DataDir, "comics") }

// printQueue is the comic print queue's one gate, shared by the scene's
// presses and the gallery's reprints (made on first use: the gallery works
// without the comic scene, whose next run prints what was queued).
func (a *app) printQueue() *comic.Queue {
	a.queueOnce.Do(func() { a.comicQueue = comic.NewQueue(a.store, a.comicDir(), a.cfg.Comic.Queue) })
	return a.comicQueue
}

// comicScene builds the comic scene. A pack that cannot be used is not an
// error here: the scene shows it on the display and the appliance runs on.
func (a *app) comicScene() (scene.Scene, error) {
	a.dropUnfinishedComics()
	var dm comic.Drawings // A long needs a camera
	if a.camera != nil {
		dm = a.makerDrawings()
	}
	l := &lazyComic{ready: make(chan struct{})}
	// What checking the maker's drawings finds is kept in the data dir, by
	// their files' hashes: a start checks only the drawings changed since.
	md := a.makerDrawings()
	checks := comic.OpenCheckCache(comic.CheckCacheFile(filepath.Join(a.cfg.Appliance.DataDir, "cache"), md.dir))
	md.pack.RememberChecks(checks)
	a.startup.Add(1)
	go func() {
		defer a.startup.Done()
		defer close(l.ready)
		// Through the maker's pack, which keeps what it decoded for the
		// reloads that follow an edit.
		pack, err := md.Load()
		if err != nil {
			a.record("error", comic.Name, err.Error())
		}
		if err := checks.Err(); err != nil {
			a.log.Warn("comic: the maker's pack will be checked again at the next start", "err", err)
		}
		l.scene = comic.New(pack, a.board.Printer, a.board.Display, a.board.Lights, a.store, a.clock, &comic.Opts{
			Dir: a.comicDir(), QueueMax: a.cfg.Comic.Queue, Queue: a.printQueue(), PackErr: err, Log: a.log,
			Reporter: a.reporter(comic.Name), Orientation: a.comicOrientation(),
			Drawings: dm, Source: a.makerDrawings(),
		})
	}()
	return l, nil
}

// comicOrientation is comic.orientation (validated with the config).
func (a *app) comicOrientation() comic.Orientation {
	o, err := comic.ParseOrientation(a.cfg.Comic.Orientation)
	if err != nil {
		return comic.OrientAuto
	}
	return o
}

// lazyComic loads the art pack in the background: the built-in pack was
// checked when it was built, but a maker's drawings are checked the first
// time they are seen (seconds on a Pi Zero), and the appliance should
// answer at once. The scene starts when its pack is ready.
type lazyComic struct {
	ready chan struct{}
	scene *comic.Scene // set before ready closes
}

func (l *lazyComic) Name() string { return comic.Name }

// Help implements scene.Helper: the scene's own, once its pack is loaded.
func (l *lazyComic) Help() scene.Help {
	select {
	case <-l.ready:
		return l.scene.Help()
	default:
		return scene.Help{A: "nothing yet: the art pack is loading"}
	}
}

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
	var p *comic.Pack
	var probs []comic.Problem
	var err error
	if dir == "" {
		p, probs, err = comic.LoadBuiltinPack(art.Pack()) // checked by the tests
	} else {
		// A maker's pack may stand on the built-in one ("base").
		p, probs, err = comic.LoadPackOn(os.DirFS(dir), art.Pack())
	}
	for _, pr := range probs {
		log.Warn(pr.String())
	}
	return p, err
}

// mountComic adds the gallery to the web server.
func (a *app) mountComic(srv *web.Server) {
	srv.MountComic(&comicGallery{a: a})
	a.mountDrawings(srv)
}

// comicGallery is the archive for the web gallery.
type comicGallery struct{ a *app }

func (g *comicGallery) Comics(ctx context.Context) ([]store.Comic, error) {
	return g.a.store.Comics(ctx, 0)
}

func (g *comicGallery) ComicFile(n int64) string { return comic.ArchiveFile(g.a.comicDir(), n) }

// Paper is how strips print: the paper's width in dots and the orientation.
func (g *comicGallery) Paper() (int, comic.Orientation) {
	return g.a.cfg.Printer.Width, g.a.comicOrientation()
}

// PaperForm is strip n as a reprint puts it on paper: its archive copy
// turned for the paper, scaled to the printer's width and dithered as the
// printer's settings say, black dots on white.
func (g *comicGallery) PaperForm(ctx context.Context, n int64) (image.Image, error) {
	if _, err := g.a.store.Comic(ctx, n); err != nil {
		return nil, err
	}
	img, err := comic.ReadArchive(g.a.comicDir(), n)
	if err != nil {
		return nil, fmt.Errorf("%w: strip #%d: %w", comic.ErrNoArchive, n, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := escpos.DefaultOpts()
	o.Width = g.a.cfg.Printer.Width
	// As appliance/board sets the printer up.
	switch g.a.cfg.Printer.Dither {
	case config.DitherAtkinson:
		o.Dither = escpos.Atkinson
	case config.DitherOrdered:
		o.Dither = escpos.Bayer
	case config.DitherThreshold:
		o.Dither = escpos.Threshold
	default:
		o.Dither = escpos.FloydSteinberg
	}
	return escpos.Dither(comic.PaperForm(img, g.a.comicOrientation()), o.Width, o).Gray(), nil
}

// Reprint queues the strip through the print queue's gate and wakes the
// scene's print worker (if the comic scene is not running, the job prints
// when it next runs). A strip whose archive file is missing is refused.
func (g *comicGallery) Reprint(ctx context.Context, n int64) (int64, error) {
	job, err := g.a.printQueue().Reprint(ctx, n)
	if err != nil {
		if errors.Is(err, comic.ErrQueueFull) {
			return 0, fmt.Errorf("%w: %w", web.ErrComicQueueFull, err)
		}
		return 0, err
	}
	if g.a.loop != nil {
		if err := g.a.loop.Send(scene.Event{Kind: scene.KindCommand, Command: comic.CommandWake}); err != nil {
			g.a.log.Debug("comic: wake", "err", err)
		}
	}
	g.a.record("info", comic.Name, fmt.Sprintf("strip #%d queued for reprint from the web", n))
	return job, nil
}

// PrintNew asks the comic scene for a new strip, as A does. The queue is
// checked first so a full one is refused with an answer; the scene's own
// Reserve still enforces the limit (the one place it is counted).
func (g *comicGallery) PrintNew(ctx context.Context) error {
	q := g.a.printQueue()
	n, err := q.Len(ctx)
	if err != nil {
		return err
	}
	if n >= q.Max() {
		return fmt.Errorf("%w (%d waiting)", web.ErrComicQueueFull, n)
	}
	if g.a.loop == nil {
		return errors.New("comic: no scene loop")
	}
	// A command, not a press: were the scene to change meanwhile, another
	// scene ignores it instead of doing its own A.
	return g.a.loop.Send(scene.Event{Kind: scene.KindCommand, Command: comic.CommandPrint})
}

// PrintQueue lists the print jobs, next to print first.
func (g *comicGallery) PrintQueue(ctx context.Context) ([]web.PrintJob, int, error) {
	jobs, err := g.a.store.PendingPrints(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]web.PrintJob, len(jobs))
	for i, j := range jobs {
		out[i] = web.PrintJob{ID: j.ID, Strip: j.Comic, Attempts: j.Attempts, LastError: j.LastError}
	}
	return out, g.a.printQueue().Max(), nil
}

// dropUnfinishedComics tidies the archive after a power cut or a kill,
// before the comic scene or the gallery uses it: the temporary files of
// interrupted writes; files of strips never indexed (a kill between the
// PNG's rename and the row) or half deleted (between the row's delete and
// the files'); and rows an older version wrote before their PNG. A strip
// the cut caught before its archive was indexed is still recorded as being
// made: the comic scene writes its archive again, from its seed, when it
// runs (its files here are removed first, like any without a row).
func (a *app) dropUnfinishedComics() {
	ctx := context.Background()
	dir := a.comicDir()
	if k, err := comic.CleanTemp(dir); err != nil {
		a.record("error", comic.Name, err.Error())
	} else if k > 0 {
		a.record("warn", comic.Name, fmt.Sprintf("removed %d temporary files of interrupted archive writes", k))
	}
	g := &comicGallery{a: a}
	ns, err := a.store.UnfinishedComics(ctx)
	if err != nil {
		a.record("error", comic.Name, err.Error())
		return
	}
	for _, n := range ns {
		if err := g.removeComic(ctx, n); err != nil {
			a.record("error", comic.Name, err.Error())
			continue
		}
		a.record("warn", comic.Name, fmt.Sprintf("strip #%d was interrupted (power cut?) before its archive was written; removed", n))
	}
	// Only numbers this database handed out: files beyond them are not
	// ours to judge.
	top, err := a.store.ReservedComics(ctx)
	if err != nil {
		a.record("error", comic.Name, err.Error())
		return
	}
	entries, _ := os.ReadDir(dir) // no archive yet: nothing to tidy
	seen := map[int64]bool{}
	for _, e := range entries {
		stem, ext, _ := strings.Cut(e.Name(), ".")
		n, err := strconv.ParseInt(stem, 10, 64)
		if err != nil || n <= 0 || n > top || (ext != "png" && ext != "json") || seen[n] {
			continue
		}
		seen[n] = true
		if _, err := a.store.Comic(ctx, n); !errors.Is(err, store.ErrNoComic) {
			continue
		}
		if err := comic.RemoveArchive(dir, n); err != nil {
			a.record("error", comic.Name, err.Error())
			continue
		}
		a.record("warn", comic.Name, fmt.Sprintf("strip #%d: removed archive files left by an interrupted write or delete", n))
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
	g.a.printQueue().Invalidate() // its queued prints went with it
	return comic.RemoveArchive(g.a.comicDir(), n)
}
