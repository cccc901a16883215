package render

import (
	"bytes"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// Call is one call of a recording: its lines in the order they came (the
// exchange line, then its events, end and audit lines), and where a view
// of the whole recording placed it. A view that shows calls one at a time
// or filtered (the step-through replay) renders each with Render and gets
// exactly what the full replay shows for it.
type Call struct {
	// Seq is the exchange's sequence number in the file.
	Seq int64
	// Number is the number views show for the call.
	Number int64
	// Origin is the time the call is timed from: the start of the
	// earliest call shown up to it.
	Origin time.Time
	// Exchange is the call's exchange line as recorded.
	Exchange *record.Exchange
	// Lines are all the call's lines.
	Lines []record.Line
}

// Index splits a recording's lines into the calls a view shows, numbered
// and timed as Live numbers and times them (with Options.ShowOwn deciding
// whether kubewire's own calls count).
type Index struct {
	place placer
	calls []*Call
	bySeq map[int64]*Call
}

// NewIndex returns an empty Index; showOwn is Options.ShowOwn.
func NewIndex(showOwn bool) *Index {
	return &Index{place: placer{showOwn: showOwn}, bySeq: map[int64]*Call{}}
}

// Add files one line under its call. Lines of calls the view hides, and
// of exchanges the recording does not hold, are dropped.
func (ix *Index) Add(line record.Line) {
	if line.Type == record.TypeExchange {
		shown, number, origin := ix.place.place(line.Exchange)
		if !shown {
			return
		}
		c := &Call{Seq: line.Seq, Number: number, Origin: origin, Exchange: line.Exchange}
		ix.calls = append(ix.calls, c)
		ix.bySeq[line.Seq] = c
	}
	if c := ix.bySeq[line.Seq]; c != nil {
		c.Lines = append(c.Lines, line)
	}
}

// Calls returns the calls shown, in the order their requests arrived.
func (ix *Index) Calls() []*Call { return ix.calls }

// Render renders the call as Live showed it: its lines, and the note that
// a stream never ended when the recording has no end line for it.
func (c *Call) Render(o Options) string {
	var b bytes.Buffer
	l := NewLive(&b, o)
	l.fixed = c
	for _, line := range c.Lines {
		l.Put(line)
	}
	_ = l.Close()
	return b.String()
}
