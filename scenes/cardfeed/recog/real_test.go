package recog

import (
	"encoding/csv"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// realCards is a calibration set of real card scans and photos, never
// committed (their images are the card makers' and the photographers'):
// TINKERBOX_RECOG_REAL names a directory with manifest.csv (file, kind
// scan|photo, name, set, number, ...) and the images. See the README.
type realCard struct {
	file, kind, name, set, number string
}

func loadReal(t testing.TB) (string, []realCard) {
	dir := os.Getenv("TINKERBOX_RECOG_REAL")
	if dir == "" {
		t.Skip("TINKERBOX_RECOG_REAL is not set: no real card images to calibrate with")
	}
	f, err := os.Open(filepath.Join(dir, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []realCard
	for _, rec := range recs[1:] {
		out = append(out, realCard{rec[0], rec[1], rec[2], strings.ToLower(rec[3]), rec[4]})
	}
	return dir, out
}

func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// parallel runs fn(i) for i < n on every core.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

func realEntries(t testing.TB, dir string, all []realCard) ([]Entry, []image.Image) {
	var scans []realCard
	for _, c := range all {
		if c.kind == "scan" {
			scans = append(scans, c)
		}
	}
	es := make([]Entry, len(scans))
	imgs := make([]image.Image, len(scans))
	parallel(len(scans), func(i int) {
		c := scans[i]
		img, err := decodeFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			return
		}
		imgs[i] = img
		es[i] = Entry{ID: c.set + "-" + c.number, Name: c.name, Set: c.set, Number: c.number, Features: FromFace(img)}
	})
	return es, imgs
}

// TestRealScans: every real scan, identified against the catalog it is
// in, is its own card.
func TestRealScans(t *testing.T) {
	dir, all := loadReal(t)
	es, imgs := realEntries(t, dir, all)
	x := NewIndex(es, nil)
	var mu sync.Mutex
	right, accepted, wrong, printing := 0, 0, 0, 0
	parallel(len(es), func(i int) {
		m, err := x.Identify(imgs[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("%s: %v", es[i].ID, err)
			return
		}
		if m.Name == es[i].Name {
			right++
		}
		if m.Accepted {
			accepted++
			if m.Name != es[i].Name {
				wrong++
				t.Errorf("%s %s accepted as %s %s", es[i].ID, es[i].Name, m.ID, m.Name)
			}
			if m.ID == es[i].ID {
				printing++
			}
		} else {
			t.Logf("%s %s rejected: %s", es[i].ID, es[i].Name, m.Reason)
		}
	})
	t.Logf("real scans: %d; name right %d, accepted %d (printing right %d), wrong accepted %d", len(es), right, accepted, printing, wrong)
}

// TestRealPhotos: the genuine photos, every card outline in them tried.
func TestRealPhotos(t *testing.T) {
	dir, all := loadReal(t)
	es, _ := realEntries(t, dir, all)
	x := NewIndex(es, nil)
	names := map[string]map[string]bool{}
	var files []string
	for _, c := range all {
		if c.kind != "photo" {
			continue
		}
		if names[c.file] == nil {
			names[c.file] = map[string]bool{}
			files = append(files, c.file)
		}
		names[c.file][c.name] = true
	}
	for _, file := range files {
		img, err := decodeFile(filepath.Join(dir, file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		m, err := x.Identify(img)
		if err != nil {
			t.Logf("%s: %v", file, err)
			continue
		}
		verdict := "rejected"
		if m.Accepted {
			verdict = "ok"
			if !names[file][m.Name] {
				verdict = "WRONG"
				t.Errorf("%s: accepted %s, the photo has %v", file, m.Name, names[file])
			}
		}
		t.Logf("%s (%dx%d): %s %s %s d=%d gap=%d %s", file, img.Bounds().Dx(), img.Bounds().Dy(), verdict, m.Name, m.ID, m.Distance, m.NameGap, m.Reason)
	}
}
