package pki

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"testing"
)

// A certificate Issue signs is accepted, for its hosts only, by a client
// that trusts the CA and nothing else, over a real TLS handshake.
func TestIssuedCertificateVerifiesAgainstTheCA(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{*cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("ok"))
			}()
		}
	}()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM) {
		t.Fatal("CA PEM does not parse")
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"127.0.0.1", true}, {"localhost", true}, {"example.invalid", false}} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: tc.name})
		if tc.ok != (err == nil) {
			t.Errorf("handshake for %s: err=%v, want ok=%v", tc.name, err, tc.ok)
		}
		if err == nil {
			b, _ := io.ReadAll(c)
			c.Close()
			if string(b) != "ok" {
				t.Errorf("read %q over TLS for %s", b, tc.name)
			}
		}
	}
	if ip := cert.Leaf.IPAddresses; len(ip) != 1 || !ip[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("IP SANs %v, want [127.0.0.1]", ip)
	}
	if _, err := ca.Issue(); err == nil {
		t.Error("Issue with no hosts succeeded")
	}
}

// A client certificate names its user and groups the way the API server
// reads them, and verifies against the CA for client authentication.
func TestIssueClientNamesUserAndGroups(t *testing.T) {
	ca, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueClient("alice", []string{"devs", "system:authenticated"})
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf.Subject.CommonName != "alice" || len(cert.Leaf.Subject.Organization) != 2 || cert.Leaf.Subject.Organization[0] != "devs" {
		t.Errorf("subject %v", cert.Leaf.Subject)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify: %v", err)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("a client certificate verified for serving")
	}
	if _, err := ca.IssueClient("", nil); err == nil {
		t.Error("IssueClient with no user succeeded")
	}
}
