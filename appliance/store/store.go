// Package store keeps the appliance's data in SQLite (modernc.org/sqlite, pure
// Go) in the data dir: WAL mode, schema versioned with PRAGMA user_version.
// Scenes declare the small store interfaces they need; this package
// implements them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file inside the data dir.
const FileName = "tinkerbox.db"

// Store is the appliance database.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
}

// migrations are applied in order; user_version is the number applied. Never
// edit a shipped migration: append a new one (scene tables come from the
// scene's own file, e.g. barometerMigrations).
func migrations() []string {
	core := []string{
		`CREATE TABLE events (
		id      INTEGER PRIMARY KEY,
		at      INTEGER NOT NULL, -- unix milliseconds
		level   TEXT NOT NULL,
		source  TEXT NOT NULL,
		message TEXT NOT NULL
	);
	CREATE INDEX events_at ON events(at);`,
	}
	// The order is the schema history: append only, and only to the last
	// list (a migration appended to an earlier one would renumber the rest).
	return slices.Concat(core, barometerMigrations(), comicMigrations(), cardsMigrations(), comicMakingMigrations())
}

// Open opens (creating if needed) the database in dir and migrates it.
// now stamps events; nil means time.Now.
func Open(ctx context.Context, dir string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns) // keep them: opening one re-runs the pragmas
	s := &Store{db: db, path: path, now: now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dsn is the one connection policy for every connection to the database, the
// appliance's and the CLI's alike. It is all in the DSN (_pragma parameters),
// so database/sql applies it to each connection it opens, not just the
// first:
//   - busy_timeout first (the driver runs it before the other pragmas), so a
//     writer waits for another (in this process or in `tinkerbox catalog`)
//     instead of failing with SQLITE_BUSY;
//   - WAL with synchronous=FULL: a commit is on the card before it returns,
//     so what the appliance acknowledged (a strip in the archive, a scanned
//     card, a queued reprint) survives a power cut. NORMAL keeps the
//     database consistent too but may lose the last commits, which
//     `make boot-test`'s power cut showed; the appliance commits a few times
//     a minute, so the fsync per commit costs nothing that matters;
//   - foreign keys on (print jobs belong to a strip);
//   - immediate transactions: a transaction takes the write lock when it
//     begins, under that timeout. A deferred one that reads first and then
//     writes fails at once with SQLITE_BUSY when another writer committed in
//     between, and no timeout helps it.
func dsn(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(" + strconv.Itoa(int(BusyTimeout/time.Millisecond)) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// BusyTimeout is how long a connection waits for another's write lock. Every
// write transaction is short (imports are staged first), so this only has to
// cover a slow SD card on a Pi Zero.
const BusyTimeout = 10 * time.Second

// MaxConns bounds the pool. SQLite has one writer at a time: with an
// unbounded pool a burst (60 reprints at once) opened a connection per
// request, and they all polled for the write lock inside SQLite, whose busy
// handler is neither fair nor ordered; on a slow card, where each commit's
// fsync takes a good fraction of a second, the unlucky ones waited out the
// busy timeout and failed with SQLITE_BUSY. Bounded, the burst queues in
// database/sql (under the request's context) and at most MaxConns-1
// connections wait inside SQLite, well within the timeout. More than one,
// so a connection held for a staged import or a streamed read never blocks
// the rest.
const MaxConns = 4

func (s *Store) migrate(ctx context.Context) error {
	migrations := migrations()
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: %s is not a readable database: %w", s.path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("store: %s has schema version %d, this tinkerbox knows up to %d: it was written by a newer version", s.path, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migrate to %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate to %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migrate to %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migrate to %d: %w", i+1, err)
		}
	}
	return nil
}

// Version is the schema version (PRAGMA user_version).
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// DB exposes the handle to the scene stores built on this package.
func (s *Store) DB() *sql.DB { return s.db }

// Close checkpoints the WAL and closes the database.
func (s *Store) Close() error {
	_, cerr := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	err := s.db.Close()
	return errors.Join(cerr, err)
}

func (s *Store) String() string { return "store(" + s.path + ")" }

// LogEvent appends to the event log.
func (s *Store) LogEvent(ctx context.Context, level, source, message string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO events(at, level, source, message) VALUES(?,?,?,?)",
		s.now().UnixMilli(), level, source, message)
	if err != nil {
		return fmt.Errorf("store: log event: %w", err)
	}
	return nil
}

// RecentEvents returns up to n events, newest first.
func (s *Store) RecentEvents(ctx context.Context, n int) ([]Event, error) {
	if n <= 0 || n > 1000 {
		n = 100
	}
	rows, err := s.db.QueryContext(ctx, "SELECT id, at, level, source, message FROM events ORDER BY id DESC LIMIT ?", n)
	if err != nil {
		return nil, fmt.Errorf("store: recent events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var ms int64
		if err := rows.Scan(&e.ID, &ms, &e.Level, &e.Source, &e.Message); err != nil {
			return nil, fmt.Errorf("store: recent events: %w", err)
		}
		e.At = time.UnixMilli(ms).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
