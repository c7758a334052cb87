package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	art "tinkerbox/images/comic"
	"tinkerbox/images/imgdecode/imgtest"
)

// maxBadInputRSS is the most a hostile input may make tinkerbox use: a Pi
// Zero has 512 MB for the kernel, the appliance and everything else.
const maxBadInputRSS = 150 << 20

var tinkerboxBin struct {
	once sync.Once
	path string
	err  error
}

// buildTinkerbox builds the command once per test binary.
func buildTinkerbox(t *testing.T) string {
	t.Helper()
	tinkerboxBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "tinkerbox-bin-")
		if err != nil {
			tinkerboxBin.err = err
			return
		}
		tinkerboxBin.path = filepath.Join(dir, "tinkerbox")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", tinkerboxBin.path, "tinkerbox").CombinedOutput()
		if err != nil {
			tinkerboxBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if tinkerboxBin.err != nil {
		t.Fatal(tinkerboxBin.err)
	}
	return tinkerboxBin.path
}

// TestMain removes the binary built for the subprocess tests, and is the
// helper that measures them (see runMeasured).
func TestMain(m *testing.M) {
	if out := os.Getenv("TINKERBOX_RSS_OUT"); out != "" {
		os.Exit(rssHelper(out, os.Args[1:]))
	}
	code := m.Run()
	if tinkerboxBin.path != "" {
		os.RemoveAll(filepath.Dir(tinkerboxBin.path))
	}
	os.Exit(code)
}

// rssHelper runs args and writes the child's peak RSS (KiB) to out. It
// exists because Linux starts a child's ru_maxrss at the high-water mark of
// the process that spawned it (Go spawns with vfork: the parent's memory):
// spawned from the test process, every figure would be at least the test
// process's own peak. This helper is fresh and small.
func rssHelper(out string, args []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "rss helper:", err)
		return 125
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	if err := os.WriteFile(out, []byte(strconv.FormatInt(int64(rss), 10)), 0o644); err != nil {
		return 125
	}
	return cmd.ProcessState.ExitCode()
}

// runMeasured runs bin with args in dir through rssHelper and returns the
// output, the exit code and the peak RSS in bytes.
func runMeasured(t *testing.T, dir, bin string, args ...string) (string, int, int64) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command(self, append([]string{bin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TINKERBOX_RSS_OUT="+outFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatalf("did not run:\n%s", out.String())
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatalf("no figure from the helper: %v\n%s", err, out.String())
	}
	kib, _ := strconv.ParseInt(string(b), 10, 64)
	return out.String(), cmd.ProcessState.ExitCode(), kib << 10
}

// TestBadInputsWithinMemory runs the real command on each hostile input
// and measures its peak resident memory: every one is refused (or, for a
// large scan, reduced) within maxBadInputRSS, with a message that says why.
func TestBadInputsWithinMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tinkerbox and runs it on gigabyte inputs")
	}
	bin := os.Getenv("TINKERBOX_RSS_BIN") // to measure another build: the figures before a fix
	if bin == "" {
		bin = buildTinkerbox(t)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pngBomb := write("photo.png", imgtest.PNGBomb(60000, 60000))
	jpegBomb := write("photo.jpg", imgtest.JPEGBomb(60000, 60000, false))
	progBomb := write("prog.jpg", imgtest.JPEGBomb(4000, 4000, true))
	field := filepath.Join(dir, "field.csv")
	writeHugeField(t, field)
	sparseCSV := filepath.Join(dir, "sparse.csv")
	writeSparse(t, sparseCSV, "name,set,number\n", 1<<30)
	sparseJSON := filepath.Join(dir, "sparse.json")
	writeSparse(t, sparseJSON, `[{"id":"x","name":"`, 1<<30) // a name of a billion NULs
	bigJSON := filepath.Join(dir, "big.json")
	writeBigJSON(t, bigJSON)
	refCSV := write("ref.csv", []byte("name,set,number,image\nBomb,s,1,photo.png\n"))
	nanCSV := write("nan.csv", []byte("name,set,number,price\nBolt,m10,146,NaN\n"))
	nanJSON := write("nan.json", []byte(`[{"id":"x","name":"Bolt","prices":{"usd":"Infinity"}}]`))
	// Not in dir: ./tinkerbox.toml is where every command looks first.
	if err := os.Mkdir(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	sparseTOML := filepath.Join(dir, "etc", "tinkerbox.toml")
	writeSparse(t, sparseTOML, "[printer]\n", 1<<30)
	scanPack := writeScanPack(t, filepath.Join(dir, "pack"), 8000)

	data := filepath.Join(dir, "data")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"print PNG bomb", []string{"print", "--sim", "--data", data, pngBomb}, 1, "photo.png is 60000×60000, more than the 24 Mpixel limit"},
		{"print JPEG bomb", []string{"print", "--sim", "--data", data, jpegBomb}, 1, "photo.jpg is 60000×60000, more than the 24 Mpixel limit"},
		{"identify PNG bomb", []string{"catalog", "identify", "--data", data, pngBomb, progBomb}, 1, "more than the 24 Mpixel limit"},
		{"reference image bomb", []string{"catalog", "import", "--data", data, refCSV}, 1, "photo.png is 60000×60000"},
		{"CSV 50 MB field", []string{"catalog", "import", "--data", data, field}, 1, "line 3: a record longer than 64 KiB"},
		{"CSV 1 GB sparse", []string{"catalog", "import", "--data", data, sparseCSV}, 1, "line 2: a record longer than 64 KiB"},
		{"JSON 50 MB name", []string{"catalog", "import", "--data", data, bigJSON}, 1, "a card is larger than 1024 KiB"},
		{"JSON 1 GB sparse", []string{"catalog", "import", "--data", data, sparseJSON}, 1, `invalid character '\x00' in string literal`},
		{"CSV NaN price", []string{"catalog", "import", "--data", data, nanCSV}, 1, `line 2 (Bolt): price: "NaN" is not a price`},
		{"JSON Inf price", []string{"catalog", "import", "--data", data, nanJSON}, 1, `card "Bolt" at byte 1: prices.usd: "Infinity" is not a price`},
		{"config /dev/zero", []string{"selftest", "--sim", "--data", data, "--config", "/dev/zero"}, 2, "/dev/zero is larger than 1 MiB"},
		{"config 1 GB sparse", []string{"selftest", "--sim", "--data", data, "--config", sparseTOML}, 2, "tinkerbox.toml is larger than 1 MiB"},
		{"pack 8000² grey scan", []string{"comic", "check", "--sheet", filepath.Join(dir, "sheet.png"), scanPack}, 0, "1 images"},
		{"strip from the 8000² scan", []string{"comic", "--seed", "1", "--pack", scanPack, "--png", filepath.Join(dir, "strip.png")}, 0, "-> "},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			start := time.Now()
			out, code, rss := runMeasured(t, dir, bin, c.args...)
			t.Logf("peak RSS %.1f MB in %s", float64(rss)/1e6, time.Since(start).Round(time.Millisecond))
			if code != c.code {
				t.Errorf("exit code %d, want %d\n%s", code, c.code, out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("output does not say %q:\n%s", c.want, out)
			}
			if rss > maxBadInputRSS {
				t.Errorf("peak RSS %d MB, more than %d MB", rss>>20, maxBadInputRSS>>20)
			}
		})
	}
}

// writeScanPack copies the built-in pack's grids and frames into dir and
// gives it one drawing: a side×side grey scan.
func writeScanPack(t *testing.T, dir string, side int) string {
	t.Helper()
	raw, err := fs.ReadFile(art.Pack(), "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]json.RawMessage
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	man["images"] = json.RawMessage(`[{"file":"scan.png","theme":"scans","role":"action"}]`)
	b, _ := json.Marshal(man)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644)
	err = fs.WalkDir(art.Pack(), "frames", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, p), 0o755)
		}
		fb, err := fs.ReadFile(art.Pack(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), fb, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "scan.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := imgtest.GreyScanPNG(f, side, side); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return dir
}

// writeBigJSON writes a Scryfall file whose one card has a 50 MB name.
func writeBigJSON(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(`[{"id":"x","name":"`)
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for range 50 {
		f.Write(chunk)
	}
	if _, err := f.WriteString(`"}]`); err != nil {
		t.Fatal(err)
	}
}
