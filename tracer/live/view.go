package live

import (
	"fmt"
	"sync"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// The live view draws on a terminal, which may be slow, paused (Ctrl-S, a
// pager not being read) or gone. It must never hold the recording back, and
// the recording never holds traffic back: so the view gets its lines
// through a bounded queue of its own, drawn by its own goroutine. When the
// queue is full the view skips calls, and says how many once it catches
// up; the recording has them all.

// viewQueue is how many lines the live view may fall behind.
const viewQueue = 4096

// viewDrain bounds how long closing waits for the view to draw what is
// queued: a terminal nobody reads must not keep kubewire from exiting.
const viewDrain = 5 * time.Second

// noter is a view that can show a line of kubewire's own (render.Live).
type noter interface{ Note(text string) }

// viewItem is a line for the view, or a note.
type viewItem struct {
	line record.Line
	note string
}

// lagView is a record.Sink in front of the live view.
type lagView struct {
	view      record.Sink
	recording bool // whether a recording keeps what the view skips

	items chan viewItem
	done  chan struct{}
	drain time.Duration // viewDrain

	mu     sync.Mutex
	closed bool
	// skipping holds the calls whose lines are being skipped; calls and
	// events count what was skipped since the view last caught up.
	skipping map[int64]bool
	calls    int
	events   int
}

func newLagView(view record.Sink, recording bool) *lagView {
	v := &lagView{view: view, recording: recording, items: make(chan viewItem, viewQueue),
		done: make(chan struct{}), drain: viewDrain, skipping: map[int64]bool{}}
	go v.loop()
	return v
}

func (v *lagView) loop() {
	defer close(v.done)
	for it := range v.items {
		if it.note != "" {
			if n, ok := v.view.(noter); ok {
				n.Note(it.note)
			}
			continue
		}
		v.view.Put(it.line)
	}
}

// Put queues a line for the view, or skips it when the view is behind; it
// never waits.
func (v *lagView) Put(l record.Line) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	if v.skipping[l.Seq] {
		v.skip(l)
		return
	}
	if v.calls+v.events > 0 {
		// Caught up enough to say what was skipped, and to go on.
		select {
		case v.items <- viewItem{note: v.skippedNote()}:
			v.calls, v.events = 0, 0
		default:
			v.skip(l)
			return
		}
	}
	select {
	case v.items <- viewItem{line: l}:
	default:
		v.skip(l)
	}
}

// skip leaves a line out of the view: a call's exchange line leaves out
// the whole call.
func (v *lagView) skip(l record.Line) {
	switch l.Type {
	case record.TypeExchange:
		if !v.skipping[l.Seq] {
			v.calls++
		}
		if len(v.skipping) >= 2*viewQueue {
			// Forget the oldest skipped calls: what comes of them later
			// (an audit line) is drawn as a call the view never saw.
			clear(v.skipping)
		}
		v.skipping[l.Seq] = true
	case record.TypeEvent:
		if !v.skipping[l.Seq] {
			v.events++
		}
	case record.TypeEnd:
		delete(v.skipping, l.Seq)
	}
}

func (v *lagView) skippedNote() string {
	what := fmt.Sprintf("%d calls", v.calls)
	switch {
	case v.calls == 1:
		what = "1 call"
	case v.calls == 0:
		what = ""
	}
	if v.events > 0 {
		if what != "" {
			what += " and "
		}
		what += fmt.Sprintf("%d events of streams shown", v.events)
	}
	where := "record with --record to keep every call"
	if v.recording {
		where = "the recording has them all"
	}
	return fmt.Sprintf("kubewire: the live view fell behind and skipped %s, so as not to slow the traffic; %s", what, where)
}

// close lets the view draw what is queued, waiting at most viewDrain, and
// says whether it finished.
func (v *lagView) close() error {
	end := time.Now().Add(v.drain)
	v.mu.Lock()
	if !v.closed {
		v.closed = true
		if v.calls+v.events > 0 {
			// Put takes the lock too, but nothing is put after closed.
			select {
			case v.items <- viewItem{note: v.skippedNote()}:
			case <-time.After(time.Until(end)):
			}
		}
		close(v.items)
	}
	v.mu.Unlock()
	select {
	case <-v.done:
		return nil
	case <-time.After(time.Until(end)):
		return fmt.Errorf("the live view's output was not being read: kubewire stopped drawing it (%d lines not drawn)", len(v.items))
	}
}
