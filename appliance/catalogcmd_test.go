package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tinkerbox/appliance/store"
	"tinkerbox/images/cards"
	"tinkerbox/scenes/cardfeed/recog"
)

// A slice of Scryfall default_cards: a normal card, a double-faced card
// (images on the faces), a Japanese printing with no prices.
const scryfallFixture = `[
{"object":"card","id":"e3285e6b-3e79-4d7c-bf96-d920f973b80d","oracle_id":"4457ed35-7c10-48c8-9776-456485fdf070","name":"Lightning Bolt","lang":"en","set":"m10","collector_number":"146","finishes":["nonfoil","foil"],"prices":{"usd":"2.51","usd_foil":"9.99","eur":"1.80","tix":"0.02"},"image_uris":{"small":"https://x/s.jpg","normal":"https://x/n.jpg"},"legalities":{"modern":"legal"}},
{"object":"card","id":"11bf83bb-c95b-4b4f-9a56-ce7a1816307a","oracle_id":"6a2a3a4e-1b2d-4a3c-9d1b-7f5e2c1d0a9b","name":"Delver of Secrets // Insectile Aberration","lang":"en","set":"isd","collector_number":"51","layout":"transform","finishes":["nonfoil","foil"],"prices":{"usd":"0.35","usd_foil":null,"eur":null},"card_faces":[{"name":"Delver of Secrets","image_uris":{"normal":"https://x/front.jpg"}},{"name":"Insectile Aberration","image_uris":{"normal":"https://x/back.jpg"}}]},
{"object":"card","id":"7a7b4d3b-0f9b-4f7e-8a4f-3c2c7b0c8b1e","oracle_id":"4457ed35-7c10-48c8-9776-456485fdf070","name":"Lightning Bolt","printed_name":"稲妻","lang":"ja","set":"sta","collector_number":"42","finishes":["nonfoil"],"prices":{"usd":null,"usd_foil":null,"eur":null},"image_uris":{"normal":"https://x/ja.jpg"}}
]`

func collect(t *testing.T, seq func(func(store.CatalogCard, error) bool)) ([]store.CatalogCard, error) {
	t.Helper()
	var out []store.CatalogCard
	for c, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

func TestScryfallCards(t *testing.T) {
	got, err := collect(t, scryfallCards(strings.NewReader(scryfallFixture), "f.json", ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d cards", len(got))
	}
	if b := got[0]; b.USD != 2.51 || b.USDFoil != 9.99 || b.EUR != 1.8 || b.Number != "146" || len(b.Finishes) != 2 {
		t.Errorf("bolt %+v", b)
	}
	if d := got[1]; d.Name != "Delver of Secrets // Insectile Aberration" || d.Image != "https://x/front.jpg" || d.USDFoil != 0 {
		t.Errorf("double-faced %+v", d)
	}
	if j := got[2]; j.Lang != "ja" || j.USD != 0 || j.Name != "Lightning Bolt" {
		t.Errorf("japanese %+v", j)
	}
}

func TestScryfallBrokenFiles(t *testing.T) {
	broken := strings.Replace(scryfallFixture, `"collector_number":"51",`, `"collector_number":"51" "layout":`, 1)
	for name, c := range map[string]struct{ in, want string }{
		"broken line": {broken, "byte "},
		"truncated":   {scryfallFixture[:400], "ends in the middle"},
		"not array":   {`{"object":"list"}`, "want a JSON array"},
		"bad price":   {`[{"id":"x","name":"X","prices":{"usd":"cheap"}}]`, `prices.usd: "cheap"`},
		"no id":       {`[{"name":"X"}]`, "no id or name"},
		"price type":  {`[{"id":"x","name":"X","prices":{"usd":3}}]`, "want a string"},
	} {
		_, err := collect(t, scryfallCards(strings.NewReader(c.in), "f.json", ""))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "f.json") {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
	}
	// The byte offset points into the broken card, past the first one.
	_, err := collect(t, scryfallCards(strings.NewReader(broken), "f.json", ""))
	first := strings.Index(broken, "},\n") + 2
	var off int
	if m := regexp.MustCompile(`byte (\d+)`).FindStringSubmatch(err.Error()); m != nil {
		off, _ = strconv.Atoi(m[1])
	}
	if off < first || off > len(broken) {
		t.Errorf("offset %d not inside the broken card (from %d): %v", off, first, err)
	}
}

func TestCSVCards(t *testing.T) {
	dir := t.TempDir()
	c := cards.Demo()[3]
	var buf bytes.Buffer
	png.Encode(&buf, cards.Render(c))
	os.WriteFile(filepath.Join(dir, "card.png"), buf.Bytes(), 0o644)
	in := "name,set,number,price,image\n" + c.Name + ",TBX,4,$1.50,card.png\nPikachu,BASE,58,,\n"
	got, err := collect(t, csvCards(strings.NewReader(in), "c.csv", dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "tbx-4" || got[0].USD != 1.5 || len(got[0].Features) == 0 || got[1].Features != nil || got[1].USD != 0 {
		t.Fatalf("csv %+v", got)
	}
	for name, bad := range map[string]string{
		"no number column": "name,set\nX,Y\n",
		"bad price":        "name,set,number,price\nX,Y,1,lots\n",
		"missing image":    "name,set,number,image\nX,Y,1,nope.png\n",
		"empty name":       "name,set,number\n,Y,1\n",
	} {
		if _, err := collect(t, csvCards(strings.NewReader(bad), "c.csv", dir)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestCatalogCommand runs `catalog import` and `catalog identify` end to
// end on a data dir.
func TestCatalogCommand(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = st.CatalogSize(ctx)
	st.Close()
	if err != nil {
		t.Skipf("the card tables are not in store.migrations yet (the lead splices cardsMigrations): %v", err)
	}
	dir := t.TempDir()
	demo := cards.Demo()
	imgs := filepath.Join(dir, "img")
	os.Mkdir(imgs, 0o755)
	var csvText strings.Builder
	csvText.WriteString("name,set,number,price,image\n")
	for _, c := range demo[:40] {
		var b bytes.Buffer
		png.Encode(&b, cards.Render(c))
		os.WriteFile(filepath.Join(imgs, c.ID+".png"), b.Bytes(), 0o644)
		csvText.WriteString(c.Name + "," + c.Set + "," + c.Number + ",1.00," + c.ID + ".png\n")
	}
	csvPath := filepath.Join(dir, "cat.csv")
	os.WriteFile(csvPath, []byte(csvText.String()), 0o644)
	var stdout, stderr bytes.Buffer
	o := Options{DataDir: data, ConfigPath: "", Stdout: &stdout, Stderr: &stderr}
	if err := Catalog(ctx, o, []string{"import", csvPath, "--images", imgs}); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "100%") || !strings.Contains(stderr.String(), "40 with reference hashes") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// A broken Scryfall file adds nothing.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(scryfallFixture[:500]), 0o644)
	if err := Catalog(ctx, o, []string{"import", bad}); err == nil || !strings.Contains(err.Error(), "byte") {
		t.Fatalf("broken import: %v", err)
	}
	photo := filepath.Join(dir, "photo.png")
	var b bytes.Buffer
	png.Encode(&b, cards.Photo(cards.Render(demo[7]), cards.Shot{Angle: 4, Height: 200, Noise: 3, Seed: 1}, 320, 240))
	os.WriteFile(photo, b.Bytes(), 0o644)
	stdout.Reset()
	err = Catalog(ctx, o, []string{"identify", photo, filepath.Join(dir, "missing.png")})
	if err == nil {
		t.Error("a missing image is not an error")
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q", stdout.String())
	}
	var l identifyLine
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil || l.ID != "tbx-"+demo[7].Number && l.Name != demo[7].Name || !l.Accepted {
		t.Errorf("line %s: %+v %v", lines[0], l, err)
	}
	if err := Catalog(ctx, o, []string{"frobnicate"}); err == nil {
		t.Error("unknown subcommand accepted")
	}
}

// FuzzScryfallCards: hostile bulk files give an error, never a panic.
func FuzzScryfallCards(f *testing.F) {
	f.Add(scryfallFixture)
	f.Add(`[{"id":"x","name":"X","prices":{"usd":"1e400"}}]`)
	f.Add(`[{"id":"x","name":"X","card_faces":[{}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		for _, err := range scryfallCards(strings.NewReader(in), "f.json", "") {
			if err != nil {
				break
			}
		}
	})
}

func FuzzCSVCards(f *testing.F) {
	f.Add("name,set,number,price\nX,Y,1,2\n")
	f.Add("name,set,number\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, err := range csvCards(strings.NewReader(in), "c.csv", t.TempDir()) {
			if err != nil {
				break
			}
		}
	})
}

// TestCatalogDataDir: the catalog commands find the data dir as `run`
// does (DataDirHelp): --data, $TINKERBOX_DATA, the config's data_dir, then
// ./data off the device image (make run's); they always say which.
func TestCatalogDataDir(t *testing.T) {
	ctx := context.Background()
	wd := t.TempDir()
	t.Chdir(wd)
	fixture := filepath.Join(wd, "default-cards.json")
	os.WriteFile(fixture, []byte(scryfallFixture), 0o644)
	env := map[string]string{}
	run := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		o := Options{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, OnDevice: func() bool { return false }}
		err := Catalog(ctx, o, args)
		return stderr.String(), err
	}
	out, err := run("import", fixture)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "catalog: data dir data (database data/"+store.FileName) || !strings.Contains(out, "make run") {
		t.Errorf("import does not name ./data:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(wd, "data", store.FileName)); err != nil {
		t.Errorf("no database in ./data: %v", err)
	}
	if out, _ := run("import-hashes", "--sim", "nope.gz"); !strings.Contains(out, "catalog: data dir data ") {
		t.Errorf("--sim:\n%s", out)
	}
	other := filepath.Join(wd, "elsewhere")
	if out, err := run("export-hashes", "--data", other, filepath.Join(wd, "h.gz")); !strings.Contains(out, "data dir "+other) || err == nil {
		t.Errorf("--data: %v\n%s", err, out) // an empty catalog has nothing to export
	}
	envDir := filepath.Join(wd, "fromenv")
	env["TINKERBOX_DATA"] = envDir
	if out, err := run("import", fixture); err != nil || !strings.Contains(out, "data dir "+envDir) || !strings.Contains(out, "$TINKERBOX_DATA") {
		t.Errorf("TINKERBOX_DATA: %v\n%s", err, out)
	}
	if out, _ := run("import", "--data", other, fixture); !strings.Contains(out, "data dir "+other) {
		t.Errorf("--data does not win over TINKERBOX_DATA:\n%s", out)
	}
	delete(env, "TINKERBOX_DATA")
	// A config file in the working directory decides, as for `run`; its
	// default /data means the device's partition, so ./data here.
	cfgDir := filepath.Join(wd, "cfgdata")
	os.WriteFile(filepath.Join(wd, "tinkerbox.toml"), []byte("[appliance]\ndata_dir = \""+cfgDir+"\"\n"), 0o644)
	if out, err := run("import", fixture); err != nil || !strings.Contains(out, "data dir "+cfgDir) || !strings.Contains(out, "tinkerbox.toml") {
		t.Errorf("config: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(wd, "tinkerbox.toml"), []byte("[appliance]\ndata_dir = \"/data\"\n"), 0o644)
	if out, err := run("import", fixture); err != nil || !strings.Contains(out, "data dir data ") {
		t.Errorf("config with /data off the device: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(wd, "tinkerbox.toml"))
	// Flags before or after the file, and -- before a file named like a flag.
	images := filepath.Join(wd, "imgs")
	os.Mkdir(images, 0o755)
	for _, args := range [][]string{
		{"import", "--images", images, fixture},
		{"import", fixture, "--images", images},
		{"import", "--images=" + images, "--", fixture},
	} {
		if out, err := run(args...); err != nil || !strings.Contains(out, "imported ") {
			t.Errorf("%q: %v\n%s", args, err, out)
		}
	}
	if _, err := run("import", "--help"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	for _, bad := range [][]string{
		{"images", "--rate", "11"},
		{"images", "--rate", "0"},
		{"images", "extra.json"},
		{"import", fixture, "--rate", "5"},
		{"identify", "x.png", "--images", "dir"},
		{"export-hashes"},
		{"import-hashes", "a", "b"},
		{"images", "--dir"},
	} {
		if _, err := run(bad...); !errors.As(err, new(UsageError)) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

// TestCatalogReimportKeepsHashes: importing the bulk file again (new
// prices, no hashes) keeps the hashes and says so.
func TestCatalogReimportKeepsHashes(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	fixture := filepath.Join(t.TempDir(), "default-cards.json")
	os.WriteFile(fixture, []byte(scryfallFixture), 0o644)
	var stderr bytes.Buffer
	o := Options{DataDir: data, Stderr: &stderr, Stdout: &bytes.Buffer{}}
	if err := Catalog(ctx, o, []string{"import", fixture}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	feat := recog.FromFace(cards.Render(cards.Demo()[0])).Encode()
	st.SetFeatures(ctx, []store.CatalogImage{
		{ID: "e3285e6b-3e79-4d7c-bf96-d920f973b80d", Features: feat, Image: "/data/card-images/e3285e6b-3e79-4d7c-bf96-d920f973b80d.jpg"},
		{ID: "7a7b4d3b-0f9b-4f7e-8a4f-3c2c7b0c8b1e", Features: []byte{1}}, // an older recogniser's
	})
	st.DB().Exec("UPDATE card_catalog SET hash = zeroblob(32) WHERE id = '11bf83bb-c95b-4b4f-9a56-ce7a1816307a'")
	st.Close()
	stderr.Reset()
	if err := Catalog(ctx, o, []string{"import", fixture}); err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	for _, want := range []string{
		"imported 3 printings", "0 new", "kept the existing hashes of 2 printings",
		"3 printings, 1 with reference hashes",
		"2 printings have hashes from an older recogniser: run `tinkerbox catalog images` (or import --images) to hash them again",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import does not say %q:\n%s", want, out)
		}
	}
	st, _ = store.Open(ctx, data, nil)
	defer st.Close()
	if c, _ := st.CatalogCard(ctx, "e3285e6b-3e79-4d7c-bf96-d920f973b80d"); !bytes.Equal(c.Features, feat) || !strings.HasPrefix(c.Image, "/data/card-images/") {
		t.Errorf("after re-import %+v", c)
	}
	x, source, err := loadIndex(ctx, st)
	if err != nil || x.Len() != 1 || !strings.Contains(source, "2 printings need hashing again") {
		t.Errorf("index of %d, %q, %v", x.Len(), source, err)
	}
}
