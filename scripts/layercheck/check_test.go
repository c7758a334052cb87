package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root, rel, src string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPlantedBadImportsFail proves the check catches what it must.
func TestPlantedBadImportsFail(t *testing.T) {
	root := t.TempDir()
	write(t, root, "scenes/comic/comic.go", "package comic\n\nimport (\n\t\"fmt\"\n\t\"tinkerbox/drivers/escpos\"\n)\n")
	write(t, root, "scenes/barometer/b_test.go", "package barometer\n\nimport _ \"tinkerbox/appliance/store\"\n")
	write(t, root, "scenes/spycam/s.go", "package spycam\n\nimport _ \"periph.io/x/host/v3/rpi\"\n")
	write(t, root, "drivers/led/led.go", "package led\n\nimport _ \"tinkerbox/scenes/scene\"\n")
	write(t, root, "drivers/led/db.go", "package led\n\nimport _ \"modernc.org/sqlite\"\n")
	write(t, root, "drivers/led/reg.go", "package led\n\nimport _ \"periph.io/x/conn/v3/gpio/gpioreg\"\n")
	write(t, root, "appliance/web/w.go", "package web\n\nimport _ \"periph.io/x/host/v3\"\n")
	v, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range v {
		got = append(got, x.String())
	}
	want := []string{
		`appliance/web/w.go:3: imports "periph.io/x/host/v3": only appliance/board may touch periph's global registries`,
		`drivers/led/db.go:3: imports "modernc.org/sqlite": drivers import only the standard library, periph.io, go-gpiocdev, tarm/serial, x/image, x/sys and other drivers`,
		`drivers/led/led.go:3: imports "tinkerbox/scenes/scene": drivers import only the standard library, periph.io, go-gpiocdev, tarm/serial, x/image, x/sys and other drivers`,
		`drivers/led/reg.go:3: imports "periph.io/x/conn/v3/gpio/gpioreg": only appliance/board may touch periph's global registries`,
		`scenes/barometer/b_test.go:3: imports "tinkerbox/appliance/store": scenes must not import appliance (use the interfaces in scenes/scene)`,
		`scenes/comic/comic.go:5: imports "tinkerbox/drivers/escpos": scenes must not import drivers (use the interfaces in scenes/scene)`,
		`scenes/spycam/s.go:3: imports "periph.io/x/host/v3/rpi": scenes must not import periph.io/x/host/v3 (use the interfaces in scenes/scene)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAllowedImportsPass(t *testing.T) {
	root := t.TempDir()
	write(t, root, "scenes/hello/h.go", "package hello\n\nimport (\n\t_ \"tinkerbox/scenes/scene\"\n\t_ \"tinkerbox/images/font\"\n\t_ \"periph.io/x/conn/v3/physic\"\n)\n")
	write(t, root, "drivers/enviro/e.go", "package enviro\n\nimport (\n\t_ \"periph.io/x/devices/v3/bmxx80\"\n\t_ \"tinkerbox/drivers/tcs3472\"\n\t_ \"context\"\n)\n")
	write(t, root, "drivers/enviro/e_test.go", "package enviro\n\nimport _ \"tinkerbox/scenes/scene/fakeclock\"\n")
	write(t, root, "appliance/board/b.go", "package board\n\nimport _ \"periph.io/x/host/v3\"\n")
	v, err := Check(root)
	if err != nil || len(v) != 0 {
		t.Fatalf("Check = %v, %v; want no violations", v, err)
	}
}

// TestRepository runs the check on the real tree.
func TestRepository(t *testing.T) {
	v, err := Check("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range v {
		t.Error(x)
	}
}
