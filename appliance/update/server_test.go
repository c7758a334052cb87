package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type recordReboot chan bool

func (r recordReboot) Reboot(tryboot bool) error { r <- tryboot; return nil }

// The socket protocol end to end: the client streams a bundle, sees the
// phases, gets the result, and the service reboots on trial.
func TestSocketInstall(t *testing.T) {
	key := testKey(t, 1)
	v1, v2 := newImage("v1", 1), newImage("v2", 2)
	w := newWorld(t, key.Public().(ed25519.PublicKey), v1)
	w.images = append(w.images, v2)
	s, _ := w.settle()
	reboots := make(recordReboot, 1)
	s.reboot = reboots
	sock := filepath.Join(t.TempDir(), "update.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	c := NewClient(sock)
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || st.Running.Version != "v1" || st.Other.State != SlotEmpty {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := c.Rollback(ctx); err == nil || !strings.Contains(err.Error(), "slot B is empty") {
		t.Fatalf("rollback with an empty slot: %v", err)
	}
	phases := map[string]bool{}
	res, err := c.Install(ctx, bytes.NewReader(writeBundle(t, key, "pi4_64", v2)), func(p Progress) { phases[p.Phase] = true })
	if err != nil || res.Version != "v2" || res.Slot != "B" {
		t.Fatalf("install: %+v %v", res, err)
	}
	for _, p := range []string{"checking", "writing boot", "writing root", "verifying boot", "verifying root", "rebooting"} {
		if !phases[p] {
			t.Errorf("no %q progress (got %v)", p, phases)
		}
	}
	select {
	case try := <-reboots:
		if !try {
			t.Fatal("rebooted without tryboot")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reboot after the install")
	}
	// A refused bundle: the maker's message comes through.
	_, err = c.Install(ctx, bytes.NewReader(writeBundle(t, key, "pi0w", v2)), nil)
	if err == nil || !strings.Contains(err.Error(), "for the pi0w board") {
		t.Fatalf("refused install: %v", err)
	}
	if _, err := NewClient(filepath.Join(t.TempDir(), "none.sock")).Status(ctx); err == nil || !strings.Contains(err.Error(), "no update service") {
		t.Fatalf("no service: %v", err)
	}
}

// The appliance's settings saves go through the service (root) onto p1:
// checked first, refused with the checker's words, never half-written.
func TestSocketWriteConfig(t *testing.T) {
	key := testKey(t, 1)
	w := newWorld(t, key.Public().(ed25519.PublicKey), newImage("v1", 1))
	s, _ := w.settle()
	sock := filepath.Join(t.TempDir(), "update.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	c := NewClient(sock)
	ctx := context.Background()
	if err := c.WriteConfig(ctx, []byte("[mqtt]\nenabled = true\n")); err == nil || !strings.Contains(err.Error(), "does not write the configuration") {
		t.Fatalf("without a checker: %v", err)
	}
	s.checkConfig = func(b []byte) error {
		if bytes.Contains(b, []byte("bad")) {
			return errors.New("tinkerbox.toml:2: mqtt.broker: bad is not a URL")
		}
		return nil
	}
	if err := c.WriteConfig(ctx, []byte("[mqtt]\nbroker = \"bad\"\n")); err == nil || !strings.Contains(err.Error(), "tinkerbox.toml:2: mqtt.broker") {
		t.Fatalf("a refused config: %v", err)
	}
	if _, ok := w.files[ConfigFile]; ok {
		t.Fatal("a refused config was written")
	}
	if err := c.WriteConfig(ctx, bytes.Repeat([]byte("#"), MaxConfig+1)); err == nil {
		t.Fatal("an oversized config was accepted")
	}
	good := []byte("[mqtt]\nenabled = true\nbroker = \"mqtt://ha.local\"\n")
	if err := c.WriteConfig(ctx, good); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.files[ConfigFile], good) {
		t.Fatalf("p1 has %q", w.files[ConfigFile])
	}
}
