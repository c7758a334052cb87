package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
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
		// The recogniser's features as its own versioned blob
		// (recog.Features.Encode). hash and colour stay for old databases
		// but are no longer read: they are counted as needing hashing again.
		`ALTER TABLE card_catalog ADD COLUMN features BLOB;`,
		// Prices are finite and ≥ 0 (9e999 is SQLite's +Inf; a NaN is
		// stored as NULL). Bad prices an old version let in become unknown;
		// the triggers refuse new ones from any writer, the CLI included,
		// behind the checks in Go that give the clear message.
		`UPDATE card_catalog SET usd = NULL WHERE NOT (usd >= 0 AND usd < 9e999);
	UPDATE card_catalog SET usd_foil = NULL WHERE NOT (usd_foil >= 0 AND usd_foil < 9e999);
	UPDATE card_catalog SET eur = NULL WHERE NOT (eur >= 0 AND eur < 9e999);
	UPDATE card_scans SET price = 0 WHERE NOT (price >= 0 AND price < 9e999);
	CREATE TRIGGER card_catalog_price_insert BEFORE INSERT ON card_catalog
		WHEN NOT (COALESCE(NEW.usd, 0) >= 0 AND COALESCE(NEW.usd, 0) < 9e999
			AND COALESCE(NEW.usd_foil, 0) >= 0 AND COALESCE(NEW.usd_foil, 0) < 9e999
			AND COALESCE(NEW.eur, 0) >= 0 AND COALESCE(NEW.eur, 0) < 9e999)
		BEGIN SELECT RAISE(ABORT, 'card price must be a finite number >= 0'); END;
	CREATE TRIGGER card_catalog_price_update BEFORE UPDATE OF usd, usd_foil, eur ON card_catalog
		WHEN NOT (COALESCE(NEW.usd, 0) >= 0 AND COALESCE(NEW.usd, 0) < 9e999
			AND COALESCE(NEW.usd_foil, 0) >= 0 AND COALESCE(NEW.usd_foil, 0) < 9e999
			AND COALESCE(NEW.eur, 0) >= 0 AND COALESCE(NEW.eur, 0) < 9e999)
		BEGIN SELECT RAISE(ABORT, 'card price must be a finite number >= 0'); END;
	CREATE TRIGGER card_scans_price_insert BEFORE INSERT ON card_scans
		WHEN NOT (NEW.price >= 0 AND NEW.price < 9e999)
		BEGIN SELECT RAISE(ABORT, 'scan price must be a finite number >= 0'); END;
	CREATE TRIGGER card_scans_price_update BEFORE UPDATE OF price ON card_scans
		WHEN NOT (NEW.price >= 0 AND NEW.price < 9e999)
		BEGIN SELECT RAISE(ABORT, 'scan price must be a finite number >= 0'); END;`,
	}
}

// CatalogCard is one printing in the catalog.
type CatalogCard struct {
	ID, OracleID, Name, Set, Number, Lang string
	Finishes                              []string
	USD, USDFoil, EUR                     float64 // 0: no price known
	Image                                 string  // reference image path or URL
	// Features is the recogniser's blob (recog.Features.Encode); nil
	// without a hashed reference image. The store does not look inside.
	Features []byte
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

// ErrBadPrice refuses a price that is not a finite, non-negative number.
// encoding/json cannot write NaN or ±Inf, so one such price would make every
// page that lists it fail, and exports would show "+Inf".
var ErrBadPrice = errors.New("store: price must be a finite number ≥ 0")

// checkPrice refuses NaN, ±Inf and negative prices; what names the price.
func checkPrice(what string, p float64) error {
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		return fmt.Errorf("%w: %s is %v", ErrBadPrice, what, p)
	}
	return nil
}

// cleanPrice is the read side: a bad price already in a database (written
// before prices were checked) reads as unknown (0), never as an error.
func cleanPrice(p float64) float64 {
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		return 0
	}
	return p
}

// nullPrice is a checked price as stored: 0 (unknown) is NULL.
func nullPrice(p float64) any {
	if p <= 0 {
		return nil
	}
	return p
}

// checkCardPrices checks a catalog card's three prices.
func checkCardPrices(c CatalogCard) error {
	return errors.Join(checkPrice("usd", c.USD), checkPrice("usd_foil", c.USDFoil), checkPrice("eur", c.EUR))
}

// ImportResult is what ImportCatalog did.
type ImportResult struct {
	Cards int // printings read
	New   int // printings that were not in the catalog
	// Kept counts printings whose stored features were kept because the
	// incoming row had none (a bulk file never carries hashes).
	Kept int
}

// ImportCatalog upserts the cards from seq all at once: when seq yields an
// error (a broken file), nothing is imported. A re-import never drops a
// hash: when the incoming row has no features and the stored one has, the
// stored features stay, and so does a stored local image path when the new
// image is only a URL (`catalog images` downloaded it). progress, when not
// nil, is called after each card with the count so far.
//
// Cards are staged in a temporary table first, so the database's write lock
// is held only for the final copy: reading a big file (or hashing reference
// images) on a Pi Zero takes minutes, and the event log, barometer samples and
// a running appliance beside the CLI must not wait for it.
func (s *Store) ImportCatalog(ctx context.Context, seq iter.Seq2[CatalogCard, error], progress func(n int)) (ImportResult, error) {
	var res ImportResult
	conn, err := s.db.Conn(ctx) // temporary tables belong to one connection
	if err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS temp.catalog_import;
		CREATE TEMP TABLE catalog_import AS SELECT `+catalogCols+` FROM main.card_catalog WHERE 0`); err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.catalog_import")
	st, err := conn.PrepareContext(ctx, `INSERT INTO temp.catalog_import (`+catalogCols+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	defer st.Close()
	n := 0
	for c, err := range seq {
		if err != nil {
			return res, fmt.Errorf("store: import catalog: nothing imported: %w", err)
		}
		if c.ID == "" || c.Name == "" {
			return res, fmt.Errorf("store: import catalog: card %d has no id or name: nothing imported", n+1)
		}
		if err := checkCardPrices(c); err != nil {
			return res, fmt.Errorf("store: import catalog: card %s: %w: nothing imported", c.ID, err)
		}
		lang := c.Lang
		if lang == "" {
			lang = "en"
		}
		fin := strings.Join(c.Finishes, ",")
		if fin == "" {
			fin = "nonfoil"
		}
		var feat any
		if len(c.Features) > 0 {
			feat = c.Features
		}
		if _, err := st.ExecContext(ctx, c.ID, c.OracleID, c.Name, c.Set, c.Number, lang, fin,
			nullPrice(c.USD), nullPrice(c.USDFoil), nullPrice(c.EUR), c.Image, feat); err != nil {
			return res, fmt.Errorf("store: import catalog: card %s: %w", c.ID, err)
		}
		n++
		if progress != nil {
			progress(n)
		}
	}
	res.Cards = n
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE c.id IS NULL),
		count(*) FILTER (WHERE i.features IS NULL AND c.features IS NOT NULL)
		FROM temp.catalog_import i LEFT JOIN main.card_catalog c ON c.id = i.id`).Scan(&res.New, &res.Kept); err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	// The legacy hash and colour columns are left as they are: a printing
	// with only those is still counted as needing hashing again.
	// ("WHERE true" keeps SQLite from reading ON CONFLICT as a join.)
	if _, err := tx.ExecContext(ctx, `INSERT INTO main.card_catalog (`+catalogCols+`)
		SELECT `+catalogCols+` FROM temp.catalog_import WHERE true ORDER BY rowid
		ON CONFLICT (id) DO UPDATE SET
			oracle_id = excluded.oracle_id, name = excluded.name, set_code = excluded.set_code,
			number = excluded.number, lang = excluded.lang, finishes = excluded.finishes,
			usd = excluded.usd, usd_foil = excluded.usd_foil, eur = excluded.eur,
			image = CASE WHEN excluded.features IS NULL AND card_catalog.features IS NOT NULL
					AND card_catalog.image <> '' AND card_catalog.image NOT LIKE '%://%'
					AND (excluded.image = '' OR excluded.image LIKE '%://%')
				THEN card_catalog.image ELSE excluded.image END,
			features = COALESCE(excluded.features, card_catalog.features)`); err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("store: import catalog: %w", err)
	}
	return res, nil
}

const catalogCols = `id, oracle_id, name, set_code, number, lang, finishes, usd, usd_foil, eur, image, features`

func scanCatalog(sc interface{ Scan(...any) error }) (CatalogCard, error) {
	var c CatalogCard
	var fin string
	var usd, foil, eur sql.NullFloat64
	err := sc.Scan(&c.ID, &c.OracleID, &c.Name, &c.Set, &c.Number, &c.Lang, &fin, &usd, &foil, &eur, &c.Image, &c.Features)
	c.Finishes = strings.Split(fin, ",")
	c.USD, c.USDFoil, c.EUR = cleanPrice(usd.Float64), cleanPrice(foil.Float64), cleanPrice(eur.Float64)
	return c, err
}

// CatalogCards streams the catalog; hashedOnly skips printings without
// features (they cannot be recognised).
func (s *Store) CatalogCards(ctx context.Context, hashedOnly bool) iter.Seq2[CatalogCard, error] {
	return func(yield func(CatalogCard, error) bool) {
		q := "SELECT " + catalogCols + " FROM card_catalog"
		if hashedOnly {
			q += " WHERE features IS NOT NULL"
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

// CatalogSize counts the printings, and those with features (recognisable
// unless the features are from another recogniser version).
func (s *Store) CatalogSize(ctx context.Context) (all, hashed int, err error) {
	err = s.db.QueryRowContext(ctx, "SELECT count(*), count(features) FROM card_catalog").Scan(&all, &hashed)
	if err != nil {
		err = fmt.Errorf("store: catalog size: %w", err)
	}
	return
}

// CatalogLegacy counts the printings that only have a hash from the first
// recogniser (the hash and colour columns): their reference images must be
// hashed again.
func (s *Store) CatalogLegacy(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM card_catalog WHERE features IS NULL AND hash IS NOT NULL").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: catalog legacy hashes: %w", err)
	}
	return n, nil
}

// CatalogImage is a printing's reference image and features.
type CatalogImage struct {
	ID       string
	Image    string // local path or URL; "" none
	Features []byte // nil: not hashed
}

// CatalogImages streams every printing's id, reference image and features,
// in import order. The rows are read as the caller goes: a caller that does
// slow work per printing should collect them first, so no read transaction
// stays open for hours.
func (s *Store) CatalogImages(ctx context.Context) iter.Seq2[CatalogImage, error] {
	return func(yield func(CatalogImage, error) bool) {
		rows, err := s.db.QueryContext(ctx, "SELECT id, image, features FROM card_catalog ORDER BY rowid")
		if err != nil {
			yield(CatalogImage{}, fmt.Errorf("store: catalog images: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var c CatalogImage
			if err := rows.Scan(&c.ID, &c.Image, &c.Features); err != nil {
				yield(c, fmt.Errorf("store: catalog images: %w", err))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(CatalogImage{}, fmt.Errorf("store: catalog images: %w", err))
		}
	}
}

// SetFeatures stores a batch in one transaction: each printing's features
// (nil keeps the stored ones) and image (a local path; "" keeps the stored
// one). It returns how many printings were found; unknown ids are skipped.
func (s *Store) SetFeatures(ctx context.Context, batch []CatalogImage) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: set features: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE card_catalog SET features = COALESCE(?1, features),
		image = CASE WHEN ?2 <> '' THEN ?2 ELSE image END WHERE id = ?3`)
	if err != nil {
		return 0, fmt.Errorf("store: set features: %w", err)
	}
	defer st.Close()
	found := 0
	for _, c := range batch {
		var feat any
		if len(c.Features) > 0 {
			feat = c.Features
		}
		r, err := st.ExecContext(ctx, feat, c.Image, c.ID)
		if err != nil {
			return 0, fmt.Errorf("store: set features of %s: %w", c.ID, err)
		}
		if n, err := r.RowsAffected(); err == nil && n > 0 {
			found++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: set features: %w", err)
	}
	return found, nil
}

// FeatureImport is what ImportFeatures did.
type FeatureImport struct {
	Read       int      // entries read
	Matched    int      // printings that got features (Replaced included)
	Replaced   int      // of those, printings whose stale features were replaced
	AlreadyHad int      // printings whose stored features were kept
	Unknown    int      // ids not in the catalog
	UnknownIDs []string // the first few of them
}

// ImportFeatures gives printings the features in seq, all at once: when seq
// yields an error (a broken file), nothing changes. Stored features are
// kept unless stale(stored) says they come from another recogniser
// version; entries for ids not in the catalog are counted, not stored.
// Entries are staged in a temporary table first, as in ImportCatalog.
func (s *Store) ImportFeatures(ctx context.Context, seq iter.Seq2[CatalogImage, error], stale func(stored []byte) bool) (FeatureImport, error) {
	var res FeatureImport
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("store: import features: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS temp.features_import;
		CREATE TEMP TABLE features_import (id TEXT PRIMARY KEY, features BLOB NOT NULL)`); err != nil {
		return res, fmt.Errorf("store: import features: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.features_import")
	ins, err := conn.PrepareContext(ctx, "INSERT INTO temp.features_import (id, features) VALUES (?, ?)")
	if err != nil {
		return res, fmt.Errorf("store: import features: %w", err)
	}
	defer ins.Close()
	for c, err := range seq {
		if err != nil {
			return FeatureImport{}, fmt.Errorf("store: import features: nothing imported: %w", err)
		}
		if c.ID == "" || len(c.Features) == 0 {
			return FeatureImport{}, fmt.Errorf("store: import features: entry %d has no id or features: nothing imported", res.Read+1)
		}
		if _, err := ins.ExecContext(ctx, c.ID, c.Features); err != nil {
			return FeatureImport{}, fmt.Errorf("store: import features: %s: %w: nothing imported", c.ID, err)
		}
		res.Read++
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return FeatureImport{}, fmt.Errorf("store: import features: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT i.id, c.id IS NOT NULL, c.features
		FROM temp.features_import i LEFT JOIN main.card_catalog c ON c.id = i.id ORDER BY i.rowid`)
	if err != nil {
		return FeatureImport{}, fmt.Errorf("store: import features: %w", err)
	}
	var apply []string
	for rows.Next() {
		var id string
		var known bool
		var stored []byte
		if err := rows.Scan(&id, &known, &stored); err != nil {
			rows.Close()
			return FeatureImport{}, fmt.Errorf("store: import features: %w", err)
		}
		switch {
		case !known:
			res.Unknown++
			if len(res.UnknownIDs) < 5 {
				res.UnknownIDs = append(res.UnknownIDs, id)
			}
		case stored == nil:
			apply = append(apply, id)
		case stale != nil && stale(stored):
			apply = append(apply, id)
			res.Replaced++
		default:
			res.AlreadyHad++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return FeatureImport{}, fmt.Errorf("store: import features: %w", err)
	}
	up, err := tx.PrepareContext(ctx, `UPDATE main.card_catalog
		SET features = (SELECT features FROM temp.features_import WHERE id = ?1) WHERE id = ?1`)
	if err != nil {
		return FeatureImport{}, fmt.Errorf("store: import features: %w", err)
	}
	defer up.Close()
	for _, id := range apply {
		if _, err := up.ExecContext(ctx, id); err != nil {
			return FeatureImport{}, fmt.Errorf("store: import features: %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return FeatureImport{}, fmt.Errorf("store: import features: %w", err)
	}
	res.Matched = len(apply)
	return res, nil
}

// RecordScan implements cardfeed.Store: the scan is logged and, when
// accepted, one copy is added to the collection, in one transaction.
func (s *Store) RecordScan(ctx context.Context, sc cardfeed.Scan) (int64, error) {
	if err := checkPrice("price", sc.Price); err != nil {
		return 0, fmt.Errorf("store: record scan of %s: %w", sc.CardID, err)
	}
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
	var price sql.NullFloat64 // NOT NULL, but a NaN written by an old version reads back as NULL
	err := r.Scan(&sc.ID, &ms, &sc.CardID, &sc.Name, &sc.Set, &sc.Number, &price, &sc.Distance, &sc.NameConfidence,
		&sc.PrintingConfidence, &sc.Accepted, &sc.Reason, &sc.Bin, &sc.Image, &sc.Finish, &sc.Lang, &sc.Condition)
	sc.At, sc.Price = time.UnixMilli(ms).UTC(), cleanPrice(price.Float64)
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
	if err := checkPrice("price", nw.Price); err != nil { // scanCatalog cleaned it: a guard for later changes
		return old, fmt.Errorf("store: correct scan %d: %w", id, err)
	}
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
		c.usd, c.usd_foil
		FROM card_collection o LEFT JOIN card_catalog c ON c.id = o.card_id
		ORDER BY o.name, o.set_code, o.number`)
	if err != nil {
		return nil, fmt.Errorf("store: collection: %w", err)
	}
	defer rows.Close()
	var out []OwnedCard
	for rows.Next() {
		var o OwnedCard
		var usd, foil sql.NullFloat64
		if err := rows.Scan(&o.CardID, &o.Name, &o.Set, &o.Number, &o.Finish, &o.Lang, &o.Condition, &o.Qty, &usd, &foil); err != nil {
			return nil, fmt.Errorf("store: collection: %w", err)
		}
		// Foils at the foil price, else the normal one; a bad stored price
		// is unknown.
		o.Price = cleanPrice(usd.Float64)
		if p := cleanPrice(foil.Float64); o.Finish != "nonfoil" && p > 0 {
			o.Price = p
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
