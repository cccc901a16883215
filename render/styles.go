// Package render turns kubewire records into text for people: one line per
// call, the request's journey through the API server, headers and bodies. It
// reads records only, so live traces, replays and lessons look the same.
//
// Every colour and symbol is named here, by meaning; docs/rendering.md and
// `kubewire legend` explain them.
package render

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
	"github.com/kubewire/kubewire/tracer/record"
)

// Level is how much of each call is shown.
type Level int

// Detail levels; each shows everything the one before it shows.
const (
	// LevelLine is one line per call.
	LevelLine Level = iota
	// LevelJourney adds the request's journey through the API server's
	// stages, the server's signals and each watch event.
	LevelJourney
	// LevelHeaders adds request and response headers.
	LevelHeaders
	// LevelBodies adds bodies, decoded and folded.
	LevelBodies
)

// levelNames are the names --detail accepts besides 0..3.
var levelNames = []string{"line", "journey", "headers", "bodies"}

// String returns the level's name.
func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return strconv.Itoa(int(l))
}

// ParseLevel reads a detail level: 0..3 or line, journey, headers, bodies.
func ParseLevel(s string) (Level, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > int(LevelBodies) {
			return 0, fmt.Errorf("detail level %d is out of range; want 0..3 or one of %s", n, strings.Join(levelNames, ", "))
		}
		return Level(n), nil
	}
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown detail level %q; want 0..3 or one of %s", s, strings.Join(levelNames, ", "))
}

// Options control how records are rendered.
type Options struct {
	// Color enables ANSI styling (16-colour palette).
	Color bool
	// Width is the width to wrap at; 0 means DefaultWidth.
	Width int
	// Detail is how much of each call to show.
	Detail Level
	// BodyFormat is how structured bodies are shown: "json" (the default)
	// or "yaml".
	BodyFormat string
	// BodyLines folds a body after this many lines; 0 means
	// DefaultBodyLines, a negative value shows bodies whole.
	BodyLines int
	// ShowOwn shows the calls kubewire made itself (discovery for scopes,
	// flow-schema names), marked as kubewire's; by default a view shows
	// only what the traced client did.
	ShowOwn bool
	// Show, when set, picks the calls to show (a filter): the others are
	// still numbered, so a call keeps the number the whole replay gives it.
	// A call is picked by its exchange line, as first recorded: a stream
	// by its response's start, before its events.
	Show func(*record.Exchange) bool
}

// DefaultWidth is used when the width is unknown (output piped to a file).
const DefaultWidth = 100

// DefaultBodyLines is where bodies are folded unless Options say otherwise.
const DefaultBodyLines = 40

// MinWidth is the narrowest width honoured; anything narrower is raised.
const MinWidth = 40

func (o Options) width() int {
	switch {
	case o.Width <= 0:
		return DefaultWidth
	case o.Width < MinWidth:
		return MinWidth
	}
	return o.Width
}

func (o Options) bodyLines() int {
	if o.BodyLines == 0 {
		return DefaultBodyLines
	}
	return o.BodyLines
}

// OptionsFor chooses options for writing to w: colour only when w is a
// terminal and NO_COLOR is not set (to any value), the terminal's width when
// it has one, else $COLUMNS, else DefaultWidth.
func OptionsFor(w io.Writer) Options {
	return optionsFor(w, os.Environ())
}

func optionsFor(w io.Writer, environ []string) Options {
	o := Options{Width: DefaultWidth}
	env := func(k string) string {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	p := colorprofile.Detect(w, environ)
	// no-color.org: any non-empty NO_COLOR disables colour; colorprofile
	// only honours values strconv.ParseBool reads as true.
	o.Color = p > colorprofile.Ascii && env("NO_COLOR") == ""
	if f, ok := w.(interface{ Fd() uintptr }); ok && term.IsTerminal(f.Fd()) {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			o.Width = cols
			return o
		}
	}
	if n, err := strconv.Atoi(env("COLUMNS")); err == nil && n > 0 {
		o.Width = n
	}
	return o
}

// Symbols. Each outcome has its own symbol as well as its own colour, so
// nothing is told by colour alone.
const (
	SymPassed     = "✓"
	SymRejected   = "✗"
	SymSkipped    = "○"
	SymNotReached = "·"
	SymInferred   = "?"
	SymArrow      = "→"
	SymOwn        = "⚙"
	SymReplayed   = "↺"
	SymWarning    = "!"
	SymStream     = "⇣"
	SymFold       = "…"
)

// Style is a named style. Without colour it is plain: Render then only
// does what lipgloss does for a bare style (joins with spaces, expands
// tabs), without working out every property first, which cost a fifth of
// a replay's time.
type Style struct {
	lipgloss.Style
	plain bool
}

// Render renders strs in the style.
func (s Style) Render(strs ...string) string {
	if s.plain {
		return strings.ReplaceAll(strings.Join(strs, " "), "\t", "    ")
	}
	return s.Style.Render(strs...)
}

// plainStyle renders text unchanged.
var plainStyle = Style{Style: lipgloss.NewStyle(), plain: true}

// Styles are kubewire's named styles, by meaning.
type Styles struct {
	// Dim is for what matters least: timings, sizes, labels.
	Dim Style
	// Bold is for names a reader looks for.
	Bold Style
	// Seq is the call's sequence number.
	Seq Style
	// ReadVerb, WriteVerb and DeleteVerb colour API verbs and HTTP methods.
	ReadVerb   Style
	WriteVerb  Style
	DeleteVerb Style
	// Passed, Denied, Skipped and Inferred colour stage outcomes.
	Passed   Style
	Denied   Style
	Skipped  Style
	Inferred Style
	// Warning is for deprecation warnings and dry runs.
	Warning Style
	// GA, Beta and Alpha colour stability badges.
	GA    Style
	Beta  Style
	Alpha Style
	// Identity is who the request was sent as.
	Identity Style
	// Own marks kubewire's own calls.
	Own Style
	// Key is a header name or a body's field label.
	Key Style
	// Event colours watch event types.
	Added, Modified, Deleted Style
}

// NewStyles derives every style from one base. Without colour every style
// is the bare base, which renders text unchanged: no escape codes at all.
// With colour only the 16 ANSI palette colours are used: the terminal's
// theme defines them, so they read on dark and light backgrounds alike.
func NewStyles(o Options) Styles {
	if !o.Color {
		p := plainStyle
		return Styles{Dim: p, Bold: p, Seq: p, ReadVerb: p, WriteVerb: p, DeleteVerb: p,
			Passed: p, Denied: p, Skipped: p, Inferred: p, Warning: p, GA: p, Beta: p,
			Alpha: p, Identity: p, Own: p, Key: p, Added: p, Modified: p, Deleted: p}
	}
	base := lipgloss.NewStyle()
	c := func(st lipgloss.Style) Style { return Style{Style: st} }
	return Styles{
		Dim:        c(base.Foreground(lipgloss.BrightBlack)),
		Bold:       c(base.Bold(true)),
		Seq:        c(base.Foreground(lipgloss.BrightBlack).Bold(true)),
		ReadVerb:   c(base.Foreground(lipgloss.Cyan).Bold(true)),
		WriteVerb:  c(base.Foreground(lipgloss.Yellow).Bold(true)),
		DeleteVerb: c(base.Foreground(lipgloss.Red).Bold(true)),
		Passed:     c(base.Foreground(lipgloss.Green)),
		Denied:     c(base.Foreground(lipgloss.Red).Bold(true)),
		Skipped:    c(base.Foreground(lipgloss.BrightBlack)),
		Inferred:   c(base.Foreground(lipgloss.Magenta).Italic(true)),
		Warning:    c(base.Foreground(lipgloss.Yellow)),
		GA:         c(base.Foreground(lipgloss.Green)),
		Beta:       c(base.Foreground(lipgloss.Yellow)),
		Alpha:      c(base.Foreground(lipgloss.Red)),
		Identity:   c(base.Foreground(lipgloss.Blue)),
		Own:        c(base.Foreground(lipgloss.Magenta)),
		Key:        c(base.Foreground(lipgloss.Blue)),
		Added:      c(base.Foreground(lipgloss.Green).Bold(true)),
		Modified:   c(base.Foreground(lipgloss.Yellow).Bold(true)),
		Deleted:    c(base.Foreground(lipgloss.Red).Bold(true)),
	}
}

// Verb styles an API verb by what it does.
func (s Styles) Verb(v string) string {
	switch v {
	case "get", "list", "watch", "head", "options":
		return s.ReadVerb.Render(v)
	case "delete", "deletecollection":
		return s.DeleteVerb.Render(v)
	}
	return s.WriteVerb.Render(v)
}

// Method styles an HTTP method like the verb it usually becomes.
func (s Styles) Method(m string) string {
	switch strings.ToUpper(m) {
	case "GET", "HEAD", "OPTIONS":
		return s.ReadVerb.Render(m)
	case "DELETE":
		return s.DeleteVerb.Render(m)
	}
	return s.WriteVerb.Render(m)
}

// Stability renders a stability badge.
func (s Styles) Stability(st string) string {
	switch st {
	case "GA":
		return s.GA.Render("GA")
	case "beta":
		return s.Beta.Render("beta")
	case "alpha":
		return s.Alpha.Render("alpha")
	}
	return ""
}

// EventType styles a watch event type.
func (s Styles) EventType(t string) string {
	switch t {
	case "ADDED":
		return s.Added.Render(t)
	case "MODIFIED":
		return s.Modified.Render(t)
	case "DELETED", "ERROR":
		return s.Deleted.Render(t)
	}
	return s.Dim.Render(t)
}

// Status styles an HTTP status code by its class.
func (s Styles) Status(code int) string {
	c := strconv.Itoa(code)
	switch {
	case code == 0:
		return s.Denied.Render("---")
	case code < 300:
		return s.Passed.Render(c)
	case code < 400:
		return s.Warning.Render(c)
	}
	return s.Denied.Render(c)
}
