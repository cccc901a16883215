package tui

import (
	"strings"
	"testing"
)

// s (or ctrl+f) searches the calls' text as the detail shows it; n and N
// go to the next and previous call holding it, and the detail scrolls to
// it.
func TestSearch(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("s")
	s.shows("search: ")
	s.typeText("INTERN")
	s.press("enter")
	s.shows(`"INTERN": 3 of the calls shown match (n next, N previous)`, `search "INTERN"`,
		"response   ServiceAccount sample/intern")
	if got := s.selected(); !strings.HasPrefix(got, "#22 ") {
		t.Errorf("the first match is %q, want #22, the intern's ServiceAccount", got)
	}
	s.press("n")
	if got := s.selected(); !strings.HasPrefix(got, "#23 ") {
		t.Errorf("n went to %q, want #23, the intern's token", got)
	}
	s.press("n")
	if got := s.selected(); !strings.HasPrefix(got, "#24 ") {
		t.Errorf("n went to %q, want #24, the intern's denial", got)
	}
	s.press("n")
	s.shows(`no call matching "INTERN" after #24`)
	s.press("N", "N")
	if got := s.selected(); !strings.HasPrefix(got, "#22 ") {
		t.Errorf("N N went to %q, want #22", got)
	}

	// ctrl+f too; text the calls do not hold is said so.
	s.press("ctrl+f", "ctrl+u")
	s.typeText("no such text")
	s.press("enter")
	s.shows(`"no such text" is in none of the calls shown, at detail journey`)

	// An empty search ends the search.
	s.press("s", "ctrl+u", "enter", "n")
	s.hides(`search "`)
	s.shows("no search yet: s to search")
}

// The search reads what the detail shows: a header is found at the
// headers level, not at the journey.
func TestSearchFollowsLevel(t *testing.T) {
	s := start(t, 120, 24, sampleConfig())
	s.press("s")
	s.typeText("X-Kubernetes-Pf-Flowschema-Uid")
	s.press("enter")
	s.shows("is in none of the calls shown, at detail journey")
	s.press("3", "n")
	s.shows("detail headers", "X-Kubernetes-Pf-Flowschema-Uid")
	if got := s.selected(); !strings.HasPrefix(got, "#2 ") {
		t.Errorf("n at the headers went to %q, want #2", got)
	}
}
