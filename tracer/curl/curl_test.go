package curl

import (
	"os/exec"
	"strings"
	"testing"
)

// A quoted word reaches the command as it was, through a real POSIX sh,
// whatever it holds: quotes, $, backslashes, newlines, globs.
func TestQuoteThroughSh(t *testing.T) {
	for _, s := range []string{
		"", "plain", "it's", "'", "''", `a\b`, "$HOME $(id) `id`", "*?[a]", "line\nbreak", "tab\there", `"double"`, "ümlaut ✓",
		"/api/v1/namespaces/demo/configmaps?labelSelector=app%3Dweb&limit=500",
	} {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("Quote(%q) reached sh as %q", s, out)
		}
		if w := word(s); w != s && w != Quote(s) {
			t.Errorf("word(%q) = %q", s, w)
		}
	}
}

// A here-document's delimiter is never a line of the body it ends.
func TestDelimiterAvoidsTheBody(t *testing.T) {
	body := "a\nKUBEWIRE_BODY\nKUBEWIRE_BODY_1\nb"
	d := delimiter([]byte(body))
	for _, line := range strings.Split(body, "\n") {
		if line == d {
			t.Fatalf("delimiter %q is a line of the body", d)
		}
	}
	script := "cat <<'" + d + "'\n" + body + "\n" + d + "\n"
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil || string(out) != body+"\n" {
		t.Errorf("here-document gave %q (%v), want the body", out, err)
	}
}
