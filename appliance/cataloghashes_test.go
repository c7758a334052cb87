package appliance

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinkerbox/appliance/store"
	"tinkerbox/images/cards"
	"tinkerbox/scenes/cardfeed/recog"
)

// hashedStore is a catalog of the first n demo cards; the first hashed of
// them have features.
func hashedStore(t *testing.T, dir string, n, hashed int) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seq := func(yield func(store.CatalogCard, error) bool) {
		for i, c := range cards.Demo()[:n] {
			cc := store.CatalogCard{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Image: "https://x/" + c.ID + ".jpg"}
			if i < hashed {
				cc.Features = recog.FromFace(cards.Render(c)).Encode()
			}
			if !yield(cc, nil) {
				return
			}
		}
	}
	if _, err := st.ImportCatalog(ctx, seq, nil); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestExportImportHashes: the PC hashes, exports; the Pi imports the bulk
// file, then the hashes.
func TestExportImportHashes(t *testing.T) {
	ctx := context.Background()
	var stderr bytes.Buffer
	pc := hashedStore(t, t.TempDir(), 12, 10)
	file := filepath.Join(t.TempDir(), "hashes.jsonl.gz")
	if err := exportHashes(ctx, pc, file, "test", &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "exported the features of 10 printings") || !strings.Contains(stderr.String(), "2 printings without features") {
		t.Errorf("export said:\n%s", stderr.String())
	}
	// The Pi's catalog has two printings the PC lacks, and lacks two of the
	// PC's (imported from an older bulk file).
	pi := hashedStore(t, t.TempDir(), 14, 0)
	drop := cards.Demo()[:2]
	pi.DB().Exec("DELETE FROM card_catalog WHERE id IN (?, ?)", drop[0].ID, drop[1].ID)
	// One printing the Pi hashed itself, one with an older recogniser's.
	own := recog.FromFace(cards.Render(cards.Demo()[2])).Encode()
	pi.SetFeatures(ctx, []store.CatalogImage{{ID: cards.Demo()[2].ID, Features: own}, {ID: cards.Demo()[3].ID, Features: []byte{1, 2, 3}}})
	stderr.Reset()
	if err := importHashes(ctx, pi, file, &stderr); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{
		"10 entries", "7 printings got features (1 of them replaced", "1 already had features: kept",
		"2 ids are not in this catalog (e.g. [" + drop[0].ID + " " + drop[1].ID + "])", "8 with reference hashes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import-hashes does not say %q:\n%s", want, out)
		}
	}
	for _, c := range cards.Demo()[2:10] {
		got, err := pi.CatalogCard(ctx, c.ID)
		if _, derr := recog.DecodeFeatures(got.Features); err != nil || derr != nil {
			t.Errorf("%s: %v %v", c.ID, err, derr)
		}
	}
	// Again: nothing new.
	stderr.Reset()
	if err := importHashes(ctx, pi, file, &stderr); err != nil || !strings.Contains(stderr.String(), "0 printings got features") || !strings.Contains(stderr.String(), "8 already had") {
		t.Errorf("second import: %v\n%s", err, stderr.String())
	}
}

func featureFile(t testing.TB, hdr string, lines ...string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(hdr + "\n" + strings.Join(lines, "\n") + "\n"))
	zw.Close()
	return b.Bytes()
}

func header(version, count int) string {
	return fmt.Sprintf(`{"format":"tinkerbox-card-features","format_version":1,"feature_version":%d,"count":%d}`, version, count)
}

// A broken or foreign file imports nothing and says where it broke.
func TestImportHashesRefuses(t *testing.T) {
	ctx := context.Background()
	pi := hashedStore(t, t.TempDir(), 3, 0)
	ids := demoIDs(3)
	f := recog.FromFace(cards.Render(cards.Demo()[0])).Encode()
	entry := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"f":%q}`, id, base64.StdEncoding.EncodeToString(f))
	}
	good := featureFile(t, header(recog.FeatureVersion, 3), entry(ids[0]), entry(ids[1]), entry(ids[2]))
	dir := t.TempDir()
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"other recogniser": {featureFile(t, header(recog.FeatureVersion+1, 1), entry(ids[0])), fmt.Sprintf("recogniser version %d, this tinkerbox's recogniser is version %d", recog.FeatureVersion+1, recog.FeatureVersion)},
		"newer format":     {featureFile(t, strings.Replace(header(recog.FeatureVersion, 1), `"format_version":1`, `"format_version":2`, 1), entry(ids[0])), "written by a newer tinkerbox"},
		"not ours":         {featureFile(t, `{"object":"list"}`), "line 1 (byte 0): not a features file"},
		"truncated":        {good[:len(good)-12], "line "},
		"cut at a line":    {featureFile(t, header(recog.FeatureVersion, 3), entry(ids[0]), entry(ids[1])), "ends after 2 of its 3 entries"},
		"bad entry":        {featureFile(t, header(recog.FeatureVersion, 3), entry(ids[0]), `{"id":"x","f":"!!"}`, entry(ids[2])), "line 3 (byte "},
		"short features":   {featureFile(t, header(recog.FeatureVersion, 2), entry(ids[0]), `{"id":"x","f":"AgE="}`), "line 3"},
		"duplicate":        {featureFile(t, header(recog.FeatureVersion, 3), entry(ids[0]), entry(ids[1]), entry(ids[0])), "already on line 2"},
		"plain, too many":  {[]byte(header(recog.FeatureVersion, 1) + "\n" + entry(ids[0]) + "\n" + entry(ids[1]) + "\n"), "line 3 (byte "},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(path, c.data, 0o644)
		var stderr bytes.Buffer
		err := importHashes(ctx, pi, path, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing imported") {
			t.Errorf("%s: %v, want it to say %q", name, err, c.want)
		}
		if _, hashed, _ := pi.CatalogSize(ctx); hashed != 0 {
			t.Fatalf("%s: %d printings got features from a broken file", name, hashed)
		}
	}
	path := filepath.Join(dir, "good")
	os.WriteFile(path, good, 0o644)
	var stderr bytes.Buffer
	if err := importHashes(ctx, pi, path, &stderr); err != nil {
		t.Fatalf("good file: %v", err)
	}
}

// FuzzFeatureEntries: hostile files give an error, never a panic, and what
// is accepted is whole.
func FuzzFeatureEntries(f *testing.F) {
	feat := recog.FromFace(cards.Render(cards.Demo()[0])).Encode()
	entry := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"f":%q}`, id, base64.StdEncoding.EncodeToString(feat))
	}
	plain := header(recog.FeatureVersion, 2) + "\n" + entry("a") + "\n" + entry("b") + "\n"
	f.Add([]byte(plain))
	f.Add(featureFile(f, header(recog.FeatureVersion, 2), entry("a"), entry("b")))
	f.Add([]byte(header(recog.FeatureVersion+1, 0) + "\n"))
	f.Add([]byte(plain[:len(plain)-30]))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var hdr featureHeader
		n := 0
		for e, err := range featureEntries(bytes.NewReader(data), "f", &hdr) {
			if err != nil {
				return
			}
			if _, err := recog.DecodeFeatures(e.Features); err != nil || e.ID == "" {
				t.Fatalf("accepted entry %+v: %v", e, err)
			}
			n++
		}
		if n != hdr.Count || hdr.FeatureVersion != recog.FeatureVersion {
			t.Fatalf("accepted %d entries of a header %+v", n, hdr)
		}
	})
}

// BenchmarkImportHashes: import-hashes of 10,000 printings (a Pi Zero does
// about a tenth of this machine's rate).
func BenchmarkImportHashes(b *testing.B) {
	ctx := context.Background()
	feat := recog.FromFace(cards.Render(cards.Demo()[0])).Encode()
	const n = 10000
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"id":"id-%d","f":%q}`, i, base64.StdEncoding.EncodeToString(feat)))
	}
	path := filepath.Join(b.TempDir(), "h.gz")
	os.WriteFile(path, featureFile(b, header(recog.FeatureVersion, n), lines...), 0o644)
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(ctx, b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		seq := func(yield func(store.CatalogCard, error) bool) {
			for i := range n {
				if !yield(store.CatalogCard{ID: fmt.Sprintf("id-%d", i), Name: "X", Set: "x", Number: "1"}, nil) {
					return
				}
			}
		}
		if _, err := st.ImportCatalog(ctx, seq, nil); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var stderr bytes.Buffer
		if err := importHashes(ctx, st, path, &stderr); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
