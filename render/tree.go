package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// node is a JSON value that keeps its object keys in the order the server
// sent them, so a pretty-printed body reads like the original.
type node struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []string
	vals []*node
	s    string // a string's value, a number's or a bool's literal
}

// parseJSON reads one JSON value; trailing data is an error.
func parseJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &node{kind: 'a'}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &node{kind: 's', s: t}, nil
	case json.Number:
		return &node{kind: 'n', s: t.String()}, nil
	case bool:
		return &node{kind: 'b', s: fmt.Sprint(t)}, nil
	case nil:
		return &node{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// get returns the value at the key path, or nil.
func (n *node) get(path ...string) *node {
	for _, k := range path {
		if n == nil || n.kind != 'o' {
			return nil
		}
		var next *node
		for i, key := range n.keys {
			if key == k {
				next = n.vals[i]
				break
			}
		}
		n = next
	}
	return n
}

// str returns the string (or number, or bool) at the key path, or "".
// set replaces (or adds) an object's key.
func (n *node) set(key string, v *node) {
	if n == nil || n.kind != 'o' {
		return
	}
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

func (n *node) str(path ...string) string {
	v := n.get(path...)
	if v == nil || v.kind == 'o' || v.kind == 'a' || v.kind == 'z' {
		return ""
	}
	return v.s
}

// items returns an array's elements (nil for anything else).
func (n *node) items(path ...string) []*node {
	v := n.get(path...)
	if v == nil || v.kind != 'a' {
		return nil
	}
	return v.vals
}

// remove deletes key from an object and reports what it held.
func (n *node) remove(key string) *node {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			v := n.vals[i]
			n.keys = append(n.keys[:i], n.keys[i+1:]...)
			n.vals = append(n.vals[:i], n.vals[i+1:]...)
			return v
		}
	}
	return nil
}

// scalar renders a scalar as a table cell or a one-line value.
func (n *node) scalar() string {
	switch n.kind {
	case 's', 'n', 'b':
		return n.s
	case 'z':
		return "<none>"
	}
	var b strings.Builder
	n.writeCompact(&b)
	return b.String()
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func (n *node) writeCompact(b *strings.Builder) {
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(k))
			b.WriteByte(':')
			n.vals[i].writeCompact(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.writeCompact(b)
		}
		b.WriteByte(']')
	case 's':
		b.WriteString(jsonString(n.s))
	case 'z':
		b.WriteString("null")
	default:
		b.WriteString(n.s)
	}
}

// prettyJSON renders n indented by two spaces, like kubectl -o json.
func (n *node) prettyJSON() string {
	var b strings.Builder
	n.writePretty(&b, "")
	return b.String()
}

func (n *node) writePretty(b *strings.Builder, indent string) {
	switch n.kind {
	case 'o':
		if len(n.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range n.keys {
			b.WriteString(indent + "  " + jsonString(k) + ": ")
			n.vals[i].writePretty(b, indent+"  ")
			if i < len(n.keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case 'a':
		if len(n.vals) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, v := range n.vals {
			b.WriteString(indent + "  ")
			v.writePretty(b, indent+"  ")
			if i < len(n.vals)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	default:
		n.writeCompact(b)
	}
}

// yamlNode converts n for go.yaml.in/yaml/v3, keeping key order; the
// encoder quotes strings that would otherwise read as another type.
func (n *node) yamlNode() *yaml.Node {
	switch n.kind {
	case 'o':
		y := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i, k := range n.keys {
			y.Content = append(y.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, n.vals[i].yamlNode())
		}
		return y
	case 'a':
		y := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, v := range n.vals {
			y.Content = append(y.Content, v.yamlNode())
		}
		return y
	case 's':
		y := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: n.s}
		if strings.Contains(n.s, "\n") {
			y.Style = yaml.LiteralStyle
		}
		return y
	case 'n':
		tag := "!!int"
		if strings.ContainsAny(n.s, ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: n.s}
	case 'b':
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: n.s}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// prettyYAML renders n as YAML indented by two spaces, like kubectl -o yaml.
func (n *node) prettyYAML() string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n.yamlNode()); err != nil {
		return n.prettyJSON()
	}
	_ = enc.Close()
	return strings.TrimSuffix(b.String(), "\n")
}

// toYAML converts JSON text to YAML text, keeping key order. It is what
// machine output (-o yaml) uses.
func toYAML(data []byte) (string, error) {
	n, err := parseJSON(data)
	if err != nil {
		return "", err
	}
	return n.prettyYAML() + "\n", nil
}
