package auth

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

// fixture is a response captured from the lab's kube-apiserver v1.37.2 by
// `go test ./tracer/auth/e2e -update`.
type fixture struct {
	Comment       string      `json:"comment"`
	Method        string      `json:"method"`
	URL           string      `json:"url"`
	RequestHeader http.Header `json:"requestHeader"`
	Status        int         `json:"status"`
	Header        http.Header `json:"header"`
	Body          string      `json:"body"`
	BodyBase64    []byte      `json:"bodyBase64"`
}

func (f fixture) body() []byte {
	if f.BodyBase64 != nil {
		return f.BodyBase64
	}
	return []byte(f.Body)
}

// want is what Journey must make of a fixture. stages uses the letters of
// stages(): p passed, r rejected, n not applicable, . not reached; upper
// case when observed.
type want struct {
	stop, stages string
	denial       *record.Denial // Namespace "" is not compared when nsPrefix
	admission    string         // kind
	causes       []string       // fields
	persisted    *bool
	replacement  string
}

var (
	yes = true
	no  = false
)

var fixtureWants = map[string]want{
	"admin-list-pods":    {stages: "PPpnnP"},
	"alice-list-pods":    {stop: "authorization", stages: "PPRnn.", denial: &record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}},
	"alice-list-nodes":   {stop: "authorization", stages: "PPRnn.", denial: &record.Denial{User: "alice", Verb: "list", Resource: "nodes", Cluster: true}},
	"alice-get-metrics":  {stop: "authorization", stages: "PPRnnn", denial: &record.Denial{User: "alice", Verb: "get", Path: "/metrics"}},
	"admin-as-alice":     {stop: "authorization", stages: "PPRnn.", denial: &record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}},
	"alice-as-admin":     {stop: "authorization", stages: "P.Rnn.", denial: &record.Denial{User: "alice", Verb: "impersonate-on:user-info:list", Resource: "pods", Namespace: "demo"}},
	"bad-token":          {stop: "authentication", stages: "R..nn."},
	"create-configmap":   {stages: "PPpppP", persisted: &yes},
	"create-dry-run":     {stages: "PPpppn", persisted: &no},
	"create-duplicate":   {stop: "storage", stages: "PPpppR"},
	"update-conflict":    {stop: "storage", stages: "PPpppR"},
	"create-invalid":     {stop: "validation", stages: "PPppR.", causes: []string{"metadata.name", "data[bad key!]"}},
	"get-missing":        {stop: "storage", stages: "PPpnnR"},
	"pod-security":       {stop: "admission", stages: "PPpRp.", admission: "pod-security"},
	"policy-denied":      {stop: "admission", stages: "PPpRp.", admission: "policy"},
	"quota-exceeded":     {stop: "admission", stages: "PPpRp.", admission: "quota"},
	"deprecated-version": {stages: "PPpnnP", replacement: "/v1"},
	"alice-list-pods-protobuf": {stop: "authorization", stages: "PPRnn.",
		denial: &record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}},
	"alice-get-deployment-scale": {stop: "authorization", stages: "PPRnn.",
		denial: &record.Denial{User: "alice", Verb: "get", Resource: "deployments", Subresource: "scale", APIGroup: "apps", Namespace: "demo"}},
	"create-in-missing-namespace": {stop: "admission", stages: "PPpR..", admission: "namespace-lifecycle"},
	// NamespaceLifecycle admits (mutating phase): validation is not reached.
	"create-in-terminating-namespace": {stop: "admission", stages: "PPpR..", admission: "namespace-lifecycle"},
	// A webhook's message does not say its phase; most that deny validate.
	"webhook-denied": {stop: "admission", stages: "PPpRp.", admission: "webhook"},
	// A read turned away by priority and fairness: authorization never ran.
	"apf-rejected": {stop: "priority-and-fairness", stages: "PR.nn."},
}

func TestJourneyCaptured(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "responses", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/responses (%v); capture them with 'go test ./tracer/auth/e2e -update'", err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			w, ok := fixtureWants[name]
			if !ok {
				t.Fatalf("%s has no expectation in fixtureWants", file)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var f fixture
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			ann := annotate(t, f.Method, f.URL, f.RequestHeader)
			a := &record.Auth{Method: MethodX509}
			Journey(a, ann, f.Status, f.Header, f.Header.Get("Content-Type"), f.body())
			if a.StoppedAt != w.stop || stages(a) != w.stages {
				t.Errorf("stopped at %q with %s, want %q with %s\n%+v", a.StoppedAt, stages(a), w.stop, w.stages, a.Stages)
			}
			if w.stop != "" && a.Reason == "" {
				t.Error("no reason")
			}
			if w.denial != nil && (a.Denial == nil || *a.Denial != *w.denial) {
				t.Errorf("denial %+v, want %+v", a.Denial, w.denial)
			}
			if w.denial == nil && a.Denial != nil {
				t.Errorf("unexpected denial %+v", a.Denial)
			}
			if (a.Admission == nil) != (w.admission == "") || a.Admission != nil && a.Admission.Kind != w.admission {
				t.Errorf("admission %+v, want kind %q", a.Admission, w.admission)
			}
			var fields []string
			for _, c := range a.Causes {
				fields = append(fields, c.Field)
			}
			for _, fld := range w.causes {
				if !strings.Contains(strings.Join(fields, "\n"), fld) {
					t.Errorf("causes %v, want %s among them", fields, fld)
				}
			}
			if (a.Persisted == nil) != (w.persisted == nil) || a.Persisted != nil && *a.Persisted != *w.persisted {
				t.Errorf("persisted %v, want %v", a.Persisted, w.persisted)
			}
			sig := Signals(f.Header, nil)
			if sig == nil || sig.AuditID == "" {
				t.Errorf("no Audit-Id in %v", f.Header)
			}
			if w.replacement != "" && (len(sig.Warnings) != 1 || !strings.HasSuffix(sig.Warnings[0].Replacement, w.replacement)) {
				t.Errorf("warnings %+v, want a replacement ending in %s", sig.Warnings, w.replacement)
			}
		})
	}
	for name := range fixtureWants {
		if !seen[name] {
			t.Errorf("fixture %s.json is missing; capture it with 'go test ./tracer/auth/e2e -update'", name)
		}
	}
}

// The audit events of the captured calls, from the lab's audit log.
func TestParseCapturedAuditLog(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	decisions := map[string]int{}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		ev, ok := ParseAuditEvent([]byte(line))
		if !ok {
			t.Fatalf("not an event: %s", line)
		}
		n++
		decisions[ev.User+" "+ev.Decision]++
		if ev.AuditID == "" || ev.Verb == "" || ev.Code == 0 {
			t.Errorf("incomplete event %+v", ev)
		}
		if ev.Impersonated != "" && ev.User == "alice" {
			t.Errorf("alice's impersonation was denied, yet the event says %+v", ev)
		}
	}
	if decisions["alice forbid"] < 5 || n < 15 {
		t.Errorf("%d events, decisions %v; want alice's denials among them", n, decisions)
	}
}
