package redact

import (
	"bytes"
	"testing"
)

// mayMatch finds what a rule looks for wherever it sits, also across the
// windows it scans a large body in, and finds nothing in a body without it.
func TestMayMatchAcrossWindows(t *testing.T) {
	for _, at := range []int{0, 1, 32<<10 - 5, 32<<10 - 1, 32 << 10, 64<<10 - 3, 100 << 10} {
		data := bytes.Repeat([]byte("x"), 128<<10)
		copy(data[at:], "Pass_Word")
		if !mayMatch(data) {
			t.Errorf("a password at byte %d was missed", at)
		}
	}
	if mayMatch(bytes.Repeat([]byte("configuration-value "), 10000)) {
		t.Error("a body with nothing to look for matched")
	}
}
