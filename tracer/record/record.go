// Package record defines kubewire's exchange record and the recording file
// format that stores it: JSON Lines, one header line, then one line per
// exchange, per stream event and per stream end, each written and flushed as
// it happens. Everything else in kubewire (the live view, replay, serve,
// export, lessons) consumes these types; nothing here depends on the proxy.
//
// The format is specified in docs/recording-format.md.
package record

import (
	"encoding/base64"
	"net/http"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Format is the value of the header's "format" key.
const Format = "kubewire-recording"

// Version is the recording format version this package writes and reads.
const Version = 1

// Header is the first line of every recording.
type Header struct {
	// Format is always "kubewire-recording".
	Format string `json:"format"`
	// Version is the format version; readers refuse versions they do not know.
	Version int `json:"version"`
	// Kubewire is the version of kubewire that wrote the recording.
	Kubewire string `json:"kubewire"`
	// Recorded is when the recording started.
	Recorded time.Time `json:"recorded"`
	// Source says where the traffic came from.
	Source Source `json:"source"`
	// Secrets says how secrets were treated: SecretsRedacted, or
	// SecretsShown when kubewire ran with --show-secrets. Empty in
	// recordings that predate the key.
	Secrets string `json:"secrets,omitempty"`
	// Stdin says how the stdin of exec and attach was treated:
	// StdinOmitted (only its size), or StdinRecorded (--record-stdin).
	Stdin string `json:"stdin,omitempty"`
}

// Values of Header.Secrets and Header.Stdin.
const (
	SecretsRedacted = "redacted"
	SecretsShown    = "shown"
	StdinOmitted    = "omitted"
	StdinRecorded   = "recorded"
)

// Source describes where a recording was made.
type Source struct {
	// Mode is how kubewire ran: "run", "proxy", "serve" (answering from a
	// recording), "import" (a recording made from another
	// tool's file: kubewire import) or "test".
	Mode string `json:"mode,omitempty"`
	// Command is the command line kubewire ran, for mode "run", with the
	// values of credential flags and other secrets redacted.
	Command []string `json:"command,omitempty"`
	// Context is the kubeconfig context whose server was traced.
	Context string `json:"context,omitempty"`
	// Server is the API server URL of that context.
	Server string `json:"server,omitempty"`
	// ServerVersion is the API server's gitVersion when it was known.
	ServerVersion string `json:"serverVersion,omitempty"`
	// Host is the machine's host name.
	Host string `json:"host,omitempty"`
	// File is the file an import read (mode "import"), e.g. a HAR file.
	File string `json:"file,omitempty"`
	// Scopes says where an import's resource scopes came from: "recorded"
	// (discovery responses in the file) or "builtin" (kubewire's table).
	Scopes string `json:"scopes,omitempty"`
}

// Exchange is one HTTP exchange between a client and the API server, as
// kubewire saw it. Every exchange ends with exactly one of Response or Error;
// a stream (watch, logs -f, exec) has a Response and then Events.
type Exchange struct {
	// Seq numbers exchanges from 1 in the order their requests arrived.
	Seq int64 `json:"seq"`
	// Start is when the request arrived at kubewire.
	Start time.Time `json:"start"`
	// Own is true for calls kubewire made itself (discovery for scopes,
	// flow-schema names, whoami), never for the traced client's calls.
	Own bool `json:"own,omitempty"`
	// OwnBy says which part of kubewire made an Own call: OwnByProxy for
	// the proxy's background lookups, or the kubewire command (whoami,
	// can-i) whose call passed through a trace.
	OwnBy string `json:"ownBy,omitempty"`
	// Request is the request as the client sent it, redacted.
	Request Request `json:"request"`
	// Response is the API server's response. Nil when the exchange failed
	// before the API server answered.
	Response *Response `json:"response,omitempty"`
	// Error says why the exchange has no response from the API server.
	// Exactly one of Response and Error is set on a complete exchange.
	Error *Error `json:"error,omitempty"`
	// StreamError is set when a stream broke after its response began.
	StreamError *Error `json:"streamError,omitempty"`
	// Timings measures the exchange.
	Timings Timings `json:"timings"`
	// Events are a stream's events or chunks in arrival order: watch events,
	// log chunks, upgraded-connection frames.
	Events []Event `json:"events,omitempty"`
	// Annotation is what kubewire worked out about the request at capture time.
	Annotation Annotation `json:"annotation"`
}

// Request is an HTTP request.
type Request struct {
	// Method is the HTTP method.
	Method string `json:"method"`
	// URL is the absolute URL the client asked for.
	URL string `json:"url"`
	// Proto is the client's protocol, e.g. "HTTP/1.1".
	Proto string `json:"proto,omitempty"`
	// Headers are the client's headers, redacted.
	Headers http.Header `json:"headers,omitempty"`
	// Body is the request body; nil when there was none.
	Body *Body `json:"body,omitempty"`
	// Upstream is the request as kubewire sent it to the API server, after
	// the upstream transport added credentials, redacted. Nil when nothing
	// was sent upstream.
	Upstream *Upstream `json:"upstream,omitempty"`
}

// Upstream is the request that left kubewire for the API server.
type Upstream struct {
	// URL is the upstream URL.
	URL string `json:"url"`
	// Proto is the upstream protocol, e.g. "HTTP/2.0".
	Proto string `json:"proto,omitempty"`
	// Headers are the headers sent upstream, redacted.
	Headers http.Header `json:"headers,omitempty"`
}

// Response is an HTTP response.
type Response struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Proto is the response protocol.
	Proto string `json:"proto,omitempty"`
	// Headers are the response headers, redacted.
	Headers http.Header `json:"headers,omitempty"`
	// Body is the response body (for a stream: nil; see Events).
	Body *Body `json:"body,omitempty"`
	// Stream is true when the response was relayed as a stream (watch,
	// follow, upgrade) whose content is in the exchange's Events.
	Stream bool `json:"stream,omitempty"`
}

// Error says why an exchange failed.
type Error struct {
	// Message is a human-readable description.
	Message string `json:"message"`
	// Phase is where it failed: "upstream" (reaching the API server),
	// "client" (the client went away) or "proxy".
	Phase string `json:"phase,omitempty"`
	// Status is the HTTP status kubewire answered the client with in place
	// of the API server (502 for an unreachable server), 0 when none.
	Status int `json:"status,omitempty"`
}

// Timings measure an exchange, in milliseconds from its Start.
type Timings struct {
	// FirstByteMs is the time until the response headers arrived.
	FirstByteMs float64 `json:"firstByteMs"`
	// TotalMs is the time until the exchange ended (for a stream, until it
	// closed).
	TotalMs float64 `json:"totalMs"`
}

// Event is one event of a stream.
type Event struct {
	// Time is when kubewire received the event.
	Time time.Time `json:"time"`
	// OffsetMs is Time minus the exchange's Start, in milliseconds.
	OffsetMs float64 `json:"offsetMs"`
	// Type is the watch event type (ADDED, MODIFIED, DELETED, BOOKMARK,
	// ERROR) for watches, "data" for other streams' chunks.
	Type string `json:"type"`
	// Direction is "down" (server to client) or "up" (client to server, only
	// on upgraded connections).
	Direction string `json:"direction,omitempty"`
	// Channel is the stream channel of an upgraded connection (stdin,
	// stdout, stderr, error, resize) when known.
	Channel string `json:"channel,omitempty"`
	// Body is the event's bytes: a watch event's whole frame, a chunk.
	Body *Body `json:"body,omitempty"`
}

// Stdin reports whether the event is input a client sent to exec or
// attach (subresource): data on its stdin channel, or bytes it sent that
// did not decode into a channel. It may be a password typed at a prompt.
func (e *Event) Stdin(subresource string) bool {
	return (subresource == "exec" || subresource == "attach") && e.Direction == "up" && e.Type == "data" &&
		(e.Channel == "stdin" || e.Channel == "")
}

// Body holds a message body. UTF-8 text is kept as Text; anything else as
// Base64. Bytes counts the whole body even when only part of it is stored.
type Body struct {
	// ContentType is the body's media type when the headers gave one.
	ContentType string `json:"contentType,omitempty"`
	// Bytes is the size of the whole body.
	Bytes int64 `json:"bytes"`
	// Text is the stored body when it is valid UTF-8.
	Text string `json:"text,omitempty"`
	// Base64 is the stored body, base64-encoded, when it is not UTF-8.
	Base64 string `json:"base64,omitempty"`
	// Truncated is true when only the first part of the body was stored.
	Truncated bool `json:"truncated,omitempty"`
	// SHA256 is the hex SHA-256 of a whole request body of which the
	// capture kept less than all (kubewire holds at most the cap of a body
	// while it passes), unless the part kept was redacted: a hash would let
	// a reader confirm a guess of the secrets.
	SHA256 string `json:"sha256,omitempty"`
	// Redacted is true when secrets were removed from the stored body.
	Redacted bool `json:"redacted,omitempty"`
	// Omitted is true when none of the body was stored on purpose: the
	// stdin of exec and attach, unless kubewire ran with --record-stdin.
	Omitted bool `json:"omitted,omitempty"`
}

// NewBody stores data, of which total bytes were seen in all; at most limit
// bytes are kept (limit < 0: no limit). Text stays text unless truncation
// cut a multi-byte rune, which is then dropped from the stored part.
func NewBody(contentType string, data []byte, total int64, limit int) *Body {
	return newBody(contentType, data, total, limit, false)
}

// NewBodyShared is NewBody for bytes nobody changes afterwards, such as
// the part of a body the proxy kept: the stored text shares them instead
// of copying them, so a 4 MiB part of a large list is held once, not
// twice, until its line is written.
func NewBodyShared(contentType string, data []byte, total int64, limit int) *Body {
	return newBody(contentType, data, total, limit, true)
}

func newBody(contentType string, data []byte, total int64, limit int, shared bool) *Body {
	b := &Body{ContentType: contentType, Bytes: total}
	if limit >= 0 && len(data) > limit {
		data = data[:limit]
	}
	if int64(len(data)) < total {
		b.Truncated = true
	}
	if b.Truncated {
		// Do not let a cut rune turn text into binary.
		for i := 0; i < utf8.UTFMax && len(data) > 0 && !utf8.Valid(data); i++ {
			data = data[:len(data)-1]
		}
	}
	switch {
	case utf8.Valid(data) && shared && len(data) > 0:
		b.Text = unsafe.String(&data[0], len(data))
	case utf8.Valid(data):
		b.Text = string(data)
	default:
		b.Base64 = base64.StdEncoding.EncodeToString(data)
	}
	return b
}

// Data returns the stored bytes.
func (b *Body) Data() []byte {
	if b == nil {
		return nil
	}
	if b.Base64 != "" {
		d, err := base64.StdEncoding.DecodeString(b.Base64)
		if err != nil {
			return nil
		}
		return d
	}
	return []byte(b.Text)
}

// Ms converts a duration to the milliseconds used in recordings.
func Ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// OwnByProxy marks the proxy's own background lookups (discovery for
// scopes, flow-schema names), which the live view hides unless asked.
const OwnByProxy = "proxy"

// Background reports whether x is one of the proxy's own lookups rather
// than a call of the traced client or of a kubewire command.
func (x *Exchange) Background() bool {
	return x.Own && (x.OwnBy == "" || x.OwnBy == OwnByProxy)
}

// ClientStatus is the status the client got: the API server's, or
// kubewire's own (a 502 for an exchange that never reached the server);
// 0 when there was none.
func (x *Exchange) ClientStatus() int {
	switch {
	case x.Response != nil:
		return x.Response.Status
	case x.Error != nil:
		return x.Error.Status
	}
	return 0
}
