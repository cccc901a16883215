package record

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// A large body would cost encoding/json several copies of itself: its
// encoder's buffer grows a quarter at a time, then the result is copied out,
// then the line is copied again with its type in front. A list of 5,000
// objects kept to the 4 MiB cap allocated about 20 MiB that way. So an
// exchange line whose bodies are large is encoded in two parts: the
// exchange with each large body text replaced by a marker, by encoding/json
// as usual, then the texts, escaped exactly as encoding/json escapes them,
// written into one buffer of the line's exact size.

// spliceMin is the size from which a body text is written into the line
// directly rather than by encoding/json.
const spliceMin = 32 << 10

// large reports whether b is text of spliceMin or more.
func (b *Body) large() bool { return b != nil && len(b.Text) >= spliceMin }

// hasLargeBody reports whether a body of x is large.
func (x *Exchange) hasLargeBody() bool {
	return x.Request.Body.large() || x.Response != nil && x.Response.Body.large()
}

// largeText is a body text spliced into the line in place of its marker.
type largeText struct {
	marker []byte // the marker as encoding/json wrote it, quotes included
	text   string
}

// marshalSpliced encodes an exchange line whose request or response body is
// large, with its newline; ok is false when the exchange has no such body
// (or a marker happens to occur in it elsewhere) and the caller should
// encode it as usual.
func marshalSpliced(x *Exchange) (line []byte, ok bool, err error) {
	var texts []largeText
	swap := func(b *Body) *Body {
		if !b.large() {
			return b
		}
		marker := "\x00kubewire:body:" + strconv.Itoa(len(texts)) + "\x00"
		texts = append(texts, largeText{marker: appendJSONString(nil, marker), text: b.Text})
		c := *b
		c.Text = marker
		return &c
	}
	// A shallow copy with the markers: the exchange itself is shared with
	// other sinks (the live view) and is not changed.
	y := *x
	y.Request.Body = swap(x.Request.Body)
	if x.Response != nil {
		r := *x.Response
		r.Body = swap(r.Body)
		y.Response = &r
	}
	if len(texts) == 0 {
		return nil, false, nil
	}
	skeleton, err := Line{Type: TypeExchange, Seq: y.Seq, Exchange: &y}.marshalUsual()
	if err != nil {
		return nil, false, err
	}
	size := len(skeleton) + 1
	at := make([]int, len(texts))
	from := 0
	for i, t := range texts {
		// Bodies are encoded in field order: each marker comes after the
		// one before, and only once.
		j := bytes.Index(skeleton[from:], t.marker)
		if j < 0 || bytes.Contains(skeleton[from+j+len(t.marker):], t.marker) {
			return nil, false, nil
		}
		at[i] = from + j
		from = at[i] + len(t.marker)
		size += jsonStringLen(t.text) - len(t.marker)
	}
	line = make([]byte, 0, size)
	from = 0
	for i, t := range texts {
		line = append(line, skeleton[from:at[i]]...)
		line = appendJSONString(line, t.text)
		from = at[i] + len(t.marker)
	}
	line = append(line, skeleton[from:]...)
	return append(line, '\n'), true, nil
}

// How encoding/json (HTML escaping on, its default) writes each ASCII
// byte of a string: 0 as it is, 1 as a backslash and one letter, 5 as
// \u00XX.
var asciiEscape = func() (t [utf8.RuneSelf]byte) {
	for b := range t {
		switch {
		case b == '"' || b == '\\' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t':
			t[b] = 1
		case b < 0x20 || b == '<' || b == '>' || b == '&':
			t[b] = 5
		}
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, byte for byte as
// encoding/json.Marshal writes it: HTML characters, U+2028 and U+2029
// escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if asciiEscape[b] == 0 {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonStringLen is len(appendJSONString(nil, s)).
func jsonStringLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			n += int(asciiEscape[b])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += len(`\ufffd`) - 1
		case r == '\u2028' || r == '\u2029':
			n += len(`\u2028`) - size
		}
		i += size
	}
	return n
}
