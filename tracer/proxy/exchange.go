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

// capture is one exchange being recorded. The relay notes what it sees
// (headers cloned, bytes kept, times read) and goes on; the pipeline turns
// that into the exchange's lines (see pipeline.go). Fields above "owned by
// the pipeline" are written by the relay before its first job is pushed,
// and only read after.
type capture struct {
	p *Proxy
	x *record.Exchange
	// once ends the exchange once, whichever way it ends.
	once sync.Once
	// release ends the upstream request's context once the exchange ended.
	release func()
	// ann annotates the exchange: its route's annotator, or kubewire's
	// own calls' one.
	ann *annotate.Annotator
	// remote is the client's address; cancel ends the upstream request.
	remote string
	cancel func()
	// clientCtx is the client's request's context. Over HTTP/2 it ends
	// when the client resets the stream or hangs up, which is how kubewire
	// learns the client left: the connection carries other streams, and
	// is never read ahead (see conn.go).
	clientCtx context.Context
	h2        bool
	// upstream is the API server's response body, closed by abort.
	upstream atomic.Pointer[io.ReadCloser]
	// aborted is set when kubewire itself cut the exchange short.
	aborted atomic.Bool

	// url is the request's URL as the client sent it, upURL as it went
	// upstream; rel is how the relay reads the request (scopes aside).
	url   string
	upURL *url.URL
	rel   record.Annotation
	// clientHeader holds the client's headers, credentials included (for
	// the annotator; only the redacted copy is recorded).
	clientHeader   http.Header
	clientOwnsAuth bool
	// reqBody keeps the request body as it goes upstream; reqLength is
	// its announced length.
	reqBody   *keeper
	reqLength int64
	// holder receives the request as it left for the API server.
	holder *upstreamHolder
	// respHeader is the response's header as it came, before goproxy or
	// the relay touch it.
	respHeader http.Header

	// Owned by the pipeline.
	ctx redact.Context
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
	if u, err := url.Parse(c.url); err == nil {
		return u.Path
	}
	return "?"
}

// done unregisters the exchange once it is recorded.
func (c *capture) done() {
	c.p.open.Delete(c.x.Seq)
	c.p.inflight.Done()
}

// newCapture registers a new exchange of req under way.
func (p *Proxy) newCapture(req *http.Request, ann *annotate.Annotator) *capture {
	p.inflight.Add(1)
	x := &record.Exchange{Seq: p.seq.Add(1), Start: time.Now()}
	x.Request = record.Request{Method: req.Method, Proto: req.Proto}
	c := &capture{p: p, x: x, ann: ann, remote: req.RemoteAddr, url: req.URL.String(), upURL: req.URL,
		clientHeader: req.Header.Clone(), clientCtx: req.Context(), h2: req.ProtoMajor == 2}
	p.open.Store(x.Seq, c)
	return c
}

func (p *Proxy) exchange(req *http.Request, cluster string) *http.Response {
	c := p.newCapture(req, p.own)
	x := c.x
	// Only holders of a session token get the credentials of the user it
	// stands for; any other Authorization is the client's own.
	user := p.router.user(c.clientHeader)
	c.clientOwnsAuth = user == ""
	if cmd, ok := OwnCommand(c.clientHeader.Get("User-Agent")); ok {
		x.Own, x.OwnBy = true, cmd
	}
	ro, err := p.router.get(cluster, user)
	if err != nil {
		return c.fail(req, "proxy", http.StatusBadGateway, fmt.Errorf("kubewire cannot send this request upstream: %w", err))
	}
	c.ann = ro.ann
	up := upstreamURL(ro.target, req.URL)
	c.upURL = &up
	c.rel = ro.parse.Classify(req.Method, &up, c.clientHeader)

	body, err := c.requestBody(req)
	if err != nil {
		return c.fail(req, "client", http.StatusBadRequest, fmt.Errorf("read the request body from the client: %w", err))
	}

	// The upstream request ends with the client's, or when the proxy closes.
	upCtx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(p.ctx, cancel)
	c.release, c.cancel = func() { stop(); cancel() }, cancel
	out, err := http.NewRequestWithContext(upCtx, req.Method, up.String(), body)
	if err != nil {
		return c.fail(req, "proxy", http.StatusBadGateway, fmt.Errorf("build the upstream request: %w", err))
	}
	switch {
	case body == nil:
		out.Body, out.ContentLength = http.NoBody, 0
	case out.GetBody == nil:
		// Streamed: as long as the client said, or unknown (-1).
		out.ContentLength = req.ContentLength
	}
	out.Header = upstreamHeader(c.clientHeader, c.rel.Upgrade != "")
	if !c.clientOwnsAuth {
		out.Header.Del("Authorization")
	}
	if out.Header.Get("Audit-Id") == "" {
		// The API server adopts a client's Audit-Id: this one joins the
		// record with the server's audit log.
		out.Header.Set("Audit-Id", newUUID())
	}
	rt := ro.rt
	if c.rel.Upgrade != "" {
		rt = ro.rt11
	}
	c.holder = &upstreamHolder{}
	out = out.WithContext(context.WithValue(out.Context(), holderKey{}, c.holder))

	stopWaiting := c.watchClientWhileWaiting()
	resp, err := rt.RoundTrip(out)
	stopWaiting()
	left := c.clientLeft()
	if err == nil && left {
		_ = resp.Body.Close()
		err = errors.New("canceled")
	}
	if err != nil {
		if req.Context().Err() != nil || left {
			return c.fail(req, "client", 499, fmt.Errorf("the client went away before the API server answered: %w", err))
		}
		if cr, ok := body.(*clientBody); ok && cr.err != nil {
			return c.fail(req, "client", http.StatusBadRequest, fmt.Errorf("read the request body from the client: %w", cr.err))
		}
		err = fmt.Errorf("kubewire could not reach the API server at %s: %w", ro.target.Server.Host, err)
		// Said once a session (Problems counts the repeats), besides the
		// 502 kubectl shows and the record.
		p.cfg.Diagnostics.Printf("%s", redact.String(err.Error()))
		return c.fail(req, "upstream", http.StatusBadGateway, err)
	}
	c.responded(resp)

	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		c.upgraded(resp)
	case c.isStream(resp):
		c.stream(resp)
	default:
		c.buffered(resp)
	}
	return resp
}

// slowAnswer is how long the API server may take to answer before
// kubewire watches for the client leaving meanwhile (a client's timeout):
// goproxy reads a tunnel only between exchanges, so it would not notice.
const slowAnswer = 500 * time.Millisecond

// watchClientWhileWaiting watches, once the answer is slow, for the client
// hanging up before it comes; the upstream request is then ended, and
// clientLeft says so. stop ends the watch.
func (c *capture) watchClientWhileWaiting() (stop func()) {
	conn := c.conn()
	if conn == nil || c.cancel == nil {
		return func() {}
	}
	var mu sync.Mutex
	stopped, unwatch := false, func() {}
	timer := time.AfterFunc(slowAnswer, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			unwatch = conn.watch(c.cancel)
		}
	})
	return func() {
		timer.Stop()
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		unwatch()
	}
}

// clientLeft says whether kubewire saw the client hang up: while it read
// ahead on a slow answer's connection, or, over HTTP/2, by the end of the
// client's stream.
func (c *capture) clientLeft() bool {
	if c.h2 {
		return c.clientCtx.Err() != nil
	}
	conn := c.p.clientConn(c.remote)
	return conn != nil && conn.ended()
}

// conn is the client's connection to read ahead on for its end: nil over
// HTTP/2, whose connection the HTTP/2 server reads for every stream.
func (c *capture) conn() *aheadConn {
	if c.h2 {
		return nil
	}
	return c.p.clientConn(c.remote)
}

// responded notes the response's status and headers as they came.
func (c *capture) responded(resp *http.Response) {
	c.x.Timings.FirstByteMs = record.Ms(time.Since(c.x.Start))
	upstream := resp.Body // before the relay wraps it
	c.upstream.Store(&upstream)
	c.x.Response = &record.Response{Status: resp.StatusCode, Proto: resp.Proto}
	c.respHeader = resp.Header.Clone()
}

// smallBody is the size up to which a request body is read whole before
// it goes upstream, so the transport can send it again on a fresh
// connection; a longer one (or one of unknown length) is streamed.
const smallBody = 64 << 10

// requestBody is the body to send upstream, nil for none; the keeper keeps
// its first part for the recording as it goes.
func (c *capture) requestBody(req *http.Request) (io.Reader, error) {
	c.reqLength = req.ContentLength
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	c.reqBody = newKeeper(keepLimit(c.p.cfg.MaxBody), true, req.ContentLength)
	if req.ContentLength >= 0 && req.ContentLength <= smallBody {
		data, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_, _ = c.reqBody.Write(data)
		if len(data) == 0 {
			return nil, nil
		}
		return bytes.NewReader(data), nil
	}
	return &clientBody{r: io.TeeReader(req.Body, c.reqBody)}, nil
}

// clientBody is a request body streamed from the client; err is the
// client's failure, if reading it failed.
type clientBody struct {
	r   io.Reader
	err error
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// describe records the request as the relay saw it, redacted, and
// annotates it: the pipeline's first step for every exchange (in finish,
// or in startStream for a stream, never both).
func (c *capture) describe() {
	p, x := c.p, c.x
	x.Request.URL = p.url(c.url)
	x.Request.Headers = p.headers(c.clientHeader)
	c.ann.Request(x, c.upURL, c.clientHeader, c.clientOwnsAuth)
	c.ctx = redact.Context{Resource: x.Annotation.Resource, Subresource: x.Annotation.Subresource}
	if c.reqBody != nil {
		if k := c.reqBody.get(); k.total > 0 || c.reqLength > 0 {
			x.Request.Body, _ = p.body(c.clientHeader.Get("Content-Type"), k, c.ctx)
		}
	}
	if c.holder != nil {
		x.Request.Upstream = c.holder.get(p)
	}
	if x.Response != nil {
		x.Response.Headers = p.headers(c.respHeader)
		if x.Request.Upstream != nil {
			// The request's own Proto says HTTP/1.1 whatever the transport
			// negotiated; the response tells the truth.
			x.Request.Upstream.Proto = x.Response.Proto
		}
	}
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

// isStream says whether a response is relayed as a stream: a watch, a
// followed log, server-sent events.
func (c *capture) isStream(resp *http.Response) bool {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	if c.rel.Verb == "watch" {
		return true
	}
	switch strings.ToLower(c.upURL.Query().Get("follow")) {
	case "true", "1":
		return true
	}
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
}

// fail records an exchange that got no response from the API server and
// answers the client with a Status explaining why.
func (c *capture) fail(req *http.Request, phase string, status int, err error) *http.Response {
	msg := redact.String(err.Error())
	c.x.Error = &record.Error{Message: msg, Phase: phase, Status: status}
	c.finish(nil)
	code := status
	if code == 499 {
		code = http.StatusBadGateway
	}
	data, ct := codec.FailureStatus(code, metav1.StatusReasonServiceUnavailable, msg), "application/json"
	if !c.rel.ResourceRequest {
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
	length := resp.ContentLength
	if resp.Request != nil && resp.Request.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		length = 0 // no body, whatever the headers say
	}
	tee := &teeBody{rc: resp.Body, k: newKeeper(keepLimit(c.p.cfg.MaxBody), false, length)}
	tee.done = func(err error, closed bool) {
		k := tee.k.get()
		// Closed before its end, unless all it announced was read.
		abandoned := closed && (length < 0 || k.total < length)
		// Or read to its end for a client already gone: goproxy's write
		// into the closed connection may not fail.
		left := !abandoned && c.clientLeft()
		if left && c.h2 {
			// An HTTP/2 client that leaves resets its stream: it closed
			// the response after the bytes it had, as an HTTP/1.1 client
			// closes the body. Over HTTP/2 kubewire learns it at once,
			// even after the client read every byte and only the end
			// was still to come.
			left, abandoned = false, length < 0 || k.total < length
			err = nil
		}
		if err != nil && left {
			// The upstream read ended because the client did.
			err = nil
		}
		aborted := c.aborted.Load()
		c.finish(func() []byte {
			body, stored := c.p.body(ct, k, c.ctx)
			c.x.Response.Body = body
			switch {
			case aborted:
				body.Truncated = true
				c.x.StreamError = &record.Error{Message: errStopped.Error(), Phase: "proxy"}
			case err != nil:
				body.Truncated = true
				c.x.StreamError = &record.Error{Message: redact.String(err.Error()), Phase: "upstream"}
			case abandoned:
				body.Truncated = true
				msg := fmt.Sprintf("the client closed the response after %d bytes", k.total)
				if length > 0 {
					msg = fmt.Sprintf("the client closed the response after %d of %d bytes", k.total, length)
				}
				c.x.StreamError = &record.Error{Message: msg, Phase: "client"}
			case left:
				body.Truncated = true
				c.x.StreamError = &record.Error{Message: "the client hung up before the answer reached it", Phase: "client"}
			}
			return stored
		})
	}
	resp.Body = tee
}

// finish ends the exchange once. The relay is done with it: the pipeline
// records the response with respond (nil when there was none), which
// returns the redacted body the annotator may read, then annotates the
// exchange and writes its line.
func (c *capture) finish(respond func() []byte) {
	c.once.Do(func() {
		total := time.Since(c.x.Start)
		if c.release != nil {
			c.release()
		}
		c.p.q.push(func() {
			defer c.done()
			c.describe()
			var body []byte
			if respond != nil {
				body = respond()
			}
			c.ann.Response(c.x, c.respHeader, body)
			c.x.Timings.TotalMs = record.Ms(total)
			c.p.cfg.Sink.Put(record.Line{Type: record.TypeExchange, Seq: c.x.Seq, Exchange: c.x})
			if c.p.cfg.Joiner != nil {
				c.p.cfg.Joiner.Recorded(c.x)
			}
		})
	})
}

// body stores a body, redacted unless secrets are shown, and returns the
// redacted bytes before any cap: the only bytes the annotator may read.
// k is what kubewire kept of the body; the stored body is truncated when
// that was not all of it, or when the cap cut it.
func (p *Proxy) body(contentType string, k kept, ctx redact.Context) (*record.Body, []byte) {
	data, redacted := k.data, false
	if !p.cfg.ShowSecrets {
		// Redaction may change the length (markers, a protobuf encoded
		// again): the cap applies to what is stored.
		if k.cut() {
			data, redacted = redact.Part(data, ctx)
		} else {
			data, redacted = redact.Body(contentType, data, ctx)
		}
	}
	// The kept part is never written again (the keeper only appends past
	// what it handed out), nor is a redacted copy: the text may share it.
	b := record.NewBodyShared(contentType, data, int64(len(data)), p.cfg.MaxBody)
	b.Bytes, b.Truncated, b.Redacted = k.total, b.Truncated || k.cut(), redacted
	if k.cut() && !redacted {
		b.SHA256 = k.sha256
	}
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

// teeBody passes a body through, keeping its first part, and calls done
// once when it ends, breaks, or is closed before a read saw its end.
type teeBody struct {
	rc   io.ReadCloser
	k    *keeper
	once sync.Once
	done func(err error, closed bool)
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	_, _ = b.k.Write(p[:n])
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
	b.once.Do(func() { b.done(err, closed) })
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
