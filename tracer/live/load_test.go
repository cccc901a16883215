package live

// Load: many clients at once through kubewire to the lab's API server, and
// a live view whose terminal nobody reads. These go through the public
// seams only (Start, the session kubeconfig, the recording file), so they
// hold whatever the capture path looks like inside.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
)

// idHeader carries a test's own id for each request: the recording keeps
// the client's request headers, so each response can be joined with its
// exchange record.
const idHeader = "Kubewire-Test-Id"

// wireClient is an HTTPS client that reaches the traced API server through
// kubewire, as curl --proxy --cacert does, as any user of the session.
type wireClient struct {
	t      testing.TB
	http   *http.Client
	tr     *http.Transport
	server string
	// tokens are the session's placeholder tokens, by context.
	tokens map[string]string
}

// newWireClient makes an HTTP/1.1 client of trace tr; timeout bounds each
// request. dial, when set, replaces the dialer to kubewire (to hold the
// raw connection).
func newWireClient(t testing.TB, tr *Trace, timeout time.Duration, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *wireClient {
	t.Helper()
	return newWireClientOver(t, "HTTP/1.1", tr, timeout, dial)
}

// protos are the protocols a client may speak to kubewire inside its
// tunnel: kubectl speaks HTTP/2, curl and older clients HTTP/1.1.
var protos = []string{"HTTP/1.1", "HTTP/2"}

// wireProto is how a recording names each of protos.
var wireProto = map[string]string{"HTTP/1.1": "HTTP/1.1", "HTTP/2": "HTTP/2.0"}

// newWireClientOver is newWireClient speaking proto, one of protos.
func newWireClientOver(t testing.TB, proto string, tr *Trace, timeout time.Duration, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *wireClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(tr.CA.PEM)
	pu, err := url.Parse(tr.Proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{
		Proxy:               http.ProxyURL(pu),
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 256,
		DialContext:         dial,
		ForceAttemptHTTP2:   proto == "HTTP/2",
	}
	cfg, err := clientcmd.LoadFromFile(tr.Session.Kubeconfig)
	if err != nil {
		t.Fatalf("session kubeconfig: %v", err)
	}
	tokens := map[string]string{}
	for name, c := range cfg.Contexts {
		if u := cfg.AuthInfos[c.AuthInfo]; u != nil {
			tokens[name] = u.Token
		}
	}
	c := &wireClient{t: t, http: &http.Client{Transport: transport, Timeout: timeout}, tr: transport,
		server: tr.Target.Server.String(), tokens: tokens}
	t.Cleanup(transport.CloseIdleConnections)
	return c
}

// request builds a GET of path as the session user of context as, tagged
// with id.
func (c *wireClient) request(ctx context.Context, as, path, id string) *http.Request {
	c.t.Helper()
	tok, ok := c.tokens[as]
	if !ok {
		c.t.Fatalf("the session has no context %q (has %v)", as, c.tokens)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if id != "" {
		req.Header.Set(idHeader, id)
	}
	return req
}

// get sends a GET and reads the whole response.
func (c *wireClient) get(ctx context.Context, as, path, id string) (int, []byte, error) {
	resp, err := c.http.Do(c.request(ctx, as, path, id))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// recordingLines reads a recording file with record.Reader: every line
// must parse (a torn last line is reported among the warnings). It also
// checks that each line of the file is one JSON document: no two lines
// interleaved.
func recordingLines(t testing.TB, path string) ([]record.Line, []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := record.NewReader(bytes.NewReader(data), filepath.Base(path))
	if err != nil {
		t.Fatalf("the recording does not open: %v", err)
	}
	var lines []record.Line
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the recording does not read back: %v", err)
		}
		lines = append(lines, l)
	}
	return lines, rd.Warnings()
}

// byID gathers the client exchange lines of a recording by the id the
// test put in their request.
func byID(lines []record.Line) map[string][]*record.Exchange {
	out := map[string][]*record.Exchange{}
	for _, l := range lines {
		if l.Type == record.TypeExchange && !l.Exchange.Own {
			id := l.Exchange.Request.Headers.Get(idHeader)
			out[id] = append(out[id], l.Exchange)
		}
	}
	return out
}

// openFDs counts this process's open file descriptors (Linux only).
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// backToBaseline waits, at most d, until what count returns is at most
// limit; it fails with what dump says otherwise.
func backToBaseline(t testing.TB, what string, d time.Duration, limit int, count func() int, dump func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		n := count()
		if n <= limit {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: %d, more than %d, %s after the trace closed\n%s", what, n, limit, d, dump())
			return
		}
		time.Sleep(50 * time.Millisecond) // polling a count: nothing to wait on
	}
}

func goroutineDump() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	s := b.String()
	if len(s) > 4000 {
		s = s[:4000] + "\n…"
	}
	return s
}

// fdDump counts the open descriptors by kind (socket, pipe, file name).
func fdDump() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	kinds := map[string]int{}
	for _, e := range ents {
		target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		kind, _, _ := strings.Cut(target, ":[")
		kinds[kind]++
	}
	var out []string
	for k, n := range kinds {
		out = append(out, fmt.Sprintf("%d× %s", n, k))
	}
	sort.Strings(out)
	return "open: " + strings.Join(out, ", ")
}

// loadCall is one kind of request of the load test: who sends it, what,
// and the status the lab answers.
type loadCall struct {
	as, path string
	want     int
}

// loadCalls mix gets of one object and small lists, in several
// namespaces and cluster-wide, with denials (alice may do nothing, bob
// may read demo only) and objects that do not exist.
var loadCalls = []loadCall{
	{"admin", "/api/v1/namespaces/default/services/kubernetes", 200},
	{"admin", "/api/v1/namespaces/kube-system", 200},
	{"admin", "/api/v1/namespaces/kube-system/configmaps?limit=3", 200},
	{"admin", "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings/bob-view", 200},
	{"admin", "/api/v1/namespaces?limit=5", 200},
	{"admin", "/api/v1/namespaces/demo/configmaps/absent-" + runID, 404},
	{"bob", "/api/v1/namespaces/demo/configmaps?limit=5", 200},
	{"bob", "/api/v1/namespaces/demo/serviceaccounts/absent-" + runID, 404},
	{"bob", "/api/v1/namespaces/default/pods", 403},
	{"alice", "/api/v1/namespaces/demo/configmaps", 403},
	{"alice", "/api/v1/namespaces/default/services/kubernetes", 403},
}

// loadRequests overrides how many requests TestLoadRecordsEveryResponseOnce
// sends.
var loadRequests = flag.Int("load-requests", 0, "requests the load test sends in all (default 10000, or 2000 under -race, several times slower)")

// 200 clients at once send 10,000 requests (2,000 under -race, which CI
// runs: -load-requests=10000 for all of them) through kubewire to the lab:
// every response has exactly one exchange record, joined by the id in its
// request, with the status the client got; the recording reads back line
// by line (nothing interleaved, nothing lost, nothing extra); and once the
// trace is closed its goroutines and file descriptors are gone.
func TestLoadRecordsEveryResponseOnce(t *testing.T) {
	const clients = 200
	total := 10000
	if underRace {
		total = 2000
	}
	if *loadRequests > 0 {
		total = *loadRequests
	}
	l := labtest.Lab(t)
	dir := t.TempDir()
	start := func(rec string) *Trace {
		tr, err := Start(context.Background(), Options{
			Kubeconfig: l.Kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}},
			View: render.NewLive(io.Discard, render.OptionsFor(io.Discard)), Version: "test",
			CADir: filepath.Join(dir, "ca"),
		}, "proxy", nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}

	// A first trace warms what outlives any one trace (client-go's cached
	// upstream transports and their connections, one per user), so the
	// baseline holds them.
	warm := start(filepath.Join(dir, "warm.jsonl"))
	wc := newWireClient(t, warm, time.Minute, nil)
	for _, as := range []string{"admin", "alice", "bob"} {
		if _, _, err := wc.get(context.Background(), as, "/api/v1/namespaces/default", ""); err != nil {
			t.Fatalf("warm-up as %s: %v", as, err)
		}
	}
	wc.tr.CloseIdleConnections()
	if err := warm.Close(); err != nil {
		t.Fatalf("warm-up trace: %v", err)
	}
	linux := runtime.GOOS == "linux"
	baseG, baseFD := runtime.NumGoroutine(), 0
	if linux {
		baseFD = openFDs(t)
	}

	rec := filepath.Join(dir, "load.jsonl")
	tr := start(rec)
	closed := false
	defer func() {
		if !closed {
			_ = tr.Close()
		}
	}()
	// Half the clients over HTTP/1.1, each request on a connection of its
	// own; half over HTTP/2, their requests sharing one.
	var over []*wireClient
	for _, proto := range protos {
		over = append(over, newWireClientOver(t, proto, tr, time.Minute, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	type result struct {
		status int
		err    error
		took   time.Duration
	}
	results := make([]result, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := over[g%len(over)]
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil {
					return
				}
				call := loadCalls[i%len(loadCalls)]
				began := time.Now()
				status, _, err := c.get(ctx, call.as, call.path, fmt.Sprintf("load-%s-%05d", runID, i))
				results[i] = result{status, err, time.Since(began)}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	if ctx.Err() != nil {
		t.Fatalf("%d requests by %d clients did not complete within 3 minutes", total, clients)
	}
	t.Logf("%d requests by %d clients in %s (%.0f/s)", total, clients, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	took := map[string][]time.Duration{}
	for i, r := range results {
		as := loadCalls[i%len(loadCalls)].as
		took[as] = append(took[as], r.took)
	}
	for as, ds := range took {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("as %s: median %s, 99th percentile %s, slowest %s", as, ds[len(ds)/2].Round(time.Millisecond),
			ds[len(ds)*99/100].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}

	// The clients keep their connections to kubewire open (idle,
	// keep-alive): closing the trace closes them.
	closeStart := time.Now()
	if err := tr.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed = true
	t.Logf("closed in %s", time.Since(closeStart).Round(time.Millisecond))
	// A closed trace answers nothing more, not even on a connection a
	// client kept alive.
	for i, c := range over {
		if status, body, err := c.get(context.Background(), "admin", loadCalls[0].path, fmt.Sprintf("after-close-%s-%d", runID, i)); err == nil {
			t.Errorf("a kept-alive %s connection got an answer after the trace was closed: %d %.200s", protos[i], status, body)
		}
	}

	lines, warnings := recordingLines(t, rec)
	if len(warnings) > 0 {
		t.Errorf("a recording closed cleanly has warnings: %v", warnings)
	}
	recorded := byID(lines)
	statuses := map[int]int{}
	bad := 0
	for i, r := range results {
		id := fmt.Sprintf("load-%s-%05d", runID, i)
		call := loadCalls[i%len(loadCalls)]
		xs := recorded[id]
		delete(recorded, id)
		var problem string
		switch {
		case r.err != nil:
			problem = fmt.Sprintf("the client got an error: %v", r.err)
		case r.status != call.want && r.status != http.StatusTooManyRequests:
			problem = fmt.Sprintf("the client got %d, want %d", r.status, call.want)
		case len(xs) != 1:
			problem = fmt.Sprintf("%d exchange records, want exactly 1", len(xs))
		case xs[0].ClientStatus() != r.status:
			problem = fmt.Sprintf("recorded status %d, the client got %d", xs[0].ClientStatus(), r.status)
		case xs[0].Error != nil || xs[0].StreamError != nil:
			problem = fmt.Sprintf("recorded with an error: %+v %+v", xs[0].Error, xs[0].StreamError)
		}
		statuses[r.status]++
		if problem != "" {
			if bad++; bad <= 10 {
				t.Errorf("%s (%s as %s): %s", id, call.path, call.as, problem)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d requests in all went wrong", bad)
	}
	// Nothing recorded that was not sent (an id the test never used, a
	// request without one).
	if len(recorded) > 0 {
		var extra []string
		for id, xs := range recorded {
			extra = append(extra, fmt.Sprintf("%q×%d", id, len(xs)))
		}
		sort.Strings(extra)
		if len(extra) > 10 {
			extra = append(extra[:10], "…")
		}
		t.Errorf("client exchanges recorded that no request of the test matches: %v", extra)
	}
	t.Logf("statuses the clients got: %v", statuses)
	for _, code := range []int{200, 403, 404} {
		if statuses[code] == 0 {
			t.Errorf("no response was %d: the mix of calls is not what the test means to send (%v)", code, statuses)
		}
	}

	// Nothing of the trace is left running or open, although its clients
	// did not hang up: Close ends the tunnels they hold (each a goroutine
	// and a descriptor on both ends, in this process).
	backToBaseline(t, "goroutines, the clients' idle connections still open (Close should end the tunnels it serves)", 5*time.Second, baseG+20, runtime.NumGoroutine, goroutineDump)
	if linux {
		backToBaseline(t, "open file descriptors, the clients' idle connections still open (Close should end the tunnels it serves)", 5*time.Second, baseFD+10, func() int { return openFDs(t) }, fdDump)
	}
	if t.Failed() {
		// Tell a leak apart from tunnels left open for their clients.
		for _, c := range over {
			c.tr.CloseIdleConnections()
		}
		backToBaseline(t, "goroutines, once the clients hung up too", 20*time.Second, baseG+20, runtime.NumGoroutine, goroutineDump)
		if linux {
			backToBaseline(t, "open file descriptors, once the clients hung up too", 20*time.Second, baseFD+10, func() int { return openFDs(t) }, fdDump)
		}
	}
}

// A live view whose terminal is not being read (a paused pager, a
// terminal scrolled back with output stopped, a pipe nobody drains) must
// not stop the traffic: 500 GETs go through within a bounded time while
// the view is blocked on its first write, and the recording holds them
// all.
func TestBlockedLiveViewDoesNotStopTraffic(t *testing.T) {
	const requests, workers = 500, 20
	// No progress for this long means the traffic waits on the view.
	const stall = 8 * time.Second
	l := labtest.Lab(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "s.jsonl")
	pr, pw := io.Pipe() // nobody reads pr: every write to pw blocks
	unblock := func() { _ = pr.CloseWithError(errors.New("the test stopped the unread terminal")) }
	defer unblock()
	view := render.NewLive(pw, render.OptionsFor(pw))
	tr, err := Start(context.Background(), Options{
		Kubeconfig: l.Kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}}, View: view,
		Version: "test", CADir: filepath.Join(dir, "ca"),
	}, "proxy", nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			unblock()
			_ = tr.Close()
		}
	}()
	c := newWireClient(t, tr, 2*time.Minute, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var next, completed atomic.Int64
	progress := make(chan struct{}, requests)
	errs := make(chan error, requests)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= requests {
					return
				}
				status, _, err := c.get(ctx, "admin", "/api/v1/namespaces/default/services/kubernetes", fmt.Sprintf("blocked-%s-%03d", runID, i))
				if err == nil && status != 200 {
					err = fmt.Errorf("status %d", status)
				}
				if err != nil {
					errs <- fmt.Errorf("GET %d: %w", i, err)
					return
				}
				completed.Add(1)
				progress <- struct{}{}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	began := time.Now()
	stalled := false
	timer := time.NewTimer(stall)
wait:
	for {
		select {
		case <-allDone:
			break wait
		case <-progress:
			timer.Reset(stall)
		case <-timer.C:
			stalled = true
			break wait
		}
	}
	if stalled {
		t.Errorf("traffic stopped while the live view's terminal was not read: %d of %d GETs completed, then none for %s "+
			"(is the live view written on the relay path? an exchange then waits until its line is shown)",
			completed.Load(), requests, stall)
		// Let the rest go through, to see what the recording holds then.
		unblock()
	}
	select {
	case <-allDone:
	case <-time.After(time.Minute):
		cancel()
		t.Fatalf("%d of %d GETs completed, and the rest not within a minute even once the view was unblocked", completed.Load(), requests)
	}
	close(errs)
	for err := range errs {
		t.Errorf("a client failed: %v", err)
	}
	t.Logf("%d GETs in %s with the view blocked", completed.Load(), time.Since(began).Round(time.Millisecond))
	c.tr.CloseIdleConnections()

	unblock()
	if err := tr.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	closed = true
	lines, warnings := recordingLines(t, rec)
	if len(warnings) > 0 {
		t.Errorf("recording warnings: %v", warnings)
	}
	recorded := byID(lines)
	missing := 0
	for i := range requests {
		if n := len(recorded[fmt.Sprintf("blocked-%s-%03d", runID, i)]); n != 1 {
			missing++
			if missing <= 5 {
				t.Errorf("GET %d has %d exchange records, want 1", i, n)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d GETs are not recorded exactly once", missing, requests)
	}
}

// jsonStatus decodes a metav1.Status body far enough for the tests.
type jsonStatus struct {
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Code    int    `json:"code"`
}

func decodeStatus(t testing.TB, body []byte) jsonStatus {
	t.Helper()
	var s jsonStatus
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("the body is not a Status: %v: %q", err, body)
	}
	return s
}
