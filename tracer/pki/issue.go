package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Issue signs a serving certificate for hosts (names or IP addresses) with
// a fresh ECDSA P-256 key, valid for a week: long enough for a class, short
// enough that a copied key is soon useless. serve uses it for loopback.
func (ca *CA) Issue(hosts ...string) (*tls.Certificate, error) {
	if len(hosts) == 0 {
		return nil, errors.New("issue a certificate: no hosts")
	}
	if ca.Cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(ca.Cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("parse kubewire CA certificate: %w", err)
		}
		ca.Cert.Leaf = leaf
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate serving key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"kubewire"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert.Leaf, &key.PublicKey, ca.Cert.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("sign serving certificate for %v: %w", hosts, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Certificate[0]}, PrivateKey: key, Leaf: leaf}, nil
}
