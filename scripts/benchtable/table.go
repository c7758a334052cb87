package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// A row of the table. Cells are text as shown; anchor is the peer measured
// in the same run ("—" where the figure has none), met is "met", "not met"
// or "" where the figure has no must-reach target.
type row struct {
	figure, tinkerbox, anchor, ratio, target, met string
}

var header = row{"figure", "tinkerbox", "anchor (peer, same run)", "ratio", "target", "met"}

// armHeader heads the -arm table, whose anchor is the native run.
var armHeader = row{"figure", "arm1176 (qemu)", "native, same run", "ratio arm / native", "target", "met"}

const none = "—"

// absent is the anchor cell of a peer that could not be measured here.
func absent(why string) string {
	if why == "" {
		return "absent"
	}
	return "absent: " + why
}

// ratio is a/b as "0.63×", or "—" when either is unknown.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return none
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// atMost is "met" when v ≤ limit, "not met" when not, and "not measured"
// when v is unknown.
func atMost(v, limit float64) string {
	switch {
	case math.IsNaN(v):
		return "not measured"
	case v <= limit:
		return "met"
	}
	return "not met"
}

func atLeast(v, limit float64) string {
	switch {
	case math.IsNaN(v):
		return "not measured"
	case v >= limit:
		return "met"
	}
	return "not met"
}

// num formats v with unit, or "—" when v is unknown.
func num(v float64, format, unit string) string {
	if math.IsNaN(v) {
		return none
	}
	s := fmt.Sprintf(format, v)
	if unit != "" {
		s += " " + unit
	}
	return s
}

func ms(v float64) string {
	if !math.IsNaN(v) && v >= 100 {
		return num(v, "%.0f", "ms")
	}
	if !math.IsNaN(v) && v < 10 {
		return num(v, "%.2f", "ms")
	}
	return num(v, "%.1f", "ms")
}

func (r row) cells() []string {
	return []string{r.figure, r.tinkerbox, r.anchor, r.ratio, r.target, r.met}
}

// printText writes the rows as a plain table with aligned columns.
func printText(w io.Writer, head string, rows []row) {
	all := append([]row{header}, rows...)
	width := make([]int, len(header.cells()))
	for _, r := range all {
		for i, c := range r.cells() {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	fmt.Fprintln(w, head)
	for _, r := range all {
		var b strings.Builder
		for i, c := range r.cells() {
			b.WriteString(c)
			if i < len(width)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// markdown is the rows as a Markdown table under head.
func markdown(head string, rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", head)
	line := func(cells []string) {
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	line(header.cells())
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		line(r.cells())
	}
	return b.String()
}

// rewriteBlock replaces what lies between the lines "<!-- tag:begin -->"
// and "<!-- tag:end -->" in doc with block, and keeps every other byte.
func rewriteBlock(doc []byte, tag, block string) ([]byte, error) {
	begin, end := []byte("<!-- "+tag+":begin -->\n"), []byte("<!-- "+tag+":end -->")
	i := bytes.Index(doc, begin)
	if i < 0 {
		return nil, fmt.Errorf("no %q line", strings.TrimSpace(string(begin)))
	}
	j := bytes.Index(doc[i+len(begin):], end)
	if j < 0 {
		return nil, fmt.Errorf("no %q line after %q", end, strings.TrimSpace(string(begin)))
	}
	j += i + len(begin)
	if !strings.HasSuffix(block, "\n") {
		block += "\n"
	}
	out := make([]byte, 0, len(doc)+len(block))
	out = append(out, doc[:i+len(begin)]...)
	out = append(out, block...)
	return append(out, doc[j:]...), nil
}
