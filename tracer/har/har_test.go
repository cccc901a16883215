package har_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/har"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
	"github.com/kubewire/kubewire/tracer/sample"
)

// exportSample writes the bundled sample as HAR, as kubewire export does:
// redacted, annotated, each exchange once complete.
func exportSample(t *testing.T) []byte {
	t.Helper()
	rd, err := record.NewReader(sample.Open(), sample.Name)
	if err != nil {
		t.Fatal(err)
	}
	src := annotate.ForRecordings().Lines(redact.Lines(rd, false))
	var out bytes.Buffer
	w, err := har.NewWriter(&out, har.Creator{Name: "kubewire", Version: "test"}, &har.LogKubewire{Recording: sample.Name, Secrets: "redacted"})
	if err != nil {
		t.Fatal(err)
	}
	c := &record.Completer{Audit: annotate.Audit, Done: func(x *record.Exchange) {
		e := har.FromExchange(x)
		if err := w.Write(&e); err != nil {
			t.Fatal(err)
		}
	}}
	for {
		l, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Add(l, rd.Pos())
	}
	c.Flush()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func decodeAll(t *testing.T, data []byte) []har.Entry {
	t.Helper()
	var entries []har.Entry
	if _, err := har.Decode(bytes.NewReader(data), func(_ int, e *har.Entry) error {
		entries = append(entries, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestSampleValidates checks the sample's export with a validator kubewire
// did not write: Debian's node-har-validator (apt-get install
// node-har-validator; .ci/run installs it).
func TestSampleValidates(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: apt-get install nodejs node-har-validator")
	}
	file := filepath.Join(t.TempDir(), "sample.har")
	if err := os.WriteFile(file, exportSample(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "validate.js"), file)
	cmd.Env = append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "valid" {
		t.Fatalf("har-validator: %v\n%s", err, out)
	}
	// The validator must be able to say no.
	bad := filepath.Join(t.TempDir(), "bad.har")
	os.WriteFile(bad, []byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"time":1}]}}`), 0o644)
	if out, err := exec.Command(node, filepath.Join("testdata", "validate.js"), bad).CombinedOutput(); err == nil {
		t.Fatalf("the validator accepted an entry with no request: %s", out)
	}
}

// TestSampleEntries checks what the schema cannot: time is the sum of the
// non-negative timings, streams and upgrades are there, annotations too.
func TestSampleEntries(t *testing.T) {
	entries := decodeAll(t, exportSample(t))
	rec, err := annotate.ForRecordings().ReadAll(sample.Open(), sample.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(rec.Exchanges) {
		t.Fatalf("%d entries for %d exchanges", len(entries), len(rec.Exchanges))
	}
	var ws, watch, inferred bool
	for _, e := range entries {
		tm := e.Timings
		sum := 0.0
		for _, v := range []float64{tm.Blocked, tm.DNS, tm.Connect, tm.SSL, tm.Send, tm.Wait, tm.Receive} {
			if v >= 0 {
				sum += v
			}
		}
		if d := e.Time - sum; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: time %v, timings sum to %v", e.Request.URL, e.Time, sum)
		}
		k := e.Kubewire
		if k == nil || k.Verb == "" || k.Outcome == "" || k.Seq == 0 {
			t.Fatalf("%s: _kubewire %+v lacks verb, outcome or seq", e.Request.URL, k)
		}
		if e.ResourceType == "websocket" && k.Subresource == "exec" {
			var stdout string
			for _, m := range e.WebSocketMessages {
				if m.Kubewire != nil && m.Kubewire.Channel == "stdout" && m.Type == "receive" {
					stdout += m.Data
				}
			}
			ws = stdout == "hello\n"
		}
		if k.Verb == "watch" {
			var types []string
			for _, ev := range e.KubewireEvents {
				types = append(types, ev.Type)
			}
			watch = strings.Join(types, " ") == "ADDED MODIFIED DELETED" && strings.Contains(e.Response.Content.Text, `"type":"DELETED"`)
		}
		inferred = inferred || len(k.InferredStages) > 0
		if strings.Contains(e.Request.URL, "/token") && k.ResponseBody != nil && !k.ResponseBody.Redacted {
			t.Errorf("the TokenRequest's response is not marked redacted")
		}
	}
	if !ws || !watch || !inferred {
		t.Errorf("exec stdout in _webSocketMessages %v, watch events in _kubewireEvents %v, inferred stages flagged %v", ws, watch, inferred)
	}
}

// TestRoundTrip exports the sample and imports it back: the same calls,
// bodies, events and annotations.
func TestRoundTrip(t *testing.T) {
	data := exportSample(t)
	scopes, n, err := har.LearnScopes(bytes.NewReader(data))
	if err != nil || n == 0 {
		t.Fatalf("discovery in the export: %d, %v", n, err)
	}
	var got record.Recording
	a := &record.Assembler{}
	if _, err := har.Import(bytes.NewReader(data), har.ImportConfig{Scopes: scopes}, sinkFunc(func(l record.Line) { a.Add(l, "import") })); err != nil {
		t.Fatal(err)
	}
	got = a.Recording
	want, err := annotate.ForRecordings().ReadAll(sample.Open(), sample.Name)
	if err != nil {
		t.Fatal(err)
	}
	bySeq := map[int64]*record.Exchange{}
	for _, x := range got.Exchanges {
		bySeq[x.Seq] = x
	}
	if len(got.Exchanges) != len(want.Exchanges) || len(got.Warnings)+len(a.Warnings) > 0 {
		t.Fatalf("%d exchanges back for %d; warnings %v", len(got.Exchanges), len(want.Exchanges), a.Warnings)
	}
	for _, w := range want.Exchanges {
		g := bySeq[w.Seq]
		if g == nil {
			t.Errorf("#%d did not come back", w.Seq)
			continue
		}
		if g.Request.Method != w.Request.Method || g.Request.URL != w.Request.URL || status(g) != status(w) {
			t.Errorf("#%d: %s %s %d, want %s %s %d", w.Seq, g.Request.Method, g.Request.URL, status(g), w.Request.Method, w.Request.URL, status(w))
		}
		if !sameBody(g.Request.Body, w.Request.Body) || !sameBody(respBody(g), respBody(w)) {
			t.Errorf("#%d: bodies differ", w.Seq)
		}
		if len(g.Events) != len(w.Events) {
			t.Errorf("#%d: %d events, want %d", w.Seq, len(g.Events), len(w.Events))
		} else {
			for i := range w.Events {
				ge, we := g.Events[i], w.Events[i]
				if ge.Type != we.Type || ge.Direction != we.Direction || ge.Channel != we.Channel || !sameBody(ge.Body, we.Body) || !ge.Time.Equal(we.Time) {
					t.Errorf("#%d event %d: %+v, want %+v", w.Seq, i, ge, we)
				}
			}
		}
		ga, wa := g.Annotation, w.Annotation
		if ga.Verb != wa.Verb || ga.Resource != wa.Resource || ga.Namespace != wa.Namespace || ga.Scope != wa.Scope ||
			ga.Outcome != wa.Outcome || ga.Auth.StoppedAt != wa.Auth.StoppedAt || ga.Auth.User != wa.Auth.User || g.Own != w.Own {
			t.Errorf("#%d: annotation %s %s ns=%s %s %s stopped=%q user=%q, want %s %s ns=%s %s %s stopped=%q user=%q", w.Seq,
				ga.Verb, ga.Resource, ga.Namespace, ga.Scope, ga.Outcome, ga.Auth.StoppedAt, ga.Auth.User,
				wa.Verb, wa.Resource, wa.Namespace, wa.Scope, wa.Outcome, wa.Auth.StoppedAt, wa.Auth.User)
		}
		if ga.ResourceRequest && ga.Namespace == "" && ga.ScopeSource != "recorded" {
			t.Errorf("#%d: scope from %q, want recorded (the HAR's own discovery)", w.Seq, ga.ScopeSource)
		}
	}
	if err := sample.Check(&record.Recording{Header: want.Header, Exchanges: got.Exchanges}); err != nil {
		t.Errorf("the imported sample no longer tells its story: %v", err)
	}
}

type sinkFunc func(record.Line)

func (f sinkFunc) Put(l record.Line) { f(l) }

func status(x *record.Exchange) int {
	if x.Response == nil {
		return 0
	}
	return x.Response.Status
}

func respBody(x *record.Exchange) *record.Body {
	if x.Response == nil {
		return nil
	}
	return x.Response.Body
}

func sameBody(a, b *record.Body) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Bytes != b.Bytes || a.Truncated != b.Truncated || a.Redacted != b.Redacted || a.Omitted != b.Omitted {
		return false
	}
	// Import redacts again; a redacted protobuf body comes back
	// re-encoded (empty fields dropped), its secrets still out.
	return a.Redacted && a.Base64 != "" || bytes.Equal(a.Data(), b.Data())
}

func importFile(t *testing.T, name string, c har.ImportConfig) (*record.Recording, har.ImportStats) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scopes, _, err := har.LearnScopes(f)
	if err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	c.Scopes = scopes
	a := &record.Assembler{}
	st, err := har.Import(f, c, sinkFunc(func(l record.Line) { a.Add(l, name) }))
	if err != nil {
		t.Fatal(err)
	}
	return &a.Recording, st
}

// TestImportMitmproxy reads a file in the shape mitmproxy's savehar.py
// writes: discovery for a custom resource, a token, a Secret, a page that
// is not Kubernetes, and exec over WebSocket with binary messages.
func TestImportMitmproxy(t *testing.T) {
	rec, st := importFile(t, "mitmproxy.har", har.ImportConfig{})
	if st.Entries != 6 || st.Imported != 5 || st.Skipped != 1 {
		t.Fatalf("stats %+v, want 6 entries, 5 imported, 1 skipped", st)
	}
	x := rec.Exchanges
	if a := x[2].Annotation; a.Resource != "widgets" || a.Scope != "Cluster" || a.ScopeSource != "recorded" {
		t.Errorf("widgets: scope %s from %s, want Cluster from the HAR's discovery (recorded)", a.Scope, a.ScopeSource)
	}
	if a := x[1].Annotation; a.Verb != "list" || a.Namespace != "demo" || a.Auth.User != "system:serviceaccount:demo:intern" || a.Outcome != "served" {
		t.Errorf("pods: %s ns=%s user=%s %s", a.Verb, a.Namespace, a.Auth.User, a.Outcome)
	}
	for _, xx := range x {
		line, _ := record.Line{Type: record.TypeExchange, Exchange: xx}.Marshal()
		if bytes.Contains(line, []byte("c2lnbmF0dXJl")) || bytes.Contains(line, []byte("aHVudGVyMi1pbi1jbGVhcg")) {
			t.Errorf("#%d holds the token or the Secret's data in clear: %s", xx.Seq, line)
		}
	}
	exec := x[4]
	if exec.Annotation.Subresource != "exec" || exec.Annotation.Upgrade != "websocket" || len(exec.Events) != 3 {
		t.Fatalf("exec: %+v with %d events", exec.Annotation, len(exec.Events))
	}
	if ev := exec.Events[0]; ev.Channel != "stdout" || ev.Direction != "down" || string(ev.Body.Data()) != "hello\n" {
		t.Errorf("first message: %+v %q, want hello on stdout", ev, ev.Body.Data())
	}
	if ev := exec.Events[2]; ev.Type != "close" || ev.Channel != "stdin" || ev.Direction != "up" {
		t.Errorf("last message: %+v, want v5's close of stdin", ev)
	}
	// With --show-secrets the Secret stays as the file has it.
	rec, _ = importFile(t, "mitmproxy.har", har.ImportConfig{ShowSecrets: true})
	if !strings.Contains(rec.Exchanges[3].Response.Body.Text, "aHVudGVyMi1pbi1jbGVhcg") {
		t.Errorf("--show-secrets: the Secret's data was redacted anyway")
	}
}

// TestImportChrome reads a file in the shape Chrome's devtools save:
// HTTP/2 pseudo-headers, lower-case names, base64 content, pages.
func TestImportChrome(t *testing.T) {
	rec, st := importFile(t, "chrome.har", har.ImportConfig{})
	if st.Imported != 2 || st.Skipped != 1 {
		t.Fatalf("stats %+v", st)
	}
	d := rec.Exchanges[0]
	if d.Request.Headers.Get(":authority") != "" || d.Request.Headers.Get("Accept") != "application/json" || d.Request.Proto != "HTTP/2.0" {
		t.Errorf("headers %v proto %s", d.Request.Headers, d.Request.Proto)
	}
	if !strings.Contains(d.Response.Body.Text, `"frontend"`) || d.Annotation.Scope != "Namespaced" {
		t.Errorf("deployments: body %q scope %s", d.Response.Body.Text, d.Annotation.Scope)
	}
	if a := rec.Exchanges[1].Annotation; a.Auth.StoppedAt != "authorization" || a.Outcome != "rejected" || a.Scope != "Cluster" || a.ScopeSource != "builtin" {
		t.Errorf("nodes 403: stopped at %q, %s, scope %s from %s", a.Auth.StoppedAt, a.Outcome, a.Scope, a.ScopeSource)
	}
}

// TestMalformed: a bad file is refused with where it went wrong, after
// the entries before it were handed over.
func TestMalformed(t *testing.T) {
	good, _ := os.ReadFile(filepath.Join("testdata", "chrome.har"))
	cut := bytes.Index(good, []byte(`"request"`))
	cut = bytes.Index(good[cut+1:], []byte(`"request"`)) + cut + 1 // the second entry's
	bad := append(append([]byte(nil), good[:cut]...), []byte(`"request": {"method": 7}}]}}`)...)
	seen := 0
	_, err := har.Decode(bytes.NewReader(bad), func(int, *har.Entry) error { seen++; return nil })
	var fe *har.FormatError
	if !errors.As(err, &fe) || fe.Entry != 1 || fe.Offset <= 0 || seen != 1 {
		t.Fatalf("error %v (entry %d), %d entries seen first; want entry 1 with an offset, after 1", err, fe.Entry, seen)
	}
	for _, in := range []string{``, `[]`, `{"log": {"version": "1.2"}}`, `{"log": {"entries": [`} {
		if _, err := har.Decode(strings.NewReader(in), func(int, *har.Entry) error { return nil }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
