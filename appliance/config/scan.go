package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// document is one TOML file being checked against the Config schema.
type document struct {
	name       string
	data       []byte
	lineStarts []int          // byte offset where each line begins
	lines      map[string]int // dotted key or table → line of its definition
	headers    map[string]int // explicit [table] headers → line
	errs       []*Error
}

func newDocument(name string, data []byte) *document {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &document{
		name:       name,
		data:       data,
		lineStarts: starts,
		lines:      map[string]int{},
		headers:    map[string]int{},
	}
}

// line converts a byte offset into a 1-based line number.
func (d *document) line(offset uint32) int {
	return sort.SearchInts(d.lineStarts, int(offset)+1)
}

func (d *document) fail(line int, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.name, Line: line, Key: key, Msg: oneLine(fmt.Sprintf(format, args...))})
}

var (
	durationType  = reflect.TypeFor[Duration]()
	timeOfDayType = reflect.TypeFor[TimeOfDay]()
	textType      = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// isTable reports whether values of t are written as TOML tables (as opposed
// to structs such as Duration that are written as strings).
func isTable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textType)
}

// scan walks the document with go-toml's parser and checks every key and
// value against the Config type: unknown keys, wrong types, unparsable
// durations, duplicates. It records where each key is defined so later
// validation errors can name a line.
func (d *document) scan() []*Error {
	var p unstable.Parser
	p.Reset(d.data)
	root := reflect.TypeFor[Config]()
	var (
		prefix []string     // key of the current [table]
		table  reflect.Type // its type; nil to skip the keys of a bad table
	)
	table = root
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			parts, line := keyOf(d, e)
			key := keyString(parts)
			prefix, table = parts, nil
			t, ok := d.resolve(root, nil, parts, line, "unknown table")
			if !ok {
				continue
			}
			if !isTable(t) {
				d.fail(line, key, "want %s, got a table", want(t))
				continue
			}
			if e.Kind == unstable.ArrayTable {
				d.fail(line, key, "want a table, got an array of tables ([[%s]])", key)
				continue
			}
			if first, dup := d.headers[key]; dup {
				d.fail(line, key, "table defined twice (first at line %d)", first)
				continue
			}
			d.headers[key] = line
			if _, seen := d.lines[key]; !seen {
				d.lines[key] = line
			}
			table = t
		case unstable.KeyValue:
			if table != nil {
				d.keyValue(table, prefix, e)
			}
		}
	}
	if err := p.Error(); err != nil {
		return []*Error{d.syntaxError(err)}
	}
	return d.errs
}

// keyValue checks one "key = value" against the struct type t of the table
// named prefix.
func (d *document) keyValue(t reflect.Type, prefix []string, kv *unstable.Node) {
	parts, line := keyOf(d, kv)
	full := append(append([]string{}, prefix...), parts...)
	key := keyString(full)
	ft, ok := d.resolve(t, prefix, parts, line, "unknown key")
	if !ok {
		return
	}
	if first, dup := d.lines[key]; dup {
		d.fail(line, key, "defined twice (first at line %d)", first)
		return
	}
	d.lines[key] = line
	d.value(ft, full, key, kv.Value(), line)
}

// resolve follows the dotted key parts from struct type t (the table named
// prefix), recording the implicit tables a dotted key defines. It reports
// unknown keys and keys that go through a non-table.
func (d *document) resolve(t reflect.Type, prefix, parts []string, line int, unknown string) (reflect.Type, bool) {
	path := append([]string{}, prefix...)
	for i, part := range parts {
		if !isTable(t) {
			d.fail(line, keyString(path), "want %s, got a table", want(t))
			return nil, false
		}
		f, ok := fieldByTag(t, part)
		path = append(path, part)
		if !ok {
			// Name the whole key, as the user wrote it.
			d.fail(line, keyString(append(path, parts[i+1:]...)), "%s", unknown)
			return nil, false
		}
		if i < len(parts)-1 {
			if _, seen := d.lines[keyString(path)]; !seen {
				d.lines[keyString(path)] = line
			}
		}
		t = f.Type
	}
	return t, true
}

// value checks the value node v against the Go type t of the key with
// parts key, written k in messages.
func (d *document) value(t reflect.Type, key []string, k string, v *unstable.Node, line int) {
	mismatch := func() { d.fail(line, k, "want %s, got %s", want(t), got(v)) }
	switch {
	case t == durationType:
		if v.Kind != unstable.String {
			mismatch()
			return
		}
		if _, err := parseDuration(string(v.Data)); err != nil {
			d.fail(line, k, "%v", err)
		}
	case t == timeOfDayType:
		if v.Kind != unstable.String {
			mismatch()
			return
		}
		if _, err := parseTimeOfDay(string(v.Data)); err != nil {
			d.fail(line, k, "%v", err)
		}
	case isTable(t):
		if v.Kind != unstable.InlineTable {
			mismatch()
			return
		}
		// An inline table defines a whole table in one line; check its
		// keys as if they were written under a [key] header.
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				d.keyValue(t, key, c)
			}
		}
	case t.Kind() == reflect.Slice:
		if v.Kind != unstable.Array {
			mismatch()
			return
		}
		it := v.Children()
		for i := 0; it.Next(); {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			d.value(t.Elem(), key, fmt.Sprintf("%s[%d]", k, i), c, line)
			i++
		}
	case t.Kind() == reflect.Int:
		if v.Kind != unstable.Integer {
			mismatch()
			return
		}
		if _, err := parseInt(v.Data); err != nil {
			d.fail(line, k, "integer %s is too large", v.Data)
		}
	case t.Kind() == reflect.Float64:
		if v.Kind != unstable.Integer && v.Kind != unstable.Float {
			mismatch()
		}
	case t.Kind() == reflect.String:
		if v.Kind != unstable.String {
			mismatch()
		}
	case t.Kind() == reflect.Bool:
		if v.Kind != unstable.Bool {
			mismatch()
		}
	default:
		// A field type the schema check does not know: a programming
		// error in this package, caught by the tests.
		d.fail(line, k, "unsupported field type %s", t)
	}
}

func (d *document) syntaxError(err error) *Error {
	line := 0
	var pe *unstable.ParserError
	if errors.As(err, &pe) {
		// The highlight is a subslice of the document: its distance from
		// the end of the shared backing array gives its offset.
		if off := cap(d.data) - cap(pe.Highlight); pe.Highlight != nil && off >= 0 && off <= len(d.data) {
			line = d.line(uint32(off))
		}
		return &Error{File: d.name, Line: line, Msg: "syntax error: " + oneLine(pe.Message)}
	}
	return &Error{File: d.name, Msg: "syntax error: " + oneLine(err.Error())}
}

// keyOf returns the parts of the key of a table header or key-value, and the
// line it starts on.
func keyOf(d *document, n *unstable.Node) ([]string, int) {
	var parts []string
	line := 0
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = d.line(k.Raw.Offset)
		}
		parts = append(parts, string(k.Data))
	}
	return parts, line
}

// parseInt parses a TOML integer (decimal, 0x, 0o or 0b, with underscores)
// into an int of the target's size.
func parseInt(b []byte) (int, error) {
	s := strings.ReplaceAll(string(b), "_", "")
	v, err := strconv.ParseInt(s, 0, strconv.IntSize)
	return int(v), err
}

func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration like "20ms"`
	case t == timeOfDayType:
		return `a time of day like "22:00"`
	case isTable(t):
		return "a table"
	}
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(want(t.Elem()), "a "), "an ") + "s"
	}
	return t.String()
}

func got(v *unstable.Node) string {
	const maxLen = 40
	raw := string(v.Data)
	if len(raw) > maxLen {
		raw = raw[:maxLen] + "…"
	}
	switch v.Kind {
	case unstable.String:
		return "string " + quote(string(v.Data))
	case unstable.Integer:
		return "integer " + raw
	case unstable.Float:
		return "float " + raw
	case unstable.Bool:
		return "boolean " + raw
	case unstable.Array:
		return "an array"
	case unstable.InlineTable:
		return "a table"
	case unstable.LocalDate:
		return "date " + raw
	case unstable.LocalTime:
		return "time " + raw
	case unstable.LocalDateTime, unstable.DateTime:
		return "date-time " + raw
	}
	return v.Kind.String()
}
