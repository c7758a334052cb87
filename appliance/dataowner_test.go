//go:build unix

package appliance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// On the device /data belongs to the tinkerbox user; root's `catalog import`
// must leave nothing there that user cannot write (run as root in CI).
func TestCatalogImportAsRootKeepsTheDataOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the case is root importing into a data dir someone else owns")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildTinkerbox(t)
	top, err := os.MkdirTemp("", "tinkerbox-owner-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	const uid, gid = 65534, 65534 // nobody, as the appliance's own user stands in
	data := filepath.Join(top, "data")
	csv := filepath.Join(top, "cards.csv")
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csv, []byte("name,set,number,price\nBolt,lea,161,1.50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "catalog", "import", csv, "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("catalog import: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "files back to the owner of") {
		t.Errorf("the import did not say whose files it writes:\n%s", out)
	}
	n := 0
	err = filepath.Walk(data, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n++
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid {
			t.Errorf("%s is owned by %d:%d, not the data dir's owner %d:%d", path, st.Uid, st.Gid, uid, gid)
		}
		return nil
	})
	if err != nil || n < 2 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}
