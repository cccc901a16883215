package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// state is what the screen is doing; it decides which sub-model a key
// goes to.
type state int

const (
	// stateLoading: the recording is being read and indexed.
	stateLoading state = iota
	// stateBrowse: the list or the detail, whichever has the focus, takes
	// the keys.
	stateBrowse
	// statePrompt: the filter or search input takes the keys.
	statePrompt
)

// focus is the pane the moving keys move.
type focus int

const (
	focusList focus = iota
	focusDetail
)

// The smallest screen laid out; below it the screen says it is too small.
const (
	minWidth  = 40
	minHeight = 10
	// wideWidth is where the detail goes beside the list.
	wideWidth = 140
)

// model is the step-through replay's top model: it holds the recording's
// calls and routes each message by state to the list, the detail or the
// input.
type model struct {
	common *common
	state  state
	focus  focus
	list   listModel
	detail detailModel
	prompt promptModel
	help   help.Model

	src     record.LineSource
	lines   []record.Line
	loadErr error
	// items are the calls of the view: every call, or without
	// kubewire's own.
	items   []item
	showOwn bool
	filter  *filter.Filter
	// filterExpr is the filter as typed, to edit again.
	filterExpr string
	// query is the search; matches the calls whose text holds it, once
	// found.
	query   string
	matches map[int64]bool
	// announce: the search was just asked for, so its answer says how many
	// calls match and selects the first.
	announce bool
	// The latest request of each kind of work, and the latest answered:
	// older answers are dropped.
	indexReq, filterReq, searchReq    int
	indexDone, filterDone, searchDone int
	// note is a passing message, until the next key; problem marks it as
	// an error.
	note    string
	problem bool
}

func newModel(src record.LineSource, cfg Config) model {
	c := &common{cfg: cfg, level: cfg.Options.Detail, keys: newKeyMap(), styles: newStyles(cfg.Options)}
	h := help.New()
	h.Styles = c.styles.Help
	h.ShortSeparator = "  "
	m := model{
		common:  c,
		list:    newList(c),
		detail:  newDetail(c),
		prompt:  newPrompt(c),
		help:    h,
		src:     src,
		showOwn: cfg.Options.ShowOwn,
		filter:  cfg.Filter,
	}
	m.filterExpr = m.filter.String()
	return m
}

func (m model) Init() tea.Cmd { return loadCmd(m.src) }

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.common.width, m.common.height = msg.Width, msg.Height
	case loadedMsg:
		m.lines, m.loadErr = msg.lines, msg.err
		cmd = m.reindex(m.showOwn)
	case indexedMsg:
		if msg.req == m.indexReq {
			m.indexDone = msg.req
			m.items, m.showOwn = msg.items, msg.showOwn
			cmd = tea.Batch(m.refilter(), m.research())
		}
	case filteredMsg:
		if msg.req == m.filterReq {
			m.filterDone = msg.req
			m.showFiltered(msg)
		}
	case searchedMsg:
		if msg.req == m.searchReq {
			m.searchDone = msg.req
			m.showSearched(msg)
		}
	case tea.KeyPressMsg:
		m, cmd = m.handleKey(msg)
	default:
		if m.state == statePrompt {
			// A paste, for one.
			m.prompt, _, cmd = m.prompt.update(msg)
		}
	}
	m.layout()
	return m, cmd
}

// reindex indexes the recording again, with or without kubewire's own
// calls.
func (m *model) reindex(showOwn bool) tea.Cmd {
	m.indexReq++
	return indexCmd(m.indexReq, m.lines, showOwn, m.common.cfg.Options)
}

// refilter picks the calls the filter matches.
func (m *model) refilter() tea.Cmd {
	m.filterReq++
	return filterCmd(m.filterReq, m.items, m.filter)
}

// research looks for the search again, in calls whose text changed.
func (m *model) research() tea.Cmd {
	if m.query == "" {
		return nil
	}
	m.searchReq++
	return searchCmd(m.searchReq, m.items, m.query, m.common.renderOptions(summaryWidth))
}

// busy says what work is under way.
func (m model) busy() string {
	switch {
	case m.lines == nil && m.state == stateLoading:
		return "reading"
	case m.indexDone != m.indexReq:
		return "indexing"
	case m.filterDone != m.filterReq:
		return "filtering"
	case m.searchDone != m.searchReq:
		return "searching"
	}
	return ""
}

func (m *model) showFiltered(msg filteredMsg) {
	seq := int64(0)
	if it := m.list.selected(); it != nil {
		seq = it.call.Seq
	}
	m.list.setItems(msg.shown, seq)
	if m.state == stateLoading {
		m.state = stateBrowse
	}
	m.selectionChanged()
}

func (m *model) showSearched(msg searchedMsg) {
	m.matches = msg.seqs
	m.detail.setQuery(m.query)
	if !m.announce {
		return
	}
	m.announce = false
	n := 0
	for _, it := range m.list.items {
		if m.matches[it.call.Seq] {
			n++
		}
	}
	if n == 0 {
		m.note = fmt.Sprintf("%q is in none of the calls shown, at detail %s", m.query, m.common.level)
		return
	}
	m.note = fmt.Sprintf("%q: %d of the calls shown match (n next, N previous)", m.query, n)
	// The first match from the selected call on, else from the top.
	if it := m.list.selected(); it != nil && m.matches[it.call.Seq] {
		return
	}
	for _, from := range []int{m.list.cursor, 0} {
		for i := from; i < len(m.list.items); i++ {
			if m.matches[m.list.items[i].call.Seq] {
				m.list.selectIndex(i)
				m.selectionChanged()
				return
			}
		}
	}
}

func (m model) isMatch(it item) bool { return m.matches[it.call.Seq] }

func isBadItem(it item) bool { return it.bad }

// selectionChanged shows the selected call in the detail.
func (m *model) selectionChanged() {
	var c *render.Call
	if it := m.list.selected(); it != nil {
		c = it.call
	}
	m.detail.setCall(c)
}

// jump selects the next (dir +1) or previous (-1) call that pick picks;
// what names it in the message when there is none.
func (m *model) jump(dir int, pick func(item) bool, what string) {
	for i := m.list.cursor + dir; i >= 0 && i < len(m.list.items); i += dir {
		if pick(m.list.items[i]) {
			m.list.selectIndex(i)
			m.selectionChanged()
			return
		}
	}
	where := "after"
	if dir < 0 {
		where = "before"
	}
	m.note = fmt.Sprintf("no %s %s this call", what, where)
	if it := m.list.selected(); it != nil {
		m.note = fmt.Sprintf("no %s %s #%d", what, where, it.call.Number)
	}
}

func (m *model) setLevel(l render.Level) tea.Cmd {
	l = min(max(l, render.LevelLine), render.LevelBodies)
	if l == m.common.level {
		return nil
	}
	m.common.level = l
	m.detail.refresh()
	return m.research()
}

func (m model) handleKey(msg tea.KeyPressMsg) (model, tea.Cmd) {
	k := m.common.keys
	if key.Matches(msg, k.Abort) {
		return m, tea.Quit
	}
	m.note, m.problem = "", false
	switch m.state {
	case statePrompt:
		return m.updatePrompt(msg)
	case stateLoading:
		if key.Matches(msg, k.Quit) {
			return m, tea.Quit
		}
		return m, nil
	}
	return m.updateBrowse(msg)
}

func (m model) updatePrompt(msg tea.KeyPressMsg) (model, tea.Cmd) {
	var res promptResult
	var cmd tea.Cmd
	m.prompt, res, cmd = m.prompt.update(msg)
	switch res {
	case promptCancelled:
		m.prompt.close()
		m.state = stateBrowse
	case promptApplied:
		kind, value, parsed := m.prompt.kind, m.prompt.value(), m.prompt.parsed
		m.prompt.close()
		m.state = stateBrowse
		if kind == promptFilter {
			m.filterExpr, m.filter = value, parsed
			return m, m.refilter()
		}
		m.query, m.matches = value, nil
		if strings.TrimSpace(value) == "" {
			m.query = ""
			m.detail.setQuery("")
			return m, nil
		}
		m.announce = true
		return m, m.research()
	}
	return m, cmd
}

func (m model) updateBrowse(msg tea.KeyPressMsg) (model, tea.Cmd) {
	k := m.common.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(msg, k.Focus):
		m.focus = 1 - m.focus
		m.detail.focused = m.focus == focusDetail
	case key.Matches(msg, k.Filter):
		m.state = statePrompt
		m.prompt.open(promptFilter, m.filterExpr)
	case key.Matches(msg, k.Search):
		m.state = statePrompt
		m.prompt.open(promptSearch, m.query)
	case key.Matches(msg, k.NextMatch), key.Matches(msg, k.PrevMatch):
		if m.query == "" {
			m.note = "no search yet: s to search"
			break
		}
		if m.matches == nil {
			m.note = "still searching"
			break
		}
		m.jump(direction(msg, k.NextMatch), m.isMatch, fmt.Sprintf("call matching %q", m.query))
	case key.Matches(msg, k.NextError), key.Matches(msg, k.PrevError):
		m.jump(direction(msg, k.NextError), isBadItem, "error or denial")
	case key.Matches(msg, k.Level):
		return m, m.setLevel(render.Level(msg.String()[0] - '1'))
	case key.Matches(msg, k.MoreDetail):
		return m, m.setLevel(m.common.level + 1)
	case key.Matches(msg, k.LessDetail):
		return m, m.setLevel(m.common.level - 1)
	case key.Matches(msg, k.Own):
		m.note = "showing kubewire's own calls too (⚙)"
		if m.showOwn {
			m.note = "hiding kubewire's own calls"
		}
		return m, m.reindex(!m.showOwn)
	case key.Matches(msg, k.Large):
		m.common.large = !m.common.large
	case m.focus == focusList:
		var moved bool
		if m.list, moved = m.list.update(msg); moved {
			m.selectionChanged()
		}
	default:
		m.detail, _ = m.detail.update(msg)
	}
	return m, nil
}

// direction is +1 for the forward key, -1 for the other.
func direction(msg tea.KeyPressMsg, forward key.Binding) int {
	if key.Matches(msg, forward) {
		return 1
	}
	return -1
}

// layout sizes the panes to the screen, below them the status area and
// the help.
func (m *model) layout() {
	c := m.common
	w, h := c.width, c.height
	if w < minWidth || h < minHeight {
		return
	}
	m.help.SetWidth(w)
	m.prompt.setWidth(w)
	if m.help.ShowAll {
		m.common.keys.Help.SetHelp("?", "fewer keys")
	} else {
		m.common.keys.Help.SetHelp("?", "keys")
	}
	avail := h - len(m.bottom())
	switch {
	case c.large:
		m.list.setSize(w, 1)
		m.detail.setSize(w, avail-1, false)
	case w >= wideWidth:
		lw := w / 2
		m.list.setSize(lw, avail)
		m.detail.setSize(w-lw-1, avail, true)
	default:
		lh := min(max(avail/3, 1), max(len(m.list.items), 1))
		m.list.setSize(w, lh)
		m.detail.setSize(w, avail-lh, true)
	}
}

// minPanes is the fewest lines the panes get: the help is cut first.
const minPanes = 3

// bottom is the status area and the help, as lines.
func (m model) bottom() []string {
	c := m.common
	st := c.styles
	out := []string{m.statusBar()}
	if m.state == statePrompt {
		for _, p := range m.prompt.problem {
			out = append(out, st.Problem.Render(ansi.Truncate("  "+p, c.width, "…")))
		}
	}
	if m.note != "" {
		style := st.Note
		if m.problem {
			style = st.Problem
		}
		out = append(out, style.Render(ansi.Truncate(m.note, c.width, "…")))
	}
	if m.loadErr != nil {
		out = append(out, st.Problem.Render(ansi.Truncate("reading stopped: "+m.loadErr.Error(), c.width, "…")))
	}
	if m.state == statePrompt {
		out = append(out, m.prompt.view())
	}
	helpText := m.help.View(browseHelp{&c.keys})
	whole := m.help
	whole.SetWidth(0)
	if !m.help.ShowAll && ansi.StringWidth(whole.View(browseHelp{&c.keys})) > c.width {
		helpText = m.help.ShortHelpView(browseHelp{&c.keys}.narrowHelp())
	}
	if m.state == statePrompt {
		helpText = m.help.ShortHelpView(promptHelp{&c.keys}.ShortHelp())
	}
	helpLines := strings.Split(helpText, "\n")
	room := c.height - len(out) - minPanes
	return append(out, helpLines[:max(min(len(helpLines), room), 0)]...)
}

// statusBar names the recording, the call shown, the filter, the level.
func (m model) statusBar() string {
	c := m.common
	parts := m.statusParts()
	text := " " + strings.Join(parts, " · ")
	if ansi.StringWidth(text) > c.width {
		// The recording's name goes first, the call's place last.
		text = " " + strings.Join(parts[1:], " · ")
	}
	return c.styles.Status.Render(pad(ansi.Truncate(text, c.width, "…"), c.width))
}

func (m model) statusParts() []string {
	c := m.common
	parts := []string{c.cfg.Name}
	switch n := len(m.list.items); {
	case m.state == stateLoading:
	case n == 0:
		parts = append(parts, "no call to show")
	default:
		s := fmt.Sprintf("call %d of %d", m.list.cursor+1, n)
		if n != len(m.items) {
			s += fmt.Sprintf(" (%d in all)", len(m.items))
		}
		parts = append(parts, s)
	}
	if f := m.filter.String(); f != "" {
		parts = append(parts, "filter "+f)
	}
	if m.query != "" {
		parts = append(parts, fmt.Sprintf("search %q", m.query))
	}
	parts = append(parts, "detail "+c.level.String())
	if m.showOwn {
		parts = append(parts, "own calls shown")
	}
	if c.large {
		// The detail has no title in the large mode: its place is here.
		parts = append(parts, m.detail.position())
		if m.focus == focusDetail {
			parts = append(parts, "scrolling")
		}
	}
	if b := m.busy(); b != "" {
		parts = append(parts, b+"…")
	}
	return parts
}

func (m model) View() tea.View {
	v := tea.NewView(m.content())
	v.AltScreen = true
	v.WindowTitle = "kubewire replay: " + m.common.cfg.Name
	return v
}

func (m model) content() string {
	c := m.common
	w, h := c.width, c.height
	switch {
	case w == 0 || h == 0:
		return ""
	case w < minWidth || h < minHeight:
		return tooSmall(w, h)
	}
	var panes string
	switch {
	case m.state == stateLoading:
		panes = fit([]string{"", "  reading " + c.cfg.Name + "…"}, w, h-len(m.bottom()))
	case c.large:
		panes = m.list.headerView() + "\n" + m.detail.view()
	case w >= wideWidth:
		rule := strings.TrimSuffix(strings.Repeat("│\n", m.list.height), "\n")
		panes = joinColumns(m.list.view(), rule, m.detail.view())
	default:
		panes = m.list.view() + "\n" + m.detail.view()
	}
	return panes + "\n" + strings.Join(m.bottom(), "\n")
}

// joinColumns puts blocks of as many lines side by side.
func joinColumns(blocks ...string) string {
	cols := make([][]string, len(blocks))
	n := 0
	for i, b := range blocks {
		cols[i] = strings.Split(b, "\n")
		n = max(n, len(cols[i]))
	}
	out := make([]string, n)
	for row := range out {
		var b strings.Builder
		for _, col := range cols {
			if row < len(col) {
				b.WriteString(col[row])
			}
		}
		out[row] = b.String()
	}
	return strings.Join(out, "\n")
}

// tooSmall is the screen of a terminal too small to lay out.
func tooSmall(w, h int) string {
	lines := []string{
		"terminal too small",
		fmt.Sprintf("%d×%d; need %d×%d", w, h, minWidth, minHeight),
		"q quits",
	}
	return fit(lines, w, h)
}
