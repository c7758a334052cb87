package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// armBinary is one of the `make arm` outputs.
type armBinary struct {
	path    string
	machine elf.Machine
	qemu    []string // how to run it here
}

var armBinaries = []armBinary{
	{"dist/tinkerbox-linux-armv6", elf.EM_ARM, []string{"qemu-arm-static", "-cpu", "arm1176"}}, // the Pi Zero's CPU: catches ARMv7 instructions
	{"dist/tinkerbox-linux-armv7", elf.EM_ARM, []string{"qemu-arm-static", "-cpu", "cortex-a7"}},
	{"dist/tinkerbox-linux-arm64", elf.EM_AARCH64, []string{"qemu-aarch64-static"}},
}

// need skips a test on a developer machine without the tool, but fails under
// CI, where .ci/run installs everything.
func need(t *testing.T, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI (make test builds it; .ci/run installs the tools)", what)
	}
	t.Skipf("%s is missing: run `make arm` and install qemu-user-static", what)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestARMBinariesAreStatic(t *testing.T) {
	for _, b := range armBinaries {
		t.Run(b.path, func(t *testing.T) {
			need(t, b.path, exists(b.path))
			f, err := elf.Open(b.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != b.machine {
				t.Errorf("machine %v, want %v", f.Machine, b.machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("has a %v program header: not statically linked", p.Type)
				}
			}
			if st, _ := os.Stat(b.path); st.Size() > 25<<20 {
				t.Errorf("%d bytes: over the 25 MB budget", st.Size())
			}
		})
	}
}

func TestARMSelftestUnderQEMU(t *testing.T) {
	for _, b := range armBinaries {
		t.Run(b.path, func(t *testing.T) {
			need(t, b.path, exists(b.path))
			_, err := exec.LookPath(b.qemu[0])
			need(t, b.qemu[0], err == nil)
			args := append(append([]string(nil), b.qemu[1:]...), b.path, "selftest", "--sim", "--data", t.TempDir())
			out, err := exec.Command(b.qemu[0], args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", b.qemu[0], strings.Join(args, " "), err, out)
			}
			if !strings.Contains(string(out), "OK") {
				t.Fatalf("selftest printed no OK line:\n%s", out)
			}
		})
	}
}
