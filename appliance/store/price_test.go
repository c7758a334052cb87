package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tinkerbox/scenes/cardfeed"
)

// Every write path refuses NaN, ±Inf and negative prices with ErrBadPrice,
// and writes nothing.
func TestBadPricesAreRefused(t *testing.T) {
	ctx := context.Background()
	s := openCards(t)
	if _, err := s.ImportCatalog(ctx, seqOf(testCatalog, nil), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.01} {
		for _, c := range []CatalogCard{
			{ID: "z1", Name: "Bad", Set: "x", Number: "1", USD: p},
			{ID: "z1", Name: "Bad", Set: "x", Number: "1", USDFoil: p},
			{ID: "a2", Name: "Lightning Bolt", Set: "2xm", Number: "117", EUR: p}, // a price update by re-import
		} {
			_, err := s.ImportCatalog(ctx, seqOf([]CatalogCard{testCatalog[0], c}, nil), nil)
			if !errors.Is(err, ErrBadPrice) || !strings.Contains(err.Error(), "nothing imported") {
				t.Errorf("import with price %v: %v, want ErrBadPrice", p, err)
			}
		}
		if _, err := s.RecordScan(ctx, cardfeed.Scan{CardID: "a1", Name: "Lightning Bolt", Price: p, Accepted: true}); !errors.Is(err, ErrBadPrice) {
			t.Errorf("scan with price %v: %v, want ErrBadPrice", p, err)
		}
	}
	if all, _, _ := s.CatalogSize(ctx); all != len(testCatalog) {
		t.Fatalf("catalog has %d printings after refused imports, want %d", all, len(testCatalog))
	}
	if c, _ := s.CatalogCard(ctx, "a2"); c.USD != 1.25 || c.EUR != 0 {
		t.Fatalf("a2 after refused update: %+v", c)
	}
	if sc, _ := s.RecentScans(ctx, 10); len(sc) != 0 {
		t.Fatalf("refused scans were stored: %+v", sc)
	}
	// Behind the Go checks, the schema refuses them from any writer.
	for _, q := range []string{
		"INSERT INTO card_catalog (id, name, set_code, number, usd) VALUES ('r', 'R', 'x', '1', 9e999)",
		"UPDATE card_catalog SET usd_foil = -1 WHERE id = 'a1'",
		"UPDATE card_catalog SET eur = -9e999 WHERE id = 'a1'",
	} {
		if _, err := s.DB().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "finite") {
			t.Errorf("%s: %v, want refused", q, err)
		}
	}
}

// Bad prices already in a database (written before the checks) are
// unknown prices on every read path, and the migration clears them.
func TestBadStoredPricesReadAsUnknown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := migrations()
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName)))
	if err != nil {
		t.Fatal(err)
	}
	old := slices.IndexFunc(all, func(m string) bool { return strings.Contains(m, "card_catalog_price_insert") })
	for _, m := range all[:old] {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", old)); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		`INSERT INTO card_catalog (id, name, set_code, number, usd, usd_foil, eur) VALUES
			('inf', 'Infinite', 'x', '1', 9e999, -9e999, -3), ('ok', 'Fine', 'x', '2', 2, 5, 1)`,
		`INSERT INTO card_scans (at, card_id, name, set_code, number, price, distance, name_conf, print_conf, accepted, reason, bin, image, finish, lang, condition)
			VALUES (1, 'inf', 'Infinite', 'x', '1', 9e999, 0, 1, 1, 1, '', 3, '', 'nonfoil', 'en', 'NM')`,
		`INSERT INTO card_collection (card_id, name, set_code, number, finish, lang, condition, qty) VALUES
			('inf', 'Infinite', 'x', '1', 'nonfoil', 'en', 'NM', 1), ('inf', 'Infinite', 'x', '1', 'foil', 'en', 'NM', 1)`,
	}
	for _, q := range bad {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store, when string) {
		t.Helper()
		cs, err := s.SearchCatalog(ctx, "Infinite", 10)
		if err != nil || len(cs) != 1 || cs[0].USD != 0 || cs[0].USDFoil != 0 || cs[0].EUR != 0 {
			t.Fatalf("%s: search = %+v, %v", when, cs, err)
		}
		col, err := s.Collection(ctx)
		if err != nil || len(col) != 2 || col[0].Price != 0 || col[1].Price != 0 {
			t.Fatalf("%s: collection = %+v, %v", when, col, err)
		}
		sc, err := s.RecentScans(ctx, 10)
		if err != nil || len(sc) != 1 || sc[0].Price != 0 {
			t.Fatalf("%s: scans = %+v, %v", when, sc, err)
		}
		if _, err := json.Marshal([]any{cs, col, sc}); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		// A correction to the bad card is stored with an unknown price.
		nw, err := s.CorrectScan(ctx, sc[0].ID, "inf")
		if err != nil || nw.Price != 0 {
			t.Fatalf("%s: correct = %+v, %v", when, nw, err)
		}
		if c, err := s.CatalogCard(ctx, "ok"); err != nil || c.USD != 2 || c.USDFoil != 5 || c.EUR != 1 {
			t.Fatalf("%s: good prices changed: %+v %v", when, c, err)
		}
	}
	// Read paths first, on the unmigrated rows (a database the triggers'
	// migration has not reached: the read side must not depend on it).
	db.Close()
	s := &Store{path: filepath.Join(dir, FileName), now: time.Now}
	if s.db, err = sql.Open("sqlite", dsn(s.path)); err != nil {
		t.Fatal(err)
	}
	check(s, "before the migration")
	s.db.Close()
	s, err = Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM card_catalog WHERE NOT (usd >= 0 AND usd < 9e999)
		OR NOT (usd_foil >= 0 AND usd_foil < 9e999) OR NOT (eur >= 0 AND eur < 9e999)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d bad prices left after the migration, %v", n, err)
	}
	check(s, "after the migration")
}
