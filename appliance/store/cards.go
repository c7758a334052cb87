package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"tinkerbox/scenes/cardfeed"
)

// cardsMigrations is the card feeder's schema: the catalog (one row per
// printing, with its reference hash), the scans, and the collection.
func cardsMigrations() []string {
	return []string{
		`CREATE TABLE card_catalog (
		id         TEXT PRIMARY KEY,  -- Scryfall id, or set-number for CSV catalogs
		oracle_id  TEXT NOT NULL DEFAULT '',
		name       TEXT NOT NULL,
		set_code   TEXT NOT NULL,
		number     TEXT NOT NULL,
		lang       TEXT NOT NULL DEFAULT 'en',
		finishes   TEXT NOT NULL DEFAULT 'nonfoil', -- comma-separated
		usd        REAL,              -- NULL: no price known
		usd_foil   REAL,
		eur        REAL,
		image      TEXT NOT NULL DEFAULT '',
		hash       BLOB,              -- 32-byte perceptual hash; NULL: no reference image
		colour     BLOB
	);
	CREATE INDEX card_catalog_name ON card_catalog(name COLLATE NOCASE);
	CREATE TABLE card_scans (
		id         INTEGER PRIMARY KEY,
		at         INTEGER NOT NULL, -- unix milliseconds
		card_id    TEXT NOT NULL,
		name       TEXT NOT NULL,
		set_code   TEXT NOT NULL,
		number     TEXT NOT NULL,
		price      REAL NOT NULL,
		distance   INTEGER NOT NULL,
		name_conf  REAL NOT NULL,
		print_conf REAL NOT NULL,
		accepted   INTEGER NOT NULL,
		reason     TEXT NOT NULL,
		bin        INTEGER NOT NULL,
		image      TEXT NOT NULL,
		finish     TEXT NOT NULL,
		lang       TEXT NOT NULL,
		condition  TEXT NOT NULL
	);
	CREATE TABLE card_collection (
		card_id    TEXT NOT NULL,
		name       TEXT NOT NULL,
		set_code   TEXT NOT NULL,
		number     TEXT NOT NULL,
		finish     TEXT NOT NULL,
		lang       TEXT NOT NULL,
		condition  TEXT NOT NULL,
		qty        INTEGER NOT NULL CHECK (qty >= 0),
		PRIMARY KEY (card_id, finish, lang, condition)
	);`,
	}
}

// CatalogCard is one printing in the catalog.
type CatalogCard struct {
	ID, OracleID, Name, Set, Number, Lang string
	Finishes                              []string
	USD, USDFoil, EUR                     float64 // 0: no price known
	Image                                 string  // reference image path or URL
	Hash                                  []byte  // 32 bytes, nil without a reference image
	Colour                                []byte
}

// OwnedCard is a line of the collection, priced from the catalog.
type OwnedCard struct {
	CardID    string  `json:"id"`
	Name      string  `json:"name"`
	Set       string  `json:"set"`
	Number    string  `json:"number"`
	Finish    string  `json:"finish"`
	Lang      string  `json:"lang"`
	Condition string  `json:"condition"`
	Qty       int     `json:"qty"`
	Price     float64 `json:"price"` // each, USD; 0 unknown
}

func nullPrice(p float64) any {
	if p <= 0 {
		return nil
	}
	return p
}

// ImportCatalog inserts or replaces the cards from seq all at once: when seq
// yields an error (a broken file), nothing is imported. progress, when not
// nil, is called after each card with the count so far.
//
// Cards are staged in a temporary table first, so the database's write lock
// is held only for the final copy: reading a big file (or hashing reference
// images) on a Pi Zero takes minutes, and the event log, barometer samples and
// a running appliance beside the CLI must not wait for it.
func (s *Store) ImportCatalog(ctx context.Context, seq iter.Seq2[CatalogCard, error], progress func(n int)) (int, error) {
	conn, err := s.db.Conn(ctx) // temporary tables belong to one connection
	if err != nil {
		return 0, fmt.Errorf("store: import catalog: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS temp.catalog_import;
		CREATE TEMP TABLE catalog_import AS SELECT `+catalogCols+` FROM main.card_catalog WHERE 0`); err != nil {
		return 0, fmt.Errorf("store: import catalog: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.catalog_import")
	st, err := conn.PrepareContext(ctx, `INSERT INTO temp.catalog_import (`+catalogCols+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return 0, fmt.Errorf("store: import catalog: %w", err)
	}
	defer st.Close()
	n := 0
	for c, err := range seq {
		if err != nil {
			return 0, fmt.Errorf("store: import catalog: nothing imported: %w", err)
		}
		if c.ID == "" || c.Name == "" {
			return 0, fmt.Errorf("store: import catalog: card %d has no id or name: nothing imported", n+1)
		}
		lang := c.Lang
		if lang == "" {
			lang = "en"
		}
		fin := strings.Join(c.Finishes, ",")
		if fin == "" {
			fin = "nonfoil"
		}
		var hash, colour any
		if len(c.Hash) > 0 {
			hash, colour = c.Hash, c.Colour
		}
		if _, err := st.ExecContext(ctx, c.ID, c.OracleID, c.Name, c.Set, c.Number, lang, fin,
			nullPrice(c.USD), nullPrice(c.USDFoil), nullPrice(c.EUR), c.Image, hash, colour); err != nil {
			return 0, fmt.Errorf("store: import catalog: card %s: %w", c.ID, err)
		}
		n++
		if progress != nil {
			progress(n)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: import catalog: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO main.card_catalog (`+catalogCols+`)
		SELECT `+catalogCols+` FROM temp.catalog_import ORDER BY rowid`); err != nil {
		return 0, fmt.Errorf("store: import catalog: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: import catalog: %w", err)
	}
	return n, nil
}

const catalogCols = `id, oracle_id, name, set_code, number, lang, finishes, usd, usd_foil, eur, image, hash, colour`

func scanCatalog(sc interface{ Scan(...any) error }) (CatalogCard, error) {
	var c CatalogCard
	var fin string
	var usd, foil, eur sql.NullFloat64
	err := sc.Scan(&c.ID, &c.OracleID, &c.Name, &c.Set, &c.Number, &c.Lang, &fin, &usd, &foil, &eur, &c.Image, &c.Hash, &c.Colour)
	c.Finishes = strings.Split(fin, ",")
	c.USD, c.USDFoil, c.EUR = usd.Float64, foil.Float64, eur.Float64
	return c, err
}

// CatalogCards streams the catalog; hashedOnly skips printings without a
// reference hash (they cannot be recognised).
func (s *Store) CatalogCards(ctx context.Context, hashedOnly bool) iter.Seq2[CatalogCard, error] {
	return func(yield func(CatalogCard, error) bool) {
		q := "SELECT " + catalogCols + " FROM card_catalog"
		if hashedOnly {
			q += " WHERE hash IS NOT NULL"
		}
		rows, err := s.db.QueryContext(ctx, q+" ORDER BY rowid")
		if err != nil {
			yield(CatalogCard{}, fmt.Errorf("store: catalog: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCatalog(rows)
			if err != nil {
				yield(c, fmt.Errorf("store: catalog: %w", err))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(CatalogCard{}, fmt.Errorf("store: catalog: %w", err))
		}
	}
}

// ErrNoCard: no such card in the catalog or scan log.
var ErrNoCard = errors.New("store: no such card")

// CatalogCard returns one printing.
func (s *Store) CatalogCard(ctx context.Context, id string) (CatalogCard, error) {
	c, err := scanCatalog(s.db.QueryRowContext(ctx, "SELECT "+catalogCols+" FROM card_catalog WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: %q", ErrNoCard, id)
	}
	if err != nil {
		return c, fmt.Errorf("store: catalog card: %w", err)
	}
	return c, nil
}

// SearchCatalog finds up to n printings whose name contains q.
func (s *Store) SearchCatalog(ctx context.Context, q string, n int) ([]CatalogCard, error) {
	if n <= 0 || n > 200 {
		n = 50
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
	rows, err := s.db.QueryContext(ctx, "SELECT "+catalogCols+` FROM card_catalog WHERE name LIKE ? ESCAPE '\' ORDER BY name, set_code, number LIMIT ?`, like, n)
	if err != nil {
		return nil, fmt.Errorf("store: search catalog: %w", err)
	}
	defer rows.Close()
	var out []CatalogCard
	for rows.Next() {
		c, err := scanCatalog(rows)
		if err != nil {
			return nil, fmt.Errorf("store: search catalog: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CatalogSize counts the printings, and those with a reference hash.
func (s *Store) CatalogSize(ctx context.Context) (all, hashed int, err error) {
	err = s.db.QueryRowContext(ctx, "SELECT count(*), count(hash) FROM card_catalog").Scan(&all, &hashed)
	if err != nil {
		err = fmt.Errorf("store: catalog size: %w", err)
	}
	return
}

// RecordScan implements cardfeed.Store: the scan is logged and, when
// accepted, one copy is added to the collection, in one transaction.
func (s *Store) RecordScan(ctx context.Context, sc cardfeed.Scan) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: record scan: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO card_scans
		(at, card_id, name, set_code, number, price, distance, name_conf, print_conf, accepted, reason, bin, image, finish, lang, condition)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		sc.At.UnixMilli(), sc.CardID, sc.Name, sc.Set, sc.Number, sc.Price, sc.Distance, sc.NameConfidence,
		sc.PrintingConfidence, sc.Accepted, sc.Reason, sc.Bin, sc.Image, sc.Finish, sc.Lang, sc.Condition)
	if err != nil {
		return 0, fmt.Errorf("store: record scan: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: record scan: %w", err)
	}
	if sc.Accepted {
		if err := addOwned(ctx, tx, sc, 1); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: record scan: %w", err)
	}
	return id, nil
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func addOwned(ctx context.Context, tx execer, sc cardfeed.Scan, delta int) error {
	if delta < 0 {
		_, err := tx.ExecContext(ctx, `UPDATE card_collection SET qty = max(0, qty + ?)
			WHERE card_id = ? AND finish = ? AND lang = ? AND condition = ?`, delta, sc.CardID, sc.Finish, sc.Lang, sc.Condition)
		if err != nil {
			return fmt.Errorf("store: collection: %w", err)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM card_collection WHERE qty = 0")
		if err != nil {
			return fmt.Errorf("store: collection: %w", err)
		}
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO card_collection (card_id, name, set_code, number, finish, lang, condition, qty)
		VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT (card_id, finish, lang, condition) DO UPDATE SET qty = qty + excluded.qty`,
		sc.CardID, sc.Name, sc.Set, sc.Number, sc.Finish, sc.Lang, sc.Condition, delta)
	if err != nil {
		return fmt.Errorf("store: collection: %w", err)
	}
	return nil
}

const scanCols = `id, at, card_id, name, set_code, number, price, distance, name_conf, print_conf, accepted, reason, bin, image, finish, lang, condition`

func scanScan(r interface{ Scan(...any) error }) (cardfeed.Scan, error) {
	var sc cardfeed.Scan
	var ms int64
	err := r.Scan(&sc.ID, &ms, &sc.CardID, &sc.Name, &sc.Set, &sc.Number, &sc.Price, &sc.Distance, &sc.NameConfidence,
		&sc.PrintingConfidence, &sc.Accepted, &sc.Reason, &sc.Bin, &sc.Image, &sc.Finish, &sc.Lang, &sc.Condition)
	sc.At = time.UnixMilli(ms).UTC()
	return sc, err
}

// RecentScans returns up to n scans, newest first.
func (s *Store) RecentScans(ctx context.Context, n int) ([]cardfeed.Scan, error) {
	if n <= 0 || n > 1000 {
		n = 50
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+scanCols+" FROM card_scans ORDER BY id DESC LIMIT ?", n)
	if err != nil {
		return nil, fmt.Errorf("store: recent scans: %w", err)
	}
	defer rows.Close()
	var out []cardfeed.Scan
	for rows.Next() {
		sc, err := scanScan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: recent scans: %w", err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// CorrectScan is a manual correction: scan id was (or should have been)
// card cardID. The copy counted under the old name, if any, moves to the
// new one; a rejected scan enters the collection.
func (s *Store) CorrectScan(ctx context.Context, id int64, cardID string) (cardfeed.Scan, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return cardfeed.Scan{}, fmt.Errorf("store: correct scan: %w", err)
	}
	defer tx.Rollback()
	old, err := scanScan(tx.QueryRowContext(ctx, "SELECT "+scanCols+" FROM card_scans WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return old, fmt.Errorf("%w: scan %d", ErrNoCard, id)
	}
	if err != nil {
		return old, fmt.Errorf("store: correct scan: %w", err)
	}
	c, err := scanCatalog(tx.QueryRowContext(ctx, "SELECT "+catalogCols+" FROM card_catalog WHERE id = ?", cardID))
	if errors.Is(err, sql.ErrNoRows) {
		return old, fmt.Errorf("%w: %q", ErrNoCard, cardID)
	}
	if err != nil {
		return old, fmt.Errorf("store: correct scan: %w", err)
	}
	if old.Accepted {
		if err := addOwned(ctx, tx, old, -1); err != nil {
			return old, err
		}
	}
	nw := old
	nw.CardID, nw.Name, nw.Set, nw.Number = c.ID, c.Name, c.Set, c.Number
	nw.Price = c.USD
	if nw.Finish == "foil" && c.USDFoil > 0 {
		nw.Price = c.USDFoil
	}
	nw.Accepted, nw.Reason, nw.NameConfidence, nw.PrintingConfidence = true, "corrected by hand", 1, 1
	if err := addOwned(ctx, tx, nw, 1); err != nil {
		return old, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE card_scans SET card_id=?, name=?, set_code=?, number=?, price=?, accepted=1,
		reason=?, name_conf=1, print_conf=1 WHERE id=?`, nw.CardID, nw.Name, nw.Set, nw.Number, nw.Price, nw.Reason, id); err != nil {
		return old, fmt.Errorf("store: correct scan: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return old, fmt.Errorf("store: correct scan: %w", err)
	}
	return nw, nil
}

// Collection lists the owned cards with their catalog price (foil price for
// foils), sorted by name.
func (s *Store) Collection(ctx context.Context) ([]OwnedCard, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.card_id, o.name, o.set_code, o.number, o.finish, o.lang, o.condition, o.qty,
		COALESCE(CASE WHEN o.finish = 'nonfoil' THEN c.usd ELSE COALESCE(c.usd_foil, c.usd) END, 0)
		FROM card_collection o LEFT JOIN card_catalog c ON c.id = o.card_id
		ORDER BY o.name, o.set_code, o.number`)
	if err != nil {
		return nil, fmt.Errorf("store: collection: %w", err)
	}
	defer rows.Close()
	var out []OwnedCard
	for rows.Next() {
		var o OwnedCard
		if err := rows.Scan(&o.CardID, &o.Name, &o.Set, &o.Number, &o.Finish, &o.Lang, &o.Condition, &o.Qty, &o.Price); err != nil {
			return nil, fmt.Errorf("store: collection: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
