package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubewire/kubewire/render"
)

// detailModel is the pane of the selected call, rendered by Call.Render at
// the chosen detail level, exactly as the replay shows it, in a viewport
// that scrolls.
type detailModel struct {
	common *common
	vp     viewport.Model
	call   *render.Call
	// shown is what the viewport holds.
	shown renderKey
	// query is the search to scroll to when a call is shown.
	query   string
	width   int
	focused bool
	// titled is false in the large mode, where the list's header stands
	// above the detail instead of a title.
	titled bool
}

// renderKey is what a call's rendering depends on.
type renderKey struct {
	call  *render.Call
	level render.Level
	width int
	large bool
}

func newDetail(c *common) detailModel {
	vp := viewport.New()
	// The detail's keys are the replay's (keys.go), handled in update.
	vp.KeyMap = viewport.KeyMap{}
	return detailModel{common: c, vp: vp, titled: true}
}

// setSize gives the pane width columns and height lines, its title
// included.
func (d *detailModel) setSize(width, height int, titled bool) {
	d.width, d.titled = width, titled
	if titled {
		height--
	}
	d.vp.SetWidth(width)
	d.vp.SetHeight(max(height, 1))
	d.refresh()
}

// setCall shows c (nil for none).
func (d *detailModel) setCall(c *render.Call) {
	d.call = c
	d.refresh()
}

// refresh renders the call again when what it depends on changed; a new
// call is shown from its top, or from the first line the search finds.
func (d *detailModel) refresh() {
	k := renderKey{call: d.call, level: d.common.level, width: d.vp.Width(), large: d.common.large}
	if k == d.shown {
		return
	}
	var text string
	if d.call != nil {
		text = strings.TrimRight(d.call.Render(d.common.renderOptions(k.width)), "\n")
		if k.large {
			text = undim(text)
		}
	}
	newCall := k.call != d.shown.call
	d.shown = k
	d.vp.SetContent(text)
	if newCall {
		d.vp.GotoTop()
		d.scrollToQuery()
	}
}

// scrollToQuery scrolls to the first line holding the search query.
func (d *detailModel) scrollToQuery() {
	if d.query == "" {
		return
	}
	q := strings.ToLower(d.query)
	for i, line := range strings.Split(d.vp.GetContent(), "\n") {
		if strings.Contains(strings.ToLower(ansi.Strip(line)), q) {
			d.vp.SetYOffset(i)
			return
		}
	}
}

// setQuery is the search the pane scrolls to.
func (d *detailModel) setQuery(q string) {
	d.query = q
	d.scrollToQuery()
}

// update scrolls; it reports whether the key was a move.
func (d detailModel) update(msg tea.KeyPressMsg) (detailModel, bool) {
	k := d.common.keys
	switch {
	case key.Matches(msg, k.Up):
		d.vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		d.vp.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		d.vp.PageUp()
	case key.Matches(msg, k.PageDown):
		d.vp.PageDown()
	case key.Matches(msg, k.Home):
		d.vp.GotoTop()
	case key.Matches(msg, k.End):
		d.vp.GotoBottom()
	default:
		return d, false
	}
	return d, true
}

// position says which lines are on screen: "lines 1-13 of 17".
func (d detailModel) position() string {
	total := d.vp.TotalLineCount()
	if total == 0 {
		return ""
	}
	first := d.vp.YOffset() + 1
	last := min(d.vp.YOffset()+d.vp.Height(), total)
	return fmt.Sprintf("lines %d-%d of %d", first, last, total)
}

// title names the call and the level; the focused pane's rule is double.
func (d detailModel) title() string {
	st := d.common.styles
	rule, style := "─", st.Title
	if d.focused {
		rule, style = "═", st.FocusedTitle
	}
	text := "no call"
	if d.call != nil {
		text = fmt.Sprintf("#%d · %s · %s", d.call.Number, d.common.level, d.position())
	}
	if d.focused {
		text += " · scrolling"
	}
	head := rule + rule + " " + text + " "
	head = ansi.Truncate(head, d.width, "…")
	return style.Render(head + strings.Repeat(rule, max(d.width-ansi.StringWidth(head), 0)))
}

func (d detailModel) view() string {
	body := d.vp.View()
	if d.call == nil {
		body = fit(nil, d.width, d.vp.Height())
	}
	if !d.titled {
		return body
	}
	return d.title() + "\n" + body
}
