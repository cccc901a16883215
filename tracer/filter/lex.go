package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind int

const (
	tEOF    tokenKind = iota
	tWord             // a bare word: letters, digits and -_./:*@
	tString           // a double-quoted string; text is its decoded value
	tOp               // a comparison operator; text is its normal spelling
	tAnd              // and, &&
	tOr               // or, ||
	tNot              // not, !
	tLParen           // (
	tRParen           // )
)

// A token is one lexical element of an expression.
type token struct {
	kind tokenKind
	// pos and end are the byte offsets of the token in the expression.
	pos, end int
	// text is the word as written, the decoded string, or the operator.
	text string
}

// raw returns the token as it was written.
func (t token) raw(expr string) string { return expr[t.pos:t.end] }

// Comparison operators, in their normal spelling.
const (
	opEq    = "="
	opNe    = "!="
	opLt    = "<"
	opLe    = "<="
	opGt    = ">"
	opGe    = ">="
	opGlob  = "~"
	opNGlob = "!~"
)

// isWordRune reports whether r may appear in a bare word.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:*@", r)
}

// isBare reports whether s can be written as a bare word.
func isBare(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isWordRune(r) {
			return false
		}
	}
	return true
}

// isKeyword reports whether a bare word is and, or or not, in any case.
func isKeyword(w string) bool {
	return strings.EqualFold(w, "and") || strings.EqualFold(w, "or") || strings.EqualFold(w, "not")
}

// quote writes s as a double-quoted string the lexer reads back as s.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// lex splits expr into tokens, ending with a tEOF token.
func lex(expr string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(expr) {
		r, size := utf8.DecodeRuneInString(expr[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		start := i
		two := ""
		if i+1 < len(expr) {
			two = expr[i : i+2]
		}
		emit := func(k tokenKind, n int, text string) {
			toks = append(toks, token{kind: k, pos: start, end: start + n, text: text})
			i = start + n
		}
		switch {
		case r == '(':
			emit(tLParen, 1, "(")
		case r == ')':
			emit(tRParen, 1, ")")
		case two == "&&":
			emit(tAnd, 2, "and")
		case two == "||":
			emit(tOr, 2, "or")
		case two == "!=":
			emit(tOp, 2, opNe)
		case two == "!~":
			emit(tOp, 2, opNGlob)
		case r == '!':
			emit(tNot, 1, "not")
		case two == "==":
			emit(tOp, 2, opEq)
		case r == '=':
			emit(tOp, 1, opEq)
		case two == "<=":
			emit(tOp, 2, opLe)
		case r == '<':
			emit(tOp, 1, opLt)
		case two == ">=":
			emit(tOp, 2, opGe)
		case r == '>':
			emit(tOp, 1, opGt)
		case r == '~':
			emit(tOp, 1, opGlob)
		case r == '"':
			t, err := lexString(expr, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		case isWordRune(r):
			j := i
			for j < len(expr) {
				r, size := utf8.DecodeRuneInString(expr[j:])
				if !isWordRune(r) {
					break
				}
				j += size
			}
			word := expr[i:j]
			switch lower := strings.ToLower(word); {
			case !isKeyword(word):
				emit(tWord, j-i, word)
			case lower == "and":
				emit(tAnd, j-i, lower)
			case lower == "or":
				emit(tOr, j-i, lower)
			default:
				emit(tNot, j-i, lower)
			}
		default:
			return nil, &SyntaxError{Expr: expr, Pos: i, Msg: unexpectedChar(expr[i:], r, size)}
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(expr), end: len(expr)})
	return toks, nil
}

// unexpectedChar describes a character no token starts with, with a hint
// for the usual mistakes.
func unexpectedChar(rest string, r rune, size int) string {
	c := rest[:size]
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("unexpected byte %#x", rest[0])
	}
	switch r {
	case '&':
		return `unexpected "&"; did you mean "&&"?`
	case '|':
		return `unexpected "|"; did you mean "||"?`
	case ',':
		return `unexpected ","; to accept several values join comparisons with or: verb=get or verb=list`
	case '\'':
		return `unexpected "'"; quote strings with double quotes: "like this"`
	}
	return fmt.Sprintf("unexpected %q", c)
}

// lexString reads the double-quoted string that starts at expr[start].
func lexString(expr string, start int) (token, error) {
	var b strings.Builder
	i := start + 1
	for i < len(expr) {
		c := expr[i]
		switch c {
		case '"':
			return token{kind: tString, pos: start, end: i + 1, text: b.String()}, nil
		case '\\':
			if i+1 >= len(expr) {
				return token{}, &SyntaxError{Expr: expr, Pos: start, Msg: "unterminated string"}
			}
			switch e := expr[i+1]; e {
			case '"', '\\':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				r, _ := utf8.DecodeRuneInString(expr[i+1:])
				what := fmt.Sprintf(`"\%c"`, r)
				if !unicode.IsPrint(r) {
					what = fmt.Sprintf(`"\" followed by %q`, r)
				}
				return token{}, &SyntaxError{Expr: expr, Pos: i,
					Msg: fmt.Sprintf(`unknown escape %s in string; the escapes are \" \\ \n \t \r`, what)}
			}
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return token{}, &SyntaxError{Expr: expr, Pos: start, Msg: "unterminated string"}
}
