package tui

import (
	"strings"
	"testing"
)

// o shows kubewire's own calls (marked ⚙), numbered as replay --show-own
// numbers them, and hides them again; the selection stays on its call.
func TestOwnCalls(t *testing.T) {
	s := start(t, 100, 60, sampleConfig())
	s.hides("⚙ kubewire")
	s.press("e", "e", "e") // the intern's denial, #24 of 37
	s.press("o")
	s.shows("own calls shown", "showing kubewire's own calls too (⚙)")
	got := s.selected()
	if !strings.Contains(got, "system:serviceaccount:sample:intern  403") {
		t.Errorf("with kubewire's own calls the selection moved to %q", got)
	}
	if n := strings.Fields(got)[0]; n == "#24" {
		t.Errorf("with kubewire's own calls the denial is still %s; the numbers should count them", n)
	}
	s.shows("of 41 ·")
	s.press("g")
	s.shows("⚙ kubewire  GET→list  flowcontrol.apiserver.k8s.io/v1 GA  flowschemas")
	s.press("e", "e", "e", "o")
	s.hides("⚙ kubewire", "own calls shown")
	s.shows("call 24 of 37", "hiding kubewire's own calls")
}

// --show-own starts with them shown.
func TestOwnCallsFromFlag(t *testing.T) {
	cfg := sampleConfig()
	cfg.Options.ShowOwn = true
	s := start(t, 100, 30, cfg)
	s.shows("call 1 of 41", "own calls shown")
	if got := s.selected(); !strings.Contains(got, "⚙ kubewire") {
		t.Errorf("the first call is %q, want kubewire's own", got)
	}
}
