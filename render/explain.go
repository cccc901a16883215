package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

// Explain writes a human-readable reading of one classified request.
func Explain(w io.Writer, method, target string, a record.Annotation, o Options) error {
	r := newRenderer(o)
	st := r.st
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", st.Method(method), target)
	row := func(k, v string) {
		for _, l := range r.wrapHang(v, "  "+st.Key.Render(fmt.Sprintf("%-11s", k))+" ", strings.Repeat(" ", 14)) {
			b.WriteString(l + "\n")
		}
	}
	row("verb", st.Method(method)+st.Dim.Render(SymArrow)+st.Verb(a.Verb)+"  "+st.Dim.Render(verbWhy(method, a)))
	row("kind", a.Kind)
	if !a.ResourceRequest {
		if a.APIVersion != "" || a.APIGroup != "" {
			row("api group", groupName(a.APIGroup))
		}
		if a.APIVersion != "" {
			row("version", a.APIVersion+" "+st.Stability(a.Stability)+"  "+st.Dim.Render(stabilityWhy(a.Stability)))
		}
		row("resource", st.Dim.Render("none: a non-resource request (authorized by path, not by resource)"))
	} else {
		row("api group", groupName(a.APIGroup))
		row("version", a.APIVersion+" "+st.Stability(a.Stability)+"  "+st.Dim.Render(stabilityWhy(a.Stability)))
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		row("resource", res)
		if a.Name != "" {
			row("name", a.Name)
		}
		if a.Namespace != "" {
			row("namespace", a.Namespace)
		}
		scope := a.Scope
		if a.AllNamespaces {
			scope += " (all namespaces)"
		}
		row("scope", scope+"  "+st.Inferred.Render(scopeWhy(a.ScopeSource)))
	}
	if a.LabelSelector != "" {
		row("labels", a.LabelSelector)
	}
	if a.FieldSelector != "" {
		row("fields", a.FieldSelector)
	}
	if a.DryRun {
		row("dry run", "yes: the server will not persist this request")
	}
	if a.Note != "" {
		row("note", a.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func groupName(g string) string {
	if g == "" {
		return `"" (core, the legacy group under /api)`
	}
	return g
}

func verbWhy(method string, a record.Annotation) string {
	if !a.ResourceRequest {
		return "(non-resource request: the verb is the lowercase HTTP method)"
	}
	switch a.Verb {
	case "list":
		if a.Name != "" {
			return "(GET on a collection, narrowed to one name by fieldSelector)"
		}
		return "(GET on a collection)"
	case "watch":
		return "(GET on a collection with watch)"
	case "deletecollection":
		return "(DELETE on a collection)"
	case "proxy":
		return "(the /proxy/ path prefix)"
	}
	return "(" + method + " on " + map[bool]string{true: "one object", false: "a collection"}[a.Name != ""] + ")"
}

func scopeWhy(source string) string {
	switch source {
	case "discovery":
		return "from the server's discovery"
	case "recorded":
		return "from discovery in the recording"
	case "builtin":
		return "inferred from kubewire's table of built-in resources"
	case "path":
		return "inferred from the namespace in the path"
	default:
		return "unknown: not a built-in resource and no server was asked"
	}
}

func stabilityWhy(s string) string {
	switch s {
	case "GA":
		return "(stable: no alpha or beta in the version)"
	case "beta":
		return "(beta: may change in a later release)"
	case "alpha":
		return "(alpha: disabled by default, may be removed)"
	}
	return ""
}
