// Package redact removes secrets from what kubewire records and shows, by
// what a value means rather than where it happens to sit: the data of
// Secrets wherever a Secret travels (objects, lists, Table rows, watch
// events, patches of every type aimed at the secrets resource, the
// last-applied annotation of any object whose configuration is a Secret),
// tokens of TokenRequests and TokenReviews, passwords and tokens in
// kubeconfig-shaped data and elsewhere, private keys and JWTs anywhere,
// credentials in headers, URLs and command lines.
//
// Redaction keeps the shape: keys stay, and each value becomes a marker
// with the value's length ("REDACTED (24 bytes)"), so a learner still sees
// what was sent. It errs on the side of removing too much: a body it cannot
// parse but that may hold a secret is dropped whole.
package redact

import (
	"bytes"
	"fmt"
	"mime"
	"strings"

	"github.com/kubewire/kubewire/tracer/doc"
)

// Mark starts every marker that replaces a secret value.
const Mark = "REDACTED"

// marker replaces a secret value of n bytes.
func marker(n int) string {
	if n == 1 {
		return Mark + " (1 byte)"
	}
	return fmt.Sprintf("%s (%d bytes)", Mark, n)
}

// Context says what a body belongs to, from the classified request, so a
// body can be read by the resource it is sent to or comes from rather
// than by the kind it says it is (a patch has none).
type Context struct {
	// Resource and Subresource of the request, from the classifier.
	Resource    string
	Subresource string
}

// secrets is true for bodies of the secrets resource itself.
func (c Context) secrets() bool { return c.Resource == "secrets" && c.Subresource == "" }

// tokens is true for bodies that carry a token by definition.
func (c Context) tokens() bool {
	return c.Resource == "tokenreviews" || (c.Resource == "serviceaccounts" && c.Subresource == "token")
}

// Body returns data with secrets removed, and whether anything was
// removed. JSON (including JSON Patch and watch events) and YAML (apply
// patches) are parsed and rewritten, keeping key order, only when
// something was removed; protobuf objects and watch frames are decoded,
// redacted and encoded again; other text loses private keys, JWTs and
// credentials. A body that cannot be read but may hold a secret is dropped
// (nil, true).
func Body(contentType string, data []byte, c Context) ([]byte, bool) {
	if len(data) == 0 {
		return data, false
	}
	if !c.secrets() && !c.tokens() && !mayMatch(data) {
		// Nothing any rule below looks for: the common case, kept cheap.
		return data, false
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.Contains(mt, "protobuf") || bytes.HasPrefix(data, protoMagic):
		return protoBody(data, c)
	case strings.Contains(mt, "yaml"):
		if out, changed, ok := yamlBody(data, c); ok {
			return out, changed
		}
	case strings.Contains(mt, "json") || looksJSON(data):
		if out, changed, ok := jsonBody(data, c); ok {
			return out, changed
		}
	}
	// Text that did not parse: if it may belong to a secret, drop it.
	if mayHoldSecret(data, c) {
		return nil, true
	}
	return scrubText(data)
}

// Part redacts the first part of a body whose rest was not kept (a body
// larger than kubewire holds while it passes). A part cannot be parsed,
// so it is kept as it is only when nothing in it is anything a rule looks
// for; otherwise it is dropped (nil, true).
func Part(data []byte, c Context) ([]byte, bool) {
	if len(data) == 0 || !c.secrets() && !c.tokens() && !mayMatch(data) {
		return data, false
	}
	return nil, true
}

// needles are what every rule of this package looks for, in the form
// mayMatch searches: lowercase, without the separators SecretName ignores.
// Secret kinds, TokenRequest and TokenReview say "secret" or "token"; the
// rest are SecretName's words and the starts of JWTs ("eyJ"), keys in PEM
// ("PRIVATE KEY") or base64 PEM, and written-out Authorization headers.
var needles = [][]byte{
	[]byte("secret"), []byte("token"), []byte("password"), []byte("passwd"), []byte("passphrase"),
	[]byte("pwd"), []byte("apikey"), []byte("privatekey"), []byte("keydata"), []byte("credential"),
	[]byte("bearer"), []byte("accesskey"), []byte("authorization"), []byte("eyj"), []byte("ls0tls1crudjti"),
}

// fold is how mayMatch normalizes a byte: lowercase, and 0 for the
// separators SecretName ignores (and NUL, which no needle holds).
var fold = func() (t [256]byte) {
	for i := range t {
		b := byte(i)
		switch {
		case b >= 'A' && b <= 'Z':
			t[i] = b + 'a' - 'A'
		case b == '-' || b == '_' || b == '.' || b == ' ':
		default:
			t[i] = b
		}
	}
	return t
}()

// mayMatch reports whether any rule could change data: a fast scan that
// spares the common body a parse. It normalizes a window at a time, so a
// large body costs no copy of itself.
func mayMatch(data []byte) bool {
	const window = 32 << 10
	longest := 0
	for _, n := range needles {
		longest = max(longest, len(n))
	}
	norm := make([]byte, 0, min(len(data), window)+longest)
	var carry [32]byte // the end of the window before, where a needle may start
	kept := 0
	for start := 0; start < len(data); start += window {
		norm = append(norm[:0], carry[:kept]...)
		for _, b := range data[start:min(start+window, len(data))] {
			if c := fold[b]; c != 0 {
				norm = append(norm, c)
			}
		}
		for _, n := range needles {
			if bytes.Contains(norm, n) {
				return true
			}
		}
		kept = copy(carry[:], norm[max(0, len(norm)-(longest-1)):])
	}
	return false
}

// yamlBody redacts a YAML stream (a server-side apply patch, a body sent as
// application/yaml), keeping its comments and layout.
func yamlBody(data []byte, c Context) ([]byte, bool, bool) {
	ys, docs, err := doc.ParseYAMLStream(data)
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
	out, err := doc.EncodeYAML(ys)
	if err != nil {
		return nil, true, true
	}
	return out, true, true
}

func looksJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// mayHoldSecret says whether bytes kubewire could not parse may hold a
// Secret's data or a token: the request's resource says so, or the bytes
// name a kind that carries one (also escaped, inside an annotation).
func mayHoldSecret(data []byte, c Context) bool {
	return c.secrets() || c.tokens() || bytes.Contains(data, []byte("Secret")) ||
		bytes.Contains(data, []byte("TokenRequest")) || bytes.Contains(data, []byte("TokenReview"))
}

// jsonBody redacts one or more JSON documents.
func jsonBody(data []byte, c Context) ([]byte, bool, bool) {
	if len(data) >= listMin {
		if out, changed, ok := jsonList(data, c); ok {
			return out, changed, true
		}
	}
	return jsonTree(data, c)
}

// jsonTree redacts one or more JSON documents, each parsed whole.
func jsonTree(data []byte, c Context) ([]byte, bool, bool) {
	docs, err := doc.ParseJSONStream(data)
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
	for i, d := range docs {
		if i > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(d.JSON())
	}
	if bytes.HasSuffix(data, []byte("\n")) {
		out.WriteByte('\n')
	}
	return out.Bytes(), true, true
}
