package redact

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// credentialHeaders are replaced wholesale, keeping an auth scheme
// visible; headers whose names say they hold a secret (X-Auth-Token,
// X-Api-Key) are too, by SecretName.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// bearerProtocol is the WebSocket subprotocol in which a client that cannot
// set headers (a browser) sends its bearer token to the API server.
const bearerProtocol = "base64url.bearer.authorization.k8s.io."

// Headers returns a copy of h with credentials replaced by a marker that
// keeps the auth scheme and the length, e.g. "Bearer REDACTED (925 bytes)":
// Authorization, cookies, headers named like secrets, the bearer token of
// the WebSocket subprotocol, and JWTs or keys in any other header.
func Headers(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := h.Clone()
	for name, vals := range out {
		credential := SecretName(name)
		for _, c := range credentialHeaders {
			credential = credential || strings.EqualFold(name, c)
		}
		for i, v := range vals {
			switch {
			case credential:
				vals[i] = headerValue(v)
			case strings.EqualFold(name, "Sec-Websocket-Protocol"):
				vals[i] = subprotocols(v)
			default:
				vals[i], _ = scrubString(v)
			}
		}
	}
	return out
}

func headerValue(v string) string {
	if isMarker(v) {
		return v
	}
	scheme, rest, ok := strings.Cut(v, " ")
	if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
		if isMarker(rest) {
			return v
		}
		return scheme + " " + marker(len(rest))
	}
	return marker(len(v))
}

// subprotocols redacts the bearer token among the WebSocket subprotocols a
// client offers.
func subprotocols(v string) string {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		t := strings.TrimSpace(p)
		if tok, ok := strings.CutPrefix(t, bearerProtocol); ok && tok != "" && !isMarker(tok) {
			parts[i] = strings.Replace(p, t, bearerProtocol+marker(len(tok)), 1)
		}
	}
	return strings.Join(parts, ",")
}

// BearerSubprotocol returns the bearer token a client sent as a WebSocket
// subprotocol (base64url-encoded there), or "".
func BearerSubprotocol(h http.Header) string {
	for _, v := range h.Values("Sec-Websocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if enc, ok := strings.CutPrefix(strings.TrimSpace(p), bearerProtocol); ok && enc != "" {
				if tok, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "=")); err == nil {
					return string(tok)
				}
				return enc
			}
		}
	}
	return ""
}

// urlMarker replaces a secret in a URL, where spaces and parentheses would
// need escaping.
func urlMarker(n int) string { return Mark + "-" + strconv.Itoa(n) + "-bytes" }

// URL returns raw with the values of query parameters named like secrets
// (token, access_token, password) and any JWT replaced. A URL that does not
// parse is scrubbed as text.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return String(raw)
	}
	changed := false
	if u.RawQuery != "" {
		q := strings.Split(u.RawQuery, "&")
		for i, kv := range q {
			k, v, ok := strings.Cut(kv, "=")
			name, _ := url.QueryUnescape(k)
			if ok && v != "" && SecretName(name) && !strings.HasPrefix(v, Mark) {
				q[i] = k + "=" + urlMarker(len(v))
				changed = true
			}
		}
		u.RawQuery = strings.Join(q, "&")
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok && !strings.HasPrefix(p, Mark) {
			u.User = url.UserPassword(u.User.Username(), urlMarker(len(p)))
			changed = true
		}
	}
	out := raw
	if changed {
		out = u.String()
	}
	if strings.Contains(out, "eyJ") {
		out = jwt.ReplaceAllStringFunc(out, func(m string) string { return urlMarker(len(m)) })
	}
	return out
}
