package render

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

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
	mu    sync.Mutex
	w     io.Writer
	r     *renderer
	place placer
	calls map[int64]*call
	// recent are the calls that are not open streams, oldest first: they
	// are forgotten once recentCalls newer ones came, so memory stays flat
	// however long the recording.
	recent []int64
	// fixed is the placement of the one call RenderCall shows.
	fixed *Call
	err   error
	// buf holds a line's output while it is written.
	buf []byte
}

// recentCalls is how many finished calls Live remembers, for the audit
// lines that come after them (within seconds of the call).
const recentCalls = 4096

// call is what a view knows of one call while its lines come.
type call struct {
	// x is the call's exchange line; nil for lines of an exchange the
	// view never saw.
	x      *record.Exchange
	seq    int64
	number int64
	origin time.Time
	// shown is false for calls the view hides (kubewire's own).
	shown bool
	// open is true for a stream whose end has not come.
	open   bool
	counts map[string]int
	// columns are the column definitions of a Table watch: the server
	// sends them with the first event only.
	columns *doc.Node
}

// placer numbers the calls a view shows, 1, 2, 3... without gaps (the
// file's sequence numbers also count kubewire's own hidden calls), and
// keeps its time origin: the start of the earliest call shown so far.
type placer struct {
	showOwn bool
	next    int64
	origin  time.Time
}

// place says whether x is shown, its number and the origin it is timed
// from.
func (p *placer) place(x *record.Exchange) (shown bool, number int64, origin time.Time) {
	if x.Background() && !p.showOwn {
		return false, 0, time.Time{}
	}
	if p.origin.IsZero() || x.Start.Before(p.origin) {
		p.origin = x.Start
	}
	p.next++
	return true, p.next, p.origin
}

// NewLive returns a Live that writes to w.
func NewLive(w io.Writer, o Options) *Live {
	return &Live{w: w, r: newRenderer(o), place: placer{showOwn: o.ShowOwn}, calls: map[int64]*call{}}
}

// Put renders one recording line.
func (l *Live) Put(line record.Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.render(line)
	if len(out) == 0 || l.err != nil {
		return
	}
	l.write(out)
}

func (l *Live) write(out []string) {
	b := l.buf[:0]
	for _, line := range out {
		b = append(append(b, line...), '\n')
	}
	if _, err := l.w.Write(b); err != nil {
		l.err = fmt.Errorf("write output: %w", err)
	}
	if cap(b) <= 1<<20 {
		// Kept for the next line, unless a big body made it big.
		l.buf = b
	}
}

// Note writes a line of kubewire's own between the calls (the live view
// fell behind and skipped some), dimmed.
func (l *Live) Note(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.write([]string{l.r.st.Dim.Render(text)})
	}
}

// Close reports the streams that never ended (a recording cut short, a
// trace stopped) and returns the first write error.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var open []*call
	for _, c := range l.calls {
		if c.open && c.shown {
			open = append(open, c)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].seq < open[j].seq })
	var out []string
	for _, c := range open {
		out = append(out, l.r.pack([]string{l.r.label(c), l.r.st.Dim.Render(SymStream + " still open when the trace ended"),
			l.r.st.Dim.Render(l.r.counts(c))}, blockIndent)...)
		c.open = false
	}
	if len(out) > 0 && l.err == nil {
		l.write(out)
	}
	return l.err
}

// callOf returns the call a line belongs to, remembering a new exchange.
func (l *Live) callOf(line record.Line) *call {
	if line.Type == record.TypeExchange {
		x := line.Exchange
		c := &call{x: x, seq: x.Seq}
		if f := l.fixed; f != nil && f.Seq == x.Seq {
			c.shown, c.number, c.origin = true, f.Number, f.Origin
		} else if l.fixed == nil {
			c.shown, c.number, c.origin = l.place.place(x)
			c.shown = c.shown && (l.r.o.Show == nil || l.r.o.Show(x))
		}
		c.open = x.Response != nil && x.Response.Stream
		l.calls[x.Seq] = c
		return c
	}
	if c := l.calls[line.Seq]; c != nil {
		return c
	}
	// A line of an exchange the view never saw (or forgot): it has no
	// number ("#?").
	return &call{seq: line.Seq, shown: l.fixed == nil}
}

// remember keeps a finished call for its later lines, forgetting the
// oldest beyond recentCalls.
func (l *Live) remember(seq int64) {
	if c := l.calls[seq]; c != nil {
		// Its later lines (an audit event) need only its number.
		c.x, c.counts, c.columns = nil, nil, nil
	}
	l.recent = append(l.recent, seq)
	if len(l.recent) > recentCalls {
		old := l.recent[0]
		l.recent = l.recent[1:]
		if c := l.calls[old]; c != nil && !c.open {
			delete(l.calls, old)
		}
	}
}

func (l *Live) render(line record.Line) []string {
	r := l.r
	c := l.callOf(line)
	if !c.shown {
		// Hidden, but remembered like the others, and forgotten in turn.
		if line.Type == record.TypeExchange && !c.open || line.Type == record.TypeEnd && c.open {
			c.open = false
			l.remember(c.seq)
		}
		return nil
	}
	switch line.Type {
	case record.TypeExchange:
		out := r.exchange(c)
		if !c.open {
			l.remember(c.seq)
		}
		return out
	case record.TypeEvent:
		if c.counts == nil {
			c.counts = map[string]int{}
		}
		c.counts[line.Event.Type]++
		// One line per event at every level: a watch is its events.
		return r.event(c, line.Event)
	case record.TypeEnd:
		out := r.end(c, line.End)
		if c.open {
			c.open = false
			l.remember(c.seq)
		}
		return out
	case record.TypeAudit:
		if r.o.Detail < LevelJourney || line.Audit == nil {
			return nil
		}
		return r.wrapHang(r.auditText(line.Audit), r.label(c)+" "+r.st.Key.Render("audit log")+" ", blockIndent)
	}
	return nil
}

// Replay renders the recording read from rd as Live would have shown it,
// line by line, without holding it in memory. It returns the reader's
// error (FILE:LINE) after rendering everything before the bad line.
// rd is read ahead of the rendering, on another core (see ahead), and the
// output buffered, flushed whenever rd has nothing more yet.
func Replay(w io.Writer, rd record.LineSource, o Options) error {
	out := newOutput(w)
	l := NewLive(out, o)
	src := readAhead(rd, nil)
	for {
		line, _, err := src.Next(out.flush)
		if err != nil {
			cerr := l.Close()
			if out.flush(); cerr == nil && out.err != nil {
				cerr = fmt.Errorf("write output: %w", out.err)
			}
			switch {
			case cerr != nil:
				return cerr
			case err == io.EOF:
				return nil
			}
			return err
		}
		l.Put(line)
	}
}
