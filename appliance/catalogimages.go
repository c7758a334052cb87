package appliance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/images/imgdecode"
	"tinkerbox/scenes/cardfeed/recog"
	"tinkerbox/scenes/scene"
)

// maxImageRate is Scryfall's limit for API clients: 10 requests per second
// at most. --rate may lower it, never raise it.
const maxImageRate = 10

// imagesOpts configure `catalog images`. Tests shorten the timeouts and
// inject the clock and the HTTP client.
type imagesOpts struct {
	Dir       string  // where <id>.jpg go
	Rate      float64 // requests per second; above maxImageRate means maxImageRate
	Conns     int     // concurrent downloads: 1 or 2
	NoHash    bool    // download only
	Hashers   int     // hashing goroutines
	UserAgent string
	Client    *http.Client
	Clock     scene.Clock // the limiter and backoff sleep on it
	Stderr    io.Writer

	Timeout  time.Duration // per request, until the body is read
	MaxBytes int64         // a larger body is refused
	Tries    int           // for 5xx, network errors and timeouts
	Tries429 int           // for 429 Too Many Requests
	Backoff  time.Duration // first wait after a failure; doubles each try
	MaxWait  time.Duration // cap on a backoff or a Retry-After

	// unlimited skips the rate limiter: benchmarks of the pipeline against
	// a local server only.
	unlimited bool
}

func defaultImagesOpts(version string) imagesOpts {
	if version == "" {
		version = "dev"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = 2, 2
	return imagesOpts{
		Rate:    maxImageRate,
		Conns:   2,
		Hashers: runtime.GOMAXPROCS(0),
		// Scryfall asks for a User-Agent that names the application.
		UserAgent: "tinkerbox/" + version + " (card sorter appliance; catalog reference images)",
		Client:    &http.Client{Transport: tr},
		Clock:     scene.SystemClock{},
		Stderr:    io.Discard,
		Timeout:   30 * time.Second,
		MaxBytes:  10 << 20,
		Tries:     4,
		Tries429:  8,
		Backoff:   time.Second,
		MaxWait:   5 * time.Minute,
	}
}

// imagesSummary is what `catalog images` did.
type imagesSummary struct {
	Downloaded, AlreadyThere, Failed, Hashed int
	NoImage                                  int // printings without an image URL or path
	PartialRemoved                           int // temporary files of an interrupted run
	Failures                                 []string
	Elapsed                                  time.Duration
	HashBusy                                 time.Duration // summed over the hashers
}

// maxFailuresShown is how many failure reasons the summary lists.
const maxFailuresShown = 5

// imageJob is one printing to download and/or hash.
type imageJob struct {
	id   string
	url  string // "" when path is an image already on disk
	path string
	hash bool
	// setImage: store path as the printing's image once done.
	setImage bool
	img      image.Image // decoded by the downloader
}

// catalogImages downloads the reference image of every printing that has
// none on disk into o.Dir (temporary file, fsync, rename: a file under its
// final name is complete, so a rerun skips it) and hashes what has no
// current features, on every core while the downloads go on.
func catalogImages(ctx context.Context, st *store.Store, o imagesOpts) (imagesSummary, error) {
	var sum imagesSummary
	if !(o.Rate > 0) || o.Rate > maxImageRate {
		o.Rate = maxImageRate
	}
	o.Conns = min(max(o.Conns, 1), 2)
	o.Hashers = max(o.Hashers, 1)
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return sum, fmt.Errorf("catalog: images: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sum, fmt.Errorf("catalog: images: %w", err)
	}

	// The plan is made first, so no read transaction stays open for the
	// hours the downloads take.
	var downloads, hashes []imageJob
	var relink []store.CatalogImage // on disk and hashed: only the path to store
	printings := 0
	for c, err := range st.CatalogImages(ctx) {
		if err != nil {
			return sum, err
		}
		printings++
		current := false
		if c.Features != nil {
			_, err := recog.DecodeFeatures(c.Features)
			current = err == nil
		}
		needHash := !current && !o.NoHash
		switch {
		case c.Image == "":
			sum.NoImage++
		case !isURL(c.Image): // imported with --images, or stored by an earlier run
			sum.AlreadyThere++
			if needHash {
				hashes = append(hashes, imageJob{id: c.ID, path: c.Image, hash: true})
			}
		default:
			dest := filepath.Join(dir, imageFileName(c.ID))
			switch err := os.Remove(dest + partSuffix); {
			case err == nil:
				sum.PartialRemoved++
			case !errors.Is(err, os.ErrNotExist):
				return sum, fmt.Errorf("catalog: images: %w", err)
			}
			if fi, err := os.Stat(dest); err == nil && fi.Mode().IsRegular() {
				sum.AlreadyThere++
				if needHash {
					hashes = append(hashes, imageJob{id: c.ID, path: dest, hash: true, setImage: true})
				} else {
					relink = append(relink, store.CatalogImage{ID: c.ID, Image: dest})
				}
				continue
			}
			downloads = append(downloads, imageJob{id: c.ID, url: c.Image, path: dest, hash: needHash, setImage: true})
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("catalog: images: %w", err)
	}
	if printings == 0 {
		return sum, errors.New("catalog: images: the catalog is empty: import a Scryfall bulk file first (tinkerbox catalog import default-cards.json)")
	}
	if sum.PartialRemoved > 0 {
		fmt.Fprintf(o.Stderr, "catalog: removed %d partial downloads of an interrupted run; fetching them again\n", sum.PartialRemoved)
	}
	fmt.Fprintf(o.Stderr, "catalog: %d images to download into %s, %d already there (%d of those to hash)\n",
		len(downloads), dir, sum.AlreadyThere, len(hashes))

	p := &imagePipeline{o: o, dir: dir, sum: &sum, st: st,
		lim: &limiter{clk: o.Clock, interval: time.Duration(float64(time.Second) / o.Rate)},
		bar: &rateBar{w: o.Stderr, clk: o.Clock, total: len(downloads) + len(hashes), start: o.Clock.Now()}}
	if o.unlimited {
		p.lim.interval = 0
	}
	start := o.Clock.Now()
	err = p.run(ctx, downloads, hashes, relink)
	sum.Elapsed = o.Clock.Now().Sub(start)
	p.bar.finish()
	printImagesSummary(o.Stderr, &sum, o.Hashers)
	if err != nil {
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintln(o.Stderr, "catalog: interrupted; files already complete are kept: run the same command again to continue")
		return sum, fmt.Errorf("catalog: images: %w", err)
	}
	return sum, catalogSummary(ctx, st, o.Stderr)
}

// partSuffix marks a download in progress; a file under the final name is
// complete.
const partSuffix = ".part"

// imageFileName is the file of a printing's image: its id (a UUID for
// Scryfall), with anything that could leave the directory replaced.
func imageFileName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0) {
			b[i] = '_'
		}
	}
	return string(b) + ".jpg"
}

func isURL(s string) bool { return strings.Contains(s, "://") }

// imagePipeline: a feeder and o.Conns downloaders → o.Hashers hashers → one
// writer that stores results in batches, one transaction each.
type imagePipeline struct {
	o   imagesOpts
	dir string
	st  *store.Store
	lim *limiter
	bar *rateBar

	mu  sync.Mutex
	sum *imagesSummary
}

func (p *imagePipeline) run(parent context.Context, downloads, hashes []imageJob, relink []store.CatalogImage) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	dl := make(chan imageJob)
	hq := make(chan imageJob, 2*p.o.Hashers)
	res := make(chan store.CatalogImage, 256)

	var producers sync.WaitGroup
	producers.Go(func() {
		defer close(dl)
		for _, j := range downloads {
			select {
			case dl <- j:
			case <-ctx.Done():
				return
			}
		}
	})
	producers.Go(func() {
		for _, j := range hashes {
			select {
			case hq <- j:
			case <-ctx.Done():
				return
			}
		}
	})
	f := &fetcher{o: &p.o, lim: p.lim}
	for range p.o.Conns {
		producers.Go(func() {
			for j := range dl {
				if err := p.download(ctx, f, j, hq, res); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	go func() { producers.Wait(); close(hq) }()
	// Hashers finish what reaches them, after a cancel too: at most a few
	// images per core, and the work is kept.
	var senders sync.WaitGroup
	for range p.o.Hashers {
		senders.Go(func() {
			for j := range hq {
				p.hash(j, res)
			}
		})
	}
	senders.Go(func() {
		for _, r := range relink {
			res <- r
		}
	})
	go func() { senders.Wait(); close(res) }()
	werr := p.write(ctx, res)
	if werr != nil {
		cancel(werr)
		for range res { // let the hashers finish
		}
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return werr
}

// download fetches one image, keeps it on disk and hands it on; only a
// local failure (the disk) is an error.
func (p *imagePipeline) download(ctx context.Context, f *fetcher, j imageJob, hq chan<- imageJob, res chan<- store.CatalogImage) error {
	img, body, err := f.fetch(ctx, j.url)
	if err != nil {
		if ctx.Err() != nil {
			return nil // not a failure: the rerun fetches it
		}
		p.fail(j.id, err.Error()+" ("+j.url+")")
		return nil
	}
	if err := writeFileSync(j.path, body); err != nil {
		return fmt.Errorf("catalog: images: %w", err)
	}
	p.mu.Lock()
	p.sum.Downloaded++
	p.mu.Unlock()
	if j.hash {
		j.img = img
		hq <- j
		return nil
	}
	res <- store.CatalogImage{ID: j.id, Image: j.path}
	p.bar.add(1)
	return nil
}

func (p *imagePipeline) hash(j imageJob, res chan<- store.CatalogImage) {
	if j.img == nil {
		img, err := decodeImageFile(j.path)
		if err != nil {
			p.fail(j.id, err.Error())
			return
		}
		j.img = img
	}
	t0 := p.o.Clock.Now()
	feat := recog.FromFace(j.img).Encode()
	busy := p.o.Clock.Now().Sub(t0)
	r := store.CatalogImage{ID: j.id, Features: feat}
	if j.setImage {
		r.Image = j.path
	}
	res <- r
	p.mu.Lock()
	p.sum.Hashed++
	p.sum.HashBusy += busy
	p.mu.Unlock()
	p.bar.add(1)
}

func (p *imagePipeline) fail(id, reason string) {
	p.mu.Lock()
	p.sum.Failed++
	if len(p.sum.Failures) < maxFailuresShown {
		p.sum.Failures = append(p.sum.Failures, id+": "+reason)
	}
	p.mu.Unlock()
	p.bar.add(1)
}

// write stores the results in batches, one transaction each. The directory
// is synced first, so a stored path never names a file a power cut lost.
// It goes on after a cancel: what was hashed is kept.
func (p *imagePipeline) write(ctx context.Context, res <-chan store.CatalogImage) error {
	const batchSize = 256
	const batchAge = 5 * time.Second
	wctx := context.WithoutCancel(ctx)
	var batch []store.CatalogImage
	last := p.o.Clock.Now()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := syncDir(p.dir); err != nil {
			return fmt.Errorf("catalog: images: %w", err)
		}
		if _, err := p.st.SetFeatures(wctx, batch); err != nil {
			return err
		}
		batch, last = batch[:0], p.o.Clock.Now()
		return nil
	}
	for r := range res {
		batch = append(batch, r)
		if len(batch) >= batchSize || p.o.Clock.Now().Sub(last) >= batchAge {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func decodeImageFile(path string) (image.Image, error) {
	return imgdecode.ReadFile(path, imgdecode.Photo())
}

// writeFileSync writes path through a temporary file that is synced and
// renamed: an interrupted run leaves only the temporary file.
func writeFileSync(path string, data []byte) error {
	tmp := path + partSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fetcher downloads one image with the limiter, retries and limits.
type fetcher struct {
	o   *imagesOpts
	lim *limiter
}

// retryable is a failure worth another try; wait is the server's
// Retry-After, if any.
type retryable struct {
	status int // 0 for network errors and timeouts
	reason string
	wait   time.Duration
}

func (e *retryable) Error() string { return e.reason }

// fetch returns the image and its bytes. The error is ctx's when ctx ends,
// else a reason for the summary.
func (f *fetcher) fetch(ctx context.Context, url string) (image.Image, []byte, error) {
	tries, limited := 0, 0
	for {
		if err := f.lim.wait(ctx); err != nil {
			return nil, nil, err
		}
		body, err := f.once(ctx, url)
		if err == nil {
			// The body is bounded by MaxBytes; its header may still claim
			// gigabytes of pixels.
			img, err := imgdecode.DecodeBytes(body, "the image", imgdecode.Photo())
			if errors.Is(err, imgdecode.ErrTooLarge) {
				return nil, nil, err
			}
			if err != nil {
				return nil, nil, fmt.Errorf("not a readable image: %w", err)
			}
			return img, body, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		var re *retryable
		if !errors.As(err, &re) {
			return nil, nil, err
		}
		if re.status == http.StatusTooManyRequests {
			// Every connection waits: the limit is the client's, not the
			// request's.
			limited++
			if limited >= f.o.Tries429 {
				return nil, nil, fmt.Errorf("%s %d times: giving up", re.reason, limited)
			}
			f.lim.pause(f.o.Clock.Now().Add(max(re.wait, f.backoff(limited))))
			continue
		}
		tries++
		if tries >= f.o.Tries {
			return nil, nil, fmt.Errorf("%s (%d tries)", re.reason, tries)
		}
		if err := sleepCtx(ctx, f.o.Clock, max(re.wait, f.backoff(tries))); err != nil {
			return nil, nil, err
		}
	}
}

func (f *fetcher) backoff(n int) time.Duration {
	d := f.o.Backoff
	for i := 1; i < n && d < f.o.MaxWait; i++ {
		d *= 2
	}
	return min(d, f.o.MaxWait)
}

// once is one request; its timeout covers the body too, so a server that
// stalls halfway is a retryable failure, not a hang.
func (f *fetcher) once(ctx context.Context, url string) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err == nil && req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		err = errors.New("not http or https")
	}
	if err != nil {
		return nil, fmt.Errorf("bad image URL: %w", err)
	}
	req.Header.Set("User-Agent", f.o.UserAgent)
	req.Header.Set("Accept", "image/jpeg,image/*")
	resp, err := f.o.Client.Do(req)
	if err != nil {
		return nil, f.transient(rctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection
		reason := "HTTP " + resp.Status
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			wait := retryAfter(resp.Header.Get("Retry-After"), f.o.Clock.Now())
			return nil, &retryable{status: resp.StatusCode, reason: reason, wait: min(wait, f.o.MaxWait)}
		}
		return nil, errors.New(reason) // 404, 410, 403…: no point asking again
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); !strings.HasPrefix(mt, "image/") {
		return nil, fmt.Errorf("content type %q, not an image", ct)
	}
	if resp.ContentLength > f.o.MaxBytes {
		return nil, fmt.Errorf("image of %d bytes, more than the %d allowed", resp.ContentLength, f.o.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.o.MaxBytes+1))
	if err != nil {
		return nil, f.transient(rctx, err)
	}
	if int64(len(body)) > f.o.MaxBytes {
		return nil, fmt.Errorf("image larger than the %d bytes allowed", f.o.MaxBytes)
	}
	return body, nil
}

func (f *fetcher) transient(rctx context.Context, err error) error {
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		return &retryable{reason: fmt.Sprintf("no complete answer within %s", f.o.Timeout)}
	}
	return &retryable{reason: err.Error()} // refused, reset, cut short: the network's, worth a retry
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// limiter spaces requests interval apart across every connection: each
// caller reserves the next slot and sleeps until it.
type limiter struct {
	clk      scene.Clock
	interval time.Duration

	mu   sync.Mutex
	next time.Time
}

func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.clk.Now()
	t := l.next
	if t.Before(now) {
		t = now
	}
	l.next = t.Add(l.interval)
	l.mu.Unlock()
	return sleepCtx(ctx, l.clk, t.Sub(now))
}

// pause holds every request back until t (a 429's Retry-After).
func (l *limiter) pause(t time.Time) {
	l.mu.Lock()
	if t.After(l.next) {
		l.next = t
	}
	l.mu.Unlock()
}

func sleepCtx(ctx context.Context, clk scene.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-clk.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rateBar draws "[#####.....]  50%  500/1000 images  9.9/s  ETA 50s" on
// stderr, redrawn at most four times a second of the clock.
type rateBar struct {
	w     io.Writer
	clk   scene.Clock
	total int

	mu          sync.Mutex
	start, last time.Time
	done        int
	drawn       bool
}

func (b *rateBar) add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clk.Now()
	b.done += n
	if !b.drawn || now.Sub(b.last) >= time.Second/4 || b.done == b.total {
		b.drawn, b.last = true, now
		b.draw(now)
	}
}

func (b *rateBar) draw(now time.Time) {
	const width = 30
	pct := 100
	if b.total > 0 {
		pct = b.done * 100 / b.total
	}
	fill := min(width, pct*width/100)
	line := fmt.Sprintf("\r[%s%s] %3d%%  %d/%d images", strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, b.done, b.total)
	if el := now.Sub(b.start); el > 0 && b.done > 0 {
		rate := float64(b.done) / el.Seconds()
		eta := time.Duration(float64(b.total-b.done) / rate * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf("  %.1f/s  ETA %s", rate, eta)
	}
	fmt.Fprintf(b.w, "%s\x1b[K", line)
}

func (b *rateBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		b.draw(b.clk.Now())
		fmt.Fprintln(b.w)
	}
}

func printImagesSummary(w io.Writer, s *imagesSummary, hashers int) {
	perSec := func(n int) string {
		if s.Elapsed <= 0 || n == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.1f/s)", float64(n)/s.Elapsed.Seconds())
	}
	capacity := ""
	if s.HashBusy > 0 {
		capacity = fmt.Sprintf("; hashing alone: %.0f/s on %d cores", float64(s.Hashed)/s.HashBusy.Seconds()*float64(hashers), hashers)
	}
	fmt.Fprintf(w, "catalog images: %d downloaded%s, %d already there, %d failed, %d hashed%s%s, in %s\n",
		s.Downloaded, perSec(s.Downloaded), s.AlreadyThere, s.Failed, s.Hashed, perSec(s.Hashed), capacity, s.Elapsed.Round(time.Second))
	if s.NoImage > 0 {
		fmt.Fprintf(w, "catalog: %d printings have no image URL or file\n", s.NoImage)
	}
	if s.Failed > 0 {
		fmt.Fprintf(w, "failed (the first %d of %d; a rerun tries them again):\n", len(s.Failures), s.Failed)
		for _, f := range s.Failures {
			fmt.Fprintln(w, "  "+f)
		}
	}
}
