package recordtest

import (
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// Put never blocks, however many lines come while nobody waits, and
// WaitFor sees a line put after it started waiting.
func TestPutNeverBlocksAndWaitForSeesLaterLines(t *testing.T) {
	s := NewLines()
	for i := range 5000 {
		s.Put(record.Line{Type: record.TypeEvent, Seq: int64(i)})
	}
	go s.Put(record.Line{Type: record.TypeEnd, Seq: 5000})
	l := s.WaitFor(t, "the end line", 10*time.Second, func(l record.Line) bool { return l.Type == record.TypeEnd })
	if l.Seq != 5000 || len(s.Snapshot()) != 5001 {
		t.Fatalf("got line %+v of %d lines", l, len(s.Snapshot()))
	}
}
