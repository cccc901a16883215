// Package tui is the step-through replay, for the classroom: `kubewire
// replay -i` shows a recording's calls in a list, the selected one below
// (or beside) it at the detail level chosen, with keys to filter, search,
// jump to the next error and enlarge the detail for a projector; `kubewire
// replay --step` shows one call per Enter, for a terminal that cannot
// draw a screen and for screen readers.
//
// Every call is rendered by render (Call.Render), so it reads exactly as
// the replay shows it. The screen is a Bubble Tea program of small models
// (model.go routes; list.go, detail.go and prompt.go are the panes and
// the input; common.go what they share; keys.go and styles.go hold every
// key and style). The work that can take long with a big recording runs
// in commands (work.go), never in Update.
// docs/replay-tui.md describes the screen and its keys.
package tui
