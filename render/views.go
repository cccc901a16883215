package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/kubewire/kubewire/tracer/doc"
)

// What a structured body is, as far as rendering goes.
const (
	viewObject    = "object"
	viewStatus    = "status"
	viewTable     = "table"
	viewDiscovery = "discovery"
	viewOpenAPI   = "openapi"
)

// viewOf says how to show a tree, given the request path.
func viewOf(n *doc.Node, path string) string {
	if n == nil {
		return ""
	}
	switch n.Str("kind") {
	case "Status":
		if n.Str("apiVersion") == "v1" || n.Str("apiVersion") == "" || n.Get("status") != nil {
			return viewStatus
		}
	case "Table":
		if n.Get("columnDefinitions") != nil {
			return viewTable
		}
	case "APIVersions", "APIGroupList", "APIGroup", "APIResourceList", "APIGroupDiscoveryList":
		return viewDiscovery
	}
	if strings.HasPrefix(path, "/openapi/") || path == "/swagger.json" {
		return viewOpenAPI
	}
	return viewObject
}

// summarize says in a few words what a structured body is: the counts of a
// discovery or OpenAPI document, a table's size, a list's length, a
// Status's reason. "" when there is nothing better to say than the body.
func summarize(n *doc.Node, path string) string {
	switch viewOf(n, path) {
	case viewStatus:
		return statusLine(n)
	case viewTable:
		cols := 0
		for _, c := range n.Items("columnDefinitions") {
			if c.Str("priority") == "" || c.Str("priority") == "0" {
				cols++
			}
		}
		return fmt.Sprintf("table: %s × %d columns", plural(len(n.Items("rows")), "row"), cols)
	case viewDiscovery:
		return discoverySummary(n)
	case viewOpenAPI:
		return openAPISummary(n, path)
	}
	kind := n.Str("kind")
	if items := n.Get("items"); items != nil && items.Kind == 'a' {
		if kind == "" {
			kind = "list"
		}
		return fmt.Sprintf("%s: %s", kind, plural(len(items.Vals), "item"))
	}
	if kind != "" {
		name := n.Str("metadata", "name")
		if ns := n.Str("metadata", "namespace"); ns != "" {
			name = ns + "/" + name
		}
		if rv := n.Str("metadata", "resourceVersion"); rv != "" {
			return fmt.Sprintf("%s %s (resourceVersion %s)", kind, name, rv)
		}
		return strings.TrimSpace(kind + " " + name)
	}
	return ""
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(what, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// statusLine is a Status in one line: its reason, code and message.
func statusLine(n *doc.Node) string {
	parts := []string{"Status " + orDash(n.Str("status"))}
	if r := n.Str("reason"); r != "" {
		parts = append(parts, r)
	}
	if c := n.Str("code"); c != "" {
		parts[len(parts)-1] += " (" + c + ")"
	}
	s := strings.Join(parts, " ")
	if m := n.Str("message"); m != "" {
		s += ": " + m
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusView is a Status: reason, code, message, then each cause.
func (r *renderer) statusView(n *doc.Node) []string {
	st := r.st
	head := st.Bold.Render("Status "+orDash(n.Str("status"))) + "  "
	reason := n.Str("reason")
	if c := n.Str("code"); c != "" {
		reason = strings.TrimSpace(reason + " (" + c + ")")
	}
	if n.Str("status") == "Success" {
		head += st.Passed.Render(reason)
	} else {
		head += st.Denied.Render(reason)
	}
	lines := []string{head}
	if m := n.Str("message"); m != "" {
		lines = append(lines, r.wrap(m, "  ")...)
	}
	if d := n.Get("details"); d != nil {
		var ref []string
		for _, k := range []string{"group", "kind", "name"} {
			if v := d.Str(k); v != "" {
				ref = append(ref, k+" "+v)
			}
		}
		if len(ref) > 0 {
			lines = append(lines, "  "+st.Dim.Render("details: "+strings.Join(ref, ", ")))
		}
		if ra := d.Str("retryAfterSeconds"); ra != "" {
			lines = append(lines, "  "+st.Dim.Render("retry after "+ra+"s"))
		}
		for _, c := range d.Items("causes") {
			text := st.Key.Render("cause "+orDash(c.Str("reason"))) + " "
			if f := c.Str("field"); f != "" {
				text += st.Bold.Render(f) + ": "
			}
			text += c.Str("message")
			lines = append(lines, r.wrap(text, "  ")...)
		}
	}
	return lines
}

// tableView prints a Table response the way kubectl get would: the
// priority-0 columns, upper-case headers, three spaces between columns.
// Columns that do not fit the width are dropped from the right and named.
func (r *renderer) tableView(n *doc.Node) []string {
	type col struct {
		name  string
		index int
	}
	var cols []col
	var wide []string
	for i, c := range n.Items("columnDefinitions") {
		if p := c.Str("priority"); p != "" && p != "0" {
			wide = append(wide, strings.ToUpper(c.Str("name")))
			continue
		}
		cols = append(cols, col{strings.ToUpper(c.Str("name")), i})
	}
	rows := n.Items("rows")
	if len(rows) == 0 {
		return []string{r.st.Dim.Render("No resources found.") + " " + r.st.Dim.Render("(empty table)")}
	}
	cells := make([][]string, len(rows))
	widths := make([]int, len(cols))
	for j, c := range cols {
		widths[j] = lipgloss.Width(c.name)
	}
	for i, row := range rows {
		rc := row.Items("cells")
		for j, c := range cols {
			v := "<none>"
			if c.index < len(rc) {
				v = rc[c.index].Scalar()
			}
			cells[i] = append(cells[i], v)
			widths[j] = max(widths[j], lipgloss.Width(v))
		}
	}
	// Keep the columns that fit, from the left; always the first.
	avail := r.width
	keep, used := 0, 0
	for j := range cols {
		w := widths[j]
		if j > 0 {
			w += 3
		}
		if j > 0 && used+w > avail {
			break
		}
		used += w
		keep++
	}
	line := func(vals []string, style Style) string {
		var b strings.Builder
		for j := 0; j < keep; j++ {
			v := vals[j]
			if j < keep-1 {
				v += strings.Repeat(" ", widths[j]-lipgloss.Width(v)+3)
			}
			b.WriteString(v)
		}
		return style.Render(strings.TrimRight(b.String(), " "))
	}
	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.name
	}
	out := []string{line(names, r.st.Bold)}
	limit := r.o.bodyLines()
	for i := range cells {
		if limit > 0 && i >= limit {
			out = append(out, r.fold(len(cells)-i, "row"))
			break
		}
		out = append(out, line(cells[i], plainStyle))
	}
	if keep < len(cols) {
		out = append(out, r.wrap(r.st.Dim.Render(fmt.Sprintf("%s %s not shown: wider than the screen", SymFold, strings.Join(names[keep:], ", "))), "")...)
	}
	if len(wide) > 0 {
		out = append(out, r.wrap(r.st.Dim.Render("-o wide columns, not shown by kubectl get: "+strings.Join(wide, ", ")), "")...)
	}
	return out
}

// discoverySummary counts what a discovery document lists.
func discoverySummary(n *doc.Node) string {
	switch n.Str("kind") {
	case "APIVersions":
		var vs []string
		for _, v := range n.Items("versions") {
			vs = append(vs, v.S)
		}
		return "discovery: the core group (/api), versions " + strings.Join(vs, ", ")
	case "APIGroupList":
		groups := n.Items("groups")
		versions := 0
		for _, g := range groups {
			versions += len(g.Items("versions"))
		}
		return fmt.Sprintf("discovery: %s, %s", plural(len(groups), "group"), plural(versions, "group version"))
	case "APIGroup":
		return fmt.Sprintf("discovery: group %s, %s", n.Str("name"), plural(len(n.Items("versions")), "version"))
	case "APIResourceList":
		res, sub := 0, 0
		for _, r := range n.Items("resources") {
			if strings.Contains(r.Str("name"), "/") {
				sub++
			} else {
				res++
			}
		}
		return fmt.Sprintf("discovery: %s, %s, %s", orCoreGV(n.Str("groupVersion")), plural(res, "resource"), plural(sub, "subresource"))
	case "APIGroupDiscoveryList":
		groups := n.Items("items")
		versions, sub := 0, 0
		seen := map[string]bool{}
		for _, g := range groups {
			for _, v := range g.Items("versions") {
				versions++
				for _, r := range v.Items("resources") {
					seen[g.Str("metadata", "name")+"/"+r.Str("resource")] = true
					sub += len(r.Items("subresources"))
				}
			}
		}
		return fmt.Sprintf("discovery (aggregated): %s, %s, %s, %s", plural(len(groups), "group"),
			plural(versions, "version"), plural(len(seen), "resource"), plural(sub, "subresource"))
	}
	return "discovery"
}

func orCoreGV(gv string) string {
	if gv == "v1" {
		return "core/v1"
	}
	return gv
}

// discoveryView lists the groups, versions and resources of a discovery
// document, one line each.
func (r *renderer) discoveryView(n *doc.Node) []string {
	var lines []string
	add := func(head, rest string) {
		text := r.st.Bold.Render(head)
		if rest != "" {
			text += "  " + rest
		}
		lines = append(lines, r.wrapHang(text, "", "    ")...)
	}
	resNames := func(rs []*doc.Node, key string) string {
		var names []string
		for _, x := range rs {
			names = append(names, x.Str(key))
		}
		return strings.Join(names, ", ")
	}
	switch n.Str("kind") {
	case "APIVersions":
		for _, v := range n.Items("versions") {
			add(v.S, "")
		}
	case "APIGroupList", "APIGroup":
		groups := n.Items("groups")
		if n.Str("kind") == "APIGroup" {
			groups = []*doc.Node{n}
		}
		for _, g := range groups {
			var vs []string
			for _, v := range g.Items("versions") {
				vs = append(vs, v.Str("version"))
			}
			pref := g.Str("preferredVersion", "version")
			add(g.Str("name"), strings.Join(vs, ", ")+r.st.Dim.Render(" (preferred "+pref+")"))
		}
	case "APIResourceList":
		for _, x := range n.Items("resources") {
			scope := "cluster"
			if x.Str("namespaced") == "true" {
				scope = "namespaced"
			}
			var verbs []string
			for _, v := range x.Items("verbs") {
				verbs = append(verbs, v.S)
			}
			add(x.Str("name"), r.st.Dim.Render(scope+" · "+strings.Join(verbs, ",")))
		}
	case "APIGroupDiscoveryList":
		for _, g := range n.Items("items") {
			name := g.Str("metadata", "name")
			if name == "" {
				name = "core"
			}
			for _, v := range g.Items("versions") {
				add(name+"/"+v.Str("version"), resNames(v.Items("resources"), "resource"))
			}
		}
	}
	return r.foldLines(lines)
}

// openAPISummary counts an OpenAPI document's paths and schemas.
func openAPISummary(n *doc.Node, path string) string {
	if paths := n.Get("paths"); paths != nil && n.Get("openapi") == nil && n.Get("swagger") == nil {
		return fmt.Sprintf("openapi v3 index: %s", plural(len(paths.Keys), "group version"))
	}
	where := strings.TrimPrefix(path, "/openapi/v3/")
	if n.Get("swagger") != nil {
		return fmt.Sprintf("openapi v2: %s, %s", plural(len(keysOf(n.Get("paths"))), "path"),
			plural(len(keysOf(n.Get("definitions"))), "definition"))
	}
	return fmt.Sprintf("openapi v3 %s: %s, %s", where, plural(len(keysOf(n.Get("paths"))), "path"),
		plural(len(keysOf(n.Get("components", "schemas"))), "schema"))
}

// keysOf returns an object's keys, nil for a missing one.
func keysOf(n *doc.Node) []string {
	if n == nil {
		return nil
	}
	return n.Keys
}

// openAPIView lists the paths of an OpenAPI document.
func (r *renderer) openAPIView(n *doc.Node) []string {
	paths := n.Get("paths")
	if paths == nil {
		return nil
	}
	keys := append([]string(nil), paths.Keys...)
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, r.wrapHang(k, "", "    ")...)
	}
	return r.foldLines(lines)
}
