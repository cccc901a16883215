package tui

import (
	"strings"
	"testing"

	"github.com/kubewire/kubewire/render"
)

// 1 to 4 choose the detail pane's level, + and - step it; the detail is
// Call.Render at that level, as the replay shows it.
func TestDetailLevels(t *testing.T) {
	s := start(t, 100, 70, sampleConfig())
	s.press("e", "e", "e") // #24, the intern's denial
	journey := "client → authn ✓ → APF ✓ → authz ✗ → admission ○ → validation ○ → storage ·"
	s.shows("── #24 · journey", journey, "detail journey")
	s.hides("> User-Agent:")

	s.press("1")
	s.shows("── #24 · line · lines 1-2 of 2", "detail line", "✗ authz  5.3ms  277 B")
	s.hides(journey)

	s.press("3")
	s.shows("── #24 · headers", journey, "> User-Agent: kubectl/", "< 403 Forbidden HTTP/2.0")
	s.hides("Status Failure")

	s.press("4")
	s.shows("── #24 · bodies", "Status Failure  Forbidden (403)")

	s.press("+") // already the most
	s.shows("── #24 · bodies")
	s.press("-", "-")
	s.shows("── #24 · journey")
	s.press("-", "-")
	s.shows("── #24 · line")
	s.press("=", "2")
	s.shows("── #24 · journey")
}

// -d and -v choose the level the detail starts at.
func TestLevelFromFlag(t *testing.T) {
	cfg := sampleConfig()
	cfg.Options.Detail = render.LevelHeaders
	s := start(t, 100, 30, cfg)
	s.shows("── #1 · headers", "detail headers", "> GET /api?timeout=32s HTTP/1.1")
}

// L is the projector's mode: the detail takes the screen under a header,
// the selected call's line, and the list's other calls are gone; j and k
// still step through the calls.
func TestLargeMode(t *testing.T) {
	s := start(t, 80, 24, sampleConfig())
	s.press("e", "e", "e", "L")
	v := s.view()
	lines := strings.Split(v, "\n")
	if !strings.HasPrefix(lines[0], "#24  +1.910s  GET→list  v1 GA  pods  ns shop  system:serviceaccount") {
		t.Errorf("the header is %q, want #24's line", lines[0])
	}
	if got := s.listed(); len(got) != 0 {
		t.Errorf("the large mode lists %v, want no list", got)
	}
	s.hides("── #")
	s.shows("client → authn ✓ → APF ✓ → authz ✗", "lines 1-20 of 20")
	s.press("j")
	if l := strings.Split(s.view(), "\n")[0]; !strings.HasPrefix(l, "#25  ") {
		t.Errorf("after j the header is %q, want #25's line", l)
	}
	s.press("L")
	s.shows("── #25 · journey")
}

// With colour, the large mode's detail has no dim text (the palette's
// bright black, which a projector washes out) and its header is bold in
// reverse video; the other colours stay.
func TestLargeModeHasNoDimText(t *testing.T) {
	cfg := sampleConfig()
	cfg.Options.Color = true
	s := start(t, 80, 24, cfg)
	s.press("e", "e", "e")
	if raw := s.m.View().Content; !hasSGR(raw, "90") {
		t.Fatal("the ordinary detail has no dim text to take away; the test shows nothing")
	}
	s.press("L")
	raw := s.m.View().Content
	if hasSGR(raw, "90") {
		t.Errorf("the large mode has dim text:\n%q", raw)
	}
	if !hasSGR(raw, "31") {
		t.Errorf("the large mode lost the denial's red:\n%q", raw)
	}
	if first, _, _ := strings.Cut(raw, "\n"); !strings.HasPrefix(first, "\x1b[1;7m#24") {
		t.Errorf("the header is %q, want bold in reverse video", first)
	}
}
