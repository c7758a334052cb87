package webtest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// AxeVersion is the axe-core release the accessibility checks run. It is
// fetched from the npm registry at test time into the repository's ignored
// .cache/axe/ folder, never committed.
const AxeVersion = "4.14.1"

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

// Axe returns the source of axe.min.js. When neither the cache nor npm can
// provide it, the test is skipped with a message saying why (CI included: the
// registry being unreachable is not the code's fault, and says so loudly).
func Axe(t testing.TB) string {
	t.Helper()
	axeOnce.Do(func() { axeSrc, axeErr = loadAxe() })
	if axeErr != nil {
		t.Skipf("webtest: skipping the axe-core check: %v", axeErr)
	}
	return axeSrc
}

func loadAxe() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".cache", "axe")
	tgz := filepath.Join(dir, "axe-core-"+AxeVersion+".tgz")
	if _, err := os.Stat(tgz); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			return "", errors.New("npm is not installed (apt-get install npm) and " + tgz + " is not there")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("webtest: axe cache: %w", err)
		}
		// Packed into a fresh directory, then renamed: an interrupted
		// download never leaves a broken tarball in the cache.
		tmp, err := os.MkdirTemp(dir, "pack-")
		if err != nil {
			return "", fmt.Errorf("webtest: axe cache: %w", err)
		}
		defer os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "axe-core@"+AxeVersion, "--pack-destination", tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm pack axe-core@%s (is the npm registry reachable?): %v: %s", AxeVersion, err, strings.TrimSpace(string(out)))
		}
		if err := os.Rename(filepath.Join(tmp, filepath.Base(tgz)), tgz); err != nil {
			return "", fmt.Errorf("webtest: axe cache: %w", err)
		}
	}
	f, err := os.Open(tgz)
	if err != nil {
		return "", fmt.Errorf("webtest: axe: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("webtest: axe: %s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", fmt.Errorf("webtest: axe: no package/axe.min.js in %s: %w", tgz, err)
		}
		if h.Name == "package/axe.min.js" {
			b, err := io.ReadAll(tr)
			if err != nil {
				return "", fmt.Errorf("webtest: axe: %w", err)
			}
			return string(b), nil
		}
	}
}

// repoRoot is the directory holding go.mod, above the test's directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("webtest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("webtest: no go.mod above the working directory")
		}
		dir = up
	}
}

// AxeFinding is one failed axe-core rule on a page.
type AxeFinding struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"` // "minor", "moderate", "serious", "critical"
	Help   string   `json:"help"`
	Count  int      `json:"count"` // offending elements
	Nodes  []string `json:"nodes"` // CSS selectors of the first few
}

func (f AxeFinding) String() string {
	return fmt.Sprintf("%s [%s] %s: %d elements: %s", f.ID, f.Impact, f.Help, f.Count, strings.Join(f.Nodes, ", "))
}

// Serious reports whether a finding blocks: serious or critical.
func (f AxeFinding) Serious() bool { return f.Impact == "serious" || f.Impact == "critical" }

// RunAxe injects axe-core (src, from Axe) into the current page, unless it is
// there already, and returns its violations, sorted by rule.
func RunAxe(ctx context.Context, src string) ([]AxeFinding, error) {
	// Runtime.evaluate is DevTools' own evaluation: the page's CSP, which
	// forbids inline scripts, does not apply to it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.axe ? undefined : (0, eval)(`+jsString(src)+`)`)); err != nil {
		return nil, fmt.Errorf("webtest: inject axe-core: %w", err)
	}
	const run = `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
		id: v.id, impact: v.impact || '', help: v.help, count: v.nodes.length,
		nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ')),
	})))`
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeFinding](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("webtest: run axe-core: %w", err)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	return found, nil
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8 + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\u2028':
			b.WriteString(`\u2028`)
		case '\u2029':
			b.WriteString(`\u2029`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
