package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/filter"
	"github.com/kubewire/kubewire/tracer/record"
)

// Config is what the step-through replay shows, and how.
type Config struct {
	// Name names the recording in the status line: its file name.
	Name string
	// Options render the calls: colour, the body format and folding, the
	// detail level the detail pane starts at, and whether kubewire's own
	// calls are shown at first. Width and Show are not used: the pane's
	// width and Filter decide.
	Options render.Options
	// Width, when positive, wraps the detail at no more than this many
	// columns even in a wider pane.
	Width int
	// Filter picks the calls shown at first; nil shows every call.
	Filter *filter.Filter
}

// Run runs the step-through replay on the terminal in and out (both must
// be the terminal) until the viewer quits. The recording is read from src
// while the screen is up. It returns the error that stopped the reading
// of the recording (the calls before it were shown), or the terminal's.
func Run(ctx context.Context, in io.Reader, out io.Writer, src record.LineSource, cfg Config) error {
	p := tea.NewProgram(newModel(src, cfg), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	final, err := p.Run()
	if err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("step-through replay: %w", err)
	}
	if m, ok := final.(model); ok && m.loadErr != nil {
		return m.loadErr
	}
	return nil
}
