package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tinkerbox/scenes/comic"
)

// comicMigrations are the comic scene's tables: the archive index (one row
// per strip; the PNG lives in <data>/comics/<n>.png) and the print queue.
// AUTOINCREMENT: a deleted strip's number is never handed out again.
func comicMigrations() []string {
	return []string{
		`CREATE TABLE comics (
		id        INTEGER PRIMARY KEY AUTOINCREMENT,
		seed      INTEGER NOT NULL, -- uint64 bits
		at        INTEGER NOT NULL, -- unix milliseconds
		theme     TEXT NOT NULL,
		character TEXT NOT NULL,
		grid      TEXT NOT NULL,
		width     INTEGER NOT NULL DEFAULT 0,
		height    INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE comic_prints (
		id         INTEGER PRIMARY KEY,
		comic      INTEGER NOT NULL REFERENCES comics(id) ON DELETE CASCADE,
		queued     INTEGER NOT NULL, -- unix milliseconds
		attempts   INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX comic_prints_comic ON comic_prints(comic);`,
	}
}

var _ comic.Store = (*Store)(nil)

// Comic is an archived strip as the gallery lists it.
type Comic struct {
	N         int64     `json:"n"`
	Seed      string    `json:"seed"` // decimal: a uint64 does not fit a JSON number
	At        time.Time `json:"at"`
	Theme     string    `json:"theme"`
	Character string    `json:"character"`
	Grid      string    `json:"grid"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Queued    int       `json:"queued"` // prints waiting
}

// ReserveComic implements comic.Store: the next strip number, taken from
// the AUTOINCREMENT sequence without a row, so the row is written only once
// the strip's archive PNG is on the card (a kill in between leaves a gap in
// the numbers, never a row without its file). Deleted and reserved numbers
// are never handed out again.
func (s *Store) ReserveComic(ctx context.Context) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: reserve comic: %w", err)
	}
	defer tx.Rollback()
	// sqlite_sequence gets its comics row on the first insert; an old
	// database may also have rows above it if the sequence was edited.
	var n int64
	err = tx.QueryRowContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, (SELECT COALESCE(MAX(id), 0) FROM comics)) + 1
		WHERE name = 'comics' RETURNING seq`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `INSERT INTO sqlite_sequence(name, seq)
			SELECT 'comics', COALESCE(MAX(id), 0) + 1 FROM comics RETURNING seq`).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("store: reserve comic: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: reserve comic: %w", err)
	}
	return n, nil
}

// ReservedComics is the highest strip number handed out (0: none): a file
// in the archive numbered up to it without a row is left from an
// interrupted write or delete.
func (s *Store) ReservedComics(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max((SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'comics'),
		(SELECT COALESCE(MAX(id), 0) FROM comics))`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: reserved comics: %w", err)
	}
	return n.Int64, nil
}

// AddComic implements comic.Store: strip r.N (from ReserveComic) enters the
// archive index; its PNG is already written.
func (s *Store) AddComic(ctx context.Context, r comic.Record) error {
	if r.N <= 0 || r.Width <= 0 || r.Height <= 0 {
		return fmt.Errorf("store: add comic %d: no number or size (%dx%d)", r.N, r.Width, r.Height)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO comics(id, seed, at, theme, character, grid, width, height) VALUES(?,?,?,?,?,?,?,?)",
		r.N, int64(r.Seed), r.At.UnixMilli(), r.Theme, r.Character, r.Grid, r.Width, r.Height); err != nil {
		return fmt.Errorf("store: add comic %d: %w", r.N, err)
	}
	return nil
}

// DeleteComic implements comic.Store: the strip and its queued prints.
func (s *Store) DeleteComic(ctx context.Context, n int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: delete comic %d: %w", n, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM comic_prints WHERE comic=?", n); err != nil {
		return fmt.Errorf("store: delete comic %d: %w", n, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM comics WHERE id=?", n); err != nil {
		return fmt.Errorf("store: delete comic %d: %w", n, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: delete comic %d: %w", n, err)
	}
	return nil
}

// LastComic implements comic.Store.
func (s *Store) LastComic(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(id) FROM comics").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: last comic: %w", err)
	}
	return n.Int64, nil
}

// ErrNoComic is returned for a strip number that is not in the archive.
var ErrNoComic = errors.New("store: no such comic")

// Comic implements comic.Store.
func (s *Store) Comic(ctx context.Context, n int64) (comic.Record, error) {
	var r comic.Record
	var seed, ms int64
	err := s.db.QueryRowContext(ctx, "SELECT id, seed, at, theme, character, grid, width, height FROM comics WHERE id=?", n).
		Scan(&r.N, &seed, &ms, &r.Theme, &r.Character, &r.Grid, &r.Width, &r.Height)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: %d", ErrNoComic, n)
	}
	if err != nil {
		return r, fmt.Errorf("store: comic %d: %w", n, err)
	}
	r.Seed, r.At = uint64(seed), time.UnixMilli(ms).UTC()
	return r, nil
}

// UnfinishedComics lists the strips whose archive PNG was never recorded as
// written (width 0): older versions wrote the row before the PNG, and a
// power cut between the two left such rows. Only meaningful before the
// comic scene starts.
func (s *Store) UnfinishedComics(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM comics WHERE width = 0 ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: unfinished comics: %w", err)
	}
	defer rows.Close()
	var ns []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: unfinished comics: %w", err)
		}
		ns = append(ns, n)
	}
	return ns, rows.Err()
}

// Comics lists the archive, newest first, at most limit (≤ 0: 500): the
// strips whose archive PNG is written, never one still being drawn.
func (s *Store) Comics(ctx context.Context, limit int) ([]Comic, error) {
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.seed, c.at, c.theme, c.character, c.grid, c.width, c.height,
		(SELECT COUNT(*) FROM comic_prints p WHERE p.comic = c.id)
		FROM comics c WHERE c.width > 0 ORDER BY c.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: comics: %w", err)
	}
	defer rows.Close()
	out := []Comic{}
	for rows.Next() {
		var c Comic
		var seed, ms int64
		if err := rows.Scan(&c.N, &seed, &ms, &c.Theme, &c.Character, &c.Grid, &c.Width, &c.Height, &c.Queued); err != nil {
			return nil, fmt.Errorf("store: comics: %w", err)
		}
		c.Seed, c.At = fmt.Sprint(uint64(seed)), time.UnixMilli(ms).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// EnqueuePrint implements comic.Store.
func (s *Store) EnqueuePrint(ctx context.Context, n int64) (int64, error) {
	res, err := s.db.ExecContext(ctx, "INSERT INTO comic_prints(comic, queued) SELECT id, ? FROM comics WHERE id=?", s.now().UnixMilli(), n)
	if err != nil {
		return 0, fmt.Errorf("store: queue comic %d: %w", n, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return 0, fmt.Errorf("%w: %d", ErrNoComic, n)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: queue comic %d: %w", n, err)
	}
	return id, nil
}

// PendingPrints implements comic.Store.
func (s *Store) PendingPrints(ctx context.Context) ([]comic.Job, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, comic, attempts, last_error FROM comic_prints ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: print queue: %w", err)
	}
	defer rows.Close()
	var out []comic.Job
	for rows.Next() {
		var j comic.Job
		if err := rows.Scan(&j.ID, &j.Comic, &j.Attempts, &j.LastError); err != nil {
			return nil, fmt.Errorf("store: print queue: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// PrintDone implements comic.Store.
func (s *Store) PrintDone(ctx context.Context, job int64) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM comic_prints WHERE id=?", job); err != nil {
		return fmt.Errorf("store: print job %d done: %w", job, err)
	}
	return nil
}

// PrintFailed implements comic.Store.
func (s *Store) PrintFailed(ctx context.Context, job int64, msg string) error {
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE comic_prints SET attempts=attempts+1, last_error=? WHERE id=?", msg, job); err != nil {
		return fmt.Errorf("store: print job %d failed: %w", job, err)
	}
	return nil
}
