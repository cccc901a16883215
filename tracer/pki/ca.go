// Package pki is kubewire's own certificate authority: created once per
// user, it signs the certificates kubewire presents to clients (the
// proxy's, for the API server's host; serve's, for loopback).
package pki

import (
	"crypto"
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
	"runtime"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/atomicfile"
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

// DefaultDir is os.UserConfigDir()/kubewire.
func DefaultDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory for kubewire's CA: %w", err)
	}
	return filepath.Join(dir, "kubewire"), nil
}

// The CA's files in its directory. ca.crt is written last, so its presence
// means the pair is complete; ca.lock exists only while a process creates it.
const (
	caCertName = "ca.crt"
	caKeyName  = "ca.key"
	caLockName = "ca.lock"
)

// caLockWait bounds how long LoadOrCreate waits for another process that is
// creating the CA; caLockStale is the age after which a lock is taken to be
// left by a process that crashed. Creating the CA takes milliseconds.
const (
	caLockWait  = 10 * time.Second
	caLockStale = 30 * time.Second
)

// Open is LoadOrCreate in dir, or in DefaultDir when dir is "".
func Open(dir string) (*CA, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	return LoadOrCreate(dir)
}

// LoadOrCreate loads the CA from dir (ca.crt, ca.key) or creates it: an
// ECDSA P-256 key, 0600, valid for ten years.
//
// Any number of processes may call it at once on the same dir: creation
// happens under dir/ca.lock, and each file is written to a temporary file and
// renamed into place, the key before the certificate. So a process never reads
// a half-written file, every caller gets the same CA, and ca.crt existing
// means the pair is complete.
func LoadOrCreate(dir string) (*CA, error) {
	ca := &CA{CertFile: filepath.Join(dir, caCertName), KeyFile: filepath.Join(dir, caKeyName)}
	if ok, err := ca.load(); err != nil {
		return nil, err
	} else if ok {
		return ca, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the directory for kubewire's CA: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, caLockName), caLockWait, caLockStale)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another process may have made the CA while this one waited.
	ok, err := ca.load()
	if err == nil && !ok {
		if err = ca.create(dir); err == nil {
			ok, err = ca.load()
		}
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s is missing right after kubewire created it", ca.CertFile)
	}
	return ca, nil
}

// load reads and checks the pair; it reports false, and no error, when
// ca.crt does not exist.
func (ca *CA) load() (bool, error) {
	certPEM, err := os.ReadFile(ca.CertFile)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read kubewire CA certificate: %w", err)
	}
	st, err := os.Stat(ca.KeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("%s exists but its key %s does not exist; delete %s and kubewire makes a new CA", ca.CertFile, ca.KeyFile, ca.CertFile)
	}
	if err != nil {
		return false, fmt.Errorf("read kubewire CA key: %w", err)
	}
	// Windows has no such mode bits: Perm is always 0666 or 0444 there.
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return false, fmt.Errorf("%s is readable by others (mode %v); run: chmod 600 %s", ca.KeyFile, st.Mode().Perm(), ca.KeyFile)
	}
	keyPEM, err := os.ReadFile(ca.KeyFile)
	if err != nil {
		return false, fmt.Errorf("read kubewire CA key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, ca.pairError(certPEM, keyPEM, err)
	}
	cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return false, fmt.Errorf("parse kubewire CA certificate %s: %w; delete %s and %s to make a new CA", ca.CertFile, err, ca.CertFile, ca.KeyFile)
	}
	if time.Now().After(cert.Leaf.NotAfter) {
		return false, fmt.Errorf("%s expired on %s; delete %s and %s to make a new one", ca.CertFile, cert.Leaf.NotAfter.Format(time.DateOnly), ca.CertFile, ca.KeyFile)
	}
	ca.Cert, ca.PEM = cert, certPEM
	return true, nil
}

// pairError says why tls.X509KeyPair refused the pair: one file is not what
// its name says, or both are sound but the key is not the certificate's.
func (ca *CA) pairError(certPEM, keyPEM []byte, err error) error {
	if _, perr := parseCertPEM(certPEM); perr != nil {
		return fmt.Errorf("parse kubewire CA certificate %s: %w; delete %s and %s to make a new CA", ca.CertFile, perr, ca.CertFile, ca.KeyFile)
	}
	if _, perr := parseKeyPEM(keyPEM); perr != nil {
		return fmt.Errorf("parse kubewire CA key %s: %w; delete %s and %s to make a new CA", ca.KeyFile, perr, ca.CertFile, ca.KeyFile)
	}
	return fmt.Errorf("%s and %s do not belong together (%w); delete both and kubewire makes a new CA, "+
		"then give clients that trusted the old one the new certificate (curl --cacert \"$(kubewire ca --path)\")",
		ca.CertFile, ca.KeyFile, err)
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// parseKeyPEM accepts the key forms tls.X509KeyPair does.
func parseKeyPEM(data []byte) (crypto.PrivateKey, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PRIVATE KEY block")
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			return k, nil
		}
		if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
			return k, nil
		}
		return x509.ParsePKCS1PrivateKey(b.Bytes)
	}
}

// create writes a new pair into dir; the caller holds the lock. The key goes
// in place before the certificate, so ca.crt never names a missing key.
func (ca *CA) create(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate kubewire CA key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("generate kubewire CA serial number: %w", err)
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
		return fmt.Errorf("sign kubewire CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode kubewire CA key: %w", err)
	}
	if err := atomicfile.WriteFile(ca.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write kubewire CA key: %w", err)
	}
	// Best effort: have the key's rename reach the disk before the
	// certificate's, so a crash cannot leave ca.crt without ca.key.
	syncDir(dir)
	if err := atomicfile.WriteFile(ca.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write kubewire CA certificate: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir flushes dir's entries where the system allows it (not on Windows);
// errors are ignored, the files themselves are already synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// lockFile takes an exclusive lock by creating name with O_EXCL, which works
// the same on every system and across processes. It retries with a growing
// pause until wait has passed; a lock older than stale was left by a process
// that crashed and is removed. The returned func releases the lock.
func lockFile(name string, wait, stale time.Duration) (func(), error) {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	owner := fmt.Sprintf("pid %d\ncreated %s\nnonce %x\n", os.Getpid(), time.Now().Format(time.RFC3339Nano), nonce)
	deadline := time.Now().Add(wait)
	pause := 2 * time.Millisecond
	for {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.WriteString(owner)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(name)
				return nil, fmt.Errorf("write lock %s: %w", name, err)
			}
			return func() { unlockFile(name, owner) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		held, err := breakStaleLock(name, stale)
		if err != nil {
			return nil, err
		}
		if !held {
			continue
		}
		if time.Now().After(deadline) {
			who, _ := os.ReadFile(name)
			return nil, fmt.Errorf("another kubewire has been creating its CA for %v (%s holds %s); if no kubewire is running, delete %s",
				wait, strings.ReplaceAll(strings.TrimSpace(string(who)), "\n", ", "), name, name)
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// breakStaleLock removes name if it is older than stale and reports whether
// a lock is still held. It moves the lock aside before removing it, and puts
// it back if what it moved turns out to be a fresh lock that another process
// made after this one looked.
func breakStaleLock(name string, stale time.Duration) (held bool, err error) {
	st, err := os.Stat(name)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	if time.Since(st.ModTime()) < stale {
		return true, nil
	}
	seen, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read stale lock %s: %w", name, err)
	}
	nonce := make([]byte, 8)
	rand.Read(nonce)
	aside := fmt.Sprintf("%s.stale-%x", name, nonce)
	if err := os.Rename(name, aside); errors.Is(err, os.ErrNotExist) {
		return false, nil // another process broke it first
	} else if err != nil {
		return false, fmt.Errorf("remove stale lock %s: %w; if no kubewire is running, delete it", name, err)
	}
	moved, err := os.ReadFile(aside)
	if err == nil && string(moved) != string(seen) {
		// Not the stale lock: put it back unless yet another lock is there.
		os.Link(aside, name)
	}
	os.Remove(aside)
	return false, nil
}

// unlockFile removes the lock if it is still the one owner made.
func unlockFile(name, owner string) {
	if b, err := os.ReadFile(name); err == nil && string(b) == owner {
		os.Remove(name)
	}
}
