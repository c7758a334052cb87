package appliance

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
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
// dots as it prints (comic.orientation auto; the archive PNG is separate)
// and reports p50/p95 over 100 seeds, in wall time and in CPU time (the
// figure to compare: the build machine is shared). Nothing is warmed up
// first, as the scene does not: the first strip of each grid is drawn
// from the pack's reductions, later ones partly from the cache.
func BenchmarkStrip(b *testing.B) {
	pack, err := loadComicPack("", newLogger(&bytes.Buffer{}))
	if err != nil {
		b.Fatal(err)
	}
	opts := escpos.DefaultOpts()
	var d, cpu []time.Duration
	seed := uint64(0)
	for b.Loop() {
		t0, c0 := time.Now(), cpuTime()
		s, err := pack.Compose(seed)
		if err != nil {
			b.Fatal(err)
		}
		img := pack.RenderPrint(s, 384, comic.OrientAuto, "tinkerbox comic #1", "2026-05-01")
		if err := escpos.Encode(&bytes.Buffer{}, escpos.Dither(img, 384, opts), opts); err != nil {
			b.Fatal(err)
		}
		d, cpu = append(d, time.Since(t0)), append(cpu, cpuTime()-c0)
		seed = (seed + 1) % 100
	}
	reportPercentiles(b, d, "")
	reportPercentiles(b, cpu, "cpu-")
}

// reportPercentiles reports d's p50 and p95 as <kind>ms.
func reportPercentiles(b *testing.B, d []time.Duration, kind string) {
	slices.Sort(d)
	ms := func(v time.Duration) float64 { return float64(v.Microseconds()) / 1000 }
	b.ReportMetric(ms(d[len(d)/2]), "p50-"+kind+"ms")
	b.ReportMetric(ms(d[len(d)*95/100]), "p95-"+kind+"ms")
}

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestComicPaperGolden: the printer stream of `tinkerbox comic --escpos`
// for a wide strip, a yonkoma and a 4x3 strip in each orientation, decoded
// by the simulated printer, against golden rolls (testdata/paper-*.png;
// -update rewrites them). Across, the strip fills the 384 dots as on
// screen; along, it is turned a quarter clockwise (its first panel printed
// first) with its height and footer across the paper; auto turns the wide
// and the 4x3 strip and prints the yonkoma across. Floating point differs
// a little between CPUs (fused multiply-add) and dithering spreads it, so
// up to 1 % of the dots may differ; a turn, a scale or a shift would not
// pass.
func TestComicPaperGolden(t *testing.T) {
	dir := t.TempDir()
	o := Options{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	for _, c := range []struct {
		seed int
		grid string
		auto string // what auto does with it
	}{
		{8, "wide", "along"},
		{1, "yonkoma", "across"},
		{9, "tiers", "along"},
	} {
		rolls := map[string]*image.Gray{}
		for _, orient := range []string{"across", "along", "auto"} {
			name := fmt.Sprintf("paper-%d-%s-%s.png", c.seed, c.grid, orient)
			bin := filepath.Join(dir, name+".bin")
			if err := Comic(context.Background(), o, []string{"--seed", fmt.Sprint(c.seed), "--orientation", orient,
				"--png", filepath.Join(dir, "strip.png"), "--escpos", bin}); err != nil {
				t.Fatal(err)
			}
			stream, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			p := sim.NewPrinter(&sim.PrinterOpts{Width: 384, MaxRows: 20000})
			if _, err := p.Write(stream); err != nil {
				t.Fatal(err)
			}
			if errs := p.Errors(); len(errs) > 0 {
				t.Fatalf("%s: decode errors: %v", name, errs)
			}
			got := p.Roll()
			rolls[orient] = got
			golden := filepath.Join("testdata", name)
			if *updateGolden {
				var b bytes.Buffer
				if err := p.WritePNG(&b); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			f, err := os.Open(golden)
			if err != nil {
				t.Fatalf("%v (go test -run ComicPaperGolden -update ./appliance/ writes it)", err)
			}
			want, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if want.Bounds() != got.Bounds() {
				t.Errorf("%s: the roll is %v, golden %v", name, got.Bounds(), want.Bounds())
				continue
			}
			if bad, limit := diffDots(got, want), got.Rect.Dx()*got.Rect.Dy()/100; bad > limit {
				t.Errorf("%s: %d dots differ from the golden roll (limit %d)", name, bad, limit)
			}
			// The strip uses the paper's width either way.
			if ink := inkedColumns(got); ink < 384*85/100 {
				t.Errorf("%s: ink across %d of 384 dots", name, ink)
			}
		}
		if want := rolls[c.auto]; !bytes.Equal(rolls["auto"].Pix, want.Pix) {
			t.Errorf("seed %d (%s): auto did not print it %s", c.seed, c.grid, c.auto)
		}
		// Turned, a wide strip runs longer along the roll: larger panels.
		if long, short := rolls["along"].Rect.Dy(), rolls["across"].Rect.Dy(); (c.auto == "along") != (long > short) {
			t.Errorf("seed %d (%s): %d rows along, %d across", c.seed, c.grid, long, short)
		}
	}
}

// diffDots counts the dots that are black in one roll and white in the other.
func diffDots(a *image.Gray, b image.Image) int {
	n := 0
	for y := range a.Rect.Dy() {
		for x := range a.Rect.Dx() {
			r, _, _, _ := b.At(x, y).RGBA()
			if (a.Pix[y*a.Stride+x] < 128) != (r < 0x8000) {
				n++
			}
		}
	}
	return n
}

// inkedColumns is the span from the leftmost to the rightmost column with ink.
func inkedColumns(g *image.Gray) int {
	lo, hi := g.Rect.Dx(), -1
	for y := range g.Rect.Dy() {
		for x := range g.Rect.Dx() {
			if g.Pix[y*g.Stride+x] < 128 {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
	}
	return hi - lo + 1
}
