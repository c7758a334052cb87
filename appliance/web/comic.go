package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/comic"
)

// ComicGallery is the comic archive as the gallery sees it.
type ComicGallery interface {
	Comics(ctx context.Context) ([]store.Comic, error)
	// ComicFile is the archive PNG's path for strip n.
	ComicFile(n int64) string
	// Reprint queues strip n and returns its print job's id.
	Reprint(ctx context.Context, n int64) (int64, error)
	DeleteComic(ctx context.Context, n int64) error
	// PrintNew asks the running comic scene for a new strip, through the
	// print queue's one gate (ErrComicQueueFull when it is at its limit).
	PrintNew(ctx context.Context) error
	// PrintQueue lists the jobs waiting, oldest (next to print) first, and
	// the queue's limit.
	PrintQueue(ctx context.Context) (jobs []PrintJob, max int, err error)
}

// ComicPaper is what a gallery may add to show strips as they print.
type ComicPaper interface {
	// Paper is the printer's width in dots and how strips lie on the paper.
	Paper() (dots int, o comic.Orientation)
	// PaperForm is strip n as a reprint prints it: one pixel a dot, black
	// on white, turned if it prints along the paper.
	PaperForm(ctx context.Context, n int64) (image.Image, error)
}

// comicJSON is a strip in GET /api/comics: the store's fields, and its
// size on paper when the gallery knows the printer.
type comicJSON struct {
	store.Comic
	Paper *paperJSON `json:"paper,omitempty"`
}

// paperJSON is a strip on paper: turned along the roll or across it, and
// its size in millimetres (across the roll, along it).
type paperJSON struct {
	Along    bool    `json:"along"`
	AcrossMM float64 `json:"across_mm"`
	AlongMM  float64 `json:"along_mm"`
}

func paperOf(c store.Comic, dots int, o comic.Orientation) *paperJSON {
	sz, along := comic.PaperSize(c.Width, c.Height, dots, o)
	if sz.X == 0 {
		return nil
	}
	mm := func(d int) float64 { return math.Round(float64(d)*10/comic.DotsPerMM) / 10 }
	return &paperJSON{Along: along, AcrossMM: mm(sz.X), AlongMM: mm(sz.Y)}
}

// PrintJob is one print waiting in the comic queue.
type PrintJob struct {
	ID        int64  `json:"id"`
	Strip     int64  `json:"strip"`
	Position  int    `json:"position"` // 1: prints next
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
}

// printQueueJSON is GET /api/comics/queue.
type printQueueJSON struct {
	Count int        `json:"count"`
	Max   int        `json:"max"`
	Jobs  []PrintJob `json:"jobs"`
	// Running: the comic scene runs, so queued jobs print now; otherwise
	// they wait until it runs again.
	Running bool   `json:"running"`
	Scene   string `json:"scene"` // the scene that runs
}

type comicPage struct {
	Frame
	Scene sceneInfo
}

// sceneInfo tells a scene page whether its scene runs.
type sceneInfo struct {
	Name    string // the page's scene
	Label   string // how the page names it
	Current string // the scene that runs
	Running bool
}

func (s *Server) sceneInfo(name, label string) sceneInfo {
	cur := s.app.State().Scene
	return sceneInfo{Name: name, Label: label, Current: cur, Running: cur == name}
}

// sceneRefusal is the 409 of a scene action while another scene runs.
type sceneRefusal struct {
	Error   string `json:"error"`
	Scene   string `json:"scene"`   // the scene the action needs
	Current string `json:"current"` // the scene that runs
}

// requireScene answers 409 unless scene name runs: a scene action sent to
// whatever runs did something else (A on /cards printed a comic). what
// names the scene in the message ("the card feeder").
func (s *Server) requireScene(w http.ResponseWriter, name, what string) bool {
	cur := s.app.State().Scene
	if cur == name {
		return true
	}
	writeJSON(w, http.StatusConflict, sceneRefusal{
		Error: fmt.Sprintf("%s is not running (%s is): switch to %s first", what, cur, name),
		Scene: name, Current: cur,
	})
	return false
}

func (s *Server) printQueue(ctx context.Context, g ComicGallery) (printQueueJSON, error) {
	jobs, max, err := g.PrintQueue(ctx)
	if err != nil {
		return printQueueJSON{}, err
	}
	if jobs == nil {
		jobs = []PrintJob{}
	}
	for i := range jobs {
		jobs[i].Position = i + 1
	}
	cur := s.app.State().Scene
	return printQueueJSON{Count: len(jobs), Max: max, Jobs: jobs, Running: cur == comic.Name, Scene: cur}, nil
}

// MountComic adds the comic gallery: the page /comics, the list
// /api/comics, the archive PNGs /comics/{n}.png (?download=1 to save) and,
// when g is a ComicPaper, each strip as it prints, /comics/{n}-paper.png,
// POST /api/comics/{n}/reprint, DELETE /api/comics/{n}, the print queue
// GET /api/comics/queue and POST /api/comics/print (a new strip; only while
// the comic scene runs).
func (s *Server) MountComic(g ComicGallery) {
	s.Handle("GET /comics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusOK, "comic.html", comicPage{Frame: s.Frame(r, "comics"), Scene: s.sceneInfo(comic.Name, "comic")})
	}))
	s.Handle("GET /api/comics/queue", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := s.printQueue(r.Context(), g)
		if err != nil {
			s.log.Error("web: print queue", "err", err)
			writeError(w, http.StatusInternalServerError, "the print queue could not be read")
			return
		}
		writeJSON(w, http.StatusOK, q)
	}))
	s.Handle("POST /api/comics/print", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{}
		if err := decodeBody(w, r, &body); err != nil {
			writeBodyError(w, err)
			return
		}
		// Only the scene composes strips: its art pack is loaded when it runs.
		if !s.requireScene(w, comic.Name, "the comic scene") {
			return
		}
		if err := g.PrintNew(r.Context()); err != nil {
			s.comicError(w, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"requested": "new strip"})
	}))
	s.Handle("GET /api/comics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := g.Comics(r.Context())
		if err != nil {
			s.log.Error("web: comics", "err", err)
			writeError(w, http.StatusInternalServerError, "the archive could not be read")
			return
		}
		out := make([]comicJSON, len(list))
		var dots int
		var o comic.Orientation
		if paper, ok := g.(ComicPaper); ok {
			dots, o = paper.Paper()
		}
		for i, c := range list {
			out[i].Comic = c
			if dots > 0 {
				out[i].Paper = paperOf(c, dots, o)
			}
		}
		writeJSON(w, http.StatusOK, out)
	}))
	s.Handle("GET /comics/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stem, ok := strings.CutSuffix(r.PathValue("file"), "-paper.png"); ok {
			s.comicPaper(w, r, g, stem)
			return
		}
		n, ok := comicNumber(strings.TrimSuffix(r.PathValue("file"), ".png"))
		if !ok || !strings.HasSuffix(r.PathValue("file"), ".png") {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(g.ComicFile(n))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		if r.URL.Query().Get("download") != "" {
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="tinkerbox-comic-%d.png"`, n))
		}
		http.ServeContent(w, r, "", st.ModTime(), f)
	}))
	s.Handle("POST /api/comics/{n}/reprint", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, ok := comicNumber(r.PathValue("n"))
		if !ok {
			writeError(w, http.StatusBadRequest, "bad strip number")
			return
		}
		job, err := g.Reprint(r.Context(), n)
		if err != nil {
			s.comicError(w, err)
			return
		}
		// Where the reprint is, so the page can say so rather than wait
		// silently (e.g. for the comic scene to run).
		out := map[string]any{"queued": n}
		if q, err := s.printQueue(r.Context(), g); err == nil {
			out["queue"], out["running"] = q.Count, q.Running
			for _, j := range q.Jobs {
				if j.ID == job {
					out["position"] = j.Position
				}
			}
		}
		writeJSON(w, http.StatusAccepted, out)
	}))
	del := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, ok := comicNumber(r.PathValue("n"))
		if !ok {
			writeError(w, http.StatusBadRequest, "bad strip number")
			return
		}
		if err := g.DeleteComic(r.Context(), n); err != nil {
			s.comicError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"deleted": n})
	})
	s.Handle("DELETE /api/comics/{n}", del)
	s.Handle("POST /api/comics/{n}/delete", del) // for pages, which post JSON
}

// comicPaper serves strip stem as it prints: a 1-bit PNG, one pixel a
// dot. It is drawn from the archive copy on each request (the page asks
// for it only when a strip is opened).
func (s *Server) comicPaper(w http.ResponseWriter, r *http.Request, g ComicGallery, stem string) {
	paper, ok := g.(ComicPaper)
	n, okN := comicNumber(stem)
	if !ok || !okN {
		http.NotFound(w, r)
		return
	}
	img, err := paper.PaperForm(r.Context(), n)
	if err != nil {
		if errors.Is(err, store.ErrNoComic) || errors.Is(err, comic.ErrNoArchive) {
			http.NotFound(w, r)
			return
		}
		s.comicError(w, err)
		return
	}
	b := img.Bounds()
	bw := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), color.Palette{color.White, color.Black})
	for y := range b.Dy() {
		for x := range b.Dx() {
			if c := color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray); c.Y < 128 {
				bw.Pix[y*bw.Stride+x] = 1
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, bw); err != nil {
		s.comicError(w, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="tinkerbox-comic-%d-paper.png"`, n))
	}
	w.Write(buf.Bytes())
}

// ErrComicQueueFull is what a gallery returns when the print queue is full.
var ErrComicQueueFull = errors.New("the print queue is full")

func (s *Server) comicError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNoComic):
		writeError(w, http.StatusNotFound, "no such strip")
	case errors.Is(err, ErrComicQueueFull):
		writeError(w, http.StatusConflict, "the print queue is full: wait for the printer to catch up")
	case errors.Is(err, comic.ErrNoArchive):
		// Refused rather than accepted and then dropped by the printer.
		writeError(w, http.StatusGone, "this strip's archive file is missing: it cannot be reprinted")
	default:
		s.log.Error("web: comics", "err", err)
		writeError(w, http.StatusInternalServerError, "that did not work: see the event log")
	}
}

func comicNumber(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}
