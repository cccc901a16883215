package tui

import (
	"bytes"
	"io"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/sample"
)

// Until the recording is read the screen says so; q still quits.
func TestLoading(t *testing.T) {
	s := &screen{t: t, m: newModel(sampleSource(t), sampleConfig())}
	s.resize(80, 24)
	s.press("j", "/", "e")
	s.shows("reading kubewire sample session…", "reading…")
	s.hides("filter:")
	s.press("q")
	if !s.quit {
		t.Error("q did not quit while reading")
	}
}

// A recording with a bad line shows the calls before it, and says why
// it stops there.
func TestBadRecording(t *testing.T) {
	data, err := io.ReadAll(sample.Open())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	damaged := strings.Join(lines[:12], "") + "{\"type\":\"exchange\",\n"
	rd, err := record.NewReader(bytes.NewReader([]byte(damaged)), "class.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	s := &screen{t: t, m: newModel(annotate.ForRecordings().Lines(rd), Config{Name: "class.jsonl"})}
	s.resize(100, 24)
	s.run(s.m.Init())
	s.shows("class.jsonl · call 1 of", "reading stopped: class.jsonl:13: ")
	if n := len(s.listed()); n == 0 {
		t.Error("no call of the lines before the bad one is listed")
	}
	if m := s.m.(model); m.loadErr == nil {
		t.Error("the model keeps no error for Run to return")
	}
}

// The model answers only the latest request of each kind: an index made
// for an earlier o is dropped.
func TestStaleWorkIsDropped(t *testing.T) {
	s := start(t, 100, 30, sampleConfig())
	m := s.m.(model)
	stale := indexCmd(m.indexReq-1, m.lines, true, m.common.cfg.Options)()
	s.send(stale)
	s.hides("own calls shown", "⚙")
	s.shows("call 1 of 37")
	s.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	s.shows("call 1 of 37")
}

// Work answered out of order ends as asked: a filter applied while the
// calls are indexed again for o applies to the new index, and the answer
// computed from the old one is dropped.
func TestWorkOutOfOrder(t *testing.T) {
	s := start(t, 100, 30, sampleConfig())
	// Each key's command is held, not run.
	held := func(keys ...string) []tea.Cmd {
		var cmds []tea.Cmd
		for _, k := range keys {
			m, cmd := s.m.Update(keyPress(t, k))
			s.m = m
			cmds = append(cmds, cmd)
		}
		return cmds
	}
	index := held("o")[0]
	s.shows("indexing…")
	filterOld := held("/", "d", "e", "n", "i", "e", "d", "enter")[7]
	s.shows("filter denied", "indexing…")
	s.run(index)     // the new index, then the filter on it
	s.run(filterOld) // the filter on the old index: dropped
	if got, want := s.listed(), []string{"#28", "#33"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("with kubewire's own calls, denied lists %v, want %v", got, want)
	}
	s.shows("own calls shown", "filter denied")
	s.hides("indexing…", "filtering…")
}
