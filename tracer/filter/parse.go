package filter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxDepth bounds how deeply nots and parentheses nest.
const maxDepth = 64

// parser turns tokens into nodes. The grammar, loosest first:
//
//	or      = and { ("or" | "||") and }
//	and     = unary { [ "and" | "&&" ] unary }
//	unary   = ( "not" | "!" ) unary | primary
//	primary = "(" or ")" | WORD OP value | WORD | STRING
//	value   = WORD | STRING
type parser struct {
	expr  string
	toks  []token
	i     int
	depth int
	// lastValue is the index of the token that was the value of the last
	// comparison, for the hint to quote values with spaces.
	lastValue int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Expr: p.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// startsTerm reports whether t can begin a unary term.
func startsTerm(t token) bool {
	switch t.kind {
	case tNot, tLParen, tWord, tString:
		return true
	}
	return false
}

// describe names a token in an error message.
func (p *parser) describe(t token) string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return strconv.Quote(t.raw(p.expr))
}

// parse parses the whole expression; nil for an empty one.
func (p *parser) parse() (node, error) {
	if p.peek().kind == tEOF {
		return nil, nil
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t.kind {
	case tEOF:
		return n, nil
	case tRParen:
		return nil, p.errorf(t.pos, "unmatched )")
	default:
		return nil, p.errorf(t.pos, "unexpected %s", p.describe(t))
	}
}

// after checks that a term follows the operator or keyword op.
func (p *parser) after(op token) error {
	if t := p.peek(); !startsTerm(t) {
		return p.errorf(t.pos, "missing term after %s: found %s", op.raw(p.expr), p.describe(t))
	}
	return nil
}

func (p *parser) or() (node, error) {
	n, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []node{n}
	for p.peek().kind == tOr {
		if err := p.after(p.next()); err != nil {
			return nil, err
		}
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = appendFlat[*orNode](kids, n, func(o *orNode) []node { return o.kids })
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &orNode{kids: kids}, nil
}

func (p *parser) and() (node, error) {
	n, err := p.unary()
	if err != nil {
		return nil, err
	}
	kids := []node{n}
	for {
		t := p.peek()
		if t.kind == tAnd {
			if err := p.after(p.next()); err != nil {
				return nil, err
			}
		} else if !startsTerm(t) {
			break
		}
		// Juxtaposed terms are joined with and.
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		kids = appendFlat[*andNode](kids, n, func(a *andNode) []node { return a.kids })
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &andNode{kids: kids}, nil
}

// appendFlat appends n to kids, or n's own kids when n is a T (a
// parenthesized list of the same operator).
func appendFlat[T node](kids []node, n node, of func(T) []node) []node {
	if t, ok := n.(T); ok {
		return append(kids, of(t)...)
	}
	return append(kids, n)
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	if t.kind != tNot {
		return p.primary()
	}
	p.next()
	if err := p.after(t); err != nil {
		return nil, err
	}
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf(t.pos, "expression nested too deeply")
	}
	n, err := p.unary()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &notNode{kid: n}, nil
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		if r := p.peek(); r.kind == tRParen {
			return nil, p.errorf(r.pos, "empty parentheses")
		}
		if p.depth++; p.depth > maxDepth {
			return nil, p.errorf(t.pos, "expression nested too deeply")
		}
		n, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		switch r := p.next(); r.kind {
		case tRParen:
			return n, nil
		case tEOF:
			return nil, p.errorf(t.pos, "unclosed parenthesis: missing )")
		default:
			return nil, p.errorf(r.pos, "unexpected %s", p.describe(r))
		}
	case tString:
		if op := p.peek(); op.kind == tOp {
			return nil, p.errorf(op.pos, "unexpected %s after text: a quoted string searches text; field names are not quoted", p.describe(op))
		}
		return &textNode{n: newNeedle(t.text)}, nil
	case tWord:
		if p.peek().kind == tOp {
			return p.comparison(t)
		}
		return p.word(t)
	}
	return nil, p.errorf(t.pos, "unexpected %s", p.describe(t))
}

// word compiles a bare word alone: an atom or a status class.
func (p *parser) word(t token) (node, error) {
	name := strings.ToLower(t.text)
	if a := lookupAtom(name); a != nil {
		return &atomNode{a: a}, nil
	}
	if c, ok := statusClass(name); ok {
		return &classCmp{class: c}, nil
	}
	if f := lookupField(name); f != nil {
		at := p.peek()
		return nil, p.errorf(at.pos, "%s needs an operator and a value, e.g. %s", t.text, f.example)
	}
	msg := fmt.Sprintf("unknown word %q", t.text)
	if s := Suggest(name, wordNames()); s != "" {
		return nil, p.errorf(t.pos, "%s; did you mean %q?", msg, s)
	}
	if p.lastValue > 0 && p.lastValue == p.i-2 {
		// cmd=kubectl apply: the value was meant to go on.
		f, op, v := p.toks[p.lastValue-2], p.toks[p.lastValue-1], p.toks[p.lastValue]
		var b strings.Builder
		quote(&b, v.text+" "+t.text)
		return nil, p.errorf(t.pos, "%s; quote a value with spaces: %s%s%s", msg, f.raw(p.expr), op.raw(p.expr), b.String())
	}
	var b strings.Builder
	quote(&b, t.text)
	return nil, p.errorf(t.pos, "%s; to search for text, quote it: %s", msg, b.String())
}

// comparison compiles FIELD OP VALUE; t is the field.
func (p *parser) comparison(t token) (node, error) {
	name := strings.ToLower(t.text)
	op := p.next()
	f := lookupField(name)
	if f == nil {
		if lookupAtom(name) != nil || isClass(name) {
			return nil, p.errorf(op.pos, "%s takes no value: write %s alone, or not %s", t.text, name, name)
		}
		msg := fmt.Sprintf("unknown field %q", t.text)
		if s := Suggest(name, fieldNames()); s != "" {
			return nil, p.errorf(t.pos, "%s; did you mean %q?", msg, s)
		}
		return nil, p.errorf(t.pos, "%s", msg)
	}
	if !f.takes(op.text) {
		return nil, p.errorf(op.pos, "operator %q does not apply to %s; use %s", op.text, f.name, orList(f.ops()))
	}
	v := p.peek()
	if v.kind != tWord && v.kind != tString {
		// A keyword is no value either: in "ns= and watch" the value
		// is missing; name="not" is a name.
		return nil, p.errorf(v.pos, "missing value after %s%s, e.g. %s", t.raw(p.expr), op.raw(p.expr), f.example)
	}
	p.next()
	p.lastValue = p.i - 1
	return p.compile(f, t, op, v)
}

// compile checks a comparison's value and compiles it.
func (p *parser) compile(f *field, ft, op, vt token) (node, error) {
	v := vt.text
	glob := op.text == opGlob || op.text == opNGlob
	switch f.typ {
	case typeText:
		n := &textNode{n: newNeedle(v)}
		if op.text == opNGlob {
			n.op = opNGlob
		}
		return n, nil
	case typeInt, typeDuration, typeSize:
		return p.number(f, op, vt)
	}
	if !glob && strings.Contains(v, "*") {
		var b strings.Builder
		writeValue(&b, v)
		return nil, p.errorf(vt.pos, `"*" is a wildcard only with ~: write %s~%s`, ft.raw(p.expr), b.String())
	}
	if f.upper {
		v = upperASCII(v)
	}
	if f.typ == typeEnum && !glob {
		c, ok := f.canonical(v)
		if !ok {
			noun := f.name
			if f.noun != "" {
				noun = f.noun
			}
			msg := fmt.Sprintf("unknown %s %q", noun, v)
			if s := Suggest(strings.ToLower(v), f.valueNames()); s != "" {
				return nil, p.errorf(vt.pos, "%s; did you mean %q?", msg, s)
			}
			return nil, p.errorf(vt.pos, "%s; use %s", msg, orList(f.values))
		}
		v = c
	}
	if f.name == "group" && !glob && (v == "" || strings.EqualFold(v, coreGroup)) {
		v = coreGroup
	}
	c := &strCmp{f: f, op: op.text, value: v}
	if f.name == "resource" && strings.Contains(v, "/") {
		if glob && !strings.Contains(v, "*") {
			v = "*" + v + "*"
		}
		res, sub, _ := strings.Cut(v, "/")
		if !glob && (res == "" || sub == "") {
			return nil, p.errorf(vt.pos, "resource %q needs a resource and a subresource, e.g. resource=pods/exec", vt.text)
		}
		c.p = newPattern(res, glob)
		c.p.sub = newPattern(sub, glob)
		return c, nil
	}
	if glob && !strings.Contains(v, "*") {
		v = "*" + v + "*"
	}
	c.p = newPattern(v, glob)
	return c, nil
}

// canonical returns an enum value in its recorded spelling. "" is always
// accepted: it matches exchanges without the value.
func (f *field) canonical(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	if c, ok := f.valueAliases[strings.ToLower(v)]; ok {
		return c, true
	}
	for _, c := range f.values {
		if strings.EqualFold(c, v) {
			return c, true
		}
	}
	return "", false
}

// valueNames lists an enum's values and their aliases, for suggestions.
func (f *field) valueNames() []string {
	names := append([]string(nil), f.values...)
	for a := range f.valueAliases {
		names = append(names, a)
	}
	return names
}

// number compiles a comparison of a number field.
func (p *parser) number(f *field, op, vt token) (node, error) {
	v := vt.text
	if f.statusClasses {
		if c, ok := statusClass(strings.ToLower(v)); ok {
			if op.text != opEq && op.text != opNe {
				return nil, p.errorf(op.pos, "a status class takes only = and !=: write status=%s, or status%s%d", strings.ToLower(v), op.text, c*100)
			}
			return &classCmp{class: c, op: op.text}, nil
		}
	}
	var n float64
	var ok bool
	var hint string
	switch f.typ {
	case typeInt:
		n, ok = parseInt(v)
		hint = "a whole number"
		if f.statusClasses {
			hint += " or a class 1xx … 5xx, e.g. status>=400, status=4xx"
		} else {
			hint += ", e.g. " + f.example
		}
	case typeDuration:
		n, ok = parseDuration(v)
		hint = "milliseconds, or a number with a unit (ms, s, m, h), e.g. duration>200ms, duration>=1.5s"
	case typeSize:
		n, ok = parseSize(v)
		hint = "bytes, or a number with a unit (B, K or KB or KiB, M or MB or MiB, G or GB or GiB), e.g. size>10KiB"
	}
	if !ok {
		return nil, p.errorf(vt.pos, "bad %s %q: use %s", f.name, v, hint)
	}
	return &numCmp{f: f, op: op.text, lit: v, v: n}, nil
}

// statusClass reads 1xx … 5xx.
func statusClass(s string) (int, bool) {
	if len(s) == 3 && '1' <= s[0] && s[0] <= '5' && s[1:] == "xx" {
		return int(s[0] - '0'), true
	}
	return 0, false
}

func isClass(s string) bool { _, ok := statusClass(s); return ok }

// isDecimal reports whether s is digits with at most one decimal point.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

func parseInt(s string) (float64, bool) {
	if !isDecimal(s) || strings.Contains(s, ".") {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return float64(n), err == nil
}

// parseDuration reads milliseconds: a plain number, or a Go duration
// (100ms, 1.5s, 2m, 1m30s).
func parseDuration(s string) (float64, bool) {
	if isDecimal(s) {
		n, err := strconv.ParseFloat(s, 64)
		return n, err == nil && !math.IsInf(n, 0)
	}
	d, err := time.ParseDuration(strings.ToLower(s))
	if err != nil {
		return 0, false
	}
	return float64(d) / float64(time.Millisecond), true
}

// parseSize reads bytes: a number with an optional unit, all multiples of
// 1024.
func parseSize(s string) (float64, bool) {
	i := 0
	for i < len(s) && (s[i] == '.' || ('0' <= s[i] && s[i] <= '9')) {
		i++
	}
	num, unit := s[:i], strings.ToLower(s[i:])
	if !isDecimal(num) {
		return 0, false
	}
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, false
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(n*mult, 0) {
		return 0, false
	}
	return n * mult, true
}

// orList writes a, b or c.
func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func fieldNames() []string {
	var names []string
	for _, f := range fields {
		names = append(names, f.name)
		if f.alias != "" {
			names = append(names, f.alias)
		}
	}
	return names
}

// wordNames are the bare words a mistyped one may have meant.
func wordNames() []string {
	names := []string{"and", "or", "not"}
	for _, a := range atoms {
		names = append(names, a.name)
	}
	return append(names, fieldNames()...)
}

// Suggest returns the candidate closest to word, or "" when none is
// close: at most one edit away for short words, two for longer ones, or a
// word of three letters or more that begins a candidate.
func Suggest(word string, candidates []string) string {
	if len(word) > 40 {
		return ""
	}
	limit := 2
	if len([]rune(word)) <= 3 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		d := distance(word, strings.ToLower(c))
		if len(word) >= 3 && strings.HasPrefix(strings.ToLower(c), word) && d > 1 {
			d = 1
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
