package filter

import (
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

// A node is one compiled part of an expression.
type node interface {
	match(x *record.Exchange) bool
	// format writes the node in normal form; prec is the precedence of
	// the context, so that the node adds parentheses when it binds less.
	format(b *strings.Builder, prec int)
}

// Precedences, loosest first.
const (
	precOr = iota + 1
	precAnd
	precNot
)

type orNode struct{ kids []node }

func (n *orNode) match(x *record.Exchange) bool {
	for _, k := range n.kids {
		if k.match(x) {
			return true
		}
	}
	return false
}

func (n *orNode) format(b *strings.Builder, prec int) { formatList(b, n.kids, " or ", precOr, prec) }

type andNode struct{ kids []node }

func (n *andNode) match(x *record.Exchange) bool {
	for _, k := range n.kids {
		if !k.match(x) {
			return false
		}
	}
	return true
}

func (n *andNode) format(b *strings.Builder, prec int) { formatList(b, n.kids, " and ", precAnd, prec) }

func formatList(b *strings.Builder, kids []node, sep string, own, prec int) {
	if prec > own {
		b.WriteByte('(')
	}
	for i, k := range kids {
		if i > 0 {
			b.WriteString(sep)
		}
		k.format(b, own)
	}
	if prec > own {
		b.WriteByte(')')
	}
}

type notNode struct{ kid node }

func (n *notNode) match(x *record.Exchange) bool { return !n.kid.match(x) }

func (n *notNode) format(b *strings.Builder, _ int) {
	b.WriteString("not ")
	n.kid.format(b, precNot)
}

// strCmp compares a string field: = and != exactly, ~ and !~ as a glob.
type strCmp struct {
	f  *field
	op string
	// value is the value in normal form, as String writes it.
	value string
	p     *pattern
}

func (c *strCmp) match(x *record.Exchange) bool {
	ok := c.f.str(x, c.p)
	if c.op == opNe || c.op == opNGlob {
		return !ok
	}
	return ok
}

func (c *strCmp) format(b *strings.Builder, _ int) {
	b.WriteString(c.f.name)
	b.WriteString(c.op)
	writeValue(b, c.value)
}

// writeValue writes v bare when it can be, else quoted.
func writeValue(b *strings.Builder, v string) {
	if isBare(v) && !isKeyword(v) {
		b.WriteString(v)
		return
	}
	quote(b, v)
}

// numCmp compares a number field.
type numCmp struct {
	f  *field
	op string
	// lit is the value as written (e.g. 1.5s); v is it in the field's unit
	// (milliseconds, bytes).
	lit string
	v   float64
}

func (c *numCmp) match(x *record.Exchange) bool {
	n := c.f.num(x)
	switch c.op {
	case opEq:
		return n == c.v
	case opNe:
		return n != c.v
	case opLt:
		return n < c.v
	case opLe:
		return n <= c.v
	case opGt:
		return n > c.v
	case opGe:
		return n >= c.v
	}
	return false
}

func (c *numCmp) format(b *strings.Builder, _ int) {
	b.WriteString(c.f.name)
	b.WriteString(c.op)
	writeValue(b, c.lit)
}

// classCmp matches a status class: the atom 4xx, or status=4xx and
// status!=4xx.
type classCmp struct {
	class int // 1 … 5
	// op is "" for the bare atom, else = or !=.
	op string
}

func (c *classCmp) match(x *record.Exchange) bool {
	ok := x.ClientStatus()/100 == c.class
	if c.op == opNe {
		return !ok
	}
	return ok
}

func (c *classCmp) format(b *strings.Builder, _ int) {
	if c.op != "" {
		b.WriteString("status")
		b.WriteString(c.op)
	}
	b.WriteByte(byte('0' + c.class))
	b.WriteString("xx")
}

// textNode is free text: a quoted string alone or text~"…" (both written
// as the quoted string alone), or text!~"…".
type textNode struct {
	n *needle
	// op is "" to match, !~ to not match.
	op string
}

func (t *textNode) match(x *record.Exchange) bool {
	ok := hasText(x, t.n)
	if t.op == opNGlob {
		return !ok
	}
	return ok
}

func (t *textNode) format(b *strings.Builder, _ int) {
	if t.op != "" {
		b.WriteString("text")
		b.WriteString(t.op)
	}
	quote(b, t.n.s)
}

// An atom is a bare word that tests one fact about an exchange.
type atom struct {
	name  string
	match func(x *record.Exchange) bool
}

// atoms are the bare words, in the order docs/filters.md lists them.
var atoms = []*atom{
	{name: "own", match: func(x *record.Exchange) bool { return x.Own }},
	{name: "read", match: func(x *record.Exchange) bool { return oneOf(x.Annotation.Verb, readVerbs) }},
	{name: "write", match: func(x *record.Exchange) bool { return oneOf(x.Annotation.Verb, writeVerbs) }},
	{name: "watch", match: func(x *record.Exchange) bool { return x.Annotation.Verb == "watch" }},
	{name: "exec", match: subresourceIs("exec")},
	{name: "attach", match: subresourceIs("attach")},
	{name: "portforward", match: subresourceIs("portforward")},
	{name: "logs", match: subresourceIs("log")},
	{name: "stream", match: func(x *record.Exchange) bool { return x.Response != nil && x.Response.Stream }},
	{name: "error", match: func(x *record.Exchange) bool { return x.Error != nil || x.StreamError != nil }},
	{name: "denied", match: func(x *record.Exchange) bool { s := x.ClientStatus(); return s == 401 || s == 403 }},
	{name: "stopped", match: func(x *record.Exchange) bool { return stoppedAt(x) != "" }},
	{name: "dryrun", match: func(x *record.Exchange) bool { return x.Annotation.DryRun }},
}

func lookupAtom(name string) *atom {
	for _, a := range atoms {
		if a.name == name {
			return a
		}
	}
	return nil
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

func subresourceIs(sub string) func(x *record.Exchange) bool {
	return func(x *record.Exchange) bool { return x.Annotation.Subresource == sub }
}

type atomNode struct{ a *atom }

func (n *atomNode) match(x *record.Exchange) bool    { return n.a.match(x) }
func (n *atomNode) format(b *strings.Builder, _ int) { b.WriteString(n.a.name) }
