// Package cards is the demo trading-card catalog: a few hundred synthetic
// cards drawn procedurally from a small seed list, so the simulator, the
// tests and the benchmarks have a catalog without shipping card scans.
//
// The faces have the anatomy of real cards (black, white or no border,
// rounded corners, coloured frames, title bar with mana pips, dense painted
// art, type line with set symbol, rules text, P/T box, collector line), and
// Photo shoots them the way the card feeder and a phone do, because a
// recogniser tuned on plain synthetic cards fails on real ones. Some cards
// are reprinted in other sets with the same art, like real reprints, to
// exercise the recogniser's tie-breaker.
package cards

import (
	"fmt"
	"hash/fnv"
	"math"
)

// Face size of a rendered card in pixels (63 x 88 mm at ~3.97 px/mm).
const (
	FaceWidth  = 250
	FaceHeight = 349
)

// Border is the printed border of a card.
type Border int

const (
	BorderBlack Border = iota // most cards
	BorderWhite               // core-set style reprints
	Borderless                // art fills the card, boxes float on it
)

func (b Border) String() string {
	return [...]string{"black", "white", "borderless"}[b]
}

// Colour is the frame colour of a card.
type Colour int

const (
	White Colour = iota // cream frame
	Blue
	Black // dark grey frame
	Red
	Green
	Artifact // brownish grey, colourless
	Gold     // multicolour
	numColours
)

func (c Colour) String() string {
	return [...]string{"white", "blue", "black", "red", "green", "artifact", "gold"}[c]
}

// Rarity picks the colour of the set symbol.
type Rarity int

const (
	Common Rarity = iota
	Uncommon
	Rare
	Mythic
)

func (r Rarity) String() string { return [...]string{"common", "uncommon", "rare", "mythic"}[r] }

// Card is one printing of a demo card.
type Card struct {
	ID        string  // unique per printing
	Name      string  // shared by reprints
	Set       string  // set code, e.g. "tbx"
	SetName   string  // e.g. "Tinkerbox Core"
	Number    string  // collector number within the set
	Price     float64 // USD; 0 = no price known
	FoilPrice float64 // USD; 0 = no foil printing or no price
	Art       uint64  // art seed: reprints share it
	Border    Border  // zero value: black border
}

// Colour is the card's frame colour; it follows the name, so every printing
// of a name has the same colour, like real reprints.
func (c Card) Colour() Colour {
	switch r := seed("colour/"+c.Name) % 100; {
	case r < 84:
		return Colour(r / 17) // 17 % each of the five colours
	case r < 93:
		return Artifact
	default:
		return Gold
	}
}

// Rarity follows the printing: reprints may change it.
func (c Card) Rarity() Rarity {
	switch r := seed("rarity/"+c.ID+c.Set+c.Number) % 100; {
	case r < 50:
		return Common
	case r < 78:
		return Uncommon
	case r < 95:
		return Rare
	default:
		return Mythic
	}
}

// Creature tells whether the card has a P/T box.
func (c Card) Creature() bool { return seed("type/"+c.Name)%100 < 60 }

// TypeLine is the text on the type line, e.g. "Creature — Golem".
func (c Card) TypeLine() string {
	noun := c.Name
	if i := lastSpace(noun); i >= 0 {
		noun = noun[i+1:]
	}
	h := seed("type/" + c.Name)
	if c.Creature() {
		if c.Colour() == Artifact {
			return "Artifact Creature — " + noun
		}
		if h>>8%4 == 0 {
			return "Legendary Creature — " + noun
		}
		return "Creature — " + noun
	}
	if c.Colour() == Artifact {
		return "Artifact"
	}
	return [...]string{"Instant", "Sorcery", "Enchantment", "Artifact", "Enchantment — Aura"}[h>>8%5]
}

func lastSpace(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ' ' {
			return i
		}
	}
	return -1
}

// Set is a demo set.
type Set struct {
	Code, Name string
	Symbol     int    // 0 circle, 1 diamond, 2 triangle, 3 square, 4 bar, 5 ring
	Border     Border // border of the set's normal printings
	Size       int    // printed set size on the collector line
}

// Sets of the demo catalog, in release order. The core set is white
// bordered, like old core sets; the others are black bordered.
func Sets() []Set {
	return []Set{
		{"tbx", "Tinkerbox Core", 0, BorderWhite, 280},
		{"gpi", "GPIO Uprising", 1, BorderBlack, 254},
		{"srv", "Servo Storm", 2, BorderBlack, 271},
		{"pht", "Pimoroni Hats", 3, BorderBlack, 249},
		{"esc", "Escape Sequences", 4, BorderBlack, 264},
		{"i2c", "Bus Masters", 5, BorderBlack, 286},
	}
}

func setOf(code string) Set {
	sets := Sets()
	for _, s := range sets {
		if s.Code == code {
			return s
		}
	}
	return sets[0]
}

var (
	adjectives = []string{"Ancient", "Brass", "Crimson", "Daring", "Electric", "Feral", "Gilded", "Hollow",
		"Iron", "Jade", "Kinetic", "Lunar", "Molten", "Noble", "Obsidian", "Pale", "Quiet", "Radiant",
		"Silent", "Thorned"}
	nouns = []string{"Automaton", "Beacon", "Cog", "Drake", "Engine", "Falcon", "Golem", "Herald",
		"Inventor", "Juggernaut", "Kraken", "Lantern", "Mechanist", "Nomad", "Oracle", "Pylon",
		"Relay", "Sentinel", "Tinker", "Warden"}
	// Strangers draw from their own words, so no stranger shares a demo name.
	strangerAdjectives = []string{"Ashen", "Bitter", "Cobalt", "Dusk", "Ember", "Frost", "Grim", "Hidden",
		"Ivory", "Jagged", "Keen", "Lost", "Mire", "Night", "Onyx", "Primal", "Rusted", "Storm",
		"Twilight", "Veiled"}
	strangerNouns = []string{"Archivist", "Basilisk", "Chimera", "Djinn", "Elemental", "Fiend", "Gargoyle",
		"Hydra", "Imp", "Jackal", "Knight", "Leviathan", "Minotaur", "Nymph", "Ogre", "Phoenix", "Raven",
		"Serpent", "Troll", "Wyvern"}
	artists = []string{"Ada Quill", "Bo Lindqvist", "Cleo Marsh", "Dev Okafor", "Eun-ji Park", "Farid Haddad",
		"Greta Voss", "Hiro Tanaka", "Ines Moreau", "Jonas Berg", "Kemi Adeyemi", "Lars Holm"}
)

// Counts of the demo catalog.
const (
	DistinctCards = 320 // distinct names, each with its own art
	Reprints      = 48  // extra printings of existing names in other sets
)

// Demo returns the demo catalog: DistinctCards first printings followed by
// Reprints same-art reprints, always the same.
func Demo() []Card {
	sets := Sets()
	out := make([]Card, 0, DistinctCards+Reprints)
	perSet := map[string]int{}
	for i := 0; i < DistinctCards; i++ {
		// A stride coprime with 400 spreads names over all word pairs.
		k := (i * 137) % (len(adjectives) * len(nouns))
		name := adjectives[k/len(nouns)] + " " + nouns[k%len(nouns)]
		out = append(out, printing("demo", perSet, name, sets[i%len(sets)], seed(name), firstBorder(name, sets[i%len(sets)])))
	}
	for i := 0; i < Reprints; i++ {
		orig := out[(i*53)%DistinctCards]
		// Another set than the original's, varying with i.
		var set Set
		for j := 1; ; j++ {
			set = sets[(i+j)%len(sets)]
			if set.Code != orig.Set {
				break
			}
		}
		// A reprint takes its new set's border (black original, white core
		// reprint and the other way round); half the borderless cards stay
		// borderless, like showcase reprints.
		b := set.Border
		if orig.Border == Borderless && i%2 == 0 {
			b = Borderless
		}
		out = append(out, printing("demo", perSet, orig.Name, set, orig.Art, b))
	}
	return out
}

// Strangers returns n cards that are not in Demo: other names and art, the
// same anatomy and sets, for testing that unknown cards are rejected. Their
// IDs are "stranger-<set>-<n>"; the first n of Strangers(m) are Strangers(n).
func Strangers(n int) []Card {
	sets := Sets()
	out := make([]Card, 0, n)
	perSet := map[string]int{}
	pairs := len(strangerAdjectives) * len(strangerNouns)
	for i := 0; i < n; i++ {
		k := (i * 137) % pairs
		name := strangerAdjectives[k/len(strangerNouns)] + " " + strangerNouns[k%len(strangerNouns)]
		if i >= pairs {
			name += fmt.Sprintf(" %d", i/pairs+1)
		}
		set := sets[(i*5+1)%len(sets)]
		out = append(out, printing("stranger", perSet, name, set, seed("stranger/"+name), firstBorder(name, set)))
	}
	return out
}

// firstBorder is the border of a name's first printing: about one in seven
// is borderless, the rest follow the set.
func firstBorder(name string, set Set) Border {
	if seed("border/"+name)%100 < 14 {
		return Borderless
	}
	return set.Border
}

// printing numbers the next card of set and gives it a price.
func printing(prefix string, perSet map[string]int, name string, set Set, art uint64, b Border) Card {
	perSet[set.Code]++
	num := fmt.Sprint(perSet[set.Code])
	c := Card{ID: prefix + "-" + set.Code + "-" + num, Name: name, Set: set.Code, SetName: set.Name, Number: num, Art: art, Border: b}
	h := seed(c.ID)
	switch r := h % 100; {
	case r < 4: // no price known
	case r < 80:
		c.Price = 0.05 + float64(h>>8%200)/100
	case r < 96:
		c.Price = 2 + float64(h>>8%1800)/100
	default:
		c.Price = 20 + float64(h>>8%8000)/100
	}
	if c.Price > 0 && h>>20%3 == 0 {
		c.FoilPrice = math.Round(c.Price*250) / 100
	}
	return c
}

func seed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
