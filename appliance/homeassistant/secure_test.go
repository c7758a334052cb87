package homeassistant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinkerbox/appliance/homeassistant/brokertest"
)

// pki is a CA made for the test and a certificate it signed for
// 127.0.0.1.
type pki struct {
	dir      string
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	caFile   string
	serverFs brokertest.TLSFiles
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	var err error
	if p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err = x509.CreateCertificate(rand.Reader, srv, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p.serverFs = brokertest.TLSFiles{CA: p.caFile, Cert: p.write(t, "server.pem", "CERTIFICATE", der), Key: p.write(t, "server.key", "EC PRIVATE KEY", kder)}
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mqtts:// with the broker's CA in ca_file; a broker whose certificate
// another CA signed is refused, and the page can say why.
func TestTLSWithCAFile(t *testing.T) {
	p := newPKI(t, "home")
	br := brokertest.Start(t, brokertest.Opts{TLS: &p.serverFs})
	r := newRig(br.URL())
	r.o.CAFile = p.caFile
	b, _ := r.run(t)
	settled(t, b, len(wantEntities)+2)

	other := newPKI(t, "elsewhere")
	r2 := newRig(br.URL())
	r2.o.CAFile = other.caFile
	r2.o.Device.ID = "tinkerbox-other"
	b2, _ := r2.run(t)
	eventually(t, "refused", func() bool { return b2.Status().State == StateDown })
	if e := b2.Status().LastError; !strings.Contains(e, "certificate signed by unknown authority") {
		t.Errorf("LastError %q, want the certificate's problem", e)
	}
	if b.Status().State != StateConnected {
		t.Errorf("the right CA lost its connection: %+v", b.Status())
	}

	r3 := newRig(br.URL())
	r3.o.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	r3.o.Device.ID = "tinkerbox-third"
	b3, _ := r3.run(t)
	eventually(t, "no CA file", func() bool { return strings.Contains(b3.Status().LastError, "ca_file") })
}

// A broker with accounts: the password, or the file holding it; a wrong
// one is refused with the broker's reason.
func TestPassword(t *testing.T) {
	br := brokertest.Start(t, brokertest.Opts{Passwords: map[string]string{"tinkerbox": "s3cret pass"}})
	r := newRig(br.URL())
	r.o.User, r.o.Password = "tinkerbox", "s3cret pass"
	b, _ := r.run(t)
	settled(t, b, len(wantEntities)+2)

	pwfile := filepath.Join(t.TempDir(), "mqtt-password")
	os.WriteFile(pwfile, []byte("s3cret pass\n"), 0o600)
	r2 := newRig(br.URL())
	r2.o.User, r2.o.PasswordFile, r2.o.Device.ID = "tinkerbox", pwfile, "tinkerbox-file"
	b2, _ := r2.run(t)
	eventually(t, "connected with the file's password", func() bool { return b2.Status().State == StateConnected })

	r3 := newRig(br.URL())
	r3.o.User, r3.o.Password, r3.o.Device.ID = "tinkerbox", "guess", "tinkerbox-wrong"
	b3, _ := r3.run(t)
	eventually(t, "refused", func() bool { return b3.Status().State == StateDown })
	if e := b3.Status().LastError; !strings.Contains(e, "not Authorized") && !strings.Contains(e, "bad user name or password") {
		t.Errorf("LastError %q, want the broker's refusal", e)
	}
}
