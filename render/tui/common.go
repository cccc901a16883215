package tui

import (
	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// common is what every pane shares: the screen's size, the options calls
// are rendered with, the keys and the styles. The top model owns it; the
// panes hold a pointer and only read it.
type common struct {
	cfg    Config
	width  int
	height int
	// level is the detail pane's detail level.
	level render.Level
	// large is the projector mode: the detail takes the screen.
	large  bool
	keys   keyMap
	styles styles
}

// renderOptions are the options the detail pane renders a call with, at
// width columns.
func (c *common) renderOptions(width int) render.Options {
	o := c.cfg.Options
	o.Detail, o.Width, o.Show = c.level, width, nil
	if c.cfg.Width > 0 {
		o.Width = min(width, c.cfg.Width)
	}
	return o
}

// item is one call of the list, with what the list shows of it worked out
// once, when the recording is indexed.
type item struct {
	call *render.Call
	// line is the call's one-line summary, styled, not cut to a width.
	line string
	// plain is line without styling.
	plain string
	// bad is an error or a denial: what e and E jump to.
	bad bool
}

// badCalls are the calls e and E jump to: a status of 400 or more (or an
// error kubewire answered with), an exchange or stream that failed, or a
// request a stage of the API server stopped. It is said in the filter
// language so that it means exactly what `--filter` would.
var badCalls = mustParse("status>=400 or error or stopped")

func mustParse(expr string) *filter.Filter {
	f, err := filter.Parse(expr)
	if err != nil {
		panic(err)
	}
	return f
}

// isBad reports whether x is an error or a denial.
func isBad(x *record.Exchange) bool { return badCalls.Match(x) }
