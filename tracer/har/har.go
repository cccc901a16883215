// Package har converts kubewire recordings to and from HAR 1.2, the HTTP
// Archive format that browser developer tools and mitmproxy read and
// write. Export turns each exchange into an entry (Entry), written one at
// a time by Writer so a recording of any size streams out; what HAR has
// no field for goes under custom keys: the annotation under "_kubewire",
// upgraded connections' frames under "_webSocketMessages" (the shape
// Chrome and mitmproxy use), watch and log streams under
// "_kubewireEvents". Import reads entries one at a time (Decode) and
// turns each back into an exchange (Exchange). The fields are described
// in docs/export.md.
package har

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/kubewire/kubewire/tracer/record"
)

// Version is the HAR version written.
const Version = "1.2"

// HAR is a whole HAR file: one log.
type HAR struct {
	Log Log `json:"log"`
}

// Log is the HAR log. Writer writes it piece by piece; Decode reads all
// of it but Entries.
type Log struct {
	// Version is "1.2".
	Version string `json:"version"`
	// Creator names the program that wrote the file.
	Creator Creator `json:"creator"`
	// Kubewire describes the recording an export came from.
	Kubewire *LogKubewire `json:"_kubewire,omitempty"`
	// Pages is always empty in kubewire's files: calls belong to no page.
	Pages []json.RawMessage `json:"pages"`
	// Entries are the calls, in the order they completed.
	Entries []Entry `json:"entries"`
	// Comment is free text.
	Comment string `json:"comment,omitempty"`
}

// Creator names the program that wrote a HAR file.
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Comment string `json:"comment,omitempty"`
}

// LogKubewire describes the recording a HAR file was exported from.
type LogKubewire struct {
	// Recording is the recording's name (its file name).
	Recording string `json:"recording,omitempty"`
	// Source is the recording header's source.
	Source record.Source `json:"source"`
	// Recorded is when the recording started.
	Recorded string `json:"recorded,omitempty"`
	// Secrets is "redacted" unless the export was made with
	// --show-secrets from a recording that held them ("shown").
	Secrets string `json:"secrets"`
	// Filter is the export's --filter in its normal form, "" for none.
	Filter string `json:"filter,omitempty"`
}

// Entry is one call.
type Entry struct {
	// StartedDateTime is when the request arrived, RFC 3339.
	StartedDateTime string `json:"startedDateTime"`
	// Time is the sum of the non-negative Timings, in milliseconds.
	Time     float64  `json:"time"`
	Request  Request  `json:"request"`
	Response Response `json:"response"`
	// Cache is always empty: kubewire sees no client cache.
	Cache   Cache   `json:"cache"`
	Timings Timings `json:"timings"`
	// ServerIPAddress is the API server's address when the URL names an IP.
	ServerIPAddress string `json:"serverIPAddress,omitempty"`
	Comment         string `json:"comment,omitempty"`
	// ResourceType is "websocket" for a connection upgraded to WebSocket,
	// as Chrome and mitmproxy write it.
	ResourceType string `json:"_resourceType,omitempty"`
	// WebSocketMessages are an upgraded connection's messages.
	WebSocketMessages []WebSocketMessage `json:"_webSocketMessages,omitempty"`
	// KubewireEvents are a watch's or a log stream's events.
	KubewireEvents []StreamEvent `json:"_kubewireEvents,omitempty"`
	// Kubewire is kubewire's annotation of the call.
	Kubewire *Kubewire `json:"_kubewire,omitempty"`
}

// Request is an entry's request.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []Cookie    `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	QueryString []NameValue `json:"queryString"`
	PostData    *PostData   `json:"postData,omitempty"`
	// HeadersSize is -1: kubewire does not keep the headers' wire size.
	HeadersSize int64 `json:"headersSize"`
	// BodySize is the whole body's size, 0 without one.
	BodySize int64  `json:"bodySize"`
	Comment  string `json:"comment,omitempty"`
}

// PostData is a request body.
type PostData struct {
	MimeType string `json:"mimeType"`
	// Text is the body as stored: text, or base64 when Encoding says so.
	Text string `json:"text"`
	// Encoding is "base64" for a binary (protobuf) body, a kubewire
	// extension: HAR 1.2 has no encoding for request bodies.
	Encoding string          `json:"_encoding,omitempty"`
	Params   json.RawMessage `json:"params,omitempty"`
	Comment  string          `json:"comment,omitempty"`
}

// Response is an entry's response. A call the API server never answered
// has status 0, or the status kubewire answered with, and Error.
type Response struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []Cookie    `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	Content     Content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`
	// Error says why there is no response, as mitmproxy and Chrome write it.
	Error *string `json:"_error,omitempty"`
}

// Content is a response body.
type Content struct {
	// Size is the whole body's size, even when less is stored.
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	// Encoding is "base64" when Text is base64 (a binary body).
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// Cache is an entry's cache state: kubewire never knows it.
type Cache struct {
	Comment string `json:"comment,omitempty"`
}

// Timings split an entry's time, in milliseconds; -1 is unknown.
type Timings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	SSL     float64 `json:"ssl"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	Comment string  `json:"comment,omitempty"`
}

// Total is the sum of the non-negative timings, an entry's Time. SSL is
// part of Connect in HAR 1.2, so it is not counted twice.
func (t Timings) Total() float64 {
	sum := 0.0
	for _, v := range []float64{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait, t.Receive} {
		if v > 0 {
			sum += v
		}
	}
	return sum
}

// NameValue is a header or a query parameter.
type NameValue struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Comment string `json:"comment,omitempty"`
}

// UnmarshalJSON reads {"name","value"} objects, and the [name, value]
// pairs some tools (Slack) write.
func (nv *NameValue) UnmarshalJSON(data []byte) error {
	if d := bytes.TrimSpace(data); len(d) > 0 && d[0] == '[' {
		var pair []string
		if err := json.Unmarshal(d, &pair); err != nil {
			return err
		}
		if len(pair) != 2 {
			return errors.New("a [name, value] pair has not two strings")
		}
		nv.Name, nv.Value = pair[0], pair[1]
		return nil
	}
	type plain NameValue
	return json.Unmarshal(data, (*plain)(nv))
}

// Cookie is a cookie sent or set.
type Cookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Expires  string `json:"expires,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
}

// WebSocketMessage is one message of an upgraded connection, in the shape
// Chrome and mitmproxy write.
type WebSocketMessage struct {
	// Type is "send" (client to server) or "receive".
	Type string `json:"type"`
	// Time is when it passed, in seconds since the Unix epoch.
	Time float64 `json:"time"`
	// Opcode is 1 for text, 2 for binary (Data then in base64).
	Opcode int `json:"opcode"`
	// Data is the message's payload.
	Data string `json:"data"`
	// Kubewire says what kubewire decoded of the message.
	Kubewire *MessageKubewire `json:"_kubewire,omitempty"`
}

// Opcodes of WebSocketMessage.
const (
	OpText   = 1
	OpBinary = 2
)

// MessageKubewire is what kubewire decoded of a WebSocket message: Data
// is then the channel's payload, without the channel byte.
type MessageKubewire struct {
	// Type is the event's type: "data", "open" or "close".
	Type string `json:"type"`
	// Channel names the channel.k8s.io channel (stdout, error, data :80).
	Channel string `json:"channel,omitempty"`
	// Time is when kubewire received it, RFC 3339 with nanoseconds (the
	// message's own time, in float seconds, is rounded).
	Time string `json:"time"`
	// OffsetMs is the time since the request arrived.
	OffsetMs float64 `json:"offsetMs"`
	BodyFlags
}

// StreamEvent is one event of a watch or log stream.
type StreamEvent struct {
	// Type is the watch event type (ADDED, MODIFIED, DELETED, BOOKMARK,
	// ERROR), or "data" for a log chunk.
	Type string `json:"type"`
	// Time is when kubewire received it, RFC 3339.
	Time string `json:"time"`
	// OffsetMs is the time since the request arrived.
	OffsetMs  float64 `json:"offsetMs"`
	Direction string  `json:"direction,omitempty"`
	Channel   string  `json:"channel,omitempty"`
	// Data is the event as stored: text, or base64 when Encoding says so.
	Data     string `json:"data"`
	Encoding string `json:"encoding,omitempty"`
	BodyFlags
}

// BodyFlags say how much of a body the recording kept.
type BodyFlags struct {
	// Bytes is the whole body's size.
	Bytes int64 `json:"bytes"`
	// Truncated: only the first part was stored.
	Truncated bool `json:"truncated,omitempty"`
	// Redacted: secrets were removed from it.
	Redacted bool `json:"redacted,omitempty"`
	// Omitted: none of it was stored on purpose (exec's stdin).
	Omitted bool `json:"omitted,omitempty"`
}

// Kubewire is an entry's "_kubewire": the exchange's annotation, with its
// keys as in a recording (verb, apiGroup, apiVersion, resource,
// namespace, scope, scopeSource, auth with the identity and the journey's
// stages, signals, outcome), and what HAR has no place for.
type Kubewire struct {
	// Seq is the exchange's number in the recording.
	Seq int64 `json:"seq"`
	// Own and OwnBy mark calls kubewire made itself.
	Own   bool   `json:"own,omitempty"`
	OwnBy string `json:"ownBy,omitempty"`
	record.Annotation
	// InferredStages name the journey's stages kubewire deduced rather
	// than saw evidence of.
	InferredStages []string `json:"inferredStages,omitempty"`
	// RequestBody and ResponseBody say how much of each body was kept.
	RequestBody  *BodyFlags `json:"requestBody,omitempty"`
	ResponseBody *BodyFlags `json:"responseBody,omitempty"`
	// Stream is true for a response relayed as a stream.
	Stream bool `json:"stream,omitempty"`
	// Upstream is the request as kubewire sent it to the API server.
	Upstream *record.Upstream `json:"upstream,omitempty"`
	// Error says why there is no response; StreamError why a stream broke.
	Error       *record.Error `json:"error,omitempty"`
	StreamError *record.Error `json:"streamError,omitempty"`
	// Timings are the recording's own timings.
	Timings record.Timings `json:"timings"`
}
