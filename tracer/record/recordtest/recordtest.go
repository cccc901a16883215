// Package recordtest helps tests watch the lines a recorder produces.
package recordtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// Lines is a sink that keeps every line it is given, for tests to wait on.
// Put never blocks the recorder.
type Lines struct {
	mu    sync.Mutex
	lines []record.Line
	added chan struct{}
}

// NewLines returns an empty Lines.
func NewLines() *Lines { return &Lines{added: make(chan struct{}, 1)} }

// Put implements the recorder's sink.
func (s *Lines) Put(l record.Line) {
	s.mu.Lock()
	s.lines = append(s.lines, l)
	s.mu.Unlock()
	select {
	case s.added <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Snapshot returns the lines so far.
func (s *Lines) Snapshot() []record.Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Line(nil), s.lines...)
}

// WaitFor waits up to d for a line that ok accepts and returns it. If none
// comes it fails t, listing the lines it got.
func (s *Lines) WaitFor(t testing.TB, what string, d time.Duration, ok func(record.Line) bool) record.Line {
	t.Helper()
	deadline := time.After(d)
	for {
		for _, l := range s.Snapshot() {
			if ok(l) {
				return l
			}
		}
		select {
		case <-s.added:
		case <-deadline:
			got := s.Snapshot()
			t.Fatalf("no %s within %s; got %d lines:\n%s", what, d, len(got), describe(got))
			return record.Line{}
		}
	}
}

// describe lists lines one per line: an event's direction, type, channel
// and (short) body; otherwise the line's type and sequence number.
func describe(lines []record.Line) string {
	var b strings.Builder
	for _, l := range lines {
		if l.Type == record.TypeEvent && l.Event != nil {
			body := string(l.Event.Body.Data())
			if len(body) > 80 {
				body = body[:80] + "…"
			}
			fmt.Fprintf(&b, "  #%d event %s %s %q %q\n", l.Seq, l.Event.Direction, l.Event.Type, l.Event.Channel, body)
			continue
		}
		fmt.Fprintf(&b, "  #%d %s\n", l.Seq, l.Type)
	}
	return b.String()
}
