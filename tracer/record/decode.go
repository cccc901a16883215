package record

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast path for the lines a replay reads by the thousand: exchange and
// event lines, decoded without reflection. encoding/json spent most of a
// replay's time finding its way through the types; this decoder knows
// them. It decodes exactly what encoding/json would, or gives up: a line
// it is not sure of (not valid JSON, a value of another type, a key that
// only matches a field ignoring case, a number that does not fit) goes to
// encoding/json, which then decides, errors and all. So it only has to be
// right about the lines it accepts, and the fuzz test holds it to
// encoding/json there.
//
// Strings are cut from one copy of the line, so a line costs few
// allocations: its copy, the structs, header maps and what needed
// unescaping.

// decoder reads one line. Once it has given up (bad), every read returns
// zero values and the input reads as ended, so loops end.
type decoder struct {
	s   string
	i   int
	bad bool
	// strs is where one-element string slices (header values) are cut
	// from, a few allocations for a whole line's headers.
	strs []string
}

// decodeExchange decodes an exchange line; ok is false when encoding/json
// must decide.
func decodeExchange(line string) (x *Exchange, ok bool) {
	d := &decoder{s: line}
	x = new(Exchange)
	d.exchange(x)
	return x, d.end()
}

// decodeEvent decodes an event line; ok is false when encoding/json must
// decide.
func decodeEvent(line string) (l eventLine, ok bool) {
	d := &decoder{s: line}
	if d.null() {
		return l, d.end()
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "seq":
			d.int64(&l.Seq)
		case "event":
			if d.null() {
				l.Event = nil
				continue
			}
			if l.Event == nil {
				l.Event = new(Event)
			}
			d.event(l.Event)
		default:
			d.unknown(k, eventLineFields)
		}
	}
	return l, d.end()
}

// end reports whether the whole line was decoded.
func (d *decoder) end() bool {
	d.ws()
	return !d.bad && d.i == len(d.s)
}

func (d *decoder) fail() {
	d.bad = true
	d.i = len(d.s)
}

func (d *decoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek is the next byte that is not white space, 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// null consumes a null and reports whether there was one.
func (d *decoder) null() bool {
	if d.peek() == 'n' {
		if strings.HasPrefix(d.s[d.i:], "null") {
			d.i += 4
			return true
		}
		d.fail()
	}
	return false
}

// more steps through an object: the opening brace the first time, then a
// comma or the closing brace. It reports whether a key follows.
func (d *decoder) more(first *bool) bool {
	return d.step(first, '{', '}')
}

// moreElems is more for an array.
func (d *decoder) moreElems(first *bool) bool {
	return d.step(first, '[', ']')
}

func (d *decoder) step(first *bool, open, close byte) bool {
	c := d.peek()
	if *first {
		*first = false
		if c != open {
			d.fail()
			return false
		}
		d.i++
		if d.peek() == close {
			d.i++
			return false
		}
		return !d.bad
	}
	switch c {
	case ',':
		d.i++
		return !d.bad
	case close:
		d.i++
	default:
		d.fail()
	}
	return false
}

// key reads an object key and its colon.
func (d *decoder) key() string {
	k := d.str()
	if d.peek() != ':' {
		d.fail()
		return ""
	}
	d.i++
	return k
}

// unknown skips the value of a key the struct does not have, unless
// encoding/json would take it for one of its fields (it matches keys
// ignoring case): then encoding/json decides.
func (d *decoder) unknown(key string, fields []string) {
	for _, f := range fields {
		if strings.EqualFold(key, f) {
			d.fail()
			return
		}
	}
	d.skip(0)
}

// str reads a string. One without escapes and in valid UTF-8 is cut from
// the line; any other is unescaped as encoding/json does.
func (d *decoder) str() string {
	if d.peek() != '"' {
		d.fail()
		return ""
	}
	s := d.s
	start, plain, ascii := d.i+1, true, true
	for i := start; i < len(s); i++ {
		// Most of a body's text is plain: pass it eight bytes at a time,
		// then byte by byte.
		for i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
		}
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		switch c := s[i]; {
		case c == '"':
			d.i = i + 1
			v := s[start:i]
			if plain && (ascii || utf8.ValidString(v)) {
				return v
			}
			return d.unquote(v, ascii)
		case c == '\\':
			plain = false
			i++
		case c < ' ':
			d.fail()
			return ""
		default:
			ascii = false
		}
	}
	d.fail()
	return ""
}

// plain8 reports whether the eight bytes of s are all plainByte, with
// the bit tricks of "Bit Twiddling Hacks": a byte is not plain when it is
// zero after XOR with '"' or '\\', less than ' ', or has its high bit set.
func plain8(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	q, b := w^(ones*'"'), w^(ones*'\\')
	return ((q-ones)&^q|(b-ones)&^b|(w-ones*' ')|w)&highs == 0
}

// plainByte says which bytes a string holds as they are: not its quote,
// an escape, a control character (invalid) or part of a multi-byte rune.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unquote decodes the inside of a string as encoding/json's unquote
// does: escapes decoded, a lone or broken surrogate and invalid UTF-8
// each replaced by U+FFFD. str checked it holds no control character
// outside its escapes; ascii says it holds no multi-byte rune.
func (d *decoder) unquote(s string, ascii bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for {
		j := strings.IndexByte(s, '\\')
		run := s
		if j >= 0 {
			run = s[:j]
		}
		if ascii || utf8.ValidString(run) {
			b.WriteString(run)
		} else {
			for _, r := range run {
				b.WriteRune(r) // invalid UTF-8 ranges as U+FFFD
			}
		}
		if j < 0 {
			return b.String()
		}
		s = s[j:]
		if len(s) < 2 {
			d.fail()
			return ""
		}
		n := 2
		switch e := s[1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(s)
			if r < 0 {
				d.fail()
				return ""
			}
			n = 6
			if utf16.IsSurrogate(r) {
				if dec := utf16.DecodeRune(r, hex4(s[6:])); dec != unicode.ReplacementChar {
					r, n = dec, 12
				} else {
					r = unicode.ReplacementChar
				}
			}
			b.WriteRune(r)
		default:
			d.fail()
			return ""
		}
		s = s[n:]
	}
}

// hex4 reads the rune of a \uXXXX escape at the start of s, -1 if there is
// none.
func hex4(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[2:6]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a number literal as JSON spells it.
func (d *decoder) number() string {
	d.ws()
	s, start := d.s, d.i
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		d.fail()
		return ""
	}
	if i < len(s) && s[i] == '.' {
		if j := digits(s, i+1); j > i+1 {
			i = j
		} else {
			d.fail()
			return ""
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if j := digits(s, i); j > i {
			i = j
		} else {
			d.fail()
			return ""
		}
	}
	d.i = i
	return s[start:i]
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// skip skips any value, checking it is valid JSON. depth bounds the
// nesting as encoding/json does; deeper, it decides.
func (d *decoder) skip(depth int) {
	if depth > 1000 {
		d.fail()
		return
	}
	switch d.peek() {
	case '{':
		for first := true; d.more(&first); {
			d.key()
			d.skip(depth + 1)
		}
	case '[':
		for first := true; d.moreElems(&first); {
			d.skip(depth + 1)
		}
	case '"':
		d.str()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.null()
	default:
		d.number()
	}
}

func (d *decoder) literal(lit string) {
	if strings.HasPrefix(d.s[d.i:], lit) {
		d.i += len(lit)
		return
	}
	d.fail()
}

// The values, as encoding/json stores them: a null leaves a string,
// number, bool or struct as it was, and sets a pointer, slice or map to
// nil.

func (d *decoder) string(p *string) {
	if !d.null() {
		*p = d.str()
	}
}

func (d *decoder) bool(p *bool) {
	switch d.peek() {
	case 't':
		d.literal("true")
		*p = true
	case 'f':
		d.literal("false")
		*p = false
	case 'n':
		d.null()
	default:
		d.fail()
	}
}

func (d *decoder) int64(p *int64) {
	if d.null() {
		return
	}
	n, err := strconv.ParseInt(d.number(), 10, 64)
	if err != nil {
		d.fail()
	}
	*p = n
}

func (d *decoder) int(p *int) {
	if d.null() {
		return
	}
	n, err := strconv.ParseInt(d.number(), 10, strconv.IntSize)
	if err != nil {
		d.fail()
	}
	*p = int(n)
}

func (d *decoder) float64(p *float64) {
	if d.null() {
		return
	}
	n, err := strconv.ParseFloat(d.number(), 64)
	if err != nil {
		d.fail()
	}
	*p = n
}

// time decodes with time.Time's own UnmarshalJSON, as encoding/json does.
func (d *decoder) time(p *time.Time) {
	if d.null() {
		return
	}
	start := d.i
	if d.str(); d.bad {
		return
	}
	if err := p.UnmarshalJSON([]byte(d.s[start:d.i])); err != nil {
		d.fail()
	}
}

// strings decodes a []string, into the elements already there (a key
// given twice) as encoding/json does.
func (d *decoder) strings(p *[]string) {
	if d.null() {
		*p = nil
		return
	}
	v, i := *p, 0
	for first := true; d.moreElems(&first); i++ {
		switch {
		case cap(v) == 0:
			// Most header values are one string: cut its slice from the
			// line's block, with no room to grow into its neighbour.
			if len(d.strs) == 0 {
				d.strs = make([]string, 32)
			}
			v, d.strs = d.strs[:0:1], d.strs[1:]
		case i >= cap(v):
			v = slices.Grow(v, 1)
		}
		if i >= len(v) {
			v = v[:i+1]
		}
		d.string(&v[i])
	}
	switch {
	case i == 0:
		v = []string{}
	case i < len(v):
		v = v[:i]
	}
	*p = v
}

func (d *decoder) header(p *http.Header) {
	if d.null() {
		*p = nil
		return
	}
	for first := true; d.more(&first); {
		if *p == nil {
			*p = make(http.Header, 8)
		}
		k := d.key()
		var v []string
		d.strings(&v)
		(*p)[k] = v
	}
	if *p == nil && !d.bad {
		*p = http.Header{}
	}
}

// elems decodes an array into a slice of structs as encoding/json does:
// into the elements already there (a key given twice), then into new ones.
func elems[T any](d *decoder, p *[]T, elem func(*decoder, *T)) {
	if d.null() {
		*p = nil
		return
	}
	v, i := *p, 0
	for first := true; d.moreElems(&first); i++ {
		if i >= cap(v) {
			v = slices.Grow(v, 1)
		}
		if i >= len(v) {
			v = v[:i+1]
		}
		elem(d, &v[i])
	}
	switch {
	case i == 0:
		v = []T{}
	case i < len(v):
		v = v[:i]
	}
	*p = v
}

// ptr decodes into the struct *p points to, allocating it, or sets it to
// nil for a null.
func ptr[T any](d *decoder, p **T, decode func(*decoder, *T)) {
	if d.null() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	decode(d, *p)
}

// The record types. Each decoder starts as encoding/json does: a null
// leaves the struct as it was.

func (d *decoder) exchange(x *Exchange) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "seq":
			d.int64(&x.Seq)
		case "start":
			d.time(&x.Start)
		case "own":
			d.bool(&x.Own)
		case "ownBy":
			d.string(&x.OwnBy)
		case "request":
			d.request(&x.Request)
		case "response":
			ptr(d, &x.Response, (*decoder).response)
		case "error":
			ptr(d, &x.Error, (*decoder).error)
		case "streamError":
			ptr(d, &x.StreamError, (*decoder).error)
		case "timings":
			d.timings(&x.Timings)
		case "events":
			elems(d, &x.Events, (*decoder).event)
		case "annotation":
			d.annotation(&x.Annotation)
		default:
			d.unknown(k, exchangeFields)
		}
	}
}

func (d *decoder) request(r *Request) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "method":
			d.string(&r.Method)
		case "url":
			d.string(&r.URL)
		case "proto":
			d.string(&r.Proto)
		case "headers":
			d.header(&r.Headers)
		case "body":
			ptr(d, &r.Body, (*decoder).body)
		case "upstream":
			ptr(d, &r.Upstream, (*decoder).upstream)
		default:
			d.unknown(k, requestFields)
		}
	}
}

func (d *decoder) upstream(u *Upstream) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "url":
			d.string(&u.URL)
		case "proto":
			d.string(&u.Proto)
		case "headers":
			d.header(&u.Headers)
		default:
			d.unknown(k, upstreamFields)
		}
	}
}

func (d *decoder) response(r *Response) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "status":
			d.int(&r.Status)
		case "proto":
			d.string(&r.Proto)
		case "headers":
			d.header(&r.Headers)
		case "body":
			ptr(d, &r.Body, (*decoder).body)
		case "stream":
			d.bool(&r.Stream)
		default:
			d.unknown(k, responseFields)
		}
	}
}

func (d *decoder) error(e *Error) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "message":
			d.string(&e.Message)
		case "phase":
			d.string(&e.Phase)
		case "status":
			d.int(&e.Status)
		default:
			d.unknown(k, errorFields)
		}
	}
}

func (d *decoder) timings(t *Timings) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "firstByteMs":
			d.float64(&t.FirstByteMs)
		case "totalMs":
			d.float64(&t.TotalMs)
		default:
			d.unknown(k, timingsFields)
		}
	}
}

func (d *decoder) event(e *Event) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "time":
			d.time(&e.Time)
		case "offsetMs":
			d.float64(&e.OffsetMs)
		case "type":
			d.string(&e.Type)
		case "direction":
			d.string(&e.Direction)
		case "channel":
			d.string(&e.Channel)
		case "body":
			ptr(d, &e.Body, (*decoder).body)
		default:
			d.unknown(k, eventFields)
		}
	}
}

func (d *decoder) body(b *Body) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "contentType":
			d.string(&b.ContentType)
		case "bytes":
			d.int64(&b.Bytes)
		case "text":
			d.string(&b.Text)
		case "base64":
			d.string(&b.Base64)
		case "truncated":
			d.bool(&b.Truncated)
		case "sha256":
			d.string(&b.SHA256)
		case "redacted":
			d.bool(&b.Redacted)
		case "omitted":
			d.bool(&b.Omitted)
		default:
			d.unknown(k, bodyFields)
		}
	}
}

func (d *decoder) annotation(a *Annotation) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "kind":
			d.string(&a.Kind)
		case "verb":
			d.string(&a.Verb)
		case "resourceRequest":
			d.bool(&a.ResourceRequest)
		case "path":
			d.string(&a.Path)
		case "apiPrefix":
			d.string(&a.APIPrefix)
		case "apiGroup":
			d.string(&a.APIGroup)
		case "apiVersion":
			d.string(&a.APIVersion)
		case "stability":
			d.string(&a.Stability)
		case "resource":
			d.string(&a.Resource)
		case "subresource":
			d.string(&a.Subresource)
		case "namespace":
			d.string(&a.Namespace)
		case "name":
			d.string(&a.Name)
		case "scope":
			d.string(&a.Scope)
		case "scopeSource":
			d.string(&a.ScopeSource)
		case "allNamespaces":
			d.bool(&a.AllNamespaces)
		case "labelSelector":
			d.string(&a.LabelSelector)
		case "fieldSelector":
			d.string(&a.FieldSelector)
		case "dryRun":
			d.bool(&a.DryRun)
		case "upgrade":
			d.string(&a.Upgrade)
		case "note":
			d.string(&a.Note)
		case "auth":
			ptr(d, &a.Auth, (*decoder).auth)
		case "signals":
			ptr(d, &a.Signals, (*decoder).signals)
		case "replayed":
			ptr(d, &a.Replayed, (*decoder).replayed)
		case "outcome":
			d.string(&a.Outcome)
		default:
			d.unknown(k, annotationFields)
		}
	}
}

func (d *decoder) auth(a *Auth) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "method":
			d.string(&a.Method)
		case "user":
			d.string(&a.User)
		case "groups":
			d.strings(&a.Groups)
		case "source":
			d.string(&a.Source)
		case "origin":
			d.string(&a.Origin)
		case "credential":
			ptr(d, &a.Credential, (*decoder).credential)
		case "impersonation":
			ptr(d, &a.Impersonation, (*decoder).impersonation)
		case "stoppedAt":
			d.string(&a.StoppedAt)
		case "reason":
			d.string(&a.Reason)
		case "stages":
			elems(d, &a.Stages, (*decoder).stage)
		case "denial":
			ptr(d, &a.Denial, (*decoder).denial)
		case "admission":
			ptr(d, &a.Admission, (*decoder).admission)
		case "causes":
			elems(d, &a.Causes, (*decoder).cause)
		case "persisted":
			ptr(d, &a.Persisted, (*decoder).bool)
		case "audit":
			ptr(d, &a.Audit, (*decoder).audit)
		default:
			d.unknown(k, authFields)
		}
	}
}

func (d *decoder) stage(s *Stage) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "name":
			d.string(&s.Name)
		case "status":
			d.string(&s.Status)
		case "inferred":
			d.bool(&s.Inferred)
		case "detail":
			d.string(&s.Detail)
		default:
			d.unknown(k, stageFields)
		}
	}
}

func (d *decoder) credential(c *Credential) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "subject":
			d.string(&c.Subject)
		case "issuer":
			d.string(&c.Issuer)
		case "notAfter":
			d.time(&c.NotAfter)
		case "tokenIssuer":
			d.string(&c.TokenIssuer)
		case "tokenSubject":
			d.string(&c.TokenSubject)
		case "audience":
			d.strings(&c.Audience)
		case "expiry":
			d.time(&c.Expiry)
		case "serviceAccount":
			d.string(&c.ServiceAccount)
		case "boundTo":
			d.strings(&c.BoundTo)
		case "plugin":
			d.string(&c.Plugin)
		case "note":
			d.string(&c.Note)
		default:
			d.unknown(k, credentialFields)
		}
	}
}

func (d *decoder) signals(s *Signals) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "auditID":
			d.string(&s.AuditID)
		case "flowSchema":
			d.string(&s.FlowSchema)
		case "priorityLevel":
			d.string(&s.PriorityLevel)
		case "flowNote":
			d.string(&s.FlowNote)
		case "warnings":
			elems(d, &s.Warnings, (*decoder).warning)
		default:
			d.unknown(k, signalsFields)
		}
	}
}

func (d *decoder) replayed(r *Replayed) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "recording":
			d.string(&r.Recording)
		case "seq":
			d.int64(&r.Seq)
		case "note":
			d.string(&r.Note)
		default:
			d.unknown(k, replayedFields)
		}
	}
}

func (d *decoder) impersonation(im *Impersonation) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "user":
			d.string(&im.User)
		case "groups":
			d.strings(&im.Groups)
		case "uid":
			d.string(&im.UID)
		case "by":
			d.string(&im.By)
		default:
			d.unknown(k, impersonationFields)
		}
	}
}

func (d *decoder) denial(dn *Denial) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "user":
			d.string(&dn.User)
		case "verb":
			d.string(&dn.Verb)
		case "resource":
			d.string(&dn.Resource)
		case "subresource":
			d.string(&dn.Subresource)
		case "apiGroup":
			d.string(&dn.APIGroup)
		case "namespace":
			d.string(&dn.Namespace)
		case "cluster":
			d.bool(&dn.Cluster)
		case "path":
			d.string(&dn.Path)
		case "reason":
			d.string(&dn.Reason)
		default:
			d.unknown(k, denialFields)
		}
	}
}

func (d *decoder) admission(ad *AdmissionRejection) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "kind":
			d.string(&ad.Kind)
		case "name":
			d.string(&ad.Name)
		case "binding":
			d.string(&ad.Binding)
		case "message":
			d.string(&ad.Message)
		default:
			d.unknown(k, admissionFields)
		}
	}
}

func (d *decoder) cause(c *Cause) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "type":
			d.string(&c.Type)
		case "field":
			d.string(&c.Field)
		case "message":
			d.string(&c.Message)
		default:
			d.unknown(k, causeFields)
		}
	}
}

func (d *decoder) audit(ev *AuditEvent) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "auditID":
			d.string(&ev.AuditID)
		case "stage":
			d.string(&ev.Stage)
		case "user":
			d.string(&ev.User)
		case "groups":
			d.strings(&ev.Groups)
		case "verb":
			d.string(&ev.Verb)
		case "objectRef":
			ptr(d, &ev.ObjectRef, (*decoder).objectRef)
		case "code":
			d.int(&ev.Code)
		case "decision":
			d.string(&ev.Decision)
		case "decisionReason":
			d.string(&ev.DecisionReason)
		case "impersonated":
			d.string(&ev.Impersonated)
		default:
			d.unknown(k, auditFields)
		}
	}
}

func (d *decoder) objectRef(o *ObjectRef) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "resource":
			d.string(&o.Resource)
		case "namespace":
			d.string(&o.Namespace)
		case "name":
			d.string(&o.Name)
		case "apiGroup":
			d.string(&o.APIGroup)
		case "apiVersion":
			d.string(&o.APIVersion)
		case "subresource":
			d.string(&o.Subresource)
		default:
			d.unknown(k, objectRefFields)
		}
	}
}

func (d *decoder) warning(w *Warning) {
	if d.null() {
		return
	}
	for first := true; d.more(&first); {
		switch k := d.key(); k {
		case "code":
			d.int(&w.Code)
		case "agent":
			d.string(&w.Agent)
		case "text":
			d.string(&w.Text)
		case "replacement":
			d.string(&w.Replacement)
		default:
			d.unknown(k, warningFields)
		}
	}
}

// The JSON names of each type's fields, for telling an unknown key from
// one that matches a field but for case.
var (
	exchangeFields      = jsonNames[Exchange]()
	requestFields       = jsonNames[Request]()
	upstreamFields      = jsonNames[Upstream]()
	responseFields      = jsonNames[Response]()
	errorFields         = jsonNames[Error]()
	timingsFields       = jsonNames[Timings]()
	eventFields         = jsonNames[Event]()
	eventLineFields     = jsonNames[eventLine]()
	bodyFields          = jsonNames[Body]()
	annotationFields    = jsonNames[Annotation]()
	authFields          = jsonNames[Auth]()
	stageFields         = jsonNames[Stage]()
	credentialFields    = jsonNames[Credential]()
	signalsFields       = jsonNames[Signals]()
	replayedFields      = jsonNames[Replayed]()
	impersonationFields = jsonNames[Impersonation]()
	denialFields        = jsonNames[Denial]()
	admissionFields     = jsonNames[AdmissionRejection]()
	causeFields         = jsonNames[Cause]()
	auditFields         = jsonNames[AuditEvent]()
	objectRefFields     = jsonNames[ObjectRef]()
	warningFields       = jsonNames[Warning]()
)

func jsonNames[T any]() []string {
	t := reflect.TypeFor[T]()
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
