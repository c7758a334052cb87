package appliance

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/cardfeed"
)

// killTrials is how many times the appliance is killed with SIGKILL during
// writes; killTrialTime bounds the whole test (it takes about half of it
// on a loaded 2-core machine).
const (
	killTrials    = 20
	killTrialTime = 3 * time.Minute
	killPassword  = "kill-trial-pw"
)

// The reliability suite's kill -9 trials: the real binary, on 127.0.0.1,
// killed at varied points while strips are composed and archived, reprints
// queued, strips deleted and scans corrected. After every kill the
// database passes integrity_check, every gallery row has its PNG, every
// write the appliance acknowledged (a 2xx) is there, and after the next
// start no temporary or orphaned archive file is left.
func TestKillTrials(t *testing.T) {
	if testing.Short() {
		t.Skip("kill trials build and run the binary 20 times: not under -short")
	}
	deadline := time.Now().Add(killTrialTime)
	bin := filepath.Join(t.TempDir(), "tinkerbox")
	build := exec.Command("go", "build", "-o", bin, "tinkerbox")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "tinkerbox.toml")
	if err := os.WriteFile(cfg, []byte("[appliance]\nscenes = [\"comic\", \"barometer\"]\ndefault_scene = \"comic\"\n"+
		// Room for the reprints and the presses of all trials: jobs outlive a
		// kill, and a full queue would refuse the presses that make strips
		// (the limit itself is TestConcurrentReprintsNeverExceedTheQueue's).
		"[comic]\nqueue = 50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scans := seedScans(t, data)
	acks := newAckLog(scans)
	rnd := rand.New(rand.NewPCG(13, 20))
	var f killFigures
	verified := map[int64]bool{} // strips whose PNG was decoded whole (n), or reported dangling (-n)
	for trial := range killTrials {
		if time.Now().After(deadline) {
			t.Fatalf("out of time after %d trials", trial)
		}
		if trial%4 == 2 {
			// What a kill inside an archive write leaves, planted: the
			// windows are too short to hit often on a fast disk.
			acks.planted[plantInterrupted(t, data)] = true
		}
		app := startBinary(t, bin, cfg, data)
		checkStartedClean(t, data, trial)
		// Kill points: in half the trials early in the start (the art
		// pack still loading, corrections and reprints under way); in the
		// others after the first strip of this run was archived, while the
		// next ones are composed and written (presses keep coming).
		var after <-chan struct{}
		runFor := time.Duration(50+rnd.IntN(1500)) * time.Millisecond
		if trial%2 == 1 {
			after, runFor = app.logs.archived, time.Duration(rnd.IntN(1500))*time.Millisecond
		}
		drive(app.url, acks, rnd.Uint64(), after, runFor, func() { app.kill(t) })
		g := checkAfterKill(t, data, acks, verified, f.strips, trial)
		t.Logf("trial %d: killed %v after %s: %d strips so far, interrupted a strip: %v", trial, runFor,
			map[bool]string{true: "the first strip", false: "the start"}[after != nil], g.strips, g.interrupted > 0)
		f.add(g)
	}
	// The start after the last kill tidies the archive too; then a clean stop.
	app := startBinary(t, bin, cfg, data)
	checkStartedClean(t, data, killTrials)
	app.stop(t)
	t.Logf("%d kill trials: %d corrupt databases, %d dangling gallery rows, %d acknowledged writes lost (of %d); "+
		"%d kills interrupted a strip being composed or written (leaving %d temporary files and %d PNGs without a row); "+
		"%d interrupted writes planted before a start, all tidied by it; %d strip numbers handed out",
		killTrials, f.corrupt, f.dangling, f.lost, acks.total(), f.interrupted, f.tmps, f.orphans, len(acks.planted), f.strips)
	if f.corrupt+f.dangling+f.lost > 0 {
		t.Fatal("the kill trials lost or broke data")
	}
}

type killFigures struct {
	corrupt, dangling, lost int
	// interrupted: kills that came while a strip was being composed or
	// written (its reserved number has no row); tmps and orphans: the
	// temporary files and the PNGs without a row they left.
	interrupted, tmps, orphans int
	strips                     int64 // strip numbers handed out so far
}

func (f *killFigures) add(g killFigures) {
	f.corrupt += g.corrupt
	f.dangling += g.dangling
	f.lost += g.lost
	f.tmps += g.tmps
	f.orphans += g.orphans
	f.interrupted += g.interrupted
	f.strips = g.strips
}

// seedScans puts a two-card catalog and a few accepted scans in the data
// dir for the corrections to move between; it returns the scan ids.
func seedScans(t *testing.T, data string) []int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat := []store.CatalogCard{{ID: "kill-a", Name: "Alpha", Set: "kt", Number: "1", USD: 1}, {ID: "kill-b", Name: "Beta", Set: "kt", Number: "2", USD: 2}}
	if _, err := st.ImportCatalog(ctx, func(yield func(store.CatalogCard, error) bool) {
		for _, c := range cat {
			if !yield(c, nil) {
				return
			}
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 4 {
		id, err := st.RecordScan(ctx, cardfeed.Scan{At: time.Unix(1e9+int64(i), 0), CardID: "kill-a", Name: "Alpha", Set: "kt", Number: "1",
			Price: 1, Accepted: true, Bin: cardfeed.BinBulk, Finish: "nonfoil", Lang: "en", Condition: "NM"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// ackLog is what the appliance acknowledged, across all trials.
type ackLog struct {
	mu       sync.Mutex
	reprints map[int64]int // strip → 202s
	deleted  map[int64]bool
	planted  map[int64]bool // numbers plantInterrupted used
	// per scan: the card of the last acknowledged correction, and the one
	// in flight when the kill came (either may be stored).
	acked, flying map[int64]string
	n             int
}

func newAckLog(scans []int64) *ackLog {
	a := &ackLog{reprints: map[int64]int{}, deleted: map[int64]bool{}, planted: map[int64]bool{}, acked: map[int64]string{}, flying: map[int64]string{}}
	for _, id := range scans {
		a.acked[id] = "kill-a"
	}
	return a
}

func (a *ackLog) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

type runningApp struct {
	cmd  *exec.Cmd
	url  string
	logs *tailBuffer
}

var killURLRE = regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/)`)

// startBinary starts the appliance and returns once it printed its URL
// (printed after the store opened and the scenes were built, so the
// start-up tidying is done).
func startBinary(t *testing.T, bin, cfg, data string) *runningApp {
	t.Helper()
	cmd := exec.Command(bin, "run", "--sim", "--config", cfg, "--listen", "127.0.0.1:0", "--data", data)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TINKERBOX_PASSWORD="+killPassword)
	logs := &tailBuffer{archived: make(chan struct{})}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := killURLRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			cmd.Wait()
			t.Fatalf("the appliance exited before printing its URL:\n%s", logs)
		}
		return &runningApp{cmd: cmd, url: u, logs: logs}
	case <-time.After(60 * time.Second): // hang guard only
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no URL within a minute:\n%s", logs)
		return nil
	}
}

func (r *runningApp) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait() // "signal: killed"
}

func (r *runningApp) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("clean stop: %v\n%s", err, r.logs)
	}
}

// tailBuffer keeps the last 16 kB of a process's log for failure reports;
// archived closes when the log first says a strip was archived.
type tailBuffer struct {
	mu       sync.Mutex
	b        []byte
	archived chan struct{}
	seen     bool
}

func (l *tailBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	// Lines may be split across writes: look at the tail kept so far.
	if !l.seen && bytes.Contains(l.b[max(0, len(l.b)-len(p)-200):], []byte("comic: strip archived and queued")) {
		l.seen = true
		close(l.archived)
	}
	if len(l.b) > 16<<10 {
		l.b = l.b[len(l.b)-16<<10:]
	}
	return len(p), nil
}

func (l *tailBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// drive writes for d, then kills the appliance with requests in flight
// and returns once they have all ended: presses (new strips), reprints and
// deletes of archived strips, and corrections.
func drive(url string, acks *ackLog, seed uint64, after <-chan struct{}, d time.Duration, kill func()) {
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 6}, Timeout: 30 * time.Second}
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	pace := func(d time.Duration) { // pacing, not waiting for anything
		select {
		case <-stop:
		case <-time.After(d):
		}
	}
	do := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.SetBasicAuth("admin", killPassword)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil // killed: not acknowledged
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil
		}
		return resp.StatusCode, b
	}
	var wg sync.WaitGroup
	// Presses: the scene composes and archives a strip per press, up to its
	// queue limit.
	wg.Go(func() {
		for !stopped() {
			do("POST", "api/buttons/A", `{"press":"short"}`)
			pace(150 * time.Millisecond)
		}
	})
	// Reprints and the odd delete of what the gallery lists.
	for g := range 2 {
		rnd := rand.New(rand.NewPCG(seed, uint64(g)))
		wg.Go(func() {
			for !stopped() {
				code, body := do("GET", "api/comics", "")
				var list []struct {
					N int64 `json:"n"`
				}
				if code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) == 0 {
					pace(100 * time.Millisecond)
					continue
				}
				n := list[rnd.IntN(len(list))].N
				if rnd.IntN(8) == 0 && len(list) > 8 {
					if code, _ := do("DELETE", "api/comics/"+strconv.FormatInt(n, 10), ""); code == http.StatusOK {
						acks.mu.Lock()
						acks.deleted[n] = true
						acks.n++
						acks.mu.Unlock()
					}
					continue
				}
				if code, _ := do("POST", "api/comics/"+strconv.FormatInt(n, 10)+"/reprint", ""); code == http.StatusAccepted {
					acks.mu.Lock()
					acks.reprints[n]++
					acks.n++
					acks.mu.Unlock()
				}
				pace(50 * time.Millisecond)
			}
		})
	}
	// Corrections: each scan flips between the two cards, one request at a
	// time, so the stored card is the last acknowledged or the one in flight.
	acks.mu.Lock()
	var scans []int64
	for id := range acks.acked {
		scans = append(scans, id)
	}
	acks.mu.Unlock()
	for _, id := range scans {
		wg.Go(func() {
			for !stopped() {
				acks.mu.Lock()
				next := "kill-a"
				if acks.acked[id] == "kill-a" {
					next = "kill-b"
				}
				acks.flying[id] = next
				acks.mu.Unlock()
				code, _ := do("POST", "api/cards/correct", fmt.Sprintf(`{"scan":%d,"card":%q}`, id, next))
				if code == http.StatusOK {
					acks.mu.Lock()
					acks.acked[id] = next
					acks.n++
					acks.mu.Unlock()
				}
				pace(10 * time.Millisecond) // leave the cores to the strips
			}
		})
	}
	if after != nil {
		select {
		case <-after: // the appliance's own log says a strip was archived
		case <-time.After(2 * time.Minute): // hang guard only
		}
	}
	time.Sleep(d) // the kill point: how long the appliance runs on, not a wait for a condition
	close(stop)
	kill()
	wg.Wait()
}

// checkAfterKill inspects the data dir of the killed appliance.
func checkAfterKill(t *testing.T, data string, acks *ackLog, verified map[int64]bool, prevTop int64, trial int) killFigures {
	t.Helper()
	var f killFigures
	dir := filepath.Join(data, "comics")
	tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	f.tmps = len(tmps)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, store.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("trial %d: integrity_check = %q, %v", trial, ok, err)
		f.corrupt++
		return f
	}
	if rows, err := db.Query("PRAGMA foreign_key_check"); err == nil {
		for rows.Next() {
			t.Errorf("trial %d: a foreign key points nowhere", trial)
			f.corrupt++
		}
		rows.Close()
	}
	// Every gallery row has its PNG, complete.
	rows, err := db.Query("SELECT id FROM comics")
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for rows.Next() {
		var n int64
		rows.Scan(&n)
		have[n] = true
	}
	rows.Close()
	db.QueryRow("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'comics'").Scan(&f.strips)
	for n := range have {
		b, err := os.ReadFile(filepath.Join(dir, strconv.FormatInt(n, 10)+".png"))
		switch {
		case err != nil:
		case verified[n]:
			_, err = png.DecodeConfig(bytes.NewReader(b))
		default: // whole, the first time
			if _, err = png.Decode(bytes.NewReader(b)); err == nil {
				verified[n] = true
			}
		}
		if err != nil && !verified[-n] { // each dangling row counted once
			verified[-n] = true
			t.Errorf("trial %d: strip %d is in the gallery without a readable PNG: %v", trial, n, err)
			f.dangling++
		}
	}
	// Archive files without a row (the next start removes them).
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		stem, ext, _ := strings.Cut(e.Name(), ".")
		if n, err := strconv.ParseInt(stem, 10, 64); err == nil && ext == "png" && !have[n] {
			f.orphans++
		}
	}

	acks.mu.Lock()
	defer acks.mu.Unlock()
	for n := prevTop + 1; n <= f.strips; n++ {
		if !have[n] && !acks.deleted[n] && !acks.planted[n] {
			f.interrupted++
		}
	}
	for n := range acks.deleted {
		if have[n] {
			t.Errorf("trial %d: strip %d was deleted (200) but is still in the gallery", trial, n)
			f.lost++
		}
	}
	for n, k := range acks.reprints {
		var logged int
		db.QueryRow("SELECT count(*) FROM events WHERE message = ?", fmt.Sprintf("strip #%d queued for reprint from the web", n)).Scan(&logged)
		if logged < k {
			t.Errorf("trial %d: strip %d: %d reprints acknowledged, %d recorded", trial, n, k, logged)
			f.lost += k - logged
		}
	}
	for id, want := range acks.acked {
		var got string
		if err := db.QueryRow("SELECT card_id FROM card_scans WHERE id = ?", id).Scan(&got); err != nil || got != want && got != acks.flying[id] {
			t.Errorf("trial %d: scan %d is %q, %v; acknowledged %q (in flight %q)", trial, id, got, err, want, acks.flying[id])
			f.lost++
		}
		// The next trial starts from what is stored (the correction in
		// flight may have been committed without its answer arriving).
		acks.acked[id], acks.flying[id] = got, got
	}
	// Each transaction moved a copy whole: the collection counts every
	// accepted scan exactly once.
	var owned, accepted int
	db.QueryRow("SELECT COALESCE(SUM(qty), 0) FROM card_collection").Scan(&owned)
	db.QueryRow("SELECT count(*) FROM card_scans WHERE accepted = 1").Scan(&accepted)
	if owned != accepted {
		t.Errorf("trial %d: the collection holds %d copies for %d accepted scans", trial, owned, accepted)
		f.corrupt++
	}
	return f
}

// plantInterrupted leaves in the archive what a kill inside a strip's
// write leaves: a temporary file, and the PNG and JSON of a reserved number
// that never got its row.
func plantInterrupted(t *testing.T, data string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.ReserveComic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, "comics")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".tmp-planted", strconv.FormatInt(n, 10) + ".png", strconv.FormatInt(n, 10) + ".json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("interrupted"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// checkStartedClean: once the appliance is up, the archive has no
// temporary file and no file without its row.
func checkStartedClean(t *testing.T, data string, trial int) {
	t.Helper()
	dir := filepath.Join(data, "comics")
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmps) > 0 {
		t.Errorf("start %d: temporary files left: %v", trial, tmps)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, store.FileName)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		stem, _, _ := strings.Cut(e.Name(), ".")
		n, err := strconv.ParseInt(stem, 10, 64)
		if err != nil {
			continue
		}
		var k int
		db.QueryRow("SELECT count(*) FROM comics WHERE id = ?", n).Scan(&k)
		if k == 0 {
			t.Errorf("start %d: %s has no row after the start-up tidying", trial, e.Name())
		}
	}
}
