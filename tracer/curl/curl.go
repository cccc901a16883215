// Package curl writes recorded calls as a POSIX shell script of curl
// commands, one per call, that send the same request again: the method,
// the recorded URL, the headers that decide what the server answers
// (Accept for Table and protobuf, Content-Type, impersonation) and the
// body. Credentials are never written: the script reads them from
// environment variables, for the API server directly or through
// `kubewire proxy`.
package curl

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/kubewire/kubewire/tracer/record"
)

// Via says how the commands reach the API server.
type Via string

const (
	// Direct sends to the API server, with its CA and the caller's own
	// credentials from $KUBE_CA, $KUBE_CERT and $KUBE_KEY, or $TOKEN.
	Direct Via = "direct"
	// Proxy sends through `kubewire proxy` on 127.0.0.1:$KUBEWIRE_PORT,
	// trusting kubewire's CA ($KUBEWIRE_CA); $TOKEN, when set, is sent as
	// the caller's own identity.
	Proxy Via = "proxy"
)

// Config configures a Script.
type Config struct {
	// Via is Direct or Proxy.
	Via Via
	// Recording names the recording, for the header comment.
	Recording string
	// Generator names what wrote the script ("kubewire v1.2.3").
	Generator string
	// Filter is the --filter the calls were chosen with, "" for none.
	Filter string
}

// Script writes a shell script, one call at a time.
type Script struct {
	w   *bufio.Writer
	cfg Config
	n   int
}

// New writes the script's header to w: what it is and the variables it
// needs, checked before anything is sent.
func New(w io.Writer, c Config) (*Script, error) {
	s := &Script{w: bufio.NewWriter(w), cfg: c}
	b := s.w
	fmt.Fprintf(b, "#!/bin/sh\n# The calls of %s, one curl command each, as they were recorded.\n", c.Recording)
	fmt.Fprintf(b, "# Written by %s (kubewire export --curl --via %s", c.Generator, c.Via)
	if c.Filter != "" {
		fmt.Fprintf(b, " --filter %s", Quote(c.Filter))
	}
	b.WriteString(").\n#\n# No credential is stored here. Set, before running it:\n")
	switch c.Via {
	case Proxy:
		b.WriteString(`#   KUBEWIRE_PORT   the port 'kubewire proxy' listens on (it prints it)
#   KUBEWIRE_CA     kubewire's CA certificate ('kubewire ca path' prints it)
#   TOKEN           optional: a bearer token to send as your own identity
#                   (without it the proxy sends the call anonymously)
: "${KUBEWIRE_PORT:?set KUBEWIRE_PORT to the port of kubewire proxy}"
: "${KUBEWIRE_CA:?set KUBEWIRE_CA to kubewire's CA certificate file}"
`)
	default:
		b.WriteString(`#   KUBE_CA         the API server's CA certificate (a PEM file)
#   KUBE_CERT and KUBE_KEY   your client certificate and key (PEM files), or
#   TOKEN           a bearer token
: "${KUBE_CA:?set KUBE_CA to the API server's CA certificate file}"
`)
	}
	b.WriteString("# Calls whose body the recording did not keep whole say so: those\n# commands cannot send exactly what was recorded.\n")
	return s, b.Flush()
}

// Write writes the command for x. Upgraded connections (exec, attach,
// port-forward) are written commented out: curl cannot speak their
// channel protocols.
func (s *Script) Write(x *record.Exchange) error {
	b := s.w
	s.n++
	b.WriteString("\n")
	fmt.Fprintf(b, "# #%d %s\n", x.Seq, summary(x))
	prefix := ""
	if upgrade(x) {
		b.WriteString("# An upgraded connection (exec, attach, port-forward): curl cannot speak\n# its channel protocol. The request was:\n")
		prefix = "# "
	}
	body := x.Request.Body
	if body != nil {
		switch {
		case body.Omitted:
			b.WriteString("# The recording kept only the size of the request body: this curl cannot reproduce it.\n")
		case body.Redacted:
			b.WriteString("# The request body was redacted in the recording: this curl cannot reproduce it exactly.\n")
		case body.Truncated:
			fmt.Fprintf(b, "# The recording kept only the start of the %d-byte request body: this curl cannot reproduce it exactly.\n", body.Bytes)
		}
	}
	stored := body.Data()
	binary := body != nil && !readable(body.ContentType, stored)
	if binary {
		// A protobuf body: decoded from base64 into curl's standard input,
		// byte for byte.
		fmt.Fprintf(b, "%sprintf '%%s' %s | base64 -d |\n", prefix, Quote(base64.StdEncoding.EncodeToString(stored)))
	}
	fmt.Fprintf(b, "%scurl -sS", prefix)
	if x.Request.Method != http.MethodGet || body != nil {
		fmt.Fprintf(b, " -X %s", word(x.Request.Method))
	}
	if stream(x) {
		b.WriteString(" -N")
	}
	b.WriteString(" \\\n" + prefix + "  ")
	switch s.cfg.Via {
	case Proxy:
		b.WriteString(`--proxy "http://127.0.0.1:$KUBEWIRE_PORT" --cacert "$KUBEWIRE_CA" ${TOKEN:+-H "Authorization: Bearer $TOKEN"}`)
	default:
		b.WriteString(`--cacert "$KUBE_CA" ${KUBE_CERT:+--cert "$KUBE_CERT"} ${KUBE_KEY:+--key "$KUBE_KEY"} ${TOKEN:+-H "Authorization: Bearer $TOKEN"}`)
	}
	for _, h := range headers(x.Request.Headers, body) {
		fmt.Fprintf(b, " \\\n%s  -H %s", prefix, Quote(h))
	}
	if body != nil {
		b.WriteString(" \\\n" + prefix + "  --data-binary @-")
	}
	fmt.Fprintf(b, " \\\n%s  %s", prefix, Quote(x.Request.URL))
	if body != nil && !binary {
		delim := delimiter(stored)
		fmt.Fprintf(b, " <<'%s'\n", delim)
		for _, line := range strings.SplitAfter(string(stored), "\n") {
			if line != "" {
				b.WriteString(prefix + line)
			}
		}
		if len(stored) > 0 && stored[len(stored)-1] != '\n' {
			b.WriteByte('\n')
		}
		b.WriteString(prefix + delim)
	}
	b.WriteString("\n")
	return b.Flush()
}

// Calls is the number of commands written.
func (s *Script) Calls() int { return s.n }

// summary is the call in one line: how kubewire read it and what it got.
func summary(x *record.Exchange) string {
	a := x.Annotation
	parts := []string{x.Request.Method + "→" + a.Verb}
	what := a.Resource
	if a.Subresource != "" {
		what += "/" + a.Subresource
	}
	if what == "" {
		what = a.Path
	}
	parts = append(parts, what)
	if a.Namespace != "" {
		parts = append(parts, "ns "+a.Namespace)
	}
	if a.Name != "" {
		parts = append(parts, a.Name)
	}
	switch {
	case x.Response != nil:
		parts = append(parts, fmt.Sprintf("recorded %d %s", x.Response.Status, http.StatusText(x.Response.Status)))
	case x.Error != nil:
		parts = append(parts, "recorded no response: "+oneLine(x.Error.Message))
	}
	if cmd := x.Request.Headers.Get("Kubectl-Command"); cmd != "" {
		parts = append(parts, "from "+cmd)
	}
	if x.Own {
		parts = append(parts, "kubewire's own call")
	}
	return strings.Join(parts, " · ")
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func upgrade(x *record.Exchange) bool {
	return x.Annotation.Upgrade != "" || (x.Response != nil && x.Response.Status == http.StatusSwitchingProtocols)
}

// stream reports whether the response is read as it comes (watch,
// logs -f): curl then must not buffer it.
func stream(x *record.Exchange) bool {
	if x.Annotation.Verb == "watch" {
		return true
	}
	if x.Response != nil && x.Response.Stream {
		return true
	}
	if u, err := url.Parse(x.Request.URL); err == nil {
		q := u.Query()
		return q.Get("watch") == "true" || q.Get("watch") == "1" || q.Get("follow") == "true"
	}
	return false
}

// kept are the request headers that change what the server answers.
var kept = map[string]bool{
	"Accept":           true,
	"Content-Type":     true,
	"Impersonate-User": true, "Impersonate-Group": true, "Impersonate-Uid": true,
}

// headers are the request's headers worth sending again, "Name: value".
func headers(h http.Header, body *record.Body) []string {
	var out []string
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !kept[k] && !strings.HasPrefix(k, "Impersonate-Extra-") {
			continue
		}
		for _, v := range h[k] {
			out = append(out, k+": "+v)
		}
	}
	if body != nil && h.Get("Content-Type") == "" && body.ContentType != "" {
		out = append(out, "Content-Type: "+body.ContentType)
	}
	return out
}

// delimiter is a here-document delimiter that is no line of body.
func delimiter(body []byte) string {
	d := "KUBEWIRE_BODY"
	for i := 1; ; i++ {
		clash := false
		for _, line := range strings.Split(string(body), "\n") {
			if line == d {
				clash = true
				break
			}
		}
		if !clash {
			return d
		}
		d = fmt.Sprintf("KUBEWIRE_BODY_%d", i)
	}
}

// readable reports whether a body can go in a here-document: JSON, YAML
// or other text, with no control characters but line ends and tabs. (A
// here-document ends the body with a newline, which these formats ignore.)
func readable(contentType string, data []byte) bool {
	ct := strings.ToLower(contentType)
	if !strings.Contains(ct, "json") && !strings.Contains(ct, "yaml") && !strings.HasPrefix(ct, "text/") {
		return false
	}
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if r < ' ' && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// word is s as a shell word: bare when it is only letters, else quoted.
func word(s string) string {
	for _, r := range s {
		if !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z') {
			return Quote(s)
		}
	}
	return s
}

// Quote quotes s for a POSIX shell: in single quotes, each single quote
// in it written as '\”.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
