package har

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// FromExchange is the HAR entry of a complete exchange. Upgraded
// connections' events become WebSocket messages; other streams' events
// become "_kubewireEvents", and their text is also the response's content.
func FromExchange(x *record.Exchange) Entry {
	e := Entry{
		StartedDateTime: x.Start.UTC().Format(time.RFC3339Nano),
		Request:         request(&x.Request),
		Response:        response(x),
		Timings:         timings(x.Timings),
		Kubewire:        kubewire(x),
	}
	e.Time = e.Timings.Total()
	if u, err := url.Parse(x.Request.URL); err == nil && net.ParseIP(u.Hostname()) != nil {
		e.ServerIPAddress = u.Hostname()
	}
	switch {
	case upgraded(x):
		e.WebSocketMessages = []WebSocketMessage{}
		if x.Annotation.Upgrade == "websocket" {
			e.ResourceType = "websocket"
		}
		for i := range x.Events {
			e.WebSocketMessages = append(e.WebSocketMessages, message(&x.Events[i]))
		}
	case len(x.Events) > 0 || (x.Response != nil && x.Response.Stream):
		e.KubewireEvents = []StreamEvent{}
		for i := range x.Events {
			e.KubewireEvents = append(e.KubewireEvents, streamEvent(&x.Events[i]))
		}
		streamContent(&e.Response.Content, x.Events)
		e.Response.BodySize = e.Response.Content.Size
	}
	return e
}

// upgraded reports whether x switched protocols (exec, attach,
// port-forward).
func upgraded(x *record.Exchange) bool {
	return x.Annotation.Upgrade != "" || (x.Response != nil && x.Response.Status == http.StatusSwitchingProtocols)
}

// timings split what a recording measures: the time until the response
// headers is the wait, the rest the receive. kubewire does not time the
// sending of the request apart, so send is 0.
func timings(t record.Timings) Timings {
	wait := max(t.FirstByteMs, 0)
	return Timings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1, Send: 0, Wait: wait, Receive: max(t.TotalMs-wait, 0)}
}

func request(r *record.Request) Request {
	out := Request{
		Method:      r.Method,
		URL:         r.URL,
		HTTPVersion: proto(r.Proto),
		Cookies:     cookies((&http.Request{Header: r.Headers}).Cookies()),
		Headers:     headers(r.Headers),
		QueryString: query(r.URL),
		HeadersSize: -1,
	}
	if b := r.Body; b != nil {
		out.BodySize = b.Bytes
		ct := b.ContentType
		if ct == "" {
			ct = r.Headers.Get("Content-Type")
		}
		out.PostData = &PostData{MimeType: ct}
		out.PostData.Text, out.PostData.Encoding = text(b)
	}
	return out
}

func response(x *record.Exchange) Response {
	r := x.Response
	if r == nil {
		out := Response{Cookies: []Cookie{}, Headers: []NameValue{}, HeadersSize: -1, BodySize: -1}
		if x.Error != nil {
			out.Status = x.Error.Status
			out.StatusText = http.StatusText(x.Error.Status)
			msg := x.Error.Message
			out.Error = &msg
		}
		return out
	}
	out := Response{
		Status:      r.Status,
		StatusText:  http.StatusText(r.Status),
		HTTPVersion: proto(r.Proto),
		Cookies:     cookies((&http.Response{Header: r.Headers}).Cookies()),
		Headers:     headers(r.Headers),
		Content:     Content{MimeType: r.Headers.Get("Content-Type")},
		RedirectURL: r.Headers.Get("Location"),
		HeadersSize: -1,
	}
	if b := r.Body; b != nil {
		out.Content.Size, out.BodySize = b.Bytes, b.Bytes
		if b.ContentType != "" {
			out.Content.MimeType = b.ContentType
		}
		out.Content.Text, out.Content.Encoding = text(b)
	}
	if x.StreamError != nil {
		msg := x.StreamError.Message
		out.Error = &msg
	}
	return out
}

// streamContent is a watch's or a log's events as the client read them:
// the text of every event the server sent, one after another, when each
// is text.
func streamContent(c *Content, events []record.Event) {
	var b strings.Builder
	textual := true
	for _, ev := range events {
		if ev.Direction == "up" || ev.Body == nil {
			continue
		}
		c.Size += ev.Body.Bytes
		if ev.Body.Base64 != "" {
			textual = false
		}
		b.WriteString(ev.Body.Text)
		if ev.Type != "data" {
			b.WriteByte('\n') // the API server ends each watch event with one
		}
	}
	if textual {
		c.Text = b.String()
	}
	c.Comment = fmt.Sprintf("a stream of %d events, each under _kubewireEvents", len(events))
}

func message(ev *record.Event) WebSocketMessage {
	m := WebSocketMessage{Type: "receive", Time: epoch(ev.Time), Opcode: OpText}
	if ev.Direction == "up" {
		m.Type = "send"
	}
	k := &MessageKubewire{Type: ev.Type, Channel: ev.Channel, Time: ev.Time.UTC().Format(time.RFC3339Nano), OffsetMs: ev.OffsetMs, BodyFlags: flags(ev.Body)}
	m.Kubewire = k
	if ev.Body != nil {
		var enc string
		m.Data, enc = text(ev.Body)
		if enc != "" {
			m.Opcode = OpBinary
		}
	}
	return m
}

func streamEvent(ev *record.Event) StreamEvent {
	s := StreamEvent{Type: ev.Type, Time: ev.Time.UTC().Format(time.RFC3339Nano), OffsetMs: ev.OffsetMs,
		Direction: ev.Direction, Channel: ev.Channel, BodyFlags: flags(ev.Body)}
	if ev.Body != nil {
		s.Data, s.Encoding = text(ev.Body)
	}
	return s
}

// epoch is t in seconds since the Unix epoch, as WebSocket messages give it.
func epoch(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

func kubewire(x *record.Exchange) *Kubewire {
	k := &Kubewire{Seq: x.Seq, Own: x.Own, OwnBy: x.OwnBy, Annotation: x.Annotation,
		Upstream: x.Request.Upstream, Error: x.Error, StreamError: x.StreamError, Timings: x.Timings}
	if a := x.Annotation.Auth; a != nil {
		for _, st := range a.Stages {
			if st.Inferred {
				k.InferredStages = append(k.InferredStages, st.Name)
			}
		}
	}
	if b := x.Request.Body; b != nil {
		f := flags(b)
		k.RequestBody = &f
	}
	if r := x.Response; r != nil {
		k.Stream = r.Stream
		if r.Body != nil {
			f := flags(r.Body)
			k.ResponseBody = &f
		}
	}
	return k
}

func flags(b *record.Body) BodyFlags {
	if b == nil {
		return BodyFlags{}
	}
	return BodyFlags{Bytes: b.Bytes, Truncated: b.Truncated, Redacted: b.Redacted, Omitted: b.Omitted}
}

// text is a stored body as HAR holds it: its text, or base64 with the
// encoding "base64".
func text(b *record.Body) (string, string) {
	if b.Base64 != "" {
		return b.Base64, "base64"
	}
	return b.Text, ""
}

func proto(p string) string {
	if p == "" {
		return "HTTP/1.1"
	}
	return p
}

// headers lists h by name, each value apart, in a stable order.
func headers(h http.Header) []NameValue {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := []NameValue{}
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, NameValue{Name: k, Value: v})
		}
	}
	return out
}

// query lists the URL's query parameters in the order they were sent.
func query(raw string) []NameValue {
	out := []NameValue{}
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return out
	}
	for _, part := range strings.Split(u.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, NameValue{Name: k, Value: v})
	}
	return out
}

func cookies(cs []*http.Cookie) []Cookie {
	out := []Cookie{}
	for _, c := range cs {
		hc := Cookie{Name: c.Name, Value: c.Value, Path: c.Path, Domain: c.Domain, HTTPOnly: c.HttpOnly, Secure: c.Secure}
		if !c.Expires.IsZero() {
			hc.Expires = c.Expires.UTC().Format(time.RFC3339)
		}
		out = append(out, hc)
	}
	return out
}

// Writer writes a HAR file one entry at a time, so an export holds one
// exchange in memory, not the recording. Close ends the file; a file
// whose Writer was closed is valid HAR however many entries it has.
type Writer struct {
	w   *bufio.Writer
	n   int
	err error
}

// NewWriter writes the start of a HAR file to w: the log's version,
// creator and kubewire's description of the recording (may be nil).
func NewWriter(w io.Writer, creator Creator, about *LogKubewire) (*Writer, error) {
	hw := &Writer{w: bufio.NewWriter(w)}
	c, err := json.Marshal(creator)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(hw.w, "{\n  \"log\": {\n    \"version\": %q,\n    \"creator\": %s,\n", Version, c)
	if about != nil {
		a, err := json.MarshalIndent(about, "    ", "  ")
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(hw.w, "    \"_kubewire\": %s,\n", a)
	}
	hw.w.WriteString("    \"pages\": [],\n    \"entries\": [")
	return hw, nil
}

// Write writes one entry.
func (w *Writer) Write(e *Entry) error {
	if w.err != nil {
		return w.err
	}
	data, err := json.MarshalIndent(e, "      ", "  ")
	if err != nil {
		w.err = err
		return err
	}
	if w.n > 0 {
		w.w.WriteByte(',')
	}
	w.w.WriteString("\n      ")
	w.w.Write(data)
	w.n++
	// Let the entry go out now: a long export shows progress, and a
	// reader of a pipe gets entries as they come.
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write HAR: %w", err)
	}
	return w.err
}

// Entries is the number of entries written.
func (w *Writer) Entries() int { return w.n }

// Close writes the end of the file and flushes it.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.n > 0 {
		w.w.WriteString("\n    ")
	}
	w.w.WriteString("]\n  }\n}\n")
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	return nil
}
