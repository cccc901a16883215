package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CA is kubewire's own certificate authority: it signs the certificates the
// proxy presents to clients for the API server's host. It is created once per
// user, never shared, and its key stays in the user's config directory.
type CA struct {
	// Cert is the CA certificate with its private key.
	Cert tls.Certificate
	// PEM is the CA certificate in PEM, for kubeconfigs and curl --cacert.
	PEM []byte
	// CertFile and KeyFile are where the CA lives on disk.
	CertFile, KeyFile string
}

// DefaultCADir is os.UserConfigDir()/kubewire.
func DefaultCADir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory for kubewire's CA: %w", err)
	}
	return filepath.Join(dir, "kubewire"), nil
}

// LoadOrCreateCA loads the CA from dir (ca.crt, ca.key) or creates it: an
// ECDSA P-256 key, 0600, valid for ten years.
func LoadOrCreateCA(dir string) (*CA, error) {
	ca := &CA{CertFile: filepath.Join(dir, "ca.crt"), KeyFile: filepath.Join(dir, "ca.key")}
	certPEM, err := os.ReadFile(ca.CertFile)
	if errors.Is(err, os.ErrNotExist) {
		if err := ca.create(dir); err != nil {
			return nil, err
		}
		return LoadOrCreateCA(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read kubewire CA: %w", err)
	}
	keyPEM, err := os.ReadFile(ca.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("read kubewire CA key: %w", err)
	}
	if st, err := os.Stat(ca.KeyFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); run: chmod 600 %s", ca.KeyFile, st.Mode().Perm(), ca.KeyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s / %s: %w; delete both to make a new CA", ca.CertFile, ca.KeyFile, err)
	}
	cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ca.CertFile, err)
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		return nil, fmt.Errorf("%s expired on %s; delete %s and %s to make a new one", ca.CertFile, cert.Leaf.NotAfter.Format(time.DateOnly), ca.CertFile, ca.KeyFile)
	}
	ca.Cert, ca.PEM = cert, certPEM
	return ca, nil
}

func (ca *CA) create(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kubewire local CA", Organization: []string{"kubewire"}, OrganizationalUnit: []string{host}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(ca.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write CA key: %w", err)
	}
	if err := os.WriteFile(ca.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write CA certificate: %w", err)
	}
	return nil
}

// certStore caches the host certificates signed for the MITM; goproxy's
// signer would otherwise sign one per connection.
type certStore struct {
	mu    sync.Mutex
	certs map[string]*tls.Certificate
}

func (s *certStore) Fetch(host string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.certs[host]; ok {
		return c, nil
	}
	c, err := gen()
	if err != nil {
		return nil, err
	}
	if s.certs == nil {
		s.certs = map[string]*tls.Certificate{}
	}
	s.certs[host] = c
	return c, nil
}
