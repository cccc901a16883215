package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kubewire/kubewire/tracer/record"
)

// A request matches a recorded call when its method, path, query (in any
// order, without the parameters below) and Content-Type are the same, it
// accepts what the recorded call was answered in, and, for a request with a
// body, the body is byte for byte the recorded one. This is mitmproxy's
// server replay, narrowed to what the API server's answer depends on: a
// representation the client did not ask for (a Table, protobuf) is not its
// answer, and a different body is a different object. A recorded call with
// the very same Accept is preferred, then one whose answer's media type
// the request accepts: kubectl versions word their Accept differently.

// volatile are the query parameters left out of matching: client-go picks
// them per run (kubectl's discovery timeout, a reflector's random watch
// timeout), and the server's answer does not depend on them.
var volatile = map[string]bool{"timeout": true, "timeoutSeconds": true}

// shape is a request as matching sees it.
type shape struct {
	method, path string
	query        url.Values
	accept       string
	contentType  string
	// ifNoneMatch is a conditional request's ETag: the server answers it
	// 304 when it still holds.
	ifNoneMatch string
	body        string // sha256 of the body, "" for none
	// user is who the request was sent as, "" when that cannot be told
	// (an opaque token): compared apart, a known user must be the same.
	user string
}

// key is what must be equal for a match; Accept is compared apart.
func (s shape) key() string {
	return s.method + " " + s.path + "?" + canonicalQuery(s.query) + " ct=" + s.contentType + " inm=" + s.ifNoneMatch + " body=" + s.body
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := slices.Clone(q[k])
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

func shapeOf(method string, u *url.URL, h http.Header, body []byte, bodyBytes int64) shape {
	q := url.Values{}
	for k, v := range u.Query() {
		switch {
		case volatile[k]:
		case k == "fieldSelector" || k == "labelSelector":
			// Terms in any order select the same: kubectl describe builds
			// its events' field selector from a map.
			q[k] = make([]string, len(v))
			for i := range v {
				q[k][i] = canonicalSelector(v[i])
			}
		default:
			q[k] = v
		}
	}
	s := shape{method: method, path: u.Path, query: q, accept: h.Get("Accept"), contentType: mediaType(h.Get("Content-Type")), ifNoneMatch: h.Get("If-None-Match")}
	if bodyBytes > 0 {
		sum := sha256.Sum256(body)
		s.body = hex.EncodeToString(sum[:])
	}
	return s
}

// canonicalSelector sorts a selector's comma-separated terms; commas
// inside a set-based term's parentheses ("env in (a,b)") stay.
func canonicalSelector(sel string) string {
	var terms []string
	depth, start := 0, 0
	for i, r := range sel {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				terms = append(terms, strings.TrimSpace(sel[start:i]))
				start = i + 1
			}
		}
	}
	terms = append(terms, strings.TrimSpace(sel[start:]))
	sort.Strings(terms)
	return strings.Join(terms, ",")
}

// mediaType is a Content-Type without its parameters (charset).
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(strings.ToLower(mt))
}

// answer is one recorded call that can answer requests.
type answer struct {
	x     *record.Exchange
	shape shape
	// unusable says why this call's request cannot be matched exactly (its
	// recorded body was cut short or redacted), "" when it can.
	unusable string
	// answered is the media type of the recorded answer, with the
	// parameters that say what it is (as, g, v); "" when it had none.
	answered mediaRange
}

// matcher hands out recorded answers: each once, in recorded order, and
// then again from the first when reuse is on.
type matcher struct {
	reuse   bool
	answers []*answer
	byKey   map[string][]*answer

	mu   sync.Mutex
	used map[*answer]bool
}

func newMatcher(rec *record.Recording, reuse bool) (*matcher, error) {
	m := &matcher{reuse: reuse, byKey: map[string][]*answer{}, used: map[*answer]bool{}}
	for _, x := range rec.Exchanges {
		u, err := url.Parse(x.Request.URL)
		if err != nil {
			continue
		}
		a := &answer{x: x}
		b := x.Request.Body
		var data []byte
		var n int64
		if b != nil {
			data, n = b.Data(), b.Bytes
			switch {
			case b.Truncated:
				a.unusable = "its recorded request body was cut short"
			case b.Redacted:
				a.unusable = "its recorded request body had secrets redacted"
			case b.Omitted:
				a.unusable = "its request body was not recorded"
			}
		}
		a.shape = shapeOf(x.Request.Method, u, x.Request.Headers, data, n)
		if au := x.Annotation.Auth; au != nil {
			a.shape.user = au.User
		}
		a.answered = negotiated(x)
		m.answers = append(m.answers, a)
		if a.unusable == "" {
			k := a.shape.key()
			m.byKey[k] = append(m.byKey[k], a)
		}
	}
	if len(m.answers) == 0 {
		return nil, fmt.Errorf("%s holds no calls to answer with", recName(rec))
	}
	return m, nil
}

// take returns the answer for s, and "" or why there is none. consume is
// false for kubewire's own lookups, which must not use up the answers the
// traced client's calls need.
func (m *matcher) take(s shape, consume bool) (*answer, string) {
	// The traced client's calls are answered first by the recorded
	// client's, kubewire's own by kubewire's own: each then gets what its
	// counterpart got, in order.
	var list []*answer
	for _, own := range []bool{!consume, consume} {
		for _, a := range m.byKey[s.key()] {
			if a.x.Own == own {
				list = append(list, a)
			}
		}
	}
	var cands []*answer
	for _, a := range list {
		if a.shape.accept == s.accept && sameUser(s.user, a.shape.user) {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		for _, a := range list {
			if a.acceptedBy(s.accept) && sameUser(s.user, a.shape.user) {
				cands = append(cands, a)
			}
		}
	}
	if len(cands) == 0 {
		return nil, ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range cands {
		if !m.used[a] {
			if consume {
				m.used[a] = true
			}
			return a, ""
		}
	}
	switch {
	case !consume:
		return cands[0], ""
	case !m.reuse:
		return nil, fmt.Sprintf("the recording's %d answer(s) to this call were all given; serve --reuse gives them again", len(cands))
	}
	for _, a := range cands[1:] {
		delete(m.used, a)
	}
	return cands[0], ""
}

// sameUser: the same user, or one side cannot tell.
func sameUser(a, b string) bool { return a == "" || b == "" || a == b }

// negotiated is what the recorded call was answered in. The API server
// names a Table's or a PartialObjectMetadataList's media type plainly
// (application/json), so the object's own kind and group say it.
func negotiated(x *record.Exchange) mediaRange {
	if x.Response == nil {
		return mediaRange{}
	}
	r := parseMediaRange(x.Response.Headers.Get("Content-Type"))
	if r.as != "" || !strings.Contains(r.typ, "json") {
		return r
	}
	var data []byte
	switch {
	case x.Response.Body != nil:
		data = x.Response.Body.Data()
	case len(x.Events) > 0 && x.Events[0].Body != nil:
		var ev struct {
			Object json.RawMessage `json:"object"`
		}
		if json.Unmarshal(x.Events[0].Body.Data(), &ev) == nil {
			data = ev.Object
		}
	}
	var tm struct{ Kind, APIVersion string }
	if json.Unmarshal(data, &tm) != nil {
		return r
	}
	if g, v, ok := strings.Cut(tm.APIVersion, "/"); ok && g == "meta.k8s.io" && tm.Kind != "Status" {
		r.as, r.g, r.v = tm.Kind, g, v
	}
	if tm.Kind == "Status" {
		r.status = true
	}
	return r
}

// mediaRange is a media type with the parameters the API server
// negotiates on.
type mediaRange struct {
	typ       string
	as, g, v  string
	wildcards bool
	// status: the answer is a Status, which the API server sends whatever
	// representation was asked for.
	status bool
}

func parseMediaRange(s string) mediaRange {
	parts := strings.Split(s, ";")
	r := mediaRange{typ: strings.ToLower(strings.TrimSpace(parts[0]))}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "as":
			r.as = v
		case "g":
			r.g = v
		case "v":
			r.v = v
		}
	}
	r.wildcards = strings.HasSuffix(r.typ, "/*")
	return r
}

// acceptedBy reports whether a request with this Accept header would take
// the recorded answer: one of its ranges names the answer's media type (or
// a wildcard) and the same as, g and v.
func (a *answer) acceptedBy(accept string) bool {
	got := a.answered
	if got.typ == "" {
		return true
	}
	if accept == "" {
		accept = "*/*"
	}
	for _, e := range strings.Split(accept, ",") {
		want := parseMediaRange(e)
		typeOK := want.typ == got.typ || want.typ == "*/*" ||
			(want.wildcards && strings.HasPrefix(got.typ, strings.TrimSuffix(want.typ, "*")))
		if typeOK && (got.status || (want.as == got.as && want.g == got.g && want.v == got.v)) {
			return true
		}
	}
	return false
}

// difference is a recorded call close to a request, and how it differs.
type difference struct {
	a     *answer
	score int
	diffs []string
}

// closest returns up to n recorded calls nearest to s, with what differs.
func (m *matcher) closest(s shape, n int) []difference {
	var out []difference
	seen := map[string]bool{}
	for _, a := range m.answers {
		k := a.shape.key()
		if seen[k] {
			continue
		}
		seen[k] = true
		d := compare(s, a)
		if d.score < 100 {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score < out[j].score })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// compare scores how far a recorded call is from s: 0 is the same shape;
// a different path counts most, by the segments that differ.
func compare(s shape, a *answer) difference {
	d := difference{a: a}
	r := a.shape
	if s.method != r.method {
		d.score += 3
		d.diffs = append(d.diffs, "method")
	}
	if s.path != r.path {
		got, want := strings.Split(s.path, "/"), strings.Split(r.path, "/")
		n := max(len(got), len(want))
		differ := 0
		for i := range n {
			if i >= len(got) || i >= len(want) || got[i] != want[i] {
				differ++
			}
		}
		// Close: one segment apart (another namespace, name or
		// version), or two in a path naming an object in a namespace.
		if differ > 2 || (differ == 2 && (len(got) != len(want) || n < 7)) {
			d.score += 100
		}
		d.score += 4 * differ
		d.diffs = append(d.diffs, "path")
	}
	if qs, qr := canonicalQuery(s.query), canonicalQuery(r.query); qs != qr {
		d.score += 2
		d.diffs = append(d.diffs, "query (recorded: "+orNone(qr)+")")
	}
	if s.accept != r.accept && !a.acceptedBy(s.accept) {
		d.score++
		d.diffs = append(d.diffs, "Accept (the recorded answer is "+a.answered.String()+")")
	}
	if !sameUser(s.user, r.user) {
		d.score += 2
		d.diffs = append(d.diffs, "identity (recorded: "+r.user+")")
	}
	if s.ifNoneMatch != r.ifNoneMatch {
		d.score++
		d.diffs = append(d.diffs, "If-None-Match (recorded: "+orNone(r.ifNoneMatch)+")")
	}
	if s.contentType != r.contentType {
		d.score++
		d.diffs = append(d.diffs, "Content-Type (recorded: "+orNone(r.contentType)+")")
	}
	switch {
	case a.unusable != "":
		d.score++
		d.diffs = append(d.diffs, "nothing, but it cannot be matched: "+a.unusable)
	case s.body != r.body:
		d.score += 2
		d.diffs = append(d.diffs, "request body")
	}
	return d
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (r mediaRange) String() string {
	s := orNone(r.typ)
	if r.as != "" {
		s += ";as=" + r.as + ";g=" + r.g + ";v=" + r.v
	}
	return s
}
