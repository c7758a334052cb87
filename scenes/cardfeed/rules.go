package cardfeed

import (
	"bufio"
	"strings"
	"unicode"
)

// Sorter bins.
const (
	BinDeck   = 1 // cards of the pasted deck list
	BinValue  = 2 // worth at least the threshold
	BinBulk   = 3 // the rest
	BinReject = 4 // unknown or doubtful: never into the collection under a wrong name
)

// Rules decide a card's bin.
type Rules struct {
	Deck      map[string]bool // lower-cased names from the deck list
	Threshold float64         // USD; 0 disables the value bin
}

// Bin is where a scan goes.
func (r Rules) Bin(s Scan) int {
	switch {
	case !s.Accepted:
		return BinReject
	case r.Deck[strings.ToLower(s.Name)]:
		return BinDeck
	case r.Threshold > 0 && s.Price >= r.Threshold:
		return BinValue
	}
	return BinBulk
}

// ParseDeckList reads a pasted deck list: one card per line, with an
// optional count ("4 Lightning Bolt", "4x Lightning Bolt") and an optional
// set/number suffix ("(M10) 146") as Moxfield and Arena write them. Section
// headers ("Sideboard", "// comment") and blank lines are skipped.
func ParseDeckList(text string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "#") {
			continue
		}
		low := strings.ToLower(line)
		if low == "sideboard" || low == "deck" || low == "commander" || low == "maybeboard" || strings.HasSuffix(low, ":") {
			continue
		}
		// Leading count.
		if i := strings.IndexFunc(line, func(r rune) bool { return !unicode.IsDigit(r) }); i > 0 {
			rest := line[i:]
			rest = strings.TrimPrefix(rest, "x")
			line = strings.TrimSpace(rest)
		}
		if i := strings.Index(line, " ("); i > 0 {
			line = line[:i]
		}
		if i := strings.Index(line, " *"); i > 0 { // "*F*" foil markers
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out[strings.ToLower(line)] = true
		}
	}
	return out
}
