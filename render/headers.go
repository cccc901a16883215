package render

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

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
