package appliance

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"tinkerbox/appliance/store"
	"tinkerbox/images/imgdecode"
	"tinkerbox/scenes/cardfeed/recog"
	"tinkerbox/scenes/scene"
)

const catalogUsage = `usage:
  tinkerbox catalog import FILE.json|FILE.csv [--images DIR]
  tinkerbox catalog images [--dir DIR] [--rate N] [--no-hash]
  tinkerbox catalog export-hashes FILE
  tinkerbox catalog import-hashes FILE
  tinkerbox catalog identify IMAGE...
flags may come before or after the files; -- ends the flags.
every subcommand takes --config FILE, --sim and --data DIR, the ` + DataDirHelp + `
(the same rule as tinkerbox run)`

// catalogFlags are the flags of every catalog subcommand.
type catalogFlags struct {
	files     []string
	imagesDir string // import --images
	dir       string // images --dir
	rate      float64
	noHash    bool
	set       map[string]bool
}

func parseCatalogFlags(o *Options, rest []string) (catalogFlags, error) {
	f := catalogFlags{rate: maxImageRate, set: map[string]bool{}}
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			f.files = append(f.files, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			f.files = append(f.files, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "h", "help":
			return f, flag.ErrHelp
		case "sim", "no-hash": // booleans
			b := true
			if hasVal {
				var err error
				if b, err = strconv.ParseBool(val); err != nil {
					return f, UsageError{fmt.Errorf("catalog: %s: want true or false", a)}
				}
			}
			if name == "sim" {
				o.Sim = b
			} else {
				f.noHash = b
			}
			f.set[name] = true
			continue
		}
		if !hasVal {
			if i+1 >= len(rest) {
				return f, UsageError{fmt.Errorf("catalog: %s needs a value", a)}
			}
			i++
			val = rest[i]
		}
		switch name {
		case "images":
			f.imagesDir = val
		case "dir":
			f.dir = val
		case "rate":
			r, err := strconv.ParseFloat(val, 64)
			if err != nil || !(r > 0) {
				return f, UsageError{fmt.Errorf("catalog: --rate %q: want requests per second, above 0", val)}
			}
			if r > maxImageRate {
				return f, UsageError{fmt.Errorf("catalog: --rate %g: Scryfall allows at most %d requests per second", r, maxImageRate)}
			}
			f.rate = r
		case "data":
			o.DataDir = val
		case "config":
			o.ConfigPath = val
		default:
			return f, UsageError{fmt.Errorf("catalog: unknown flag %s\n%s", a, catalogUsage)}
		}
		f.set[name] = true
	}
	return f, nil
}

// only refuses the flags that subcommand sub does not take.
func (f catalogFlags) only(sub string, allowed ...string) error {
	for name := range f.set {
		switch name {
		case "data", "config", "sim":
			continue
		}
		if !slices.Contains(allowed, name) {
			return UsageError{fmt.Errorf("catalog: %s does not take --%s\n%s", sub, name, catalogUsage)}
		}
	}
	return nil
}

// Catalog runs `tinkerbox catalog import|images|export-hashes|import-hashes|identify`.
func Catalog(ctx context.Context, o Options, args []string) (err error) {
	if len(args) == 0 {
		return UsageError{errors.New("catalog: " + catalogUsage)}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The appliance's soft heap limit: a photo's decode and the
		// recogniser's working copies are garbage before the next photo.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	}
	log := slog.New(slog.NewTextHandler(stderrOf(o), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sub, rest := args[0], args[1:]
	fl, err := parseCatalogFlags(&o, rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderrOf(o), catalogUsage)
		return err
	}
	if err != nil {
		return err
	}
	var check error
	switch sub {
	case "import":
		check = fl.only(sub, "images")
		if check == nil && len(fl.files) != 1 {
			check = UsageError{errors.New("catalog: import takes one file\n" + catalogUsage)}
		}
	case "images":
		check = fl.only(sub, "dir", "rate", "no-hash")
		if check == nil && len(fl.files) != 0 {
			check = UsageError{fmt.Errorf("catalog: images takes no file (got %q)\n%s", fl.files[0], catalogUsage)}
		}
	case "export-hashes", "import-hashes":
		check = fl.only(sub)
		if check == nil && len(fl.files) != 1 {
			check = UsageError{fmt.Errorf("catalog: %s takes one file\n%s", sub, catalogUsage)}
		}
	case "identify":
		check = fl.only(sub)
		if check == nil && len(fl.files) == 0 {
			check = UsageError{errors.New("catalog: identify needs at least one image\n" + catalogUsage)}
		}
	default:
		return UsageError{fmt.Errorf("catalog: unknown subcommand %q\n%s", sub, catalogUsage)}
	}
	if check != nil {
		return check
	}
	cfg, err := loadConfig(&o, log)
	if err != nil {
		return err
	}
	dataDir := cfg.Appliance.DataDir
	stderr := stderrOf(o)
	if err := checkDataDir(dataDir, o.dataWhy); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if giveBack := dataOwner(dataDir); giveBack != nil {
		// Before the store opens, so it runs after the store has closed.
		defer func() {
			n, gerr := giveBack()
			if n > 0 {
				fmt.Fprintf(stderr, "catalog: gave %d files back to the owner of %s, so the appliance can write them\n", n, dataDir)
			}
			err = errors.Join(err, gerr)
		}()
	}
	fmt.Fprintf(stderr, "catalog: data dir %s (database %s; from %s)\n", dataDir, filepath.Join(dataDir, store.FileName), o.dataWhy)
	st, err := store.Open(ctx, dataDir, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "import":
		return catalogImport(ctx, st, fl.files[0], fl.imagesDir, stderr)
	case "images":
		dir := fl.dir
		if dir == "" {
			dir = filepath.Join(dataDir, "card-images")
		}
		clk := o.Clock
		if clk == nil {
			clk = scene.SystemClock{}
		}
		opts := defaultImagesOpts(o.Version)
		opts.Dir, opts.Rate, opts.NoHash, opts.Clock, opts.Stderr = dir, fl.rate, fl.noHash, clk, stderr
		_, err := catalogImages(ctx, st, opts)
		return err
	case "export-hashes":
		return exportHashes(ctx, st, fl.files[0], o.Version, stderr)
	case "import-hashes":
		return importHashes(ctx, st, fl.files[0], stderr)
	}
	out := o.Stdout
	if out == nil {
		out = os.Stdout
	}
	return catalogIdentify(ctx, st, fl.files, out, stderr)
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
	res, err := st.ImportCatalog(ctx, cards, func(n int) { bar.cards = n })
	bar.finish()
	if err != nil {
		return err
	}
	kept := ""
	if res.Kept > 0 {
		kept = fmt.Sprintf("; kept the existing hashes of %d printings the file has none for", res.Kept)
	}
	fmt.Fprintf(stderr, "imported %d printings from %s (%d new%s)\n", res.Cards, path, res.New, kept)
	return catalogSummary(ctx, st, stderr)
}

// catalogSummary prints the size of the catalog, and what needs hashing
// again.
func catalogSummary(ctx context.Context, st *store.Store, stderr io.Writer) error {
	all, usable, stale, err := catalogStatus(ctx, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "the catalog has %d printings, %d with reference hashes (recognisable)\n", all, usable)
	if stale > 0 {
		fmt.Fprintf(stderr, "%d printings have hashes from an older recogniser: run `tinkerbox catalog images` (or import --images) to hash them again\n", stale)
	}
	return nil
}

// catalogStatus counts the printings, those the current recogniser can
// use, and those hashed by another recogniser version.
func catalogStatus(ctx context.Context, st *store.Store) (all, usable, stale int, err error) {
	for c, err := range st.CatalogImages(ctx) {
		if err != nil {
			return 0, 0, 0, err
		}
		all++
		if c.Features == nil {
			continue
		}
		if _, err := recog.DecodeFeatures(c.Features); err != nil {
			stale++
		} else {
			usable++
		}
	}
	legacy, err := st.CatalogLegacy(ctx)
	return all, usable, stale + legacy, err
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

// Import limits: a line or card far beyond any real one is a broken or
// hostile file, refused before it is held whole (a 1 GB file without a
// newline once went into memory in one piece).
const (
	maxCSVRecord = 64 << 10 // bytes of one CSV record (a real one: under 200)
	maxJSONCard  = 1 << 20  // bytes of one Scryfall card object (real ones: 2 to 30 KB)
	maxName      = 200      // characters of a card name (the longest printed: 141)
	maxField     = 64       // bytes of an id, set, collector number, language or finish
	maxFinishes  = 16
	maxImageRef  = 4096 // bytes of an image path or URL
	maxPrice     = 1e9  // in the catalog's currency: more is a typo or garbage
	kib          = 1024 // for messages
)

// scryfallCards decodes Scryfall bulk data (a JSON array of card objects)
// one card at a time: memory stays flat however big the file is, and no
// card may take more than maxJSONCard bytes of it.
func scryfallCards(r io.Reader, path, imagesDir string) iter.Seq2[store.CatalogCard, error] {
	return func(yield func(store.CatalogCard, error) bool) {
		br := &budgetReader{r: bufio.NewReaderSize(r, 1<<16), limit: maxJSONCard}
		dec := json.NewDecoder(br)
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
		for {
			// The decoder buffers a whole value before it decodes it: the
			// budget starts again at each card.
			br.limit = dec.InputOffset() + maxJSONCard
			if !dec.More() {
				break
			}
			start := dec.InputOffset()
			var sc scryCard
			if err := dec.Decode(&sc); err != nil {
				fail(err)
				return
			}
			c, err := sc.catalogCard(imagesDir)
			if err != nil {
				what := "card"
				if sc.Name != "" && len(sc.Name) <= maxName && validText(sc.Name) {
					what = fmt.Sprintf("card %q", sc.Name)
				}
				yield(c, fmt.Errorf("catalog: %s: %s at byte %d: %w", path, what, start, err))
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

// errCardTooBig stops a JSON card that is larger than maxJSONCard.
var errCardTooBig = fmt.Errorf("a card is larger than %d KiB (Scryfall's are a few KiB)", maxJSONCard/kib)

// budgetReader gives out no more than limit bytes in all; scryfallCards
// moves the limit on at every card.
type budgetReader struct {
	r           io.Reader
	read, limit int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	left := b.limit - b.read
	if left <= 0 {
		return 0, errCardTooBig
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

// jsonError names the byte offset of a JSON error.
func jsonError(path string, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := dec.InputOffset()
	switch {
	case errors.Is(err, errCardTooBig):
		return fmt.Errorf("catalog: %s: byte %d: %w", path, off, err)
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
	if strings.ContainsAny(c.ID, `/\`) || c.ID == "." || c.ID == ".." {
		return c, fmt.Errorf("id %q is not a file name (the reference image is <id>.jpg)", c.ID)
	}
	if err := checkFields(c.Name, map[string]string{"id": c.ID, "oracle_id": c.OracleID, "set": c.Set,
		"collector_number": c.Number, "lang": c.Lang}); err != nil {
		return c, err
	}
	if len(c.Finishes) > maxFinishes {
		return c, fmt.Errorf("finishes: %d of them, at most %d", len(c.Finishes), maxFinishes)
	}
	for _, f := range c.Finishes {
		if err := checkField("finishes", f, maxField); err != nil {
			return c, err
		}
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
	if err := checkField("image_uris", c.Image, maxImageRef); err != nil {
		return c, err
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
	p, err := parsePrice(s)
	if err != nil {
		return 0, fmt.Errorf("prices.%s: %w", key, err)
	}
	return p, nil
}

// parsePrice reads a price: a finite amount from 0 to maxPrice. NaN and
// Inf parse as floats, and once stored they broke the search and the
// export; an import is refused at the first bad price, naming the card,
// so the maker fixes the file (Scryfall's own files never have one).
func parsePrice(s string) (float64, error) {
	if len(s) > maxField {
		return 0, fmt.Errorf("%d bytes is not a price", len(s))
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(p) || math.IsInf(p, 0) || p < 0 || p > maxPrice {
		return 0, fmt.Errorf("%q is not a price (want an amount from 0 to %g)", s, float64(maxPrice))
	}
	return p, nil
}

// checkFields checks a card's name and its short fields.
func checkFields(name string, short map[string]string) error {
	if n := utf8.RuneCountInString(name); n > maxName {
		return fmt.Errorf("name: %d characters, at most %d", n, maxName)
	}
	if err := checkField("name", name, 4*maxName); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(short)) {
		if err := checkField(k, short[k], maxField); err != nil {
			return err
		}
	}
	return nil
}

// checkField refuses a field longer than max bytes, not UTF-8, or with
// control characters (a NUL in a name is a broken file, not a card).
func checkField(key, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%s: %d bytes, at most %d", key, len(v), max)
	}
	if !validText(v) {
		return fmt.Errorf("%s: %q is not UTF-8 text without control characters", key, v)
	}
	return nil
}

func validText(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func hashImage(c *store.CatalogCard, path string) error {
	img, err := imgdecode.ReadFile(path, imgdecode.Photo())
	if err != nil {
		return fmt.Errorf("reference image: %w", err)
	}
	c.Features = recog.FromFace(img).Encode()
	if c.Image == "" || strings.HasPrefix(c.Image, "http") {
		c.Image = path
	}
	return nil
}

// csvCards reads a plain catalog: a header naming name, set, number, price
// and image (any order), then one printing per line.
func csvCards(r io.Reader, path, imagesDir string) iter.Seq2[store.CatalogCard, error] {
	return func(yield func(store.CatalogCard, error) bool) {
		lim := &recordLimiter{r: r, max: maxCSVRecord, line: 1, start: 1}
		cr := csv.NewReader(lim)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true
		readErr := func(err error) error {
			var long *recordTooLong
			if errors.As(err, &long) {
				return fmt.Errorf("catalog: %s: line %d: a record longer than %d KiB (a CSV catalog has one printing a line)", path, long.line, maxCSVRecord/kib)
			}
			return fmt.Errorf("catalog: %s: %w", path, err)
		}
		head, err := cr.Read()
		if err != nil {
			if !errors.Is(err, errRecordTooLong) {
				err = fmt.Errorf("header: %w", err)
			}
			yield(store.CatalogCard{}, readErr(err))
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
				yield(store.CatalogCard{}, readErr(err))
				return
			}
			line, _ := cr.FieldPos(0)
			c := store.CatalogCard{Name: get(rec, "name"), Set: strings.ToLower(get(rec, "set")), Number: get(rec, "number"), Lang: "en"}
			c.ID = c.Set + "-" + c.Number
			if c.Name == "" || c.Set == "" || c.Number == "" {
				yield(c, fmt.Errorf("catalog: %s: line %d: name, set and number are required", path, line))
				return
			}
			if err := checkFields(c.Name, map[string]string{"set": c.Set, "number": c.Number}); err != nil {
				c.Name = ""
				yield(c, fmt.Errorf("catalog: %s: line %d: %w", path, line, err))
				return
			}
			if p := get(rec, "price"); p != "" {
				v, err := parsePrice(strings.TrimPrefix(p, "$"))
				if err != nil {
					yield(c, fmt.Errorf("catalog: %s: line %d (%s): price: %w", path, line, c.Name, err))
					return
				}
				c.USD = v
			}
			if im := get(rec, "image"); im != "" {
				if err := checkField("image", im, maxImageRef); err != nil {
					yield(c, fmt.Errorf("catalog: %s: line %d: %w", path, line, err))
					return
				}
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

// recordLimiter refuses a CSV record (a line, or several inside quotes)
// longer than max bytes before csv.Reader holds it: that reader keeps a
// whole record in memory, however long.
type recordLimiter struct {
	r      io.Reader
	max    int
	n      int // bytes of the record so far
	quoted bool
	line   int // the line being read, from 1
	start  int // the line the record started on
}

// errRecordTooLong is matched by a *recordTooLong.
var errRecordTooLong = errors.New("record too long")

type recordTooLong struct{ line int }

func (e *recordTooLong) Error() string        { return fmt.Sprintf("line %d: %v", e.line, errRecordTooLong) }
func (e *recordTooLong) Is(target error) bool { return target == errRecordTooLong }

func (l *recordLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		l.n++
		if l.n > l.max {
			return i, &recordTooLong{line: l.start}
		}
		switch c {
		case '"': // "" inside a quoted field toggles twice: still quoted
			l.quoted = !l.quoted
		case '\n':
			l.line++
			if !l.quoted {
				l.n, l.start = 0, l.line
			}
		}
	}
	return n, err
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
	img, err := imgdecode.ReadFile(path, imgdecode.Photo())
	if err != nil {
		return recog.Match{}, err
	}
	return idx.Identify(img)
}
