package live

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// stuckView is a live view whose terminal is not read until released.
type stuckView struct {
	gate  chan struct{}
	mu    sync.Mutex
	lines []record.Line
	notes []string
}

func (v *stuckView) Put(l record.Line) {
	<-v.gate
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lines = append(v.lines, l)
}

func (v *stuckView) Note(text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.notes = append(v.notes, text)
}

// A view that cannot keep up never holds the lines back: it skips whole
// calls, and says how many once it can.
func TestLiveViewSkipsCallsRatherThanWait(t *testing.T) {
	view := &stuckView{gate: make(chan struct{})}
	v := newLagView(view, true)
	const calls = 3 * viewQueue
	for i := range calls {
		seq := int64(i + 1)
		// A stream of two events and an end, or a plain call.
		v.Put(record.Line{Type: record.TypeExchange, Seq: seq, Exchange: &record.Exchange{Seq: seq}})
		if i%2 == 0 {
			v.Put(record.Line{Type: record.TypeEvent, Seq: seq, Event: &record.Event{Type: "ADDED"}})
			v.Put(record.Line{Type: record.TypeEnd, Seq: seq, End: &record.End{}})
		}
	}
	close(view.gate) // every Put above returned with the view stuck
	if err := v.close(); err != nil {
		t.Fatal(err)
	}

	drawn := map[int64]bool{}
	for _, l := range view.lines {
		if l.Type == record.TypeExchange {
			drawn[l.Seq] = true
		} else if !drawn[l.Seq] {
			t.Fatalf("#%d: a %s line drawn without its call", l.Seq, l.Type)
		}
	}
	if len(view.notes) != 1 {
		t.Fatalf("notes: %q", view.notes)
	}
	want := fmt.Sprintf("skipped %d calls", calls-len(drawn))
	if !strings.Contains(view.notes[0], want) || !strings.Contains(view.notes[0], "the recording has them all") {
		t.Errorf("note %q; want it to say %q", view.notes[0], want)
	}
	if len(drawn) == 0 || len(drawn) == calls {
		t.Errorf("%d of %d calls drawn: the view should draw what it could and skip the rest", len(drawn), calls)
	}
}

// A view nobody reads does not keep kubewire from exiting.
func TestLiveViewCloseGivesUpOnAStuckTerminal(t *testing.T) {
	view := &stuckView{gate: make(chan struct{})}
	defer close(view.gate)
	v := newLagView(view, false)
	v.drain = 100 * time.Millisecond
	v.Put(record.Line{Type: record.TypeExchange, Seq: 1, Exchange: &record.Exchange{Seq: 1}})
	v.Put(record.Line{Type: record.TypeExchange, Seq: 2, Exchange: &record.Exchange{Seq: 2}})
	err := v.close()
	if err == nil || !strings.Contains(err.Error(), "not being read") {
		t.Fatalf("close with the view stuck: %v", err)
	}
}
