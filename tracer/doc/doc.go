// Package doc is a parsed JSON or YAML document that keeps its keys in
// the order they were written, so what kubewire prints or rewrites reads
// like what was sent. The renderer shows bodies through it; the redactor
// changes values in it and writes it back (YAML keeps its comments).
package doc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Node is a JSON or YAML value.
type Node struct {
	// Kind is 'o' object, 'a' array, 's' string, 'n' number, 'b' bool or
	// 'z' null; or 'r', compact JSON that WriteCompact writes as it is
	// (S), for a writer that encoded a part of the document itself.
	Kind byte
	// Keys and Vals are an object's keys and values in order, or an
	// array's elements (Vals).
	Keys []string
	Vals []*Node
	// S is a string's value, or a number's or a bool's literal.
	S string
	// y is the YAML node this one was read from: SetString writes back to
	// it, so the YAML document can be encoded again as it was.
	y *yaml.Node
}

// MaxDepth bounds the nesting the parsers accept; deeper documents are
// errors.
const MaxDepth = 1000

// maxNodes bounds the nodes one YAML document may expand to through
// aliases (a billion laughs).
const maxNodes = 1 << 20

// ParseJSON reads one JSON value; trailing data is an error.
func ParseJSON(data []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return n, nil
}

// ParseJSONStream reads one JSON value or several one after another.
func ParseJSONStream(data []byte) ([]*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var docs []*Node
	for {
		n, err := parseValue(dec, 0)
		if err == io.EOF && len(docs) > 0 {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

// ParseJSONValue reads the next JSON value from dec (made with
// UseNumber), found depth levels deep in its document: a reader that
// walks a large document itself parses its parts one at a time.
func ParseJSONValue(dec *json.Decoder, depth int) (*Node, error) { return parseValue(dec, depth) }

func parseValue(dec *json.Decoder, depth int) (*Node, error) {
	if depth > MaxDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &Node{Kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.Keys = append(n.Keys, k)
				n.Vals = append(n.Vals, v)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &Node{Kind: 'a'}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.Vals = append(n.Vals, v)
			}
			_, err := dec.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &Node{Kind: 's', S: t}, nil
	case json.Number:
		return &Node{Kind: 'n', S: t.String()}, nil
	case bool:
		return &Node{Kind: 'b', S: fmt.Sprint(t)}, nil
	case nil:
		return &Node{Kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// Get returns the value at the key path, or nil.
func (n *Node) Get(path ...string) *Node {
	for _, k := range path {
		if n == nil || n.Kind != 'o' {
			return nil
		}
		var next *Node
		for i, key := range n.Keys {
			if key == k {
				next = n.Vals[i]
				break
			}
		}
		n = next
	}
	return n
}

// str returns the string (or number, or bool) at the key path, or "".
// Set replaces (or adds) an object's key.
func (n *Node) Set(key string, v *Node) {
	if n == nil || n.Kind != 'o' {
		return
	}
	for i, k := range n.Keys {
		if k == key {
			n.Vals[i] = v
			return
		}
	}
	n.Keys = append(n.Keys, key)
	n.Vals = append(n.Vals, v)
}

// Str returns the string (or number, or bool) at the key path, or "".
func (n *Node) Str(path ...string) string {
	return n.Get(path...).Text()
}

// Text is a string's value or a number's or a bool's literal; "" for
// anything else (or nil).
func (n *Node) Text() string {
	if n == nil || n.Kind == 'o' || n.Kind == 'a' || n.Kind == 'z' {
		return ""
	}
	return n.S
}

// Items returns an array's elements (nil for anything else).
func (n *Node) Items(path ...string) []*Node {
	v := n.Get(path...)
	if v == nil || v.Kind != 'a' {
		return nil
	}
	return v.Vals
}

// Remove deletes key from an object and reports what it held.
func (n *Node) Remove(key string) *Node {
	if n == nil || n.Kind != 'o' {
		return nil
	}
	for i, k := range n.Keys {
		if k == key {
			v := n.Vals[i]
			n.Keys = append(n.Keys[:i], n.Keys[i+1:]...)
			n.Vals = append(n.Vals[:i], n.Vals[i+1:]...)
			return v
		}
	}
	return nil
}

// Scalar renders a Scalar as a table cell or a one-line value.
func (n *Node) Scalar() string {
	switch n.Kind {
	case 's', 'n', 'b':
		return n.S
	case 'z':
		return "<none>"
	}
	var b strings.Builder
	n.WriteCompact(&b)
	return b.String()
}

// JSONString encodes s as a JSON string, without escaping HTML.
func JSONString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// JSON encodes n as compact JSON.
func (n *Node) JSON() string {
	var b strings.Builder
	n.WriteCompact(&b)
	return b.String()
}

// WriteCompact writes n as compact JSON.
func (n *Node) WriteCompact(b *strings.Builder) {
	switch n.Kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(JSONString(k))
			b.WriteByte(':')
			n.Vals[i].WriteCompact(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, v := range n.Vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.WriteCompact(b)
		}
		b.WriteByte(']')
	case 's':
		b.WriteString(JSONString(n.S))
	case 'z':
		b.WriteString("null")
	default:
		b.WriteString(n.S)
	}
}

// PrettyJSON renders n indented by two spaces, like kubectl -o json.
func (n *Node) PrettyJSON() string {
	var b strings.Builder
	n.writePretty(&b, "")
	return b.String()
}

func (n *Node) writePretty(b *strings.Builder, indent string) {
	switch n.Kind {
	case 'o':
		if len(n.Keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range n.Keys {
			b.WriteString(indent + "  " + JSONString(k) + ": ")
			n.Vals[i].writePretty(b, indent+"  ")
			if i < len(n.Keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case 'a':
		if len(n.Vals) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, v := range n.Vals {
			b.WriteString(indent + "  ")
			v.writePretty(b, indent+"  ")
			if i < len(n.Vals)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	default:
		n.WriteCompact(b)
	}
}

// YAMLNode converts n for go.yaml.in/yaml/v3, keeping key order; the
// encoder quotes strings that would otherwise read as another type.
func (n *Node) YAMLNode() *yaml.Node {
	switch n.Kind {
	case 'o':
		y := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i, k := range n.Keys {
			y.Content = append(y.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, n.Vals[i].YAMLNode())
		}
		return y
	case 'a':
		y := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, v := range n.Vals {
			y.Content = append(y.Content, v.YAMLNode())
		}
		return y
	case 's':
		y := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: n.S}
		if strings.Contains(n.S, "\n") {
			y.Style = yaml.LiteralStyle
		}
		return y
	case 'n':
		tag := "!!int"
		if strings.ContainsAny(n.S, ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: n.S}
	case 'b':
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: n.S}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// PrettyYAML renders n as YAML indented by two spaces, like kubectl -o yaml.
func (n *Node) PrettyYAML() string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n.YAMLNode()); err != nil {
		return n.PrettyJSON()
	}
	_ = enc.Close()
	return strings.TrimSuffix(b.String(), "\n")
}

// ToYAML converts JSON text to YAML text, keeping key order. It is what
// machine output (-o yaml) uses.
func ToYAML(data []byte) (string, error) {
	n, err := ParseJSON(data)
	if err != nil {
		return "", err
	}
	return n.PrettyYAML() + "\n", nil
}

// SetString replaces n's value with the string s, in the YAML node it was
// read from too.
func (n *Node) SetString(s string) {
	n.Kind, n.S, n.Keys, n.Vals = 's', s, nil, nil
	if n.y != nil {
		n.y.Kind, n.y.Tag, n.y.Value, n.y.Style, n.y.Content, n.y.Alias = yaml.ScalarNode, "!!str", s, 0, nil, nil
		if strings.Contains(s, "\n") {
			n.y.Style = yaml.LiteralStyle
		}
	}
}

// ParseYAML reads a YAML body of one document (an apply patch, a create
// from application/yaml).
func ParseYAML(data []byte) (*Node, bool) {
	var y yaml.Node
	if err := yaml.Unmarshal(data, &y); err != nil || y.Kind != yaml.DocumentNode || len(y.Content) != 1 {
		return nil, false
	}
	n, err := FromYAML(y.Content[0])
	return n, err == nil
}

// ParseYAMLStream reads every document of a YAML stream: the YAML nodes,
// for EncodeYAML to write them back, and their Nodes, tied to them.
func ParseYAMLStream(data []byte) ([]*yaml.Node, []*Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var ys []*yaml.Node
	var ns []*Node
	for {
		var y yaml.Node
		err := dec.Decode(&y)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if y.Kind != yaml.DocumentNode || len(y.Content) != 1 {
			continue
		}
		n, err := FromYAML(y.Content[0])
		if err != nil {
			return nil, nil, err
		}
		ys, ns = append(ys, &y), append(ns, n)
	}
	if len(ns) == 0 {
		return nil, nil, errors.New("no YAML document")
	}
	return ys, ns, nil
}

// EncodeYAML writes YAML documents, indented by two spaces.
func EncodeYAML(ys []*yaml.Node) ([]byte, error) {
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	for _, y := range ys {
		if err := enc.Encode(y); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// FromYAML turns a YAML node into a Node tied to it. Aliases are followed
// (an anchor and its aliases share one value), within MaxDepth and a bound
// on how far they expand.
func FromYAML(y *yaml.Node) (*Node, error) {
	c := &yamlConv{}
	n := c.node(y, 0)
	return n, c.err
}

type yamlConv struct {
	count int
	err   error
}

func (c *yamlConv) node(y *yaml.Node, depth int) *Node {
	c.count++
	if depth > MaxDepth || c.count > maxNodes {
		if c.err == nil {
			c.err = errors.New("YAML nested or aliased too deeply")
		}
		return &Node{Kind: 'z'}
	}
	switch y.Kind {
	case yaml.MappingNode:
		n := &Node{Kind: 'o', y: y}
		for i := 0; i+1 < len(y.Content); i += 2 {
			n.Keys = append(n.Keys, y.Content[i].Value)
			n.Vals = append(n.Vals, c.node(y.Content[i+1], depth+1))
		}
		return n
	case yaml.SequenceNode:
		n := &Node{Kind: 'a', y: y}
		for _, e := range y.Content {
			n.Vals = append(n.Vals, c.node(e, depth+1))
		}
		return n
	case yaml.AliasNode:
		return c.node(y.Alias, depth+1)
	}
	switch y.ShortTag() {
	case "!!int", "!!float":
		return &Node{Kind: 'n', S: y.Value, y: y}
	case "!!bool":
		return &Node{Kind: 'b', S: strings.ToLower(y.Value), y: y}
	case "!!null":
		return &Node{Kind: 'z', y: y}
	}
	return &Node{Kind: 's', S: y.Value, y: y}
}
