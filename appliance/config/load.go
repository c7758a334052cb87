package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// maxErrors caps how many problems one error reports; the rest are counted.
const maxErrors = 10

// Error is one problem with a configuration, located in its file. Load,
// Parse and Validate return either a single *Error or several joined with
// errors.Join (one per line).
type Error struct {
	File string // "" when a Config is validated outside any file
	Line int    // 1-based; 0 when no line of the file is to blame
	Key  string // dotted key such as "buttons.a"; "" for syntax errors
	Msg  string
}

// Error formats e as "file:line: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File == "" {
		b.WriteString("config")
	} else {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// MaxFileSize caps a config file: the example with every comment is a few
// kilobytes, and a file that never ends (/dev/zero, a FIFO fed forever)
// must not fill a Pi Zero's memory.
const MaxFileSize = 1 << 20

// Load reads and parses the file at path (see Parse). A missing file gives
// an error wrapping fs.ErrNotExist; the caller decides whether to fall back
// to Default. A file larger than MaxFileSize is refused.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	tooBig := fmt.Errorf("config: %s is larger than %d MiB", path, MaxFileSize>>20)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileSize {
		return nil, tooBig
	}
	// Read through a limit even when stat said small: a device says 0.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, tooBig
	}
	return Parse(path, data)
}

// Parse decodes a tinkerbox.toml document over Default and validates the
// result. name is the file name that starts every error message. Unknown
// keys, wrong types and invalid values are all reported (up to ten), each
// as "name:line: key: message"; a syntax error is reported alone.
func Parse(name string, data []byte) (*Config, error) {
	if name == "" {
		name = "tinkerbox.toml"
	}
	// Editors on Windows like to start files with a byte order mark, which
	// TOML does not allow; it changes no line numbers, so drop it.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))

	d := newDocument(name, data)
	// The schema check runs first because go-toml stops at the first type
	// mismatch, and a user fixing a file wants every mistake at once.
	if errs := d.scan(); len(errs) > 0 {
		return nil, joinErrors(sortByLine(append(errs, d.checkRest(errs)...)))
	}
	cfg := Default()
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		// Only reached for what the scan does not model (such as a table
		// redefined by dotted keys); keep go-toml's own diagnosis.
		return nil, joinErrors(d.decodeErrors(err))
	}
	if probs := cfg.problems(); len(probs) > 0 {
		return nil, joinErrors(d.locate(probs))
	}
	return cfg, nil
}

// Validate checks every value and the wiring as a whole (pin and address
// clashes between enabled devices). Use it after changing a Config, for
// example from command-line flags. Errors read "config: key: message".
func (c *Config) Validate() error {
	probs := c.problems()
	errs := make([]*Error, 0, len(probs))
	def := Default()
	for _, p := range probs {
		// For a clash, name the key that was changed from its default.
		if p.other != "" && !changed(c, def, p.key) && changed(c, def, p.other) {
			p.key, p.other = p.other, p.key
		}
		errs = append(errs, &Error{Key: p.key, Msg: p.text()})
	}
	return joinErrors(errs)
}

// checkRest validates the values the schema check did not reject, with the
// rejected keys left at their defaults: an unknown key must not hide a bad
// value three lines further down. A document go-toml cannot decode as a
// plain map (a syntax error, a table defined twice) gives nothing more.
func (d *document) checkRest(rejected []*Error) []*Error {
	var m map[string]any
	if err := toml.Unmarshal(d.data, &m); err != nil {
		return nil
	}
	bad := map[string]bool{}
	for _, e := range rejected {
		if e.Key != "" {
			bad[trimIndex(e.Key)] = true
		}
	}
	prune(m, nil, bad)
	clean, err := toml.Marshal(m)
	if err != nil {
		return nil
	}
	cfg := Default()
	if err := toml.NewDecoder(bytes.NewReader(clean)).DisallowUnknownFields().Decode(cfg); err != nil {
		return nil
	}
	var probs []problem
	for _, p := range cfg.problems() {
		// A problem involving a rejected key is about its default, not
		// about anything the user wrote.
		if !slices.ContainsFunc(append([]string{p.key, p.other}, p.also...), func(k string) bool { return bad[k] }) {
			probs = append(probs, p)
		}
	}
	return d.locate(probs)
}

// trimIndex turns "appliance.scenes[1]" into "appliance.scenes": an array
// with a bad element is dropped whole.
func trimIndex(key string) string {
	for strings.HasSuffix(key, "]") {
		i := strings.LastIndexByte(key, '[')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return key
}

// prune deletes the keys named in bad from the decoded document m (whose
// path is prefix), and the tables that become empty.
func prune(m map[string]any, prefix []string, bad map[string]bool) {
	for k, v := range m {
		path := append(slices.Clip(prefix), k)
		if bad[keyString(path)] {
			delete(m, k)
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			prune(sub, path, bad)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}

// sortByLine orders errors as the file reads; those without a line last.
func sortByLine(errs []*Error) []*Error {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if a.Line == 0 || b.Line == 0 {
			return boolInt(a.Line == 0) - boolInt(b.Line == 0)
		}
		return a.Line - b.Line
	})
	return errs
}

// changed reports whether the value at the dotted key differs between a and b.
func changed(a, b *Config, key string) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for part := range strings.SplitSeq(key, ".") {
		if !isTable(va.Type()) {
			return false
		}
		f, ok := fieldByTag(va.Type(), part)
		if !ok {
			return false
		}
		va, vb = va.FieldByIndex(f.Index), vb.FieldByIndex(f.Index)
	}
	return !reflect.DeepEqual(va.Interface(), vb.Interface())
}

// decodeErrors translates go-toml's errors into located ones.
func (d *document) decodeErrors(err error) []*Error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var errs []*Error
		for i := range strict.Errors {
			line, _ := strict.Errors[i].Position()
			errs = append(errs, &Error{File: d.name, Line: line, Key: keyString(strict.Errors[i].Key()), Msg: "unknown key"})
		}
		return errs
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return []*Error{{File: d.name, Line: line, Key: keyString(de.Key()), Msg: oneLine(strings.TrimPrefix(de.Error(), "toml: "))}}
	}
	return []*Error{{File: d.name, Msg: oneLine(err.Error())}}
}

// locate turns validation problems into errors pointing at the line of the
// file that caused them; problems in sections the file does not mention
// point at the file alone.
func (d *document) locate(probs []problem) []*Error {
	errs := make([]*Error, 0, len(probs))
	for _, p := range probs {
		// For a clash, name the key the user actually wrote.
		if p.other != "" {
			if _, ok := d.lines[p.key]; !ok {
				if _, ok := d.lines[p.other]; ok {
					p.key, p.other = p.other, p.key
				}
			}
		}
		errs = append(errs, &Error{File: d.name, Line: d.lineOf(p), Key: p.key, Msg: p.text()})
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if a.Line == 0 || b.Line == 0 { // unknown lines last
			return boolInt(a.Line == 0) - boolInt(b.Line == 0)
		}
		return a.Line - b.Line
	})
	return errs
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lineOf finds the line to blame for p: its key, else a related key, else
// the nearest enclosing table the file defines.
func (d *document) lineOf(p problem) int {
	keys := append([]string{p.key, p.other}, p.also...)
	for _, k := range keys {
		if l, ok := d.lines[k]; ok && k != "" {
			return l
		}
	}
	for _, k := range keys {
		for i := strings.LastIndexByte(k, '.'); i > 0; i = strings.LastIndexByte(k, '.') {
			k = k[:i]
			if l, ok := d.lines[k]; ok {
				return l
			}
		}
	}
	return 0
}

func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	n := min(len(errs), maxErrors)
	out := make([]error, 0, n+1)
	for _, e := range errs[:n] {
		out = append(out, e)
	}
	if more := len(errs) - n; more > 0 {
		out = append(out, &Error{File: errs[0].File, Msg: fmt.Sprintf("%d more errors not shown", more)})
	}
	return errors.Join(out...)
}

// oneLine keeps each error on one line so that every line of a joined error
// starts with the file name.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// keyString formats a dotted key, quoting parts that are not bare keys.
func keyString(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if isBareKey(p) {
			b.WriteString(p)
		} else {
			b.WriteString(quote(p))
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// fieldByTag finds the field of struct type t whose toml tag is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
