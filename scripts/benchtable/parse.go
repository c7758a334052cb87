package main

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// A bench is one line of `go test -bench` output: the benchmark's name
// without the -GOMAXPROCS suffix, its iterations and its metrics by unit
// (ns/op, cpu-ms/op, p95-cpu-ms, ...).
type bench struct {
	name    string
	n       int
	metrics map[string]float64
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads the standard benchmark lines of go test's output (of the
// test binary's or of go test's, -v or not) and ignores everything else. A
// benchmark that ran twice keeps its last line.
func parseBench(out string) map[string]bench {
	bs := map[string]bench{}
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		b := bench{name: procsSuffix.ReplaceAllString(f[0], ""), n: n, metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				b.metrics = nil
				break
			}
			b.metrics[f[i+1]] = v
		}
		if b.metrics != nil {
			bs[b.name] = b
		}
	}
	return bs
}

// metric is bs[name].metrics[unit], or NaN when that benchmark or metric
// is not in the output.
func metric(bs map[string]bench, name, unit string) float64 {
	b, ok := bs[name]
	if !ok {
		return math.NaN()
	}
	v, ok := b.metrics[unit]
	if !ok {
		return math.NaN()
	}
	return v
}

// pillowRow is one row of scripts/bench-pillow-dither.py's table: the
// median CPU ms, or NaN and the reason when the row was skipped.
type pillowRow struct {
	ms  float64
	why string
}

var pillowLine = regexp.MustCompile(`^\s+(go|pillow|python-escpos)\s+([0-9.]+|-)\s+(.*)$`)

func parsePillow(out string) map[string]pillowRow {
	rows := map[string]pillowRow{}
	for line := range strings.SplitSeq(out, "\n") {
		m := pillowLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[2] == "-" {
			why := m[3]
			if _, after, ok := strings.Cut(why, "skipped, "); ok {
				why = after
			}
			rows[m[1]] = pillowRow{ms: math.NaN(), why: strings.TrimSpace(why)}
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		rows[m[1]] = pillowRow{ms: v}
	}
	return rows
}

// columns splits a row of a table printed by scripts/benchstart or
// scripts/benchfanout: cells are separated by two spaces or more.
var cellGap = regexp.MustCompile(`\s{2,}`)

func columns(line string) []string {
	s := strings.TrimSpace(line)
	if s == "" {
		return nil
	}
	return cellGap.Split(s, -1)
}

// A startFigure is one of scripts/benchstart's lines: the median and the
// worst run, in ms or MB (NaN for "never").
type startFigure struct{ median, worst float64 }

func parseStart(out string) map[string]startFigure {
	figs := map[string]startFigure{}
	for line := range strings.SplitSeq(out, "\n") {
		c := columns(line)
		if len(c) < 4 || !strings.HasPrefix(c[len(c)-1], "(target") {
			continue
		}
		figs[c[0]] = startFigure{quantity(c[1]), quantity(c[2])}
	}
	return figs
}

// quantity is the number in "116 ms", "27.5 MB", "12.3 µs" or "98.0 %";
// NaN for anything else ("never", "-").
func quantity(s string) float64 {
	num, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// A fanRow is one row of scripts/benchfanout's table: tinkerbox's and
// go2rtc's cells as printed. Rows under its "starved:" line are keyed
// "starved: " + label.
type fanRow struct{ tinkerbox, go2rtc string }

const stalledLabel = "stalled viewer closed after"

var stallCell = regexp.MustCompile(`open after [0-9.]+ s|[0-9.]+ ?(s|ms)|never`)

func parseFanout(out string) map[string]fanRow {
	rows := map[string]fanRow{}
	starved := false
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "starved:") {
			starved = true
			continue
		}
		if !strings.HasPrefix(line, "  ") {
			continue
		}
		// Its cells can touch ("1.2 s open after 20 s").
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), stalledLabel); ok {
			if c := stallCell.FindAllString(rest, 2); len(c) == 2 {
				rows[stalledLabel] = fanRow{c[0], c[1]}
			}
			continue
		}
		c := columns(line)
		if len(c) < 3 || c[1] == "tinkerbox" {
			continue
		}
		key := c[0]
		if starved {
			key = "starved: " + key
		}
		rows[key] = fanRow{c[1], c[2]}
	}
	return rows
}

// spycam's figures, from scripts/benchspycam's lines.
var spycamRes = map[string]*regexp.Regexp{
	"frames": regexp.MustCompile(`frames received per healthy viewer: min ([0-9.]+) %`),
	"cpu":    regexp.MustCompile(`server CPU: ([0-9.]+) % of one core`),
	"peak":   regexp.MustCompile(`server RSS: [0-9.]+ MB now, ([0-9.]+) MB peak`),
	"p99":    regexp.MustCompile(`latency: p50 \S+, p99 (\S+),`),
}

func parseSpycam(out string) map[string]string {
	figs := map[string]string{}
	for k, re := range spycamRes {
		if m := re.FindStringSubmatch(out); m != nil {
			figs[k] = m[1]
		}
	}
	return figs
}
