package tutor

import "charm.land/lipgloss/v2"

// styles name what the tutor's own lines mean; the trace keeps render's.
type styles struct {
	banner, title, heading, command, prompt, dim, pass, fail, hint lipgloss.Style
}

func newStyles(color bool) *styles {
	if !color {
		p := lipgloss.NewStyle()
		return &styles{p, p, p, p, p, p, p, p, p}
	}
	base := lipgloss.NewStyle()
	return &styles{
		banner:  base.Bold(true).Foreground(lipgloss.BrightWhite).Background(lipgloss.Blue).Padding(0, 1),
		title:   base.Bold(true).Foreground(lipgloss.Blue),
		heading: base.Bold(true),
		command: base.Foreground(lipgloss.Cyan),
		prompt:  base.Foreground(lipgloss.Magenta),
		dim:     base.Faint(true),
		pass:    base.Foreground(lipgloss.Green),
		fail:    base.Foreground(lipgloss.Red),
		hint:    base.Foreground(lipgloss.Yellow),
	}
}
