package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/kubewire/kubewire/tracer/filter"
)

// promptKind is what the input at the bottom asks for.
type promptKind int

const (
	promptFilter promptKind = iota
	promptSearch
)

// promptModel is the one-line input of a filter expression (in the
// language of tracer/filter) or a search text.
type promptModel struct {
	common *common
	kind   promptKind
	input  textinput.Model
	// problem is why the last filter entered was refused: its message,
	// then the expression with a caret under the fault.
	problem []string
	// parsed is the filter entered, once applied.
	parsed *filter.Filter
}

func newPrompt(c *common) promptModel {
	in := textinput.New()
	in.SetStyles(c.styles.Input)
	return promptModel{common: c, input: in}
}

// open starts asking, with value to edit.
func (p *promptModel) open(kind promptKind, value string) {
	p.kind, p.problem, p.parsed = kind, nil, nil
	p.input.Prompt = "/ "
	p.input.Placeholder = "a filter, e.g. denied or status>=500 (docs/filters.md)"
	if kind == promptSearch {
		p.input.Prompt = "search: "
		p.input.Placeholder = "text in the calls, as shown"
	}
	p.input.SetValue(value)
	p.input.CursorEnd()
	p.input.Focus()
}

func (p *promptModel) close() {
	p.input.Blur()
	p.problem = nil
}

// promptResult is what a key in the input came to.
type promptResult int

const (
	promptEditing promptResult = iota
	promptCancelled
	// promptApplied: Enter, with a value that can be applied.
	promptApplied
)

// update edits the input. Enter on a bad filter keeps the input open with
// the problem shown, so that the expression can be put right.
func (p promptModel) update(msg tea.Msg) (promptModel, promptResult, tea.Cmd) {
	k := p.common.keys
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(msg, k.Cancel):
			return p, promptCancelled, nil
		case key.Matches(msg, k.Apply):
			if p.kind == promptFilter {
				f, err := filter.Parse(p.input.Value())
				if err != nil {
					p.problem = problemLines(err)
					return p, promptEditing, nil
				}
				p.parsed = f
			}
			return p, promptApplied, nil
		}
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, promptEditing, cmd
}

// value is the input's text.
func (p promptModel) value() string { return p.input.Value() }

// problemLines says what is wrong with a filter: the message, then the
// expression with a caret under the fault.
func problemLines(err error) []string {
	var se *filter.SyntaxError
	if !errors.As(err, &se) {
		return []string{err.Error()}
	}
	return append([]string{err.Error()}, strings.Split(se.Caret(), "\n")...)
}

func (p *promptModel) setWidth(w int) {
	p.input.SetWidth(max(w-len(p.input.Prompt)-1, 1))
}

func (p promptModel) view() string { return p.input.View() }
