package web

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/spycam"
)

const spycamListLen = 30

// SpycamCaptures lists and opens the spy-cam's saved captures
// (*store.Captures implements it).
type SpycamCaptures interface {
	CaptureGroups(ctx context.Context, n int) ([]store.CaptureGroup, error)
	OpenCapture(name string) (*os.File, error)
}

// SpycamCaptureEditor is what the value given to MountSpycam may also do:
// list a capture's frames and delete a capture (*store.Captures does).
type SpycamCaptureEditor interface {
	CaptureFiles(id string) ([]string, error)
	DeleteCapture(id string) (int, error)
}

// SpycamSnapshotter takes a snapshot capture through the running spy-cam
// scene; the value given to MountSpycam may implement it.
type SpycamSnapshotter interface {
	Snapshot() error
}

// captureJSON is a capture group with the ID its download, playback and
// delete use.
type captureJSON struct {
	store.CaptureGroup
	ID string `json:"id"`
}

func capturesJSON(gs []store.CaptureGroup) []captureJSON {
	out := make([]captureJSON, len(gs))
	for i, g := range gs {
		out[i] = captureJSON{CaptureGroup: g, ID: store.CaptureID(g)}
	}
	return out
}

// SpycamStats is what GET /api/spycam returns.
type SpycamStats struct {
	Online  bool    `json:"online"`
	Viewers int     `json:"viewers"` // open /stream.mjpg connections
	FPS     float64 `json:"fps"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	Frames  uint64  `json:"frames"` // from the camera since start
	Parts   uint64  `json:"parts"`  // frames sent to viewers since start
	Error   string  `json:"error"`
}

type spycamWeb struct {
	s            *Server
	captures     SpycamCaptures // nil: no capture list
	writeTimeout time.Duration
	viewers      atomic.Int64
	parts        atomic.Uint64

	awakeMu sync.Mutex
	awake   bool            // keepAwake runs
	asked   context.Context // done already: keepAwake's asking never waits
}

type spycamData struct {
	Frame
	Scene    sceneInfo
	Captures []captureJSON
	CanEdit  bool // captures can be deleted and downloaded as a zip
}

// MountSpycam adds the spy-cam: the live MJPEG stream /stream.mjpg, the page
// /spycam, its stats /api/spycam and the saved captures. captures may be nil.
// Everything is behind authentication.
func (s *Server) MountSpycam(captures SpycamCaptures) {
	s.mountSpycam(captures, streamWriteTimeout)
}

func (s *Server) mountSpycam(captures SpycamCaptures, writeTimeout time.Duration) *spycamWeb {
	asked, cancel := context.WithCancel(context.Background())
	cancel()
	v := &spycamWeb{s: s, captures: captures, writeTimeout: writeTimeout, asked: asked}
	s.Handle("GET /stream.mjpg", http.HandlerFunc(v.stream))
	s.Handle("GET /spycam", http.HandlerFunc(v.page))
	s.Handle("GET /api/spycam", http.HandlerFunc(v.stats))
	s.Handle("GET /api/spycam/captures", http.HandlerFunc(v.list))
	s.Handle("GET /spycam/captures/{name}", http.HandlerFunc(v.file))
	s.Handle("POST /api/spycam/snapshot", http.HandlerFunc(v.snapshot))
	s.Handle("DELETE /api/spycam/captures/{id}", http.HandlerFunc(v.remove))
	s.Handle("POST /api/spycam/captures/{id}/delete", http.HandlerFunc(v.remove))
	return v
}

func (v *spycamWeb) editor() SpycamCaptureEditor {
	e, _ := v.captures.(SpycamCaptureEditor)
	return e
}

// snapshot saves a snapshot capture; only the spy-cam scene takes them.
func (v *spycamWeb) snapshot(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if err := decodeBody(w, r, &body); err != nil {
		writeBodyError(w, err)
		return
	}
	snap, ok := v.captures.(SpycamSnapshotter)
	if !ok {
		writeError(w, http.StatusNotFound, "this appliance saves no captures")
		return
	}
	if !v.s.requireScene(w, spycam.Name, "the spy-cam") {
		return
	}
	if err := snap.Snapshot(); err != nil {
		v.s.log.Warn("web: spycam snapshot", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the appliance is busy: try again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"requested": "snapshot"})
}

// remove deletes one capture (all its frames).
func (v *spycamWeb) remove(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if err := decodeBody(w, r, &body); err != nil {
		writeBodyError(w, err)
		return
	}
	e := v.editor()
	if e == nil {
		writeError(w, http.StatusNotFound, "no captures")
		return
	}
	id := r.PathValue("id")
	n, err := e.DeleteCapture(id)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		writeError(w, http.StatusNotFound, "no such capture")
	case err != nil:
		v.s.log.Error("web: spycam delete", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "the capture could not be deleted completely")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"deleted": id, "frames": n})
	}
}

// zip sends capture id's frames as one zip file (stored, not compressed:
// JPEGs do not shrink), written as it is read.
func (v *spycamWeb) zip(w http.ResponseWriter, r *http.Request, id string) {
	e := v.editor()
	if e == nil {
		writeError(w, http.StatusNotFound, "no captures")
		return
	}
	names, err := e.CaptureFiles(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, http.StatusNotFound, "no such capture")
			return
		}
		v.s.log.Error("web: spycam zip", "err", err)
		writeError(w, http.StatusInternalServerError, "list capture")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="tinkerbox-`+id+`.zip"`)
	zw := zip.NewWriter(w)
	for _, name := range names {
		if err := v.zipFile(zw, name); err != nil {
			// Headers are gone: a cut-off zip is what the client sees.
			v.s.log.Warn("web: spycam zip", "file", name, "err", err)
			return
		}
	}
	if err := zw.Close(); err != nil {
		v.s.log.Debug("web: spycam zip", "err", err)
	}
}

func (v *spycamWeb) zipFile(zw *zip.Writer, name string) error {
	f, err := v.captures.OpenCapture(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Method = name, zip.Store
	dst, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, f)
	return err
}

func (v *spycamWeb) groups(ctx context.Context) ([]store.CaptureGroup, error) {
	if v.captures == nil {
		return []store.CaptureGroup{}, nil
	}
	return v.captures.CaptureGroups(ctx, spycamListLen)
}

func (v *spycamWeb) page(w http.ResponseWriter, r *http.Request) {
	g, err := v.groups(r.Context())
	if err != nil {
		v.s.log.Error("web: spycam captures", "err", err)
	}
	v.s.render(w, http.StatusOK, "spycam.html", spycamData{
		Frame: v.s.Frame(r, "spycam"), Scene: v.s.sceneInfo(spycam.Name, "spy-cam"), Captures: capturesJSON(g), CanEdit: v.editor() != nil,
	})
}

func (v *spycamWeb) stats(w http.ResponseWriter, r *http.Request) {
	c := v.s.app.State().Camera
	writeJSON(w, http.StatusOK, SpycamStats{
		Online: c.Online && v.s.camera != nil, Viewers: int(v.viewers.Load()), FPS: c.FPS,
		Width: c.Width, Height: c.Height, Frames: c.Frames, Parts: v.parts.Load(), Error: c.Error,
	})
}

func (v *spycamWeb) list(w http.ResponseWriter, r *http.Request) {
	g, err := v.groups(r.Context())
	if err != nil {
		v.s.log.Error("web: spycam captures", "err", err)
		writeError(w, http.StatusInternalServerError, "list captures: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, capturesJSON(g))
}

func (v *spycamWeb) file(w http.ResponseWriter, r *http.Request) {
	if v.captures == nil {
		writeError(w, http.StatusNotFound, "no captures")
		return
	}
	if id, ok := strings.CutSuffix(r.PathValue("name"), ".zip"); ok {
		v.zip(w, r, id)
		return
	}
	f, err := v.captures.OpenCapture(r.PathValue("name"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, http.StatusNotFound, "no such capture")
			return
		}
		v.s.log.Error("web: spycam capture", "err", err)
		writeError(w, http.StatusInternalServerError, "open capture")
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "open capture")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400") // a capture never changes
	http.ServeContent(w, r, info.Name(), info.ModTime(), f)
}
