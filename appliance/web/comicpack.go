package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"tinkerbox/scenes/comic"
)

// ComicPack is the maker's pack as the editor on /comics sees it.
type ComicPack interface {
	Pack() *comic.MakerPack
	// AddPhotos cleans each photo (PNG/JPEG bytes; a sheet may hold several drawings) into drawings
	// and adds them; progress is called after each photo. Errors name the photo.
	AddPhotos(ctx context.Context, photos []NamedPhoto, progress func(done, total int)) ([]comic.ImageSpec, error)
	// Capture photographs the sheet under the camera and adds its drawings; ErrNoCamera when there is none.
	Capture(ctx context.Context) ([]comic.ImageSpec, error)
	// Changed tells the running comic scene the pack changed (it reloads).
	Changed()
}

// NamedPhoto is an uploaded picture and the name the maker gave it.
type NamedPhoto struct {
	Name string
	Data []byte
}

// ErrNoCamera is Capture's error on an appliance without a camera.
var ErrNoCamera = errors.New("web: there is no camera")

// Pack editor limits.
const (
	maxPhotoUpload = 64 << 20 // one upload, all its pictures
	maxPhoto       = 32 << 20 // one picture: a phone's JPEG, a 600 dpi scan
	maxPhotos      = 16       // pictures in one upload
	// addTimeout bounds the clean-up of an upload or a capture: a Pi Zero
	// takes seconds a photo. What has arrived is added even if the browser
	// goes away.
	addTimeout = 5 * time.Minute
	// previewSide is the preview strip's longer side on screen.
	previewSide = 900
	maxSpecBody = 8 << 10
)

const noPackReason = "The maker's pack is not available on this tinkerbox."

// packDrawing is a drawing in GET /api/comics/pack: its manifest entry,
// its size in pixels (what the focal rectangle is measured in), where to
// fetch it and whether it can be deleted here.
type packDrawing struct {
	comic.ImageSpec
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	URL       string `json:"url"`
	Removable bool   `json:"removable"`
}

// packProblem is one problem as `tinkerbox comic check` prints it
// (Message), and the file and field it is about.
type packProblem struct {
	File    string `json:"file"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// packJSON is GET /api/comics/pack.
type packJSON struct {
	Available bool          `json:"available"`
	Reason    string        `json:"reason,omitempty"` // why not available
	Name      string        `json:"name,omitempty"`
	Base      string        `json:"base,omitempty"`
	Cell      int           `json:"cell,omitempty"`
	Themes    []string      `json:"themes"`
	Drawings  []packDrawing `json:"drawings"`
	Problems  []packProblem `json:"problems"`
	// Error says why the pack cannot make a strip, as comic check would
	// ("" when it can, or when there is no drawing yet).
	Error string `json:"error,omitempty"`
}

func problemsJSON(probs []comic.Problem) []packProblem {
	out := make([]packProblem, len(probs))
	for i, p := range probs {
		out[i] = packProblem{File: p.File, Field: p.Field, Message: p.String()}
	}
	return out
}

// packURL is where GET /comics/pack/ serves file.
func packURL(file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/comics/pack/" + strings.Join(parts, "/")
}

func drawingJSON(d comic.Drawing) packDrawing {
	return packDrawing{ImageSpec: d.ImageSpec, Width: d.Width, Height: d.Height, URL: packURL(d.File), Removable: d.Removable}
}

// MountComicPack adds the maker's pack editor on /comics (nil: the editor says the maker's pack is not available):
//
//	GET    /api/comics/pack                   the pack: its drawings, and its problems as comic check gives them
//	GET    /comics/pack/{file...}             a drawing the manifest lists
//	PUT    /api/comics/pack/drawings/{file...} a drawing's settings (JSON ImageSpec): 200 with the pack's problems, 422 with the one that refuses them
//	DELETE /api/comics/pack/drawings/{file...} a drawing added here, and its file
//	POST   /api/comics/pack/photos            pictures (multipart/form-data, fields "photo") cleaned into drawings
//	POST   /api/comics/pack/capture           the sheet under the camera, cleaned into drawings (503 without a camera)
//	POST   /api/comics/pack/preview           {"spec": ImageSpec, "seed": N}: a strip that shows the drawing so set, as PNG
//
// Each change but a preview tells the running scene (ComicPack.Changed).
func (s *Server) MountComicPack(p ComicPack) {
	if p == nil {
		s.Handle("GET /api/comics/pack", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, packJSON{Reason: noPackReason, Themes: []string{}, Drawings: []packDrawing{}, Problems: []packProblem{}})
		}))
		none := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			closeUnread(w, r)
			writeError(w, http.StatusServiceUnavailable, noPackReason)
		})
		for _, pat := range []string{"PUT /api/comics/pack/drawings/{file...}", "DELETE /api/comics/pack/drawings/{file...}",
			"POST /api/comics/pack/capture", "POST /api/comics/pack/preview"} {
			s.Handle(pat, none)
		}
		s.HandleUpload("/api/comics/pack/photos", []string{"multipart/form-data"}, none)
		return
	}
	e := &packEditor{s: s, p: p, adding: make(chan struct{}, 1), drawing: make(chan struct{}, 1)}
	s.Handle("GET /api/comics/pack", http.HandlerFunc(e.get))
	s.Handle("GET /comics/pack/{file...}", http.HandlerFunc(e.file))
	s.Handle("PUT /api/comics/pack/drawings/{file...}", http.HandlerFunc(e.set))
	s.Handle("DELETE /api/comics/pack/drawings/{file...}", http.HandlerFunc(e.remove))
	s.HandleUpload("/api/comics/pack/photos", []string{"multipart/form-data"}, http.HandlerFunc(e.photos))
	s.Handle("POST /api/comics/pack/capture", http.HandlerFunc(e.capture))
	s.Handle("POST /api/comics/pack/preview", http.HandlerFunc(e.preview))
}

// packEditor serves the editor's routes.
type packEditor struct {
	s *Server
	p ComicPack
	// One upload or capture at a time (a Pi Zero cleans one sheet at a
	// time), and one preview drawn at a time.
	adding, drawing chan struct{}
}

func (e *packEditor) get(w http.ResponseWriter, r *http.Request) {
	mp := e.p.Pack()
	out := packJSON{Available: true, Themes: []string{}, Drawings: []packDrawing{}, Problems: []packProblem{}}
	man, err := mp.Manifest()
	if err != nil {
		out.Error = err.Error()
		writeJSON(w, http.StatusOK, out)
		return
	}
	out.Name, out.Base, out.Cell = man.Name, man.Base, man.Cell
	list, err := mp.Drawings()
	if err != nil {
		out.Error = err.Error()
		writeJSON(w, http.StatusOK, out)
		return
	}
	for _, d := range list {
		out.Drawings = append(out.Drawings, drawingJSON(d))
	}
	if len(list) > 0 {
		pack, probs, err := mp.Check()
		out.Problems = problemsJSON(probs)
		if err != nil {
			out.Error = err.Error()
		} else {
			out.Themes = pack.Themes()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// file serves a drawing the manifest lists (and nothing else of the folder).
func (e *packEditor) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	f, err := e.p.Pack().Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	rs, ok := f.(io.ReadSeeker)
	if err != nil || !ok || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".png":
		w.Header().Set("Content-Type", "image/png")
	case ".jpg", ".jpeg":
		w.Header().Set("Content-Type", "image/jpeg")
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", st.ModTime(), rs)
}

// decodeStrict reads a small JSON body into v, refusing unknown fields: a
// misspelt setting must not be dropped silently.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	if !jsonRequest(r) {
		return errNotJSON
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSpecBody))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body is not the expected JSON object: %w", err)
	}
	return nil
}

// packError answers an error of the maker's pack.
func (e *packEditor) packError(w http.ResponseWriter, err error) {
	var inv *comic.InvalidError
	switch {
	case errors.As(err, &inv):
		writeJSON(w, http.StatusUnprocessableEntity, struct {
			Error    string        `json:"error"`
			Problems []packProblem `json:"problems"`
		}{inv.Error(), problemsJSON([]comic.Problem{inv.Problem})})
	case errors.Is(err, comic.ErrBadFile):
		writeError(w, http.StatusBadRequest, "that is not the name of a file in your pack")
	case errors.Is(err, comic.ErrNoDrawing):
		writeError(w, http.StatusNotFound, "there is no such drawing in your pack")
	case errors.Is(err, comic.ErrNotRemovable), errors.Is(err, comic.ErrPackFull):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, comic.ErrNoPanel):
		writeError(w, http.StatusUnprocessableEntity, err.Error()+": make its focal area or its minimum panel size smaller")
	default:
		e.s.log.Error("web: comic pack", "err", err)
		writeError(w, http.StatusInternalServerError, "that did not work: "+err.Error())
	}
}

func (e *packEditor) set(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	var spec comic.ImageSpec
	if err := decodeStrict(w, r, &spec); err != nil {
		writeBodyError(w, err)
		return
	}
	if spec.File == "" {
		spec.File = file
	}
	if spec.File != file {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the settings are for %q, the address for %q", spec.File, file))
		return
	}
	probs, err := e.p.Pack().Set(file, spec)
	if err != nil {
		e.packError(w, err)
		return
	}
	e.p.Changed()
	writeJSON(w, http.StatusOK, struct {
		Drawing  comic.ImageSpec `json:"drawing"`
		Problems []packProblem   `json:"problems"`
	}{spec, problemsJSON(probs)})
}

func (e *packEditor) remove(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if err := e.p.Pack().Remove(file); err != nil {
		e.packError(w, err)
		return
	}
	e.p.Changed()
	writeJSON(w, http.StatusOK, map[string]string{"deleted": file})
}

// added answers an upload or a capture: the new drawings as GET lists
// them, and why some picture gave none.
func (e *packEditor) added(w http.ResponseWriter, specs []comic.ImageSpec, err error) {
	if len(specs) == 0 && err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	e.p.Changed()
	out := struct {
		Added []packDrawing `json:"added"`
		Error string        `json:"error,omitempty"`
	}{Added: []packDrawing{}}
	if err != nil {
		out.Error = err.Error()
	}
	list, lerr := e.p.Pack().Drawings()
	byFile := map[string]comic.Drawing{}
	for _, d := range list {
		byFile[d.File] = d
	}
	for _, sp := range specs {
		d, ok := byFile[sp.File]
		if !ok || lerr != nil {
			d = comic.Drawing{ImageSpec: sp}
		}
		out.Added = append(out.Added, drawingJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *packEditor) tryAdding(w http.ResponseWriter, r *http.Request) bool {
	select {
	case e.adding <- struct{}{}:
		return true
	default:
		closeUnread(w, r)
		writeError(w, http.StatusConflict, "other pictures are being added to your pack: wait for them to finish")
		return false
	}
}

// photos is POST /api/comics/pack/photos: every "photo" field of a
// multipart form, each a PNG or JPEG, at most maxPhotos of them and
// maxPhotoUpload in all. The body is read under a stall deadline of its own
// (a phone on a weak Wi-Fi takes longer than the server's ReadTimeout),
// then the pictures are cleaned up, even if the browser goes away.
func (e *packEditor) photos(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, msg string) {
		closeUnread(w, r)
		writeError(w, status, msg)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		refuse(http.StatusUnsupportedMediaType, "send the pictures as multipart/form-data, each in a field named photo")
		return
	}
	if r.ContentLength > maxPhotoUpload {
		refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d MiB: send fewer pictures at once", maxPhotoUpload>>20))
		return
	}
	if !e.tryAdding(w, r) {
		return
	}
	defer func() { <-e.adding }()
	bodyServed(r)
	rc := http.NewResponseController(w)
	body := &uploadBody{r: http.MaxBytesReader(w, r.Body, maxPhotoUpload), rc: rc, stall: e.s.uploadStall, count: func(int64) {}}
	body.arm()
	photos, status, msg := readPhotos(multipart.NewReader(body, params["boundary"]))
	if berr := body.failure(); berr != nil {
		switch {
		case errors.Is(berr, errUploadStalled):
			status, msg = http.StatusRequestTimeout, fmt.Sprintf("the upload stalled: nothing arrived for %s", e.s.uploadStall)
		case isMaxBytes(berr):
			status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than %d MiB: send fewer pictures at once", maxPhotoUpload>>20)
		default:
			status, msg = http.StatusBadRequest, "the upload broke off: "+berr.Error()
		}
	}
	if status != 0 {
		w.Header().Set("Connection", "close")
		writeError(w, status, msg)
		return
	}
	if body.drain() != nil {
		w.Header().Set("Connection", "close")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), addTimeout)
	defer cancel()
	start := time.Now()
	specs, err := e.p.AddPhotos(ctx, photos, func(done, total int) {
		e.s.log.Debug("web: comic pack: photo cleaned", "done", done, "total", total)
	})
	e.s.log.Info("web: comic pack: photos added", "photos", len(photos), "drawings", len(specs), "took", time.Since(start).Round(time.Millisecond), "err", err)
	rc.SetWriteDeadline(time.Now().Add(uploadWriteTimeout))
	e.added(w, specs, err)
}

// readPhotos reads the form's pictures; a non-zero status refuses it.
func readPhotos(mr *multipart.Reader) (photos []NamedPhoto, status int, msg string) {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, http.StatusBadRequest, "the form is broken: " + err.Error()
		}
		if part.FormName() != "photo" {
			io.Copy(io.Discard, part) // a field the editor does not send
			continue
		}
		name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "." || name == "/" {
			name = fmt.Sprintf("picture %d", len(photos)+1)
		}
		if len(photos) == maxPhotos {
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d pictures at once", maxPhotos)
		}
		data, err := io.ReadAll(io.LimitReader(part, maxPhoto+1))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Sprintf("%s: the upload broke off: %v", name, err)
		}
		if len(data) > maxPhoto {
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is larger than %d MiB", name, maxPhoto>>20)
		}
		if ct := http.DetectContentType(data); ct != "image/png" && ct != "image/jpeg" {
			return nil, http.StatusUnsupportedMediaType, fmt.Sprintf("%s is not a PNG or JPEG picture", name)
		}
		photos = append(photos, NamedPhoto{Name: name, Data: data})
	}
	if len(photos) == 0 {
		return nil, http.StatusBadRequest, "no picture in the upload: send each in a multipart/form-data field named photo"
	}
	return photos, 0, ""
}

func (e *packEditor) capture(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if err := decodeBody(w, r, &body); err != nil {
		writeBodyError(w, err)
		return
	}
	if !e.tryAdding(w, r) {
		return
	}
	defer func() { <-e.adding }()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), addTimeout)
	defer cancel()
	specs, err := e.p.Capture(ctx)
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(uploadWriteTimeout))
	if errors.Is(err, ErrNoCamera) {
		writeError(w, http.StatusServiceUnavailable, "this tinkerbox has no camera: upload photos or scans of the sheet instead")
		return
	}
	e.added(w, specs, err)
}

func (e *packEditor) preview(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Spec comic.ImageSpec `json:"spec"`
		Seed uint64          `json:"seed"`
	}
	if err := decodeStrict(w, r, &req); err != nil {
		writeBodyError(w, err)
		return
	}
	// One at a time: a Pi Zero draws one strip at a time anyway, and a
	// page that types fast must not queue a dozen.
	select {
	case e.drawing <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	defer func() { <-e.drawing }()
	mp := e.p.Pack()
	strip, err := mp.Preview(req.Spec, req.Seed)
	if err != nil {
		e.packError(w, err)
		return
	}
	width := previewSide
	if strip.Size.Y > strip.Size.X {
		width = max(1, previewSide*strip.Size.X/strip.Size.Y)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, mp.Render(strip, width)); err != nil {
		e.packError(w, err)
		return
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(uploadWriteTimeout))
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Comic-Grid", strip.Grid.ID)
	w.Write(buf.Bytes())
}
