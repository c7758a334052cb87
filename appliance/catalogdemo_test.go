package appliance

import (
	"bytes"
	"os"
	"runtime"
	"testing"

	"tinkerbox/images/cards"
)

// TestDemoFeatures: the embedded features of the demo catalog are the
// recogniser's of the demo faces (-update rewrites the file). Faces are
// drawn in floating point, which differs a little between CPUs: the file
// is made, and compared, on amd64.
func TestDemoFeatures(t *testing.T) {
	built := demoFeatures()
	if *updateGolden {
		var b bytes.Buffer
		if err := writeDemoFeatures(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("catalogdemo.features.gz", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		built = readDemoFeatures(b.Bytes())
	}
	if built == nil {
		t.Fatal("the embedded demo features do not read (another recogniser version?): run go generate ./appliance")
	}
	demo := cards.Demo()
	if len(built) != len(demo) {
		t.Fatalf("%d demo features for %d demo cards: run go generate ./appliance", len(built), len(demo))
	}
	if runtime.GOARCH != "amd64" {
		t.Skipf("features are compared on amd64 (faces are drawn in floating point); here %s", runtime.GOARCH)
	}
	stale := 0
	for _, c := range demo {
		if !bytes.Equal(built[c.ID], demoFace(c)) {
			if stale++; stale <= 3 {
				t.Errorf("%s: the embedded features are not its face's", c.ID)
			}
		}
	}
	if stale > 0 {
		t.Fatalf("%d of %d demo features are stale: run go generate ./appliance", stale, len(demo))
	}
}
