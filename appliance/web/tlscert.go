package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Files of the self-signed certificate in the data dir.
const (
	TLSCertFile = "tls-cert.pem"
	TLSKeyFile  = "tls-key.pem"
)

// tlsValidity is long on purpose: an appliance without a real-time clock
// must not start refusing its own certificate.
const tlsValidity = 20 * 365 * 24 * time.Hour

// SelfSignedCert returns the appliance's certificate for HTTPS: the one in
// dataDir if it is readable, not expired and names hostname.local, else a new
// self-signed ECDSA P-256 certificate (for hostname, hostname.local,
// localhost, 127.0.0.1 and ::1), saved there with its key readable by the
// owner only. Browsers warn once about a self-signed certificate; after
// that, the traffic, passwords included, is encrypted.
func SelfSignedCert(dataDir, hostname string) (tls.Certificate, error) {
	if hostname == "" {
		hostname = "tinkerbox"
	}
	certPath, keyPath := filepath.Join(dataDir, TLSCertFile), filepath.Join(dataDir, TLSKeyFile)
	// Missing, damaged or outdated files are replaced rather than refuse to start.
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && c.Leaf != nil &&
		time.Now().Before(c.Leaf.NotAfter) && slices.Contains(c.Leaf.DNSNames, hostname+".local") {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("web: tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("web: tls serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hostname + ".local", Organization: []string{"tinkerbox (self-signed)"}},
		NotBefore:             now.Add(-24 * time.Hour), // tolerate a clock that is a little behind
		NotAfter:              now.Add(tlsValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{hostname + ".local", hostname, "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("web: tls certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("web: tls key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return tls.Certificate{}, fmt.Errorf("web: tls: %w", err)
	}
	if err := writeTLSFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeTLSFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("web: tls: reload the new certificate: %w", err)
	}
	return c, nil
}

// writeTLSFile writes via a temporary file and a rename, so a power cut
// leaves the old file or the new one, never half of one.
func writeTLSFile(path string, b []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("web: tls: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("web: tls: write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("web: tls: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("web: tls: sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("web: tls: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("web: tls: %w", err)
	}
	return nil
}
