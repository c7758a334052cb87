package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinkerbox/appliance/update"
)

// The updater's health check against a running appliance: the version it
// runs, its web server, and every probed device.
func TestHealthOfRunningSimulator(t *testing.T) {
	data := t.TempDir()
	_, _, stop := startSim(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := applianceHealth{dataDir: data}.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != "test" || !rep.Web || len(rep.Devices) == 0 {
		t.Fatalf("report %+v", rep)
	}
	for d, st := range rep.Devices {
		if st != "ok" && st != "off" {
			t.Errorf("simulated %s: %q", d, st)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := (applianceHealth{dataDir: data}).Check(ctx); err == nil {
		t.Fatal("health of a stopped appliance")
	}
}

// fakeUpdateService answers the socket protocol like the service does.
func fakeUpdateService(t *testing.T, st update.Status) string {
	sock := filepath.Join(t.TempDir(), "update.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(st) })
	mux.HandleFunc("POST /install", func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		var n int64
		buf := make([]byte, 4096)
		enc := json.NewEncoder(w)
		for {
			k, err := r.Body.Read(buf)
			n += int64(k)
			enc.Encode(map[string]any{"phase": "writing root", "done": n, "total": 1 << 20})
			if err != nil {
				break
			}
		}
		if n != 1<<20 {
			enc.Encode(map[string]string{"error": "update: the bundle is truncated"})
			return
		}
		enc.Encode(map[string]any{"result": update.Result{Slot: "B", Version: "v2", Board: "pi4_64"}})
	})
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return sock
}

func TestUpdateCommand(t *testing.T) {
	sock := fakeUpdateService(t, update.Status{Board: "pi4_64", Version: "v1", Running: update.SlotStatus{Name: "A", Version: "v1", State: "active"},
		Other: update.SlotStatus{Name: "B", Version: "v0", State: "ready"}, CanRollback: true,
		Last: &update.Outcome{Result: "committed", Version: "v1", At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}})
	ctx := context.Background()
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := Update(ctx, Options{Version: "v1", Stdout: &out, Stderr: &errb}, append([]string{"--socket", sock}, args...))
		return out.String(), errb.String(), err
	}
	out, _, err := run("--status")
	if err != nil || !strings.Contains(out, "running:  v1 in slot A (active)") || !strings.Contains(out, "tinkerbox update --rollback goes back to v0") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "b.tbup")
	writeFile(t, file, make([]byte, 1<<20))
	out, progress, err := run(file)
	if err != nil || !strings.Contains(out, "installed v2 into slot B") || !strings.Contains(progress, "writing root: 100% (1 of 1 MiB)") {
		t.Fatalf("install: %v\n%s\n%s", err, out, progress)
	}
	if strings.Count(progress, "\n") > 15 {
		t.Errorf("progress is too chatty: %d lines", strings.Count(progress, "\n"))
	}
	writeFile(t, file, make([]byte, 1000))
	if _, _, err := run(file); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("refused: %v", err)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"--status", "x"}, {"--status", "--rollback"}} {
		if _, _, err := run(args...); err == nil {
			t.Errorf("%q: no usage error", args)
		}
	}
	if _, _, err := run(filepath.Join(t.TempDir(), "missing.tbup")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	var out2 bytes.Buffer
	err = Update(ctx, Options{Stdout: &out2, Stderr: &out2}, []string{"--socket", filepath.Join(t.TempDir(), "no.sock"), "--status"})
	if err == nil || !strings.Contains(err.Error(), "no update service") {
		t.Errorf("no service: %v", err)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
