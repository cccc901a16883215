package tui

import (
	"fmt"
	"strings"
	"testing"
)

// Every size lays out whole: exactly the screen's lines, none wider (the
// screen helper checks both on every view), the list, the detail and the
// status line down to 40×10, and below that a message.
func TestResize(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("e", "e", "e") // the intern's denial
	for _, size := range []struct{ w, h int }{
		{80, 24}, {160, 48}, {140, 20}, {139, 20}, {120, 40}, {40, 10}, {41, 11}, {200, 60}, {40, 10},
	} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			s.t = t
			s.resize(size.w, size.h)
			s.shows("#24  +1.910s", "call 24 of 37", "q quit")
			s.hides("terminal too small")
			if got := s.selected(); !strings.HasPrefix(got, "#24 ") {
				t.Errorf("resizing moved the selection to %q", got)
			}
			// The large mode and the full help fit too; the full help
			// is cut on a narrow screen.
			s.press("L")
			s.shows("#24  +1.910s", "q quit")
			s.press("L", "?")
			if size.w >= 80 {
				s.shows("q quit")
			}
			s.shows("↑/k  up")
			s.press("?")
		})
	}
	s.t = t
}

// At 40×10, the smallest laid out, each part still has its line.
func TestResizeSmallest(t *testing.T) {
	s := start(t, 40, 10, sampleConfig())
	s.press("e", "e", "e")
	lines := strings.Split(s.view(), "\n")
	want := []string{
		"  #23  +1.809s  POST→create  v1 GA  ser…",
		"> #24  +1.910s  GET→list  v1 GA  pods  …",
		"── #24 · journey · lines 1-5 of 44 ─────",
		"#24  +1.910s  GET→list  v1 GA  pods",
		"    ns shop",
		"    system:serviceaccount:sample:intern",
		"    403 Forbidden  ✗ authz  5.3ms  277 B",
		"    client → authn ✓ → APF ✓ → authz ✗",
		" call 24 of 37 · detail journey",
		"j/k move  / filter  ? keys  q quit",
	}
	for i := range want {
		if got := strings.TrimRight(lines[i], " "); got != want[i] {
			t.Errorf("line %d is\n%q, want\n%q", i+1, got, want[i])
		}
	}
	// The filter input and its errors take lines from the panes.
	s.press("/")
	s.typeText("bad=")
	s.press("enter")
	s.shows("^", "/ bad=", "enter apply")
}

// Below 40×10 the screen says it is too small, and keys still work: q
// quits; made bigger again, it lays out as before.
func TestResizeTooSmall(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("j")
	for _, size := range []struct{ w, h int }{{30, 8}, {39, 10}, {40, 9}, {1, 1}} {
		s.resize(size.w, size.h)
		v := s.view()
		if size.w >= len("terminal too small") && !strings.HasPrefix(v, "terminal too small ") {
			t.Errorf("at %dx%d the screen is\n%s", size.w, size.h, v)
		}
	}
	s.resize(30, 8)
	s.shows("terminal too small", "30×8; need 40×10", "q quits")
	s.resize(80, 24)
	s.shows("── #2 · journey", "call 2 of 37")
	s.resize(30, 8)
	s.press("q")
	if !s.quit {
		t.Error("q did not quit on a screen too small")
	}
}
