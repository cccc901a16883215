package tui

import (
	"slices"
	"testing"

	"github.com/kubewire/kubewire/tracer/filter"
)

var errorCalls = []string{"#10", "#19", "#24", "#25", "#27", "#29"}

// / takes a filter in the language of tracer/filter: Enter shows only the
// calls it matches, with the numbers the whole replay gives them.
func TestFilter(t *testing.T) {
	s := start(t, 80, 40, sampleConfig())
	s.press("/")
	s.shows("/ ", "enter apply  esc cancel")
	s.typeText("status>=400")
	s.press("enter")
	if got := s.listed(); !slices.Equal(got, errorCalls) {
		t.Errorf("status>=400 lists %v, want %v", got, errorCalls)
	}
	s.shows("call 1 of 6 (37 in all)", "filter status>=400", "── #10 · journey")
	s.hides("enter apply")
	s.press("j", "j")
	s.shows("── #24 · journey", "403 Forbidden  ✗ authz")

	// The input opens with the filter in use, to edit; the selection
	// stays on its call when it is still shown.
	s.press("/")
	s.shows("/ status>=400")
	s.press("backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	s.typeText("denied")
	s.press("enter")
	if got, want := s.listed(), []string{"#24", "#29"}; !slices.Equal(got, want) {
		t.Errorf("denied lists %v, want %v", got, want)
	}
	s.shows("call 1 of 2 (37 in all)", "── #24 · journey")

	// The empty filter shows every call again.
	s.press("/", "ctrl+u", "enter")
	s.shows("call 24 of 37")
	s.hides("· filter ", "(37 in all)")
}

// A bad expression shows its error and a caret under the fault, keeps
// the input open to put it right, and keeps the filter in use.
func TestBadFilterShowsCaret(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("/")
	s.typeText("status>=400")
	s.press("enter", "/")
	s.typeText(" namespce=x")
	s.press("enter")
	s.shows(
		`  filter: unknown field "namespce"; did you mean "namespace"? at column 13`,
		"\n  status>=400 namespce=x\n",
		"\n              ^\n",
		"/ status>=400 namespce=x",
		"filter status>=400",
	)
	if got := s.listed(); !slices.Equal(got, errorCalls) {
		t.Errorf("after a bad filter the list is %v, want the previous filter's %v", got, errorCalls)
	}
	// Esc closes the input and the error; the filter stays.
	s.press("esc")
	s.hides("namespce", "^")
	s.shows("filter status>=400")
	if got := s.listed(); !slices.Equal(got, errorCalls) {
		t.Errorf("after esc the list is %v, want %v", got, errorCalls)
	}
	// Put right, it applies.
	s.press("/", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	s.typeText("stopped=authz")
	s.press("enter")
	if got, want := s.listed(), []string{"#24"}; !slices.Equal(got, want) {
		t.Errorf("stopped=authz lists %v, want %v", got, want)
	}
}

// Esc cancels a filter being typed.
func TestFilterCancel(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("/")
	s.typeText("denied")
	s.press("esc")
	s.shows("call 1 of 37")
	s.hides("filter denied")
}

// --filter picks the calls shown at first; a filter matching nothing
// says so.
func TestFilterFromFlag(t *testing.T) {
	cfg := sampleConfig()
	var err error
	if cfg.Filter, err = filter.Parse("write ns=sample status=409"); err != nil {
		t.Fatal(err)
	}
	s := start(t, 120, 24, cfg)
	if got, want := s.listed(), []string{"#27"}; !slices.Equal(got, want) {
		t.Errorf("--filter lists %v, want %v", got, want)
	}
	s.shows("filter write and namespace=sample and status=409", "409 Conflict  ✗ storage")
	s.press("/", "ctrl+u")
	s.typeText("status=500")
	s.press("enter")
	s.shows("no call to show", "── no call ─")
}
