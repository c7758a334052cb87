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

// comicMakingMigrations add the strips being made: a press records its
// strip here (seed and metadata, enough to draw it again) before anything
// is printed; the strip's first print is its job here, and it enters
// comics only once its archive PNG is written. The row goes when the strip
// is both printed and archived. Not a comics row: a comics row always has
// its PNG.
func comicMakingMigrations() []string {
	return []string{
		`CREATE TABLE comic_making (
		id         INTEGER PRIMARY KEY, -- the strip's number, from the comics sequence
		seed       INTEGER NOT NULL,    -- uint64 bits
		at         INTEGER NOT NULL,    -- unix milliseconds
		theme      TEXT NOT NULL,
		character  TEXT NOT NULL,
		grid       TEXT NOT NULL,
		width      INTEGER NOT NULL DEFAULT 0, -- the archive PNG's size once written; 0: not yet
		height     INTEGER NOT NULL DEFAULT 0,
		printed    INTEGER NOT NULL DEFAULT 0, -- 1: its first print is done
		queued     INTEGER NOT NULL,           -- unix milliseconds
		attempts   INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT ''
	);`,
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

// ReserveComic hands out the next strip number, taken from the
// AUTOINCREMENT sequence without a row (a kill before the strip's row
// leaves a gap in the numbers, never a row without its file). Deleted and
// reserved numbers are never handed out again.
func (s *Store) ReserveComic(ctx context.Context) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: reserve comic: %w", err)
	}
	defer tx.Rollback()
	n, err := reserveComic(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("store: reserve comic: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: reserve comic: %w", err)
	}
	return n, nil
}

func reserveComic(ctx context.Context, tx *sql.Tx) (int64, error) {
	// sqlite_sequence gets its comics row on the first insert; an old
	// database may also have rows above it if the sequence was edited.
	var n int64
	err := tx.QueryRowContext(ctx, `UPDATE sqlite_sequence SET seq = max(seq, (SELECT COALESCE(MAX(id), 0) FROM comics)) + 1
		WHERE name = 'comics' RETURNING seq`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `INSERT INTO sqlite_sequence(name, seq)
			SELECT 'comics', COALESCE(MAX(id), 0) + 1 FROM comics RETURNING seq`).Scan(&n)
	}
	return n, err
}

// BeginComic implements comic.Store: in one transaction (one sync of the
// card, before anything prints), the strip's number and its record with
// its first print queued.
func (s *Store) BeginComic(ctx context.Context, r comic.Record) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin comic: %w", err)
	}
	defer tx.Rollback()
	n, err := reserveComic(ctx, tx)
	if err == nil {
		_, err = tx.ExecContext(ctx, "INSERT INTO comic_making(id, seed, at, theme, character, grid, queued) VALUES(?,?,?,?,?,?,?)",
			n, int64(r.Seed), r.At.UnixMilli(), r.Theme, r.Character, r.Grid, s.now().UnixMilli())
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return 0, fmt.Errorf("store: begin comic: %w", err)
	}
	return n, nil
}

// UnarchivedComics implements comic.Store.
func (s *Store) UnarchivedComics(ctx context.Context) ([]comic.Record, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, seed, at, theme, character, grid FROM comic_making WHERE width = 0 ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: unarchived comics: %w", err)
	}
	defer rows.Close()
	var out []comic.Record
	for rows.Next() {
		var r comic.Record
		var seed, ms int64
		if err := rows.Scan(&r.N, &seed, &ms, &r.Theme, &r.Character, &r.Grid); err != nil {
			return nil, fmt.Errorf("store: unarchived comics: %w", err)
		}
		r.Seed, r.At = uint64(seed), time.UnixMilli(ms).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
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

// AddComic implements comic.Store: strip r.N (from BeginComic, or
// ReserveComic) enters the archive index; its PNG is already written. A
// strip being made is done once it is printed too.
func (s *Store) AddComic(ctx context.Context, r comic.Record) error {
	if r.N <= 0 || r.Width <= 0 || r.Height <= 0 {
		return fmt.Errorf("store: add comic %d: no number or size (%dx%d)", r.N, r.Width, r.Height)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: add comic %d: %w", r.N, err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO comics(id, seed, at, theme, character, grid, width, height) VALUES(?,?,?,?,?,?,?,?)",
			[]any{r.N, int64(r.Seed), r.At.UnixMilli(), r.Theme, r.Character, r.Grid, r.Width, r.Height}},
		{"UPDATE comic_making SET width=?, height=? WHERE id=?", []any{r.Width, r.Height, r.N}},
		{"DELETE FROM comic_making WHERE id=? AND printed=1", []any{r.N}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("store: add comic %d: %w", r.N, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: add comic %d: %w", r.N, err)
	}
	return nil
}

// DeleteComic implements comic.Store: the strip, archived or being made,
// and its queued prints.
func (s *Store) DeleteComic(ctx context.Context, n int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: delete comic %d: %w", n, err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM comic_prints WHERE comic=?", "DELETE FROM comic_making WHERE id=?", "DELETE FROM comics WHERE id=?"} {
		if _, err := tx.ExecContext(ctx, q, n); err != nil {
			return fmt.Errorf("store: delete comic %d: %w", n, err)
		}
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
		(SELECT COUNT(*) FROM comic_prints p WHERE p.comic = c.id) + (SELECT COUNT(*) FROM comic_making m WHERE m.id = c.id AND m.printed = 0)
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

// PendingPrints implements comic.Store: reprints and the first prints of
// strips being made, in the order they were queued.
func (s *Store) PendingPrints(ctx context.Context) ([]comic.Job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, comic, attempts, last_error, queued, 0, 0, 0, '', '', '', 0, 0 FROM comic_prints
		UNION ALL
		SELECT 0, id, attempts, last_error, queued, 1, seed, at, theme, character, grid, width, height FROM comic_making WHERE printed = 0
		ORDER BY 5, 6 DESC, 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("store: print queue: %w", err)
	}
	defer rows.Close()
	var out []comic.Job
	for rows.Next() {
		var j comic.Job
		var queued, making, seed, ms int64
		var r comic.Record
		if err := rows.Scan(&j.ID, &j.Comic, &j.Attempts, &j.LastError, &queued, &making, &seed, &ms, &r.Theme, &r.Character, &r.Grid, &r.Width, &r.Height); err != nil {
			return nil, fmt.Errorf("store: print queue: %w", err)
		}
		if making == 1 {
			r.N, r.Seed, r.At = j.Comic, uint64(seed), time.UnixMilli(ms).UTC()
			j.Making = &r
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// PrintDone implements comic.Store: a reprint leaves the queue; a strip
// being made is printed, and done if it is archived too.
func (s *Store) PrintDone(ctx context.Context, job comic.Job) error {
	if job.Making == nil {
		if _, err := s.db.ExecContext(ctx, "DELETE FROM comic_prints WHERE id=?", job.ID); err != nil {
			return fmt.Errorf("store: print job %d done: %w", job.ID, err)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: strip %d printed: %w", job.Comic, err)
	}
	defer tx.Rollback()
	for _, q := range []string{"UPDATE comic_making SET printed=1 WHERE id=?", "DELETE FROM comic_making WHERE id=? AND width>0"} {
		if _, err := tx.ExecContext(ctx, q, job.Comic); err != nil {
			return fmt.Errorf("store: strip %d printed: %w", job.Comic, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: strip %d printed: %w", job.Comic, err)
	}
	return nil
}

// PrintFailed implements comic.Store.
func (s *Store) PrintFailed(ctx context.Context, job comic.Job, msg string) error {
	if len(msg) > 500 {
		msg = msg[:500]
	}
	q, id := "UPDATE comic_prints SET attempts=attempts+1, last_error=? WHERE id=?", job.ID
	if job.Making != nil {
		q, id = "UPDATE comic_making SET attempts=attempts+1, last_error=? WHERE id=?", job.Comic
	}
	if _, err := s.db.ExecContext(ctx, q, msg, id); err != nil {
		return fmt.Errorf("store: print job for strip %d failed: %w", job.Comic, err)
	}
	return nil
}
