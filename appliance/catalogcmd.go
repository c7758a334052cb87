package appliance

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // reference images and photos
	_ "image/png"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/cardfeed/recog"
)

const catalogUsage = `usage:
  tinkerbox catalog import FILE.json|FILE.csv [--images DIR]
  tinkerbox catalog identify IMAGE...`

// Catalog runs `tinkerbox catalog import|identify`.
func Catalog(ctx context.Context, o Options, args []string) error {
	if len(args) == 0 {
		return UsageError{errors.New("catalog: " + catalogUsage)}
	}
	log := slog.New(slog.NewTextHandler(stderrOf(o), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sub, rest := args[0], args[1:]
	var files []string
	var imagesDir string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			files = append(files, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(rest) {
				return UsageError{fmt.Errorf("catalog: %s needs a value", a)}
			}
			i++
			val = rest[i]
		}
		switch name {
		case "images":
			imagesDir = val
		case "data":
			o.DataDir = val
		case "config":
			o.ConfigPath = val
		default:
			return UsageError{fmt.Errorf("catalog: unknown flag %s\n%s", a, catalogUsage)}
		}
	}
	cfg, err := loadConfig(&o, log)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.Appliance.DataDir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "import":
		if len(files) != 1 {
			return UsageError{errors.New("catalog: import takes one file\n" + catalogUsage)}
		}
		return catalogImport(ctx, st, files[0], imagesDir, stderrOf(o))
	case "identify":
		if len(files) == 0 {
			return UsageError{errors.New("catalog: identify needs at least one image\n" + catalogUsage)}
		}
		if imagesDir != "" {
			return UsageError{errors.New("catalog: --images is for import")}
		}
		out := o.Stdout
		if out == nil {
			out = os.Stdout
		}
		return catalogIdentify(ctx, st, files, out, stderrOf(o))
	}
	return UsageError{fmt.Errorf("catalog: unknown subcommand %q\n%s", sub, catalogUsage)}
}

// catalogImport streams FILE into the catalog in one transaction.
func catalogImport(ctx context.Context, st *store.Store, path, imagesDir string, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	bar := &progressBar{w: stderr, total: fi.Size()}
	r := &countingReader{r: f, bar: bar}
	var cards iter.Seq2[store.CatalogCard, error]
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		if imagesDir == "" {
			imagesDir = filepath.Dir(path)
		}
		cards = csvCards(r, path, imagesDir)
	} else {
		cards = scryfallCards(r, path, imagesDir)
	}
	n, err := st.ImportCatalog(ctx, cards, func(n int) { bar.cards = n })
	bar.finish()
	if err != nil {
		return err
	}
	all, hashed, err := st.CatalogSize(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "imported %d printings from %s; the catalog has %d, %d with reference hashes (recognisable)\n", n, path, all, hashed)
	return nil
}

// scryCard holds the fields of a Scryfall card object that the catalog keeps.
type scryCard struct {
	ID              string            `json:"id"`
	OracleID        string            `json:"oracle_id"`
	Name            string            `json:"name"`
	Set             string            `json:"set"`
	CollectorNumber string            `json:"collector_number"`
	Lang            string            `json:"lang"`
	Finishes        []string          `json:"finishes"`
	Prices          map[string]any    `json:"prices"`
	ImageURIs       map[string]string `json:"image_uris"`
	CardFaces       []struct {
		OracleID  string            `json:"oracle_id"`
		ImageURIs map[string]string `json:"image_uris"`
	} `json:"card_faces"`
}

// scryfallCards decodes Scryfall bulk data (a JSON array of card objects)
// one card at a time: memory stays flat however big the file is.
func scryfallCards(r io.Reader, path, imagesDir string) iter.Seq2[store.CatalogCard, error] {
	return func(yield func(store.CatalogCard, error) bool) {
		dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
		fail := func(err error) { yield(store.CatalogCard{}, jsonError(path, dec, err)) }
		tok, err := dec.Token()
		if err != nil {
			fail(err)
			return
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			yield(store.CatalogCard{}, fmt.Errorf("catalog: %s: byte 0: want a JSON array of cards (Scryfall bulk data), got %v", path, tok))
			return
		}
		for dec.More() {
			start := dec.InputOffset()
			var sc scryCard
			if err := dec.Decode(&sc); err != nil {
				fail(err)
				return
			}
			c, err := sc.catalogCard(imagesDir)
			if err != nil {
				yield(c, fmt.Errorf("catalog: %s: card at byte %d: %w", path, start, err))
				return
			}
			if !yield(c, nil) {
				return
			}
		}
		if _, err := dec.Token(); err != nil {
			fail(err)
		}
	}
}

// jsonError names the byte offset of a JSON error.
func jsonError(path string, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := dec.InputOffset()
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("catalog: %s: byte %d: the file ends in the middle of the JSON: %w", path, off, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("catalog: %s: byte %d: bad JSON: %w", path, off, err)
}

func (sc scryCard) catalogCard(imagesDir string) (store.CatalogCard, error) {
	c := store.CatalogCard{ID: sc.ID, OracleID: sc.OracleID, Name: sc.Name, Set: sc.Set, Number: sc.CollectorNumber,
		Lang: sc.Lang, Finishes: sc.Finishes}
	if c.ID == "" || c.Name == "" {
		return c, errors.New("no id or name")
	}
	// Double-faced cards keep the images (and the oracle id of reversible
	// cards) on their faces: the front face identifies the card.
	uris := sc.ImageURIs
	if len(uris) == 0 && len(sc.CardFaces) > 0 {
		uris = sc.CardFaces[0].ImageURIs
		if c.OracleID == "" {
			c.OracleID = sc.CardFaces[0].OracleID
		}
	}
	c.Image = uris["normal"]
	if c.Image == "" {
		c.Image = uris["large"]
	}
	var err error
	if c.USD, err = price(sc.Prices, "usd"); err != nil {
		return c, err
	}
	if c.USDFoil, err = price(sc.Prices, "usd_foil"); err != nil {
		return c, err
	}
	if c.EUR, err = price(sc.Prices, "eur"); err != nil {
		return c, err
	}
	if imagesDir != "" {
		for _, ext := range []string{".jpg", ".jpeg", ".png"} {
			p := filepath.Join(imagesDir, sc.ID+ext)
			if _, err := os.Stat(p); err == nil {
				if err := hashImage(&c, p); err != nil {
					return c, err
				}
				break
			}
		}
	}
	return c, nil
}

// price reads a Scryfall price: a decimal string, or null when unknown.
func price(prices map[string]any, key string) (float64, error) {
	v, ok := prices[key]
	if !ok || v == nil {
		return 0, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("prices.%s: want a string, got %v", key, v)
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || p < 0 {
		return 0, fmt.Errorf("prices.%s: %q is not a price", key, s)
	}
	return p, nil
}

func hashImage(c *store.CatalogCard, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("reference image %s: %w", path, err)
	}
	feat := recog.FromFace(img)
	c.Hash, c.Colour = feat.Hash.Bytes(), feat.Colour[:]
	if c.Image == "" || strings.HasPrefix(c.Image, "http") {
		c.Image = path
	}
	return nil
}

// csvCards reads a plain catalog: a header naming name, set, number, price
// and image (any order), then one printing per line.
func csvCards(r io.Reader, path, imagesDir string) iter.Seq2[store.CatalogCard, error] {
	return func(yield func(store.CatalogCard, error) bool) {
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		head, err := cr.Read()
		if err != nil {
			yield(store.CatalogCard{}, fmt.Errorf("catalog: %s: header: %w", path, err))
			return
		}
		col := map[string]int{}
		for i, h := range head {
			col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
		}
		for _, need := range []string{"name", "set", "number"} {
			if _, ok := col[need]; !ok {
				yield(store.CatalogCard{}, fmt.Errorf("catalog: %s: line 1: no %q column (want name,set,number,price,image)", path, need))
				return
			}
		}
		get := func(rec []string, k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(store.CatalogCard{}, fmt.Errorf("catalog: %s: %w", path, err))
				return
			}
			line, _ := cr.FieldPos(0)
			c := store.CatalogCard{Name: get(rec, "name"), Set: strings.ToLower(get(rec, "set")), Number: get(rec, "number"), Lang: "en"}
			c.ID = c.Set + "-" + c.Number
			if c.Name == "" || c.Set == "" || c.Number == "" {
				yield(c, fmt.Errorf("catalog: %s: line %d: name, set and number are required", path, line))
				return
			}
			if p := get(rec, "price"); p != "" {
				v, err := strconv.ParseFloat(strings.TrimPrefix(p, "$"), 64)
				if err != nil || v < 0 {
					yield(c, fmt.Errorf("catalog: %s: line %d: price %q is not a number", path, line, p))
					return
				}
				c.USD = v
			}
			if im := get(rec, "image"); im != "" {
				if !filepath.IsAbs(im) {
					im = filepath.Join(imagesDir, im)
				}
				if err := hashImage(&c, im); err != nil {
					yield(c, fmt.Errorf("catalog: %s: line %d: %w", path, line, err))
					return
				}
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// countingReader feeds the progress bar.
type countingReader struct {
	r   io.Reader
	bar *progressBar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.bar.add(int64(n))
	return n, err
}

// progressBar draws "[#####.....]  50%  1234 cards" on stderr, redrawn
// only when the percentage changes.
type progressBar struct {
	w     io.Writer
	total int64
	done  int64
	cards int
	shown int
	drawn bool
}

func (b *progressBar) add(n int64) {
	b.done += n
	if b.total <= 0 {
		return
	}
	pct := int(b.done * 100 / b.total)
	if pct != b.shown || !b.drawn {
		b.shown, b.drawn = pct, true
		b.draw()
	}
}

func (b *progressBar) draw() {
	const width = 30
	fill := min(width, b.shown*width/100)
	fmt.Fprintf(b.w, "\r[%s%s] %3d%%  %d cards", strings.Repeat("#", fill), strings.Repeat(".", width-fill), b.shown, b.cards)
}

func (b *progressBar) finish() {
	if b.drawn {
		b.draw()
		fmt.Fprintln(b.w)
	}
}

// identifyLine is the JSON line `catalog identify` prints per image.
type identifyLine struct {
	Image      string  `json:"image"`
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Set        string  `json:"set"`
	Number     string  `json:"number"`
	Confidence float64 `json:"confidence"`
	Printing   float64 `json:"printing_confidence"`
	Accepted   bool    `json:"accepted"`
	Reason     string  `json:"reason,omitempty"`
	Error      string  `json:"error,omitempty"`
}

func catalogIdentify(ctx context.Context, st *store.Store, files []string, out, stderr io.Writer) error {
	idx, source, err := loadIndex(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "catalog: %d printings (%s)\n", idx.Len(), source)
	enc := json.NewEncoder(out)
	failed := 0
	for _, p := range files {
		line := identifyLine{Image: p}
		m, err := identifyFile(idx, p)
		if err != nil {
			line.Error = err.Error()
			failed++
		} else {
			line.ID, line.Name, line.Set, line.Number = m.ID, m.Name, m.Set, m.Number
			line.Confidence, line.Printing, line.Accepted, line.Reason = m.NameConfidence, m.PrintingConfidence, m.Accepted, m.Reason
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("catalog: %d of %d images could not be identified (see the error fields)", failed, len(files))
	}
	return nil
}

func identifyFile(idx *recog.Index, path string) (recog.Match, error) {
	f, err := os.Open(path)
	if err != nil {
		return recog.Match{}, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return recog.Match{}, fmt.Errorf("%s: %w", path, err)
	}
	return idx.Identify(img)
}
