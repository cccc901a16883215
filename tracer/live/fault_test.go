package live

// Faults: an API server that is down, that breaks off a response, that
// answers after the client gave up, and clients that leave a watch. The
// API server misbehaving is an httptest server standing in for it; the
// clients are the lab's kubectl or a plain HTTPS client through kubewire.

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
)

// fakeContext names the cluster, user and context of a fake API server's
// kubeconfig.
const fakeContext = "fake"

// fakeAPIServer starts an HTTPS server standing in for the API server:
// handler answers every call, kubewire's own (discovery, flow schemas)
// included. It returns the server and a kubeconfig for it.
func fakeAPIServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	up := httptest.NewTLSServer(handler)
	t.Cleanup(up.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw})
	return up, writeKubeconfig(t, up.URL, ca)
}

// writeKubeconfig writes a kubeconfig for server with a bearer token;
// without ca the server's certificate is not checked.
func writeKubeconfig(t *testing.T, server string, ca []byte) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[fakeContext] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca, InsecureSkipTLSVerify: ca == nil}
	cfg.AuthInfos[fakeContext] = &clientcmdapi.AuthInfo{Token: "fake-upstream-token"}
	cfg.Contexts[fakeContext] = &clientcmdapi.Context{Cluster: fakeContext, AuthInfo: fakeContext, Namespace: "demo"}
	cfg.CurrentContext = fakeContext
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// traceOf starts kubewire on kubeconfig, recording to a file; errOut gets
// what kubewire tells the user.
func traceOf(t *testing.T, kubeconfig string) (*traced, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	v := recordtest.NewLines()
	rec := filepath.Join(dir, "s.jsonl")
	errOut := &syncBuffer{}
	tr, err := Start(context.Background(), Options{
		Kubeconfig: kubeconfig, Recordings: []Recording{{Flag: "--record", Path: rec}}, View: v, Version: "test",
		CADir: filepath.Join(dir, "ca"), ErrOut: errOut,
	}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return &traced{tr: tr, view: v, record: rec}, errOut
}

// closeAndRead closes the trace and reads its recording back line by
// line; a trace closed cleanly leaves no warning.
func (x *traced) closeAndRead(t *testing.T) []record.Line {
	t.Helper()
	if err := x.tr.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	lines, warnings := recordingLines(t, x.record)
	if len(warnings) > 0 {
		t.Errorf("recording warnings: %v", warnings)
	}
	return lines
}

// theExchange is the one exchange record of the request tagged id.
func theExchange(t *testing.T, lines []record.Line, id string) *record.Exchange {
	t.Helper()
	xs := byID(lines)[id]
	if len(xs) != 1 {
		t.Fatalf("%d exchange records of request %s, want 1", len(xs), id)
	}
	return xs[0]
}

// linesOf are the event and end lines of exchange seq.
func linesOf(lines []record.Line, seq int64) (events []*record.Event, ends []*record.End) {
	for _, l := range lines {
		if l.Seq != seq {
			continue
		}
		switch l.Type {
		case record.TypeEvent:
			events = append(events, l.Event)
		case record.TypeEnd:
			ends = append(ends, l.End)
		}
	}
	return events, ends
}

// exchangeTagged matches the exchange line of the request tagged id.
func exchangeTagged(id string) func(record.Line) bool {
	return func(l record.Line) bool {
		return l.Type == record.TypeExchange && l.Exchange.Request.Headers.Get(idHeader) == id
	}
}

// waitExchange waits at most d for the exchange line of the request tagged
// id, nil if none came.
func waitExchange(v *recordtest.Lines, id string, d time.Duration) *record.Exchange {
	deadline := time.Now().Add(d)
	for {
		for _, l := range v.Snapshot() {
			if exchangeTagged(id)(l) {
				return l.Exchange
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(20 * time.Millisecond) // polling the lines: a bounded wait, not a synchronisation
	}
}

// describeExchange says how a record says an exchange ended.
func describeExchange(x *record.Exchange) string {
	var parts []string
	if x.Response != nil {
		parts = append(parts, fmt.Sprintf("status %d", x.Response.Status))
		if b := x.Response.Body; b != nil {
			parts = append(parts, fmt.Sprintf("body %d bytes, truncated %v", b.Bytes, b.Truncated))
		}
	}
	if x.Error != nil {
		parts = append(parts, fmt.Sprintf("error %q (phase %s, status %d)", x.Error.Message, x.Error.Phase, x.Error.Status))
	}
	if x.StreamError != nil {
		parts = append(parts, fmt.Sprintf("stream error %q (phase %s)", x.StreamError.Message, x.StreamError.Phase))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// An API server down from the start: kubectl says kubewire could not reach
// it, a client reading a Status gets a 502 that says so, the user is told
// on kubewire's stderr, and each call is recorded with its error.
func TestUpstreamDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	x, errOut := traceOf(t, writeKubeconfig(t, "https://"+addr, nil))

	_, stderr, err := x.kubectl(t, "", "get", "configmaps", "-n", "demo")
	if err == nil {
		t.Fatalf("kubectl succeeded against an API server that is down")
	}
	want := "kubewire could not reach the API server at " + addr
	if !strings.Contains(stderr, want) {
		t.Errorf("kubectl does not say %q:\n%s", want, stderr)
	}

	c := newWireClient(t, x.tr, 30*time.Second, nil)
	status, body, err := c.get(context.Background(), fakeContext, "/api/v1/namespaces/demo/configmaps", "down-"+runID)
	if err != nil {
		t.Fatalf("the client got no answer: %v (want a 502 Status)", err)
	}
	s := decodeStatus(t, body)
	if status != http.StatusBadGateway || s.Kind != "Status" || s.Code != http.StatusBadGateway || !strings.Contains(s.Message, want) {
		t.Errorf("got %d %+v, want a 502 Status saying %q", status, s, want)
	}

	lines := x.closeAndRead(t)
	ex := theExchange(t, lines, "down-"+runID)
	if ex.Response != nil || ex.Error == nil || ex.Error.Phase != "upstream" || ex.Error.Status != http.StatusBadGateway ||
		!strings.Contains(ex.Error.Message, want) {
		t.Errorf("the call is recorded as %s; want an upstream error, status 502, saying %q", describeExchange(ex), want)
	}
	kubectlCalls := 0
	for _, l := range lines {
		if l.Type != record.TypeExchange || l.Exchange.Own || l.Exchange.Request.Headers.Get(idHeader) != "" {
			continue
		}
		kubectlCalls++
		if l.Exchange.Error == nil || l.Exchange.Response != nil {
			t.Errorf("kubectl's call #%d %s is recorded as %s; want its error", l.Seq, l.Exchange.Request.URL, describeExchange(l.Exchange))
		}
	}
	if kubectlCalls == 0 {
		t.Errorf("none of kubectl's calls is recorded")
	}
	if got := errOut.String(); !strings.Contains(got, "kubewire could not reach the API server") {
		t.Errorf("kubewire's stderr does not tell the user: %q", got)
	}
}

// An API server that breaks off a list or a watch in the middle: the
// client sees the response break (not a clean end), and the recording
// marks the exchange cut short by the upstream, or the stream ended with
// an error, and reads back.
func TestUpstreamCutMidResponse(t *testing.T) {
	const item = `{"metadata":{"name":"cm-%04d","namespace":"demo"},"data":{"k":"%s"}},`
	filler := strings.Repeat("v", 1000)
	// cut serves path by writing the start of a response with write, then,
	// once the client has read some of it (or left), drops the connection.
	cut := func(t *testing.T, path string, write func(w http.ResponseWriter)) (*traced, chan struct{}) {
		read := make(chan struct{})
		_, kc := fakeAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			write(w)
			w.(http.Flusher).Flush()
			select {
			case <-read:
			case <-r.Context().Done():
			}
			panic(http.ErrAbortHandler) // the connection drops, the response unfinished
		})
		x, _ := traceOf(t, kc)
		return x, read
	}
	const listPath = "/api/v1/namespaces/demo/configmaps"
	for _, announced := range []bool{true, false} {
		name := map[bool]string{true: "list with Content-Length", false: "chunked list"}[announced]
		t.Run(name, func(t *testing.T) {
			const length = 4 << 20
			x, read := cut(t, listPath, func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				if announced {
					w.Header().Set("Content-Length", fmt.Sprint(length))
				}
				io.WriteString(w, `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[`)
				for i := range 200 {
					fmt.Fprintf(w, item, i, filler)
				}
			})
			c := newWireClient(t, x.tr, 30*time.Second, nil)
			id := "cut-list-" + runID
			resp, err := c.http.Do(c.request(context.Background(), fakeContext, listPath, id))
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			defer resp.Body.Close()
			if _, err := io.ReadFull(resp.Body, make([]byte, 10000)); err != nil {
				t.Fatalf("the start of the list did not come through: %v", err)
			}
			close(read)
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil {
				t.Errorf("the client read the list to a clean end (%d more bytes) although the API server broke it off", n)
			}
			t.Logf("the client saw: %v", err)

			ex := theExchange(t, x.closeAndRead(t), id)
			if ex.Response == nil || ex.Response.Status != 200 || ex.Response.Body == nil || !ex.Response.Body.Truncated ||
				ex.StreamError == nil || ex.StreamError.Phase != "upstream" {
				t.Errorf("the list is recorded as %s; want status 200, the body truncated, a stream error from upstream", describeExchange(ex))
			}
			if ex.Response != nil && ex.Response.Body != nil && ex.Response.Body.Bytes >= length {
				t.Errorf("the recorded body has %d bytes: all the server announced, not what it sent", ex.Response.Body.Bytes)
			}
		})
	}
	t.Run("watch", func(t *testing.T) {
		x, read := cut(t, listPath, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			for i := range 2 {
				fmt.Fprintf(w, `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm-%d","namespace":"demo","resourceVersion":"%d"}}}`+"\n", i, i+10)
			}
		})
		c := newWireClient(t, x.tr, 30*time.Second, nil)
		id := "cut-watch-" + runID
		resp, err := c.http.Do(c.request(context.Background(), fakeContext, listPath+"?watch=1", id))
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for i := range 2 {
			var ev struct{ Type string }
			if err := dec.Decode(&ev); err != nil || ev.Type != "ADDED" {
				t.Fatalf("event %d: %+v %v", i, ev, err)
			}
		}
		close(read)
		var more json.RawMessage
		err = dec.Decode(&more)
		if err == nil || errors.Is(err, io.EOF) {
			t.Errorf("the watch ended cleanly for the client (%v, %q) although the API server broke it off", err, more)
		}
		t.Logf("the client saw: %v", err)

		lines := x.closeAndRead(t)
		ex := theExchange(t, lines, id)
		if ex.Response == nil || !ex.Response.Stream {
			t.Fatalf("the watch is recorded as %s, not as a stream", describeExchange(ex))
		}
		events, ends := linesOf(lines, ex.Seq)
		if len(events) != 2 || events[0].Type != "ADDED" || events[1].Type != "ADDED" {
			t.Errorf("recorded events %+v, want the 2 ADDED the server sent", events)
		}
		if len(ends) != 1 {
			t.Fatalf("%d end lines for the watch, want 1", len(ends))
		}
		if e := ends[0].Error; e == nil || e.Phase != "upstream" {
			t.Errorf("the watch's end is recorded with error %+v; want the upstream's", e)
		}
	})
}

// An API server slower than the client's timeout: the client gets its
// timeout, and the exchange is recorded, promptly, as one whose client had
// gone (an error from the client's side, or a response cut short by it),
// not as an answer delivered.
func TestSlowUpstreamRecordsTheClientGone(t *testing.T) {
	const timeout = time.Second
	cases := []struct {
		name string
		// size is the length of the answer the API server sends once the
		// client has given up; 0 never answers (until kubewire ends the
		// request).
		size int
	}{
		{"small answer after the timeout", 300},
		{"large answer after the timeout", 4 << 20},
		{"no answer", 0},
	}
	for _, proto := range protos {
		for _, tc := range cases {
			t.Run(proto+"/"+tc.name, func(t *testing.T) { slowUpstream(t, proto, tc.size, timeout) })
		}
	}
}

// slowUpstream is one case of TestSlowUpstreamRecordsTheClientGone: a
// client speaking proto gives up after timeout, and the API server sends
// an answer of size bytes after that (0: none).
func slowUpstream(t *testing.T, proto string, size int, timeout time.Duration) {
	release := make(chan struct{})
	noticed := make(chan struct{})
	var once, noticedOnce sync.Once
	_, kc := fakeAPIServer(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/demo/configmaps/slow") {
			http.NotFound(w, r)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
			// kubewire saw the client hang up and ended the
			// upstream request.
			noticedOnce.Do(func() { close(noticed) })
			return
		}
		if size == 0 {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		head := `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"slow","namespace":"demo"},"data":{"k":"`
		io.WriteString(w, head+strings.Repeat("v", size-len(head)-3)+`"}}`)
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	x, _ := traceOf(t, kc)
	c := newWireClientOver(t, proto, x.tr, timeout, nil)
	id := "slow-" + runID
	_, _, err := c.get(context.Background(), fakeContext, "/api/v1/namespaces/demo/configmaps/slow", id)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("the client got %v, want its own timeout", err)
	}
	c.tr.CloseIdleConnections()
	gaveUp := time.Now()
	if size > 0 {
		// The answer comes once kubewire has noticed the client
		// leave (the request above then ends, unanswered), or
		// after a second if it has not: an answer that reaches
		// kubewire before it can have read the client's hang-up
		// (on a busy machine, within milliseconds of it) is
		// relayed into a socket whose write still succeeds, and
		// cannot be told from one delivered. That race is not
		// what this test is about.
		select {
		case <-noticed:
		case <-time.After(time.Second):
		}
		once.Do(func() { close(release) })
	}
	ex := waitExchange(x.view, id, 5*time.Second)
	if ex == nil {
		// What kubewire records once it is closed tells how it
		// missed the client's end.
		at := "nothing"
		if xs := byID(x.closeAndRead(t))[id]; len(xs) > 0 {
			at = describeExchange(xs[0])
		}
		t.Fatalf("the exchange whose client gave up is not recorded %s after the client's timeout: kubewire did not notice "+
			"the client leave, and kept the upstream request open (once the trace is closed, it is recorded as %s)", 5*time.Second, at)
	}
	t.Logf("recorded %s after the client gave up", time.Since(gaveUp).Round(time.Millisecond))
	if ex.Request.Proto != wireProto[proto] {
		t.Errorf("a client meant to speak %s is recorded as speaking %s", proto, ex.Request.Proto)
	}
	if (ex.Error == nil || ex.Error.Phase != "client") && (ex.StreamError == nil || ex.StreamError.Phase != "client") {
		t.Errorf("the client gave up after its %s timeout, yet the exchange is recorded as %s: "+
			"want it marked as the client's (an error of phase client, such as 499, or a response the client cut short)", timeout, describeExchange(ex))
	}
	theExchange(t, x.closeAndRead(t), id)
}

// Watch clients that leave, each way a client can: closing the response
// body, closing its connection, or resetting it. Each watch's end line is
// recorded promptly, as a normal end, and only once.
func TestWatchClientGoneEndsPromptly(t *testing.T) {
	const prompt = 5 * time.Second
	x := trace(t, false)
	ways := []string{"close the body", "close the connection", "reset the connection"}
	var slowest time.Duration
	n := 2 * len(ways) * len(protos)
	for i := range n {
		way, proto := ways[i%len(ways)], protos[i/len(ways)%len(protos)]
		var mu sync.Mutex
		var conn net.Conn
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			mu.Lock()
			conn = c
			mu.Unlock()
			return c, err
		}
		c := newWireClientOver(t, proto, x.tr, 0, dial)
		id := fmt.Sprintf("gone-%s-%d", runID, i)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		resp, err := c.http.Do(c.request(ctx, "admin", "/api/v1/namespaces/demo/configmaps?watch=1", id))
		if err != nil {
			cancel()
			t.Fatalf("watch %d: %v", i, err)
		}
		open := x.view.WaitFor(t, "the watch's exchange line", 30*time.Second, exchangeTagged(id))
		if open.Exchange.Response == nil || !open.Exchange.Response.Stream {
			t.Fatalf("watch %d is recorded as %s, not as a stream", i, describeExchange(open.Exchange))
		}
		if got := open.Exchange.Request.Proto; got != wireProto[proto] || resp.Proto != wireProto[proto] {
			t.Fatalf("watch %d: a client meant to speak %s spoke %s to kubewire, recorded as %s", i, proto, resp.Proto, got)
		}
		left := time.Now()
		switch way {
		case "close the body":
			resp.Body.Close()
		case "close the connection":
			mu.Lock()
			conn.Close()
			mu.Unlock()
		case "reset the connection":
			mu.Lock()
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close sends a reset
			}
			conn.Close()
			mu.Unlock()
		}
		end := x.view.WaitFor(t, fmt.Sprintf("the end line of watch %d once its %s client left (%s)", i, proto, way), prompt, func(l record.Line) bool {
			return l.Type == record.TypeEnd && l.Seq == open.Seq
		})
		took := time.Since(left)
		slowest = max(slowest, took)
		if end.End.Error != nil {
			t.Errorf("watch %d (%s, %s): a client leaving should be a normal end, got %+v", i, proto, way, end.End.Error)
		}
		resp.Body.Close()
		cancel()
	}
	t.Logf("slowest end line after its client left: %s", slowest.Round(time.Millisecond))
	lines := x.closeAndRead(t)
	watches := 0
	for id, xs := range byID(lines) {
		if !strings.HasPrefix(id, "gone-") {
			continue
		}
		watches++
		if _, ends := linesOf(lines, xs[0].Seq); len(xs) != 1 || len(ends) != 1 {
			t.Errorf("watch %s: %d exchange lines and %d end lines, want 1 and 1", id, len(xs), len(ends))
		}
	}
	if watches != n {
		t.Errorf("%d watches recorded, want %d", watches, n)
	}
}

// Over HTTP/2 a watch shares its connection with the client's other calls
// (kubectl's own watch and gets do): while it streams, those calls go on,
// and the watch still ends promptly when its client cancels it.
func TestHTTP2WatchSharesItsConnection(t *testing.T) {
	x := trace(t, false)
	var dials atomic.Int32
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := newWireClientOver(t, "HTTP/2", x.tr, 0, dial)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	watchCtx, stopWatch := context.WithCancel(ctx)
	id := "shared-watch-" + runID
	resp, err := c.http.Do(c.request(watchCtx, "admin", "/api/v1/namespaces/default/configmaps?watch=1", id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Proto != "HTTP/2.0" {
		t.Fatalf("the client speaks %s to kubewire, want HTTP/2.0", resp.Proto)
	}
	open := x.view.WaitFor(t, "the watch's exchange line", 30*time.Second, exchangeTagged(id))
	for i := range 20 {
		getCtx, done := context.WithTimeout(ctx, 10*time.Second)
		status, _, err := c.get(getCtx, "admin", "/api/v1/namespaces/default", fmt.Sprintf("shared-get-%s-%d", runID, i))
		done()
		if err != nil || status != http.StatusOK {
			t.Fatalf("get %d beside the watch, on its connection: %d, %v", i, status, err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("the client dialled kubewire %d times, want 1: its calls should share the watch's connection", n)
	}
	stopWatch()
	end := x.view.WaitFor(t, "the watch's end line once its client cancelled it", 5*time.Second, func(l record.Line) bool {
		return l.Type == record.TypeEnd && l.Seq == open.Seq
	})
	if end.End.Error != nil {
		t.Errorf("a watch its client cancelled should end normally, got %+v", end.End.Error)
	}
}
