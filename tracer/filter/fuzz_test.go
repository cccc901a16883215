package filter

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics; that its errors are
// *SyntaxError with a position inside the expression, a one-line Error
// and a two-line Caret; and that a filter's String parses back to the
// same normal form, matching the same test exchanges.
func FuzzParse(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.expr)
	}
	for _, c := range errorCases {
		f.Add(c.expr)
	}
	for _, s := range []string{`name="a \"b\"\n"`, "ns=日本", `"\t"`, "((a", "status>=4xx", "resource~*/*", "size>1.5GiB"} {
		f.Add(s)
	}
	xs := testExchanges()
	f.Fuzz(func(t *testing.T, expr string) {
		_, err := Parse(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T is not a *SyntaxError: %v", expr, err, err)
			}
			if se.Pos < 0 || se.Pos > len(expr) {
				t.Fatalf("Parse(%q): position %d outside the expression", expr, se.Pos)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("Parse(%q): error has more than one line: %q", expr, msg)
			}
			caret := se.Caret()
			if strings.Count(caret, "\n") != 1 {
				t.Fatalf("Parse(%q): caret is not two lines: %q", expr, caret)
			}
			if _, line, _ := strings.Cut(caret, "\n"); utf8.RuneCountInString(line) != se.column() {
				t.Fatalf("Parse(%q): caret line %q does not end at column %d", expr, line, se.column())
			}
			return
		}
		checkRoundTrip(t, expr, xs)
	})
}
