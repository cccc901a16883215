package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

// A stream's events, chunks and end, one line each.

// counts lists a stream's events by type, e.g. "3 events: 1 ADDED, 2 MODIFIED".
func (r *renderer) counts(s *call) string {
	total := 0
	var types []string
	for t, n := range s.counts {
		total += n
		types = append(types, t)
	}
	order := map[string]int{"ADDED": 0, "MODIFIED": 1, "DELETED": 2, "BOOKMARK": 3, "ERROR": 4}
	sort.Slice(types, func(i, j int) bool {
		oi, ok := order[types[i]]
		if !ok {
			oi = 9
		}
		oj, ok := order[types[j]]
		if !ok {
			oj = 9
		}
		if oi != oj {
			return oi < oj
		}
		return types[i] < types[j]
	})
	if total == 0 {
		return "no events"
	}
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%d %s", s.counts[t], t)
	}
	return plural(total, "event") + ": " + strings.Join(parts, ", ")
}

// end closes a stream: its event counts, duration and how it ended.
func (r *renderer) end(s *call, e *record.End) []string {
	st := r.st
	segs := []string{r.label(s), st.Dim.Render(SymStream + " end")}
	if s.x != nil {
		segs = append(segs, r.counts(s))
	}
	segs = append(segs, st.Dim.Render("after "+duration(e.Timings.TotalMs)))
	if e.Error != nil {
		segs = append(segs, st.Denied.Render(SymRejected+" "+strings.TrimSpace(e.Error.Phase+" "+e.Error.Message)))
	}
	return r.pack(segs, blockIndent)
}

// event renders one stream event in one line: a watch event's type,
// object and resourceVersion, a chunk's text, with its time from the
// stream's start. At detail 3 a watch event's object follows.
func (r *renderer) event(s *call, ev *record.Event) []string {
	st := r.st
	head := []string{r.label(s), st.Dim.Render(SymStream + " " + fmt.Sprintf("+%.3fs", ev.OffsetMs/1000))}
	var obj *doc.Node
	switch {
	case ev.Type == "data" || ev.Direction == "up" || ev.Channel != "":
		return r.chunk(head, ev)
	default:
		evType, n, err := watchEvent(ev)
		if evType == "" {
			evType = ev.Type
		}
		head = append(head, st.EventType(fmt.Sprintf("%-8s", evType)))
		if err != nil {
			head = append(head, st.Warning.Render(err.Error()))
			break
		}
		obj = n
		if n != nil && n.Str("kind") == "Table" {
			if cols := n.Get("columnDefinitions"); cols != nil && len(cols.Vals) > 0 {
				s.columns = cols
			} else if s.columns != nil {
				n.Set("columnDefinitions", s.columns)
			}
		}
		head = append(head, r.eventObject(evType, n, s)...)
	}
	lines := r.pack(head, bodyIndent)
	if r.o.Detail >= LevelBodies && obj != nil && ev.Type != "BOOKMARK" {
		lines = append(lines, r.indentLines(r.narrower(len(bodyIndent)).content(decoded{tree: obj}, ""), bodyIndent)...)
	}
	return lines
}

// eventObject names a watch event's object.
func (r *renderer) eventObject(evType string, n *doc.Node, s *call) []string {
	st := r.st
	if n == nil {
		return nil
	}
	if n.Str("kind") == "Status" || evType == "ERROR" {
		return []string{st.Denied.Render(statusLine(n))}
	}
	rv := n.Str("metadata", "resourceVersion")
	if evType == "BOOKMARK" {
		return []string{st.Dim.Render("resourceVersion ") + rv}
	}
	kind := n.Str("kind")
	if rows := n.Items("rows"); kind == "Table" && len(rows) == 1 {
		// kubectl get -w watches Tables: each event is a one-row Table
		// whose row carries the object's metadata.
		if obj := rows[0].Get("object"); obj != nil {
			kind = obj.Str("kind")
			if kind == "PartialObjectMetadata" && s.x != nil && s.x.Annotation.Resource != "" {
				kind = s.x.Annotation.Resource
			}
			kind += " (table row)"
			n = obj
		}
	}
	name := n.Str("metadata", "name")
	if ns := n.Str("metadata", "namespace"); ns != "" {
		name = ns + "/" + name
	}
	segs := []string{orDash(kind) + " " + st.Bold.Render(name)}
	if rv != "" {
		segs = append(segs, st.Dim.Render("rv ")+rv)
	}
	if p := n.Str("status", "phase"); p != "" {
		segs = append(segs, st.Dim.Render(p))
	}
	return segs
}

// watchEvent decodes a watch event's body: one JSON {"type","object"}, or
// one protobuf frame without its length prefix.
func watchEvent(ev *record.Event) (string, *doc.Node, error) {
	if ev.Body == nil {
		return ev.Type, nil, nil
	}
	data := ev.Body.Data()
	if ev.Body.Truncated {
		return ev.Type, nil, fmt.Errorf("event body truncated at %s, not decoded", size(int64(len(data))))
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var probe struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return ev.Type, nil, fmt.Errorf("watch event is not JSON kubewire can read: %v", err)
		}
		n, err := doc.ParseJSON(probe.Object)
		if err != nil {
			return probe.Type, nil, fmt.Errorf("watch event object: %v", err)
		}
		return probe.Type, n, nil
	}
	return decodeWatchFrame(data)
}

// chunk renders a non-watch stream chunk (logs -f, exec): direction,
// channel, size, then its text; or a channel opening or closing.
func (r *renderer) chunk(head []string, ev *record.Event) []string {
	st := r.st
	what := "data"
	switch ev.Direction {
	case "up":
		what = "↑ " + orDash(ev.Channel)
	case "down":
		if ev.Channel != "" {
			what = "↓ " + ev.Channel
		}
	}
	if ev.Type == "open" || ev.Type == "close" {
		// A channel of an upgraded connection opened or closed.
		what = strings.Replace(what, " ", " "+ev.Type+" ", 1)
	}
	head = append(head, st.Key.Render(what))
	if ev.Body != nil {
		head = append(head, st.Dim.Render(size(ev.Body.Bytes)))
	}
	if ev.Body != nil && ev.Body.Omitted {
		head = append(head, st.Dim.Render("not recorded (may be a password; --record-stdin records it)"))
	}
	lines := r.pack(head, bodyIndent)
	if ev.Body == nil {
		return lines
	}
	if ev.Body.Base64 != "" {
		return append(lines, bodyIndent+st.Dim.Render("binary"))
	}
	text := strings.TrimRight(ev.Body.Text, "\n")
	if text == "" {
		return lines
	}
	return append(lines, r.indentLines(r.foldLines(r.narrower(len(bodyIndent)).wrapLines(strings.Split(text, "\n"))), bodyIndent)...)
}
