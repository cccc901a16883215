package annotate

import (
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

func TestAuditObservesStages(t *testing.T) {
	x := &record.Exchange{Seq: 1}
	x.Annotation.Auth = &record.Auth{Method: "token", Stages: []record.Stage{
		{Name: record.StageAuthentication, Status: record.Passed, Inferred: true},
		{Name: record.StageAuthorization, Status: record.Passed, Inferred: true},
	}}
	Audit(x, &record.AuditEvent{AuditID: "a", User: "jane", Groups: []string{"dev"}, Decision: "allow", DecisionReason: `RBAC: allowed by RoleBinding "r"`})
	a := x.Annotation.Auth
	if a.User != "jane" || a.Source != "audit-log" || len(a.Groups) != 1 {
		t.Errorf("identity from the audit log: %+v", a)
	}
	for _, st := range a.Stages {
		if st.Inferred {
			t.Errorf("stage %s still inferred after the audit join", st.Name)
		}
	}
	if a.Stages[1].Detail != `allow: RBAC: allowed by RoleBinding "r"` {
		t.Errorf("authorization detail %q", a.Stages[1].Detail)
	}
	// A user kubewire already knew is not replaced.
	y := &record.Exchange{Seq: 2}
	y.Annotation.Auth = &record.Auth{User: "admin", Source: "certificate"}
	Audit(y, &record.AuditEvent{User: "someone-else"})
	if y.Annotation.Auth.User != "admin" || y.Annotation.Auth.Source != "certificate" {
		t.Errorf("known identity overwritten: %+v", y.Annotation.Auth)
	}
}

func TestOutcome(t *testing.T) {
	no := false
	cases := []struct {
		name string
		x    record.Exchange
		want string
	}{
		{"under way", record.Exchange{}, ""},
		{"no response", record.Exchange{Error: &record.Error{Phase: "upstream"}}, record.OutcomeNoResponse},
		{"a read", record.Exchange{Response: &record.Response{Status: 200}, Annotation: record.Annotation{Verb: "list", ResourceRequest: true}}, record.OutcomeServed},
		{"a write", record.Exchange{Response: &record.Response{Status: 201}, Annotation: record.Annotation{Verb: "create", ResourceRequest: true}}, record.OutcomeStored},
		{"discovery", record.Exchange{Response: &record.Response{Status: 200}, Annotation: record.Annotation{Verb: "get"}}, record.OutcomeServed},
		{"a dry run", record.Exchange{Response: &record.Response{Status: 201}, Annotation: record.Annotation{Verb: "create", ResourceRequest: true, Auth: &record.Auth{Persisted: &no}}}, record.OutcomeDryRun},
		{"an exec", record.Exchange{Response: &record.Response{Status: 101}, Annotation: record.Annotation{Verb: "create", ResourceRequest: true, Upgrade: "spdy"}}, record.OutcomeUpgraded},
		{"a TokenRequest, computed", record.Exchange{Response: &record.Response{Status: 201}, Annotation: record.Annotation{Verb: "create", ResourceRequest: true,
			Auth: &record.Auth{Stages: []record.Stage{{Name: record.StageStorage, Status: record.NotApplicable}}}}}, record.OutcomeAnswered},
		{"a denial", record.Exchange{Response: &record.Response{Status: 403}, Annotation: record.Annotation{Auth: &record.Auth{StoppedAt: record.StageAuthorization}}}, record.OutcomeRejected},
		{"an error with no stage", record.Exchange{Response: &record.Response{Status: 500}}, record.OutcomeFailed},
		{"a redirect", record.Exchange{Response: &record.Response{Status: 302}}, record.OutcomeRedirected},
	}
	for _, tc := range cases {
		if got := Outcome(&tc.x); got != tc.want {
			t.Errorf("%s: Outcome = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A recording that predates outcomes gets one; one without a journey gets
// none invented; one never classified is classified.
func TestExchangeFillsWhatARecordingLacks(t *testing.T) {
	a := ForRecordings()
	bare := &record.Exchange{Request: record.Request{Method: "GET", URL: "https://127.0.0.1:6443/api/v1/namespaces/demo/pods?watch=1"},
		Response: &record.Response{Status: 200, Stream: true}}
	a.Exchange(bare)
	if an := bare.Annotation; an.Verb != "watch" || an.Resource != "pods" || an.Namespace != "demo" || an.Outcome != record.OutcomeServed {
		t.Errorf("annotation %+v", an)
	}
	if bare.Annotation.Auth != nil {
		t.Errorf("a journey was invented: %+v", bare.Annotation.Auth)
	}
	kept := &record.Exchange{Annotation: record.Annotation{Kind: "resource", Verb: "list", Resource: "pods", ResourceRequest: true,
		Auth: &record.Auth{Method: "x509", User: "alice", StoppedAt: record.StageAuthorization, Stages: []record.Stage{{Name: record.StageAuthorization, Status: record.Rejected}}}},
		Response: &record.Response{Status: 403}}
	a.Exchange(kept)
	if kept.Annotation.Outcome != record.OutcomeRejected || kept.Annotation.Auth.User != "alice" || len(kept.Annotation.Auth.Stages) != 1 {
		t.Errorf("what the recording said changed: %+v %+v", kept.Annotation, kept.Annotation.Auth)
	}
}
