package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/record"
)

// WhoAmI writes whoami's comparison for context: the identity kubewire
// decoded from the credential and the server's SelfSubjectReview side by
// side, then the credential and the verdict.
func WhoAmI(out io.Writer, context string, w *auth.WhoAmI, o Options) error {
	st := NewStyles(o)
	l, srv := w.Local, w.Server
	fmt.Fprintf(out, "context %s\n\n", st.Bold.Render(context))
	const col = 44
	row := func(label, local, server string, style func(...string) string) {
		pad := strings.Repeat(" ", max(1, col-len([]rune(local))))
		fmt.Fprintf(out, "  %s %s%s%s\n", st.Key.Render(fmt.Sprintf("%-7s", label)), style(local), pad, style(server))
	}
	row("", "decoded by kubewire", "the server says (SelfSubjectReview)", st.Dim.Render)
	local := l.User
	if local == "" {
		local = "(unknown: " + l.Method + ")"
	}
	row("user", local, srv.User, st.Identity.Render)
	row("groups", strings.Join(l.Groups, ", "), strings.Join(srv.Groups, ", "), st.Bold.Render)
	if srv.UID != "" {
		row("uid", "", srv.UID, st.Bold.Render)
	}
	fmt.Fprintf(out, "\n  %s %s\n", st.Key.Render(fmt.Sprintf("%-7s", "method")), describeCredential(l))
	if im := l.Impersonation; im != nil {
		fmt.Fprintf(out, "  %s %s\n", st.Key.Render(fmt.Sprintf("%-7s", "as")), "impersonating "+im.User+" "+strings.Join(im.Groups, ","))
	}
	fmt.Fprintln(out)
	if w.Agree {
		fmt.Fprintf(out, "  %s kubewire and the server agree\n", st.Passed.Render(SymPassed))
	}
	for _, n := range w.Notes {
		fmt.Fprintf(out, "  %s %s\n", st.Warning.Render(SymWarning), n)
	}
	return nil
}

// describeCredential says in one line what the credential is, never what
// its secret is.
func describeCredential(a *record.Auth) string {
	var parts []string
	c := a.Credential
	switch a.Method {
	case auth.MethodX509:
		parts = append(parts, "x509 client certificate")
	case auth.MethodServiceAccount:
		parts = append(parts, "ServiceAccount token")
	case auth.MethodOIDC:
		parts = append(parts, "OIDC token")
	case auth.MethodToken:
		parts = append(parts, "opaque bearer token")
	case auth.MethodExec:
		parts = append(parts, "exec credential plugin")
	case auth.MethodBasic:
		parts = append(parts, "basic auth")
	default:
		parts = append(parts, a.Method)
	}
	if c == nil {
		return strings.Join(parts, ", ")
	}
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	add("subject", c.Subject)
	add("issuer", c.Issuer)
	add("token issuer", c.TokenIssuer)
	add("sub", c.TokenSubject)
	add("audience", strings.Join(c.Audience, ","))
	add("bound to", strings.Join(c.BoundTo, ","))
	add("plugin", c.Plugin)
	if !c.NotAfter.IsZero() {
		add("expires", c.NotAfter.Format(time.DateOnly))
	}
	if !c.Expiry.IsZero() {
		add("expires", c.Expiry.Format(time.RFC3339))
	}
	add("note", c.Note)
	return strings.Join(parts, ", ")
}

// Access writes can-i's answer: the question, yes or no, and the stages
// the SelfSubjectAccessReview went through with the authorizers' reason.
func Access(out io.Writer, ans *auth.AccessAnswer, o Options) error {
	r := newRenderer(o)
	st := r.st
	q := ans.Query
	who := ans.Auth.User
	if who == "" {
		who = "you (" + ans.Auth.Method + ")"
	}
	what := q.Path
	if what == "" {
		what = ans.Resource
		if ans.Subresource != "" {
			what += "/" + ans.Subresource
		}
		if ans.Group != "" {
			what += "." + ans.Group
		}
		if q.Name != "" {
			what += " " + q.Name
		}
		switch {
		case q.AllNamespaces:
			what += " in every namespace"
		case q.Namespace != "":
			what += " in namespace " + q.Namespace
		}
	}
	answer := st.Passed.Render("yes")
	if !ans.Allowed {
		answer = st.Denied.Render("no")
	}
	fmt.Fprintf(out, "may %s %s %s?  %s\n", st.Identity.Render(who), st.Verb(q.Verb), st.Bold.Render(what), answer)
	segs := []string{st.Dim.Render("client")}
	for _, s := range ans.Auth.Stages {
		segs = append(segs, st.Dim.Render(SymArrow)+" "+s.Name+" "+r.mark(s))
	}
	fmt.Fprintf(out, "  %s\n", strings.Join(segs, " "))
	for _, s := range ans.Auth.Stages {
		if s.Detail != "" {
			fmt.Fprintf(out, "  %s %s %s\n", st.Key.Render(fmt.Sprintf("%-22s", s.Name)), r.mark(s), s.Detail)
		}
	}
	if ans.EvaluationError != "" {
		fmt.Fprintf(out, "  %s %s\n", st.Warning.Render(SymWarning), "evaluation error: "+ans.EvaluationError)
	}
	for _, n := range ans.Notes {
		fmt.Fprintf(out, "  %s %s\n", st.Warning.Render(SymWarning), n)
	}
	return nil
}
