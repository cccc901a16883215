package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubewire/kubewire/tracer/record"
)

// The renderer and its layout primitives: packing segments into lines,
// wrapping and folding to the width, sizes and durations.

// renderer renders records at one set of options.
type renderer struct {
	o      Options
	st     Styles
	width  int
	indent int // width of the block indent
}

// blockIndent indents everything shown under a call's line; bodies are
// indented two more.
const (
	blockIndent = "    "
	bodyIndent  = blockIndent + "  "
)

// narrower returns a renderer for text that will be indented by n columns.
func (r *renderer) narrower(n int) *renderer {
	c := *r
	c.width = max(r.width-n, MinWidth-n)
	return &c
}

func newRenderer(o Options) *renderer {
	return &renderer{o: o, st: NewStyles(o), width: o.width(), indent: len(blockIndent)}
}

// since is the time of t from origin (the first call shown), e.g.
// "+1.204s".
func since(origin, t time.Time) string {
	if origin.IsZero() || t.IsZero() {
		return "+0.000s"
	}
	d := t.Sub(origin)
	if d < 0 {
		return "-" + fixed(-d.Seconds(), 3) + "s"
	}
	return "+" + fixed(d.Seconds(), 3) + "s"
}

// fixed formats f with prec decimals, as fmt's %.Nf does.
func fixed(f float64, prec int) string {
	return strconv.FormatFloat(f, 'f', prec, 64)
}

// pack lays out segments separated by two spaces, starting a new line
// (indented by hang) whenever the next segment would pass the width.
func (r *renderer) pack(segs []string, hang string) []string {
	var lines []string
	cur, curW := "", 0
	for _, s := range segs {
		if s == "" {
			continue
		}
		w := width(s)
		switch {
		case w > r.width-len(hang):
			if cur != "" {
				lines = append(lines, cur)
			}
			first := hang
			if len(lines) == 0 {
				first = ""
			}
			wrapped := r.wrapHang(s, first, hang)
			lines = append(lines, wrapped[:len(wrapped)-1]...)
			cur = wrapped[len(wrapped)-1]
			curW = width(cur)
		case cur == "":
			cur, curW = s, w
		case curW+2+w <= r.width:
			cur += "  " + s
			curW += 2 + w
		default:
			lines = append(lines, cur)
			cur, curW = hang+s, len(hang)+w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	for i, l := range lines {
		// A padded segment (an event type) may end a line.
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// width is the display width of s, as lipgloss.Width measures it; plain
// ASCII, most of what a one-line view shows, is measured without working
// out grapheme clusters.
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return lipgloss.Width(s)
		}
	}
	return len(s)
}

// widest is the display width of the widest line of s.
func widest(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, width(l))
	}
	return w
}

// wrap word-wraps text to the width, every line indented by indent.
func (r *renderer) wrap(text, indent string) []string {
	return r.wrapHang(text, indent, indent)
}

// wrapHang wraps text with first before the first line and hang before
// the others.
func (r *renderer) wrapHang(text, first, hang string) []string {
	avail := r.width - max(width(first), width(hang))
	if avail < 20 {
		avail = 20
	}
	var out []string
	// A breakpoint character stays at the end of its line, one past the
	// limit: wrap one column short.
	wrapped := lipgloss.Wrap(text, avail-1, " ,/;")
	if widest(wrapped) > avail {
		// A word wrap can still leave a line too wide (a breakpoint at the
		// very edge); cut those lines hard.
		wrapped = ansi.Hardwrap(wrapped, avail, true)
	}
	for i, l := range strings.Split(wrapped, "\n") {
		l = strings.TrimRight(l, " ")
		if i == 0 {
			out = append(out, first+l)
		} else {
			out = append(out, hang+l)
		}
	}
	return out
}

// fold is the line that stands for n hidden things.
func (r *renderer) fold(n int, what string) string {
	return r.st.Dim.Render(fmt.Sprintf("%s %s hidden (--body-lines shows more)", SymFold, plural(n, "more "+what)))
}

// foldLines keeps the first Options.BodyLines lines.
func (r *renderer) foldLines(lines []string) []string {
	limit := r.o.bodyLines()
	if limit < 0 || len(lines) <= limit {
		return lines
	}
	return append(lines[:limit:limit], r.fold(len(lines)-limit, "line"))
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1024*1024:
		return fixed(float64(n)/1024, 1) + " KiB"
	}
	return fixed(float64(n)/(1024*1024), 1) + " MiB"
}

// duration formats milliseconds.
func duration(ms float64) string {
	switch {
	case ms < 10:
		return fixed(ms, 1) + "ms"
	case ms < 1000:
		return fixed(ms, 0) + "ms"
	case ms < 60000:
		return fixed(ms/1000, 2) + "s"
	}
	d := time.Duration(ms * float64(time.Millisecond)).Round(time.Second)
	return d.String()
}

// stageLabel is the short name of a stage, as the pipeline shows it.
func stageLabel(name string) string {
	switch name {
	case record.StageAuthentication:
		return "authn"
	case record.StagePriority:
		return "APF"
	case record.StageAuthorization:
		return "authz"
	case record.StoppedNoResponse:
		return "no response"
	}
	return name
}
