package config

import (
	"strings"
	"testing"
)

// TestEveryMistakeAtOnce: a file with an unknown key, a wrong type and a bad
// value gets all three reported, one line each with file:line, in file
// order; before, the schema errors hid the bad value.
func TestEveryMistakeAtOnce(t *testing.T) {
	src := `[appliance]
name = "-bad-"
colour = "red"

[printer]
width = "wide"
baud = 1200

[web]
listen = "nope"
`
	_, err := Parse("box.toml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`box.toml:2: appliance.name: invalid name "-bad-"`,
		`box.toml:3: appliance.colour: unknown key`,
		`box.toml:6: printer.width: want an integer, got string "wide"`,
		`box.toml:7: printer.baud: 1200 not supported`,
		`box.toml:10: web.listen: invalid address "nope"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i], w)
		}
	}
}

// TestMistakesBesideRejectedKeys: a value that depends on a rejected key is
// not blamed for the default standing in for it, and a bad key in a dotted
// or unknown table still lets the rest be checked.
func TestMistakesBesideRejectedKeys(t *testing.T) {
	src := `[appliance]
scenes = ["comic", 7]
default_scene = "spycam"
extra.x = 1

[nothere]
a = 1

[buttons]
a = 99
`
	_, err := Parse("box.toml", []byte(src))
	got := err.Error()
	for _, w := range []string{
		"box.toml:2: appliance.scenes[1]: want a string, got integer 7",
		"box.toml:4: appliance.extra.x: unknown key",
		"box.toml:6: nothere: unknown table",
		"box.toml:10: buttons.a: pin 99 out of range",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if strings.Contains(got, "default_scene") {
		t.Errorf("default_scene blamed for the rejected scenes:\n%s", got)
	}
	// A syntax error is still reported alone: nothing after it can be read.
	_, err = Parse("box.toml", []byte("[buttons]\na = 99\nb = = 3\n"))
	if n := strings.Count(err.Error(), "\n"); n != 0 || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("syntax error: %v", err)
	}
}
