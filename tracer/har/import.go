package har

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// LearnScopes reads the discovery responses of a HAR file (legacy and
// aggregated) into a scope source, and counts them.
func LearnScopes(r io.Reader) (*classify.Recorded, int, error) {
	rec := classify.NewRecorded()
	n := 0
	_, err := Decode(r, func(_ int, e *Entry) error {
		c := e.Response.Content
		if e.Response.Status != http.StatusOK || c.Encoding != "" || !strings.Contains(c.MimeType, "json") {
			return nil
		}
		if rec.Learn([]byte(c.Text)) {
			n++
		}
		return nil
	})
	return rec, n, err
}

// ImportConfig configures Import.
type ImportConfig struct {
	// Scopes are learnt from the file's discovery (LearnScopes); nil or
	// empty leaves the built-in table.
	Scopes *classify.Recorded
	// ShowSecrets keeps the file's credentials, Secret data and exec
	// stdin; by default they are redacted as a live capture would.
	ShowSecrets bool
}

// ImportStats count what Import did.
type ImportStats struct {
	// Entries is the number of entries read.
	Entries int
	// Imported is the number of exchanges written.
	Imported int
	// Skipped counts entries whose URL is not a Kubernetes API server's.
	Skipped int
}

// Import reads the HAR file r and puts each Kubernetes call in it to
// sink as a recording's lines, as it reads it: the exchange, then for a
// stream its events and its end. Each is annotated as a live capture
// annotates (tracer/annotate: the request before its credentials are
// redacted, the response after), and redacted unless c.ShowSecrets.
// Entries kubewire exported keep what their "_kubewire" says that the
// file cannot show again: their number, whether kubewire made them, the
// identity of their redacted credentials, the audit event, how much of
// each body was kept.
func Import(r io.Reader, c ImportConfig, sink record.Sink) (ImportStats, error) {
	var scopes []classify.ScopeSource
	if c.Scopes != nil && c.Scopes.Len() > 0 {
		scopes = append(scopes, c.Scopes)
	}
	a := annotate.New(annotate.Config{Scopes: scopes})
	var st ImportStats
	used := map[int64]bool{}
	last := int64(0)
	_, err := Decode(r, func(i int, e *Entry) error {
		st.Entries++
		x, u, err := toExchange(e)
		if err != nil {
			return &FormatError{Entry: i, Offset: -1, Err: err}
		}
		if a.Classify(x.Request.Method, u, x.Request.Headers).Kind == classify.KindOther {
			st.Skipped++
			return nil
		}
		x.Seq = last + 1
		if k := e.Kubewire; k != nil && k.Seq > 0 && !used[k.Seq] {
			x.Seq = k.Seq
		}
		used[x.Seq] = true
		last = max(last, x.Seq)
		annotateExchange(a, x, u, e.Kubewire)
		if !c.ShowSecrets {
			redact.Exchange(x, true)
		}
		respond(a, x, e.Kubewire)
		put(sink, x)
		st.Imported++
		return nil
	})
	return st, err
}

// annotateExchange annotates the request as kubewire does when it
// arrives, with its headers as the file has them (the client's own
// credentials, unless an export redacted them: then the identity the
// capture worked out is kept).
func annotateExchange(a *annotate.Annotator, x *record.Exchange, u *url.URL, k *Kubewire) {
	a.Request(x, u, x.Request.Headers, true)
	decodeChannels(x)
	if k == nil {
		return
	}
	x.Own, x.OwnBy = k.Own, k.OwnBy
	if was := k.Auth; was != nil && x.Annotation.Auth != nil {
		now := x.Annotation.Auth
		now.Method, now.User, now.Groups, now.Source, now.Origin = was.Method, was.User, was.Groups, was.Source, was.Origin
		now.Credential, now.Impersonation = was.Credential, was.Impersonation
	}
}

// respond completes the annotation from the (redacted) response, as a
// capture does, then folds in the audit event an export carried.
func respond(a *annotate.Annotator, x *record.Exchange, k *Kubewire) {
	var h http.Header
	var body []byte
	if x.Response != nil {
		h = x.Response.Headers
		if b := x.Response.Body; b != nil && !b.Truncated {
			body = b.Data()
		}
	}
	a.Response(x, h, body)
	if k != nil && k.Auth != nil && k.Auth.Audit != nil {
		annotate.Audit(x, k.Auth.Audit)
	}
}

// put writes x as a recording writes it.
func put(sink record.Sink, x *record.Exchange) {
	if x.Response == nil || !x.Response.Stream {
		events := x.Events
		x.Events = nil
		sink.Put(record.Line{Type: record.TypeExchange, Seq: x.Seq, Exchange: x})
		x.Events = events
		return
	}
	events, final := x.Events, x.Timings
	line := *x
	line.Events, line.StreamError = nil, nil
	line.Timings = record.Timings{FirstByteMs: final.FirstByteMs}
	sink.Put(record.Line{Type: record.TypeExchange, Seq: x.Seq, Exchange: &line})
	for i := range events {
		sink.Put(record.Line{Type: record.TypeEvent, Seq: x.Seq, Event: &events[i]})
	}
	sink.Put(record.Line{Type: record.TypeEnd, Seq: x.Seq, End: &record.End{Timings: final, Error: x.StreamError}})
}

// toExchange is the exchange an entry describes, not yet annotated, and
// its URL as kubewire records it (https for wss).
func toExchange(e *Entry) (*record.Exchange, *url.URL, error) {
	start, err := time.Parse(time.RFC3339Nano, e.StartedDateTime)
	if err != nil {
		return nil, nil, fmt.Errorf("startedDateTime: %w", err)
	}
	u, err := url.Parse(e.Request.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("request url: %w", err)
	}
	switch u.Scheme {
	case "wss":
		u.Scheme = "https"
	case "ws":
		u.Scheme = "http"
	}
	k := e.Kubewire
	x := &record.Exchange{
		Start: start,
		Request: record.Request{
			Method:  strings.ToUpper(e.Request.Method),
			URL:     u.String(),
			Proto:   normalProto(e.Request.HTTPVersion),
			Headers: toHeader(e.Request.Headers),
		},
	}
	if p := e.Request.PostData; p != nil && (p.Text != "" || e.Request.BodySize > 0) {
		var f *BodyFlags
		if k != nil {
			f = k.RequestBody
		}
		x.Request.Body, err = toBody(p.MimeType, p.Text, p.Encoding, e.Request.BodySize, f)
		if err != nil {
			return nil, nil, fmt.Errorf("request postData: %w", err)
		}
	}
	if k != nil {
		x.Request.Upstream = k.Upstream
		x.Timings = k.Timings
	} else {
		t := e.Timings
		first := 0.0
		for _, v := range []float64{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait} {
			first += max(v, 0)
		}
		x.Timings = record.Timings{FirstByteMs: first, TotalMs: max(e.Time, first)}
	}
	if err := toResponse(e, x); err != nil {
		return nil, nil, err
	}
	return x, u, nil
}

func toResponse(e *Entry, x *record.Exchange) error {
	r, k := &e.Response, e.Kubewire
	switch {
	case k != nil && k.Error != nil:
		x.Error = k.Error
		return nil
	case r.Status == 0:
		msg := "the HAR file records no response"
		if r.Error != nil && *r.Error != "" {
			msg = *r.Error
		}
		x.Error = &record.Error{Message: msg, Phase: "upstream"}
		return nil
	}
	resp := &record.Response{Status: r.Status, Proto: normalProto(r.HTTPVersion), Headers: toHeader(r.Headers)}
	x.Response = resp
	if k != nil {
		x.StreamError = k.StreamError
	}
	if e.KubewireEvents != nil || e.WebSocketMessages != nil || r.Status == http.StatusSwitchingProtocols || (k != nil && k.Stream) {
		resp.Stream = true
		return toEvents(e, x)
	}
	if r.Content.Text == "" && r.Content.Size <= 0 && r.BodySize <= 0 {
		return nil
	}
	var f *BodyFlags
	if k != nil {
		f = k.ResponseBody
	}
	size := r.Content.Size
	if size <= 0 {
		size = r.BodySize
	}
	var err error
	resp.Body, err = toBody(r.Content.MimeType, r.Content.Text, r.Content.Encoding, size, f)
	if err != nil {
		return fmt.Errorf("response content: %w", err)
	}
	return nil
}

func toEvents(e *Entry, x *record.Exchange) error {
	for j, s := range e.KubewireEvents {
		t, err := time.Parse(time.RFC3339Nano, s.Time)
		if err != nil {
			t = x.Start.Add(time.Duration(s.OffsetMs * float64(time.Millisecond)))
		}
		ev := record.Event{Time: t, OffsetMs: s.OffsetMs, Type: s.Type, Direction: s.Direction, Channel: s.Channel}
		if s.Data != "" || s.Bytes > 0 || s.Omitted {
			f := s.BodyFlags
			if ev.Body, err = toBody("", s.Data, s.Encoding, s.Bytes, &f); err != nil {
				return fmt.Errorf("_kubewireEvents[%d]: %w", j, err)
			}
		}
		x.Events = append(x.Events, ev)
	}
	for j, m := range e.WebSocketMessages {
		t := time.Unix(0, int64(m.Time*1e9)).UTC()
		ev := record.Event{Time: t, OffsetMs: record.Ms(t.Sub(x.Start)), Type: "data", Direction: "down"}
		if m.Type == "send" {
			ev.Direction = "up"
		}
		enc := ""
		if m.Opcode == OpBinary {
			enc = "base64"
		}
		var f *BodyFlags
		if k := m.Kubewire; k != nil {
			ev.Type, ev.Channel, ev.OffsetMs, f = k.Type, k.Channel, k.OffsetMs, &k.BodyFlags
			if kt, err := time.Parse(time.RFC3339Nano, k.Time); err == nil {
				ev.Time = kt
			}
		}
		if m.Data != "" || (f != nil && (f.Bytes > 0 || f.Omitted)) || (f == nil && ev.Type == "data") {
			var err error
			if ev.Body, err = toBody("", m.Data, enc, 0, f); err != nil {
				return fmt.Errorf("_webSocketMessages[%d]: %w", j, err)
			}
		}
		x.Events = append(x.Events, ev)
	}
	return nil
}

// toBody is a stored body from HAR text; size is the whole body's size
// when the file says (0: the text's); flags, from an export, say how
// much of it the recording had kept.
func toBody(contentType, text, encoding string, size int64, f *BodyFlags) (*record.Body, error) {
	data := []byte(text)
	if encoding == "base64" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(text); err != nil {
			return nil, fmt.Errorf("base64: %w", err)
		} else if len(data) == 0 && text != "" {
			return nil, errors.New("base64: empty")
		}
	}
	total := max(size, int64(len(data)))
	if f != nil && f.Bytes > total {
		total = f.Bytes
	}
	b := record.NewBody(contentType, data, total, -1)
	if f != nil {
		// A redacted body is shorter than the one that crossed the wire,
		// and not truncated: the flags say what the recording kept.
		b.Truncated, b.Redacted, b.Omitted = f.Truncated, f.Redacted, f.Omitted
	}
	return b, nil
}

// toHeader is a HAR header list as an http.Header, without HTTP/2's
// pseudo-headers (":authority"), which Chrome lists.
func toHeader(list []NameValue) http.Header {
	if len(list) == 0 {
		return nil
	}
	h := http.Header{}
	for _, nv := range list {
		if strings.HasPrefix(nv.Name, ":") || nv.Name == "" {
			continue
		}
		h.Add(nv.Name, nv.Value)
	}
	return h
}

// normalProto spells a HAR httpVersion as Go does ("http/2.0", "h2" and
// "HTTP/2" are "HTTP/2.0"); "" stays "".
func normalProto(v string) string {
	switch strings.ToLower(v) {
	case "":
		return ""
	case "http/2", "http/2.0", "h2":
		return "HTTP/2.0"
	case "http/1.0":
		return "HTTP/1.0"
	case "http/3", "http/3.0", "h3":
		return "HTTP/3.0"
	}
	return "HTTP/1.1"
}

// channelNames are the channel.k8s.io channels of exec and attach.
var channelNames = []string{"stdin", "stdout", "stderr", "error", "resize"}

// decodeChannels names the channels of WebSocket messages a browser or
// mitmproxy saved whole: in channel.k8s.io each message starts with its
// channel's number (a byte, or a digit in the base64 variants). Messages
// kubewire exported are named already.
func decodeChannels(x *record.Exchange) {
	if x.Response == nil || x.Annotation.Upgrade != "websocket" {
		return
	}
	proto := x.Response.Headers.Get("Sec-Websocket-Protocol")
	b64 := strings.Contains(proto, "base64.channel.k8s.io")
	if !b64 && !strings.HasSuffix(proto, "channel.k8s.io") {
		return
	}
	for i := range x.Events {
		ev := &x.Events[i]
		if ev.Channel != "" || ev.Type != "data" || ev.Body == nil {
			continue
		}
		data := ev.Body.Data()
		if len(data) == 0 {
			continue
		}
		n := int(data[0])
		payload := data[1:]
		if b64 {
			n -= '0'
			if d, err := base64.StdEncoding.DecodeString(string(payload)); err == nil {
				payload = d
			}
		}
		switch {
		case !b64 && n == 255 && len(payload) == 1:
			// v5's close signal: the channel it closes follows.
			ev.Type, n, payload = "close", int(payload[0]), nil
		case n < 0 || n > 254:
			continue
		}
		switch {
		case x.Annotation.Subresource == "portforward":
			ev.Channel = fmt.Sprintf("%s #%d", [2]string{"data", "error"}[n%2], n/2)
		case n < len(channelNames):
			ev.Channel = channelNames[n]
		default:
			continue
		}
		if payload == nil {
			ev.Body = nil
			continue
		}
		ev.Body = record.NewBody("", payload, int64(len(payload)), -1)
	}
}
