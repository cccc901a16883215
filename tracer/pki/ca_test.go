package pki

// Creating and loading kubewire's CA: many callers at once, in one process and
// in several, and the broken pairs a user can end up with.

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/atomicfile"
)

// helperCADirEnv names the directory TestHelperCreateCA creates its CA in;
// without it the helper does nothing.
const helperCADirEnv = "KUBEWIRE_TEST_CA_DIR"

// checkCADir checks that dir holds a matching pair and nothing else: no lock,
// no temporary files.
func checkCADir(t *testing.T, dir string, want []byte) {
	t.Helper()
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, caCertName), filepath.Join(dir, caKeyName)); err != nil {
		t.Errorf("the key on disk does not match the certificate: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, caCertName))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s on disk is not the certificate returned (%v)", caCertName, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{caCertName, caKeyName}; !slices.Equal(names, want) {
		t.Errorf("dir holds %q, want only %q", names, want)
	}
}

func TestCACreateConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubewire")
	const n = 16
	start := make(chan struct{})
	pems := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ca, err := LoadOrCreate(dir)
			if err == nil {
				pems[i] = ca.PEM
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if !bytes.Equal(pems[i], pems[0]) {
			t.Fatalf("caller %d got a different CA than caller 0", i)
		}
	}
	checkCADir(t, dir, pems[0])
}

// TestCACreateAcrossProcesses runs TestHelperCreateCA in 4 processes at once;
// they are held on their stdin until all have started.
func TestCACreateAcrossProcesses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kubewire")
	const n = 4
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   bytes.Buffer
	}
	procs := make([]*proc, n)
	for i := range procs {
		p := &proc{cmd: exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperCreateCA$")}
		p.cmd.Env = append(os.Environ(), helperCADirEnv+"="+dir)
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		var err error
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = p
	}
	for _, p := range procs {
		p.stdin.Close()
	}
	var fps []string
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, p.out.Bytes())
		}
		fp := ""
		sc := bufio.NewScanner(&p.out)
		for sc.Scan() {
			if f, ok := strings.CutPrefix(sc.Text(), "fingerprint "); ok {
				fp = f
			}
		}
		if fp == "" {
			t.Fatalf("process %d printed no fingerprint", i)
		}
		fps = append(fps, fp)
	}
	for i, fp := range fps {
		if fp != fps[0] {
			t.Errorf("process %d made CA %s, process 0 made %s", i, fp, fps[0])
		}
	}
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(ca.Cert.Leaf.Raw)); got != fps[0] {
		t.Errorf("the CA on disk is %s, the processes made %s", got, fps[0])
	}
	checkCADir(t, dir, ca.PEM)
}

// TestHelperCreateCA is TestCACreateAcrossProcesses's subprocess: it waits for
// its stdin to close, creates or loads the CA and fps its fingerprint.
func TestHelperCreateCA(t *testing.T) {
	dir := os.Getenv(helperCADirEnv)
	if dir == "" {
		return
	}
	io.Copy(io.Discard, os.Stdin)
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("fingerprint %x\n", sha256.Sum256(ca.Cert.Leaf.Raw))
}

func TestCAStaleLock(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, caLockName)
	if err := os.WriteFile(lock, []byte("pid 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("a stale lock must not block creating the CA: %v", err)
	}
	checkCADir(t, dir, ca.PEM)
}

// TestCAWaitsForLockHolder holds the lock while another caller starts, makes
// the CA itself, and releases the lock: the caller loads that CA instead of
// making its own, whether it got to the lock before the release or after.
func TestCAWaitsForLockHolder(t *testing.T) {
	src := t.TempDir()
	made, err := LoadOrCreate(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unlock, err := lockFile(filepath.Join(dir, caLockName), caLockWait, caLockStale)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		ca  *CA
		err error
	}
	done := make(chan result)
	go func() {
		ca, err := LoadOrCreate(dir)
		done <- result{ca, err}
	}()
	copyCAFile(t, made.KeyFile, filepath.Join(dir, caKeyName))
	copyCAFile(t, made.CertFile, filepath.Join(dir, caCertName))
	unlock()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !bytes.Equal(r.ca.PEM, made.PEM) {
		t.Error("the waiting caller made its own CA instead of loading the lock holder's")
	}
	checkCADir(t, dir, made.PEM)
}

// copyCAFile copies a CA file the way kubewire writes one: whole, by rename.
func copyCAFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCAMismatchedPair(t *testing.T) {
	a, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyCAFile(t, b.KeyFile, filepath.Join(dir, caKeyName))
	copyCAFile(t, a.CertFile, filepath.Join(dir, caCertName))
	_, err = LoadOrCreate(dir)
	if err == nil {
		t.Fatal("a certificate with another CA's key must be refused")
	}
	for _, want := range []string{filepath.Join(dir, caCertName), filepath.Join(dir, caKeyName), "do not belong together", "delete both", "--cacert"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCACertWithoutKey(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(ca.KeyFile); err != nil {
		t.Fatal(err)
	}
	_, err = LoadOrCreate(dir)
	if err == nil {
		t.Fatal("a certificate without its key must be refused")
	}
	for _, want := range []string{ca.CertFile, ca.KeyFile, "does not exist", "delete " + ca.CertFile} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(ca.KeyFile); err == nil {
		t.Error("a key must not be made for an existing certificate")
	}
}

// TestCAKeyWithoutCert: a process that died between writing the key and the
// certificate leaves only ca.key; the next one makes a whole new pair.
func TestCAKeyWithoutCert(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(ca.CertFile); err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again.PEM, ca.PEM) {
		t.Error("want a new CA")
	}
	checkCADir(t, dir, again.PEM)
}

func TestCAKeyPermissions(t *testing.T) {
	dir := t.TempDir()
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(ca.KeyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode %v, want 0600 (%v)", st.Mode().Perm(), err)
	}
	if ca.Cert.Leaf == nil || !ca.Cert.Leaf.IsCA {
		t.Error("not a CA certificate")
	}
	if _, ok := ca.Cert.PrivateKey.(crypto.Signer); !ok {
		t.Error("no private key")
	}
	again, err := LoadOrCreate(dir)
	if err != nil || string(again.PEM) != string(ca.PEM) {
		t.Errorf("the CA must be reused, not remade: %v", err)
	}
	os.Chmod(ca.KeyFile, 0o644)
	if _, err := LoadOrCreate(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key must be refused, got %v", err)
	}
}
