package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// hopHeaders are connection-level headers that never go upstream as is.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// capture is one exchange being recorded.
type capture struct {
	p        *Proxy
	x        *record.Exchange
	ctx      redact.Context
	once     sync.Once
	finished chan struct{}
	// release ends the upstream request's context once the exchange is
	// recorded.
	release func()
	// ann annotates the exchange: its route's annotator, or kubewire's
	// own calls' one.
	ann *annotate.Annotator
	// remote is the client's address; cancel ends the upstream request.
	remote string
	cancel func()
	// upstream is the API server's response body, closed by abort.
	upstream atomic.Pointer[io.ReadCloser]
	// aborted is set when kubewire itself cut the exchange short.
	aborted atomic.Bool
}

// errStopped ends the exchanges kubewire cut short at shutdown.
var errStopped = errors.New("kubewire stopped before this exchange ended")

// abort cuts the exchange short: its upstream body is closed, so the relay
// ends it the ordinary way, recorded with errStopped.
func (c *capture) abort() {
	c.aborted.Store(true)
	if body := c.upstream.Load(); body != nil {
		_ = (*body).Close()
	}
}

// path is the request's path, for messages.
func (c *capture) path() string {
	if u, err := url.Parse(c.x.Request.URL); err == nil {
		return u.Path
	}
	return c.x.Request.URL
}

// done unregisters the exchange once it is recorded.
func (c *capture) done() {
	c.p.open.Delete(c.x.Seq)
	c.p.inflight.Done()
}

func (p *Proxy) exchange(req *http.Request, cluster string) *http.Response {
	p.inflight.Add(1)
	start := time.Now()
	x := &record.Exchange{Seq: p.seq.Add(1), Start: start}
	c := &capture{p: p, x: x, finished: make(chan struct{}), remote: req.RemoteAddr}
	p.open.Store(x.Seq, c)

	clientHeader := req.Header.Clone()
	// Only holders of a session token get the credentials of the user it
	// stands for; any other Authorization is the client's own.
	user := p.router.user(clientHeader)
	clientOwnsAuth := user == ""
	x.Request = record.Request{
		Method:  req.Method,
		URL:     p.url(req.URL.String()),
		Proto:   req.Proto,
		Headers: p.headers(clientHeader),
	}
	if cmd, ok := OwnCommand(clientHeader.Get("User-Agent")); ok {
		x.Own, x.OwnBy = true, cmd
	}
	ro, err := p.router.get(cluster, user)
	if err != nil {
		c.ann = p.own
		c.ann.Request(x, req.URL, clientHeader, clientOwnsAuth)
		return c.fail(req, "proxy", http.StatusBadGateway, fmt.Errorf("kubewire cannot send this request upstream: %w", err))
	}
	c.ann = ro.ann
	up := upstreamURL(ro.target, req.URL)
	c.ann.Request(x, &up, clientHeader, clientOwnsAuth)
	c.ctx = redact.Context{Resource: x.Annotation.Resource, Subresource: x.Annotation.Subresource}

	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		if err != nil {
			return c.fail(req, "client", http.StatusBadRequest, fmt.Errorf("read the request body from the client: %w", err))
		}
	}
	if len(body) > 0 || req.ContentLength > 0 {
		x.Request.Body, _ = p.body(req.Header.Get("Content-Type"), body, int64(len(body)), c.ctx)
	}

	// The upstream request ends with the client's, or when the proxy closes.
	upCtx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(p.ctx, cancel)
	c.release, c.cancel = func() { stop(); cancel() }, cancel
	out, err := http.NewRequestWithContext(upCtx, req.Method, up.String(), bytes.NewReader(body))
	if err != nil {
		return c.fail(req, "proxy", http.StatusBadGateway, fmt.Errorf("build the upstream request: %w", err))
	}
	if len(body) == 0 {
		out.Body, out.ContentLength = http.NoBody, 0
	}
	out.Header = upstreamHeader(clientHeader, x.Annotation.Upgrade != "")
	if !clientOwnsAuth {
		out.Header.Del("Authorization")
	}
	if out.Header.Get("Audit-Id") == "" {
		// The API server adopts a client's Audit-Id: this one joins the
		// record with the server's audit log.
		out.Header.Set("Audit-Id", newUUID())
	}
	rt := ro.rt
	if x.Annotation.Upgrade != "" {
		rt = ro.rt11
	}
	holder := &upstreamHolder{}
	out = out.WithContext(context.WithValue(out.Context(), holderKey{}, holder))

	resp, err := rt.RoundTrip(out)
	x.Request.Upstream = holder.get(p)
	if err != nil {
		if req.Context().Err() != nil {
			return c.fail(req, "client", 499, fmt.Errorf("the client went away before the API server answered: %w", err))
		}
		err = fmt.Errorf("kubewire could not reach the API server at %s: %w", ro.target.Server.Host, err)
		// Said once a session (Problems counts the repeats), besides the
		// 502 kubectl shows and the record.
		p.cfg.Diagnostics.Printf("%s", redact.String(err.Error()))
		return c.fail(req, "upstream", http.StatusBadGateway, err)
	}
	x.Timings.FirstByteMs = record.Ms(time.Since(start))
	upstream := resp.Body // before the relay wraps it
	c.upstream.Store(&upstream)
	x.Response = &record.Response{Status: resp.StatusCode, Proto: resp.Proto, Headers: p.headers(resp.Header)}
	if x.Request.Upstream != nil {
		// The request's own Proto says HTTP/1.1 whatever the transport
		// negotiated; the response tells the truth.
		x.Request.Upstream.Proto = resp.Proto
	}

	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		c.upgraded(resp)
	case isStream(x, resp):
		c.stream(resp)
	default:
		c.buffered(resp)
	}
	return resp
}

func upstreamHeader(h http.Header, upgrade bool) http.Header {
	out := h.Clone()
	for _, k := range hopHeaders {
		out.Del(k)
	}
	for _, v := range h.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if t := strings.TrimSpace(tok); t != "" && !strings.EqualFold(t, "upgrade") {
				out.Del(t)
			}
		}
	}
	if upgrade {
		out.Set("Connection", "Upgrade")
		out["Upgrade"] = h.Values("Upgrade")
	}
	// Let the upstream transport negotiate compression, so bodies arrive
	// (and are recorded) decompressed.
	out.Del("Accept-Encoding")
	return out
}

func isStream(x *record.Exchange, resp *http.Response) bool {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	if x.Annotation.Verb == "watch" {
		return true
	}
	if u, err := url.Parse(x.Request.URL); err == nil {
		switch strings.ToLower(u.Query().Get("follow")) {
		case "true", "1":
			return true
		}
	}
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
}

// fail records an exchange that got no response from the API server and
// answers the client with a Status explaining why.
func (c *capture) fail(req *http.Request, phase string, status int, err error) *http.Response {
	c.x.Error = &record.Error{Message: redact.String(err.Error()), Phase: phase, Status: status}
	c.finish(nil, nil)
	code := status
	if code == 499 {
		code = http.StatusBadGateway
	}
	msg := redact.String(err.Error())
	data, ct := codec.FailureStatus(code, metav1.StatusReasonServiceUnavailable, msg), "application/json"
	if !c.x.Annotation.ResourceRequest {
		// client-go reads an error from discovery (and other non-resource
		// paths) as a Status only if it can negotiate a decoder for the
		// response, which discovery's aggregated media types never do:
		// kubectl then says 'an error on the server ("unknown")'. A text
		// body it shows as it is.
		data, ct = []byte(msg), "text/plain; charset=utf-8"
	}
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {ct}},
		Body:          io.NopCloser(bytes.NewReader(data)),
		ContentLength: int64(len(data)),
		Request:       req,
	}
}

// buffered relays an ordinary response and records it when its body ends:
// read to its end, broken upstream, or closed by the client before the end
// (recorded as truncated, with the client's part in it).
func (c *capture) buffered(resp *http.Response) {
	ct := resp.Header.Get("Content-Type")
	h := resp.Header
	length := resp.ContentLength
	if resp.Request != nil && resp.Request.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		length = 0 // no body, whatever the headers say
	}
	resp.Body = &teeBody{rc: resp.Body, done: func(data []byte, total int64, err error, closed bool) {
		// Closed before its end, unless all it announced was read.
		abandoned := closed && (length < 0 || total < length)
		var stored []byte
		c.x.Response.Body, stored = c.p.body(ct, data, total, c.ctx)
		switch {
		case c.aborted.Load():
			c.x.Response.Body.Truncated = true
			c.x.StreamError = &record.Error{Message: errStopped.Error(), Phase: "proxy"}
		case err != nil:
			c.x.Response.Body.Truncated = true
			c.x.StreamError = &record.Error{Message: redact.String(err.Error()), Phase: "upstream"}
		case abandoned:
			c.x.Response.Body.Truncated = true
			msg := fmt.Sprintf("the client closed the response after %d bytes", total)
			if length > 0 {
				msg = fmt.Sprintf("the client closed the response after %d of %d bytes", total, length)
			}
			c.x.StreamError = &record.Error{Message: msg, Phase: "client"}
		}
		c.finish(h, stored)
	}}
}

// finish completes the exchange once: annotate, time, write.
func (c *capture) finish(respHeader http.Header, body []byte) {
	c.once.Do(func() {
		defer c.done()
		defer close(c.finished)
		if c.release != nil {
			defer c.release()
		}
		c.ann.Response(c.x, respHeader, body)
		c.x.Timings.TotalMs = record.Ms(time.Since(c.x.Start))
		c.p.cfg.Sink.Put(record.Line{Type: record.TypeExchange, Seq: c.x.Seq, Exchange: c.x})
		if c.p.cfg.Joiner != nil {
			c.p.cfg.Joiner.Recorded(c.x)
		}
	})
}

// body stores a body, redacted unless secrets are shown, and returns the
// redacted bytes before any cap: the only bytes the annotator may read.
// data is what kubewire saw of a body of total bytes; the stored body is
// truncated when that was not all of it, or when the cap cut it.
func (p *Proxy) body(contentType string, data []byte, total int64, ctx redact.Context) (*record.Body, []byte) {
	cut := int64(len(data)) < total
	redacted := false
	if !p.cfg.ShowSecrets {
		// Redaction may change the length (markers, a protobuf encoded
		// again): the cap applies to what is stored.
		data, redacted = redact.Body(contentType, data, ctx)
	}
	b := record.NewBody(contentType, data, int64(len(data)), p.cfg.MaxBody)
	b.Bytes, b.Truncated, b.Redacted = total, b.Truncated || cut, redacted
	return b, data
}

func (p *Proxy) headers(h http.Header) http.Header {
	if p.cfg.ShowSecrets {
		return h.Clone()
	}
	return redact.Headers(h)
}

func (p *Proxy) url(u string) string {
	if p.cfg.ShowSecrets {
		return u
	}
	return redact.URL(u)
}

// teeBody passes a body through and calls done once with everything read
// (kept whole so redaction sees complete documents), when it ends, breaks,
// or is closed before a read saw its end.
type teeBody struct {
	rc    io.ReadCloser
	buf   bytes.Buffer
	total int64
	once  sync.Once
	done  func(data []byte, total int64, err error, closed bool)
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.buf.Write(p[:n])
	b.total += int64(n)
	if err == io.EOF {
		b.end(nil, false)
	} else if err != nil {
		b.end(err, false)
	}
	return n, err
}

// Close ends the body. Closed before its end, the body may have been
// abandoned: the client went away, or the relay gave up writing to it.
func (b *teeBody) Close() error {
	err := b.rc.Close()
	b.end(nil, true)
	return err
}

func (b *teeBody) end(err error, closed bool) {
	b.once.Do(func() { b.done(b.buf.Bytes(), b.total, err, closed) })
}

// upstreamHolder receives the request exactly as it left for the API server,
// after client-go added credentials.
type upstreamHolder struct {
	mu  sync.Mutex
	req *http.Request
}

type holderKey struct{}

func (h *upstreamHolder) get(p *Proxy) *record.Upstream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.req == nil {
		return nil
	}
	return &record.Upstream{URL: p.url(h.req.URL.String()), Proto: h.req.Proto, Headers: p.headers(h.req.Header)}
}

// upstreamRecorder is the innermost wrapper of the upstream transport: it
// sees the request after every client-go wrapper (credentials, user agent).
type upstreamRecorder struct{ rt http.RoundTripper }

func (u *upstreamRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if h, ok := req.Context().Value(holderKey{}).(*upstreamHolder); ok {
		h.mu.Lock()
		h.req = req
		h.mu.Unlock()
	}
	return u.rt.RoundTrip(req)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
