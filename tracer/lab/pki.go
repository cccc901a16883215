package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The lab's identities. Each gets a client certificate signed by the lab's
// cluster CA; the API server maps CN to the user name and O to its groups.
var identities = []identity{
	{file: "admin", cn: "kubewire-admin", orgs: []string{"system:masters"}},
	{file: "alice", cn: "alice"},
	{file: "bob", cn: "bob"},
	{file: "controller-manager", cn: "system:kube-controller-manager"},
	{file: "scheduler", cn: "system:kube-scheduler"},
	// KWOK plays every kubelet; a lab needs no finer RBAC for it.
	{file: "kwok", cn: "system:kwok-controller", orgs: []string{"system:masters"}},
	// The API server's client certificate towards the (fake) kubelets.
	{file: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}},
}

type identity struct {
	file string
	cn   string
	orgs []string
}

// pki names the files of the lab's public key infrastructure in dir/pki.
type pki struct{ dir string }

func (p pki) path(name string) string { return filepath.Join(p.dir, name) }
func (p pki) CACert() string          { return p.path("ca.crt") }
func (p pki) CAKey() string           { return p.path("ca.key") }
func (p pki) Cert(name string) string { return p.path(name + ".crt") }
func (p pki) Key(name string) string  { return p.path(name + ".key") }
func (p pki) SAKey() string           { return p.path("sa.key") }
func (p pki) SAPub() string           { return p.path("sa.pub") }

// ensure creates whatever part of the PKI is missing: the cluster CA, the
// serving certificates (API server, KWOK's kubelet endpoint) for 127.0.0.1
// and localhost, one client certificate per identity, and the
// ServiceAccount signing key pair. Existing files are kept, so a restarted
// lab keeps its kubeconfig valid.
func (p pki) ensure() error {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return fmt.Errorf("create pki directory: %w", err)
	}
	ca, caKey, err := p.loadOrCreateCA()
	if err != nil {
		return err
	}
	serving := []struct{ name, cn string }{{"apiserver", "kube-apiserver"}, {"kwok-serving", "kwok"}}
	for _, s := range serving {
		if exists(p.Cert(s.name)) && exists(p.Key(s.name)) {
			continue
		}
		tmpl := leafTemplate(s.cn, nil)
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 96, 0, 1)}
		tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
		if err := p.issue(s.name, tmpl, ca, caKey); err != nil {
			return err
		}
	}
	for _, id := range identities {
		if exists(p.Cert(id.file)) && exists(p.Key(id.file)) {
			continue
		}
		tmpl := leafTemplate(id.cn, id.orgs)
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		if err := p.issue(id.file, tmpl, ca, caKey); err != nil {
			return err
		}
	}
	if !exists(p.SAKey()) || !exists(p.SAPub()) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("serviceaccount key: %w", err)
		}
		if err := writeKey(p.SAKey(), key); err != nil {
			return err
		}
		pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return fmt.Errorf("serviceaccount public key: %w", err)
		}
		if err := writePEM(p.SAPub(), "PUBLIC KEY", pub, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (p pki) loadOrCreateCA() (*x509.Certificate, crypto.Signer, error) {
	if exists(p.CACert()) && exists(p.CAKey()) {
		cert, err := readCert(p.CACert())
		if err != nil {
			return nil, nil, err
		}
		key, err := readKey(p.CAKey())
		if err != nil {
			return nil, nil, err
		}
		return cert, key, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("ca key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kubewire-lab-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("ca certificate: %w", err)
	}
	if err := writeKey(p.CAKey(), key); err != nil {
		return nil, nil, err
	}
	if err := writePEM(p.CACert(), "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func (p pki) issue(name string, tmpl, ca *x509.Certificate, caKey crypto.Signer) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("%s key: %w", name, err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("%s certificate: %w", name, err)
	}
	if err := writeKey(p.Key(name), key); err != nil {
		return err
	}
	return writePEM(p.Cert(name), "CERTIFICATE", der, 0o644)
}

func leafTemplate(cn string, orgs []string) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key %s: %w", path, err)
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Chmod(path, mode)
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate; delete the lab's pki directory to regenerate it", path)
	}
	return x509.ParseCertificate(b.Bytes)
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%s: no PEM key; delete the lab's pki directory to regenerate it", path)
	}
	k, err := x509.ParseECPrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
