package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// LineType names the kind of a recording line; it is the line's "type" key.
type LineType string

// The line types of format version 1.
const (
	// TypeHeader is the first line: a Header.
	TypeHeader LineType = "header"
	// TypeExchange is an Exchange: complete for an ordinary call, or, for a
	// stream, written when the response headers arrive and followed by its
	// event lines and one end line.
	TypeExchange LineType = "exchange"
	// TypeEvent is one Event of the stream with the given seq.
	TypeEvent LineType = "event"
	// TypeEnd closes the stream with the given seq.
	TypeEnd LineType = "end"
	// TypeAudit attaches the API server's audit event, found after the
	// exchange was written, to the exchange with the given seq.
	TypeAudit LineType = "audit"
)

// Line is one line of a recording: exactly one of its pointers is set,
// matching Type.
type Line struct {
	Type     LineType
	Header   *Header
	Exchange *Exchange
	// Seq is the exchange an Event or End belongs to.
	Seq   int64
	Event *Event
	End   *End
	Audit *AuditEvent
}

// End closes a stream: its final timings and, when it broke, the error.
type End struct {
	// Timings are the stream's final timings.
	Timings Timings `json:"timings"`
	// Error is set when the stream ended abnormally (not by the server
	// closing it or the client going away).
	Error *Error `json:"error,omitempty"`
}

// Events, ends and audits name the exchange they belong to by seq and carry
// their payload under their own key (an event's own "type" must not clash
// with the line's).
type eventLine struct {
	Seq   int64  `json:"seq"`
	Event *Event `json:"event"`
}

type endLine struct {
	Seq int64 `json:"seq"`
	End *End  `json:"end"`
}

type auditLine struct {
	Seq   int64       `json:"seq"`
	Audit *AuditEvent `json:"audit"`
}

// Marshal encodes the line as one JSON object with its "type" first, without
// the trailing newline.
func (l Line) Marshal() ([]byte, error) {
	data, err := l.marshalLine()
	if err != nil {
		return nil, err
	}
	return data[:len(data)-1], nil
}

// marshalLine encodes the line with its trailing newline.
func (l Line) marshalLine() ([]byte, error) {
	if l.Type == TypeExchange && l.Exchange != nil && l.Exchange.hasLargeBody() {
		if data, ok, err := marshalSpliced(l.Exchange); ok || err != nil {
			return data, err
		}
	}
	data, err := l.marshalUsual()
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// marshalUsual encodes the line with encoding/json, without the newline
// but with room for it.
func (l Line) marshalUsual() ([]byte, error) {
	var payload any
	switch l.Type {
	case TypeHeader:
		payload = l.Header
	case TypeExchange:
		payload = l.Exchange
	case TypeEvent:
		payload = eventLine{l.Seq, l.Event}
	case TypeEnd:
		payload = endLine{l.Seq, l.End}
	case TypeAudit:
		payload = auditLine{l.Seq, l.Audit}
	default:
		return nil, fmt.Errorf("unknown line type %q", l.Type)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("line %s: payload is not an object", l.Type)
	}
	var out bytes.Buffer
	out.Grow(len(body) + 21)
	out.WriteString(`{"type":`)
	typ, _ := json.Marshal(string(l.Type))
	out.Write(typ)
	if len(body) > 2 {
		out.WriteByte(',')
	}
	out.Write(body[1:])
	return out.Bytes(), nil
}

// leadingType reads the type of a line that starts with it, as kubewire
// writes every line, without decoding the line twice.
func leadingType(line string) (LineType, bool) {
	rest, ok := strings.CutPrefix(line, `{"type":"`)
	if !ok {
		return "", false
	}
	end := strings.IndexByte(rest, '"')
	if end < 0 || strings.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	switch t := LineType(rest[:end]); t {
	case TypeHeader, TypeExchange, TypeEvent, TypeEnd, TypeAudit:
		return t, true
	}
	// A type this version does not know: let the probe check the line.
	return "", false
}

// unmarshalLine decodes one line. Lines of a type this version does not know
// come back with only Type set, so readers can skip them.
func unmarshalLine(line string) (Line, error) {
	typ, ok := leadingType(line)
	if !ok {
		var probe struct {
			Type *LineType `json:"type"`
		}
		if err := json.Unmarshal([]byte(line), &probe); err != nil {
			return Line{}, jsonError(err)
		}
		if probe.Type == nil {
			return Line{}, fmt.Errorf(`line has no "type" key`)
		}
		typ = *probe.Type
	}
	l := Line{Type: typ}
	var err error
	switch l.Type {
	case TypeHeader:
		l.Header = new(Header)
		err = json.Unmarshal([]byte(line), l.Header)
	case TypeExchange:
		// The lines a replay reads by the thousand take the fast path
		// (decode.go); encoding/json decides the lines it gives up on.
		x, ok := decodeExchange(line)
		if !ok {
			x = new(Exchange)
			err = json.Unmarshal([]byte(line), x)
		}
		l.Exchange = x
		if err == nil {
			l.Seq = l.Exchange.Seq
		}
	case TypeEvent:
		ev, ok := decodeEvent(line)
		if !ok {
			ev = eventLine{}
			err = json.Unmarshal([]byte(line), &ev)
		}
		l.Seq, l.Event = ev.Seq, ev.Event
		if err == nil && l.Event == nil {
			err = fmt.Errorf(`no "event" object`)
		}
	case TypeEnd:
		var end endLine
		err = json.Unmarshal([]byte(line), &end)
		l.Seq, l.End = end.Seq, end.End
		if err == nil && l.End == nil {
			err = fmt.Errorf(`no "end" object`)
		}
	case TypeAudit:
		var au auditLine
		err = json.Unmarshal([]byte(line), &au)
		l.Seq, l.Audit = au.Seq, au.Audit
		if err == nil && l.Audit == nil {
			err = fmt.Errorf(`no "audit" object`)
		}
	}
	if err != nil {
		return Line{}, fmt.Errorf("%s line: %w", l.Type, jsonError(err))
	}
	return l, nil
}

// jsonError makes encoding/json's errors read well after FILE:LINE.
func jsonError(err error) error {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return err
}
