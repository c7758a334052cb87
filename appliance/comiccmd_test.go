package appliance

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tinkerbox/drivers/escpos"
	"tinkerbox/drivers/sim"
	"tinkerbox/scenes/comic"
)

func TestComicCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	o := Options{Stdout: &out, Stderr: &errb}
	pngFile, escFile := filepath.Join(dir, "s.png"), filepath.Join(dir, "s.bin")
	if err := Comic(context.Background(), o, []string{"--seed", "7", "--png", pngFile, "--escpos", escFile}); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	f, err := os.Open(pngFile)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < comic.ArchiveWidth {
		t.Fatalf("archive %v %v", img.Bounds(), err)
	}
	// The byte stream decodes on the simulated printer into a 384-dot strip.
	stream, err := os.ReadFile(escFile)
	if err != nil {
		t.Fatal(err)
	}
	p := sim.NewPrinter(&sim.PrinterOpts{Width: 384, MaxRows: 20000})
	if _, err := p.Write(stream); err != nil {
		t.Fatal(err)
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Fatalf("decode errors: %v", errs)
	}
	if rows := p.Rows(); rows < 300 {
		t.Fatalf("printed %d rows", rows)
	}
	if !strings.Contains(out.String(), "seed 7:") {
		t.Fatalf("output %q", out.String())
	}
	if err := Comic(context.Background(), o, []string{"--seed", "7"}); err == nil {
		t.Fatal("no --png accepted")
	}
	// check: the default pack passes.
	sheet := filepath.Join(dir, "sheet.png")
	if err := Comic(context.Background(), o, []string{"check", "--sheet", sheet, "../images/comic/pack"}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(sheet); err != nil || st.Size() == 0 {
		t.Fatalf("contact sheet: %v", err)
	}
}

// BenchmarkStrip composes, renders, dithers and encodes one strip at 384
// dots (the print path; the archive PNG is separate) and reports p50/p95
// over 100 seeds.
func BenchmarkStrip(b *testing.B) {
	pack, err := loadComicPack("", newLogger(&bytes.Buffer{}))
	if err != nil {
		b.Fatal(err)
	}
	pack.Warm(384, 40) // what the scene does on start
	opts := escpos.DefaultOpts()
	var d []time.Duration
	seed := uint64(0)
	for b.Loop() {
		t0 := time.Now()
		s, err := pack.Compose(seed)
		if err != nil {
			b.Fatal(err)
		}
		img := pack.Render(s, 384, "tinkerbox comic #1", "2026-05-01")
		if err := escpos.Encode(&bytes.Buffer{}, escpos.Dither(img, 384, opts), opts); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
		seed = (seed + 1) % 100
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)*95/100].Microseconds())/1000, "p95-ms")
}
