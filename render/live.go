package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/record"
)

// Live renders recording lines as they arrive; it is a record.Sink. An
// exchange line prints the call at the chosen detail; a stream's event
// lines print one line per event, its end line a summary;
// an audit line the server's audit decision (from detail 1). Put may be
// called from several goroutines: each line's output is written whole,
// with one Write, so calls never interleave.
type Live struct {
	mu      sync.Mutex
	w       io.Writer
	r       *renderer
	streams map[int64]*stream
	own     map[int64]bool // kubewire's own calls, hidden unless ShowOwn
	err     error
}

// stream is what Live remembers about an open stream.
type stream struct {
	x      *record.Exchange
	counts map[string]int
	// columns are the column definitions of a Table watch: the server
	// sends them with the first event only.
	columns *doc.Node
}

// NewLive returns a Live that writes to w.
func NewLive(w io.Writer, o Options) *Live {
	return &Live{w: w, r: newRenderer(o), streams: map[int64]*stream{}, own: map[int64]bool{}}
}

// Put renders one recording line.
func (l *Live) Put(line record.Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if line.Type == record.TypeExchange && line.Exchange.Background() {
		l.own[line.Seq] = true
	}
	if l.own[line.Seq] && !l.r.o.ShowOwn {
		return
	}
	out := l.render(line)
	if len(out) == 0 || l.err != nil {
		return
	}
	if _, err := io.WriteString(l.w, strings.Join(out, "\n")+"\n"); err != nil {
		l.err = fmt.Errorf("write output: %w", err)
	}
}

// Close reports the streams that never ended (a recording cut short, a
// trace stopped) and returns the first write error.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	seqs := make([]int64, 0, len(l.streams))
	for s := range l.streams {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	var out []string
	for _, s := range seqs {
		out = append(out, l.r.pack([]string{l.r.seqLabel(s), l.r.st.Dim.Render(SymStream + " still open when the trace ended"),
			l.r.st.Dim.Render(l.r.counts(l.streams[s]))}, blockIndent)...)
	}
	l.streams = map[int64]*stream{}
	if len(out) > 0 && l.err == nil {
		if _, err := io.WriteString(l.w, strings.Join(out, "\n")+"\n"); err != nil {
			l.err = fmt.Errorf("write output: %w", err)
		}
	}
	return l.err
}

func (l *Live) render(line record.Line) []string {
	r := l.r
	switch line.Type {
	case record.TypeExchange:
		x := line.Exchange
		if r.origin.IsZero() || x.Start.Before(r.origin) {
			r.origin = x.Start
		}
		if x.Response != nil && x.Response.Stream {
			l.streams[x.Seq] = &stream{x: x, counts: map[string]int{}}
		}
		return r.exchange(x)
	case record.TypeEvent:
		s := l.streams[line.Seq]
		if s != nil {
			s.counts[line.Event.Type]++
		}
		// One line per event at every level: a watch is its events.
		return r.event(line.Seq, s, line.Event)
	case record.TypeEnd:
		s := l.streams[line.Seq]
		delete(l.streams, line.Seq)
		return r.end(line.Seq, s, line.End)
	case record.TypeAudit:
		if r.o.Detail < LevelJourney || line.Audit == nil {
			return nil
		}
		return r.wrapHang(r.auditText(line.Audit), r.seqLabel(line.Seq)+" "+r.st.Key.Render("audit log")+" ", blockIndent)
	}
	return nil
}

// counts lists a stream's events by type, e.g. "3 events: 1 ADDED, 2 MODIFIED".
func (r *renderer) counts(s *stream) string {
	if s == nil {
		return ""
	}
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
func (r *renderer) end(seq int64, s *stream, e *record.End) []string {
	st := r.st
	segs := []string{r.seqLabel(seq), st.Dim.Render(SymStream + " end")}
	if s != nil {
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
func (r *renderer) event(seq int64, s *stream, ev *record.Event) []string {
	st := r.st
	head := []string{r.seqLabel(seq), st.Dim.Render(SymStream + " " + fmt.Sprintf("+%.3fs", ev.OffsetMs/1000))}
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
		if s != nil && n != nil && n.Str("kind") == "Table" {
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
func (r *renderer) eventObject(evType string, n *doc.Node, s *stream) []string {
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
			if kind == "PartialObjectMetadata" && s != nil && s.x.Annotation.Resource != "" {
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

// Replay renders the recording read from rd as Live would have shown it,
// line by line, without holding it in memory. It returns the reader's
// error (FILE:LINE) after rendering everything before the bad line.
func Replay(w io.Writer, rd record.LineSource, o Options) error {
	l := NewLive(w, o)
	for {
		line, err := rd.Next()
		if err == io.EOF {
			return l.Close()
		}
		if err != nil {
			if cerr := l.Close(); cerr != nil {
				return cerr
			}
			return err
		}
		l.Put(line)
	}
}
