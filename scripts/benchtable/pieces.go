package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goTest runs benchmarks matching re in ./pkg with go test and parses them.
func goTest(pkg, re, benchtime string) (map[string]bench, error) {
	out, err := run(".", nil, "go", "test", "-count=1", "-run", "^$", "-bench", re, "-benchtime", benchtime, "./"+pkg)
	bs := parseBench(out)
	if err == nil && len(bs) == 0 {
		err = fmt.Errorf("go test ./%s -bench %s printed no benchmark", pkg, re)
	}
	return bs, err
}

// The figures of issue 18, from parsed outputs. Each function is a pure
// mapping from a piece's output to its rows.

func ditherRows(p map[string]pillowRow) []row {
	gov, pil := p["go"], p["pillow"]
	pilCell := absent(pil.why)
	if !math.IsNaN(pil.ms) && pil.why == "" {
		pilCell = "Pillow convert('1'), the dither alone: " + ms(pil.ms)
	}
	if _, ok := p["pillow"]; !ok {
		pilCell, pil.ms = absent("Pillow not measured"), math.NaN()
	}
	if _, ok := p["go"]; !ok {
		gov.ms = math.NaN()
	}
	rows := []row{{"dither + encode 384×1536, CPU per image", ms(gov.ms), pilCell, ratio(gov.ms, pil.ms), "≤ 1.0× Pillow", atMost(ratio1(gov.ms, pil.ms), 1)}}
	esc, ok := p["python-escpos"]
	escCell := absent("not measured")
	if ok && esc.why != "" {
		escCell = absent(esc.why)
	} else if ok {
		escCell = "python-escpos image(): " + ms(esc.ms)
	}
	if !ok {
		esc.ms = math.NaN()
	}
	rows = append(rows, row{"dither + encode 384×1536 vs python-escpos", ms(gov.ms), escCell, ratio(gov.ms, esc.ms), none, ""})
	return rows
}

// ratio1 is a/b, NaN when unknown.
func ratio1(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func identifyRows(bs map[string]bench) []row {
	f := metric(bs, "BenchmarkIdentify30k/frame", "cpu-ms/op")
	return []row{
		{"identify a 640×480 frame, 30,000 printings, CPU per frame", ms(f), none, none, "≤ 5 ms", atMost(f, 5)},
		{"identify: JPEG decode + frame, CPU", ms(metric(bs, "BenchmarkIdentify30k/jpeg+frame", "cpu-ms/op")), none, none, none, ""},
		{"identify: index search alone, CPU", ms(metric(bs, "BenchmarkIdentify30k/search", "cpu-ms/op")), none, none, none, ""},
		{"identify: feeder frames right by name", num(metric(bs, "BenchmarkIdentify30k/frame", "%right"), "%.0f", "%"), none, none, none, ""},
		{"identify: index memory, 30,000 printings", num(metric(bs, "BenchmarkIdentify30k/frame", "index-MB"), "%.1f", "MB"), none, none, "≤ 150 MB", atMost(metric(bs, "BenchmarkIdentify30k/frame", "index-MB"), 150)},
	}
}

func stripRows(native, arm map[string]bench, armWhy string) []row {
	p50, p95 := metric(native, "BenchmarkStrip", "p50-cpu-ms"), metric(native, "BenchmarkStrip", "p95-cpu-ms")
	rows := []row{{"comic strip: compose + render + dither + encode, CPU p50 / p95, 100 seeds", ms(p50) + " / " + ms(p95), none, none, none, ""}}
	if arm == nil {
		return append(rows, row{"comic strip CPU p95 under qemu arm1176", absent(armWhy), none, none, "≤ 150 ms", "not measured"})
	}
	a95 := metric(arm, "BenchmarkStrip", "p95-cpu-ms")
	return append(rows, row{"comic strip CPU p95 under qemu arm1176 (vs native)", ms(a95), "native: " + ms(p95), ratio(a95, p95), "≤ 150 ms", atMost(a95, 150)})
}

func comicRows(bs map[string]bench) []row {
	p50, p95, mx := metric(bs, "BenchmarkComicPressToPaper", "p50-ms"), metric(bs, "BenchmarkComicPressToPaper", "p95-ms"), metric(bs, "BenchmarkComicPressToPaper", "max-ms")
	return []row{{"comic: press A → first dot line (sim), p50 / p95 / max", ms(p50) + " / " + ms(p95) + " / " + ms(mx), none, none, "≤ 1 s", atMost(mx, 1000)}}
}

func otherGoRows(bs map[string]bench) []row {
	split := metric(bs, "BenchmarkSplit", "MB/s")
	h24, h7 := metric(bs, "BenchmarkHistory24h", "ns/op")/1e6, metric(bs, "BenchmarkHistory7d", "ns/op")/1e6
	return []row{
		{"MJPEG splitting", num(split, "%.0f", "MB/s"), none, none, "≥ 200 MB/s", atLeast(split, 200)},
		{"barometer history on 5 million samples, 24 h / 7 d", ms(h24) + " / " + ms(h7), none, none, "≤ 20 ms", atMost(math.Max(h24, h7), 20)},
	}
}

func startRows(f map[string]startFigure) []row {
	get := func(k string) startFigure {
		if v, ok := f[k]; ok {
			return v
		}
		return startFigure{math.NaN(), math.NaN()}
	}
	h, cpu, idle, peak, rss := get("start → /healthz"), get("CPU in the first 10 s"), get("/healthz → idle"), get("peak RSS"), get("idle RSS")
	return []row{
		{"start → /healthz (sim), median / worst of 5", ms(h.median) + " / " + ms(h.worst), none, none, "≤ 300 ms", atMost(h.worst, 300)},
		{"start-up CPU in the first 10 s, median / worst", ms(cpu.median) + " / " + ms(cpu.worst), none, none, "≤ 0.5 s", atMost(cpu.worst, 500)},
		{"/healthz → idle, median / worst", ms(idle.median) + " / " + ms(idle.worst), none, none, "≤ 1 s", atMost(idle.worst, 1000)},
		{"peak RSS (VmHWM) in the first 10 s, median / worst", num(peak.median, "%.1f", "MB") + " / " + num(peak.worst, "%.1f", "MB"), none, none, "≤ 40 MB", atMost(peak.worst, 40)},
		{"idle RSS at 10 s, median / worst", num(rss.median, "%.1f", "MB") + " / " + num(rss.worst, "%.1f", "MB"), none, none, "≤ 25 MB", atMost(rss.worst, 25)},
	}
}

func fanoutRows(f map[string]fanRow, go2rtcWhy string) []row {
	var rows []row
	peer := func(r fanRow) string {
		if go2rtcWhy != "" || r.go2rtc == "" || r.go2rtc == "-" {
			return absent(go2rtcWhy)
		}
		return "go2rtc: " + r.go2rtc
	}
	for _, n := range []string{"1", "10", "50"} {
		r, ok := f["CPU per delivered frame, "+n+" viewer(s)"]
		if !ok {
			continue
		}
		a, b := quantity(r.tinkerbox), quantity(r.go2rtc)
		rows = append(rows, row{"fan-out CPU per delivered frame, " + n + " viewer(s)", r.tinkerbox, peer(r), ratio(a, b), "≤ 1.0× go2rtc", atMost(ratio1(a, b), 1)})
	}
	if len(rows) == 0 {
		rows = append(rows, row{"fan-out CPU per delivered frame", none, absent(go2rtcWhy), none, "≤ 1.0× go2rtc", "not measured"})
	}
	for _, k := range []string{"peak RSS (VmHWM), 50 viewer(s)", "starved: fps per viewer", "starved: p99 latency", "stalled viewer closed after"} {
		r, ok := f[k]
		if !ok {
			continue
		}
		rows = append(rows, row{"fan-out " + k, r.tinkerbox, peer(r), ratio(quantity(r.tinkerbox), quantity(r.go2rtc)), none, ""})
	}
	return rows
}

func spycamRows(f map[string]string) []row {
	q := func(k string) float64 { return quantity(f[k]) }
	p99 := math.NaN()
	if s, ok := f["p99"]; ok {
		if d, err := parseDurationMs(s); err == nil {
			p99 = d
		}
	}
	return []row{
		{"spy-cam, 20 viewers × 15 fps: frames received (worst viewer)", num(q("frames"), "%.1f", "%"), none, none, "≥ 95 %", atLeast(q("frames"), 95)},
		{"spy-cam: server CPU (with the simulated camera's encoding)", num(q("cpu"), "%.1f", "% of a core"), none, none, "≤ 15 %", atMost(q("cpu"), 15)},
		{"spy-cam: server peak RSS", num(q("peak"), "%.1f", "MB"), none, none, "≤ 64 MB", atMost(q("peak"), 64)},
		{"spy-cam: capture → viewer latency p99", ms(p99), none, none, "≤ 20 ms", atMost(p99, 20)},
	}
}

// parseDurationMs reads a Go duration ("1.3ms", "850µs") as milliseconds.
func parseDurationMs(s string) (float64, error) {
	var v float64
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"ms", 1}, {"µs", 1e-3}, {"us", 1e-3}, {"ns", 1e-6}, {"s", 1e3}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			if _, err := fmt.Sscanf(num, "%g", &v); err != nil {
				return 0, err
			}
			return v * u.scale, nil
		}
	}
	return 0, fmt.Errorf("not a duration: %q", s)
}

// The pieces.

func runDither(e *env) ([]row, error) {
	out, err := run(".", nil, e.python, "scripts/bench-pillow-dither.py", "drivers/escpos/testdata/bench.png")
	return ditherRows(parsePillow(out)), err
}

func runIdentify(*env) ([]row, error) {
	bs, err := goTest("scenes/cardfeed/recog", "^BenchmarkIdentify30k$", "24x")
	return identifyRows(bs), err
}

func runStrip(e *env) ([]row, error) {
	bs, err := goTest("appliance", "^BenchmarkStrip$", "100x")
	if err != nil {
		return stripRows(bs, nil, "native run failed"), err
	}
	if _, lerr := exec.LookPath("qemu-arm-static"); lerr != nil {
		return stripRows(bs, nil, "qemu-arm-static not installed (apt-get install qemu-user-static)"), nil
	}
	bin, err := buildTest(e, "appliance", "arm")
	if err != nil {
		return stripRows(bs, nil, "arm build failed"), err
	}
	arm, err := runTestBin("appliance", true, bin, "^BenchmarkStrip$", "100x")
	if err != nil {
		return stripRows(bs, nil, "qemu run failed"), err
	}
	return stripRows(bs, arm, ""), nil
}

func runComic(*env) ([]row, error) {
	bs, err := goTest("appliance", "^BenchmarkComicPressToPaper$", "12x")
	return comicRows(bs), err
}

func runOtherGo(*env) ([]row, error) {
	bs, err := goTest("drivers/picam", "^BenchmarkSplit$", "1s")
	if err != nil {
		return otherGoRows(bs), err
	}
	hs, err := goTest("appliance/store", "^BenchmarkHistory(24h|7d)$", "1s")
	for k, v := range hs {
		bs[k] = v
	}
	return otherGoRows(bs), err
}

func runStart(e *env) ([]row, error) {
	if _, err := os.Stat(e.bin); err != nil {
		return startRows(nil), fmt.Errorf("%s not built (make build)", e.bin)
	}
	out, err := run(".", nil, "go", "run", "./scripts/benchstart", e.bin)
	return startRows(parseStart(out)), err
}

func runFanout(*env) ([]row, error) {
	out, err := run(".", nil, "go", "run", "./scripts/benchfanout")
	why := ""
	if err != nil {
		why = "benchfanout failed"
	}
	return fanoutRows(parseFanout(out), why), err
}

func runSpycam(e *env) ([]row, error) {
	if _, err := os.Stat(e.bin); err != nil {
		return spycamRows(nil), fmt.Errorf("%s not built (make build)", e.bin)
	}
	out, err := run(".", nil, "go", "run", "./scripts/benchspycam", "-duration", e.spycam.String(), "-warmup", "10s", e.bin)
	return spycamRows(parseSpycam(out)), err
}

func runSizes(*env) ([]row, error) {
	var cells []string
	var worst float64
	var missing error
	for _, a := range []string{"armv6", "armv7", "arm64"} {
		fi, err := os.Stat("dist/tinkerbox-linux-" + a)
		if err != nil {
			cells = append(cells, none)
			missing = errors.New("dist/tinkerbox-linux-* not built (make arm)")
			continue
		}
		mb := float64(fi.Size()) / (1 << 20)
		worst = math.Max(worst, mb)
		cells = append(cells, fmt.Sprintf("%.1f", mb))
	}
	if missing != nil {
		worst = math.NaN()
	}
	return []row{{"ARM binaries armv6 / armv7 / arm64, static, stripped", strings.Join(cells, " / ") + " MB", none, none, "≤ 25 MB", atMost(worst, 25)}}, missing
}

// The Go benchmarks under qemu-arm-static -cpu arm1176.

// An armBench is one benchmark run natively and under emulation, and the
// metric compared.
type armBench struct {
	piece, pkg, re, benchtime string
	name, unit, label         string
	limit                     float64 // ≤ limit under arm1176; 0: no target
}

var armBenches = []armBench{
	{"dither", "drivers/escpos", "^BenchmarkDitherEncode384x1536$", "20x", "BenchmarkDitherEncode384x1536", "cpu-ms/op", "dither + encode 384×1536, CPU per image", 0},
	{"identify", "scenes/cardfeed/recog", "^BenchmarkIdentify30k$/^frame$", "24x", "BenchmarkIdentify30k/frame", "cpu-ms/op", "identify a frame, 30,000 printings, CPU per frame", 0},
	{"strip", "appliance", "^BenchmarkStrip$", "100x", "BenchmarkStrip", "p50-cpu-ms", "comic strip CPU p50", 0},
	{"strip", "appliance", "^BenchmarkStrip$", "100x", "BenchmarkStrip", "p95-cpu-ms", "comic strip CPU p95", 150},
	{"comic", "appliance", "^BenchmarkComicPressToPaper$", "12x", "BenchmarkComicPressToPaper", "p50-ms", "comic: press A → first dot line, p50", 0},
	{"comic", "appliance", "^BenchmarkComicPressToPaper$", "12x", "BenchmarkComicPressToPaper", "max-ms", "comic: press A → first dot line, slowest", 1000},
}

var armPieces = []piece{
	{"dither", armPiece("dither")},
	{"identify", armPiece("identify")},
	{"strip", armPiece("strip")},
	{"comic", armPiece("comic")},
}

func armRows(piece string, native, arm map[string]bench) []row {
	var rows []row
	for _, b := range armBenches {
		if b.piece != piece {
			continue
		}
		n, a := metric(native, b.name, b.unit), metric(arm, b.name, b.unit)
		target, met := none, ""
		if b.limit > 0 {
			target, met = fmt.Sprintf("≤ %g ms under arm1176", b.limit), atMost(a, b.limit)
		}
		rows = append(rows, row{b.label + " under arm1176", ms(a), "native: " + ms(n), ratio(a, n), target, met})
	}
	return rows
}

func armPiece(name string) func(*env) ([]row, error) {
	return func(e *env) ([]row, error) {
		var b armBench
		for _, x := range armBenches {
			if x.piece == name {
				b = x
				break
			}
		}
		if _, err := exec.LookPath("qemu-arm-static"); err != nil {
			return armRows(name, nil, nil), errors.New("qemu-arm-static not installed (apt-get install qemu-user-static)")
		}
		nbin, err := buildTest(e, b.pkg, "")
		if err != nil {
			return armRows(name, nil, nil), err
		}
		abin, err := buildTest(e, b.pkg, "arm")
		if err != nil {
			return armRows(name, nil, nil), err
		}
		native, err := runTestBin(b.pkg, false, nbin, b.re, b.benchtime)
		if err != nil {
			return armRows(name, native, nil), err
		}
		arm, err := runTestBin(b.pkg, true, abin, b.re, b.benchtime)
		return armRows(name, native, arm), err
	}
}

// buildTest compiles pkg's tests into .cache/bench/arm/, for GOARCH=arm
// GOARM=6 when arch is "arm", else for this machine.
func buildTest(e *env, pkg, arch string) (string, error) {
	dir, err := filepath.Abs(filepath.Join(e.cache, "arm"))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	suffix, extra := "native", []string(nil)
	if arch == "arm" {
		suffix, extra = "armv6", []string{"GOOS=linux", "GOARCH=arm", "GOARM=6", "CGO_ENABLED=0"}
	}
	bin := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "_")+"-"+suffix+".test")
	_, err = run(".", extra, "go", "test", "-c", "-o", bin, "./"+pkg)
	return bin, err
}

// runTestBin runs a compiled test binary's benchmarks on one CPU from its
// package's directory (for testdata), under qemu-arm-static -cpu arm1176
// when emulated.
func runTestBin(pkg string, emulated bool, bin, re, benchtime string) (map[string]bench, error) {
	args := []string{"-test.run", "^$", "-test.bench", re, "-test.benchtime", benchtime, "-test.cpu", "1"}
	name := bin
	if emulated {
		name, args = "qemu-arm-static", append([]string{"-cpu", "arm1176", bin}, args...)
	}
	out, err := run(pkg, nil, name, args...)
	bs := parseBench(out)
	if err == nil && len(bs) == 0 {
		err = fmt.Errorf("%s printed no benchmark", bin)
	}
	return bs, err
}
