// Package render turns kubewire records into text for people: one line per
// call, the request's journey, headers and bodies. It reads records only, so
// live traces, replays and lessons look the same.
package render

import (
	"io"
	"os"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// Options control how records are rendered.
type Options struct {
	// Color enables ANSI styling.
	Color bool
	// Width is the terminal width to wrap at; 0 means 100.
	Width int
}

// OptionsFor chooses options for writing to w: colour only when w is a
// terminal and NO_COLOR is not set.
func OptionsFor(w io.Writer) Options {
	o := Options{Width: 100}
	p := colorprofile.Detect(w, os.Environ())
	o.Color = p > colorprofile.NoTTY && p != colorprofile.Ascii
	return o
}

// Styles are kubewire's named styles, by meaning.
type Styles struct {
	color     bool
	Dim       lipgloss.Style
	Bold      lipgloss.Style
	ReadVerb  lipgloss.Style
	WriteVerb lipgloss.Style
	Delete    lipgloss.Style
	Passed    lipgloss.Style
	Denied    lipgloss.Style
	Inferred  lipgloss.Style
	GA        lipgloss.Style
	Beta      lipgloss.Style
	Alpha     lipgloss.Style
}

// NewStyles derives every style from one base; without colour each style
// renders its text unchanged.
func NewStyles(o Options) Styles {
	base := lipgloss.NewStyle()
	if !o.Color {
		return Styles{Dim: base, Bold: base, ReadVerb: base, WriteVerb: base, Delete: base,
			Passed: base, Denied: base, Inferred: base, GA: base, Beta: base, Alpha: base}
	}
	// ANSI palette colours (0-15) follow the terminal's own theme, so they
	// stay readable on dark and light backgrounds.
	return Styles{
		color:     true,
		Dim:       base.Foreground(lipgloss.BrightBlack),
		Bold:      base.Bold(true),
		ReadVerb:  base.Foreground(lipgloss.Cyan).Bold(true),
		WriteVerb: base.Foreground(lipgloss.Yellow).Bold(true),
		Delete:    base.Foreground(lipgloss.Red).Bold(true),
		Passed:    base.Foreground(lipgloss.Green),
		Denied:    base.Foreground(lipgloss.Red).Bold(true),
		Inferred:  base.Foreground(lipgloss.Magenta).Italic(true),
		GA:        base.Foreground(lipgloss.Green),
		Beta:      base.Foreground(lipgloss.Yellow),
		Alpha:     base.Foreground(lipgloss.Red),
	}
}

// Verb styles an API verb by what it does.
func (s Styles) Verb(v string) string {
	switch v {
	case "get", "list", "watch":
		return s.ReadVerb.Render(v)
	case "delete", "deletecollection":
		return s.Delete.Render(v)
	}
	return s.WriteVerb.Render(v)
}

// Method styles an HTTP method like the verb it usually becomes.
func (s Styles) Method(m string) string {
	switch strings.ToUpper(m) {
	case "GET", "HEAD", "OPTIONS":
		return s.ReadVerb.Render(m)
	case "DELETE":
		return s.Delete.Render(m)
	}
	return s.WriteVerb.Render(m)
}

// Stability renders a stability badge.
func (s Styles) Stability(st string) string {
	switch st {
	case "GA":
		return s.GA.Render("[GA]")
	case "beta":
		return s.Beta.Render("[beta]")
	case "alpha":
		return s.Alpha.Render("[alpha]")
	}
	return ""
}
