package render

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

// renderer renders records at one set of options.
type renderer struct {
	o      Options
	st     Styles
	width  int
	indent int // width of the block indent
	origin time.Time
}

// blockIndent indents everything shown under a call's line; bodies are
// indented two more.
const (
	blockIndent = "    "
	bodyIndent  = blockIndent + "  "
)

// narrower returns a renderer for text that will be indented by n columns.
func (r *renderer) narrower(n int) *renderer {
	c := *r
	c.width = max(r.width-n, MinWidth-n)
	return &c
}

func newRenderer(o Options) *renderer {
	return &renderer{o: o, st: NewStyles(o), width: o.width(), indent: len(blockIndent)}
}

// since is the time of t from the first call seen, e.g. "+1.204s".
func (r *renderer) since(t time.Time) string {
	if r.origin.IsZero() || t.IsZero() {
		return "+0.000s"
	}
	d := t.Sub(r.origin)
	if d < 0 {
		return "-" + fmt.Sprintf("%.3fs", -d.Seconds())
	}
	return fmt.Sprintf("+%.3fs", d.Seconds())
}

// pack lays out segments separated by two spaces, starting a new line
// (indented by hang) whenever the next segment would pass the width.
func (r *renderer) pack(segs []string, hang string) []string {
	var lines []string
	cur, curW := "", 0
	for _, s := range segs {
		if s == "" {
			continue
		}
		w := lipgloss.Width(s)
		switch {
		case w > r.width-len(hang):
			if cur != "" {
				lines = append(lines, cur)
			}
			first := hang
			if len(lines) == 0 {
				first = ""
			}
			wrapped := r.wrapHang(s, first, hang)
			lines = append(lines, wrapped[:len(wrapped)-1]...)
			cur = wrapped[len(wrapped)-1]
			curW = lipgloss.Width(cur)
		case cur == "":
			cur, curW = s, w
		case curW+2+w <= r.width:
			cur += "  " + s
			curW += 2 + w
		default:
			lines = append(lines, cur)
			cur, curW = hang+s, len(hang)+w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	for i, l := range lines {
		// A padded segment (an event type) may end a line.
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// wrap word-wraps text to the width, every line indented by indent.
// widest is the display width of the widest line of s.
func widest(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, lipgloss.Width(l))
	}
	return w
}

func (r *renderer) wrap(text, indent string) []string {
	return r.wrapHang(text, indent, indent)
}

// wrapHang wraps text with first before the first line and hang before
// the others.
func (r *renderer) wrapHang(text, first, hang string) []string {
	avail := r.width - max(lipgloss.Width(first), lipgloss.Width(hang))
	if avail < 20 {
		avail = 20
	}
	var out []string
	// A breakpoint character stays at the end of its line, one past the
	// limit: wrap one column short.
	wrapped := lipgloss.Wrap(text, avail-1, " ,/;")
	if widest(wrapped) > avail {
		// A word wrap can still leave a line too wide (a breakpoint at the
		// very edge); cut those lines hard.
		wrapped = ansi.Hardwrap(wrapped, avail, true)
	}
	for i, l := range strings.Split(wrapped, "\n") {
		l = strings.TrimRight(l, " ")
		if i == 0 {
			out = append(out, first+l)
		} else {
			out = append(out, hang+l)
		}
	}
	return out
}

// fold is the line that stands for n hidden things.
func (r *renderer) fold(n int, what string) string {
	return r.st.Dim.Render(fmt.Sprintf("%s %s hidden (--body-lines shows more)", SymFold, plural(n, "more "+what)))
}

// foldLines keeps the first Options.BodyLines lines.
func (r *renderer) foldLines(lines []string) []string {
	limit := r.o.bodyLines()
	if limit < 0 || len(lines) <= limit {
		return lines
	}
	return append(lines[:limit:limit], r.fold(len(lines)-limit, "line"))
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
}

// duration formats milliseconds.
func duration(ms float64) string {
	switch {
	case ms < 10:
		return fmt.Sprintf("%.1fms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0fms", ms)
	case ms < 60000:
		return fmt.Sprintf("%.2fs", ms/1000)
	}
	d := time.Duration(ms * float64(time.Millisecond)).Round(time.Second)
	return d.String()
}

// stageLabel is the short name of a stage, as the pipeline shows it.
func stageLabel(name string) string {
	switch name {
	case record.StageAuthentication:
		return "authn"
	case record.StagePriority:
		return "APF"
	case record.StageAuthorization:
		return "authz"
	case record.StoppedNoResponse:
		return "no response"
	}
	return name
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection", "post", "put", "delete-path":
		return true
	}
	return false
}

// seqLabel is the call's number, e.g. "#12".
func (r *renderer) seqLabel(seq int64) string {
	return r.st.Seq.Render(fmt.Sprintf("#%d", seq))
}

// exchange renders a call at the chosen detail.
func (r *renderer) exchange(x *record.Exchange) []string {
	lines := r.summary(x)
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
func (r *renderer) summary(x *record.Exchange) []string {
	st, a := r.st, x.Annotation
	segs := []string{r.seqLabel(x.Seq), st.Dim.Render(r.since(x.Start))}
	if x.Own {
		who := "kubewire"
		if !x.Background() {
			who += " " + x.OwnBy
		}
		segs = append(segs, st.Own.Render(SymOwn+" "+who))
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

// stopped says where the request stopped, or that it went all the way.
func (r *renderer) stopped(x *record.Exchange) string {
	st, au := r.st, x.Annotation.Auth
	if x.Error != nil {
		return st.Denied.Render(orDash(x.Error.Phase))
	}
	if x.Response == nil {
		return ""
	}
	if au != nil && au.StoppedAt != "" {
		return st.Denied.Render(SymRejected + " " + stageLabel(au.StoppedAt))
	}
	code := x.Response.Status
	switch {
	case code >= 400:
		return st.Denied.Render(SymRejected + " " + strings.ToLower(http.StatusText(code)))
	case code >= 300:
		return ""
	case au != nil && au.Persisted != nil && !*au.Persisted:
		return st.Warning.Render(SymPassed + " not stored (dry run)")
	case x.Annotation.Upgrade != "" || code == http.StatusSwitchingProtocols:
		return st.Passed.Render(SymPassed + " upgraded")
	case isWrite(x.Annotation.Verb) && x.Annotation.ResourceRequest:
		return st.Passed.Render(SymPassed + " stored")
	}
	return st.Passed.Render(SymPassed + " served")
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

// journey draws the stages as a pipeline, then explains each one, the
// identity and the server's signals.
func (r *renderer) journey(x *record.Exchange) []string {
	st, a := r.st, x.Annotation
	var lines []string
	row := func(label, text string) {
		lines = append(lines, r.wrapHang(text, blockIndent+st.Key.Render(fmt.Sprintf("%-11s", label)), blockIndent+strings.Repeat(" ", 11))...)
	}
	au := a.Auth
	if au == nil || len(au.Stages) == 0 {
		lines = append(lines, r.wrap(st.Dim.Render("journey unknown: the record has no analysis of the stages"), blockIndent)...)
	} else {
		segs := []string{st.Dim.Render("client")}
		for _, s := range au.Stages {
			segs = append(segs, st.Dim.Render(SymArrow)+" "+stageLabel(s.Name)+" "+r.mark(s))
		}
		lines = append(lines, r.packPipeline(segs)...)
	}
	if au != nil {
		row("identity", r.identityDetail(au))
		for _, s := range au.Stages {
			if s.Detail == "" && !s.Inferred {
				continue
			}
			text := s.Detail
			if s.Inferred {
				text = st.Inferred.Render(strings.TrimSpace("inferred " + text))
			}
			row(stageLabel(s.Name), r.mark(s)+" "+text)
		}
		if au.StoppedAt != "" && au.Reason != "" {
			row("stopped", st.Denied.Render(au.Reason))
		}
		if d := au.Denial; d != nil && d.Reason != "" {
			row("authorizer", d.Reason)
		}
		if ad := au.Admission; ad != nil {
			what := ad.Kind
			if ad.Name != "" {
				what += " " + st.Bold.Render(ad.Name)
			}
			if ad.Binding != "" {
				what += " (binding " + ad.Binding + ")"
			}
			row("admission", st.Denied.Render(SymRejected)+" "+what)
		}
		for _, c := range au.Causes {
			text := orDash(c.Type)
			if c.Field != "" {
				text += " " + st.Bold.Render(c.Field)
			}
			row("cause", text+": "+c.Message)
		}
		if au.Persisted != nil && !*au.Persisted {
			row("dry run", st.Warning.Render("the server ran every stage but did not persist the object"))
		}
		if ev := au.Audit; ev != nil {
			row("audit log", r.auditText(ev))
		}
	}
	if a.LabelSelector != "" || a.FieldSelector != "" {
		var sel []string
		if a.LabelSelector != "" {
			sel = append(sel, "labels "+a.LabelSelector)
		}
		if a.FieldSelector != "" {
			sel = append(sel, "fields "+a.FieldSelector)
		}
		row("selector", strings.Join(sel, "; "))
	}
	if a.Note != "" {
		row("note", a.Note)
	}
	if sg := a.Signals; sg != nil {
		if sg.FlowSchema != "" || sg.PriorityLevel != "" {
			text := "flow schema " + orDash(sg.FlowSchema) + ", priority level " + orDash(sg.PriorityLevel)
			if sg.FlowNote != "" {
				text += st.Dim.Render(" (UIDs: " + sg.FlowNote + ")")
			}
			row("APF", text)
		}
		if sg.AuditID != "" {
			row("audit-id", st.Dim.Render(sg.AuditID))
		}
		for _, w := range sg.Warnings {
			text := st.Warning.Render(SymWarning + " " + w.Text)
			if w.Replacement != "" {
				text += st.Dim.Render(" (use " + w.Replacement + ")")
			}
			row("warning", text)
		}
	}
	if x.Error != nil {
		row("error", st.Denied.Render(x.Error.Message))
	}
	if x.StreamError != nil {
		row("stream", st.Denied.Render("broke: "+x.StreamError.Message))
	}
	if x.Response != nil && x.Response.Body != nil && r.o.Detail < LevelBodies {
		d := decodeBody(x.Response.Body)
		s := summarize(d.tree, r.path(x))
		repeated := au != nil && au.Reason != "" && strings.Contains(s, au.Reason)
		if s != "" && !repeated && r.quickSummary(x) == "" {
			row("response", s)
		}
	}
	return lines
}

// packPipeline lays out the pipeline, wrapping before an arrow.
func (r *renderer) packPipeline(segs []string) []string {
	var lines []string
	cur := blockIndent
	for i, s := range segs {
		if i > 0 && lipgloss.Width(cur)+1+lipgloss.Width(s) > r.width {
			lines = append(lines, cur)
			cur = blockIndent + "  "
		} else if i > 0 {
			cur += " "
		}
		cur += s
	}
	return append(lines, cur)
}

// mark is a stage outcome's symbol, and the inferred mark when kubewire
// deduced it.
func (r *renderer) mark(s record.Stage) string {
	st := r.st
	var sym string
	var style lipgloss.Style
	switch s.Status {
	case record.Passed:
		sym, style = SymPassed, st.Passed
	case record.Rejected:
		sym, style = SymRejected, st.Denied
	case record.NotApplicable:
		sym, style = SymSkipped, st.Skipped
	default:
		sym, style = SymNotReached, st.Skipped
	}
	if s.Inferred {
		return style.Render(sym) + st.Inferred.Render(SymInferred)
	}
	return style.Render(sym)
}

func (r *renderer) identityDetail(au *record.Auth) string {
	text := r.identity(au)
	var how []string
	if au.Method != "" {
		how = append(how, au.Method)
	}
	switch au.Origin {
	case "kubeconfig":
		how = append(how, "kubeconfig's credentials")
	case "client":
		how = append(how, "the client's own credentials")
	}
	if im := au.Impersonation; im != nil && im.By != "" {
		how = append(how, "impersonated by "+im.By)
	}
	if len(how) > 0 {
		text += r.st.Dim.Render(" · " + strings.Join(how, ", "))
	}
	if len(au.Groups) > 0 {
		text += r.st.Dim.Render(" · groups ") + strings.Join(au.Groups, ", ")
	}
	return text
}

func (r *renderer) auditText(ev *record.AuditEvent) string {
	var parts []string
	if ev.Decision != "" {
		d := ev.Decision
		if ev.DecisionReason != "" {
			d += ": " + ev.DecisionReason
		}
		parts = append(parts, "decision "+d)
	}
	if ev.User != "" {
		parts = append(parts, "user "+ev.User)
	}
	if ev.Code != 0 {
		parts = append(parts, fmt.Sprintf("code %d", ev.Code))
	}
	if ev.Stage != "" {
		parts = append(parts, "stage "+ev.Stage)
	}
	if len(parts) == 0 {
		return "event " + ev.AuditID
	}
	return strings.Join(parts, ", ")
}

// headers shows the request (and what kubewire changed upstream) and the
// response headers, curl style.
func (r *renderer) headers(x *record.Exchange) []string {
	st := r.st
	var lines []string
	req := x.Request
	target := req.URL
	if u, err := url.Parse(req.URL); err == nil {
		target = u.RequestURI()
	}
	lines = append(lines, r.wrapHang(st.Method(req.Method)+" "+target+" "+st.Dim.Render(req.Proto), blockIndent+st.Dim.Render("> "), blockIndent+"    ")...)
	lines = append(lines, r.headerLines(req.Headers, "> ", nil)...)
	if up := req.Upstream; up != nil {
		lines = append(lines, r.wrap(st.Dim.Render("upstream "+up.Proto+" "+up.URL+" (headers kubewire changed: + added, - removed, ~ changed)"), blockIndent)...)
		lines = append(lines, r.headerDiff(req.Headers, up.Headers)...)
	}
	if resp := x.Response; resp != nil {
		lines = append(lines, blockIndent+st.Dim.Render("< ")+st.Status(resp.Status)+" "+http.StatusText(resp.Status)+" "+st.Dim.Render(resp.Proto))
		lines = append(lines, r.headerLines(resp.Headers, "< ", nil)...)
	}
	return lines
}

func (r *renderer) headerLines(h http.Header, prefix string, only map[string]string) []string {
	var lines []string
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			p := prefix
			if only != nil {
				p = only[k] + " "
			}
			lines = append(lines, r.wrapHang(r.st.Key.Render(k)+": "+v, blockIndent+r.st.Dim.Render(p), blockIndent+"    ")...)
		}
	}
	return lines
}

// headerDiff shows the upstream headers that differ from the client's.
func (r *renderer) headerDiff(client, up http.Header) []string {
	changed := http.Header{}
	marks := map[string]string{}
	for k, v := range up {
		cv, ok := client[k]
		switch {
		case !ok:
			changed[k], marks[k] = v, "+"
		case strings.Join(cv, "\x00") != strings.Join(v, "\x00"):
			changed[k], marks[k] = v, "~"
		}
	}
	for k, v := range client {
		if _, ok := up[k]; !ok {
			changed[k], marks[k] = v, "-"
		}
	}
	if len(changed) == 0 {
		return []string{blockIndent + r.st.Dim.Render("  (none)")}
	}
	return r.headerLines(changed, "", marks)
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bodies shows the request and response bodies, made readable.
func (r *renderer) bodies(x *record.Exchange) []string {
	var lines []string
	if b := x.Request.Body; b != nil && b.Bytes > 0 {
		lines = append(lines, r.body("request body", b, r.path(x))...)
	}
	if x.Response != nil {
		if b := x.Response.Body; b != nil && b.Bytes > 0 {
			lines = append(lines, r.body("response body", b, r.path(x))...)
		} else if x.Response.Stream {
			lines = append(lines, r.wrap(r.st.Dim.Render("response body: a stream; its events follow as they arrive"), blockIndent)...)
		}
	}
	return lines
}

// body renders one body under a label line saying what it is.
func (r *renderer) body(label string, b *record.Body, path string) []string {
	st := r.st
	d := decodeBody(b)
	head := []string{st.Key.Render(label), st.Dim.Render(orUnknown(b.ContentType)), st.Dim.Render(size(b.Bytes))}
	if d.from != "" {
		head = append(head, st.Dim.Render("decoded from "+d.from))
	}
	if b.Truncated {
		head = append(head, st.Warning.Render(fmt.Sprintf("only the first %s were recorded", size(int64(len(b.Data()))))))
	}
	switch {
	case b.Redacted && len(b.Data()) == 0:
		head = append(head, st.Warning.Render("not recorded: kubewire could not read it, and it may hold a secret"))
	case b.Redacted:
		head = append(head, st.Warning.Render("secrets redacted"))
	}
	lines := r.pack(append([]string{blockIndent + head[0]}, head[1:]...), bodyIndent)
	return append(lines, r.indentLines(r.narrower(len(bodyIndent)).content(d, path), bodyIndent)...)
}

// content is a decoded body's lines, in the view that suits it.
func (r *renderer) content(d decoded, path string) []string {
	if d.note != "" && d.tree == nil && d.text == "" {
		return r.wrap(r.st.Dim.Render(d.note), "")
	}
	var lines []string
	if d.note != "" {
		lines = append(lines, r.wrap(r.st.Warning.Render(d.note), "")...)
	}
	if d.tree == nil {
		return append(lines, r.foldLines(r.wrapLines(strings.Split(strings.TrimRight(d.text, "\n"), "\n")))...)
	}
	n := d.tree
	switch viewOf(n, path) {
	case viewStatus:
		return append(lines, r.statusView(n)...)
	case viewTable:
		return append(lines, r.tableView(n)...)
	case viewDiscovery:
		return append(append(lines, r.wrap(r.st.Bold.Render(summarize(n, path)), "")...), r.discoveryView(n)...)
	case viewOpenAPI:
		return append(append(lines, r.wrap(r.st.Bold.Render(summarize(n, path)), "")...), r.openAPIView(n)...)
	}
	return append(lines, r.object(n)...)
}

// object pretty-prints an object as JSON or YAML, managedFields folded.
func (r *renderer) object(n *doc.Node) []string {
	var hidden []string
	hide := func(obj *doc.Node) {
		if mf := obj.Get("metadata").Remove("managedFields"); mf != nil {
			hidden = append(hidden, plural(len(mf.Vals), "managedFields entry"))
		}
	}
	hide(n)
	for _, it := range n.Items("items") {
		hide(it)
	}
	var text string
	if r.o.BodyFormat == "yaml" {
		text = n.PrettyYAML()
	} else {
		text = n.PrettyJSON()
	}
	var lines []string
	if s := summarize(n, ""); s != "" {
		lines = append(lines, r.wrap(r.st.Bold.Render(s), "")...)
	}
	lines = append(lines, r.foldLines(r.wrapLines(strings.Split(text, "\n")))...)
	if len(hidden) > 0 {
		lines = append(lines, r.wrap(r.st.Dim.Render(SymFold+" metadata.managedFields hidden: "+strings.Join(hidden, ", ")), "")...)
	}
	return lines
}

// wrapLines hard-wraps lines longer than the width inside the body block,
// continuing them under their own indentation.
func (r *renderer) wrapLines(lines []string) []string {
	avail := r.width
	var out []string
	for _, l := range lines {
		if lipgloss.Width(l) <= avail {
			out = append(out, l)
			continue
		}
		lead := len(l) - len(strings.TrimLeft(l, " "))
		if lead > avail/2 {
			lead = 0
		}
		first := true
		for _, part := range strings.Split(lipgloss.Wrap(l[lead:], avail-lead-2, ""), "\n") {
			if first {
				out = append(out, strings.Repeat(" ", lead)+part)
				first = false
			} else {
				out = append(out, strings.Repeat(" ", lead+2)+part)
			}
		}
	}
	return out
}

func (r *renderer) indentLines(lines []string, indent string) []string {
	for i, l := range lines {
		lines[i] = indent + l
	}
	return lines
}
