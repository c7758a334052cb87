package web

import (
	"context"
	"errors"
	"fmt"
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
	Reprint(ctx context.Context, n int64) error
	DeleteComic(ctx context.Context, n int64) error
}

type comicPage struct {
	Name    string
	Version string
	CSRF    string
}

// MountComic adds the comic gallery: the page /comics, the list
// /api/comics, the archive PNGs /comics/{n}.png (?download=1 to save), and
// POST /api/comics/{n}/reprint, DELETE /api/comics/{n}.
func (s *Server) MountComic(g ComicGallery) {
	s.Handle("GET /comics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusOK, "comic.html", comicPage{Name: s.name, Version: s.version, CSRF: authFrom(r.Context()).csrf})
	}))
	s.Handle("GET /api/comics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := g.Comics(r.Context())
		if err != nil {
			s.log.Error("web: comics", "err", err)
			writeError(w, http.StatusInternalServerError, "the archive could not be read")
			return
		}
		writeJSON(w, http.StatusOK, list)
	}))
	s.Handle("GET /comics/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		if err := g.Reprint(r.Context(), n); err != nil {
			s.comicError(w, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"queued": n})
	}))
	s.Handle("DELETE /api/comics/{n}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}))
}

// ErrComicQueueFull is what a gallery returns when the print queue is full.
var ErrComicQueueFull = errors.New("the print queue is full")

func (s *Server) comicError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrNoComic):
		writeError(w, http.StatusNotFound, "no such strip")
	case errors.Is(err, ErrComicQueueFull):
		writeError(w, http.StatusConflict, "the print queue is full: wait for the printer")
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
