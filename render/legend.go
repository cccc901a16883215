package render

import (
	"io"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/kubewire/kubewire/tracer/record"
)

// Legend explains every symbol and colour kubewire's views use, each shown
// in its own style.
func Legend(w io.Writer, o Options) error {
	r := newRenderer(o)
	st := r.st
	var lines []string
	section := func(title string) {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, st.Bold.Render(title))
	}
	item := func(sample, text string) {
		if lipgloss.Width(sample) >= 20 {
			// A long sample gets its own line; the text goes below it.
			lines = append(lines, "  "+sample)
			lines = append(lines, r.wrapHang(text, strings.Repeat(" ", 22), strings.Repeat(" ", 22))...)
			return
		}
		lines = append(lines, r.wrapHang(text, "  "+sample+strings.Repeat(" ", 20-lipgloss.Width(sample)), strings.Repeat(" ", 22))...)
	}
	stage := func(status string, inferred bool) string {
		return r.mark(record.Stage{Status: status, Inferred: inferred})
	}

	section("One line per call")
	lines = append(lines, r.wrap("#seq  +time  METHOD→verb  group/version stability  resource/name  scope  identity  status  outcome  duration  size", "  ")...)
	item(r.seqLabel(12), "the call's number, in the order requests arrived")
	item(st.Dim.Render("+1.204s"), "time since the first call of the trace")
	item(st.Method("GET")+st.Dim.Render(SymArrow)+st.Verb("list"), "reads: get, list, watch")
	item(st.Method("POST")+st.Dim.Render(SymArrow)+st.Verb("create"), "writes: create, update, patch")
	item(st.Method("DELETE")+st.Dim.Render(SymArrow)+st.Verb("delete"), "deletes: delete, deletecollection")
	item(st.Stability("GA"), "stable API version (v1, v2)")
	item(st.Stability("beta"), "beta API version (v1beta1): may change, may be removed")
	item(st.Stability("alpha"), "alpha API version (v1alpha1): off by default, may vanish")
	item(st.Dim.Render("ns ")+"demo", "namespace of the request; "+st.Dim.Render("cluster")+": cluster-scoped; "+st.Dim.Render("all namespaces")+": a namespaced resource across every namespace")
	item(st.Identity.Render("alice"), "who the request was sent as (\"X as Y\": X impersonating Y)")
	item(st.Own.Render(SymOwn+" kubewire"), "a call kubewire made itself, not the traced client (hidden unless --show-own)")
	item(st.Own.Render(SymOwn+" kubewire whoami"), "a call a kubewire command (whoami, can-i) made through the trace")
	item(st.Warning.Render("dry-run"), "the client asked the server not to persist the change")
	item(st.Dim.Render("⇅ websocket"), "an upgraded connection (exec, attach, port-forward)")

	section("Status and outcome")
	item(st.Status(200)+" "+st.Passed.Render(SymPassed+" served"), "2xx: a read answered")
	item(st.Status(201)+" "+st.Passed.Render(SymPassed+" stored"), "2xx: a write persisted")
	item(st.Warning.Render(SymPassed+" not stored"), "2xx dry run: every stage ran, nothing persisted")
	item(st.Status(201)+" "+st.Passed.Render(SymPassed+" answered"), "2xx: a create computed, never stored (TokenRequest, reviews)")
	item(st.Status(403)+" "+st.Denied.Render(SymRejected+" authz"), "rejected, and the stage that rejected it")
	item(st.Denied.Render(SymRejected+" no response"), "the API server never answered; kubewire says why")

	section("Journey (detail 1): the API server's stages, in order")
	lines = append(lines, "  "+st.Dim.Render("client")+" "+st.Dim.Render(SymArrow)+" authn "+stage(record.Passed, false)+" "+st.Dim.Render(SymArrow)+" APF "+stage(record.Passed, false)+" "+
		st.Dim.Render(SymArrow)+" authz "+stage(record.Rejected, false)+" "+st.Dim.Render(SymArrow)+" admission "+stage(record.NotReached, false))
	item(stage(record.Passed, false), "passed: kubewire saw evidence the stage let the request through")
	item(stage(record.Rejected, false), "rejected: this stage stopped the request")
	item(stage(record.NotApplicable, false), "skipped: the stage does not apply (reads never pass admission)")
	item(stage(record.NotReached, false), "not reached: an earlier stage stopped the request")
	item(stage(record.Passed, true)+" "+stage(record.Rejected, true), "inferred: kubewire deduced the outcome rather than saw it (e.g. a 2xx means authz passed)")
	item("authn", "authentication: who is this? (certificate, token, anonymous)")
	item("APF", "API Priority and Fairness: which flow schema and priority level queue it")
	item("authz", "authorization: may this user do this verb on this resource? (RBAC)")
	item("admission", "admission: mutating and validating webhooks and policies, quota, pod security")
	item("validation", "the object's own validation (422 Invalid)")
	item("storage", "etcd: conflicts, already exists, not found")

	section("Streams (watch, logs -f, exec)")
	item(st.Dim.Render(SymStream+" +0.512s"), "one stream event, with its time since the stream began")
	item(st.EventType("ADDED"), "watch: an object appeared")
	item(st.EventType("MODIFIED"), "watch: an object changed")
	item(st.EventType("DELETED"), "watch: an object went away")
	item(st.EventType("BOOKMARK"), "watch: progress marker, carries only a resourceVersion")
	item(st.EventType("ERROR"), "watch: the server ended the watch with a Status")
	item(st.Key.Render("↑ stdin")+" "+st.Key.Render("↓ stdout"), "upgraded connection frames: client to server, server to client")
	item(st.Dim.Render(SymStream+" end"), "the stream closed: events by type and how long it lasted")

	section("Headers and bodies (detail 2 and 3)")
	item(st.Dim.Render(">")+" "+st.Dim.Render("<"), "request and response headers")
	item("+ - ~", "headers kubewire added, removed or changed on the way to the API server")
	item(st.Warning.Render(SymWarning+" warning"), "a Warning header from the server (deprecations)")
	item(st.Dim.Render(SymFold+" 12 more lines"), "folded: that much was hidden (--body-lines shows more)")
	item(st.Dim.Render("decoded from protobuf"), "a protobuf body shown as JSON (or YAML) with the API machinery's scheme")

	lines = append(lines, "", st.Dim.Render("Colour only on a terminal; NO_COLOR (any value) or a pipe gives plain text."))
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}
