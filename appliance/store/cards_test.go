package store

import (
	"context"
	"errors"
	"iter"
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
	{ID: "a1", Name: "Lightning Bolt", Set: "m10", Number: "146", USD: 2.5, USDFoil: 9, Finishes: []string{"nonfoil", "foil"}, Hash: make([]byte, 32)},
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
	n, err := s.ImportCatalog(ctx, seqOf(testCatalog, nil), func(int) { calls++ })
	if err != nil || n != 3 || calls != 3 {
		t.Fatalf("import: %d, %v, %d progress calls", n, err, calls)
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
