package filter

import (
	"net/http"
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

// fieldType says which operators and values a field takes.
type fieldType int

const (
	// typeString compares text with =, !=, ~ and !~.
	typeString fieldType = iota
	// typeEnum is a string field with a closed set of values, checked
	// when compared with = or !=.
	typeEnum
	// typeText is free text: ~ and !~ only.
	typeText
	// typeInt, typeDuration and typeSize are numbers, compared with
	// = != < <= > >=; durations and sizes take units.
	typeInt
	typeDuration
	typeSize
)

// A field is a name the language compares: where its value comes from in
// an exchange and which operators and values it takes.
type field struct {
	// name is the field's name in normal form; alias another spelling.
	name, alias string
	typ         fieldType
	// values are an enum's values in their recorded spelling;
	// valueAliases map other spellings (lowercase) to one of them; noun
	// names a value in error messages when the field's name does not.
	values       []string
	valueAliases map[string]string
	noun         string
	// upper says the field's values are written in upper case (methods).
	upper bool
	// statusClasses says the field also takes 1xx … 5xx (status).
	statusClasses bool
	// example is shown in error messages.
	example string
	// str reports whether a string field of x matches p; num returns a
	// numeric field's value.
	str func(x *record.Exchange, p *pattern) bool
	num func(x *record.Exchange) float64
}

// ops returns the operators the field takes, for error messages.
func (f *field) ops() []string {
	switch f.typ {
	case typeText:
		return []string{opGlob, opNGlob}
	case typeInt, typeDuration, typeSize:
		return []string{opEq, opNe, opLt, opLe, opGt, opGe}
	}
	return []string{opEq, opNe, opGlob, opNGlob}
}

// takes reports whether the field takes operator op.
func (f *field) takes(op string) bool {
	for _, o := range f.ops() {
		if o == op {
			return true
		}
	}
	return false
}

// Values of the enum fields, as the recorder writes them.
var (
	verbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "proxy",
		// Non-resource requests carry the lowercase HTTP method.
		"post", "put", "head", "options"}
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}
	readVerbs  = []string{"get", "list", "watch"}
	stages     = []string{record.StageAuthentication, record.StagePriority, record.StageAuthorization,
		record.StageAdmission, record.StageValidation, record.StageStorage, record.StoppedNoResponse}
)

// fields are the fields of the language, in the order docs/filters.md
// lists them.
var fields = []*field{
	{name: "verb", typ: typeEnum, values: verbs, example: "verb=list",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Verb) }},
	{name: "method", typ: typeString, upper: true, example: "method=POST",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Request.Method) }},
	{name: "resource", typ: typeString, example: "resource=pods",
		str: matchResource},
	{name: "subresource", typ: typeString, example: "subresource=exec",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Subresource) }},
	{name: "group", typ: typeString, example: "group=apps",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(apiGroup(&x.Annotation)) }},
	{name: "version", typ: typeString, example: "version=v1",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.APIVersion) }},
	{name: "stability", typ: typeEnum, values: []string{"GA", "beta", "alpha"}, example: "stability=beta",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Stability) }},
	{name: "namespace", alias: "ns", typ: typeString, example: "ns=demo",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Namespace) }},
	{name: "name", typ: typeString, example: "name=web-1",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Name) }},
	{name: "scope", typ: typeEnum, values: []string{"Namespaced", "Cluster", "Unknown", scopeAll}, example: "scope=Cluster",
		str: func(x *record.Exchange, p *pattern) bool {
			a := &x.Annotation
			return p.match(a.Scope) || (a.AllNamespaces && p.match(scopeAll))
		}},
	{name: "path", typ: typeString, example: "path~/apis/*",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Path) }},
	{name: "kind", typ: typeEnum, values: []string{"resource", "discovery", "openapi", "version", "health", "other"}, example: "kind=discovery",
		str: func(x *record.Exchange, p *pattern) bool { return p.match(x.Annotation.Kind) }},
	{name: "status", typ: typeInt, statusClasses: true, example: "status>=400",
		num: func(x *record.Exchange) float64 { return float64(x.ClientStatus()) }},
	{name: "user", typ: typeString, example: "user=alice", str: matchUser},
	{name: "usergroup", typ: typeString, example: "usergroup=system:masters", str: matchUserGroup},
	{name: "authn", typ: typeEnum, noun: "authentication method", values: []string{"x509", "serviceaccount", "oidc", "token", "exec", "basic", "anonymous", "unknown"}, example: "authn=x509",
		str: func(x *record.Exchange, p *pattern) bool {
			if a := x.Annotation.Auth; a != nil {
				return p.match(a.Method)
			}
			return p.match("")
		}},
	{name: "stopped", typ: typeEnum, noun: "stage", values: stages, example: "stopped=authz",
		valueAliases: map[string]string{"authn": record.StageAuthentication, "apf": record.StagePriority, "authz": record.StageAuthorization},
		str:          func(x *record.Exchange, p *pattern) bool { return p.match(stoppedAt(x)) }},
	{name: "cmd", typ: typeString, example: `cmd="kubectl apply"`,
		str: func(x *record.Exchange, p *pattern) bool { return matchHeader(x.Request.Headers, "Kubectl-Command", p) }},
	{name: "session", typ: typeString, example: "session~abc*",
		str: func(x *record.Exchange, p *pattern) bool { return matchHeader(x.Request.Headers, "Kubectl-Session", p) }},
	{name: "contenttype", typ: typeString, example: "contenttype~merge-patch",
		str: func(x *record.Exchange, p *pattern) bool { return matchHeader(x.Request.Headers, "Content-Type", p) }},
	{name: "text", typ: typeText, example: `text~"forbidden"`},
	{name: "duration", alias: "ms", typ: typeDuration, example: "duration>200ms",
		num: func(x *record.Exchange) float64 { return x.Timings.TotalMs }},
	{name: "size", typ: typeSize, example: "size>10KiB", num: size},
	{name: "seq", typ: typeInt, example: "seq>100",
		num: func(x *record.Exchange) float64 { return float64(x.Seq) }},
}

// scopeAll is the scope value of a namespaced resource asked for in all
// namespaces (kubectl get pods -A).
const scopeAll = "all"

// coreGroup is the name the language gives the legacy core group, whose
// recorded apiGroup is "".
const coreGroup = "core"

// lookupField returns the field named name (lowercase), or nil.
func lookupField(name string) *field {
	for _, f := range fields {
		if f.name == name || (f.alias != "" && f.alias == name) {
			return f
		}
	}
	return nil
}

// matchResource matches "pods" against the resource alone and
// "pods/exec" (p.sub set) against the resource and a subresource.
func matchResource(x *record.Exchange, p *pattern) bool {
	a := &x.Annotation
	if p.sub == nil {
		return p.match(a.Resource)
	}
	return a.Subresource != "" && p.match(a.Resource) && p.sub.match(a.Subresource)
}

// apiGroup returns the exchange's API group as the language names it:
// "core" for the legacy group (/api), the group for /apis/GROUP, "" for
// requests outside any group (health, version, openapi, /apis itself).
func apiGroup(a *record.Annotation) string {
	switch {
	case a.APIPrefix == "api":
		return coreGroup
	case a.APIGroup != "":
		return a.APIGroup
	}
	return ""
}

// matchUser matches the user the request authenticated as and the user
// it impersonated.
func matchUser(x *record.Exchange, p *pattern) bool {
	a := x.Annotation.Auth
	if a == nil {
		return p.match("")
	}
	return p.match(a.User) || (a.Impersonation != nil && a.Impersonation.User != "" && p.match(a.Impersonation.User))
}

// matchUserGroup matches any group of the user, or of the impersonated
// user.
func matchUserGroup(x *record.Exchange, p *pattern) bool {
	a := x.Annotation.Auth
	if a == nil {
		return false
	}
	for _, g := range a.Groups {
		if p.match(g) {
			return true
		}
	}
	if a.Impersonation != nil {
		for _, g := range a.Impersonation.Groups {
			if p.match(g) {
				return true
			}
		}
	}
	return false
}

// matchHeader matches any value of request header key (canonical form);
// a missing header counts as "".
func matchHeader(h http.Header, key string, p *pattern) bool {
	vs, ok := h[key]
	if !ok {
		// Recordings keep headers as written; look for another spelling.
		for k, v := range h {
			if strings.EqualFold(k, key) {
				vs = v
				break
			}
		}
	}
	if len(vs) == 0 {
		return p.match("")
	}
	for _, v := range vs {
		if p.match(v) {
			return true
		}
	}
	return false
}

// stoppedAt is the stage that stopped the request, "no-response" for an
// exchange that failed without a response, "" for one that completed.
func stoppedAt(x *record.Exchange) string {
	if a := x.Annotation.Auth; a != nil && a.StoppedAt != "" {
		return a.StoppedAt
	}
	if x.Error != nil {
		return record.StoppedNoResponse
	}
	return ""
}

// size is the number of bytes the server sent: the response body, or for
// a stream the bodies of its events (not those the client sent up).
func size(x *record.Exchange) float64 {
	var n int64
	if r := x.Response; r != nil && r.Body != nil {
		n += r.Body.Bytes
	}
	for i := range x.Events {
		if e := &x.Events[i]; e.Direction != "up" && e.Body != nil {
			n += e.Body.Bytes
		}
	}
	return float64(n)
}

// hasText reports whether n occurs in any of the exchange's text: the
// request URL and body, the response body, the stream's events, the
// error messages and the reason it stopped.
func hasText(x *record.Exchange, n *needle) bool {
	if n.in(x.Request.URL) || bodyHas(x.Request.Body, n) {
		return true
	}
	if x.Response != nil && bodyHas(x.Response.Body, n) {
		return true
	}
	for i := range x.Events {
		if bodyHas(x.Events[i].Body, n) {
			return true
		}
	}
	if x.Error != nil && n.in(x.Error.Message) {
		return true
	}
	if x.StreamError != nil && n.in(x.StreamError.Message) {
		return true
	}
	return x.Annotation.Auth != nil && n.in(x.Annotation.Auth.Reason)
}

func bodyHas(b *record.Body, n *needle) bool {
	return b != nil && b.Text != "" && n.in(b.Text)
}
