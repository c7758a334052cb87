// Command precompute checks a comic art pack as the firmware's loader does
// and writes what it found (checked.json) and the reductions prints are
// drawn from (reduced/) into the pack, so the built-in pack is not checked
// again at every start. go generate ./images/comic runs it after artgen; a
// test of scenes/comic fails when they are stale.
//
//	go run ./scripts/artgen/precompute [-pack images/comic/pack]
package main

import (
	"flag"
	"log"
	"os"

	"tinkerbox/scenes/comic"
)

func main() {
	dir := flag.String("pack", "images/comic/pack", "the pack's directory")
	flag.Parse()
	// The generated files are not part of the check: read the pack without them.
	if err := comic.Precompute(os.DirFS(*dir), *dir); err != nil {
		log.Fatal(err)
	}
}
