package render

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

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
