package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// listModel is the pane of calls: one line each, the selected one marked
// with ">" (and in reverse video).
type listModel struct {
	common *common
	items  []item
	cursor int
	// offset is the first call on screen.
	offset int
	width  int
	height int
}

func newList(c *common) listModel { return listModel{common: c} }

// selected returns the selected call, or nil when the list is empty.
func (l listModel) selected() *item {
	if l.cursor < 0 || l.cursor >= len(l.items) {
		return nil
	}
	return &l.items[l.cursor]
}

// setItems shows items, keeping the selection on the call of sequence
// number seq or, when it is gone, on the first call after it.
func (l *listModel) setItems(items []item, seq int64) {
	l.items = items
	l.cursor = len(items) - 1
	for i, it := range items {
		if it.call.Seq >= seq {
			l.cursor = i
			break
		}
	}
	l.cursor = max(l.cursor, 0)
	l.scroll()
}

func (l *listModel) setSize(width, height int) {
	l.width, l.height = width, max(height, 1)
	l.scroll()
}

// selectIndex moves the selection to call i of the list.
func (l *listModel) selectIndex(i int) {
	if len(l.items) == 0 {
		return
	}
	l.cursor = min(max(i, 0), len(l.items)-1)
	l.scroll()
}

// scroll keeps the selected call on screen.
func (l *listModel) scroll() {
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+l.height {
		l.offset = l.cursor - l.height + 1
	}
	l.offset = max(min(l.offset, len(l.items)-l.height), 0)
}

// update moves the selection; it reports whether the key was a move.
func (l listModel) update(msg tea.KeyPressMsg) (listModel, bool) {
	k := l.common.keys
	switch {
	case key.Matches(msg, k.Up):
		l.selectIndex(l.cursor - 1)
	case key.Matches(msg, k.Down):
		l.selectIndex(l.cursor + 1)
	case key.Matches(msg, k.PageUp):
		l.selectIndex(l.cursor - l.height)
	case key.Matches(msg, k.PageDown):
		l.selectIndex(l.cursor + l.height)
	case key.Matches(msg, k.Home):
		l.selectIndex(0)
	case key.Matches(msg, k.End):
		l.selectIndex(len(l.items) - 1)
	default:
		return l, false
	}
	return l, true
}

// line is call i's line, cut to the pane.
func (l listModel) line(i int) string {
	st := l.common.styles
	it := l.items[i]
	if i == l.cursor {
		return st.Selected.Render(pad(ansi.Truncate("> "+it.plain, l.width, "…"), l.width))
	}
	return ansi.Truncate("  "+it.line, l.width, "…")
}

func (l listModel) view() string {
	if len(l.items) == 0 {
		return fit([]string{"  no call to show"}, l.width, l.height)
	}
	var out []string
	for i := l.offset; i < len(l.items) && i < l.offset+l.height; i++ {
		out = append(out, l.line(i))
	}
	return fit(out, l.width, l.height)
}

// headerView is the large mode's list: the selected call's line alone.
func (l listModel) headerView() string {
	it := l.selected()
	if it == nil {
		return fit([]string{"no call to show"}, l.width, 1)
	}
	return l.common.styles.Header.Render(pad(ansi.Truncate(it.plain, l.width, "…"), l.width))
}

// fit makes lines a block of exactly height lines of width columns: cut,
// padded with spaces and with empty lines.
func fit(lines []string, width, height int) string {
	out := make([]string, 0, height)
	for _, s := range lines {
		if len(out) == height {
			break
		}
		out = append(out, pad(ansi.Truncate(s, width, "…"), width))
	}
	for len(out) < height {
		out = append(out, strings.Repeat(" ", width))
	}
	return strings.Join(out, "\n")
}

// pad fills s with spaces to width columns.
func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(width-ansi.StringWidth(s), 0))
}
