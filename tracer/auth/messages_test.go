package auth

import (
	"testing"

	"github.com/kubewire/kubewire/tracer/record"
)

// Message formats as the API server v1.37 builds them (responsewriters
// forbiddenMessage, admission plugins); the captured fixtures in
// testdata/responses hold the real responses.
func TestParseDenial(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want *record.Denial
	}{
		{`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo"`,
			&record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}},
		{`nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope`,
			&record.Denial{User: "alice", Verb: "list", Resource: "nodes", Cluster: true}},
		{`deployments.apps "web" is forbidden: User "bob" cannot patch resource "deployments/scale" in API group "apps" in the namespace "demo"`,
			&record.Denial{User: "bob", Verb: "patch", Resource: "deployments", Subresource: "scale", APIGroup: "apps", Namespace: "demo"}},
		{`forbidden: User "alice" cannot get path "/metrics"`,
			&record.Denial{User: "alice", Verb: "get", Path: "/metrics"}},
		{`users "admin" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope`,
			&record.Denial{User: "alice", Verb: "impersonate", Resource: "users", Cluster: true}},
		{`pods is forbidden: User "system:serviceaccount:demo:default" cannot list resource "pods" in API group "" in the namespace "demo": RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found`,
			&record.Denial{User: "system:serviceaccount:demo:default", Verb: "list", Resource: "pods", Namespace: "demo", Reason: `RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found`}},
		// The server escapes <, > and & in user names.
		{`pods is forbidden: User "a&lt;b&gt;" cannot list resource "pods" in API group "" in the namespace "x\"y"`,
			&record.Denial{User: "a<b>", Verb: "list", Resource: "pods", Namespace: `x"y`}},
		{`pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`, nil},
		{`Unauthorized`, nil},
	} {
		got := ParseDenial(tc.msg)
		switch {
		case tc.want == nil && got != nil:
			t.Errorf("%s:\n got %+v, want nil", tc.msg, got)
		case tc.want != nil && (got == nil || *got != *tc.want):
			t.Errorf("%s:\n got %+v\nwant %+v", tc.msg, got, tc.want)
		}
	}
}

func TestParseAdmission(t *testing.T) {
	for _, tc := range []struct {
		msg                 string
		kind, name, binding string
	}{
		{`admission webhook "deny.example.com" denied the request: no`, "webhook", "deny.example.com", ""},
		{`admission webhook "deny.example.com" denied the request without explanation`, "webhook", "deny.example.com", ""},
		{`Internal error occurred: failed calling webhook "hook.example.com": failed to call webhook: Post "https://x.svc:443/": dial tcp: connection refused`, "webhook", "hook.example.com", ""},
		{`deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'replicas-limit' with binding 'replicas-limit-demo' denied request: failed expression: object.spec.replicas <= 5`, "policy", "replicas-limit", "replicas-limit-demo"},
		{`deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'replicas-limit' denied request: too many`, "policy", "replicas-limit", ""},
		{`configmaps "c3" is forbidden: exceeded quota: demo-quota, requested: count/configmaps=1, used: count/configmaps=3, limited: count/configmaps=3`, "quota", "demo-quota", ""},
		{`pods "p" is forbidden: failed quota: compute: must specify limits.cpu for: p; limits.memory for: p`, "quota", "compute", ""},
		{`pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`, "pod-security", "restricted:latest", ""},
		{`configmaps "c" is forbidden: unable to create new content in namespace gone because it is being terminated`, "namespace-lifecycle", "NamespaceLifecycle", ""},
		{`pods "p" is forbidden: maximum cpu usage per Container is 1, but limit is 2`, "plugin", "LimitRanger", ""},
		{`pods "p" is forbidden: error looking up service account demo/nobody: serviceaccount "nobody" not found`, "plugin", "ServiceAccount", ""},
	} {
		got := ParseAdmission(tc.msg)
		if got == nil || got.Kind != tc.kind || got.Name != tc.name || got.Binding != tc.binding || got.Message != tc.msg {
			t.Errorf("%s:\n got %+v\nwant kind %q name %q binding %q", tc.msg, got, tc.kind, tc.name, tc.binding)
		}
	}
	for _, msg := range []string{
		`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo"`,
		`Pod "x" is invalid: spec.containers: Required value`,
		`configmaps "c" already exists`,
	} {
		if got := ParseAdmission(msg); got != nil {
			t.Errorf("%s: got %+v, want nil", msg, got)
		}
	}
}
