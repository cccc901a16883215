package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// The work that can take long with a big recording — reading it, indexing
// it, filtering and searching its calls — runs in these commands, off the
// event loop; each answers with a message. A message carries the number
// of the request it answers, and the model keeps only the answer to its
// latest request of each kind.

// loadedMsg is the recording, read to its end or to a bad line.
type loadedMsg struct {
	lines []record.Line
	// err is why the recording could not be read to its end; lines are
	// those before the bad one.
	err error
}

func loadCmd(src record.LineSource) tea.Cmd {
	return func() tea.Msg {
		lines, err := readLines(src)
		return loadedMsg{lines: lines, err: err}
	}
}

// indexedMsg is the recording's calls, with or without kubewire's own.
type indexedMsg struct {
	req     int
	showOwn bool
	items   []item
}

// summaryWidth is wide enough that no call's line wraps: the list cuts it
// to the pane instead.
const summaryWidth = 4096

func indexCmd(req int, lines []record.Line, showOwn bool, o render.Options) tea.Cmd {
	return func() tea.Msg {
		calls := indexLines(lines, showOwn).Calls()
		o.Detail, o.Width, o.ShowOwn, o.Show = render.LevelLine, summaryWidth, showOwn, nil
		items := make([]item, len(calls))
		for i, c := range calls {
			line, _, _ := strings.Cut(c.Render(o), "\n")
			items[i] = item{call: c, line: line, plain: ansi.Strip(line), bad: isBad(c.Exchange)}
		}
		return indexedMsg{req: req, showOwn: showOwn, items: items}
	}
}

// filteredMsg is the calls a filter picked.
type filteredMsg struct {
	req   int
	shown []item
}

func filterCmd(req int, items []item, f *filter.Filter) tea.Cmd {
	return func() tea.Msg {
		shown := make([]item, 0, len(items))
		for _, it := range items {
			if f.Match(it.call.Exchange) {
				shown = append(shown, it)
			}
		}
		return filteredMsg{req: req, shown: shown}
	}
}

// searchedMsg is the calls whose text holds the query.
type searchedMsg struct {
	req int
	// seqs are the matching calls' sequence numbers.
	seqs map[int64]bool
}

// searchCmd finds the calls whose text, as the detail pane shows it at
// level, holds query, ignoring case.
func searchCmd(req int, items []item, query string, o render.Options) tea.Cmd {
	return func() tea.Msg {
		o.Color, o.Width, o.Show = false, summaryWidth, nil
		q := strings.ToLower(query)
		seqs := map[int64]bool{}
		for _, it := range items {
			if strings.Contains(strings.ToLower(it.call.Render(o)), q) {
				seqs[it.call.Seq] = true
			}
		}
		return searchedMsg{req: req, seqs: seqs}
	}
}
