package tutor

import (
	"strings"

	"charm.land/glamour/v2"
)

// markdown renders a lesson's prose for the terminal with glamour: in
// colour with the dark or light style, or plain ("notty") when colour is
// off (NO_COLOR, a pipe).
type markdown struct {
	r *glamour.TermRenderer
}

func newMarkdown(color, dark bool, width int) (*markdown, error) {
	style := "notty"
	if color {
		style = "light"
		if dark {
			style = "dark"
		}
	}
	r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(width))
	if err != nil {
		return nil, err
	}
	return &markdown{r: r}, nil
}

// render returns the rendered text, without glamour's leading and
// trailing blank lines; the text itself when it cannot be rendered. The
// plain style keeps Markdown's own marks (**bold**, `code`), which read
// as they are.
func (m *markdown) render(text string) string {
	out, err := m.r.Render(text)
	if err != nil {
		return text + "\n"
	}
	lines := strings.Split(strings.Trim(out, "\n"), "\n")
	for i, l := range lines {
		// glamour pads every line to the width; a copied or captured
		// screen reads better without.
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}
