package redact

import (
	"encoding/base64"
	"strings"

	"github.com/kubewire/kubewire/tracer/doc"
)

// lastApplied is the annotation in which kubectl apply keeps the whole
// object it applied: for a Secret, its data.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// role says what an object without a kind is, from where it sits.
type role int

const (
	// roleAny: an object that says what it is, or nothing secret.
	roleAny role = iota
	// roleSecret: a Secret, even without a kind (a patch of the secrets
	// resource, the items of a list of secrets).
	roleSecret
)

// walker redacts parsed documents in place.
type walker struct {
	ctx Context
	// b64 makes the markers that replace Secret data base64 themselves,
	// so a redacted object still decodes into its Go type (protobuf).
	b64     bool
	changed bool
}

// document redacts one whole body.
func (w *walker) document(n *doc.Node) {
	if isJSONPatch(n) {
		w.jsonPatch(n)
		return
	}
	r := roleAny
	if w.ctx.secrets() {
		r = roleSecret
	}
	w.value(n, r, "")
}

// value redacts n, found under key in its parent ("" at the top or in an
// array).
func (w *walker) value(n *doc.Node, r role, key string) {
	switch n.Kind {
	case 'o':
		w.object(n, r)
	case 'a':
		for _, e := range n.Vals {
			w.value(e, r, key)
		}
	case 's':
		w.str(n, key)
	}
}

func (w *walker) object(n *doc.Node, r role) {
	kind := n.Str("kind")
	secret := kind == "Secret" || (kind == "" && r == roleSecret)
	if secret {
		for _, k := range []string{"data", "stringData"} {
			if v := n.Get(k); v != nil {
				w.markValues(v, k == "data")
			}
		}
	}
	// An env entry (containers[].env, exec plugins' env) whose name says
	// it holds a secret.
	if name := n.Get("name"); name != nil && name.Kind == 's' && SecretName(name.S) {
		if v := n.Get("value"); v != nil && v.Kind == 's' {
			w.mark(v, false)
		}
	}
	if la := n.Get("metadata", "annotations", lastApplied); la != nil {
		w.embedded(la, secret || r == roleSecret)
	}
	for i, k := range n.Keys {
		v := n.Vals[i]
		if secret && (k == "data" || k == "stringData") {
			continue
		}
		child := roleAny
		switch k {
		case "items":
			child = itemsRole(kind, r)
		case "object", "rows":
			// A watch event's object, a Table's rows and their objects
			// (full objects, or PartialObjectMetadata whose annotation
			// holds the applied Secret).
			child = r
		}
		w.value(v, child, k)
	}
}

// itemsRole is the role of the items of an object of kind found in role
// r: the items of a list of secrets say no kind.
func itemsRole(kind string, r role) role {
	if kind == "SecretList" || (r == roleSecret && (kind == "" || strings.HasSuffix(kind, "List"))) {
		return roleSecret
	}
	return roleAny
}

// str redacts a string found under key.
func (w *walker) str(n *doc.Node, key string) {
	if n.S == "" || isMarker(n.S) {
		return
	}
	if SecretName(key) {
		w.mark(n, false)
		return
	}
	if looksKubeconfig(n.S) {
		w.embedded(n, false)
		if n.Kind != 's' || isMarker(n.S) {
			return
		}
	}
	if s, ok := scrubString(n.S); ok {
		n.SetString(s)
		w.changed = true
	}
}

// embedded redacts a document kept inside a string: the last-applied
// annotation, a kubeconfig in a ConfigMap. secret says the document is a
// Secret even if it names no kind. A document that does not parse is
// marked whole if it may be a Secret's.
func (w *walker) embedded(n *doc.Node, secret bool) {
	if n.Kind != 's' {
		r := roleAny
		if secret {
			r = roleSecret
		}
		w.value(n, r, "")
		return
	}
	if n.S == "" || isMarker(n.S) {
		return
	}
	c := w.ctx
	if secret {
		c = Context{Resource: "secrets"}
	} else if c.secrets() {
		c = Context{}
	}
	data := []byte(n.S)
	var out []byte
	var changed, ok bool
	if looksJSON(data) {
		out, changed, ok = jsonBody(data, c)
	} else {
		out, changed, ok = yamlBody(data, c)
	}
	switch {
	case !ok && (secret || strings.Contains(n.S, "Secret")):
		w.mark(n, false)
	case !ok:
		if s, ok := scrubString(n.S); ok {
			n.SetString(s)
			w.changed = true
		}
	case changed && out == nil:
		w.mark(n, false)
	case changed:
		n.SetString(string(out))
		w.changed = true
	}
}

// markValues marks every value of a Secret's data or stringData; bytes
// says the values are base64 bytes.
func (w *walker) markValues(n *doc.Node, bytes bool) {
	if n.Kind == 'o' {
		for _, v := range n.Vals {
			w.markAll(v, bytes)
		}
		return
	}
	w.markAll(n, bytes)
}

// markAll marks every scalar in n, keeping keys and nulls.
func (w *walker) markAll(n *doc.Node, bytes bool) {
	switch n.Kind {
	case 'o', 'a':
		for _, v := range n.Vals {
			w.markAll(v, bytes)
		}
	default:
		w.mark(n, bytes)
	}
}

// mark replaces a scalar with a marker of its length. Nulls, empty
// strings and markers stay.
func (w *walker) mark(n *doc.Node, bytes bool) {
	if n.Kind == 'z' || n.S == "" || isMarker(n.S) {
		return
	}
	m := marker(len(n.S))
	if bytes && w.b64 {
		m = base64.StdEncoding.EncodeToString([]byte(m))
	}
	n.SetString(m)
	w.changed = true
}

// isMarker reports whether s is already a marker (redacting twice changes
// nothing).
func isMarker(s string) bool {
	if strings.HasPrefix(s, "UkVEQUNURU") { // base64 of "REDACTE"
		if d, err := base64.StdEncoding.DecodeString(s); err == nil {
			s = string(d)
		}
	}
	return strings.HasPrefix(s, Mark) && (strings.HasSuffix(s, " bytes)") || strings.HasSuffix(s, " byte)"))
}

// isJSONPatch reports whether n is a JSON Patch (RFC 6902): an array of
// operations, each with an op and a path.
func isJSONPatch(n *doc.Node) bool {
	if n.Kind != 'a' || len(n.Vals) == 0 {
		return false
	}
	for _, op := range n.Vals {
		if op.Get("op") == nil || op.Get("path") == nil {
			return false
		}
	}
	return true
}

// jsonPatch redacts the values of a JSON Patch. Aimed at the secrets
// resource, every value is a Secret's but those under /metadata; the
// last-applied annotation is read as the object it holds.
func (w *walker) jsonPatch(n *doc.Node) {
	secrets := w.ctx.secrets()
	for _, op := range n.Vals {
		v := op.Get("value")
		if v == nil {
			continue
		}
		path := op.Str("path")
		// JSON Pointer escapes "/" in a key as "~1".
		last := path[strings.LastIndex(path, "/")+1:]
		last = strings.ReplaceAll(strings.ReplaceAll(last, "~1", "/"), "~0", "~")
		switch {
		case last == lastApplied:
			w.embedded(v, secrets)
		case secrets && (path == "" || path == "/"):
			w.value(v, roleSecret, "")
		case secrets && (path == "/metadata" || strings.HasPrefix(path, "/metadata/")):
			// Metadata is not secret, but for the annotation that holds
			// the applied Secret.
			ann := v
			if path == "/metadata" {
				ann = v.Get("annotations")
			}
			if la := ann.Get(lastApplied); la != nil && (path == "/metadata" || path == "/metadata/annotations") {
				w.embedded(la, true)
			}
			w.value(v, roleAny, last)
		case secrets:
			w.markAll(v, strings.HasPrefix(path, "/data"))
		default:
			w.value(v, roleAny, last)
		}
	}
}

// SecretName reports whether a key, a header, an environment variable or
// a flag of that name holds a secret value: a password, a token, a key,
// a client secret. Names of references and paths (secretName,
// tokenFile, passwordRef) do not.
func SecretName(name string) bool {
	k := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r == '-' || r == '_' || r == '.' || r == ' ':
			return -1
		}
		return r
	}, name)
	if k == "" || k == "pwd" { // PWD is the shell's working directory
		return false
	}
	for _, s := range []string{"file", "path", "dir", "ref", "name", "names", "namespace", "seconds", "expiration", "ttl", "type", "length"} {
		if strings.HasSuffix(k, s) {
			return false
		}
	}
	if strings.Contains(k, "password") || strings.Contains(k, "passwd") {
		return true
	}
	for _, s := range []string{"secret", "token", "apikey", "privatekey", "keydata", "secretkey", "pwd", "credential", "credentials", "passphrase", "bearer", "accesskey"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// looksKubeconfig says whether a string may be a kubeconfig with
// credentials in it, worth parsing.
func looksKubeconfig(s string) bool {
	return len(s) > 40 && strings.Contains(s, "users") && strings.Contains(s, "clusters") &&
		(strings.Contains(s, "token") || strings.Contains(s, "client-key-data") || strings.Contains(s, "password"))
}
