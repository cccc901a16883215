package tui

import (
	"regexp"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/kubewire/kubewire/render"
)

// styles are the step-through replay's own styles, by meaning. The calls
// themselves are styled by render (Call.Render), with render.NewStyles.
//
// Colour follows render's rules: without it (NO_COLOR, --color never) no
// style sets a colour, and only bold and reverse video, which a
// monochrome terminal shows too, tell the selected call, the status bar
// and the projector's header apart; the marker ">" and the pane titles say
// it in plain text as well. With colour only the 16 ANSI palette colours
// are used, so light and dark themes both read.
type styles struct {
	render render.Styles
	// Selected is the list's selected call.
	Selected lipgloss.Style
	// Title is a pane's title; FocusedTitle the focused pane's.
	Title        lipgloss.Style
	FocusedTitle lipgloss.Style
	// Status is the status bar.
	Status lipgloss.Style
	// Problem is an error in the status area: a bad filter, a bad file.
	Problem lipgloss.Style
	// Note is a passing message in the status area.
	Note lipgloss.Style
	// Header is the large mode's header: the selected call's line.
	Header lipgloss.Style
	// Help and Input style the help bar and the filter and search input.
	Help  help.Styles
	Input textinput.Styles
}

func newStyles(o render.Options) styles {
	base := lipgloss.NewStyle()
	s := styles{
		render:       render.NewStyles(o),
		Selected:     base.Reverse(true),
		Title:        base,
		FocusedTitle: base.Bold(true),
		Status:       base.Reverse(true),
		Problem:      base.Bold(true),
		Note:         base,
		Header:       base.Bold(true).Reverse(true),
	}
	if o.Color {
		s.Problem = base.Foreground(lipgloss.Red).Bold(true)
		s.FocusedTitle = base.Foreground(lipgloss.Blue).Bold(true)
	}
	key := base.Bold(true)
	s.Help = help.Styles{
		Ellipsis: base, ShortKey: key, ShortDesc: base, ShortSeparator: base,
		FullKey: key, FullDesc: base, FullSeparator: base,
	}
	// The input's defaults are 256-colour greys: replace every one.
	plain := textinput.StyleState{Text: base, Placeholder: base, Suggestion: base, Prompt: base.Bold(true)}
	s.Input = textinput.Styles{Focused: plain, Blurred: plain}
	// A steady cursor: no blink timer, so nothing ticks while the input
	// waits (and a test can run every command to its end).
	s.Input.Cursor.Blink = false
	return s
}

// sgr matches one SGR escape sequence (colours and attributes).
var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// undim rewrites render's dim text (the palette's bright black, and faint
// text) to the terminal's own foreground, keeping every other colour: a
// projector washes dim text out, and the large mode's detail must read
// from the back of the room. render.Styles has no high-contrast variant
// to ask for instead.
func undim(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return s
	}
	return sgr.ReplaceAllStringFunc(s, func(seq string) string {
		params := strings.Split(seq[2:len(seq)-1], ";")
		for i := 0; i < len(params); i++ {
			switch params[i] {
			case "38", "48", "58":
				// An extended colour: its arguments are not attributes.
				if i+1 < len(params) && params[i+1] == "5" {
					i += 2
				} else if i+1 < len(params) && params[i+1] == "2" {
					i += 4
				}
			case "90":
				params[i] = "39"
			case "2":
				params[i] = "22"
			}
		}
		return "\x1b[" + strings.Join(params, ";") + "m"
	})
}
