package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// node is a parsed JSON or YAML value that keeps its key order, so a
// redacted body reads like the one that was sent.
type node struct {
	kind byte // 'o' object, 'a' array, 's' string, 'l' other literal (number, bool, null)
	keys []string
	vals []*node
	// s is a string's value, or a literal as written.
	s string
	// y is the YAML node this one came from; redaction writes changed
	// strings back to it, keeping the document's comments and layout.
	y *yaml.Node
}

// get returns the value under key of an object, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != 'o' {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// str returns the string under the path of keys, or "".
func (n *node) str(path ...string) string {
	for _, k := range path {
		n = n.get(k)
	}
	if n == nil || n.kind != 's' {
		return ""
	}
	return n.s
}

// isNull reports whether n is absent or a JSON null.
func (n *node) isNull() bool {
	return n == nil || (n.kind == 'l' && (n.s == "null" || n.s == "~" || n.s == ""))
}

// setString replaces n's value with the string s.
func (n *node) setString(s string) {
	n.kind, n.s, n.keys, n.vals = 's', s, nil, nil
	if n.y != nil {
		n.y.Kind, n.y.Tag, n.y.Value, n.y.Style, n.y.Content = yaml.ScalarNode, "!!str", s, 0, nil
		if strings.Contains(s, "\n") {
			n.y.Style = yaml.LiteralStyle
		}
	}
}

// parseJSONDocs reads one JSON document, or several one after another.
func parseJSONDocs(data []byte) ([]*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var docs []*node
	for {
		n, err := parseJSON(dec)
		if err == io.EOF && len(docs) > 0 {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
}

// maxDepth bounds the nesting kubewire parses; deeper documents are
// treated as unreadable.
const maxDepth = 1000

// maxNodes bounds the nodes one YAML document may expand to through
// aliases.
const maxNodes = 1 << 20

func parseJSON(dec *json.Decoder) (*node, error) { return parseJSONAt(dec, 0) }

func parseJSONAt(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
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
			n := &node{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := parseJSONAt(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys, n.vals = append(n.keys, k), append(n.vals, v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &node{kind: 'a'}
			for dec.More() {
				v, err := parseJSONAt(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, errors.New("unexpected delimiter")
	case string:
		return &node{kind: 's', s: t}, nil
	case json.Number:
		return &node{kind: 'l', s: t.String()}, nil
	case bool:
		if t {
			return &node{kind: 'l', s: "true"}, nil
		}
		return &node{kind: 'l', s: "false"}, nil
	case nil:
		return &node{kind: 'l', s: "null"}, nil
	}
	return nil, errors.New("unexpected JSON token")
}

// encode writes n as compact JSON.
func (n *node) encode(b *bytes.Buffer) {
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			n.vals[i].encode(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.encode(b)
		}
		b.WriteByte(']')
	case 's':
		writeJSONString(b, n.s)
	default:
		b.WriteString(n.s)
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// jsonString encodes n as compact JSON.
func (n *node) jsonString() string {
	var b bytes.Buffer
	n.encode(&b)
	return b.String()
}

// parseYAMLDocs reads the documents of a YAML stream into nodes that are
// tied to the YAML nodes they came from.
func parseYAMLDocs(data []byte) ([]*yaml.Node, []*node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var ys []*yaml.Node
	var ns []*node
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
		conv := &yamlConv{}
		n := conv.node(y.Content[0], 0)
		if conv.err != nil {
			return nil, nil, conv.err
		}
		ys, ns = append(ys, &y), append(ns, n)
	}
	if len(ns) == 0 {
		return nil, nil, errors.New("no YAML document")
	}
	return ys, ns, nil
}

// yamlConv turns YAML nodes into nodes, within maxDepth and maxNodes.
type yamlConv struct {
	count int
	err   error
}

func (c *yamlConv) node(y *yaml.Node, depth int) *node {
	c.count++
	if depth > maxDepth || c.count > maxNodes {
		if c.err == nil {
			c.err = errors.New("YAML nested or aliased too deeply")
		}
		return &node{kind: 'l'}
	}
	switch y.Kind {
	case yaml.MappingNode:
		n := &node{kind: 'o', y: y}
		for i := 0; i+1 < len(y.Content); i += 2 {
			n.keys = append(n.keys, y.Content[i].Value)
			n.vals = append(n.vals, c.node(y.Content[i+1], depth+1))
		}
		return n
	case yaml.SequenceNode:
		n := &node{kind: 'a', y: y}
		for _, e := range y.Content {
			n.vals = append(n.vals, c.node(e, depth+1))
		}
		return n
	case yaml.AliasNode:
		// An alias shares its anchor's node: redacting one redacts both.
		return c.node(y.Alias, depth+1)
	}
	if y.ShortTag() == "!!str" || y.ShortTag() == "!!binary" {
		return &node{kind: 's', s: y.Value, y: y}
	}
	return &node{kind: 'l', s: y.Value, y: y}
}

// yamlBody redacts a YAML stream (a server-side apply patch, a body sent as
// application/yaml).
func yamlBody(data []byte, c Context) ([]byte, bool, bool) {
	ys, docs, err := parseYAMLDocs(data)
	if err != nil {
		return nil, false, false
	}
	w := &walker{ctx: c}
	for _, d := range docs {
		w.document(d)
	}
	if !w.changed {
		return data, false, true
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	for _, y := range ys {
		if err := enc.Encode(y); err != nil {
			return nil, true, true
		}
	}
	if err := enc.Close(); err != nil {
		return nil, true, true
	}
	return out.Bytes(), true, true
}
