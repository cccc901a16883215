package render

import (
	"testing"

	"charm.land/lipgloss/v2"
)

// A word wrap that leaves a breakpoint at the very edge must not exceed the
// width (found on a real capture: a URL followed by "+ added, - removed").
func TestWrapNeverExceedsWidth(t *testing.T) {
	text := "upstream HTTP/1.1 https://127.0.0.1:46469/openapi/v3/version (headers kubewire changed: + added, - removed, ~ changed)"
	for _, width := range []int{40, 60, 80, 99, 100, 101, 160} {
		r := newRenderer(Options{Width: width})
		for _, l := range r.wrapHang(text, "    ", "    ") {
			if w := lipgloss.Width(l); w > width {
				t.Errorf("width %d: line of %d columns: %q", width, w, l)
			}
		}
	}
}
