package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/cardfeed"
)

// CardFeed is the running card feeder (*cardfeed.Scene): live state and the
// sorting rules.
type CardFeed interface {
	Status() cardfeed.Status
	// UpdateRules applies change to the current rules atomically and
	// returns the result (a partial update never races another).
	UpdateRules(change func(cardfeed.Rules) cardfeed.Rules) cardfeed.Rules
	// Command sends "start" or "stop" to the scene loop: a command, which
	// another scene ignores, never a press of A.
	Command(name string) error
}

// CardStackFeed is a feeder that can be told how many cards the stack
// holds when it starts (the wiring's cardfeed rig): the scene compares that
// count with the cards it scans to tell double feeds.
type CardStackFeed interface {
	StartStack(cards int) error
}

// CardStore is the card data (*store.Store).
type CardStore interface {
	RecentScans(ctx context.Context, n int) ([]cardfeed.Scan, error)
	Collection(ctx context.Context) ([]store.OwnedCard, error)
	CorrectScan(ctx context.Context, id int64, cardID string) (cardfeed.Scan, error)
	SearchCatalog(ctx context.Context, q string, n int) ([]store.CatalogCard, error)
	CatalogSize(ctx context.Context) (all, hashed int, err error)
}

// CardSim is the simulated card stack; nil on hardware.
type CardSim interface {
	Inject(action string) error // "jam", "unjam", "double", "load"
}

// CardSimHopper is a simulated stack that knows how many cards its hopper
// holds: "load" answers with that count, for the page's stack field.
type CardSimHopper interface {
	Hopper() int
}

// CardFaces draws a catalog card's face for the page (demo cards), or
// returns nil when there is no picture.
type CardFaces func(id string) image.Image

// MountCards registers the card feeder page and API. feed, sim and faces
// may be nil; rejectDir holds the photos of rejected cards ("" = none).
func (s *Server) MountCards(feed CardFeed, st CardStore, sim CardSim, faces CardFaces, rejectDir string) {
	c := &cardHandlers{s: s, feed: feed, st: st, sim: sim, faces: faces, rejects: rejectDir}
	s.Handle("GET /cards", http.HandlerFunc(c.page))
	s.Handle("GET /api/cards", http.HandlerFunc(c.api))
	s.Handle("GET /api/cards/export.csv", http.HandlerFunc(c.export))
	s.Handle("GET /api/cards/search", http.HandlerFunc(c.search))
	s.Handle("GET /api/cards/face/{id}", http.HandlerFunc(c.face))
	s.Handle("POST /api/cards/correct", http.HandlerFunc(c.correct))
	s.Handle("POST /api/cards/rules", http.HandlerFunc(c.rules))
	s.Handle("POST /api/cards/sim", http.HandlerFunc(c.simAction))
	s.Handle("POST /api/cards/feed", http.HandlerFunc(c.feedAction))
	s.Handle("GET /api/cards/rejects/{name}", http.HandlerFunc(c.rejectPhoto))
}

type cardHandlers struct {
	s       *Server
	feed    CardFeed
	st      CardStore
	sim     CardSim
	faces   CardFaces
	rejects string
}

type cardsPage struct {
	Frame
	Scene    sceneInfo
	SimStack bool // the card stack is simulated: the page offers its faults
}

func (c *cardHandlers) page(w http.ResponseWriter, r *http.Request) {
	c.s.render(w, http.StatusOK, "cards.html", cardsPage{Frame: c.s.Frame(r, "cards"),
		Scene: c.s.sceneInfo(cardfeed.Name, "card feeder"), SimStack: c.sim != nil})
}

// scanJSON is a scan as the page shows it: the reject photo as a URL (never
// a path on the device) and the verdict in plain words.
type scanJSON struct {
	cardfeed.Scan
	Image   string `json:"image,omitempty"` // hides the scan's file path
	Photo   string `json:"photo,omitempty"`
	Verdict string `json:"verdict"`
}

// rejectName is the only file name a reject photo has (cardfeed's
// saveReject): anything else, ../ included, is refused.
var rejectName = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}\.[0-9]{3}\.jpg$`)

func (c *cardHandlers) scanOut(sc cardfeed.Scan) scanJSON {
	sc.Price = price(sc.Price)
	out := scanJSON{Scan: sc, Verdict: scanVerdict(sc)}
	if c.rejects != "" && sc.Image != "" {
		if base := filepath.Base(sc.Image); rejectName.MatchString(base) {
			out.Photo = "/api/cards/rejects/" + base
		}
	}
	return out
}

// scanVerdict says in plain words what the recogniser decided; its reasons
// ("differs in 78 of 512 bits") are for the log.
func scanVerdict(sc cardfeed.Scan) string {
	r := sc.Reason
	if sc.Accepted {
		if strings.HasPrefix(r, "printing uncertain") {
			return "Recognised; the exact printing is uncertain (several look alike)"
		}
		return "Recognised"
	}
	switch {
	case r == "empty catalog":
		return "Not recognised — the catalog is empty: import one first"
	case strings.HasPrefix(r, "unsure"):
		if sc.Name != "" {
			return "Not sure — it could be " + sc.Name + ", but another card looks almost as close"
		}
		return "Not sure — two catalog cards look almost alike"
	case strings.Contains(r, "colours differ"):
		if sc.Name != "" {
			return "Not recognised — it looks like " + sc.Name + ", but the colours do not match"
		}
		return "Not recognised — the colours match no catalog card"
	}
	return "Not recognised — no catalog card looks close enough"
}

// cardsJSON is GET /api/cards.
type cardsJSON struct {
	Feed       *cardfeed.Status  `json:"feed"` // null: the scene is not in this build's scene list
	Recent     []scanJSON        `json:"recent"`
	Collection []store.OwnedCard `json:"collection"`
	Cards      int               `json:"cards"`       // copies owned
	TotalValue float64           `json:"total_value"` // USD
	Catalog    struct {
		All    int `json:"all"`
		Hashed int `json:"recognisable"`
	} `json:"catalog"`
	Sim bool `json:"sim"`
}

func (c *cardHandlers) api(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var out cardsJSON
	var err error
	if c.feed != nil {
		st := c.feed.Status()
		out.Feed = &st
	}
	var recent []cardfeed.Scan
	if recent, err = c.st.RecentScans(ctx, 20); err == nil {
		if out.Collection, err = c.st.Collection(ctx); err == nil {
			out.Catalog.All, out.Catalog.Hashed, err = c.st.CatalogSize(ctx)
		}
	}
	if err != nil {
		c.s.log.Error("web: cards", "err", err)
		writeError(w, http.StatusInternalServerError, "the card database could not be read")
		return
	}
	for i := range out.Collection {
		o := &out.Collection[i]
		o.Price = price(o.Price)
		out.Cards += o.Qty
		out.TotalValue += float64(o.Qty) * o.Price
	}
	out.Recent = make([]scanJSON, len(recent))
	for i, sc := range recent {
		out.Recent[i] = c.scanOut(sc)
	}
	if out.Feed != nil {
		for i := range out.Feed.Recent {
			out.Feed.Recent[i].Price = price(out.Feed.Recent[i].Price)
			out.Feed.Recent[i].Image = "" // a path on the device
		}
	}
	out.TotalValue = math.Round(out.TotalValue*100) / 100
	out.Sim = c.sim != nil
	if out.Collection == nil {
		out.Collection = []store.OwnedCard{}
	}
	writeJSON(w, http.StatusOK, out)
}

// price is a price fit to serialise: the store refuses NaN, ±Inf and
// negative prices and reads bad stored ones as unknown, but one slipping
// through from another source must not turn a page into a 500 for good
// (encoding/json cannot write them): it is unknown (0).
func price(p float64) float64 {
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		return 0
	}
	return p
}

var conditionNames = map[string]string{
	"NM": "Near Mint", "LP": "Lightly Played", "MP": "Moderately Played", "HP": "Heavily Played", "DMG": "Damaged",
}

// CSV export formats: the columns each service's importer reads.
func exportRows(format string, cs []store.OwnedCard) ([][]string, error) {
	cond := func(c string) string {
		if n, ok := conditionNames[strings.ToUpper(c)]; ok {
			return n
		}
		return c
	}
	lang := func(l string) string {
		names := map[string]string{"en": "English", "de": "German", "fr": "French", "it": "Italian", "es": "Spanish",
			"pt": "Portuguese", "ja": "Japanese", "ko": "Korean", "ru": "Russian", "zhs": "Chinese Simplified", "zht": "Chinese Traditional"}
		if n, ok := names[l]; ok {
			return n
		}
		return l
	}
	priceText := func(p float64) string {
		if p = price(p); p == 0 {
			return ""
		}
		return strconv.FormatFloat(p, 'f', 2, 64)
	}
	var rows [][]string
	switch format {
	case "moxfield":
		rows = append(rows, []string{"Count", "Tradelist Count", "Name", "Edition", "Condition", "Language", "Foil", "Tags", "Last Modified", "Collector Number", "Alter", "Proxy", "Purchase Price"})
		for _, c := range cs {
			foil := ""
			if c.Finish != "nonfoil" {
				foil = c.Finish
			}
			rows = append(rows, []string{strconv.Itoa(c.Qty), "0", c.Name, c.Set, cond(c.Condition), lang(c.Lang), foil, "", "", c.Number, "False", "False", priceText(c.Price)})
		}
	case "deckbox":
		rows = append(rows, []string{"Count", "Tradelist Count", "Name", "Edition", "Card Number", "Condition", "Language", "Foil", "Signed", "Artist Proof", "Altered Art", "Misprint", "Promo", "Textless", "My Price"})
		for _, c := range cs {
			foil := ""
			if c.Finish != "nonfoil" {
				foil = "foil"
			}
			rows = append(rows, []string{strconv.Itoa(c.Qty), "0", c.Name, strings.ToUpper(c.Set), c.Number, cond(c.Condition), lang(c.Lang), foil, "", "", "", "", "", "", priceText(c.Price)})
		}
	case "tcgplayer":
		rows = append(rows, []string{"Quantity", "Name", "Set Code", "Card Number", "Printing", "Condition", "Language", "Price"})
		for _, c := range cs {
			printing := "Normal"
			if c.Finish != "nonfoil" {
				printing = "Foil"
			}
			rows = append(rows, []string{strconv.Itoa(c.Qty), c.Name, strings.ToUpper(c.Set), c.Number, printing, cond(c.Condition), lang(c.Lang), priceText(c.Price)})
		}
	default:
		return nil, fmt.Errorf("unknown format %q: want moxfield, deckbox or tcgplayer", format)
	}
	return rows, nil
}

func (c *cardHandlers) export(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "moxfield"
	}
	cs, err := c.st.Collection(r.Context())
	if err != nil {
		c.s.log.Error("web: cards export", "err", err)
		writeError(w, http.StatusInternalServerError, "the collection could not be read")
		return
	}
	rows, err := exportRows(format, cs)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.WriteAll(rows)
	if err := cw.Error(); err != nil {
		writeError(w, http.StatusInternalServerError, "csv: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="collection-%s.csv"`, format))
	w.Write(buf.Bytes())
}

// searchJSON is one catalog hit.
type searchJSON struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Set    string  `json:"set"`
	Number string  `json:"number"`
	Lang   string  `json:"lang"`
	Price  float64 `json:"price"`
}

func (c *cardHandlers) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) < 2 || len(q) > 100 {
		writeError(w, http.StatusBadRequest, "q: 2 to 100 characters")
		return
	}
	cs, err := c.st.SearchCatalog(r.Context(), q, 30)
	if err != nil {
		c.s.log.Error("web: cards search", "err", err)
		writeError(w, http.StatusInternalServerError, "the catalog could not be searched")
		return
	}
	out := []searchJSON{}
	for _, k := range cs {
		out = append(out, searchJSON{ID: k.ID, Name: k.Name, Set: k.Set, Number: k.Number, Lang: k.Lang, Price: price(k.USD)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *cardHandlers) face(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSuffix(r.PathValue("id"), ".png")
	var img image.Image
	if c.faces != nil && len(id) <= 100 {
		img = c.faces(id)
	}
	if img == nil {
		writeError(w, http.StatusNotFound, "no picture of this card")
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		writeError(w, http.StatusInternalServerError, "encode picture")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(buf.Bytes())
}

// errEmptyBody: an empty or null body names nothing to change; treating it
// as zero values once cleared the sorting rules.
var errEmptyBody = errors.New("empty body: send a JSON object naming what to change")

// decodeObject decodes a JSON object body into v (a pointer to a pointer
// to a struct): nil after an empty or `null` body is an error, so a
// handler never mistakes a missing body for zero values.
func decodeObject[T any](w http.ResponseWriter, r *http.Request) (*T, error) {
	var v *T
	if err := decodeBody(w, r, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errEmptyBody
	}
	return v, nil
}

func (c *cardHandlers) correct(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject[struct {
		Scan *int64  `json:"scan"`
		Card *string `json:"card"`
	}](w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.Scan == nil || *body.Scan <= 0 || body.Card == nil || *body.Card == "" {
		writeError(w, http.StatusBadRequest, "want {\"scan\": id, \"card\": catalog id}")
		return
	}
	sc, err := c.st.CorrectScan(r.Context(), *body.Scan, *body.Card)
	switch {
	case errors.Is(err, store.ErrNoCard):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		c.s.log.Error("web: cards correct", "err", err)
		writeError(w, http.StatusInternalServerError, "the correction could not be saved")
	default:
		writeJSON(w, http.StatusOK, c.scanOut(sc))
	}
}

// rules updates what the body names, and only that: {"threshold": 5}
// keeps the deck list, {"deck": ""} clears it.
func (c *cardHandlers) rules(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject[struct {
		Deck      *string  `json:"deck"`
		Threshold *float64 `json:"threshold"`
	}](w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if body.Deck == nil && body.Threshold == nil {
		writeError(w, http.StatusBadRequest, `nothing to change: send {"deck": "…"} and/or {"threshold": USD}`)
		return
	}
	if t := body.Threshold; t != nil && (*t < 0 || *t > 1e6 || math.IsNaN(*t)) {
		writeError(w, http.StatusBadRequest, "threshold: 0 to 1000000 USD")
		return
	}
	if c.feed == nil {
		writeError(w, http.StatusConflict, "the card feeder scene is not configured")
		return
	}
	var deck map[string]bool
	if body.Deck != nil {
		deck = cardfeed.ParseDeckList(*body.Deck) // parsed outside the feeder's lock
	}
	rules := c.feed.UpdateRules(func(r cardfeed.Rules) cardfeed.Rules {
		if body.Deck != nil {
			r.Deck = deck
		}
		if body.Threshold != nil {
			r.Threshold = *body.Threshold
		}
		return r
	})
	writeJSON(w, http.StatusOK, map[string]any{"deck_cards": len(rules.Deck), "threshold": rules.Threshold})
}

func (c *cardHandlers) simAction(w http.ResponseWriter, r *http.Request) {
	if c.sim == nil {
		writeError(w, http.StatusNotFound, "no simulator: these are real cards")
		return
	}
	body, err := decodeObject[struct {
		Action string `json:"action"`
	}](w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := c.sim.Inject(body.Action); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := map[string]any{"done": body.Action}
	if h, ok := c.sim.(CardSimHopper); ok && body.Action == "load" {
		// The simulator knows its count: the page offers it for Start, so
		// an injected double feed is caught.
		out["stack"] = h.Hopper()
	}
	writeJSON(w, http.StatusOK, out)
}

// feedAction starts or stops the feeder: {"action":"start"|"stop"}, only
// while the card feeder scene runs. A start may say how many cards the
// stack holds, {"action":"start","stack":60}, so the scene can tell double
// feeds; without it the scene does not count.
func (c *cardHandlers) feedAction(w http.ResponseWriter, r *http.Request) {
	body, err := decodeObject[struct {
		Action string `json:"action"`
		Stack  *int   `json:"stack"` // a fraction or a string fails to decode: 400
	}](w, r)
	if err != nil {
		writeBodyError(w, err)
		return
	}
	if body.Action != "start" && body.Action != "stop" {
		writeError(w, http.StatusBadRequest, `want {"action": "start"} or {"action": "stop"}`)
		return
	}
	if n := body.Stack; n != nil {
		if body.Action != "start" {
			writeError(w, http.StatusBadRequest, "stack: only with start")
			return
		}
		if *n < 1 || *n > cardfeed.MaxStack {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("stack: the number of cards in the stack, 1 to %d", cardfeed.MaxStack))
			return
		}
	}
	if c.feed == nil {
		writeError(w, http.StatusConflict, "the card feeder scene is not configured")
		return
	}
	if !c.s.requireScene(w, cardfeed.Name, "the card feeder") {
		return
	}
	out := map[string]any{"requested": body.Action}
	if body.Stack != nil {
		sf, ok := c.feed.(CardStackFeed)
		if !ok {
			writeError(w, http.StatusNotImplemented, "this feeder cannot take a stack count: start without one")
			return
		}
		err, out["stack"] = sf.StartStack(*body.Stack), *body.Stack
	} else {
		err = c.feed.Command(body.Action)
	}
	if err != nil {
		c.s.log.Warn("web: cards feed", "action", body.Action, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the appliance is busy: try again")
		return
	}
	writeJSON(w, http.StatusAccepted, out)
}

// rejectPhoto serves a rejected card's photo from the reject directory, by
// its exact file name only.
func (c *cardHandlers) rejectPhoto(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if c.rejects == "" || !rejectName.MatchString(name) {
		writeError(w, http.StatusNotFound, "no such photo")
		return
	}
	f, err := os.Open(filepath.Join(c.rejects, name))
	if err != nil {
		writeError(w, http.StatusNotFound, "no such photo (the oldest are removed to keep within the quota)")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "no such photo")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=86400") // a photo never changes
	http.ServeContent(w, r, "", st.ModTime(), f)
}
