package main

// The A/B update cycle, over the web as a maker does it (see README
// "Updating" and appliance/update): a power cut in the middle of an install
// boots the old firmware; a bundle signed with another key is refused and
// nothing is written; a newer bundle is installed, boots on
// trial (the harness's firmware honours the kernel's '0 tryboot'), proves
// healthy and is committed, with the maker's data as it was; a bundle whose
// tinkerbox does not start is rolled back within two boots, by itself.

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// updateStatus is the part of GET /api/update the test reads.
type updateStatus struct {
	Available bool `json:"available"`
	Running   struct {
		Name, Version, State string
	} `json:"running"`
	Other struct {
		Name, Version, State string
	} `json:"other"`
	Last *struct {
		Result, Version, Detail string
	} `json:"last"`
	Install *struct {
		Running  bool `json:"running"`
		Progress *struct {
			Phase       string
			Done, Total int64
		} `json:"progress"`
	} `json:"install"`
}

func (c *client) updateStatus() (updateStatus, error) {
	var st updateStatus
	b, err := c.do("GET", "/api/update", nil)
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(b, &st)
	return st, err
}

// upload posts a bundle to /api/update as the settings page does.
func (c *client) upload(bundle string) (int, string, error) {
	f, err := os.Open(bundle)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/api/update", c.m.port), f)
	req.SetBasicAuth("admin", c.password)
	req.Header.Set("Content-Type", "application/octet-stream")
	hc := &http.Client{Timeout: 15 * time.Minute}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// waitUpdate polls /api/update until ok says so.
func (c *client) waitUpdate(d time.Duration, ok func(updateStatus) bool) (updateStatus, error) {
	deadline := time.Now().Add(d)
	for {
		st, err := c.updateStatus()
		if err == nil && ok(st) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("/api/update after %s: %+v (%v)", d, st, err)
		}
		select {
		case <-c.m.exited:
			return st, errors.New("QEMU exited")
		case <-time.After(time.Second):
		}
	}
}

// regionSum hashes partition n of the card.
func regionSum(card string, n int) (string, error) {
	off, size, err := partition(card, n)
	if err != nil {
		return "", err
	}
	f, err := os.Open(card)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, off, size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// dataSnapshot is /data as the maker owns it: every row of every table of
// the database, and every other file's bytes. Taken from the card after a
// clean poweroff.
type dataSnapshot struct {
	rows  map[string]map[int64]string // table → rowid → hash of the row
	nrows int
	files map[string]string // path → sha256
}

// Tables the running appliance keeps writing whatever the firmware does:
// the event log and barometer samples only grow; an hour's barometer
// summary and a queued print's retry count change while the appliance
// runs (the absent printer is retried at every start). Their rows must all
// still be there; the first two, unchanged.
var (
	appendOnly   = map[string]bool{"events": true, "baro_samples": true}
	runningState = map[string]bool{"baro_hourly": true, "comic_prints": true, "comic_making": true}
)

func (t *test) snapshotData(tag string) (dataSnapshot, error) {
	s := dataSnapshot{rows: map[string]map[int64]string{}, files: map[string]string{}}
	dir := filepath.Join(t.o.logs, "data-"+tag)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, err
	}
	db, err := dumpDB(t.o.card, dir)
	if err != nil {
		return s, err
	}
	// Every file, through debugfs from the same partition copy.
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	if out, err := exec.Command("debugfs", "-R", "rdump / "+tree, filepath.Join(dir, "data.ext4")).CombinedOutput(); err != nil {
		return s, fmt.Errorf("debugfs rdump: %v: %s", err, out)
	}
	err = filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		if strings.HasPrefix(filepath.Base(rel), "tinkerbox.db") || rel == "lost+found" {
			return nil // compared row by row
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s.files[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		return s, err
	}
	conn, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		return s, err
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return s, err
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, name := range names {
		r, err := conn.Query(fmt.Sprintf(`SELECT rowid, * FROM %q ORDER BY rowid`, name))
		if err != nil {
			return s, fmt.Errorf("%s: %w", name, err)
		}
		cols, _ := r.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		s.rows[name] = map[int64]string{}
		for r.Next() {
			if err := r.Scan(ptrs...); err != nil {
				r.Close()
				return s, err
			}
			id, _ := vals[0].(int64)
			sum := sha256.Sum256(fmt.Appendf(nil, "%q", vals[1:]))
			s.rows[name][id] = hex.EncodeToString(sum[:8])
			s.nrows++
		}
		r.Close()
	}
	return s, nil
}

// sameData compares two snapshots: nothing that was there changed or went
// (the rows of runningState tables: nothing went).
func sameData(before, after dataSnapshot) []string {
	var diff []string
	for name, rows := range before.rows {
		changed, gone := 0, 0
		for id, h := range rows {
			switch a, ok := after.rows[name][id]; {
			case !ok:
				gone++
			case a != h && !runningState[name]:
				changed++
			}
		}
		if !appendOnly[name] && !runningState[name] {
			for id := range after.rows[name] {
				_, had := rows[id]
				// A strip a power cut left half-made (comic_making) is
				// drawn again from its seed and archived at a later start.
				_, recovered := before.rows["comic_making"][id]
				if !had && !(name == "comics" && recovered) {
					diff = append(diff, fmt.Sprintf("table %s: row %d is new", name, id))
				}
			}
		}
		if changed+gone > 0 {
			diff = append(diff, fmt.Sprintf("table %s: %d rows changed, %d gone", name, changed, gone))
		}
	}
	for p, h := range before.files {
		if after.files[p] != h {
			diff = append(diff, "file "+p)
		}
	}
	sort.Strings(diff)
	return diff
}

// updateCycle runs after boot 4: boots 5 to 10.
func (t *test) updateCycle() error {
	if t.o.bundleNext == "" {
		t.check(false, "update: bundles", "boot-test.sh passed no bundles")
		return nil
	}
	// The data as the clean poweroff after boot 3 left it; boot 4 only
	// logged its start.
	before, err := t.snapshotData("before-update")
	if err != nil {
		return fmt.Errorf("snapshot before the update: %w", err)
	}

	// Boot 5: the power goes in the middle of writing the root.
	m, err := t.boot("boot5")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 5"); err != nil {
		return err
	}
	c := m.client(t.password)
	st, err := c.waitUpdate(time.Minute, func(st updateStatus) bool { return st.Available && st.Running.Name != "" })
	t.check(err == nil && st.Running.Name == "A" && st.Running.State == "active", "boot 5: /settings knows the slots", "running %s %s (%s), other %s %q (%s)%s",
		st.Running.Name, st.Running.Version, st.Running.State, st.Other.Name, st.Other.Version, st.Other.State, orEmpty(err))
	if err != nil {
		return err
	}
	t.firstVersion = st.Running.Version
	go c.upload(t.o.bundleNext) // ends when the power goes
	st, err = c.waitUpdate(5*time.Minute, func(st updateStatus) bool {
		return st.Install != nil && st.Install.Progress != nil && st.Install.Progress.Phase == "writing root" && st.Install.Progress.Done > 16<<20
	})
	m.kill()
	if err != nil {
		return fmt.Errorf("boot 5: the install did not get to the root: %w", err)
	}
	cutAt := st.Install.Progress.Done

	// Boot 6: the committed firmware, with the other slot marked
	// incomplete; a bundle of another builder is refused; the next one
	// is installed.
	m, err = t.boot("boot6")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 6"); err != nil {
		return err
	}
	c = m.client(t.password)
	st, err = c.updateStatus()
	t.check(err == nil && m.booted.partition == partBootA && !m.booted.tryboot && st.Running.Version == t.firstVersion && st.Other.State == "incomplete",
		"boot 6: a power cut during the install boots the old firmware", "cut at %d MiB of the root; firmware %s; running %s %s, other %s %s (%s)%s",
		cutAt>>20, m.booted, st.Running.Name, st.Running.Version, st.Other.Name, st.Other.Version, st.Other.State, orEmpty(err))
	sumB := func() string {
		a, _ := regionSum(t.o.card, partBootA+1)
		b, _ := regionSum(t.o.card, 6)
		return a + "/" + b
	}
	slotB := sumB()
	code, body, err := c.upload(t.o.bundleBadSig)
	t.check(err == nil && code == 400 && strings.Contains(body, "signature does not match") && sumB() == slotB,
		"boot 6: a bundle signed by another key is refused", "%d %s; slot B (p3/p6) %s", code, body,
		map[bool]string{true: "not written", false: "WRITTEN"}[sumB() == slotB])

	start := time.Now()
	code, body, err = c.upload(t.o.bundleNext)
	took := time.Since(start)
	if !t.check(err == nil && code == 200 && strings.Contains(body, `"rebooting":true`), "boot 6: the next bundle installs over the web",
		"%d %s in %.0fs%s", code, body, took.Seconds(), orEmpty(err)) {
		return fmt.Errorf("install: %d %s %v", code, body, err)
	}
	st0, _ := os.Stat(t.o.bundleNext)
	t.figure("install of a %.1f MiB bundle over the web: %.0fs (upload, write, read back; QEMU TCG)", float64(st0.Size())/(1<<20), took.Seconds())
	if err := m.waitExit(5 * time.Minute); err != nil {
		return fmt.Errorf("boot 6: no reboot after the install: %w", err)
	}
	// The last install's line (the refused one logged its own).
	if all := regexp.MustCompile(`install finished"? \S*service=update seconds=(\S+) peak_rss_before_kb=(\d+) peak_rss_after_kb=(\d+)`).FindAllStringSubmatch(m.con.text(), -1); all != nil {
		mm := all[len(all)-1]
		var b, a int64
		fmt.Sscan(mm[2], &b)
		fmt.Sscan(mm[3], &a)
		t.check(a-b <= 16<<10, "boot 6: the install streams (memory growth <= 16 MB)", "update-service peak RSS %.1f MB before, %.1f MB after the install (+%.1f MB); the service took %ss",
			float64(b)/1024, float64(a)/1024, float64(a-b)/1024, mm[1])
		t.figure("update-service peak RSS during the install: %.1f MB (%.1f MB before)", float64(a)/1024, float64(b)/1024)
	} else {
		t.check(false, "boot 6: the install streams (memory growth <= 16 MB)", "no 'install finished' line on the console")
	}
	_, err = m.con.find(`reboot: Restarting system with command '0 tryboot'`)
	t.check(err == nil, "boot 6: rebooted with '0 tryboot'", "%s", orErr(err, "the kernel passed \"0 tryboot\" to the firmware"))

	// Boot 7: the trial. It proves healthy and commits.
	m, err = t.boot("boot7")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 7"); err != nil {
		return err
	}
	c = m.client(t.password)
	st, err = c.waitUpdate(6*time.Minute, func(st updateStatus) bool {
		return st.Last != nil && st.Last.Result != "" && st.Running.State == "active"
	})
	ok := err == nil && m.booted.partition == partBootA+1 && m.booted.tryboot && st.Running.Name == "B" && st.Running.Version == t.o.nextVersion &&
		st.Last.Result == "committed" && st.Other.Name == "A" && st.Other.Version == t.firstVersion && st.Other.State == "ready"
	t.check(ok, "boot 7: the trial boot proves healthy and commits", "firmware %s; running %s %s (%s), last %+v, other %s %s (%s)%s",
		m.booted, st.Running.Name, st.Running.Version, st.Running.State, st.Last, st.Other.Name, st.Other.Version, st.Other.State, orEmpty(err))
	// The settings page saves to tinkerbox.toml on the read-only p1,
	// through the update service (read back after the poweroff).
	_, mqttErr := c.do("POST", "/api/mqtt", map[string]any{"enabled": false, "broker": "mqtt://boottest.invalid:1883", "discovery_prefix": "homeassistant"})
	if err := m.login("root", t.rootPassword); err != nil {
		return err
	}
	t.checkFirmware(m, "boot 7", partBootA+1, true)
	out, err := m.run("tinkerbox update --status")
	t.check(err == nil && strings.Contains(out, "running:  "+t.o.nextVersion+" in slot B (active)") && strings.Contains(out, "last:     committed "+t.o.nextVersion),
		"boot 7: tinkerbox update --status on the console", "%q%s", strings.TrimSpace(out), orEmpty(err))
	m.send("poweroff\r")
	if err := m.waitExit(3 * time.Minute); err != nil {
		return fmt.Errorf("boot 7: poweroff: %w", err)
	}
	ab, _ := readFAT(t.o.card, 1, "autoboot.txt")
	toml, terr := readFAT(t.o.card, 1, "tinkerbox.toml")
	t.check(mqttErr == nil && terr == nil && strings.Contains(string(toml), `broker = "mqtt://boottest.invalid:1883"`),
		"boot 7: a settings save reaches tinkerbox.toml on the read-only p1", "POST /api/mqtt: %v; p1's tinkerbox.toml (%v) has the broker: %v",
		orErr(mqttErr, "200"), orErr(terr, "read"), strings.Contains(string(toml), "boottest.invalid"))
	after, err := t.snapshotData("after-update")
	if err != nil {
		return fmt.Errorf("snapshot after the update: %w", err)
	}
	diff := sameData(before, after)
	t.check(len(diff) == 0 && len(before.rows) > 0 && regexp.MustCompile(`(?s)\[all\].*boot_partition=3`).Match(ab),
		"after the update: the maker's data unchanged", "%d rows of %d tables and %d files compared (the event log and barometer samples may grow, hourly summaries and print retries move, a half-made strip be archived), changed: %v; autoboot.txt commits p3: %v",
		before.nrows, len(before.rows), len(before.files), diff, regexp.MustCompile(`(?s)\[all\].*boot_partition=3`).Match(ab))

	// Boot 8: the committed slot boots by itself; a broken bundle goes in.
	m, err = t.boot("boot8")
	if err != nil {
		return err
	}
	defer m.kill()
	if err := t.upAndRunning(m, "boot 8"); err != nil {
		return err
	}
	t.check(m.booted.partition == partBootA+1 && !m.booted.tryboot && strings.Contains(m.con.text(), "tinkerbox "+t.o.nextVersion+" is running"),
		"boot 8: a normal boot runs the committed update", "firmware %s", m.booted)
	c = m.client(t.password)
	code, body, err = c.upload(t.o.bundleBroken)
	if !t.check(err == nil && code == 200, "boot 8: a bundle whose tinkerbox fails installs", "%d %s%s", code, body, orEmpty(err)) {
		return fmt.Errorf("broken install: %d %s", code, body)
	}
	if err := m.waitExit(5 * time.Minute); err != nil {
		return fmt.Errorf("boot 8: no reboot after the install: %w", err)
	}

	// Boot 9: its trial fails; boot 10: back on the committed firmware.
	boots := 0
	for boots < 3 {
		boots++
		name := fmt.Sprintf("boot%d", 8+boots)
		m, err = t.boot(name)
		if err != nil {
			return err
		}
		defer m.kill()
		if !m.booted.tryboot {
			break
		}
		// The board resets by itself (the supervisor, or S99trial).
		if err := m.waitExit(10 * time.Minute); err != nil {
			return fmt.Errorf("%s: the failed trial did not reset: %w", name, err)
		}
		_, ferr := m.con.find(`failed to start \d+ times on its trial boot|did not settle within`)
		t.check(ferr == nil && m.booted.partition == partBootA, "boot 9: the broken trial resets by itself", "firmware %s; %s", m.booted, orErr(ferr, "the trial watchdog rebooted"))
	}
	if err := t.upAndRunning(m, fmt.Sprintf("boot %d", 8+boots)); err != nil {
		return err
	}
	c = m.client(t.password)
	st, err = c.waitUpdate(2*time.Minute, func(st updateStatus) bool { return st.Last != nil && st.Last.Result == "rolled back" })
	t.check(err == nil && boots == 2 && m.booted.partition == partBootA+1 && st.Running.Version == t.o.nextVersion &&
		st.Last.Version == t.o.brokenVersion && st.Other.State == "failed",
		"boot 10: rolled back within two boots, by itself", "%d boots after the install; firmware %s; running %s %s, last %+v, other %s %s (%s)%s",
		boots, m.booted, st.Running.Name, st.Running.Version, st.Last, st.Other.Name, st.Other.Version, st.Other.State, orEmpty(err))
	return nil
}
