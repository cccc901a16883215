// Package filter is kubewire's filter language: small expressions over
// recorded exchanges, such as `watch ns=demo`, `denied or status>=500` or
// `cmd="kubectl apply" and write`, shared by replay, the step-through
// view, HAR export and lessons.
//
// Parse compiles an expression once; Match then tests exchanges without
// allocating. The language is specified in docs/filters.md.
package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kubewire/kubewire/tracer/record"
)

// Filter is a compiled expression. A nil *Filter, like the empty
// expression, matches every exchange. A Filter is safe for concurrent use.
type Filter struct {
	root node // nil: match everything
}

// Parse compiles an expression; errors are *SyntaxError. An expression
// of only spaces matches every exchange.
func Parse(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{expr: expr, toks: toks}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Filter{root: root}, nil
}

// Match reports whether the exchange matches.
func (f *Filter) Match(x *record.Exchange) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.match(x)
}

// String returns the expression in a normalized form, which Parse reads
// back as an equivalent filter: keywords in lower case, an explicit and
// between juxtaposed terms, fields by their full names (namespace, not
// ns), enum values in their recorded spelling (stopped=authorization,
// method=GET), values quoted only when they must be, and only the
// parentheses precedence needs. The empty filter is "".
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.format(&b, 0)
	return b.String()
}

// SyntaxError is an expression Parse could not compile.
type SyntaxError struct {
	// Expr is the whole expression.
	Expr string
	// Pos is the byte offset of the offending token in Expr; len(Expr)
	// when something is missing at the end.
	Pos int
	// Msg says what is wrong, often with a hint.
	Msg string
}

// Error returns one line: "filter: MSG at column N", N counting runes
// from 1.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter: %s at column %d", e.Msg, e.column())
}

// column is the 1-based rune column of Pos.
func (e *SyntaxError) column() int {
	pos := min(max(e.Pos, 0), len(e.Expr))
	return utf8.RuneCountInString(e.Expr[:pos]) + 1
}

// Caret returns two lines: the expression, then a caret (^) under the
// offending token. Columns count runes; a tab in the expression is
// repeated on the caret line so the two stay aligned, and line breaks in
// the expression are shown as spaces.
func (e *SyntaxError) Caret() string {
	var b strings.Builder
	for _, r := range e.Expr {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		b.WriteRune(r)
	}
	b.WriteByte('\n')
	pos := min(max(e.Pos, 0), len(e.Expr))
	for _, r := range e.Expr[:pos] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}
