package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedNow() func() time.Time {
	t := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestOpenMigratesAndWAL(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.Version(ctx)
	if err != nil || v != len(migrations()) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(migrations()))
	}
	var mode string
	if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestEventsNewestFirstAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"one", "two", "three"} {
		if err := s.LogEvent(ctx, "info", "loop", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir, fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev, err := s.RecentEvents(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || ev[0].Message != "three" || ev[1].Message != "two" || ev[0].Source != "loop" {
		t.Fatalf("events = %+v", ev)
	}
	if !ev[0].At.After(ev[1].At) {
		t.Fatalf("timestamps not increasing: %v %v", ev[1].At, ev[0].At)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("err = %v; want a schema version error", err)
	}
}

func TestGarbageFileIsAClearError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(strings.Repeat("not a database ", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), dir, nil)
	if err == nil || !strings.Contains(err.Error(), "not a readable database") {
		t.Fatalf("err = %v", err)
	}
}

// A slow import (a big file, reference images hashed on a Pi Zero) must not
// hold the write lock while it reads: the event log and a second process
// (the CLI beside the appliance) keep writing meanwhile.
func TestSlowImportDoesNotLockWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, dir, fixedNow()) // another process's connections
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	reading := make(chan struct{})
	written := make(chan error, 1)
	slow := func(yield func(CatalogCard, error) bool) {
		if !yield(CatalogCard{ID: "a", Name: "Alpha", Set: "x", Number: "1"}, nil) {
			return
		}
		close(reading)
		// The rest of the file arrives only once the others have written.
		if err := <-written; err != nil {
			t.Errorf("write during the import: %v", err)
		}
		yield(CatalogCard{ID: "b", Name: "Beta", Set: "x", Number: "2"}, nil)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.ImportCatalog(ctx, slow, nil)
		done <- err
	}()
	<-reading
	// Fail fast instead of waiting out the busy timeout.
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = errors.Join(s.LogEvent(wctx, "info", "test", "during import"),
		other.LogEvent(wctx, "info", "test", "from the CLI"))
	cancel()
	written <- err
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all, _, err := s.CatalogSize(ctx)
	if err != nil || all != 2 {
		t.Fatalf("catalog has %d cards, %v; want 2", all, err)
	}
	var tables int
	if err := s.DB().QueryRow("SELECT count(*) FROM sqlite_temp_master").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("%d temporary tables left behind, %v", tables, err)
	}
}

// Every connection waits for the write lock and takes it when its
// transaction begins; the policy is the same for all of them.
func TestConnectionPolicy(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conns := make([]*sql.Conn, MaxConns)
	for i := range conns {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		var ms int
		var mode string
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil || ms != int(BusyTimeout/time.Millisecond) {
			t.Errorf("connection %d: busy_timeout = %d, %v", i, ms, err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("connection %d: journal_mode = %q, %v", i, mode, err)
		}
		var fk, sync int
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("connection %d: foreign_keys = %d, %v", i, fk, err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
			t.Errorf("connection %d: synchronous = %d, %v; want 2 (FULL)", i, sync, err)
		}
	}
	// The pool is bounded: with every connection taken, the next caller
	// queues in database/sql (here until its context ends) instead of
	// opening one more to poll SQLite's lock.
	if st := s.DB().Stats(); st.MaxOpenConnections != MaxConns {
		t.Errorf("MaxOpenConnections = %d, want %d", st.MaxOpenConnections, MaxConns)
	}
	qctx, cancel := context.WithCancel(ctx)
	cancel()
	if c, err := s.DB().Conn(qctx); err == nil {
		c.Close()
		t.Errorf("a connection beyond the %d of the pool was opened", MaxConns)
	}
	// An immediate transaction holds the write lock from BEGIN: a second
	// one cannot begin (it would wait out the timeout) while the first is open.
	tx, err := conns[0].BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := conns[1].ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	tx2, err := conns[1].BeginTx(ctx, nil)
	if err == nil {
		tx2.Rollback()
		t.Fatal("a second transaction began while the first held the write lock: transactions are not immediate")
	}
	if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "BUSY") {
		t.Fatalf("second BEGIN: %v, want SQLITE_BUSY", err)
	}
}

// What the appliance acknowledged survives a power cut: every connection
// commits with synchronous=FULL (make boot-test cuts the power to prove it).
func TestCommitsAreDurable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.DB().SetMaxIdleConns(3)
	for i := range 3 {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var sync int
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
			t.Errorf("connection %d: synchronous = %d, %v; want 2 (FULL)", i, sync, err)
		}
	}
}

// A burst of writers (60 reprints at once, the CLI beside the appliance)
// queues in the bounded pool and never fails with SQLITE_BUSY.
func TestWriteBurstNeverBusy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, dir, func() time.Time { return at }) // called concurrently: no fixedNow
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	errs := make(chan error, 128)
	var wg sync.WaitGroup
	for i := range 128 {
		st := s
		if i%4 == 0 {
			st = other
		}
		wg.Go(func() {
			for range 3 {
				if err := st.LogEvent(ctx, "info", "test", "burst"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil || n != 3*128 {
		t.Fatalf("%d events, %v; want %d", n, err, 3*128)
	}
}
