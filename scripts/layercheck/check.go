package main

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const module = "tinkerbox/"

// Violation is one forbidden import.
type Violation struct {
	File   string // slash path relative to the root
	Line   int
	Import string
	Rule   string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: imports %q: %s", v.File, v.Line, v.Import, v.Rule)
}

// registries are periph's global registries: only the board may touch them.
var registries = []string{
	"periph.io/x/host/v3",
	"periph.io/x/conn/v3/gpio/gpioreg",
	"periph.io/x/conn/v3/i2c/i2creg",
	"periph.io/x/conn/v3/spi/spireg",
	"periph.io/x/conn/v3/driver/driverreg",
}

// driverDeps are the modules a driver may use besides the standard library.
var driverDeps = []string{
	"periph.io/x/conn/v3",
	"periph.io/x/host/v3",
	"periph.io/x/devices/v3",
	"github.com/warthog618/go-gpiocdev",
	"github.com/tarm/serial",
	"golang.org/x/image",
	"golang.org/x/sys",
	module + "drivers",
}

// Check walks the Go files under root and returns every forbidden import.
func Check(root string) ([]Violation, error) {
	var out []Violation
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch d.Name() {
			case "vendor", "testdata", ".git", "node_modules", "dist", "buildroot":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("parse %s: %w", rel, err)
		}
		test := strings.HasSuffix(path, "_test.go")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rule := forbidden(rel, p, test); rule != "" {
				out = append(out, Violation{File: rel, Line: fset.Position(imp.Pos()).Line, Import: p, Rule: rule})
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, err
}

// forbidden returns the rule an import breaks, or "".
func forbidden(file, imp string, test bool) string {
	under := func(prefix string) bool { return strings.HasPrefix(file, prefix+"/") }
	is := func(pkg string) bool { return imp == pkg || strings.HasPrefix(imp, pkg+"/") }
	switch {
	case under("scenes"):
		// Tests included: a scene test that needs a driver is testing the wrong layer.
		for _, p := range []string{module + "drivers", module + "appliance", "periph.io/x/host/v3"} {
			if is(p) {
				return "scenes must not import " + strings.TrimPrefix(p, module) + " (use the interfaces in scenes/scene)"
			}
		}
	case under("drivers"):
		if test || std(imp) {
			return ""
		}
		for _, p := range driverDeps {
			if is(p) {
				return registryRule(file, imp)
			}
		}
		return "drivers import only the standard library, periph.io, go-gpiocdev, tarm/serial, x/image, x/sys and other drivers"
	}
	if !test {
		return registryRule(file, imp)
	}
	return ""
}

func registryRule(file, imp string) string {
	if strings.HasPrefix(file, "appliance/board/") {
		return ""
	}
	for _, r := range registries {
		if imp == r {
			return "only appliance/board may touch periph's global registries"
		}
	}
	return ""
}

// std reports whether an import path is in the standard library (no dot in
// its first element).
func std(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".") && !strings.HasPrefix(p, module)
}
