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

// StartStack implements CardStackFeed.
func (f *fakeFeed) StartStack(n int) error {
	f.commands = append(f.commands, fmt.Sprint("start:", n))
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

// plainFeed is a feeder that cannot take a stack count.
type plainFeed struct{ inner *fakeFeed }

func (p plainFeed) Status() cardfeed.Status { return p.inner.Status() }
func (p plainFeed) UpdateRules(c func(cardfeed.Rules) cardfeed.Rules) cardfeed.Rules {
	return p.inner.UpdateRules(c)
}
func (p plainFeed) Command(name string) error { return p.inner.Command(name) }

// TestCardsFeedStack: "stack" on a start is the number of cards loaded, a
// positive integer up to 10000; anything else is a 400 and reaches
// nothing; without it the start is today's.
func TestCardsFeedStack(t *testing.T) {
	f, _, feed := cardsFixture(t, nil)
	f.app.SwitchScene("cardfeed")
	for _, bad := range []string{
		`{"action":"start","stack":0}`, `{"action":"start","stack":-1}`, `{"action":"start","stack":10001}`,
		`{"action":"start","stack":2.5}`, `{"action":"start","stack":"60"}`, `{"action":"start","stack":true}`,
		`{"action":"start","stack":1e9}`, `{"action":"stop","stack":60}`,
	} {
		if w := f.do(basic(req("POST", "/api/cards/feed", bad))); w.Code != http.StatusBadRequest {
			t.Errorf("feed %s = %d %s, want 400", bad, w.Code, w.Body)
		}
	}
	if len(feed.commands) != 0 {
		t.Fatalf("bad requests reached the feeder: %v", feed.commands)
	}
	for _, ok := range []string{`{"action":"start","stack":60}`, `{"action":"start","stack":1}`, `{"action":"start","stack":10000}`, `{"action":"start"}`, `{"action":"start","stack":null}`} {
		if w := f.do(basic(req("POST", "/api/cards/feed", ok))); w.Code != http.StatusAccepted {
			t.Errorf("feed %s = %d %s, want 202", ok, w.Code, w.Body)
		}
	}
	if got := strings.Join(feed.commands, ","); got != "start:60,start:1,start:10000,start,start" {
		t.Errorf("commands %s", got)
	}
	w := f.do(basic(req("POST", "/api/cards/feed", `{"action":"start","stack":60}`)))
	var out struct {
		Requested string `json:"requested"`
		Stack     int    `json:"stack"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Requested != "start" || out.Stack != 60 {
		t.Errorf("answer %s (%v)", w.Body, err)
	}

	// A feeder without the count: refused, plain starts still work.
	g := newFixture(t)
	g.app.SwitchScene("cardfeed")
	inner := &fakeFeed{}
	g.srv.MountCards(plainFeed{inner}, &fakeCardStore{}, nil, nil, "")
	if w := g.do(basic(req("POST", "/api/cards/feed", `{"action":"start","stack":60}`))); w.Code != http.StatusNotImplemented {
		t.Errorf("stack to a plain feeder = %d", w.Code)
	}
	if w := g.do(basic(req("POST", "/api/cards/feed", `{"action":"start"}`))); w.Code != http.StatusAccepted || strings.Join(inner.commands, ",") != "start" {
		t.Errorf("plain start = %d, commands %v", w.Code, inner.commands)
	}
}

// hopperSim is a simulated stack that knows its count.
type hopperSim struct{ n int }

func (h *hopperSim) Inject(a string) error {
	if a == "load" {
		h.n += 60
	}
	return nil
}
func (h *hopperSim) Hopper() int { return h.n }

// TestCardsSimLoadCount: loading the simulated stack answers with its
// count, for the page's stack field.
func TestCardsSimLoadCount(t *testing.T) {
	f, _, _ := cardsFixture(t, &hopperSim{n: 3})
	w := f.do(basic(req("POST", "/api/cards/sim", `{"action":"load"}`)))
	var out struct {
		Done  string `json:"done"`
		Stack *int   `json:"stack"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); w.Code != http.StatusOK || err != nil || out.Done != "load" || out.Stack == nil || *out.Stack != 63 {
		t.Fatalf("load = %d %s", w.Code, w.Body)
	}
	w = f.do(basic(req("POST", "/api/cards/sim", `{"action":"double"}`)))
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "stack") {
		t.Errorf("double = %d %s: no count but for load", w.Code, w.Body)
	}
	if page := f.do(basic(req("GET", "/cards", ""))).Body.String(); !strings.Contains(page, `id="cards-stack"`) {
		t.Error("the cards page has no stack field")
	}
}
