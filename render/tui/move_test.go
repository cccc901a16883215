package tui

import (
	"slices"
	"strings"
	"testing"
)

// The keys of the list move the selection, the detail follows it, and the
// status line counts.
func TestMove(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	if got := s.selected(); !strings.HasPrefix(got, "#1  +0.000s  GET→get  /api") {
		t.Errorf("first selected %q, want #1, the discovery of /api", got)
	}
	s.shows("call 1 of 37", "detail journey", "── #1 · journey · lines 1-")
	for _, step := range []struct {
		keys []string
		want string
	}{
		{[]string{"j", "j"}, "#3 "},
		{[]string{"k"}, "#2 "},
		{[]string{"down", "down", "up"}, "#3 "},
		{[]string{"G"}, "#37 "},
		{[]string{"j"}, "#37 "}, // the last stays the last
		{[]string{"g"}, "#1 "},
		{[]string{"k"}, "#1 "},
		{[]string{"pgdown"}, "#8 "}, // a page is the list's 7 lines
		{[]string{"pgup"}, "#1 "},
		{[]string{"end"}, "#37 "},
		{[]string{"home"}, "#1 "},
	} {
		s.press(step.keys...)
		if got := s.selected(); !strings.HasPrefix(got, step.want) {
			t.Errorf("after %v: selected %q, want %s", step.keys, got, step.want)
		}
		s.shows("── " + strings.TrimSpace(step.want) + " · journey")
	}
	s.press("G")
	s.shows("call 37 of 37", "DELETE→delete  v1 GA  namespaces/sample")
	if got := s.listed(); got[len(got)-1] != "#37" {
		t.Errorf("the list scrolled to %v, want #37 last", got)
	}
}

// Tab gives the detail the keys: j and k scroll it, and the selection
// stays; tab again gives them back to the list.
func TestFocusScrollsDetail(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("tab")
	s.shows("══ #1 · journey · lines 1-14 of 17 · scrolling ══")
	s.press("j", "j")
	s.shows("lines 3-16 of 17")
	if got := s.selected(); !strings.HasPrefix(got, "#1 ") {
		t.Errorf("scrolling the detail moved the selection to %q", got)
	}
	s.press("G")
	s.shows("lines 4-17 of 17")
	s.press("g")
	s.shows("lines 1-14 of 17")
	s.press("tab", "j")
	s.shows("── #2 · journey · lines 1-")
	s.hides("scrolling")
}

// e and E walk the errors and denials; the denial's detail is its
// journey, stopped at authorization.
func TestErrorJumps(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	var got []string
	for range 6 {
		s.press("e")
		got = append(got, strings.Fields(s.selected())[0])
	}
	if want := []string{"#10", "#19", "#24", "#25", "#27", "#29"}; !slices.Equal(got, want) {
		t.Errorf("e went to %v, want %v", got, want)
	}
	s.press("e")
	s.shows("no error or denial after #29")
	for _, want := range []string{"#27", "#25", "#24"} {
		s.press("E")
		if got := strings.Fields(s.selected())[0]; got != want {
			t.Errorf("E went to %s, want %s", got, want)
		}
	}
	s.shows("#24  +1.910s  GET→list  v1 GA  pods  ns shop",
		"system:serviceaccount:sample:intern  403 Forbidden  ✗ authz",
		"client → authn ✓ → APF ✓ → authz ✗ → admission ○ → validation ○ → storage ·",
		`authz      ✗ "system:serviceaccount:sample:intern" may not list pods in`)
	s.press("g", "E")
	s.shows("no error or denial before #1")
}

// q quits, and so does ctrl+c, even in the input.
func TestQuit(t *testing.T) {
	for _, keys := range [][]string{{"q"}, {"ctrl+c"}, {"/", "ctrl+c"}, {"s", "ctrl+c"}} {
		s := start(t, 80, 24, sampleConfig())
		s.press(keys...)
		if !s.quit {
			t.Errorf("%v did not quit", keys)
		}
	}
	s := start(t, 80, 24, sampleConfig())
	s.press("/", "q")
	if s.quit {
		t.Error("q in the filter input quit; it should be typed")
	}
	s.shows("/ q")
}
