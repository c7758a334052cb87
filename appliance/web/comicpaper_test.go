package web

import (
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"testing"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/comic"
)

// paperGallery is the fake gallery with a printer: strip 2 is a wide strip
// (1968×1118, turned along the paper), strip 1 a tall one (1008×2078).
type paperGallery struct{ *fakeGallery }

func (paperGallery) Comics(ctx context.Context) ([]store.Comic, error) {
	return []store.Comic{{N: 2, Width: 1968, Height: 1118}, {N: 1, Width: 1008, Height: 2078}}, nil
}
func (paperGallery) Paper() (int, comic.Orientation) { return 384, comic.OrientAuto }
func (paperGallery) PaperForm(ctx context.Context, n int64) (image.Image, error) {
	if n != 2 {
		return nil, store.ErrNoComic
	}
	g := image.NewGray(image.Rect(0, 0, 384, 676))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	g.SetGray(10, 20, color.Gray{}) // one black dot
	return g, nil
}

// The gallery lists each strip's size on paper and serves its paper form
// as a 1-bit PNG, one pixel a dot; without a printer neither is offered.
func TestComicPaperForm(t *testing.T) {
	f := newFixture(t)
	f.srv.MountComic(paperGallery{&fakeGallery{max: 3}})
	w := f.do(basic(req("GET", "/api/comics", "")))
	var list []struct {
		N     int64
		Paper *struct {
			Along    bool    `json:"along"`
			AcrossMM float64 `json:"across_mm"`
			AlongMM  float64 `json:"along_mm"`
		}
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list) != 2 || list[0].Paper == nil || list[1].Paper == nil {
		t.Fatalf("list = %d %s", w.Code, w.Body)
	}
	if p := *list[0].Paper; !p.Along || p.AcrossMM != 48 || p.AlongMM != 84.5 {
		t.Errorf("wide strip on paper: %+v, want along, 48 x 84.5 mm", p)
	}
	if p := *list[1].Paper; p.Along || p.AcrossMM != 48 || p.AlongMM != 99 {
		t.Errorf("tall strip on paper: %+v, want across, 48 x 99 mm", p)
	}

	if w := f.do(req("GET", "/comics/2-paper.png", "")); w.Code != http.StatusUnauthorized && w.Code != http.StatusSeeOther && w.Code != http.StatusFound {
		t.Errorf("paper form without credentials = %d", w.Code)
	}
	w = f.do(basic(req("GET", "/comics/2-paper.png", "")))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("paper form = %d %s", w.Code, w.Header())
	}
	img, err := png.Decode(w.Body)
	if err != nil || img.Bounds() != image.Rect(0, 0, 384, 676) {
		t.Fatalf("paper form %v, %v", img.Bounds(), err)
	}
	if r, _, _, _ := img.At(10, 20).RGBA(); r != 0 {
		t.Error("the black dot is not black")
	}
	if r, _, _, _ := img.At(11, 20).RGBA(); r != 0xffff {
		t.Error("a white dot is not white")
	}
	for _, path := range []string{"/comics/1-paper.png", "/comics/x-paper.png", "/comics/02-paper.png"} {
		if w := f.do(basic(req("GET", path, ""))); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}

	// A gallery without a printer's paper: no sizes, no paper form.
	f2 := newFixture(t)
	f2.srv.MountComic(&fakeGallery{max: 3})
	w = f2.do(basic(req("GET", "/api/comics", "")))
	list = nil
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list) != 3 || list[0].Paper != nil {
		t.Fatalf("list without paper = %d %s", w.Code, w.Body)
	}
	if w := f2.do(basic(req("GET", "/comics/2-paper.png", ""))); w.Code != http.StatusNotFound {
		t.Errorf("paper form without a printer = %d", w.Code)
	}
}
