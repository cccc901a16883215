package filter

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestPattern(t *testing.T) {
	for _, c := range []struct {
		pattern string
		glob    bool
		s       string
		want    bool
	}{
		{"Pods", false, "pods", true},
		{"pods", false, "pods/exec", false},
		{"", false, "", true},
		{"*", true, "", true},
		{"*", true, "anything", true},
		{"a*a", true, "a", false},
		{"a*a", true, "aa", true},
		{"a*a", true, "aXa", true},
		{"kube-*", true, "KUBE-system", true},
		{"kube-*", true, "kube", false},
		{"*system", true, "kube-system", true},
		{"*-*-*", true, "a-b-c", true},
		{"*-*-*", true, "a-b", false},
		{"*ab*ab*", true, "xabyab", true},
		{"*ab*ab*", true, "xaby", false},
		{"k*", true, "\u212aelvin", true}, // KELVIN SIGN folds to k
		{"*ſ*", true, "S", true},          // LATIN SMALL LETTER LONG S folds to s
		{"é*", true, "École", true},
		{"e*", true, "École", false},
		{"é*", true, "ÉCOLE", true},
		{"*日本", true, "東京日本", true},
		{"x*", true, "\xffx", false},
		{"\xff*", true, "\xffx", true},
		{"*\xff", true, "x\xff", true},
		{"\uFFFD*", true, "\xffx", false},
		{"*\uFFFD", true, "x\xfe", false},
	} {
		p := newPattern(c.pattern, c.glob)
		if got := p.match(c.s); got != c.want {
			t.Errorf("pattern %q (glob %v) matches %q: %v, want %v", c.pattern, c.glob, c.s, got, c.want)
		}
	}
}

func TestNeedle(t *testing.T) {
	for _, c := range []struct {
		needle, s string
		i, n      int
	}{
		{"web", "xxWEB-1", 2, 3},
		{"", "abc", 0, 0},
		{"aab", "aaab", 1, 3},
		{"k", "a\u212a", 1, 3},
		{"\u212a", "aK", 1, 1},
		{"x", "\xff", -1, 0},
		{"forbidden", `"message":"secrets is Forbidden"`, 22, 9},
		{"ünï", "xÜNÏ", 1, 5},
	} {
		i, n := newNeedle(c.needle).index(c.s)
		if i != c.i || n != c.n {
			t.Errorf("index of %q in %q = %d, %d; want %d, %d", c.needle, c.s, i, n, c.i, c.n)
		}
	}
}

// TestPatternAgainstRegexp compares globs with the equivalent regular
// expressions, whose (?i) is the same simple folding, on random strings
// over an alphabet that has the awkward foldings.
func TestPatternAgainstRegexp(t *testing.T) {
	alphabet := []string{"a", "A", "k", "K", "\u212a", "s", "ſ", "é", "É", "-", "*"}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int, stars bool) string {
		var b strings.Builder
		for range rng.IntN(n + 1) {
			c := alphabet[rng.IntN(len(alphabet))]
			if c == "*" && !stars {
				c = "a"
			}
			b.WriteString(c)
		}
		return b.String()
	}
	for range 20000 {
		pat, s := word(5, true), word(8, false)
		parts := strings.Split(pat, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`(?is)^` + strings.Join(parts, ".*") + `$`)
		if got, want := newPattern(pat, true).match(s), re.MatchString(s); got != want {
			t.Fatalf("glob %q on %q: %v, regexp %s says %v", pat, s, got, re, want)
		}
		if pat != "" && !strings.Contains(pat, "*") {
			i, _ := newNeedle(pat).index(s)
			loc := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(pat)).FindStringIndex(s)
			if (i >= 0) != (loc != nil) || (loc != nil && i != loc[0]) {
				t.Fatalf("index of %q in %q: %d, regexp says %v", pat, s, i, loc)
			}
		}
	}
}
