package proxy

// Edge cases of the proxy against httptest servers: things a real API server
// will not do on demand (go away, speak SPDY without a pod, stream slowly).
// The end-to-end tests with real kubectl and the lab are in tracer/live.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/spdystream/spdy"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/record/recordtest"
)

const kubeconfigToken = "kubeconfig-token-abc"

func TestMain(m *testing.M) {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	os.Exit(m.Run())
}

// waitTime bounds how long a test waits for a line.
const waitTime = 10 * time.Second

type fixture struct {
	upstream *httptest.Server
	proxy    *Proxy
	sink     *recordtest.Lines
	client   *http.Client
	token    string
}

func start(t *testing.T, handler http.Handler) *fixture {
	t.Helper()
	up := httptest.NewTLSServer(handler)
	t.Cleanup(up.Close)
	return startFor(t, up)
}

func startFor(t testing.TB, up *httptest.Server, options ...func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	server, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw})
	target := &kubecfg.Target{
		Config:  &rest.Config{Host: up.URL, BearerToken: kubeconfigToken, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}},
		Context: "ctx",
		Server:  server,
	}
	ca, err := pki.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{upstream: up, sink: recordtest.NewLines(), token: kubecfg.NewSessionToken()}
	cfg2 := Config{Target: target, CA: ca, Sink: f.sink, SessionToken: f.token, MaxBody: 1 << 20}
	for _, o := range options {
		o(&cfg2)
	}
	f.proxy, err = New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.proxy.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	pu, _ := url.Parse(f.proxy.URL())
	f.client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

func (f *fixture) get(t *testing.T, path, auth string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", f.upstream.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s through kubewire: %v", path, err)
	}
	return resp
}

func exchangeLine(seqPath string) func(record.Line) bool {
	return func(l record.Line) bool {
		return l.Type == record.TypeExchange && strings.Contains(l.Exchange.Request.URL, seqPath)
	}
}

func TestCredentialsOnlyForTheSessionToken(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Authorization") + "|" + r.Header.Get("Audit-Id")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"PodList","items":[]}`)
	}))
	for path, auth := range map[string]string{
		"/api/v1/namespaces/a/pods": "Bearer " + f.token,
		"/api/v1/namespaces/b/pods": "Bearer curl-own-token",
		"/api/v1/namespaces/c/pods": "",
	} {
		resp := f.get(t, path, auth)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	want := map[string]string{
		"/api/v1/namespaces/a/pods": "Bearer " + kubeconfigToken,
		"/api/v1/namespaces/b/pods": "Bearer curl-own-token",
		"/api/v1/namespaces/c/pods": "",
	}
	for path, w := range want {
		mu.Lock()
		got, _, _ := strings.Cut(seen[path], "|")
		auditID := strings.SplitN(seen[path], "|", 2)[1]
		mu.Unlock()
		if got != w {
			t.Errorf("%s: upstream Authorization %q, want %q", path, got, w)
		}
		if len(auditID) != 36 {
			t.Errorf("%s: kubewire should set a UUID Audit-Id, got %q", path, auditID)
		}
		l := f.sink.WaitFor(t, path, waitTime, exchangeLine(path))
		x := l.Exchange
		if x.Response == nil || x.Response.Status != 200 || x.Response.Body.Text != `{"kind":"PodList","items":[]}` {
			t.Errorf("%s: recorded response %+v", path, x.Response)
		}
		rec, _ := json.Marshal(x)
		for _, secret := range []string{f.token, kubeconfigToken, "curl-own-token"} {
			if strings.Contains(string(rec), secret) {
				t.Errorf("%s: recording holds a credential: %s", path, rec)
			}
		}
		if w != "" && (x.Request.Upstream == nil || !strings.HasPrefix(x.Request.Upstream.Headers.Get("Authorization"), "Bearer REDACTED")) {
			t.Errorf("%s: upstream request not recorded with its (redacted) credentials: %+v", path, x.Request.Upstream)
		}
		if x.Annotation.Verb != "list" || x.Annotation.Resource != "pods" {
			t.Errorf("%s: annotation %+v", path, x.Annotation)
		}
	}
}

func TestRefusesOtherHosts(t *testing.T) {
	f := start(t, http.NotFoundHandler())
	conn, err := net.Dial("tcp", f.proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not an open proxy") {
		t.Errorf("CONNECT to another host: %d %q", resp.StatusCode, body)
	}
	// Plain HTTP proxying is refused too.
	pu, _ := url.Parse(f.proxy.URL())
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	r2, err := c.Get("http://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusForbidden {
		t.Errorf("plain HTTP proxy request: %d, want 403", r2.StatusCode)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	f := start(t, http.NotFoundHandler())
	p, err := New(Config{Target: f.proxy.cfg.Target, CA: f.proxy.cfg.CA, Sink: recordtest.NewLines(), Listen: "0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("want a loopback-only error, got %v", err)
	}
}

func TestUpstreamDownGives502Status(t *testing.T) {
	up := httptest.NewTLSServer(http.NotFoundHandler())
	f := startFor(t, up)
	up.Close() // the API server goes away
	resp := f.get(t, "/api/v1/namespaces/demo/pods", "Bearer "+f.token)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st map[string]any
	if resp.StatusCode != http.StatusBadGateway || json.Unmarshal(body, &st) != nil || st["kind"] != "Status" ||
		!strings.Contains(fmt.Sprint(st["message"]), "could not reach the API server") {
		t.Fatalf("want a 502 Status, got %d %s", resp.StatusCode, body)
	}
	x := f.sink.WaitFor(t, "failed exchange", waitTime, exchangeLine("/pods")).Exchange
	if x.Response != nil || x.Error == nil || x.Error.Phase != "upstream" || x.Error.Status != 502 {
		t.Errorf("want exactly an upstream error in the record, got response=%+v error=%+v", x.Response, x.Error)
	}
}

// A watch is relayed event by event: the client sees the first event while
// the server is still holding the stream open, and each event is recorded
// as its own line.
func TestWatchStreamsEventByEvent(t *testing.T) {
	release := make(chan struct{})
	f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" {
			http.NotFound(w, r) // kubewire's own discovery
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fl := w.(http.Flusher)
		// One event split across two writes, then a second event.
		io.WriteString(w, `{"type":"ADDED","object":{"kind":"Namespace","metadata":{"name":"a"}}}`+"\n"+`{"type":"MOD`)
		fl.Flush()
		<-release
		io.WriteString(w, `IFIED","object":{"kind":"Namespace","metadata":{"name":"a"}}}`+"\n")
		fl.Flush()
	}))
	resp := f.get(t, "/api/v1/namespaces?watch=true", "Bearer "+f.token)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || !strings.Contains(first, `"ADDED"`) {
		t.Fatalf("first event not relayed before the stream ended: %q %v", first, err)
	}
	f.sink.WaitFor(t, "exchange start", waitTime, func(l record.Line) bool {
		return l.Type == record.TypeExchange && l.Exchange.Response != nil && l.Exchange.Response.Stream
	})
	f.sink.WaitFor(t, "ADDED event", waitTime, func(l record.Line) bool { return l.Type == record.TypeEvent && l.Event.Type == "ADDED" })
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), `"MODIFIED"`) {
		t.Fatalf("second event: %q", rest)
	}
	ev := f.sink.WaitFor(t, "MODIFIED event", waitTime, func(l record.Line) bool { return l.Type == record.TypeEvent && l.Event.Type == "MODIFIED" })
	if !strings.HasPrefix(ev.Event.Body.Text, `{"type":"MODIFIED"`) {
		t.Errorf("event body should be the whole event: %q", ev.Event.Body.Text)
	}
	f.sink.WaitFor(t, "end", waitTime, func(l record.Line) bool { return l.Type == record.TypeEnd })
}

// A client that hangs up in the middle of a watch ends it at once: the
// upstream request is ended and the end recorded, not held until an event
// that the client would never receive.
func TestWatchEndsWhenTheClientHangsUp(t *testing.T) {
	upstreamDone := make(chan struct{})
	quit := make(chan struct{})
	f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"type":"ADDED","object":{"kind":"Namespace","metadata":{"name":"a"}}}`+"\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(upstreamDone)
		case <-quit: // the test is over
		}
	}))
	t.Cleanup(func() { close(quit) })
	resp := f.get(t, "/api/v1/namespaces?watch=true", "Bearer "+f.token)
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(first, `"ADDED"`) {
		t.Fatalf("first event: %q %v", first, err)
	}
	f.sink.WaitFor(t, "ADDED event", waitTime, func(l record.Line) bool { return l.Type == record.TypeEvent && l.Event.Type == "ADDED" })
	// Closing an unfinished body closes the client's connection.
	resp.Body.Close()
	f.client.CloseIdleConnections()
	end := f.sink.WaitFor(t, "the watch's end after the client hung up", waitTime, func(l record.Line) bool { return l.Type == record.TypeEnd })
	if end.End.Error != nil {
		t.Errorf("a client ending its watch is a normal end, got %+v", end.End.Error)
	}
	select {
	case <-upstreamDone:
	case <-time.After(waitTime):
		t.Fatal("the upstream watch went on after the client hung up")
	}
}

// upgradeServer answers an upgrade with 101 and then echoes what comes on
// stdin to stdout, like the API server relaying exec to a cat: over
// WebSocket with the v5.channel.k8s.io subprotocol, or over SPDY/3.1 on the
// streams the client opened.
func upgradeServer(t *testing.T) *httptest.Server {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto := r.Header.Get("Upgrade")
		if !strings.EqualFold(r.Header.Get("Connection"), "Upgrade") || proto == "" {
			http.Error(w, "want an upgrade, got Connection="+r.Header.Get("Connection"), http.StatusBadRequest)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		if proto == "websocket" {
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n")
			rw.Flush()
			msg, err := readWSFrame(rw.Reader)
			if err != nil || len(msg) == 0 || msg[0] != 0 {
				return
			}
			rw.Write(wsFrame(false, append([]byte{1}, "echo: "+string(msg[1:])...)))
			rw.Flush()
			return
		}
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", proto)
		rw.Flush()
		fr, err := spdy.NewFramer(rw, rw)
		if err != nil {
			return
		}
		streams := map[string]spdy.StreamId{}
		for {
			frame, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := frame.(type) {
			case *spdy.SynStreamFrame:
				streams[f.Headers.Get("streamtype")] = f.StreamId
			case *spdy.DataFrame:
				fr.WriteFrame(&spdy.DataFrame{StreamId: streams["stdout"], Data: append([]byte("echo: "), f.Data...)})
				rw.Flush()
				return
			}
		}
	}))
	up.EnableHTTP2 = true // the upgrade must still use HTTP/1.1 upstream
	up.StartTLS()
	t.Cleanup(up.Close)
	return up
}

// wsFrame is one final binary WebSocket frame; a client's is masked.
func wsFrame(masked bool, payload []byte) []byte {
	b := []byte{0x82}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := []byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// readWSFrame reads one short client frame and unmasks it.
func readWSFrame(r io.Reader) ([]byte, error) {
	h := make([]byte, 6)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, err
	}
	n := int(h[1] & 0x7f)
	if h[1]&0x80 == 0 || n >= 126 {
		return nil, fmt.Errorf("want a short masked frame, got % x", h[:2])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	for i := range p {
		p[i] ^= h[2+i%4]
	}
	return p, nil
}

// upgradeExec opens a tunnel through the proxy the way kubectl does and
// asks to upgrade an exec to proto; the connection closes with the test.
func upgradeExec(t *testing.T, f *fixture, proto string) (*tls.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", f.proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	host := strings.TrimPrefix(f.upstream.URL, "https://")
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.proxy.cfg.CA.PEM)
	tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
	fmt.Fprintf(tc, "POST /api/v1/namespaces/demo/pods/web/exec?command=cat HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: Upgrade\r\nUpgrade: %s\r\nContent-Length: 0\r\n\r\n", host, f.token, proto)
	tbr := bufio.NewReader(tc)
	resp, err := http.ReadResponse(tbr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tc, tbr, resp
}

// exec and attach over both protocols: relayed byte for byte, decoded into
// channels, and stdin recorded only with RecordStdin (by default, its size).
func TestUpgradesRelayBothProtocols(t *testing.T) {
	for _, tc := range []struct {
		proto       string
		recordStdin bool
	}{{"SPDY/3.1", false}, {"websocket", false}, {"SPDY/3.1", true}, {"websocket", true}} {
		proto, recordStdin := tc.proto, tc.recordStdin
		t.Run(fmt.Sprintf("%s record-stdin=%v", proto, recordStdin), func(t *testing.T) {
			f := startFor(t, upgradeServer(t), func(c *Config) { c.RecordStdin = recordStdin })
			tc, tbr, resp := upgradeExec(t, f, proto)
			if resp.StatusCode != 101 || !strings.Contains(strings.ToLower(resp.Header.Get("Upgrade")), strings.ToLower(proto)) {
				t.Fatalf("want 101 with Upgrade %s, got %d %v", proto, resp.StatusCode, resp.Header)
			}
			var got string
			if proto == "websocket" {
				tc.Write(wsFrame(true, []byte("\x00hello\n")))
				msg, err := io.ReadAll(io.LimitReader(tbr, int64(2+1+len("echo: hello\n"))))
				if err != nil || string(msg[2:]) != "\x01echo: hello\n" {
					t.Fatalf("relay: %q %v", msg, err)
				}
				got = string(msg[3:])
			} else {
				fr, err := spdy.NewFramer(tc, tbr)
				if err != nil {
					t.Fatal(err)
				}
				for i, typ := range []string{"stdin", "stdout"} {
					h := http.Header{}
					h.Set("streamtype", typ)
					if err := fr.WriteFrame(&spdy.SynStreamFrame{StreamId: spdy.StreamId(2*i + 1), Headers: h}); err != nil {
						t.Fatal(err)
					}
				}
				if err := fr.WriteFrame(&spdy.DataFrame{StreamId: 1, Data: []byte("hello\n")}); err != nil {
					t.Fatal(err)
				}
				frame, err := fr.ReadFrame()
				d, ok := frame.(*spdy.DataFrame)
				if err != nil || !ok || d.StreamId != 3 {
					t.Fatalf("relay: %#v %v", frame, err)
				}
				got = string(d.Data)
			}
			if got != "echo: hello\n" {
				t.Fatalf("relay: %q", got)
			}
			// Each direction is decoded into messages on named channels.
			stdin := f.sink.WaitFor(t, "up event on stdin", waitTime, func(l record.Line) bool {
				return l.Type == record.TypeEvent && l.Event.Direction == "up" && l.Event.Channel == "stdin" && l.Event.Type == "data"
			}).Event.Body
			switch {
			case stdin.Bytes != int64(len("hello\n")):
				t.Errorf("stdin's size %d, want %d", stdin.Bytes, len("hello\n"))
			case recordStdin && (string(stdin.Data()) != "hello\n" || stdin.Omitted):
				t.Errorf("with RecordStdin, stdin %+v should be recorded", stdin)
			case !recordStdin && (len(stdin.Data()) != 0 || !stdin.Omitted):
				t.Errorf("stdin %+v should not be recorded", stdin)
			}
			f.sink.WaitFor(t, "down event on stdout", waitTime, func(l record.Line) bool {
				return l.Type == record.TypeEvent && l.Event.Direction == "down" && l.Event.Channel == "stdout" && string(l.Event.Body.Data()) == "echo: hello\n"
			})
			if proto != "websocket" {
				f.sink.WaitFor(t, "stdout opened", waitTime, func(l record.Line) bool {
					return l.Type == record.TypeEvent && l.Event.Type == "open" && l.Event.Channel == "stdout" && l.Event.Body == nil
				})
			}
			x := f.sink.WaitFor(t, "exchange", waitTime, exchangeLine("/exec")).Exchange
			want := map[string]string{"SPDY/3.1": "spdy", "websocket": "websocket"}[proto]
			if x.Annotation.Upgrade != want || x.Annotation.Subresource != "exec" || x.Response.Status != 101 {
				t.Errorf("annotation %+v status %d", x.Annotation, x.Response.Status)
			}
		})
	}
}

func TestOwnCommand(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want string
		ok   bool
	}{
		{OwnUserAgent("v0.1.0", "whoami"), "whoami", true},
		{OwnUserAgent("(devel)", "can-i"), "can-i", true},
		// client-go's default User-Agent for a binary named kubewire.
		{"kubewire/v0.0.0 (linux/amd64) kubernetes/$Format", "", false},
		{"kubectl/v1.37.2 (linux/amd64) kubernetes/$Format", "", false},
		// The proxy's own lookups are never a command.
		{OwnUserAgent("v0.1.0", "proxy"), "", false},
		{"kubewire/v0.1.0 (whoami) extra", "", false},
		{"kubewire/v0.1.0 ()", "", false},
		{"", "", false},
	} {
		got, ok := OwnCommand(tc.ua)
		if got != tc.want || ok != tc.ok {
			t.Errorf("OwnCommand(%q) = %q, %v; want %q, %v", tc.ua, got, ok, tc.want, tc.ok)
		}
	}
}

// A response the client abandons is recorded as it really ended: cut
// short, with the client's part in it.
func TestAbandonedBodyIsRecordedCutShort(t *testing.T) {
	const size = 4 << 20
	f := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := strings.Repeat("x", 32<<10)
		for i := 0; i < size/len(chunk); i++ {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	resp := f.get(t, "/api/v1/namespaces/demo/pods/web/log", "Bearer "+f.token)
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	resp.Body.Close() // before the end: the transport drops the connection
	f.client.CloseIdleConnections()
	x := f.sink.WaitFor(t, "exchange", waitTime, exchangeLine("/log")).Exchange
	t.Logf("abandoned recorded after %s", time.Since(t0))
	if x.StreamError == nil || x.StreamError.Phase != "client" || !strings.Contains(x.StreamError.Message, fmt.Sprintf("of %d bytes", size)) {
		t.Fatalf("stream error %+v", x.StreamError)
	}
	if b := x.Response.Body; !b.Truncated || b.Bytes >= size {
		t.Errorf("body %d bytes, truncated %v: want cut short", b.Bytes, b.Truncated)
	}

	// Read to its end, the same response is complete.
	resp = f.get(t, "/api/v1/namespaces/demo/pods/web2/log", "Bearer "+f.token)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	x = f.sink.WaitFor(t, "exchange", waitTime, exchangeLine("/web2/log")).Exchange
	if x.StreamError != nil || x.Response.Body.Bytes != size {
		t.Errorf("a complete body recorded with error %+v, %d bytes", x.StreamError, x.Response.Body.Bytes)
	}
}

// diagnostics collects what the proxy reports.
type diagnostics struct {
	mu   sync.Mutex
	msgs []string
}

func (d *diagnostics) Printf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.msgs = append(d.msgs, fmt.Sprintf(format, args...))
}

func (d *diagnostics) all() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.msgs, "\n")
}

// An exec whose client never hangs up does not hold shutdown: it is cut
// short, recorded so, and the user is told which exchange it was.
func TestShutdownCutsShortWhatDoesNotFinish(t *testing.T) {
	diag := &diagnostics{}
	f := startFor(t, upgradeServer(t), func(c *Config) { c.Diagnostics, c.ShutdownWait = diag, 500*time.Millisecond })
	if _, _, resp := upgradeExec(t, f, "SPDY/3.1"); resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v", resp.Status)
	}
	f.sink.WaitFor(t, "the exec's exchange", waitTime, exchangeLine("/exec"))
	if err := f.proxy.Close(); err != nil {
		t.Fatal(err)
	}
	end := f.sink.WaitFor(t, "the exec's end", waitTime, func(l record.Line) bool { return l.Type == record.TypeEnd })
	if end.End.Error == nil || end.End.Error.Phase != "proxy" || !strings.Contains(end.End.Error.Message, "kubewire stopped") {
		t.Errorf("end %+v: want cut short by kubewire", end.End.Error)
	}
	if got := diag.all(); !strings.Contains(got, "1 exchange(s) had not finished") || !strings.Contains(got, "POST /api/v1/namespaces/demo/pods/web/exec") {
		t.Errorf("the user is not told which exchange was cut short: %q", got)
	}
}

func TestProblemsAreShownOnceAndReadable(t *testing.T) {
	var out strings.Builder
	p := NewProblems(&out)
	for i := range 3 {
		p.Printf("[%03d] WARN: Cannot handshake client 127.0.0.1:%d remote error: tls: unknown certificate authority\n", i, 40000+i)
	}
	p.Printf("[004] WARN: Cannot write response from mitm'd client: write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe")
	p.Printf("some exchange failed with Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJlc2ln")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	want := "kubewire: proxy: a client could not complete TLS with kubewire (remote error: tls: unknown certificate authority); does it trust kubewire's CA? see 'kubewire ca'\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("first line:\n got %q\nwant %q", got, want)
	}
	if strings.Count(got, "could not complete TLS") != 2 || !strings.Contains(got, "kubewire: proxy: 2 times more: a client could not") {
		t.Errorf("a repeated problem should be shown once, then counted:\n%s", got)
	}
	if strings.Contains(got, "broken pipe") || strings.Contains(got, "WARN") || strings.Contains(got, "eyJzdWIi") {
		t.Errorf("noise or a secret reached the user:\n%s", got)
	}
}

// With Routes, each tunnel reaches the cluster it was opened to, and each
// placeholder token sends its own user's credentials; any other token is
// the client's own.
func TestRoutesByClusterAndUser(t *testing.T) {
	seen := make(chan string, 8)
	server := func(name string) *httptest.Server {
		s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/") { // not kubewire's own discovery
				seen <- name + " " + r.Header.Get("Authorization")
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"kind":"Status","status":"Success"}`)
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := server("a"), server("b")
	target := func(s *httptest.Server, token string) *kubecfg.Target {
		u, _ := url.Parse(s.URL)
		pool := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
		return &kubecfg.Target{Config: &rest.Config{Host: s.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: pool}}, Server: u}
	}
	servers := map[string]*httptest.Server{"a": a, "b": b}
	routes := &kubecfg.Routes{
		Clusters: map[string]string{strings.TrimPrefix(a.URL, "https://"): "a", strings.TrimPrefix(b.URL, "https://"): "b"},
		Tokens:   map[string]string{"tok-x": "x", "tok-y": "y"},
		Resolve: func(cluster, user string) (*kubecfg.Target, error) {
			tg := target(servers[cluster], "")
			if user != "" {
				tg = target(servers[cluster], "cred-"+user)
			}
			return tg, nil
		},
	}
	ca, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sink := recordtest.NewLines()
	p, err := New(Config{Target: target(a, "cred-x"), Routes: routes, CA: ca, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	pu, _ := url.Parse(p.URL())
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(c.CloseIdleConnections)
	for _, tc := range []struct{ server, token, want string }{
		{"a", "tok-x", "a Bearer cred-x"},
		{"b", "tok-y", "b Bearer cred-y"},
		{"b", "tok-x", "b Bearer cred-x"},
		{"a", "the-clients-own", "a Bearer the-clients-own"},
	} {
		req, _ := http.NewRequest("GET", servers[tc.server].URL+"/api/v1/namespaces/demo/pods", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := <-seen; got != tc.want {
			t.Errorf("token %s to %s: the server saw %q, want %q", tc.token, tc.server, got, tc.want)
		}
	}
	// Any other host is refused: kubewire is not an open proxy.
	req, _ := http.NewRequest("GET", "https://127.0.0.1:1/api", nil)
	if _, err := c.Do(req); err == nil {
		t.Error("a host outside the routes was tunnelled")
	}
}
