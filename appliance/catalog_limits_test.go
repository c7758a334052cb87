package appliance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinkerbox/images/imgdecode/imgtest"
)

// TestCSVLimits: records, fields and prices beyond any real catalog are
// refused with the line that holds them, before the record is held whole.
func TestCSVLimits(t *testing.T) {
	long := strings.Repeat("a", maxName+1)
	for name, c := range map[string]struct{ in, want string }{
		"long name":     {"name,set,number\nok,s,1\n" + long + ",s,2\n", "line 3: name: 201 characters, at most 200"},
		"long record":   {"name,set,number\nok,s,1\n" + strings.Repeat("b", maxCSVRecord+1) + ",s,2\n", "line 3: a record longer than 64 KiB"},
		"long header":   {strings.Repeat("\x00", maxCSVRecord+1), "line 1: a record longer than 64 KiB"},
		"endless quote": {"name,set,number\n\"" + strings.Repeat("x\n", maxCSVRecord) + "\",s,1\n", "line 2: a record longer than 64 KiB"},
		"long set":      {"name,set,number\nX," + strings.Repeat("s", maxField+1) + ",1\n", "line 2: set: 65 bytes, at most 64"},
		"nul in name":   {"name,set,number\nX\x00Y,s,1\n", `line 2: name: "X\x00Y" is not UTF-8 text`},
		"latin-1 name":  {"name,set,number\nJ\xf6tun,s,1\n", "line 2: name: "},
		"NaN price":     {"name,set,number,price\nX,s,1,NaN\n", `line 2 (X): price: "NaN" is not a price`},
		"Inf price":     {"name,set,number,price\nX,s,1,2\nY,s,2,$+Inf\n", `line 3 (Y): price: "+Inf" is not a price`},
		"infinity":      {"name,set,number,price\nX,s,1,infinity\n", `"infinity" is not a price`},
		"negative":      {"name,set,number,price\nX,s,1,-1\n", `"-1" is not a price`},
		"overflow":      {"name,set,number,price\nX,s,1,1e400\n", `"1e400" is not a price`},
		"huge":          {"name,set,number,price\nX,s,1,5e9\n", `"5e9" is not a price`},
	} {
		_, err := collect(t, csvCards(strings.NewReader(c.in), "c.csv", t.TempDir()))
		if err == nil || !strings.HasPrefix(err.Error(), "catalog: c.csv: line ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// What real catalogs hold still imports: a quoted name with a comma
	// and a doubled quote, a quoted field over two lines, a long name.
	ok := "name,set,number,price,notes\n\"Borrowing 100,000 Arrows\",p,1,0,\n\"The \"\"Ultimate\"\" Nightmare\",u,2,1.5,\nT,t,3,,\"two\nlines\"\n" +
		strings.Repeat("n", maxName) + ",l,4,999999,\n"
	got, err := collect(t, csvCards(strings.NewReader(ok), "c.csv", t.TempDir()))
	if err != nil || len(got) != 4 || got[1].Name != `The "Ultimate" Nightmare` || got[2].Name != "T" || got[3].USD != 999999 {
		t.Fatalf("%v %+v", err, got)
	}
}

func TestScryfallLimits(t *testing.T) {
	card := func(fields string) string { return `{"id":"x1","name":"X",` + fields + `}` }
	for name, c := range map[string]struct{ in, want string }{
		"NaN":          {"[" + card(`"prices":{"usd":"NaN"}`) + "]", `card "X" at byte 1: prices.usd: "NaN" is not a price`},
		"Inf foil":     {"[" + card(`"prices":{"usd_foil":"Inf"}`) + "]", `prices.usd_foil: "Inf" is not a price`},
		"-Inf eur":     {"[" + card(`"prices":{"eur":"-Inf"}`) + "]", `prices.eur: "-Inf" is not a price`},
		"long name":    {`[{"id":"x","name":"` + strings.Repeat("n", maxName+1) + `"}]`, "card at byte 1: name: 201 characters"},
		"huge card":    {`[{"id":"x","name":"X","oracle_text":"` + strings.Repeat("t", maxJSONCard) + `"}]`, "a card is larger than 1024 KiB"},
		"huge space":   {"[" + strings.Repeat(" ", maxJSONCard+1) + "]", "a card is larger than 1024 KiB"},
		"id path":      {`[{"id":"../../etc/x","name":"X"}]`, `id "../../etc/x" is not a file name`},
		"long set":     {"[" + card(`"set":"`+strings.Repeat("s", 65)+`"`) + "]", "set: 65 bytes, at most 64"},
		"many finish":  {"[" + card(`"finishes":[`+strings.Repeat(`"foil",`, 16)+`"foil"]`) + "]", "finishes: 17 of them"},
		"long image":   {"[" + card(`"image_uris":{"normal":"https://`+strings.Repeat("i", maxImageRef)+`"}`) + "]", "image_uris: 4104 bytes"},
		"control lang": {"[" + card(`"lang":"e\u0007n"`) + "]", "lang: "},
	} {
		_, err := collect(t, scryfallCards(strings.NewReader(c.in), "f.json", ""))
		if err == nil || !strings.Contains(err.Error(), "catalog: f.json: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// Big cards one after the other are fine: the budget is per card.
	var b strings.Builder
	b.WriteString("[")
	for i := range 4 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"c%d","name":"C","oracle_text":"%s","prices":{"usd":"0.10"}}`, i, strings.Repeat("t", maxJSONCard-200))
	}
	b.WriteString("]")
	got, err := collect(t, scryfallCards(strings.NewReader(b.String()), "f.json", ""))
	if err != nil || len(got) != 4 || got[3].USD != 0.1 {
		t.Fatalf("%v, %d cards", err, len(got))
	}
}

// TestCSVHugeFiles: a 50 MB field and a 1 GB sparse file are refused at
// the first record that outgrows the limit, without reading the rest.
func TestCSVHugeFiles(t *testing.T) {
	dir := t.TempDir()
	field := filepath.Join(dir, "field.csv")
	writeHugeField(t, field)
	sparse := filepath.Join(dir, "sparse.csv")
	writeSparse(t, sparse, "name,set,number\n", 1<<30)
	for _, c := range []struct{ path, want string }{
		{field, "line 3: a record longer than 64 KiB"},
		{sparse, "line 2: a record longer than 64 KiB"},
	} {
		start := time.Now()
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = collect(t, csvCards(f, c.path, dir))
		f.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.path, err, c.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", c.path, d)
		}
	}
}

// writeHugeField writes a CSV whose second line holds a 50 MB card name.
func writeHugeField(t testing.TB, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("name,set,number,price\nBolt,m10,146,1\n")
	chunk := strings.Repeat("A", 1<<20)
	for range 50 {
		w.WriteString(chunk)
	}
	w.WriteString(",m10,147,1\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// writeSparse writes head and makes the file size bytes long: the rest
// reads as zeros and takes no disk.
func writeSparse(t testing.TB, path, head string, size int64) {
	t.Helper()
	if err := os.WriteFile(path, []byte(head), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// TestImageBombsInTheCatalog: a reference image and an identify input
// whose headers claim 60000×60000 are refused from the header.
func TestImageBombsInTheCatalog(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bomb.png"), imgtest.PNGBomb(60000, 60000), 0o644)
	os.WriteFile(filepath.Join(dir, "bomb.jpg"), imgtest.JPEGBomb(60000, 60000, false), 0o644)
	in := "name,set,number,image\nX,s,1,bomb.png\n"
	_, err := collect(t, csvCards(strings.NewReader(in), "c.csv", dir))
	if err == nil || !strings.Contains(err.Error(), "c.csv: line 2: reference image: "+filepath.Join(dir, "bomb.png")+" is 60000×60000, more than the 24 Mpixel limit") {
		t.Fatal(err)
	}
	if _, err := identifyFile(nil, filepath.Join(dir, "bomb.jpg")); err == nil || !strings.Contains(err.Error(), "bomb.jpg is 60000×60000, more than the 24 Mpixel limit") {
		t.Fatal(err)
	}
}
