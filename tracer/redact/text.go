package redact

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
)

var (
	// A PEM private key block; one cut short runs to the end.
	privateKey = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)`)
	// A PEM block in base64 (kubeconfig client-key-data, Secret data):
	// "-----BEGIN" encodes as LS0tLS1CRUdJTi.
	base64PEM = regexp.MustCompile(`LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}`)
	// A JWT: three base64url parts, the first two JSON objects ({" is eyJ).
	jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	// An Authorization header written out in text (curl -v, logs).
	authLine = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization:[ \t]*(?:bearer|basic)[ \t]+)([A-Za-z0-9._~+/=-]+)`)
)

// scrubString removes private keys, JWTs and written-out credentials from
// s, and reports whether it changed anything.
func scrubString(s string) (string, bool) {
	out := s
	if strings.Contains(out, "PRIVATE KEY-----") {
		out = privateKey.ReplaceAllStringFunc(out, func(m string) string { return Mark + " PRIVATE KEY (" + strconv.Itoa(len(m)) + " bytes)" })
	}
	if strings.Contains(out, "LS0tLS1CRUdJTi") {
		out = base64PEM.ReplaceAllStringFunc(out, func(m string) string {
			d, err := base64.StdEncoding.DecodeString(m)
			if err != nil {
				d, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(m, "="))
			}
			if err != nil || !strings.Contains(string(d), "PRIVATE KEY") {
				return m
			}
			return Mark + " PRIVATE KEY (" + strconv.Itoa(len(m)) + " bytes)"
		})
	}
	if strings.Contains(out, "eyJ") {
		out = jwt.ReplaceAllStringFunc(out, func(m string) string { return Mark + " JWT (" + strconv.Itoa(len(m)) + " bytes)" })
	}
	if strings.Contains(out, "uthorization:") || strings.Contains(out, "UTHORIZATION:") {
		out = authLine.ReplaceAllStringFunc(out, func(m string) string {
			sub := authLine.FindStringSubmatch(m)
			if isMarker(sub[2]) || strings.HasPrefix(sub[2], Mark) {
				return m
			}
			return sub[1] + marker(len(sub[2]))
		})
	}
	return out, out != s
}

func scrubText(data []byte) ([]byte, bool) {
	s, changed := scrubString(string(data))
	if !changed {
		return data, false
	}
	return []byte(s), true
}

// String removes private keys, JWTs and written-out credentials from a
// message meant for the screen or a recording (an error from the upstream
// transport, a Status message).
func String(s string) string {
	out, _ := scrubString(s)
	return out
}
