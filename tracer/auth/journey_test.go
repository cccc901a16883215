package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/record"
)

func annotate(t *testing.T, method, target string, h http.Header) record.Annotation {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return classify.New("", classify.Builtin()).Classify(method, u, h)
}

func statusJSON(t *testing.T, st metav1.Status) []byte {
	t.Helper()
	st.Kind, st.APIVersion = "Status", "v1"
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// stages is a compact form of a journey: one letter per stage (p passed,
// r rejected, n not applicable, . not reached), upper case when observed.
func stages(a *record.Auth) string {
	var b bytes.Buffer
	for _, s := range a.Stages {
		c := map[string]byte{record.Passed: 'p', record.Rejected: 'r', record.NotApplicable: 'n', record.NotReached: '.'}[s.Status]
		if !s.Inferred && (s.Status == record.Passed || s.Status == record.Rejected) {
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

var pfHeaders = http.Header{HeaderFlowSchemaUID: {"fs-uid"}, HeaderPriorityLevelUID: {"pl-uid"}}

// Responses that the lab cannot easily produce, built the way the API
// server builds them (see the source references); the captured fixtures
// cover the rest.
func TestJourneySynthetic(t *testing.T) {
	for _, tc := range []struct {
		name          string
		method, url   string
		status        int
		header        http.Header
		contentType   string
		body          []byte
		stop, stages  string
		admissionKind string
	}{
		// priority-and-fairness.go tooManyRequests: plain text.
		{name: "apf 429", method: "GET", url: "/api/v1/pods", status: 429, header: http.Header{"Retry-After": {"1"}},
			contentType: "text/plain; charset=utf-8", body: []byte("Too many requests, please try again later.\n"),
			stop: record.StagePriority, stages: "pR.nn."},
		{name: "webhook denied", method: "POST", url: "/api/v1/namespaces/demo/pods", status: 400, header: pfHeaders,
			body: statusJSON(t, metav1.Status{Status: "Failure", Code: 400, Message: `admission webhook "deny.example.com" denied the request: no`}),
			stop: record.StageAdmission, stages: "PPpRp.", admissionKind: "webhook"},
		{name: "webhook unreachable", method: "POST", url: "/api/v1/namespaces/demo/pods", status: 500, header: pfHeaders,
			body: statusJSON(t, metav1.Status{Status: "Failure", Code: 500, Reason: "InternalError", Message: `Internal error occurred: failed calling webhook "hook.example.com": connection refused`}),
			stop: record.StageAdmission, stages: "PPpRp.", admissionKind: "webhook"},
		{name: "namespace terminating", method: "POST", url: "/api/v1/namespaces/gone/configmaps", status: 403, header: pfHeaders,
			body: statusJSON(t, metav1.Status{Status: "Failure", Code: 403, Reason: "Forbidden", Message: `configmaps "c" is forbidden: unable to create new content in namespace gone because it is being terminated`}),
			stop: record.StageAdmission, stages: "PPpR..", admissionKind: "namespace-lifecycle"},
		{name: "bad body", method: "POST", url: "/api/v1/namespaces/demo/configmaps", status: 400, header: pfHeaders,
			body: statusJSON(t, metav1.Status{Status: "Failure", Code: 400, Reason: "BadRequest", Message: `the body of the request was in an unknown format`}),
			stop: record.StageValidation, stages: "PPp.r.",
		},
		{name: "server error", method: "GET", url: "/api/v1/namespaces/demo/pods/x", status: 500, header: pfHeaders,
			body: statusJSON(t, metav1.Status{Status: "Failure", Code: 500, Reason: "InternalError", Message: `Internal error occurred: etcdserver: request timed out`}),
			stop: record.StageStorage, stages: "PPpnnr"},
		{name: "exec websocket", method: "GET", url: "/api/v1/namespaces/demo/pods/web/exec?command=ls&stdout=true",
			header: http.Header{}, status: 101, stages: "pnppnn"},
		{name: "logs", method: "GET", url: "/api/v1/namespaces/demo/pods/web/log?follow=true", header: http.Header{}, status: 200, stages: "pnpnnn"},
		{name: "version", method: "GET", url: "/version", header: pfHeaders, status: 200, stages: "PPpnnn"},
		{name: "self subject access review", method: "POST", url: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", header: pfHeaders, status: 201, stages: "PPpppn"},
		{name: "delete", method: "DELETE", url: "/api/v1/namespaces/demo/pods/web", header: pfHeaders, status: 200, stages: "PPppnP"},
		{name: "no response", method: "GET", url: "/api/v1/pods", status: 0, stop: record.StoppedNoResponse, stages: "......"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ann := annotate(t, tc.method, tc.url, nil)
			a := &record.Auth{Method: MethodX509, User: "admin"}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			Journey(a, ann, tc.status, tc.header, ct, tc.body)
			if a.StoppedAt != tc.stop || stages(a) != tc.stages {
				t.Errorf("stopped at %q with %s, want %q with %s\n%+v", a.StoppedAt, stages(a), tc.stop, tc.stages, a.Stages)
			}
			if tc.admissionKind != "" && (a.Admission == nil || a.Admission.Kind != tc.admissionKind) {
				t.Errorf("admission %+v, want kind %s", a.Admission, tc.admissionKind)
			}
			if tc.stop != "" && a.Reason == "" {
				t.Error("no reason for the stop")
			}
		})
	}
}

func TestSignals(t *testing.T) {
	h := http.Header{
		"Audit-Id":             {"6c1d7f8e-0000-4000-8000-000000000001"},
		HeaderFlowSchemaUID:    {"fs-uid"},
		HeaderPriorityLevelUID: {"pl-uid"},
		"Warning": {
			`299 - "apps/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment"`,
			`299 - "spec.containers[0].resources: cpu limit is not set"`,
		},
	}
	s := Signals(h, stubNames{"fs-uid": "global-default", "pl-uid": "workload-low"})
	if s.AuditID != "6c1d7f8e-0000-4000-8000-000000000001" || s.FlowSchema != "global-default" || s.PriorityLevel != "workload-low" {
		t.Errorf("signals %+v", s)
	}
	if len(s.Warnings) != 2 || s.Warnings[0].Code != 299 || s.Warnings[0].Replacement != "apps/v1" || s.Warnings[1].Replacement != "" ||
		s.Warnings[1].Text != "spec.containers[0].resources: cpu limit is not set" {
		t.Errorf("warnings %+v", s.Warnings)
	}
	if s.FlowNote != "" {
		t.Errorf("names resolved, yet a note: %q", s.FlowNote)
	}
	if s := Signals(h, nil); s.FlowSchema != "fs-uid" {
		t.Errorf("without names the UID stays: %+v", s)
	}
	if s := Signals(h, stubNames{"fs-uid": "global-default"}); s.PriorityLevel != "pl-uid" || s.FlowNote != "stub does not know it" {
		t.Errorf("an unresolved UID should say why: %+v", s)
	}
	if s := Signals(http.Header{}, nil); s != nil {
		t.Errorf("no signals: %+v", s)
	}
}

type stubNames map[string]string

func (m stubNames) Names(fs, pl string) (string, string, string) {
	get := func(u string) string {
		if n := m[u]; n != "" {
			return n
		}
		return u
	}
	return get(fs), get(pl), "stub does not know it"
}
