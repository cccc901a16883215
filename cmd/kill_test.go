package cmd_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
)

// kubewire proxy --record, killed with SIGKILL in the middle of load:
// its clients get errors at once, not hangs; the recording stays readable
// (at most a torn last line, with a warning); and what it lost is only
// what was still on its way to the file. Bytes reach a client before
// kubewire has annotated and written the exchange (capture is off the
// relay path), so the calls answered in the last moments before the kill
// may be missing; but the pipeline writes each client's calls in the order
// they ended, so what a client finds in the recording is always the
// beginning of what it had: never a call missing before one recorded.
//
// 200 clients, as many as a class. The kubewire run is the test binary
// under the name kubewire (testscript puts it first on PATH, as for the
// scripts): the real command, in its own process.
func TestProxyKilledMidLoad(t *testing.T) {
	const clients, before = 200, 1500 // requests completed before the kill
	l := labtest.Lab(t)
	bin, err := exec.LookPath("kubewire")
	if err != nil {
		t.Fatalf("kubewire is not on PATH (testscript.Main puts the test binary there): %v", err)
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	rec := filepath.Join(dir, "killed.jsonl")
	cmd := exec.Command(bin, "proxy", "--record", rec, "--kubeconfig", l.Kubeconfig)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "NO_COLOR=1", "KUBEWIRE_AUDIT_LOG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			<-waited
		}
	}()
	// The banner names the session kubeconfig; the rest of stderr is
	// drained so kubewire never blocks on it.
	session := make(chan string, 1)
	var banner bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if banner.Len() < 4000 {
				banner.WriteString(line + "\n")
			}
			if kc, ok := strings.CutPrefix(strings.TrimSpace(line), "export KUBECONFIG="); ok {
				session <- kc
			}
		}
		waited <- cmd.Wait()
	}()
	var kubeconfig string
	select {
	case kubeconfig = <-session:
	case err := <-waited:
		killed = true
		t.Fatalf("kubewire proxy exited before it was ready: %v\n%s", err, banner.String())
	case <-time.After(time.Minute):
		t.Fatalf("kubewire proxy printed no KUBECONFIG line within a minute")
	}
	// A killed kubewire leaves its session files: remove them.
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(kubeconfig)) })

	client, server, token := sessionClient(t, kubeconfig)
	defer client.CloseIdleConnections()

	// Each client sends one GET after another, each tagged with its id,
	// until one fails; completed are the ids whose whole response it read.
	type worker struct {
		completed []string
		err       error
		took      time.Duration // the failing request's
	}
	workers := make([]worker, clients)
	var done atomic.Int64
	reached := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("kill-%02d-%05d", w, i)
				req, _ := http.NewRequest(http.MethodGet, server+"/api/v1/namespaces/default/services/kubernetes", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Kubewire-Test-Id", id)
				began := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					workers[w].err, workers[w].took = err, time.Since(began)
					return
				}
				workers[w].completed = append(workers[w].completed, id)
				if done.Add(1) == before {
					once.Do(func() { close(reached) })
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	select {
	case <-reached:
	case <-allDone:
		t.Fatalf("the clients stopped before the kill: %v", workers[0].err)
	case <-time.After(2 * time.Minute):
		t.Fatalf("only %d requests completed in 2 minutes", done.Load())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killedAt := time.Now()
	killed = true
	<-waited

	// Every client's request under way fails now: none hangs until its
	// timeout.
	select {
	case <-allDone:
	case <-time.After(30 * time.Second):
		t.Fatalf("clients still waiting 30 s after kubewire was killed: they hang instead of failing")
	}
	t.Logf("all clients failed within %s of the kill; %d requests had completed", time.Since(killedAt).Round(time.Millisecond), done.Load())
	for w, wk := range workers {
		var ne net.Error
		if errors.As(wk.err, &ne) && ne.Timeout() {
			t.Errorf("client %d hung until its timeout (%s) instead of failing: %v", w, wk.took.Round(time.Millisecond), wk.err)
		}
	}

	// The recording reads back, a torn last line at most.
	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := record.NewReader(f, "killed.jsonl")
	if err != nil {
		t.Fatalf("the recording of a killed kubewire does not open: %v", err)
	}
	recorded := map[string]int{}
	for {
		line, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the recording of a killed kubewire does not read back: %v", err)
		}
		if line.Type == record.TypeExchange {
			recorded[line.Exchange.Request.Headers.Get("Kubewire-Test-Id")]++
		}
	}
	for _, w := range rd.Warnings() {
		if !strings.Contains(w, "last line is incomplete") {
			t.Errorf("recording warning: %s", w)
		}
	}
	t.Logf("reader warnings: %v", rd.Warnings())

	// What each client finds in the recording is the beginning of what it
	// had, each call once: only a tail is lost.
	lost, lostClients := 0, 0
	for w, wk := range workers {
		gap := -1 // the first completed call missing
		for i, id := range wk.completed {
			n := recorded[id]
			switch {
			case n > 1:
				t.Errorf("%s is recorded %d times", id, n)
			case n == 0 && gap < 0:
				gap = i
			case n == 1 && gap >= 0:
				t.Errorf("client %d: %s is recorded, but %s, which it had whole before, is not: the recording lost a call in the middle",
					w, id, wk.completed[gap])
			}
		}
		if gap >= 0 {
			lost += len(wk.completed) - gap
			lostClients++
		}
	}
	t.Logf("%d completed calls of %d clients were still on their way to the recording at the kill", lost, lostClients)
}

// sessionClient is an HTTPS client through kubewire for the session
// kubeconfig's current context: its server, its token.
func sessionClient(t *testing.T, kubeconfig string) (*http.Client, string, string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		t.Fatalf("session kubeconfig has no current context")
	}
	cluster, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	if cluster == nil || user == nil || cluster.ProxyURL == "" || user.Token == "" {
		t.Fatalf("session kubeconfig lacks the proxy, CA or token: %+v %+v", cluster, user)
	}
	pu, err := url.Parse(cluster.ProxyURL)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cluster.CertificateAuthorityData)
	tr := &http.Transport{
		Proxy:               http.ProxyURL(pu),
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 64,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}, cluster.Server, user.Token
}
