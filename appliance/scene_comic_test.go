package appliance

import (
	"context"
	"encoding/json"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tinkerbox/appliance/board"
	"tinkerbox/appliance/config"
	"tinkerbox/appliance/store"
	"tinkerbox/drivers/escpos"
	"tinkerbox/drivers/sim"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/scene/fakeclock"
)

// msgHandler tells on ch each time msg is logged.
type msgHandler struct {
	msg string
	ch  chan struct{}
}

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgHandler) WithGroup(string) slog.Handler      { return h }

// A strip printed and then cut off by a power cut while its archive was
// written: the next start removes what the cut left (a temporary file, a
// half-written JSON), draws the strip again from its seed, archives it and
// lists it; it is not printed again. The gallery then shows it on paper,
// turned along the roll (a wide strip, comic.orientation auto).
func TestPowerCutMidArchiveIsFinishedAtStart(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pack, err := loadComicPack("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const seed = 8 // a wide strip in the default pack
	strip, err := pack.Compose(seed)
	if err != nil || strip.Grid.ID != "wide" {
		t.Fatalf("seed %d: %v %v", seed, strip.Grid.ID, err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := comic.Record{Seed: seed, At: at, Theme: strip.Theme, Character: strip.Character, Grid: strip.Grid.ID}
	if rec.N, err = st.BeginComic(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := st.PrintDone(ctx, comic.Job{Comic: rec.N, Making: &rec}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "comics")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	json := filepath.Join(dir, strconv.FormatInt(rec.N, 10)+".json")
	for name, body := range map[string]string{json: "{\n  \"n\": 1,", filepath.Join(dir, comic.TempPrefix+"123"): "half a PNG"} {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cfg := config.Default()
	cfg.Appliance.DataDir = data
	archived := make(chan struct{}, 1)
	a := &app{cfg: cfg, board: &board.Board{Lights: &board.Lights{}}, store: st, clock: fakeclock.New(at),
		log: slog.New(msgHandler{"comic: strip archived and queued", archived})}
	sc, err := a.comicScene()
	if err != nil {
		t.Fatal(err)
	}
	// The start-up tidying ran before the scene: nothing the cut left.
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("left after the start-up tidying: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("left after the start-up tidying: %v", left)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sc.Run(rctx, make(chan scene.Event)) }()
	select {
	case <-archived:
	case <-time.After(2 * time.Minute): // hang guard only
		t.Fatal("the interrupted strip was not archived")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	list, err := st.Comics(ctx, 0)
	if err != nil || len(list) != 1 || list[0].N != rec.N || list[0].Width < comic.ArchiveWidth || list[0].Queued != 0 {
		t.Fatalf("gallery %+v, %v; want strip %d archived, nothing queued", list, err, rec.N)
	}
	if _, err := comic.ReadArchive(dir, rec.N); err != nil {
		t.Fatal(err)
	}
	if un, _ := st.UnarchivedComics(ctx); len(un) != 0 {
		t.Fatalf("still unarchived: %+v", un)
	}
	if jobs, _ := st.PendingPrints(ctx); len(jobs) != 0 {
		t.Fatalf("printed again: %+v", jobs)
	}
	evs, _ := st.RecentEvents(ctx, 20)
	found := false
	for _, e := range evs {
		found = found || strings.Contains(e.Message, "was interrupted (power cut?) before its archive was written; drawn again")
	}
	if !found {
		t.Errorf("no event says the strip was drawn again: %+v", evs)
	}

	paper, err := (&comicGallery{a: a}).PaperForm(ctx, rec.N)
	if err != nil {
		t.Fatal(err)
	}
	if b := paper.Bounds(); b.Dx() != 384 || b.Dy() < 3*384/2 {
		t.Fatalf("paper form %v: want 384 dots across, turned along the roll", b)
	}
	if _, err := (&comicGallery{a: a}).PaperForm(ctx, rec.N+1); err == nil {
		t.Fatal("a paper form of a strip that does not exist")
	}
}

// firstLine is the link to the simulated printer that tells when the first
// dot line of a job reaches the paper.
type firstLine struct {
	p     *sim.Printer
	mu    sync.Mutex
	armed bool
	at    chan time.Time
}

func (f *firstLine) Write(b []byte) (int, error) {
	n, err := f.p.Write(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.armed && f.p.Rows() > 0 {
		f.armed = false
		f.at <- time.Now()
	}
	return n, err
}

func (f *firstLine) arm() {
	f.p.ClearRoll()
	f.mu.Lock()
	f.armed = true
	f.mu.Unlock()
}

// BenchmarkComicPressToPaper is a press of A in the comic scene to the
// first dot line on the simulated printer's paper, through the real path:
// the store (SQLite, synchronous), the default pack (comic.orientation
// auto), the ESC/POS encoder and the printer's decoder. The strip's
// archive is written after, untimed: each press starts from rest, from a
// scene started as the appliance starts it (nothing warmed up: the first
// press of each grid draws from the pack's reductions). archive-ms is
// press to archived.
// make bench also runs it under qemu-arm-static -cpu arm1176, one core, as
// a Pi Zero estimate.
func BenchmarkComicPressToPaper(b *testing.B) {
	ctx := context.Background()
	data := b.TempDir()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pack, err := loadComicPack("", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	link := &firstLine{p: sim.NewPrinter(&sim.PrinterOpts{Width: 384, MaxRows: 20000}), at: make(chan time.Time, 1)}
	dev, err := escpos.New(link, escpos.DefaultOpts())
	if err != nil {
		b.Fatal(err)
	}
	archived := make(chan struct{}, 1)
	clk := fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	sc := comic.New(pack, dev, nil, nil, st, clk, &comic.Opts{Dir: filepath.Join(data, "comics"), QueueMax: 50,
		Log: slog.New(msgHandler{"comic: strip archived and queued", archived}), Orientation: comic.OrientAuto})
	rctx, cancel := context.WithCancel(ctx)
	events := make(chan scene.Event)
	done := make(chan error, 1)
	go func() { done <- sc.Run(rctx, events) }()
	defer func() { cancel(); <-done }()
	var paper, archive []time.Duration
	for b.Loop() {
		b.StopTimer()
		clk.Advance(time.Second) // the seed: another strip each press
		link.arm()
		b.StartTimer()
		t0 := time.Now()
		events <- scene.Event{Kind: scene.KindPress, Button: scene.ButtonA, Press: scene.Short}
		paper = append(paper, (<-link.at).Sub(t0))
		b.StopTimer()
		<-archived
		archive = append(archive, time.Since(t0))
		b.StartTimer()
	}
	slices.Sort(paper)
	slices.Sort(archive)
	b.ReportMetric(float64(paper[len(paper)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(paper[len(paper)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(paper[len(paper)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(archive[len(archive)/2].Microseconds())/1000, "archive-ms")
}

// A maker's drawings are checked at the first start and remembered in the
// data dir's cache by their files' hashes: the next start takes what the
// check found from there (an entry altered to say another size is
// believed, which shows it is read rather than found again).
func TestMakerDrawingsCheckedOnce(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Appliance.DataDir = data
	// start is one start of the appliance: the maker's pack as it loads.
	start := func(add bool) *comic.Image {
		a := &app{cfg: cfg, board: &board.Board{Lights: &board.Lights{}}, store: st,
			clock: fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), log: slog.New(slog.DiscardHandler)}
		if add {
			ring := image.NewGray(image.Rect(0, 0, 300, 260))
			for y := range 260 {
				for x := range 300 {
					ring.Pix[y*ring.Stride+x] = 255
					if d := (x-150)*(x-150) + (y-130)*(y-130); d < 90*90 && d > 80*80 {
						ring.Pix[y*ring.Stride+x] = 0
					}
				}
			}
			if _, err := a.makerDrawings().Pack().Add([]image.Image{ring}); err != nil {
				t.Fatal(err)
			}
		}
		sc, err := a.comicScene()
		if err != nil {
			t.Fatal(err)
		}
		<-sc.(*lazyComic).ready
		p, err := a.makerDrawings().Load()
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range p.Images {
			if im.Theme == comic.DefaultMakerTheme {
				return im
			}
		}
		t.Fatal("the maker's drawing is not in the pack")
		return nil
	}
	first := start(true)
	caches, _ := filepath.Glob(filepath.Join(data, "cache", "pack-*.json"))
	if len(caches) != 1 {
		t.Fatalf("cache files %v, want one", caches)
	}
	raw, err := os.ReadFile(caches[0])
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Drawings []map[string]any `json:"drawings"`
	}
	if err := json.Unmarshal(raw, &f); err != nil || len(f.Drawings) != 1 {
		t.Fatalf("cache %s: %v", raw, err)
	}
	box := f.Drawings[0]["box"].([]any)
	box[2] = box[2].(float64) - 10
	raw, _ = json.Marshal(f)
	if err := os.WriteFile(caches[0], append([]byte(`{"format":"tinkerbox-comic-check-cache","version":1,`), raw[1:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if again := start(false); again.Bounds.Dx() != first.Bounds.Dx()-10 {
		t.Fatalf("the second start found a drawing %v wide, the cache says %d: it was checked again", again.Bounds.Dx(), first.Bounds.Dx()-10)
	}
}
