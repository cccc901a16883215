package pki

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
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0], Organization: []string{"kubewire"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.sign(tmpl)
}

// IssueClient signs a client certificate naming user and groups the way
// the API server reads them (CN, O). serve's kubeconfig carries one with
// the identity a recording was made as, so a served call is annotated as
// sent by that identity. It authenticates to no real server: only
// kubewire's CA signed it.
func (ca *CA) IssueClient(user string, groups []string) (*tls.Certificate, error) {
	if user == "" {
		return nil, errors.New("issue a client certificate: no user")
	}
	return ca.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// sign completes tmpl (serial, a week's validity) and signs it with a
// fresh key; the chain holds the CA's certificate after the leaf.
func (ca *CA) sign(tmpl *x509.Certificate) (*tls.Certificate, error) {
	parent := ca.Cert.Leaf
	if parent == nil {
		var err error
		if parent, err = x509.ParseCertificate(ca.Cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse kubewire CA certificate: %w", err)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, now.Add(-time.Hour), now.Add(7*24*time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, ca.Cert.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("sign a certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Certificate[0]}, PrivateKey: key, Leaf: leaf}, nil
}

// EncodePEM encodes cert's leaf and its private key in PEM, for a
// kubeconfig's client-certificate-data and client-key-data.
func EncodePEM(cert *tls.Certificate) (certPEM, keyPEM []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
