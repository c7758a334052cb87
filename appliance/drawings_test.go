package appliance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fogleman/gg"

	"tinkerbox/appliance/config"
	art "tinkerbox/images/comic"
	"tinkerbox/images/sheet"
	"tinkerbox/scenes/comic"
)

// drawnSheet is a maker's sheet: three figures in thick pen on white paper
// (A5 at ~100 dpi), far enough apart to be three drawings.
func drawnSheet() image.Image {
	dc := gg.NewContext(600, 850)
	dc.SetRGB(1, 1, 1)
	dc.Clear()
	dc.SetRGB(0.05, 0.05, 0.08)
	dc.SetLineWidth(7)
	dc.SetLineCap(gg.LineCapRound)
	figure := func(x, y float64) { // a stick figure waving
		dc.DrawCircle(x, y, 38)
		dc.Stroke()
		dc.DrawLine(x, y+38, x, y+150)
		dc.DrawLine(x, y+80, x-60, y+40)
		dc.DrawLine(x, y+80, x+60, y+120)
		dc.DrawLine(x, y+150, x-45, y+230)
		dc.DrawLine(x, y+150, x+45, y+230)
		dc.Stroke()
	}
	figure(170, 120)
	figure(440, 120)
	// a house
	dc.DrawRectangle(180, 520, 240, 200)
	dc.MoveTo(160, 530)
	dc.LineTo(300, 420)
	dc.LineTo(440, 530)
	dc.DrawRectangle(270, 620, 60, 100)
	dc.Stroke()
	return dc.Image()
}

// cameraPhoto is the sheet as the simulator's camera takes it (what the
// front panel's "sheet under the camera" shows), as its JPEG.
func cameraPhoto(t testing.TB, w, h int) []byte {
	t.Helper()
	photo := sheet.Photo(drawnSheet(), sheet.PhotoOpts{Width: w, Height: h, Tilt: 4, Skew: 0.08, Shadow: 0.35, Noise: 3, Seed: 1})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, photo, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The drawing mode in the simulator, as a maker uses it: a sheet chosen on
// the front panel lies under the camera, A held in the comic scene adds its
// three drawings to the maker's pack (written where comic check reads it),
// the editor lists them, and an uploaded scan adds three more.
func TestDrawingsFromTheSimCameraEndToEnd(t *testing.T) {
	t.Setenv("TINKERBOX_PASSWORD", "drawings-test-pw")
	data := t.TempDir()
	out := &syncBuffer{seen: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Sim: true, DataDir: data, Listen: "127.0.0.1:0", Version: "test", Stdout: out, Stderr: io.Discard})
	}()
	defer func() { cancel(); <-done }()
	var url string
	for url == "" {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case <-out.seen:
		case err := <-done:
			t.Fatalf("Run: %v", err)
		case <-time.After(30 * time.Second): // hang guard
			t.Fatal("no URL")
		}
	}
	do := func(method, path, ct string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, bytes.NewReader(body))
		req.SetBasicAuth("admin", "drawings-test-pw")
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var paper bytes.Buffer
	if err := png.Encode(&paper, drawnSheet()); err != nil {
		t.Fatal(err)
	}
	if code, b := do("POST", "api/sim/camera/sheet", "image/png", paper.Bytes()); code != 200 {
		t.Fatalf("sheet under the camera: %d %s", code, b)
	}

	sctx, scancel := context.WithTimeout(context.Background(), 90*time.Second) // hang guard
	defer scancel()
	sreq, _ := http.NewRequestWithContext(sctx, "GET", url+"api/state/stream", nil)
	sreq.SetBasicAuth("admin", "drawings-test-pw")
	stream, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	// The comic scene runs first; its help says what A long does once its
	// pack is loaded. Then hold A.
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	waitFor := func(what string) {
		t.Helper()
		for sc.Scan() {
			if strings.Contains(sc.Text(), what) {
				return
			}
		}
		t.Fatalf("the state stream never showed %q: %v", what, sc.Err())
	}
	waitFor("photograph the sheet")
	if code, b := do("POST", "api/buttons/A", "application/json", []byte(`{"press":"long"}`)); code != 200 {
		t.Fatalf("hold A: %d %s", code, b)
	}
	waitFor("drawings added to your pack from the camera")

	type listing struct {
		Base     string `json:"base"`
		Drawings []struct {
			File  string `json:"file"`
			Theme string `json:"theme"`
		} `json:"drawings"`
		Problems []struct {
			Message string `json:"message"`
		} `json:"problems"`
	}
	list := func() listing {
		t.Helper()
		code, b := do("GET", "api/comics/pack", "", nil)
		var l listing
		if code != 200 || json.Unmarshal(b, &l) != nil {
			t.Fatalf("GET /api/comics/pack: %d %s", code, b)
		}
		return l
	}
	l := list()
	if len(l.Drawings) != 3 || len(l.Problems) != 0 {
		t.Fatalf("after the photo the pack has %d drawings, problems %v; want the sheet's 3", len(l.Drawings), l.Problems)
	}
	// What the editor shows is what comic check reads.
	pack, probs, err := comic.LoadPackOn(os.DirFS(filepath.Join(data, comicPackDir)), art.Pack())
	if err != nil || len(probs) != 0 {
		t.Fatalf("comic check of the maker's pack: %v %v", err, probs)
	}
	mine := 0
	for _, im := range pack.Images {
		if im.Theme == l.Drawings[0].Theme {
			mine++
		}
	}
	if mine != 3 {
		t.Fatalf("the loaded pack has %d drawings of the maker's theme %q, want 3", mine, l.Drawings[0].Theme)
	}

	// The same sheet uploaded as a scan: through the same clean-up.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, _ := mw.CreateFormFile("photo", "scan.png")
	part.Write(paper.Bytes())
	mw.Close()
	if code, b := do("POST", "api/comics/pack/photos", mw.FormDataContentType(), form.Bytes()); code != 200 {
		t.Fatalf("upload: %d %s", code, b)
	}
	if l := list(); len(l.Drawings) != 6 {
		t.Fatalf("after the upload %d drawings, want 6", len(l.Drawings))
	}
	// And a strip still prints with the pack reloaded.
	if code, b := do("POST", "api/buttons/A", "application/json", []byte(`{"press":"short"}`)); code != 200 {
		t.Fatalf("press A: %d %s", code, b)
	}
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		var st struct {
			Printer struct {
				Rows int `json:"rows"`
			} `json:"printer"`
		}
		if ok && json.Unmarshal([]byte(line), &st) == nil && st.Printer.Rows > 200 {
			return
		}
	}
	t.Fatalf("no strip reached the printer after the pack changed: %v", sc.Err())
}

// BenchmarkDrawingFromCamera is the time to add a drawing from the camera
// once the frame is taken: the camera's JPEG decoded, the sheet found and
// cleaned, its drawings written to the maker's pack, and the pack loaded
// again as the scene then does. (The camera itself adds settleFrames frames:
// 0.27 s at 15 fps.)
func BenchmarkDrawingFromCamera(b *testing.B) {
	cfg := config.Default()
	photo := cameraPhoto(b, cfg.Camera.Width, cfg.Camera.Height)
	var add, first, next time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), comicPackDir)
		d := &drawings{a: &app{log: slog.New(slog.DiscardHandler)}, dir: dir, pack: comic.OpenMakerPack(dir, art.Pack(), time.Now)}
		b.StartTimer()
		for i := range 2 {
			t0 := time.Now()
			specs, err := d.add(photo, "the camera's photo")
			if err != nil || len(specs) != 3 {
				b.Fatalf("%d drawings, %v", len(specs), err)
			}
			t1 := time.Now()
			if _, err := d.Load(); err != nil {
				b.Fatal(err)
			}
			add += t1.Sub(t0)
			if i == 0 {
				first += time.Since(t1)
			} else {
				next += time.Since(t1)
			}
		}
		n++
	}
	b.ReportMetric(float64(add.Milliseconds())/float64(2*n), "ms-clean+add/photo")
	b.ReportMetric(float64(first.Milliseconds())/float64(n), "ms-first-reload")
	b.ReportMetric(float64(next.Milliseconds())/float64(n), "ms-next-reload")
}
