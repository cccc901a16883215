package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/doc"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// Each call rendered on its own is what the full replay shows of it: its
// lines come in the same order, and all calls together are the full
// replay, line for line.
func TestCallsRenderAsTheFullReplay(t *testing.T) {
	for _, name := range recordingNames(t) {
		for _, showOwn := range []bool{false, true} {
			for lvl := LevelLine; lvl <= LevelBodies; lvl++ {
				t.Run(fmt.Sprintf("%s/%s/own=%v", name, lvl, showOwn), func(t *testing.T) {
					o := Options{Width: 100, Detail: lvl, ShowOwn: showOwn}
					full := strings.Split(strings.TrimSuffix(replayFile(t, name, o), "\n"), "\n")
					var all []string
					for _, c := range indexFile(t, name, showOwn).Calls() {
						lines := strings.Split(strings.TrimSuffix(c.Render(o), "\n"), "\n")
						if !subsequence(lines, full) {
							t.Fatalf("call %d is not shown as in the full replay:\n%s", c.Number, strings.Join(lines, "\n"))
						}
						all = append(all, lines...)
					}
					sort.Strings(all)
					sort.Strings(full)
					if strings.Join(all, "\n") != strings.Join(full, "\n") {
						t.Errorf("the calls together are not the full replay: %d lines against %d", len(all), len(full))
					}
				})
			}
		}
	}
}

func indexFile(t *testing.T, name string, showOwn bool) *Index {
	t.Helper()
	f, err := os.Open(filepath.Join(recordings, name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := record.NewReader(f, name)
	if err != nil {
		t.Fatal(err)
	}
	src := annotate.ForRecordings().Lines(rd)
	ix := NewIndex(showOwn)
	for {
		line, err := src.Next()
		if err == io.EOF {
			return ix
		}
		if err != nil {
			t.Fatal(err)
		}
		ix.Add(line)
	}
}

// subsequence reports whether sub's lines appear in full in order.
func subsequence(sub, full []string) bool {
	i := 0
	for _, l := range full {
		if i < len(sub) && l == sub[i] {
			i++
		}
	}
	return i == len(sub)
}

// Written one exchange at a time, machine output is the same document as
// the whole list encoded at once.
func TestMachineOutputStreams(t *testing.T) {
	rec, err := annotate.ForRecordings().ReadFile(filepath.Join(recordings, "exec.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, xs := range [][]*record.Exchange{rec.Exchanges, rec.Exchanges[:1], nil} {
		whole, err := json.MarshalIndent(append([]*record.Exchange{}, xs...), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteMachine(&got, xs, "json"); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(whole)+"\n" {
			t.Errorf("json of %d exchanges differs from the whole list encoded at once", len(xs))
		}
		wantYAML, err := doc.ToYAML(whole)
		if err != nil {
			t.Fatal(err)
		}
		got.Reset()
		if err := WriteMachine(&got, xs, "yaml"); err != nil {
			t.Fatal(err)
		}
		if got.String() != wantYAML {
			t.Errorf("yaml of %d exchanges differs:\n%s\nwant\n%s", len(xs), got.String(), wantYAML)
		}
	}
}

// Live remembers a bounded number of finished calls, shown or hidden.
func TestLiveForgetsFinishedCalls(t *testing.T) {
	l := NewLive(io.Discard, Options{})
	for i := int64(1); i <= 3*recentCalls; i++ {
		x := &record.Exchange{Seq: i, Response: &record.Response{Status: 200}}
		if i%2 == 0 {
			x.Own, x.OwnBy = true, record.OwnByProxy // hidden
		}
		l.Put(record.Line{Type: record.TypeExchange, Seq: i, Exchange: x})
	}
	if n := len(l.calls); n > recentCalls {
		t.Errorf("Live remembers %d calls, want at most %d", n, recentCalls)
	}
}

// A filtered replay is the full replay's matching calls, numbered and
// timed as in the full replay.
func TestFilteredReplayIsTheMatchingCalls(t *testing.T) {
	for _, expr := range []string{"denied or status>=400", "watch", "write", "not kind=discovery", "exec"} {
		f, err := filter.Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range recordingNames(t) {
			t.Run(name+"/"+expr, func(t *testing.T) {
				o := Options{Width: 100, Detail: LevelJourney}
				var want strings.Builder
				for _, c := range indexFile(t, name, false).Calls() {
					if f.Match(c.Exchange) {
						want.WriteString(c.Render(o))
					}
				}
				o.Show = f.Match
				got := replayFile(t, name, o)
				// The full replay interleaves calls; so may the filtered one.
				if sortedLines(got) != sortedLines(want.String()) {
					t.Errorf("filtered replay:\n%s\nwant the matching calls:\n%s", got, want.String())
				}
			})
		}
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// What a teacher filters for, pinned.
func TestFilteredReplay(t *testing.T) {
	for _, tc := range []struct{ golden, recording, expr string }{
		{"status-errors", "status", "4xx"},
		{"watch-events", "watch-json", "watch"},
		{"exec-streams", "exec", "exec"},
		{"denied", "denied", `denied or "forbidden"`},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			f, err := filter.Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, replayFile(t, tc.recording, Options{Width: 100, Detail: LevelJourney, Show: f.Match}))
		})
	}
}
