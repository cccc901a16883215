package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/kubewire/kubewire/tracer/doc"
)

// A list is most of what a large body is: kubectl get secrets, pods
// whose env names a password, a list of ConfigMaps that says "token".
// Parsed whole, a 4 MiB list is a tree of several times its size; so a
// large JSON object is read one top-level value at a time, and its items
// one item at a time, each redacted and written before the next is read.
// Only the list's own fields (kind, metadata) are kept as a tree. The
// result is byte for byte what redacting the whole tree writes
// (TestListIsRedactedAsAWhole).

// listMin is the size from which a JSON object is redacted a part at a
// time.
const listMin = 64 << 10

// jsonList redacts one JSON object a top-level value at a time, its
// "items" one item at a time. ok is false when data is not one JSON
// object, or its items come before its kind (whose role they take), or
// are not an array: the caller then walks the whole tree.
func jsonList(data []byte, c Context) (out []byte, changed, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false, false
	}
	r := roleAny
	if c.secrets() {
		r = roleSecret
	}
	w := &walker{ctx: c}
	shell := &doc.Node{Kind: 'o'}
	var items strings.Builder
	itemsAt := -1
	kind, sawKind := "", false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, false, false
		}
		k, _ := kt.(string)
		if k != "items" || itemsAt >= 0 {
			v, err := doc.ParseJSONValue(dec, 1)
			if err != nil {
				return nil, false, false
			}
			if k == "kind" && !sawKind {
				kind, sawKind = v.Text(), true
			}
			shell.Keys, shell.Vals = append(shell.Keys, k), append(shell.Vals, v)
			continue
		}
		if !sawKind {
			return nil, false, false
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil, false, false
		}
		role := itemsRole(kind, r)
		items.WriteByte('[')
		for n := 0; dec.More(); n++ {
			e, err := doc.ParseJSONValue(dec, 2)
			if err != nil {
				return nil, false, false
			}
			w.value(e, role, "items")
			if n > 0 {
				items.WriteByte(',')
			}
			e.WriteCompact(&items)
		}
		if _, err := dec.Token(); err != nil {
			return nil, false, false
		}
		items.WriteByte(']')
		// The list's own walk below finds its items empty: they are done.
		itemsAt = len(shell.Keys)
		shell.Keys, shell.Vals = append(shell.Keys, k), append(shell.Vals, &doc.Node{Kind: 'a'})
	}
	if _, err := dec.Token(); err != nil { // the object's '}'
		return nil, false, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, false
	}
	w.value(shell, r, "")
	if !w.changed {
		return data, false, true
	}
	var b bytes.Buffer
	if itemsAt < 0 {
		b.WriteString(shell.JSON())
	} else {
		// The list written around its items: a NUL byte stands for them,
		// as no JSON the tree writes holds one unescaped.
		shell.Vals[itemsAt] = &doc.Node{Kind: 'r', S: "\x00"}
		before, after, _ := strings.Cut(shell.JSON(), "\x00")
		b.Grow(len(before) + items.Len() + len(after) + 1)
		b.WriteString(before)
		b.WriteString(items.String())
		b.WriteString(after)
	}
	if bytes.HasSuffix(data, []byte("\n")) {
		b.WriteByte('\n')
	}
	return b.Bytes(), true, true
}
