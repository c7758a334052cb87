package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestSelfSignedCert(t *testing.T) {
	dir := t.TempDir()
	c, err := SelfSignedCert(dir, "spybottle")
	if err != nil {
		t.Fatal(err)
	}
	leaf := c.Leaf
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if err := leaf.VerifyHostname("spybottle.local"); err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, TLSKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	// Second start: the same certificate (browsers keep the exception).
	c2, err := SelfSignedCert(dir, "spybottle")
	if err != nil || !bytes.Equal(c2.Leaf.Raw, leaf.Raw) {
		t.Fatalf("second call made a new certificate (%v)", err)
	}
	// A renamed appliance gets a new one; a damaged file is replaced.
	c3, err := SelfSignedCert(dir, "garage")
	if err != nil || bytes.Equal(c3.Leaf.Raw, leaf.Raw) || c3.Leaf.VerifyHostname("garage.local") != nil {
		t.Fatalf("renamed: %v", err)
	}
	os.WriteFile(filepath.Join(dir, TLSCertFile), []byte("garbage"), 0o644)
	if _, err := SelfSignedCert(dir, "garage"); err != nil {
		t.Fatalf("damaged file: %v", err)
	}

	// It serves: a client that trusts it connects over TLS.
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{c3}}
	ts.StartTLS()
	defer ts.Close()
	pool := x509.NewCertPool()
	pool.AddCert(c3.Leaf)
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := cl.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.TLS == nil {
		t.Fatal("not TLS")
	}
}

func TestSelfSignedCertUnwritableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if _, err := SelfSignedCert(dir, "x"); err == nil {
		t.Fatal("no error for an unwritable data dir")
	}
}
