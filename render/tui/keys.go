package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key of the step-through replay. The help bar is drawn
// from it, so a key and its help cannot disagree.
type keyMap struct {
	// Moving: the list when it has the focus, else the detail.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding
	Focus    key.Binding
	// Move is Up and Down in one, for the short help.
	Move key.Binding

	// Finding.
	Filter    key.Binding
	Search    key.Binding
	NextMatch key.Binding
	PrevMatch key.Binding
	NextError key.Binding
	PrevError key.Binding

	// Showing.
	Level      key.Binding
	MoreDetail key.Binding
	LessDetail key.Binding
	Own        key.Binding
	Large      key.Binding

	Help key.Binding
	Quit key.Binding

	// In the filter and search input.
	Apply  key.Binding
	Cancel key.Binding
	Abort  key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "first")),
		End:      key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "last")),
		Focus:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "pane")),
		Move:     key.NewBinding(key.WithKeys("j", "k", "down", "up"), key.WithHelp("j/k", "move")),

		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Search:    key.NewBinding(key.WithKeys("s", "ctrl+f"), key.WithHelp("s", "find")),
		NextMatch: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
		PrevMatch: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match")),
		NextError: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "error")),
		PrevError: key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "prev error")),

		Level:      key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "level")),
		MoreDetail: key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "more detail")),
		LessDetail: key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "less detail")),
		Own:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "own calls")),
		Large:      key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "big")),

		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),

		Apply:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Abort:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// browseHelp is the help of the screen with the list and detail. The
// short help fits 80 columns.
type browseHelp struct{ k *keyMap }

func (h browseHelp) ShortHelp() []key.Binding {
	k := h.k
	return []key.Binding{k.Move, k.Focus, k.Filter, k.Search, k.NextError, k.Level, k.Large, k.Help, k.Quit}
}

// narrowHelp is the short help of a screen narrower than 80 columns.
func (h browseHelp) narrowHelp() []key.Binding {
	k := h.k
	return []key.Binding{k.Move, k.Filter, k.Help, k.Quit}
}

// FullHelp is four columns that fit 80 columns.
func (h browseHelp) FullHelp() [][]key.Binding {
	k := h.k
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, says(k.Focus, "list/detail")},
		{k.Filter, says(k.Search, "search"), k.NextMatch, k.PrevMatch, says(k.NextError, "next error"), k.PrevError},
		{k.Level, k.MoreDetail, k.LessDetail, k.Own, says(k.Large, "large (projector)")},
		{k.Help, k.Quit},
	}
}

// says is b with another description, for the full help.
func says(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// promptHelp is the help while the filter or search input is open,
// always short.
type promptHelp struct{ k *keyMap }

func (h promptHelp) ShortHelp() []key.Binding {
	return []key.Binding{h.k.Apply, h.k.Cancel, h.k.Abort}
}
