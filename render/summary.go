package render

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

// The one-line view of a call: what it asked and how it ended.

// seqLabel is a call's number, e.g. "#12".
func (r *renderer) seqLabel(n int64) string {
	return r.st.Seq.Render("#" + strconv.FormatInt(n, 10))
}

// label is the number a view shows for c, "#?" when it has none.
func (r *renderer) label(c *call) string {
	if c.number == 0 {
		return r.st.Seq.Render("#?")
	}
	return r.seqLabel(c.number)
}

// exchange renders a call's exchange line at the chosen detail.
func (r *renderer) exchange(c *call) []string {
	x := c.x
	lines := r.summary(c)
	if r.o.Detail >= LevelJourney {
		lines = append(lines, r.journey(x)...)
	}
	if r.o.Detail >= LevelHeaders {
		lines = append(lines, r.headers(x)...)
	}
	if r.o.Detail >= LevelBodies {
		lines = append(lines, r.bodies(x)...)
	}
	return lines
}

// summary is the call in one line (wrapped when narrow): sequence, time,
// method → verb, group/version and stability, resource and name, scope,
// identity, status, where it stopped, duration and size.
func (r *renderer) summary(c *call) []string {
	x := c.x
	st, a := r.st, x.Annotation
	segs := []string{r.label(c), st.Dim.Render(since(c.origin, x.Start))}
	if x.Own {
		who := "kubewire"
		if !x.Background() {
			who += " " + x.OwnBy
		}
		segs = append(segs, st.Own.Render(SymOwn+" "+who))
	}
	if rp := a.Replayed; rp != nil {
		segs = append(segs, st.Own.Render(replayedLabel(rp)))
	}
	segs = append(segs, st.Method(x.Request.Method)+st.Dim.Render(SymArrow)+st.Verb(orDash(a.Verb)))
	if a.ResourceRequest {
		gv := a.APIVersion
		if a.APIGroup != "" {
			gv = a.APIGroup + "/" + a.APIVersion
		}
		segs = append(segs, gv+" "+st.Stability(a.Stability))
		res := a.Resource
		if a.Name != "" {
			res += "/" + st.Bold.Render(a.Name)
		}
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		segs = append(segs, res)
		segs = append(segs, r.scope(a))
	} else {
		segs = append(segs, r.path(x), st.Dim.Render(a.Kind))
	}
	if a.DryRun {
		segs = append(segs, st.Warning.Render("dry-run"))
	}
	if a.Upgrade != "" {
		segs = append(segs, st.Dim.Render("⇅ "+a.Upgrade))
	}
	segs = append(segs, r.identity(a.Auth))
	segs = append(segs, r.outcome(x)...)
	if s := r.quickSummary(x); s != "" {
		segs = append(segs, st.Dim.Render(s))
	}
	return r.pack(segs, blockIndent)
}

// path is a non-resource request's path without its query.
func (r *renderer) path(x *record.Exchange) string {
	p := x.Annotation.Path
	if p == "" {
		if u, err := url.Parse(x.Request.URL); err == nil {
			p = u.Path
		}
	}
	return p
}

func (r *renderer) scope(a record.Annotation) string {
	switch {
	case a.Namespace != "" && a.Resource == "namespaces":
		return r.st.Dim.Render("cluster")
	case a.Namespace != "":
		return r.st.Dim.Render("ns ") + a.Namespace
	case a.AllNamespaces:
		return r.st.Dim.Render("all namespaces")
	case a.Scope == "Cluster":
		return r.st.Dim.Render("cluster")
	}
	return r.st.Dim.Render("scope unknown")
}

// identity is who the request was sent as.
func (r *renderer) identity(au *record.Auth) string {
	if au == nil {
		return ""
	}
	who := au.User
	if who == "" {
		switch au.Method {
		case "anonymous":
			who = "system:anonymous"
		case "", "unknown":
			who = "identity unknown"
		default:
			who = au.Method + " user"
		}
	}
	if im := au.Impersonation; im != nil && im.User != "" {
		who += " as " + im.User
	}
	return r.st.Identity.Render(who)
}

// outcome is the status, where the call stopped, its duration and size.
func (r *renderer) outcome(x *record.Exchange) []string {
	st := r.st
	var segs []string
	switch {
	case x.Response != nil:
		segs = append(segs, st.Status(x.Response.Status)+" "+st.Dim.Render(http.StatusText(x.Response.Status)))
	case x.Error != nil:
		text := "no response"
		if x.Error.Status != 0 {
			text = fmt.Sprintf("%d from kubewire", x.Error.Status)
		}
		segs = append(segs, st.Denied.Render(SymRejected+" "+text))
	default:
		segs = append(segs, st.Dim.Render("pending"))
	}
	segs = append(segs, r.stopped(x))
	switch {
	case x.Response != nil && x.Response.Stream && x.Timings.TotalMs == 0:
		segs = append(segs, st.Dim.Render(SymStream+" streaming"))
	default:
		segs = append(segs, st.Dim.Render(duration(x.Timings.TotalMs)))
	}
	if x.Response != nil && x.Response.Body != nil {
		segs = append(segs, st.Dim.Render(size(x.Response.Body.Bytes)))
	} else if n, bytes := len(x.Events), eventBytes(x.Events); n > 0 {
		segs = append(segs, st.Dim.Render(fmt.Sprintf("%s, %s", plural(n, "event"), size(bytes))))
	}
	return segs
}

func eventBytes(evs []record.Event) int64 {
	var n int64
	for _, e := range evs {
		if e.Body != nil {
			n += e.Body.Bytes
		}
	}
	return n
}

// stopped says where the request stopped, or that it went all the way:
// the annotation's outcome, in the view's words.
func (r *renderer) stopped(x *record.Exchange) string {
	st := r.st
	switch x.Annotation.Outcome {
	case record.OutcomeNoResponse:
		phase, cause := "", ""
		if x.Error != nil {
			phase, cause = x.Error.Phase, shortCause(x.Error.Message)
		}
		if cause != "" {
			return st.Denied.Render(orDash(phase) + ": " + cause)
		}
		return st.Denied.Render(orDash(phase))
	case record.OutcomeRejected:
		return st.Denied.Render(SymRejected + " " + stageLabel(x.Annotation.Auth.StoppedAt))
	case record.OutcomeFailed:
		return st.Denied.Render(SymRejected + " " + strings.ToLower(http.StatusText(x.Response.Status)))
	case record.OutcomeDryRun:
		return st.Warning.Render(SymPassed + " not stored (dry run)")
	case record.OutcomeUpgraded:
		return st.Passed.Render(SymPassed + " upgraded")
	case record.OutcomeStored:
		return st.Passed.Render(SymPassed + " stored")
	case record.OutcomeAnswered:
		return st.Passed.Render(SymPassed + " answered")
	case record.OutcomeServed:
		return st.Passed.Render(SymPassed + " served")
	}
	return ""
}

// shortCause is the last part of an error message, what a one-line view
// has room for: "dial tcp 127.0.0.1:1: connect: connection refused" is
// "connection refused".
func shortCause(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if len(msg) > 48 {
		return ""
	}
	return msg
}

// quickSummary is a few words on a discovery or OpenAPI body, worth
// having in the one-line view.
func (r *renderer) quickSummary(x *record.Exchange) string {
	if x.Response == nil || x.Response.Body == nil {
		return ""
	}
	if k := x.Annotation.Kind; k != "discovery" && k != "openapi" && !isDiscoveryType(x.Response.Body.ContentType) {
		return ""
	}
	d := decodeBody(x.Response.Body)
	if d.tree == nil {
		if d.note != "" && x.Annotation.Kind == "openapi" {
			return "openapi, " + size(x.Response.Body.Bytes) + " not decoded"
		}
		return ""
	}
	switch v := viewOf(d.tree, r.path(x)); v {
	case viewDiscovery, viewOpenAPI:
		return summarize(d.tree, r.path(x))
	}
	return ""
}

func isDiscoveryType(ct string) bool {
	_, params := mediaType(ct)
	return params["g"] == "apidiscovery.k8s.io"
}

// replayedLabel marks a call kubewire serve answered: which recorded call
// answered it, or that none did.
func replayedLabel(rp *record.Replayed) string {
	if rp.Seq == 0 {
		return SymReplayed + " not in the recording"
	}
	return fmt.Sprintf("%s recorded answer #%d", SymReplayed, rp.Seq)
}
