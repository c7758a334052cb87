package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"strings"
	"testing"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/cardfeed"
)

type fakeCardStore struct {
	corrected []string
}

func (f *fakeCardStore) RecentScans(ctx context.Context, n int) ([]cardfeed.Scan, error) {
	return []cardfeed.Scan{{ID: 7, CardID: "demo-tbx-1", Name: "Iron Cog", Set: "tbx", Number: "1", Price: 1.5, Accepted: true, Bin: 3, NameConfidence: 0.9, PrintingConfidence: 1}}, nil
}

func (f *fakeCardStore) Collection(ctx context.Context) ([]store.OwnedCard, error) {
	return []store.OwnedCard{
		{CardID: "a", Name: "Lightning Bolt", Set: "m10", Number: "146", Finish: "nonfoil", Lang: "en", Condition: "NM", Qty: 3, Price: 2.5},
		{CardID: "b", Name: "Delver of Secrets // Insectile Aberration", Set: "isd", Number: "51", Finish: "foil", Lang: "ja", Condition: "LP", Qty: 1},
	}, nil
}

func (f *fakeCardStore) CorrectScan(ctx context.Context, id int64, card string) (cardfeed.Scan, error) {
	if card != "a" {
		return cardfeed.Scan{}, fmt.Errorf("%w: %q", store.ErrNoCard, card)
	}
	f.corrected = append(f.corrected, fmt.Sprint(id, card))
	return cardfeed.Scan{ID: id, CardID: card, Accepted: true}, nil
}

func (f *fakeCardStore) SearchCatalog(ctx context.Context, q string, n int) ([]store.CatalogCard, error) {
	return []store.CatalogCard{{ID: "a", Name: "Lightning Bolt", Set: "m10", Number: "146", Lang: "en", USD: 2.5}}, nil
}

func (f *fakeCardStore) CatalogSize(ctx context.Context) (int, int, error) { return 10, 8, nil }

type fakeFeed struct {
	rules    cardfeed.Rules
	commands []string
}

func (f *fakeFeed) Command(name string) error {
	f.commands = append(f.commands, name)
	return nil
}

func (f *fakeFeed) Status() cardfeed.Status {
	return cardfeed.Status{State: cardfeed.Jammed, Reason: "jam", Stats: cardfeed.Stats{Cards: 4, PerMinute: 61}}
}
func (f *fakeFeed) UpdateRules(change func(cardfeed.Rules) cardfeed.Rules) cardfeed.Rules {
	f.rules = change(f.rules)
	return f.rules
}

type fakeCardSim struct{ got []string }

func (f *fakeCardSim) Inject(a string) error {
	if a != "jam" {
		return fmt.Errorf("unknown action %q", a)
	}
	f.got = append(f.got, a)
	return nil
}

func cardsFixture(t *testing.T, sim CardSim) (*fixture, *fakeCardStore, *fakeFeed) {
	f := newFixture(t)
	st, feed := &fakeCardStore{}, &fakeFeed{}
	f.srv.MountCards(feed, st, sim, func(id string) image.Image {
		if id == "demo-tbx-1" {
			return image.NewRGBA(image.Rect(0, 0, 4, 4))
		}
		return nil
	}, t.TempDir())
	return f, st, feed
}

func TestCardsAPI(t *testing.T) {
	f, _, _ := cardsFixture(t, nil)
	if w := f.do(req("GET", "/api/cards", "")); w.Code != http.StatusUnauthorized {
		t.Fatalf("unauthenticated: %d", w.Code)
	}
	w := f.do(basic(req("GET", "/api/cards", "")))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/cards = %d %s", w.Code, w.Body)
	}
	var got cardsJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Cards != 4 || got.TotalValue != 7.5 || got.Feed == nil || got.Feed.State != cardfeed.Jammed || len(got.Recent) != 1 || got.Catalog.Hashed != 8 {
		t.Fatalf("body %+v", got)
	}
	if w := f.do(basic(req("GET", "/cards", ""))); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "cards.js") {
		t.Fatalf("page: %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/api/cards/face/demo-tbx-1.png", ""))); w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("face: %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/api/cards/face/nope.png", ""))); w.Code != http.StatusNotFound {
		t.Fatalf("missing face: %d", w.Code)
	}
}

func TestCardsExport(t *testing.T) {
	f, _, _ := cardsFixture(t, nil)
	for format, want := range map[string][]string{
		"moxfield":  {"Count", "3", "Lightning Bolt", "m10", "Near Mint", "English", "", "146", "2.50"},
		"deckbox":   {"Count", "3", "Lightning Bolt", "M10", "146", "Near Mint", "English", "", "2.50"},
		"tcgplayer": {"Quantity", "3", "Lightning Bolt", "M10", "146", "Normal", "Near Mint", "English", "2.50"},
	} {
		w := f.do(basic(req("GET", "/api/cards/export.csv?format="+format, "")))
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: %d", format, w.Code)
		}
		rows, err := csv.NewReader(w.Body).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("%s: %v %v", format, rows, err)
		}
		if rows[0][0] != want[0] {
			t.Errorf("%s header %v", format, rows[0])
		}
		line := strings.Join(rows[1], "|")
		for _, v := range want[1:] {
			if v != "" && !strings.Contains(line, v) {
				t.Errorf("%s: %q missing from %q", format, v, line)
			}
		}
		// The double-faced foil: full name kept, foil marked, no price.
		if dfc := strings.Join(rows[2], "|"); !strings.Contains(dfc, "Delver of Secrets // Insectile Aberration") || !strings.Contains(strings.ToLower(dfc), "foil") || !strings.Contains(dfc, "Japanese") {
			t.Errorf("%s: double-faced row %q", format, dfc)
		}
	}
	if w := f.do(basic(req("GET", "/api/cards/export.csv?format=excel", ""))); w.Code != http.StatusBadRequest {
		t.Fatalf("bad format: %d", w.Code)
	}
}

func TestCardsCorrectRulesSim(t *testing.T) {
	f, st, feed := cardsFixture(t, nil)
	if w := f.do(basic(req("POST", "/api/cards/correct", `{"scan":7,"card":"a"}`))); w.Code != http.StatusOK || len(st.corrected) != 1 {
		t.Fatalf("correct: %d %s", w.Code, w.Body)
	}
	if w := f.do(basic(req("POST", "/api/cards/correct", `{"scan":7,"card":"zz"}`))); w.Code != http.StatusNotFound {
		t.Fatalf("correct unknown: %d", w.Code)
	}
	if w := f.do(basic(req("POST", "/api/cards/correct", `{"scan":"x"}`))); w.Code != http.StatusBadRequest {
		t.Fatalf("correct bad body: %d", w.Code)
	}
	if w := f.do(basic(req("POST", "/api/cards/rules", `{"deck":"4 Lightning Bolt\n1 Sol Ring","threshold":5}`))); w.Code != http.StatusOK {
		t.Fatalf("rules: %d %s", w.Code, w.Body)
	}
	if !feed.rules.Deck["lightning bolt"] || feed.rules.Threshold != 5 {
		t.Fatalf("rules %+v", feed.rules)
	}
	if w := f.do(basic(req("POST", "/api/cards/rules", `{"threshold":-1}`))); w.Code != http.StatusBadRequest {
		t.Fatalf("negative threshold: %d", w.Code)
	}
	if w := f.do(basic(req("POST", "/api/cards/sim", `{"action":"jam"}`))); w.Code != http.StatusNotFound {
		t.Fatalf("sim on hardware: %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/api/cards/search?q=b", ""))); w.Code != http.StatusBadRequest {
		t.Fatalf("short search: %d", w.Code)
	}
	if w := f.do(basic(req("GET", "/api/cards/search?q=bolt", ""))); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"m10"`) {
		t.Fatalf("search: %d %s", w.Code, w.Body)
	}

	fs, _, _ := cardsFixture(t, &fakeCardSim{})
	if w := fs.do(basic(req("POST", "/api/cards/sim", `{"action":"jam"}`))); w.Code != http.StatusOK {
		t.Fatalf("sim jam: %d", w.Code)
	}
	if w := fs.do(basic(req("POST", "/api/cards/sim", `{"action":"explode"}`))); w.Code != http.StatusBadRequest {
		t.Fatalf("sim bad action: %d", w.Code)
	}
}
