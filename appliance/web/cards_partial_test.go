package web

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"net/http"
	"strings"
	"testing"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/cardfeed"
)

// An update never clears what it does not name; a body that names nothing
// (empty, null, {}, only unknown fields) is a 400 and changes nothing.
func TestCardsRulesPartialUpdate(t *testing.T) {
	f, _, feed := cardsFixture(t, nil)
	post := func(body string) int {
		t.Helper()
		return f.do(basic(req("POST", "/api/cards/rules", body))).Code
	}
	if c := post(`{"deck":"4 Lightning Bolt","threshold":5}`); c != http.StatusOK {
		t.Fatalf("set rules: %d", c)
	}
	for _, body := range []string{"", "null", " null ", "{}", `{"treshold":1}`, `{"deck":null,"threshold":null}`} {
		if c := post(body); c != http.StatusBadRequest {
			t.Errorf("body %q: %d, want 400", body, c)
		}
		if !feed.rules.Deck["lightning bolt"] || feed.rules.Threshold != 5 {
			t.Fatalf("body %q changed the rules: %+v", body, feed.rules)
		}
	}
	if c := post(`{"threshold":2}`); c != http.StatusOK || !feed.rules.Deck["lightning bolt"] || feed.rules.Threshold != 2 {
		t.Fatalf("threshold only: %d %+v", c, feed.rules)
	}
	if c := post(`{"deck":"1 Sol Ring"}`); c != http.StatusOK || !feed.rules.Deck["sol ring"] || feed.rules.Deck["lightning bolt"] || feed.rules.Threshold != 2 {
		t.Fatalf("deck only: %d %+v", c, feed.rules)
	}
	if c := post(`{"deck":""}`); c != http.StatusOK || len(feed.rules.Deck) != 0 || feed.rules.Threshold != 2 {
		t.Fatalf("clear deck: %d %+v", c, feed.rules)
	}
	if c := post(`{"threshold":0}`); c != http.StatusOK || feed.rules.Threshold != 0 {
		t.Fatalf("threshold 0 (named) disables the value bin: %d %+v", c, feed.rules)
	}
	if c := post(`{"threshold":1e9}`); c != http.StatusBadRequest || feed.rules.Threshold != 0 {
		t.Fatalf("huge threshold: %d %+v", c, feed.rules)
	}
}

// The other POST handlers refuse a body that names nothing, too.
func TestCardsPostsRefuseEmptyBodies(t *testing.T) {
	f, st, _ := cardsFixture(t, &fakeCardSim{})
	for _, path := range []string{"/api/cards/correct", "/api/cards/sim"} {
		for _, body := range []string{"", "null", "{}"} {
			if w := f.do(basic(req("POST", path, body))); w.Code != http.StatusBadRequest {
				t.Errorf("%s %q: %d, want 400", path, body, w.Code)
			}
		}
	}
	if w := f.do(basic(req("POST", "/api/cards/correct", `{"card":"a"}`))); w.Code != http.StatusBadRequest {
		t.Errorf("correct without scan: %d", w.Code)
	}
	if len(st.corrected) != 0 {
		t.Fatalf("corrections made from empty bodies: %v", st.corrected)
	}
}

// badPriceStore answers with prices no JSON can hold.
type badPriceStore struct{ fakeCardStore }

func (b *badPriceStore) RecentScans(ctx context.Context, n int) ([]cardfeed.Scan, error) {
	return []cardfeed.Scan{{ID: 1, CardID: "x", Price: math.Inf(1)}, {ID: 2, CardID: "y", Price: math.NaN()}}, nil
}

func (b *badPriceStore) Collection(ctx context.Context) ([]store.OwnedCard, error) {
	return []store.OwnedCard{{CardID: "x", Name: "Big", Finish: "nonfoil", Qty: 2, Price: math.Inf(1)},
		{CardID: "y", Name: "Odd", Finish: "nonfoil", Qty: 1, Price: math.NaN()},
		{CardID: "z", Name: "Ok", Finish: "nonfoil", Qty: 1, Price: 3}}, nil
}

func (b *badPriceStore) SearchCatalog(ctx context.Context, q string, n int) ([]store.CatalogCard, error) {
	return []store.CatalogCard{{ID: "x", Name: "Big", USD: math.Inf(1)}, {ID: "y", Name: "Neg", USD: -2}}, nil
}

func (b *badPriceStore) CorrectScan(ctx context.Context, id int64, card string) (cardfeed.Scan, error) {
	return cardfeed.Scan{ID: id, CardID: card, Price: math.Inf(-1), Accepted: true}, nil
}

// A bad price from the store is an unknown price on every page and export,
// never a 500 and never "+Inf".
func TestCardsBadPricesServeAsUnknown(t *testing.T) {
	f := newFixture(t)
	f.srv.MountCards(&fakeFeed{}, &badPriceStore{}, nil, func(string) image.Image { return nil }, "")
	for _, path := range []string{"/api/cards", "/api/cards/search?q=big", "/api/cards/export.csv?format=moxfield",
		"/api/cards/export.csv?format=deckbox", "/api/cards/export.csv?format=tcgplayer"} {
		w := f.do(basic(req("GET", path, "")))
		body := w.Body.String()
		if w.Code != http.StatusOK || strings.Contains(body, "Inf") || strings.Contains(body, "NaN") || strings.Contains(body, "-2") {
			t.Errorf("%s: %d %s", path, w.Code, body)
		}
		if path == "/api/cards" {
			var got cardsJSON
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.TotalValue != 3 || got.Cards != 4 {
				t.Errorf("cards: %+v %v", got, err)
			}
		}
	}
	if w := f.do(basic(req("POST", "/api/cards/correct", `{"scan":1,"card":"x"}`))); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"price":0`) {
		t.Errorf("correct: %d %s", w.Code, w.Body)
	}
}
