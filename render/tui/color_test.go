package tui

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sgrParams returns the parameters of every SGR sequence in s.
func sgrParams(s string) [][]string {
	var out [][]string
	for _, seq := range regexp.MustCompile("\x1b\\[([0-9;:]*)m").FindAllStringSubmatch(s, -1) {
		out = append(out, strings.Split(seq[1], ";"))
	}
	return out
}

// hasSGR reports whether s sets the SGR parameter p.
func hasSGR(s, p string) bool {
	for _, params := range sgrParams(s) {
		for _, q := range params {
			if q == p {
				return true
			}
		}
	}
	return false
}

// colours returns the colour parameters s sets: foreground and background,
// basic, bright or extended.
func colours(s string) []string {
	var out []string
	for _, params := range sgrParams(s) {
		for _, p := range params {
			n, err := strconv.Atoi(p)
			if err == nil && (n >= 30 && n <= 49 || n >= 90 && n <= 107) {
				out = append(out, p)
			}
		}
	}
	return out
}

// The screens a session goes through, as raw frames.
func frames(t *testing.T, cfg Config) []string {
	s := start(t, 100, 30, cfg)
	var out []string
	snap := func(keys ...string) {
		s.press(keys...)
		out = append(out, s.m.View().Content)
	}
	snap()                                    // the list and the detail
	snap("e", "e", "e", "4")                  // the denial's bodies
	snap("?")                                 // the full help
	snap("/", "n", "s", "=", "enter")         // a bad filter
	snap("esc", "s", "i", "n", "t", "e", "r") // a search being typed
	snap("enter", "o", "L", "tab")            // the large mode
	return out
}

// Without colour (NO_COLOR, --color never) no frame sets a colour: only
// bold and reverse video, which monochrome terminals show.
func TestNoColor(t *testing.T) {
	for i, f := range frames(t, sampleConfig()) {
		if c := colours(f); len(c) > 0 {
			t.Errorf("frame %d sets colours %v without colour:\n%q", i, c, f)
		}
	}
}

// With colour only the 16 ANSI palette colours are used, which the
// terminal's theme defines: they read on light and dark backgrounds.
func TestColorIsThePalette(t *testing.T) {
	cfg := sampleConfig()
	cfg.Options.Color = true
	seen := false
	for i, f := range frames(t, cfg) {
		for _, c := range colours(f) {
			seen = true
			if c == "38" || c == "48" {
				t.Errorf("frame %d uses an extended colour (%s), not the 16-colour palette", i, c)
			}
		}
	}
	if !seen {
		t.Error("with colour no frame has any colour")
	}
}

func TestUndim(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[90m6.2ms\x1b[m", "\x1b[39m6.2ms\x1b[m"},
		{"\x1b[1;90m#1\x1b[m", "\x1b[1;39m#1\x1b[m"},
		{"\x1b[2mfaint\x1b[m", "\x1b[22mfaint\x1b[m"},
		{"\x1b[31;1m✗\x1b[m", "\x1b[31;1m✗\x1b[m"},
		// 90 and 2 as arguments of an extended colour are not attributes.
		{"\x1b[38;5;90mx\x1b[m", "\x1b[38;5;90mx\x1b[m"},
		{"\x1b[38;2;90;2;90;1mx", "\x1b[38;2;90;2;90;1mx"},
	} {
		if got := undim(tc.in); got != tc.want {
			t.Errorf("undim(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
