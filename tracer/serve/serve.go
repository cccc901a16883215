// Package serve answers Kubernetes API requests from a recording, so that
// real kubectl commands work with no cluster: kubewire serve. It is an
// HTTPS server on loopback; a request gets the answer of the recorded call
// it matches (see match.go), with its status, headers and body as recorded,
// a watch's or log's events re-emitted with their recorded timing, and an
// exec's or attach's channels replayed over WebSocket. Every answer says,
// in its headers, which recorded call it came from (record.HeaderReplayed),
// so a trace in front of the server marks it as a recorded answer.
//
// What a recording cannot answer is said in the answer: no recorded call
// matches (404, naming the closest ones and how they differ), a body the
// recording cut short (503), a port-forward (501).
package serve

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/record"
)

// Options configure a Server.
type Options struct {
	// Name names the recording in answers and traces.
	Name string
	// Reuse gives a call's recorded answers again, from the first, once
	// each was given.
	Reuse bool
	// Speed scales the recorded timing of stream events: 2 plays them
	// twice as fast. 0 means 1.
	Speed float64
	// Instant sends every stream event at once.
	Instant bool
	// EndStreams ends every stream after its last event (at the recorded
	// end), rather than holding a watch open as the API server would: for
	// a preview that must finish on its own.
	EndStreams bool
	// IsOwn reports whether a request is one of kubewire's own lookups
	// (discovery for scopes): they are answered without using up the
	// answers the traced client's calls need. Nil: none are.
	IsOwn func(*http.Request) bool
}

// maxRequestBody bounds the request body serve reads to match it.
const maxRequestBody = 64 << 20

// Server answers from one recording.
type Server struct {
	o   Options
	m   *matcher
	srv *http.Server
	ln  net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a server for rec.
func New(rec *record.Recording, o Options) (*Server, error) {
	if o.Name == "" {
		o.Name = recName(rec)
	}
	if o.Speed <= 0 {
		o.Speed = 1
	}
	m, err := newMatcher(rec, o.Reuse)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, m: m}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func recName(rec *record.Recording) string {
	if rec.Header.Source.Context != "" {
		return "the recording of " + rec.Header.Source.Context
	}
	return "the recording"
}

// Start listens on listen, which must be a loopback address ("" for
// StartLoopback starts the server on listen with a certificate from ca
// for the loopback names (127.0.0.1, localhost, ::1).
func (s *Server) StartLoopback(listen string, ca *pki.CA) error {
	cert, err := ca.Issue("127.0.0.1", "localhost", "::1")
	if err != nil {
		return err
	}
	return s.Start(listen, cert)
}

// 127.0.0.1 and a free port), with cert, and serves in the background.
func (s *Server) Start(listen string, cert *tls.Certificate) error {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %s: kubewire serve listens on loopback only (127.0.0.1 or ::1)", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"h2", "http/1.1"}, ClientAuth: tls.RequestClientCert},
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(tls.NewListener(ln, s.srv.TLSConfig))
	}()
	return nil
}

// URL is the server's https URL.
func (s *Server) URL() string { return "https://" + s.ln.Addr().String() }

// Close stops the server: streams under way end at once.
func (s *Server) Close() error {
	s.cancel()
	var err error
	if s.srv != nil {
		// Not Shutdown: a client's idle HTTP/2 connection would hold it
		// until its timeout, and nothing under way needs finishing.
		err = s.srv.Close()
	}
	s.wg.Wait()
	return err
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		s.status(w, 0, "", http.StatusBadRequest, metav1.StatusReasonBadRequest, "kubewire serve could not read the request body: "+err.Error(), nil)
		return
	}
	if len(body) > maxRequestBody {
		s.status(w, 0, "", http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, fmt.Sprintf("kubewire serve matches request bodies of up to %d MiB", maxRequestBody>>20), nil)
		return
	}
	sh := shapeOf(r.Method, r.URL, r.Header, body, int64(len(body)))
	sh.user = requestUser(r)
	own := s.o.IsOwn != nil && s.o.IsOwn(r)
	a, used := s.m.take(sh, !own)
	if a == nil {
		s.miss(w, r, sh, used)
		return
	}
	x := a.x
	switch {
	case x.Response == nil:
		msg := "the recorded call got no response"
		if x.Error != nil {
			msg += ": " + x.Error.Message
		}
		s.status(w, x.Seq, msg, http.StatusBadGateway, metav1.StatusReasonServiceUnavailable, "kubewire serve: "+msg, nil)
	case x.Response.Status == http.StatusSwitchingProtocols:
		s.upgrade(w, r, x)
	case x.Response.Stream:
		s.stream(w, r, x)
	case x.Response.Body != nil && x.Response.Body.Truncated:
		b := x.Response.Body
		msg := fmt.Sprintf("the recorded answer's body was cut short: %d of its %d bytes were kept", len(b.Data()), b.Bytes)
		s.status(w, x.Seq, msg, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"kubewire serve cannot answer this call: "+msg+"; record with --full-bodies to serve it", nil)
	default:
		s.plain(w, x)
	}
}

// mark sets the headers that say which recorded call answered.
func (s *Server) mark(h http.Header, seq int64, note string) {
	h.Set(record.HeaderReplayed, strconv.FormatInt(seq, 10)+" "+s.o.Name)
	if note != "" {
		h.Set(record.HeaderReplayedNote, note)
	}
}

// skipHeaders are recorded response headers serve does not repeat: it
// frames the body itself, and recorded bodies are stored decoded.
var skipHeaders = map[string]bool{"Content-Length": true, "Content-Encoding": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Upgrade": true, "Sec-Websocket-Accept": true}

func (s *Server) headers(w http.ResponseWriter, x *record.Exchange, note string) {
	h := w.Header()
	for k, vs := range x.Response.Headers {
		if !skipHeaders[http.CanonicalHeaderKey(k)] {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
		}
	}
	s.mark(h, x.Seq, note)
}

// redactedNote is said on answers whose bodies had secrets taken out.
const redactedNote = "secrets in this answer were redacted when it was recorded: their values read REDACTED"

func (s *Server) plain(w http.ResponseWriter, x *record.Exchange) {
	b := x.Response.Body
	note := ""
	if b != nil && b.Redacted {
		note = redactedNote
		w.Header().Add("Warning", `299 - "kubewire serve: `+note+`"`)
	}
	s.headers(w, x, note)
	data := b.Data()
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(x.Response.Status)
	_, _ = w.Write(data)
}

// delay waits until offsetMs after start (scaled), or until the request
// or the server ends; false if it ended.
func (s *Server) delay(ctx context.Context, start time.Time, offsetMs float64) bool {
	if !s.o.Instant {
		at := start.Add(time.Duration(offsetMs / s.o.Speed * float64(time.Millisecond)))
		if d := time.Until(at); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return false
			}
		}
	}
	return ctx.Err() == nil
}

// stream re-emits a watch's or a followed log's events with their timing,
// each flushed as it is sent. A watch the server ended (at its
// timeoutSeconds) ends when the recorded one did; any other is held open,
// as the API server would hold it, until the client hangs up.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, x *record.Exchange) {
	note := ""
	for _, ev := range x.Events {
		if ev.Body != nil && ev.Body.Redacted {
			note = redactedNote
		}
		if ev.Body != nil && ev.Body.Truncated {
			note = "an event of this stream was cut short when it was recorded; it is sent as kept"
		}
	}
	s.headers(w, x, note)
	w.WriteHeader(x.Response.Status)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	ctx := r.Context()
	start := time.Now()
	proto := strings.Contains(x.Response.Headers.Get("Content-Type"), "protobuf")
	isJSON := strings.Contains(x.Response.Headers.Get("Content-Type"), "json")
	watch := r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1" || strings.Contains(r.URL.Path, "/watch/")
	for _, ev := range x.Events {
		if ev.Direction == "up" {
			continue
		}
		if !s.delay(ctx, start, ev.OffsetMs) {
			return
		}
		data := ev.Body.Data()
		switch {
		case watch && proto:
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(len(data)))
			data = append(n[:], data...)
		case watch && isJSON:
			data = append(data, '\n')
		}
		if _, err := w.Write(data); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
	if s.o.EndStreams || serverEnded(r, x) {
		s.delay(ctx, start, x.Timings.TotalMs)
		return
	}
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
}

// serverEnded reports whether the recorded stream was ended by the API
// server: a watch that lasted its timeoutSeconds, or a log that was not
// followed.
func serverEnded(r *http.Request, x *record.Exchange) bool {
	q := r.URL.Query()
	if strings.HasSuffix(r.URL.Path, "/log") && q.Get("follow") != "true" {
		return true
	}
	t, err := strconv.Atoi(q.Get("timeoutSeconds"))
	return err == nil && t > 0 && x.Timings.TotalMs >= float64(t)*1000-1000
}

// miss answers a request no recorded call matches: 404, with the closest
// recorded calls and how they differ, in the message kubectl prints and in
// the Status's causes.
func (s *Server) miss(w http.ResponseWriter, r *http.Request, sh shape, used string) {
	what := r.Method + " " + r.URL.RequestURI()
	if used != "" {
		s.status(w, 0, used, http.StatusNotFound, metav1.StatusReasonNotFound, "kubewire serve: "+what+": "+used, nil)
		return
	}
	near := s.m.closest(sh, 3)
	var causes []metav1.StatusCause
	msg := "kubewire serve: no recorded call matches " + what
	for i, d := range near {
		c := fmt.Sprintf("#%d %s %s, which differs in %s", d.a.x.Seq, d.a.shape.method, requestURI(d.a.x.Request.URL), strings.Join(d.diffs, ", "))
		causes = append(causes, metav1.StatusCause{Type: "KubewireClosestRecordedCall", Message: c})
		if i == 0 {
			msg += "; closest is " + c
		}
	}
	if len(near) == 0 {
		msg += "; nothing recorded is close"
	}
	s.status(w, 0, "no recorded call matched", http.StatusNotFound, metav1.StatusReasonNotFound, msg, causes)
}

// status answers with a metav1.Status of kubewire serve's own.
func (s *Server) status(w http.ResponseWriter, seq int64, note string, code int, reason metav1.StatusReason, msg string, causes []metav1.StatusCause) {
	data := codec.FailureStatus(code, reason, msg, causes...)
	s.mark(w.Header(), seq, note)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// requestURI is a recorded URL's path and query.
func requestURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.RequestURI()
}

// requestUser is who a request is sent as, as far as serve can tell
// without an authenticator: a client certificate's CN, a JWT's subject.
func requestUser(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0].Subject.CommonName
	}
	if r.Header.Get("Authorization") == "" {
		return ""
	}
	if a := auth.Identify(r.Header, true, nil); a != nil {
		return a.User
	}
	return ""
}
