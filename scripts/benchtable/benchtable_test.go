package main

import (
	"bytes"
	"strings"
	"testing"
)

const benchOut = `goos: linux
goarch: amd64
pkg: tinkerbox/scenes/cardfeed/recog
cpu: AMD EPYC
BenchmarkIdentify30k/frame-2         	      24	  40000000 ns/op	        19.50 cpu-ms/op	       100.0 %right	        14.20 index-MB	  123 B/op	       9 allocs/op
BenchmarkIdentify30k/jpeg+frame-2    	      24	  45000000 ns/op	        23.10 cpu-ms/op
BenchmarkIdentify30k/search          	      24	   4000000 ns/op	         2.00 cpu-ms/op
BenchmarkBroken-2 	 notanumber	 1 ns/op
PASS
ok  	tinkerbox/scenes/cardfeed/recog	12.3s
`

func TestParseBench(t *testing.T) {
	bs := parseBench(benchOut)
	if len(bs) != 3 {
		t.Fatalf("got %d benchmarks, want 3: %v", len(bs), bs)
	}
	if v := metric(bs, "BenchmarkIdentify30k/frame", "cpu-ms/op"); v != 19.5 {
		t.Errorf("frame cpu-ms/op = %v", v)
	}
	if v := metric(bs, "BenchmarkIdentify30k/search", "cpu-ms/op"); v != 2 {
		t.Errorf("search (no -procs suffix) = %v", v)
	}
	rows := identifyRows(bs)
	want := row{"identify a 640×480 frame, 30,000 printings, CPU per frame", "19.5 ms", none, none, "≤ 5 ms", "not met"}
	if rows[0] != want {
		t.Errorf("row 0 = %#v, want %#v", rows[0], want)
	}
	if rows[3].tinkerbox != "100 %" || rows[4].met != "met" {
		t.Errorf("rows 3, 4 = %#v, %#v", rows[3], rows[4])
	}
}

func TestMissingBenchmarkIsNotMeasured(t *testing.T) {
	rows := identifyRows(parseBench("FAIL\n"))
	if rows[0].tinkerbox != none || rows[0].met != "not measured" {
		t.Errorf("row = %#v", rows[0])
	}
	rows = stripRows(nil, nil, "qemu-arm-static not installed")
	if rows[1].tinkerbox != "absent: qemu-arm-static not installed" || rows[1].met != "not measured" {
		t.Errorf("row = %#v", rows[1])
	}
}

const pillowOut = `dither + ESC/POS 384x1536, CPU ms per image (median of 3 interleaved rounds; load 1.2 on 2 cores):
  go                 3.30   0.63x Pillow  (3.20..3.40)  tinkerbox: grey, Floyd-Steinberg, pack, encode (BenchmarkDitherEncode384x1536)
  pillow             5.25   1.00x Pillow  (5.10..5.40)  Pillow convert('L').convert('1').tobytes(): the dither alone
  python-escpos         -   python-escpos Dummy().image(): its raster job: skipped, not importable (not packaged in Debian 12 or 13)
  pillow with PNG decoding: 7.10
`

func TestDitherRowsAbsentPeer(t *testing.T) {
	rows := ditherRows(parsePillow(pillowOut))
	want := row{"dither + encode 384×1536, CPU per image", "3.30 ms", "Pillow convert('1'), the dither alone: 5.25 ms", "0.63×", "≤ 1.0× Pillow", "met"}
	if rows[0] != want {
		t.Errorf("row 0 = %#v\nwant %#v", rows[0], want)
	}
	if rows[1].anchor != "absent: not importable (not packaged in Debian 12 or 13)" || rows[1].ratio != none {
		t.Errorf("python-escpos row = %#v", rows[1])
	}
	// The script did not run at all.
	rows = ditherRows(parsePillow(""))
	if rows[0].anchor != "absent: Pillow not measured" || rows[0].met != "not measured" || rows[1].anchor != "absent: not measured" {
		t.Errorf("rows = %#v", rows)
	}
}

const startOut = `start-up (sim, fresh data dir, 5 runs, the first 10s of each; median, max):
  start → /healthz             116 ms     130 ms   (target ≤ 300ms)
  CPU in the first 10 s        420 ms     610 ms   (target ≤ 500ms, user + system)
  /healthz → idle                never      never   (target ≤ 1s, idle: every later 500ms under 5 % of a core)
  peak RSS                    31.0 MB    33.5 MB   (target ≤ 40 MB, VmHWM)
  idle RSS                    24.0 MB    24.9 MB   (target ≤ 25 MB, VmRSS at 10s)
`

func TestStartRows(t *testing.T) {
	rows := startRows(parseStart(startOut))
	got := []string{}
	for _, r := range rows {
		got = append(got, r.tinkerbox+" "+r.met)
	}
	want := []string{"116 ms / 130 ms met", "420 ms / 610 ms not met", "— / — not measured", "31.0 MB / 33.5 MB met", "24.0 MB / 24.9 MB met"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

const fanOut = `MJPEG fan-out: tinkerbox (drivers/picam + appliance/web, own process) vs go2rtc v1.9.9, same machine, same run
  75 recorded frames of the simulated camera, 640x480, 30.1 KB mean, fed at 15 fps to both; loopback;
                                              tinkerbox          go2rtc   ratio
  CPU per delivered frame, 1 viewer(s)           40.0 µs         50.0 µs    0.80
  CPU per delivered frame, 50 viewer(s)          12.0 µs         10.0 µs    1.20
  peak RSS (VmHWM), 50 viewer(s)                 20.0 MB         30.0 MB    0.67
  starved: 4 busy loops (2 per core), servers on GOMAXPROCS=1, 10 viewers, 15 fps fed, feeder and viewers at the servers' priority:
    fps per viewer                                  15.0            14.0    1.07
    frames each viewer got                       100.0 %          93.0 %    1.08
    p99 latency                                   3.0 ms          9.0 ms    0.33
  stalled viewer closed after                     1.2 s open after 20 s
`

func TestFanoutRows(t *testing.T) {
	rows := fanoutRows(parseFanout(fanOut), "")
	if len(rows) != 6 {
		t.Fatalf("got %d rows: %#v", len(rows), rows)
	}
	if r := rows[0]; r.tinkerbox != "40.0 µs" || r.anchor != "go2rtc: 50.0 µs" || r.ratio != "0.80×" || r.met != "met" {
		t.Errorf("row 0 = %#v", r)
	}
	if r := rows[1]; r.ratio != "1.20×" || r.met != "not met" {
		t.Errorf("row 1 = %#v", r)
	}
	if r := rows[4]; r.figure != "fan-out starved: p99 latency" || r.ratio != "0.33×" {
		t.Errorf("row 4 = %#v", r)
	}
	if r := rows[5]; r.tinkerbox != "1.2 s" || r.anchor != "go2rtc: open after 20 s" || r.ratio != none {
		t.Errorf("row 5 = %#v", r)
	}
	rows = fanoutRows(nil, "benchfanout failed")
	if len(rows) != 1 || rows[0].anchor != "absent: benchfanout failed" || rows[0].met != "not measured" {
		t.Errorf("rows = %#v", rows)
	}
}

func TestSpycamRows(t *testing.T) {
	out := `spy-cam stream: 20 viewers, 1m0s on loopback, 900 camera frames (15.0 fps)
  frames received per healthy viewer: min 99.5 %, mean 99.9 % (target >= 95 %; 20/20 healthy)
  server CPU: 11.2 % of one core (target <= 15 %; includes the simulated camera's JPEG encoding)
  server RSS: 30.1 MB now, 38.0 MB peak (target <= 64 MB)
  capture -> viewer latency: p50 400µs, p99 1.3ms, max 5ms (target p99 <= 20 ms)
`
	rows := spycamRows(parseSpycam(out))
	got := []string{}
	for _, r := range rows {
		got = append(got, r.tinkerbox+" "+r.met)
	}
	want := "99.5 % met|11.2 % of a core met|38.0 MB met|1.30 ms met"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q", got)
	}
}

func TestArmRows(t *testing.T) {
	native := parseBench("BenchmarkStrip 100 1 ns/op 5.0 p50-cpu-ms 10.0 p95-cpu-ms\n")
	arm := parseBench("BenchmarkStrip 100 1 ns/op 60.0 p50-cpu-ms 160.0 p95-cpu-ms\n")
	rows := armRows("strip", native, arm)
	if len(rows) != 2 {
		t.Fatalf("rows = %#v", rows)
	}
	want := row{"comic strip CPU p95 under arm1176", "160 ms", "native: 10.0 ms", "16.00×", "≤ 150 ms under arm1176", "not met"}
	if rows[1] != want {
		t.Errorf("row = %#v\nwant %#v", rows[1], want)
	}
	if rows := armRows("strip", native, nil); rows[1].tinkerbox != none || rows[1].met != "not measured" {
		t.Errorf("no arm run: %#v", rows[1])
	}
}

func TestRender(t *testing.T) {
	rows := []row{{"a | b", "1 ms", none, none, "≤ 5 ms", "met"}}
	md := markdown("Machine X.", rows)
	want := "Machine X.\n\n| figure | tinkerbox | anchor (peer, same run) | ratio | target | met |\n|---|---|---|---|---|---|\n| a \\| b | 1 ms | — | — | ≤ 5 ms | met |\n"
	if md != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", md, want)
	}
	var b bytes.Buffer
	printText(&b, "head", rows)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 || lines[0] != "head" || !strings.HasPrefix(lines[2], "a | b   1 ms       —") {
		t.Errorf("text:\n%s", b.String())
	}
}

func TestRewriteBlock(t *testing.T) {
	doc := "# T\r\n\nbefore  \n<!-- bench:begin -->\nold\ntable\n<!-- bench:end -->\nafter\n\ttabs \n<!-- bench-arm:begin -->\nx\n<!-- bench-arm:end -->\n"
	out, err := rewriteBlock([]byte(doc), "bench", "new")
	if err != nil {
		t.Fatal(err)
	}
	want := "# T\r\n\nbefore  \n<!-- bench:begin -->\nnew\n<!-- bench:end -->\nafter\n\ttabs \n<!-- bench-arm:begin -->\nx\n<!-- bench-arm:end -->\n"
	if string(out) != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	out, err = rewriteBlock(out, "bench-arm", "y\n")
	if err != nil || string(out) != strings.Replace(want, "\nx\n", "\ny\n", 1) {
		t.Errorf("bench-arm: %q, %v", out, err)
	}
	if _, err := rewriteBlock([]byte("no markers\n"), "bench", "x"); err == nil {
		t.Error("no markers: no error")
	}
	if _, err := rewriteBlock([]byte("<!-- bench:begin -->\nx\n"), "bench", "x"); err == nil {
		t.Error("no end marker: no error")
	}
}

func TestParseDurationMs(t *testing.T) {
	for s, want := range map[string]float64{"1.3ms": 1.3, "850µs": 0.85, "2s": 2000} {
		if v, err := parseDurationMs(s); err != nil || v < want-1e-9 || v > want+1e-9 {
			t.Errorf("%s: %v, %v", s, v, err)
		}
	}
}
