package web

import (
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"

	"tinkerbox/images/imgdecode"
)

// SheetSim is the simulator's camera seen from the front panel: it can
// photograph a sheet of paper (a drawing or a scan the maker chooses), so
// the comic scene's drawing mode works without a Pi.
type SheetSim interface {
	// ShowSheet lays img under the camera, as paper on a table.
	ShowSheet(img image.Image) error
	// ClearSheet takes it away: the camera shows its own scene again.
	ClearSheet()
}

// maxSheetFile caps a sheet upload: a phone photo or a 600 dpi scan.
const maxSheetFile = 32 << 20

// MountSheetSim adds the front panel's "sheet under the camera" (the
// simulator only; nil mounts nothing).
func (s *Server) MountSheetSim(sim SheetSim) {
	if sim == nil {
		return
	}
	s.sheetSim = sim
	s.HandleUpload("/api/sim/camera/sheet", []string{"image/png", "image/jpeg"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxSheetFile {
			closeUnread(w, r)
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the picture is larger than %d MiB", maxSheetFile>>20))
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSheetFile))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the picture is larger than %d MiB", maxSheetFile>>20))
				return
			}
			writeError(w, http.StatusBadRequest, "reading the picture: "+err.Error())
			return
		}
		img, err := imgdecode.DecodeBytes(b, "the picture", imgdecode.Photo())
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		if err := sim.ShowSheet(img); err != nil {
			writeError(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		s.log.Info("web: sim: a sheet is under the camera", "size", img.Bounds().Size().String())
		writeJSON(w, http.StatusOK, map[string]any{"sheet": true, "width": img.Bounds().Dx(), "height": img.Bounds().Dy()})
	}))
	s.Handle("DELETE /api/sim/camera/sheet", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sim.ClearSheet()
		writeJSON(w, http.StatusOK, map[string]any{"sheet": false})
	}))
}
