package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Case-insensitive matching without allocation. Folding is Unicode simple
// folding, the same as strings.EqualFold, with a fast path for ASCII.

// lowerASCII lowers an ASCII letter and returns other bytes unchanged.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// upperASCII returns s with its ASCII letters in upper case.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// equalFoldRune reports whether a and b are equal under simple folding.
func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether s begins with prefix, ignoring case, and
// how many bytes of s the prefix matched (folding may change lengths).
func hasPrefixFold(s, prefix string) (int, bool) {
	i, j := 0, 0
	for j < len(prefix) {
		if i >= len(s) {
			return 0, false
		}
		a, b := s[i], prefix[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		ra, na := utf8.DecodeRuneInString(s[i:])
		rb, nb := utf8.DecodeRuneInString(prefix[j:])
		if (ra == utf8.RuneError && na == 1) || (rb == utf8.RuneError && nb == 1) {
			// An invalid byte matches only itself.
			if a != b {
				return 0, false
			}
			i++
			j++
			continue
		}
		if !equalFoldRune(ra, rb) {
			return 0, false
		}
		i += na
		j += nb
	}
	return i, true
}

// hasSuffixFold reports whether s ends with suffix, ignoring case, and how
// many bytes of s the suffix matched.
func hasSuffixFold(s, suffix string) (int, bool) {
	i, j := len(s), len(suffix)
	for j > 0 {
		if i == 0 {
			return 0, false
		}
		a, b := s[i-1], suffix[j-1]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i--
			j--
			continue
		}
		ra, na := utf8.DecodeLastRuneInString(s[:i])
		rb, nb := utf8.DecodeLastRuneInString(suffix[:j])
		if (ra == utf8.RuneError && na == 1) || (rb == utf8.RuneError && nb == 1) {
			if a != b {
				return 0, false
			}
			i--
			j--
			continue
		}
		if !equalFoldRune(ra, rb) {
			return 0, false
		}
		i -= na
		j -= nb
	}
	return len(s) - i, true
}

// A needle is a string to find anywhere in others, ignoring case. It
// knows the bytes its first rune can begin with in any case, so a search
// skips the other positions with one table lookup.
type needle struct {
	s     string
	first [256]bool
}

func newNeedle(s string) *needle {
	n := &needle{s: s}
	r, size := utf8.DecodeRuneInString(s)
	if s == "" || (r == utf8.RuneError && size <= 1) {
		// Empty, or invalid UTF-8 first: try every position.
		for i := range n.first {
			n.first[i] = true
		}
		return n
	}
	var buf [utf8.UTFMax]byte
	mark := func(r rune) {
		utf8.EncodeRune(buf[:], r)
		n.first[buf[0]] = true
	}
	mark(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		mark(f)
	}
	return n
}

// index returns where the needle first occurs in s, ignoring case, and how
// many bytes of s it covers there; -1 when it does not occur.
func (n *needle) index(s string) (int, int) {
	if n.s == "" {
		return 0, 0
	}
	for i := 0; i < len(s); {
		c := s[i]
		if n.first[c] {
			if m, ok := hasPrefixFold(s[i:], n.s); ok {
				return i, m
			}
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1, 0
}

// in reports whether the needle occurs in s.
func (n *needle) in(s string) bool {
	i, _ := n.index(s)
	return i >= 0
}

// A pattern is a compiled value: exact (=) or a glob (~) in which each *
// stands for any run of characters, both ignoring case. A ~ value with no
// star is compiled as *value*, so it matches anywhere.
type pattern struct {
	glob bool
	// exact is the whole value, when not glob.
	exact string
	// prefix and suffix are the parts before the first and after the last
	// star; middle are the parts between stars, found in order.
	prefix, suffix string
	middle         []*needle
	// sub is the subresource part of a resource value with a slash
	// ("pods/exec"); nil otherwise.
	sub *pattern
}

// newPattern compiles v. For a glob, v is taken as written: the caller
// wraps a star-less value in stars.
func newPattern(v string, glob bool) *pattern {
	if !glob {
		return &pattern{exact: v}
	}
	parts := strings.Split(v, "*")
	p := &pattern{glob: true, prefix: parts[0], suffix: parts[len(parts)-1]}
	if len(parts) == 1 {
		// No star at all: the whole value, anchored at both ends.
		return &pattern{exact: v}
	}
	for _, m := range parts[1 : len(parts)-1] {
		if m != "" {
			p.middle = append(p.middle, newNeedle(m))
		}
	}
	return p
}

// match reports whether s matches the pattern.
func (p *pattern) match(s string) bool {
	if !p.glob {
		return strings.EqualFold(s, p.exact)
	}
	n, ok := hasPrefixFold(s, p.prefix)
	if !ok {
		return false
	}
	s = s[n:]
	n, ok = hasSuffixFold(s, p.suffix)
	if !ok {
		return false
	}
	s = s[:len(s)-n]
	for _, m := range p.middle {
		i, n := m.index(s)
		if i < 0 {
			return false
		}
		s = s[i+n:]
	}
	return true
}
