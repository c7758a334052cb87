package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tinkerbox/scenes/cardfeed"
)

// openCards opens a store with the card tables (the lead splices
// cardsMigrations into migrations(); until then the test applies them).
func openCards(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), func() time.Time { return time.Unix(1e9, 0) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var n int
	s.DB().QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'card_catalog'").Scan(&n)
	if n == 0 {
		for _, m := range cardsMigrations() {
			if _, err := s.DB().ExecContext(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func seqOf(cs []CatalogCard, tail error) iter.Seq2[CatalogCard, error] {
	return func(yield func(CatalogCard, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
		if tail != nil {
			yield(CatalogCard{}, tail)
		}
	}
}

var testCatalog = []CatalogCard{
	{ID: "a1", Name: "Lightning Bolt", Set: "m10", Number: "146", USD: 2.5, USDFoil: 9, Finishes: []string{"nonfoil", "foil"}, Features: []byte{2, 1, 2, 3}},
	{ID: "a2", Name: "Lightning Bolt", Set: "2xm", Number: "117", USD: 1.25},
	{ID: "b1", Name: "Delver of Secrets // Insectile Aberration", Set: "isd", Number: "51", Lang: "ja"},
}

func TestImportCatalogAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openCards(t)
	_, err := s.ImportCatalog(ctx, seqOf(testCatalog, errors.New("byte 1234: broken")), nil)
	if err == nil {
		t.Fatal("broken import: no error")
	}
	if all, _, _ := s.CatalogSize(ctx); all != 0 {
		t.Fatalf("%d cards half-imported", all)
	}
	calls := 0
	res, err := s.ImportCatalog(ctx, seqOf(testCatalog, nil), func(int) { calls++ })
	if err != nil || res.Cards != 3 || res.New != 3 || res.Kept != 0 || calls != 3 {
		t.Fatalf("import: %+v, %v, %d progress calls", res, err, calls)
	}
	all, hashed, err := s.CatalogSize(ctx)
	if all != 3 || hashed != 1 || err != nil {
		t.Fatalf("size %d/%d %v", all, hashed, err)
	}
	c, err := s.CatalogCard(ctx, "b1")
	if err != nil || c.Lang != "ja" || c.USD != 0 || c.Finishes[0] != "nonfoil" {
		t.Fatalf("b1: %+v %v", c, err)
	}
	var got []string
	for c, err := range s.CatalogCards(ctx, true) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.ID)
	}
	if len(got) != 1 || got[0] != "a1" {
		t.Fatalf("hashed cards %v", got)
	}
	found, err := s.SearchCatalog(ctx, "bolt", 10)
	if err != nil || len(found) != 2 {
		t.Fatalf("search: %v %v", found, err)
	}
	if _, err := s.CatalogCard(ctx, "zz"); !errors.Is(err, ErrNoCard) {
		t.Fatalf("missing card: %v", err)
	}
	if _, err := s.ImportCatalog(ctx, seqOf([]CatalogCard{{ID: "x"}}, nil), nil); err == nil {
		t.Fatal("card without a name imported")
	}
}

func TestScansAndCollection(t *testing.T) {
	ctx := context.Background()
	s := openCards(t)
	if _, err := s.ImportCatalog(ctx, seqOf(testCatalog, nil), nil); err != nil {
		t.Fatal(err)
	}
	base := cardfeed.Scan{At: time.Unix(100, 0), Finish: "nonfoil", Lang: "en", Condition: "NM"}
	bolt := base
	bolt.CardID, bolt.Name, bolt.Set, bolt.Number, bolt.Accepted, bolt.Bin = "a1", "Lightning Bolt", "m10", "146", true, 3
	for i := 0; i < 2; i++ {
		if _, err := s.RecordScan(ctx, bolt); err != nil {
			t.Fatal(err)
		}
	}
	foil := bolt
	foil.Finish = "foil"
	s.RecordScan(ctx, foil)
	rej := base
	rej.CardID, rej.Name, rej.Accepted, rej.Bin, rej.Reason = "a2", "Lightning Bolt", false, 4, "ambiguous"
	rid, err := s.RecordScan(ctx, rej)
	if err != nil {
		t.Fatal(err)
	}
	col, err := s.Collection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(col) != 2 || col[0].Qty+col[1].Qty != 3 {
		t.Fatalf("collection %+v", col)
	}
	for _, o := range col {
		if o.Finish == "foil" && o.Price != 9 || o.Finish == "nonfoil" && (o.Price != 2.5 || o.Qty != 2) {
			t.Errorf("priced wrong: %+v", o)
		}
	}
	recent, err := s.RecentScans(ctx, 10)
	if err != nil || len(recent) != 4 || recent[0].ID != rid || recent[0].Accepted || recent[0].Reason != "ambiguous" {
		t.Fatalf("recent %+v %v", recent, err)
	}
	// The rejected card was in fact the Delver: it joins the collection.
	nw, err := s.CorrectScan(ctx, rid, "b1")
	if err != nil || !nw.Accepted || nw.Name != testCatalog[2].Name {
		t.Fatalf("correct: %+v %v", nw, err)
	}
	// A wrongly accepted bolt was the 2XM printing: the copy moves.
	if _, err := s.CorrectScan(ctx, recent[3].ID, "a2"); err != nil {
		t.Fatal(err)
	}
	col, _ = s.Collection(ctx)
	qty := map[string]int{}
	for _, o := range col {
		qty[o.CardID+"/"+o.Finish] += o.Qty
	}
	if qty["a1/nonfoil"] != 1 || qty["a2/nonfoil"] != 1 || qty["b1/nonfoil"] != 1 || qty["a1/foil"] != 1 {
		t.Fatalf("after corrections %v", qty)
	}
	if _, err := s.CorrectScan(ctx, 999, "a1"); !errors.Is(err, ErrNoCard) {
		t.Fatalf("unknown scan: %v", err)
	}
	if _, err := s.CorrectScan(ctx, rid, "nope"); !errors.Is(err, ErrNoCard) {
		t.Fatalf("unknown card: %v", err)
	}
}

// A re-import of the bulk file (new prices, no hashes) keeps the features
// and the downloaded image of every printing that had them.
func TestReimportKeepsFeatures(t *testing.T) {
	ctx := context.Background()
	s := openCards(t)
	if _, err := s.ImportCatalog(ctx, seqOf(testCatalog, nil), nil); err != nil {
		t.Fatal(err)
	}
	// `catalog images` downloads a2 and hashes it.
	if n, err := s.SetFeatures(ctx, []CatalogImage{{ID: "a2", Image: "/data/card-images/a2.jpg", Features: []byte{2, 9}}, {ID: "zz", Features: []byte{2}}}); err != nil || n != 1 {
		t.Fatalf("set features: %d %v", n, err)
	}
	again := []CatalogCard{
		{ID: "a1", Name: "Lightning Bolt", Set: "m10", Number: "146", USD: 3, Image: "https://x/a1.jpg"},
		{ID: "a2", Name: "Lightning Bolt", Set: "2xm", Number: "117", USD: 1.5, Image: "https://x/a2.jpg"},
		{ID: "b1", Name: "Delver of Secrets // Insectile Aberration", Set: "isd", Number: "51", Features: []byte{2, 7}},
		{ID: "c1", Name: "Counterspell", Set: "7ed", Number: "67"},
	}
	res, err := s.ImportCatalog(ctx, seqOf(again, nil), nil)
	if err != nil || res.Cards != 4 || res.New != 1 || res.Kept != 2 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	want := map[string]struct {
		usd   float64
		image string
		feat  string
	}{
		"a1": {3, "https://x/a1.jpg", "\x02\x01\x02\x03"}, // kept; the stored image was a URL anyway
		"a2": {1.5, "/data/card-images/a2.jpg", "\x02\x09"},
		"b1": {0, "", "\x02\x07"}, // the file's own features win
		"c1": {0, "", ""},
	}
	for id, w := range want {
		c, err := s.CatalogCard(ctx, id)
		if err != nil || c.USD != w.usd || c.Image != w.image || string(c.Features) != w.feat {
			t.Errorf("%s: %+v %v, want %+v", id, c, err, w)
		}
	}
	all, hashed, _ := s.CatalogSize(ctx)
	if all != 4 || hashed != 3 {
		t.Errorf("size %d/%d", all, hashed)
	}
	// An image path from a file that has features replaces a local one.
	if _, err := s.ImportCatalog(ctx, seqOf([]CatalogCard{{ID: "a2", Name: "Lightning Bolt", Set: "2xm", Number: "117", Image: "/scans/a2.png", Features: []byte{2, 8}}}, nil), nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.CatalogCard(ctx, "a2"); c.Image != "/scans/a2.png" || string(c.Features) != "\x02\x08" {
		t.Errorf("a2 after a hashed import: %+v", c)
	}
}

func TestCatalogImagesAndImportFeatures(t *testing.T) {
	ctx := context.Background()
	s := openCards(t)
	if _, err := s.ImportCatalog(ctx, seqOf(testCatalog, nil), nil); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for c, err := range s.CatalogImages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID+":"+string(c.Features))
	}
	if strings.Join(ids, ",") != "a1:\x02\x01\x02\x03,a2:,b1:" {
		t.Fatalf("catalog images %q", ids)
	}
	s.SetFeatures(ctx, []CatalogImage{{ID: "b1", Features: []byte{1, 5}}}) // an older recogniser's
	stale := func(b []byte) bool { return b[0] != 2 }
	entries := []CatalogImage{{ID: "a1", Features: []byte{2, 4}}, {ID: "a2", Features: []byte{2, 5}}, {ID: "b1", Features: []byte{2, 6}}, {ID: "nope", Features: []byte{2}}}
	// A broken file changes nothing.
	broken := func(yield func(CatalogImage, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
		yield(CatalogImage{}, errors.New("line 9: bad"))
	}
	if _, err := s.ImportFeatures(ctx, broken, stale); err == nil || !strings.Contains(err.Error(), "line 9") {
		t.Fatalf("broken file: %v", err)
	}
	if c, _ := s.CatalogCard(ctx, "a2"); c.Features != nil {
		t.Fatalf("a broken file imported %+v", c)
	}
	seq := func(yield func(CatalogImage, error) bool) {
		for _, e := range entries {
			if !yield(e, nil) {
				return
			}
		}
	}
	res, err := s.ImportFeatures(ctx, seq, stale)
	if err != nil || res.Read != 4 || res.Matched != 2 || res.Replaced != 1 || res.AlreadyHad != 1 || res.Unknown != 1 || res.UnknownIDs[0] != "nope" {
		t.Fatalf("import features: %+v %v", res, err)
	}
	for id, want := range map[string]string{"a1": "\x02\x01\x02\x03", "a2": "\x02\x05", "b1": "\x02\x06"} {
		if c, _ := s.CatalogCard(ctx, id); string(c.Features) != want {
			t.Errorf("%s: features %q, want %q", id, c.Features, want)
		}
	}
	var tables int
	if err := s.DB().QueryRow("SELECT count(*) FROM sqlite_temp_master").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("%d temporary tables left behind, %v", tables, err)
	}
}

// A database written before the features column migrates; its printings
// hashed by the first recogniser are counted, not read.
func TestLegacyHashesMigrate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := migrations()
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName)))
	if err != nil {
		t.Fatal(err)
	}
	old := slices.IndexFunc(all, func(m string) bool { return strings.Contains(m, "ADD COLUMN features") }) // the schema before it
	for _, m := range all[:old] {
		if _, err := db.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", old)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO card_catalog (id, name, set_code, number, hash, colour) VALUES
		('h1', 'Old', 'x', '1', zeroblob(32), zeroblob(96)), ('h2', 'Old', 'x', '2', zeroblob(32), zeroblob(96)), ('n1', 'New', 'x', '3', NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(ctx, dir, fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Version(ctx); v != len(all) {
		t.Fatalf("version %d, want %d", v, len(all))
	}
	n, all2, hashed := 0, 0, 0
	if n, err = s.CatalogLegacy(ctx); err != nil || n != 2 {
		t.Fatalf("legacy %d %v", n, err)
	}
	if all2, hashed, err = s.CatalogSize(ctx); all2 != 3 || hashed != 0 {
		t.Fatalf("size %d/%d %v", all2, hashed, err)
	}
	// A re-import leaves them counted; hashing them again clears the count.
	if _, err := s.ImportCatalog(ctx, seqOf([]CatalogCard{{ID: "h1", Name: "Old", Set: "x", Number: "1"}}, nil), nil); err != nil {
		t.Fatal(err)
	}
	if n, _ = s.CatalogLegacy(ctx); n != 2 {
		t.Fatalf("legacy after re-import %d", n)
	}
	s.SetFeatures(ctx, []CatalogImage{{ID: "h1", Features: []byte{2}}})
	if n, _ = s.CatalogLegacy(ctx); n != 1 {
		t.Fatalf("legacy after hashing %d", n)
	}
}
