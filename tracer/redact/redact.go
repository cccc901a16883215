// Package redact removes secrets from what kubewire records and shows:
// credentials in headers, Secret data, tokens in TokenRequest and TokenReview
// objects, private keys and bearer tokens anywhere in a body. It errs on the
// side of removing too much: a body it cannot parse but that may hold a
// secret is dropped whole.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Mark replaces a secret value.
const Mark = "REDACTED"

// sensitiveHeaders are replaced wholesale, keeping an auth scheme visible.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Auth-Token", "X-Api-Key"}

// Headers returns a copy of h with credentials replaced by a mark that keeps
// the auth scheme and the length, e.g. "Bearer REDACTED (925 bytes)".
func Headers(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := h.Clone()
	for _, name := range sensitiveHeaders {
		vals := out.Values(name)
		if len(vals) == 0 {
			continue
		}
		red := make([]string, len(vals))
		for i, v := range vals {
			red[i] = headerValue(v)
		}
		out[http.CanonicalHeaderKey(name)] = red
	}
	return out
}

func headerValue(v string) string {
	scheme, rest, ok := strings.Cut(v, " ")
	if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
		return fmt.Sprintf("%s %s (%d bytes)", scheme, Mark, len(rest))
	}
	return fmt.Sprintf("%s (%d bytes)", Mark, len(v))
}

// Context says what a body belongs to, so list items without a kind can be
// recognised.
type Context struct {
	// Resource and Subresource of the request, from the classifier.
	Resource    string
	Subresource string
}

func (c Context) secrets() bool {
	return c.Resource == "secrets" && c.Subresource == ""
}

// Body returns data with secrets removed, and whether anything was removed.
// JSON and YAML are parsed and rewritten only when something was removed;
// protobuf that may hold a secret is dropped; other text loses private keys
// and bearer tokens.
func Body(contentType string, data []byte, c Context) ([]byte, bool) {
	if len(data) == 0 {
		return data, false
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.Contains(mt, "protobuf") || bytes.HasPrefix(data, []byte("k8s\x00")):
		if c.secrets() || c.Resource == "tokenreviews" || c.Subresource == "token" ||
			bytes.Contains(data, []byte("Secret")) || bytes.Contains(data, []byte("TokenRequest")) {
			return nil, true
		}
		return data, false
	case strings.Contains(mt, "yaml"):
		if out, changed, ok := yamlBody(data, c); ok {
			return out, changed
		}
	case strings.Contains(mt, "json") || looksJSON(data):
		if out, changed, ok := jsonBody(data, c); ok {
			return out, changed
		}
	}
	// Text we could not parse: if it may be a secret object, drop it.
	if c.secrets() || bytes.Contains(data, []byte(`"Secret"`)) || bytes.Contains(data, []byte("kind: Secret")) {
		return nil, true
	}
	return scrubText(data)
}

func looksJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

func jsonBody(data []byte, c Context) ([]byte, bool, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, false
	}
	if dec.More() {
		return nil, false, false // several documents: not one object
	}
	if !walk(v, c.secrets()) {
		return data, false, true
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, true, true
	}
	return out, true, true
}

func yamlBody(data []byte, c Context) ([]byte, bool, bool) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, false, false
	}
	if !walk(v, c.secrets()) {
		return data, false, true
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, true, true
	}
	return out, true, true
}

// walk redacts v in place and reports whether it changed anything.
// secretItems is true when objects without a kind are Secrets (the items of
// a list of secrets).
func walk(v any, secretItems bool) bool {
	changed := false
	switch t := v.(type) {
	case map[string]any:
		kind, _ := t["kind"].(string)
		switch {
		case kind == "Secret" || (kind == "" && secretItems && isObject(t)):
			changed = redactKeys(t, "data", "stringData") || changed
			// kubectl apply keeps the whole object, data included, in an
			// annotation.
			if md, ok := t["metadata"].(map[string]any); ok {
				if ann, ok := md["annotations"].(map[string]any); ok {
					changed = redactKeys(ann, "kubectl.kubernetes.io/last-applied-configuration") || changed
				}
			}
		case kind == "TokenRequest":
			changed = redactPath(t, "status", "token") || changed
		case kind == "TokenReview":
			changed = redactPath(t, "spec", "token") || changed
		case kind == "Config":
			if users, ok := t["users"].([]any); ok {
				for _, u := range users {
					if um, ok := u.(map[string]any); ok {
						if user, ok := um["user"].(map[string]any); ok {
							changed = redactKeys(user, "token", "client-key-data", "password") || changed
						}
					}
				}
			}
		}
		itemsAreSecrets := kind == "SecretList" || (secretItems && strings.HasSuffix(kind, "List"))
		for k, val := range t {
			switch val := val.(type) {
			case string:
				if s, ok := scrubString(val); ok {
					t[k] = s
					changed = true
				}
			default:
				child := secretItems && kind == ""
				if k == "items" {
					child = itemsAreSecrets || (secretItems && kind == "")
				}
				if k == "object" {
					child = false // watch events and Table rows say their kind
				}
				changed = walk(val, child) || changed
			}
		}
	case []any:
		for i, e := range t {
			if s, ok := e.(string); ok {
				if r, ok := scrubString(s); ok {
					t[i] = r
					changed = true
				}
				continue
			}
			changed = walk(e, secretItems) || changed
		}
	}
	return changed
}

func isObject(m map[string]any) bool {
	_, ok := m["metadata"]
	return ok
}

func redactKeys(m map[string]any, keys ...string) bool {
	changed := false
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			for kk := range v {
				v[kk] = Mark
				changed = true
			}
		case string:
			if v != "" {
				m[k] = Mark
				changed = true
			}
		}
	}
	return changed
}

func redactPath(m map[string]any, parent, key string) bool {
	p, ok := m[parent].(map[string]any)
	if !ok {
		return false
	}
	return redactKeys(p, key)
}

var (
	privateKey = regexp.MustCompile(`-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END ([A-Z ]*)PRIVATE KEY-----`)
	// A JWT: three base64url parts, the first two starting with {" encoded.
	jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
)

func scrubString(s string) (string, bool) {
	if !strings.Contains(s, "PRIVATE KEY-----") && !strings.Contains(s, "eyJ") {
		return s, false
	}
	out := privateKey.ReplaceAllString(s, "-----"+Mark+" PRIVATE KEY-----")
	out = jwt.ReplaceAllString(out, Mark+"-JWT")
	return out, out != s
}

func scrubText(data []byte) ([]byte, bool) {
	s, changed := scrubString(string(data))
	if !changed {
		return data, false
	}
	return []byte(s), true
}
