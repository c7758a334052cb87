package appliance

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"

	"tinkerbox/images/cards"
	"tinkerbox/scenes/cardfeed/recog"
)

// The demo catalog's reference features are hashed when the firmware is
// built, not at every start: drawing and hashing its 368 faces took seconds
// of a fresh appliance's first start (a minute on a Pi Zero), and of every
// start without a catalog of its own. The file is `catalog export-hashes`'s
// format; TestDemoFeatures hashes the faces again and fails when it is
// stale (go generate ./appliance rewrites it). Features of another
// recogniser version are not used: the faces are hashed then, as before.
//
//go:generate go test . -run ^TestDemoFeatures$ -update
//go:embed catalogdemo.features.gz
var demoFeaturesFile []byte

// demoFeatures are the embedded features by card id; nil when they are of
// another recogniser version or unreadable.
func demoFeatures() map[string][]byte { return readDemoFeatures(demoFeaturesFile) }

func readDemoFeatures(file []byte) map[string][]byte {
	var hdr featureHeader
	out := map[string][]byte{}
	for e, err := range featureEntries(bytes.NewReader(file), "catalogdemo.features.gz", &hdr) {
		if err != nil {
			return nil
		}
		out[e.ID] = e.Features
	}
	return out
}

// demoFace is a demo card's features, hashed from its face.
func demoFace(c cards.Card) []byte { return recog.FromFace(cards.Render(c)).Encode() }

// writeDemoFeatures writes the demo catalog's features as the embedded file
// holds them (no creation time: the same faces give the same file).
func writeDemoFeatures(w io.Writer) error {
	demo := cards.Demo()
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriter(zw)
	enc := json.NewEncoder(bw)
	err := enc.Encode(featureHeader{Format: featureFormat, FormatVersion: featureFormatVersion,
		FeatureVersion: recog.FeatureVersion, Count: len(demo)})
	for _, c := range demo {
		if err != nil {
			break
		}
		err = enc.Encode(featureLine{ID: c.ID, F: demoFace(c)})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	return err
}
