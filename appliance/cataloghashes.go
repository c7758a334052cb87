package appliance

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"

	"tinkerbox/appliance/store"
	"tinkerbox/scenes/cardfeed/recog"
)

// The file of `catalog export-hashes` and `import-hashes`, so a PC hashes
// the reference images and a Pi Zero only imports the result: gzip'd JSON
// lines (readable with zcat, diffable, a few MB for 100,000 printings). The
// first line is the header, then one printing per line:
//
//	{"format":"tinkerbox-card-features","format_version":1,"feature_version":2,"count":2,"created":"2026-12-01T11:00:00Z","tinkerbox":"v1.4"}
//	{"id":"e3285e6b-3e79-4d7c-bf96-d920f973b80d","f":"AgH…"}
//
// f is recog.Features.Encode in standard base64; ids are the catalog's
// (Scryfall ids). count tells a file cut at a line boundary from a whole
// one. An uncompressed file is read too.
const (
	featureFormat        = "tinkerbox-card-features"
	featureFormatVersion = 1
	maxFeatureLine       = 64 << 10
)

type featureHeader struct {
	Format         string `json:"format"`
	FormatVersion  int    `json:"format_version"`
	FeatureVersion int    `json:"feature_version"`
	Count          int    `json:"count"`
	Created        string `json:"created,omitempty"`
	Tinkerbox      string `json:"tinkerbox,omitempty"`
}

type featureLine struct {
	ID string `json:"id"`
	F  []byte `json:"f"`
}

// exportHashes writes the features of every printing the current
// recogniser can use to path (through a temporary file: a failed export
// leaves no half file).
func exportHashes(ctx context.Context, st *store.Store, path, version string, stderr io.Writer) error {
	var lines []featureLine
	none, stale := 0, 0
	for c, err := range st.CatalogImages(ctx) {
		if err != nil {
			return err
		}
		if c.Features == nil {
			none++
			continue
		}
		if _, err := recog.DecodeFeatures(c.Features); err != nil {
			stale++
			continue
		}
		lines = append(lines, featureLine{ID: c.ID, F: c.Features})
	}
	if len(lines) == 0 {
		return fmt.Errorf("catalog: export-hashes: no printing has features of this recogniser (version %d): run `tinkerbox catalog images` first", recog.FeatureVersion)
	}
	if version == "" {
		version = "dev"
	}
	hdr := featureHeader{Format: featureFormat, FormatVersion: featureFormatVersion, FeatureVersion: recog.FeatureVersion,
		Count: len(lines), Created: time.Now().UTC().Format(time.RFC3339), Tinkerbox: version}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("catalog: export-hashes: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename: nothing
	zw := gzip.NewWriter(f)
	bw := bufio.NewWriter(zw)
	enc := json.NewEncoder(bw)
	err = enc.Encode(hdr)
	for _, l := range lines {
		if err != nil {
			break
		}
		err = enc.Encode(l)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("catalog: export-hashes: %w", err)
	}
	size := int64(0)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stderr, "exported the features of %d printings (recogniser version %d) to %s (%s)\n", len(lines), recog.FeatureVersion, path, byteSize(size))
	if none+stale > 0 {
		fmt.Fprintf(stderr, "not exported: %d printings without features, %d with features of an older recogniser\n", none, stale)
	}
	return nil
}

// importHashes gives the catalog's printings the features in path, in one
// transaction: a broken file imports nothing.
func importHashes(ctx context.Context, st *store.Store, path string, stderr io.Writer) error {
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
	var hdr featureHeader
	entries := featureEntries(&countingReader{r: f, bar: bar}, path, &hdr)
	counted := func(yield func(store.CatalogImage, error) bool) {
		for e, err := range entries {
			bar.cards++
			if !yield(e, err) {
				return
			}
		}
	}
	stale := func(stored []byte) bool { _, err := recog.DecodeFeatures(stored); return err != nil }
	res, err := st.ImportFeatures(ctx, counted, stale)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "import-hashes: %d entries in %s (recogniser version %d, made %s by tinkerbox %s)\n",
		res.Read, path, hdr.FeatureVersion, hdr.Created, hdr.Tinkerbox)
	fmt.Fprintf(stderr, "  %d printings got features (%d of them replaced an older recogniser's)\n", res.Matched, res.Replaced)
	fmt.Fprintf(stderr, "  %d already had features: kept\n", res.AlreadyHad)
	if res.Unknown > 0 {
		fmt.Fprintf(stderr, "  %d ids are not in this catalog (e.g. %v): import the same bulk file first (tinkerbox catalog import FILE.json), then import-hashes again\n",
			res.Unknown, res.UnknownIDs)
	}
	return catalogSummary(ctx, st, stderr)
}

// featureEntries reads a features file. The header is checked first (a
// file of another recogniser version is refused before anything else); it
// is stored in hdr. Every error names the line and the byte (of the
// uncompressed text) where the file broke.
func featureEntries(r io.Reader, name string, hdr *featureHeader) iter.Seq2[store.CatalogImage, error] {
	return func(yield func(store.CatalogImage, error) bool) {
		line, off := 0, int64(0)
		fail := func(format string, args ...any) {
			yield(store.CatalogImage{}, fmt.Errorf("catalog: %s: line %d (byte %d): %s", name, line, off, fmt.Sprintf(format, args...)))
		}
		br := bufio.NewReader(r)
		var text io.Reader = br
		if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(br)
			if err != nil {
				fail("not a readable gzip file: %v", err)
				return
			}
			text = zr
		}
		lr := bufio.NewReaderSize(text, maxFeatureLine)
		seen := map[string]int{}
		n := 0
		for {
			b, err := lr.ReadSlice('\n')
			if len(b) > 0 || err == nil {
				line++
			}
			switch {
			case errors.Is(err, bufio.ErrBufferFull):
				fail("line longer than %d bytes: not a features file", maxFeatureLine)
				return
			case err != nil && !errors.Is(err, io.EOF):
				fail("the file is damaged: %v", err)
				return
			}
			if len(bytes.TrimSpace(b)) > 0 {
				if line == 1 {
					if msg := readFeatureHeader(b, hdr); msg != "" {
						fail("%s", msg)
						return
					}
				} else {
					var l featureLine
					if jerr := json.Unmarshal(b, &l); jerr != nil {
						fail("bad entry: %v", jerr)
						return
					}
					if l.ID == "" {
						fail("entry without an id")
						return
					}
					if prev, dup := seen[l.ID]; dup {
						fail("id %s already on line %d", l.ID, prev)
						return
					}
					if _, ferr := recog.DecodeFeatures(l.F); ferr != nil {
						fail("id %s: %v", l.ID, ferr)
						return
					}
					if n++; n > hdr.Count {
						fail("more entries than the header's count of %d", hdr.Count)
						return
					}
					seen[l.ID] = line
					if !yield(store.CatalogImage{ID: l.ID, Features: l.F}, nil) {
						return
					}
				}
			} else if line == 1 || len(b) > 0 && err == nil {
				fail("empty line")
				return
			}
			off += int64(len(b))
			if err != nil { // io.EOF
				break
			}
		}
		if line == 0 {
			fail("empty file: not a features file")
			return
		}
		if n != hdr.Count {
			fail("the file ends after %d of its %d entries: it was cut short", n, hdr.Count)
		}
	}
}

// readFeatureHeader checks the first line; it returns what is wrong, or "".
func readFeatureHeader(b []byte, hdr *featureHeader) string {
	if err := json.Unmarshal(b, hdr); err != nil || hdr.Format != featureFormat {
		return "not a features file of tinkerbox catalog export-hashes (no header)"
	}
	if hdr.FormatVersion != featureFormatVersion {
		return fmt.Sprintf("file format %d; this tinkerbox reads %d: it was written by a newer tinkerbox", hdr.FormatVersion, featureFormatVersion)
	}
	if hdr.FeatureVersion != recog.FeatureVersion {
		return fmt.Sprintf("the features are from recogniser version %d, this tinkerbox's recogniser is version %d: "+
			"they cannot be compared. Hash the images again with this version (tinkerbox catalog images, then export-hashes, on the PC)",
			hdr.FeatureVersion, recog.FeatureVersion)
	}
	if hdr.Count < 0 {
		return fmt.Sprintf("header count %d", hdr.Count)
	}
	return ""
}

func byteSize(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
