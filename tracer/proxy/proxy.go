// Package proxy is kubewire's man-in-the-middle proxy: a goproxy HTTPS proxy
// on loopback that terminates the client's TLS with kubewire's own CA,
// forwards each request to the API server over a client-go transport built
// from the user's kubeconfig, and records every exchange as it happens.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"
	"k8s.io/client-go/rest"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/record"
)

// Config configures a Proxy.
type Config struct {
	// Target is the API server to trace.
	Target *kubecfg.Target
	// CA signs the certificate presented to clients.
	CA *pki.CA
	// Listen is the address to listen on; it must be a loopback address.
	// Default "127.0.0.1:0" (an ephemeral port).
	Listen string
	// Sink receives every recording line as it happens.
	Sink record.Sink
	// SessionToken is the placeholder token of the session kubeconfig;
	// requests that carry it get the kubeconfig's credentials upstream.
	SessionToken string
	// Routes, when set, route requests to every cluster and user of the
	// session kubeconfig (see WriteMirror); Target is then the traced
	// context, whose cluster's discovery gives scopes. Nil routes
	// everything to Target with SessionToken.
	Routes *kubecfg.Routes
	// MaxBody caps the bytes stored per body (and per stream event);
	// negative means no cap. Default 4 MiB.
	MaxBody int
	// ShowSecrets turns redaction off.
	ShowSecrets bool
	// RecordStdin records what clients send on the stdin of exec and
	// attach; by default only its size is recorded.
	RecordStdin bool
	// Joiner is told of each exchange once its line is written, to add
	// what comes later (the API server's audit event); nil for none.
	Joiner Joiner
	// Diagnostics receives the proxy's own problems (NewProblems writes
	// them to the user's terminal); nil discards them.
	Diagnostics Diagnostics
	// ShutdownWait is how long Close waits for exchanges under way before
	// it cuts them short; default 10 s.
	ShutdownWait time.Duration
}

// defaultMaxBody is Config.MaxBody's default.
const defaultMaxBody = 4 << 20

// Joiner adds what is learnt after an exchange was recorded, as later
// lines of the recording: the API server's audit event.
type Joiner interface {
	// Recorded is called once the exchange's line was written.
	Recorded(x *record.Exchange)
	// Close waits for what is under way and releases what the joiner holds.
	Close() error
}

// Proxy is a running kubewire proxy.
type Proxy struct {
	cfg      Config
	server   *http.Server
	listener net.Listener
	gp       *goproxy.ProxyHttpServer

	// router reaches each cluster as each user of the session.
	router *router
	// own annotates kubewire's own calls, with the built-in scope table
	// only, since discovery may be what is being fetched.
	own    *annotate.Annotator
	scopes *classify.Lazy
	flows  auth.FlowNames
	seq    atomic.Int64
	// q does the capture's work off the relay path.
	q *pipeline
	// ctx is cancelled by Close: it ends every upstream request still
	// under way (a watch whose client has gone, a stream left open).
	ctx      context.Context
	cancel   context.CancelFunc
	inflight tracker
	// open holds the captures under way, by seq, so shutdown can name
	// and end those that do not finish.
	open sync.Map
	// conns are the clients' connections, by remote address.
	conns  sync.Map
	closed atomic.Bool
}

// New prepares a proxy; Start makes it listen.
func New(cfg Config) (*Proxy, error) {
	if cfg.Target == nil || cfg.CA == nil || cfg.Sink == nil {
		return nil, errors.New("proxy: Target, CA and Sink are required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = defaultMaxBody
	}
	if cfg.Diagnostics == nil {
		cfg.Diagnostics = discard{}
	}
	if cfg.ShutdownWait == 0 {
		cfg.ShutdownWait = 10 * time.Second
	}
	p := &Proxy{cfg: cfg, q: newPipeline(cfg.Diagnostics)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	routes := cfg.Routes
	if routes == nil {
		routes = kubecfg.SingleRoute(cfg.Target, cfg.SessionToken)
	}
	current := routes.Clusters[kubecfg.HostPort(cfg.Target.Server.Host, cfg.Target.Server.Scheme)]
	p.router = &router{p: p, routes: *routes, current: current}

	// Scopes: the live server's discovery, asked once through the upstream
	// leg (recorded as kubewire's own calls), then the built-in table.
	p.scopes = classify.NewLazy("discovery", p.discoverScopes)
	p.own = annotate.New(annotate.Config{Prefix: cfg.Target.Server.Path, Kubeconfig: auth.DescribeConfig(cfg.Target.Config)})

	gp := goproxy.NewProxyHttpServer()
	gp.Logger = cfg.Diagnostics
	gp.KeepHeader = true // kubewire chooses which headers go upstream
	// kubectl speaks HTTP/2 to an API server, and through kubewire too:
	// one connection for its concurrent calls, as without kubewire.
	// Upgrades (exec, attach, port-forward) ask for HTTP/1.1 themselves.
	gp.AllowHTTP2 = true
	gp.Tr = &http.Transport{Proxy: noProxy, DialContext: refuseDial}
	gp.ConnectDial = nil
	gp.CertStore = &certStore{}
	gp.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this is kubewire's proxy: use it as an HTTPS proxy (kubectl proxy-url, curl --proxy), see 'kubewire proxy -h'", http.StatusNotFound)
	})
	tlsConfig := goproxy.TLSConfigFromCA(&cfg.CA.Cert)
	gp.OnRequest().HandleConnectFunc(func(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		cluster, ok := p.router.cluster(host)
		if !ok {
			ctx.Resp = textResponse(ctx.Req, http.StatusForbidden,
				fmt.Sprintf("kubewire intercepts only %s, the API servers of the traced kubeconfig (context %q); it refuses to tunnel to %s (it is not an open proxy)\n", p.router.hosts(), cfg.Target.Context, host))
			return goproxy.RejectConnect, host
		}
		ctx.UserData = mitmMarker{}
		ctx.RoundTripper = tunnel{p, cluster}
		return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: tlsConfig}, host
	})
	// Plain-HTTP proxy requests (not inside a MITM'd tunnel) are refused:
	// kubewire forwards nothing but its API server's traffic.
	gp.OnRequest().DoFunc(func(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		if _, ok := ctx.UserData.(mitmMarker); ok {
			return req, nil
		}
		return req, textResponse(req, http.StatusForbidden, "kubewire only proxies HTTPS to "+p.router.hosts()+" (use CONNECT)\n")
	})
	p.gp = gp
	return p, nil
}

type mitmMarker struct{}

func refuseDial(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("kubewire does not dial on behalf of clients")
}

// upstreamLeg builds an upstream transport from base, with whatever
// credentials it holds, in HTTP/2 or HTTP/1.1 only (upgrades need it).
func upstreamLeg(base *rest.Config, http11 bool) (http.RoundTripper, error) {
	c := rest.CopyConfig(base)
	if c.Proxy == nil {
		c.Proxy = noProxy
	}
	if http11 {
		c.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	c.WrapTransport = chainWrap(c.WrapTransport, func(rt http.RoundTripper) http.RoundTripper { return &upstreamRecorder{rt} })
	rt, err := rest.TransportFor(c)
	if err != nil {
		return nil, fmt.Errorf("build the upstream leg to %s: %w", c.Host, err)
	}
	return rt, nil
}

// noProxy makes the upstream leg ignore HTTPS_PROXY and friends, which a user
// may have pointed at kubewire itself.
func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

// tunnel is the RoundTripper of one MITM'd tunnel, opened to cluster.
type tunnel struct {
	p       *Proxy
	cluster string
}

// RoundTrip implements goproxy.RoundTripper: goproxy calls it for every
// request read from a MITM'd tunnel. It never returns an error: a failure
// to reach the API server becomes a 502 the client can read, and a record.
func (t tunnel) RoundTrip(req *http.Request, _ *goproxy.ProxyCtx) (*http.Response, error) {
	return t.p.exchange(req, t.cluster), nil
}

func chainWrap(outer func(http.RoundTripper) http.RoundTripper, inner func(http.RoundTripper) http.RoundTripper) func(http.RoundTripper) http.RoundTripper {
	if outer == nil {
		return inner
	}
	return func(rt http.RoundTripper) http.RoundTripper { return outer(inner(rt)) }
}

// SetJoiner sets the joiner; call it before Start.
func (p *Proxy) SetJoiner(j Joiner) { p.cfg.Joiner = j }

// SetFlows gives the annotators the names of priority and fairness
// objects (looked up through OwnConfig, so only once the proxy exists);
// call it before Start.
func (p *Proxy) SetFlows(f auth.FlowNames) {
	p.router.mu.Lock()
	defer p.router.mu.Unlock()
	p.flows = f
	// Routes built already (OwnConfig's) name them too.
	for _, ro := range p.router.built {
		ro.ann.SetFlows(f)
	}
}

// CheckListen accepts only loopback addresses: kubewire holds the
// kubeconfig's credentials and must not be reachable from elsewhere.
func CheckListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: kubewire listens on loopback only (127.0.0.1 or ::1)", addr)
	}
	return nil
}

// Start listens on the configured loopback address and serves.
func (p *Proxy) Start() error {
	if err := CheckListen(p.cfg.Listen); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", p.cfg.Listen, err)
	}
	ln = aheadListener{Listener: ln, conns: &p.conns}
	p.listener = ln
	errorLog := log.New(diagWriter{p.cfg.Diagnostics}, "", 0)
	p.server = &http.Server{Handler: p.gp, ErrorLog: errorLog, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = p.server.Serve(ln) }()
	// Learn scopes in the background, so the first call does not wait long.
	go p.scopes.Namespaced("", "pods")
	return nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.listener.Addr().String() }

// URL is the proxy URL for kubeconfig proxy-url and curl --proxy.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Close stops accepting connections, closes open tunnels, and waits for the
// exchanges under way to be recorded.
func (p *Proxy) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	var err error
	if p.server != nil {
		err = p.server.Close()
	}
	// Tunnels are hijacked connections the server does not track: end their
	// upstream requests, so streams whose client has gone are recorded as
	// ended instead of lingering.
	p.cancel()
	if !p.inflight.wait(p.cfg.ShutdownWait) {
		p.cutShort()
	}
	// Tunnels are hijacked connections the server does not close either:
	// with every exchange recorded, close those clients keep open (idle,
	// kept alive), so none outlives the proxy.
	p.conns.Range(func(_, c any) bool {
		_ = c.(*aheadConn).Close()
		return true
	})
	p.q.close()
	if p.cfg.Joiner != nil {
		if aerr := p.cfg.Joiner.Close(); err == nil {
			err = aerr
		}
	}
	return err
}

// cutShort ends the exchanges still under way after ShutdownWait (an exec
// whose client never hung up): each is recorded as cut short by kubewire,
// and the user is told which.
func (p *Proxy) cutShort() {
	var open []*capture
	p.open.Range(func(_, v any) bool {
		open = append(open, v.(*capture))
		return true
	})
	sort.Slice(open, func(i, j int) bool { return open[i].x.Seq < open[j].x.Seq })
	names := make([]string, len(open))
	for i, c := range open {
		names[i] = fmt.Sprintf("#%d %s %s", c.x.Seq, c.x.Request.Method, c.path())
		c.abort()
	}
	drained := p.inflight.wait(p.cfg.ShutdownWait / 2)
	msg := fmt.Sprintf("%d exchange(s) had not finished %s after shutdown began, recorded as cut short: %s",
		len(open), p.cfg.ShutdownWait, strings.Join(names, ", "))
	if !drained {
		msg += "; some could not be closed, and their recording ends without them"
	}
	p.cfg.Diagnostics.Printf("%s", msg)
}

// diagWriter makes Diagnostics an io.Writer for log.Logger.
type diagWriter struct{ d Diagnostics }

func (w diagWriter) Write(b []byte) (int, error) {
	w.d.Printf("%s", b)
	return len(b), nil
}

func textResponse(req *http.Request, code int, msg string) *http.Response {
	return &http.Response{
		StatusCode:    code,
		Status:        fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(msg))),
		ContentLength: int64(len(msg)),
		Request:       req,
	}
}

// tracker counts exchanges under way; unlike a WaitGroup it may gain
// exchanges while someone waits for it to drain (kubewire's own late calls).
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed and replaced when n drops to 0
}

func (t *tracker) Add(d int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n += d
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
}

func (t *tracker) Done() { t.Add(-1) }

// wait waits until nothing is under way, at most d; it reports whether it
// drained.
func (t *tracker) wait(d time.Duration) bool {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return true
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-time.After(d):
		return false
	}
}
