package classify

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// testScopes stands in for discovery in these table tests: a few resources
// of each scope, including a custom resource the builtin table cannot know.
var testScopes = NewTable("discovery", map[string]bool{
	"/pods": true, "/namespaces": false, "/nodes": false, "/services": true,
	"apps/deployments": true, "rbac.authorization.k8s.io/clusterroles": false,
	"stable.example.com/crontabs": true, "storage.k8s.io/storageclasses": false,
})

func classify(t *testing.T, c *Classifier, method, target string, h http.Header) record.Annotation {
	t.Helper()
	u, err := ParseTarget(target)
	if err != nil {
		t.Fatalf("ParseTarget(%q): %v", target, err)
	}
	return c.Classify(method, u, h)
}

// The path forms below follow the API server's own documentation of
// RequestInfoFactory (apiserver pkg/endpoints/request/requestinfo.go) and
// the objectRef the audit log writes for them.
func TestClassifyPathForms(t *testing.T) {
	ws := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}
	spdy := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"SPDY/3.1"}}
	cases := []struct {
		name   string
		method string
		target string
		header http.Header
		want   record.Annotation
	}{
		{"core collection all namespaces", "GET", "/api/v1/pods",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Scope: Namespaced, ScopeSource: "discovery", AllNamespaces: true}},
		{"core namespaced collection", "GET", "/api/v1/namespaces/demo/pods",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Scope: Namespaced, ScopeSource: "discovery"}},
		{"core object", "GET", "/api/v1/namespaces/demo/pods/web",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"HEAD is get", "HEAD", "/api/v1/namespaces/demo/pods/web",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"namespace object is cluster scoped but has a namespace", "GET", "/api/v1/namespaces/x",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "namespaces", Namespace: "x", Name: "x", Scope: Cluster, ScopeSource: "discovery"}},
		{"namespace status subresource", "PUT", "/api/v1/namespaces/x/status",
			nil, record.Annotation{Kind: "resource", Verb: "update", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "namespaces", Subresource: "status", Namespace: "x", Name: "x", Scope: Cluster, ScopeSource: "discovery"}},
		{"namespace finalize subresource", "PUT", "/api/v1/namespaces/x/finalize",
			nil, record.Annotation{Kind: "resource", Verb: "update", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "namespaces", Subresource: "finalize", Namespace: "x", Name: "x", Scope: Cluster, ScopeSource: "discovery"}},
		{"namespace list", "GET", "/api/v1/namespaces",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "namespaces", Scope: Cluster, ScopeSource: "discovery"}},
		{"cluster scoped object", "GET", "/api/v1/nodes/n1",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "nodes", Name: "n1", Scope: Cluster, ScopeSource: "discovery"}},
		{"named group", "POST", "/apis/apps/v1/namespaces/demo/deployments",
			nil, record.Annotation{Kind: "resource", Verb: "create", ResourceRequest: true, APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Stability: "GA", Resource: "deployments", Namespace: "demo", Scope: Namespaced, ScopeSource: "discovery"}},
		{"patch", "PATCH", "/apis/apps/v1/namespaces/demo/deployments/web",
			nil, record.Annotation{Kind: "resource", Verb: "patch", ResourceRequest: true, APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Stability: "GA", Resource: "deployments", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"scale subresource", "PUT", "/apis/apps/v1/namespaces/demo/deployments/web/scale",
			nil, record.Annotation{Kind: "resource", Verb: "update", ResourceRequest: true, APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Stability: "GA", Resource: "deployments", Subresource: "scale", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"watch by query", "GET", "/apis/apps/v1/namespaces/demo/deployments?watch=1",
			nil, record.Annotation{Kind: "resource", Verb: "watch", ResourceRequest: true, APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Stability: "GA", Resource: "deployments", Namespace: "demo", Scope: Namespaced, ScopeSource: "discovery"}},
		{"watch=true", "GET", "/api/v1/namespaces?watch=true&resourceVersion=5",
			nil, record.Annotation{Kind: "resource", Verb: "watch", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "namespaces", Scope: Cluster, ScopeSource: "discovery"}},
		{"watch=false is a list", "GET", "/api/v1/pods?watch=false",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Scope: Namespaced, ScopeSource: "discovery", AllNamespaces: true}},
		{"legacy watch prefix", "GET", "/api/v1/watch/namespaces/demo/pods",
			nil, record.Annotation{Kind: "resource", Verb: "watch", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Scope: Namespaced, ScopeSource: "discovery"}},
		{"legacy watch prefix on one object", "GET", "/api/v1/watch/namespaces/demo/pods/web",
			nil, record.Annotation{Kind: "resource", Verb: "watch", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"fieldSelector by name keeps list and sets name", "GET", "/api/v1/namespaces/demo/pods?fieldSelector=metadata.name%3Dweb",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", FieldSelector: "metadata.name=web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"fieldSelector by name on a watch (kubectl get -w NAME)", "GET", "/api/v1/namespaces/demo/pods?fieldSelector=metadata.name%3Dweb&watch=true",
			nil, record.Annotation{Kind: "resource", Verb: "watch", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", FieldSelector: "metadata.name=web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"label selector", "GET", "/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", LabelSelector: "app=web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"delete object", "DELETE", "/api/v1/namespaces/demo/pods/web",
			nil, record.Annotation{Kind: "resource", Verb: "delete", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"delete on a collection", "DELETE", "/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb",
			nil, record.Annotation{Kind: "resource", Verb: "deletecollection", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", LabelSelector: "app=web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"exec by POST (SPDY)", "POST", "/api/v1/namespaces/demo/pods/web/exec?command=ls&stdout=true",
			spdy, record.Annotation{Kind: "resource", Verb: "create", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Subresource: "exec", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery", Upgrade: "spdy"}},
		{"exec by WebSocket GET", "GET", "/api/v1/namespaces/demo/pods/web/exec?command=ls&stdout=true",
			ws, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Subresource: "exec", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery", Upgrade: "websocket"}},
		{"logs", "GET", "/api/v1/namespaces/demo/pods/web/log?follow=true",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Subresource: "log", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"proxy verb by path prefix", "GET", "/api/v1/proxy/namespaces/demo/services/web/healthz",
			nil, record.Annotation{Kind: "resource", Verb: "proxy", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "services", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"proxy subresource", "GET", "/api/v1/namespaces/demo/services/web/proxy/healthz",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "services", Subresource: "proxy", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"beta version", "GET", "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "apis", APIGroup: "flowcontrol.apiserver.k8s.io", APIVersion: "v1beta3", Stability: "beta", Resource: "flowschemas", Scope: Unknown, ScopeSource: "none"}},
		{"alpha version", "GET", "/apis/storage.k8s.io/v1alpha1/namespaces/demo/volumeattributesclasses",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "apis", APIGroup: "storage.k8s.io", APIVersion: "v1alpha1", Stability: "alpha", Resource: "volumeattributesclasses", Namespace: "demo", Scope: Namespaced, ScopeSource: "path"}},
		{"custom resource", "GET", "/apis/stable.example.com/v1/namespaces/demo/crontabs/c1",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "apis", APIGroup: "stable.example.com", APIVersion: "v1", Stability: "GA", Resource: "crontabs", Namespace: "demo", Name: "c1", Scope: Namespaced, ScopeSource: "discovery"}},
		{"cluster scoped list in a named group", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "apis", APIGroup: "rbac.authorization.k8s.io", APIVersion: "v1", Stability: "GA", Resource: "clusterroles", Scope: Cluster, ScopeSource: "discovery"}},
		{"dry run", "POST", "/api/v1/namespaces/demo/pods?dryRun=All",
			nil, record.Annotation{Kind: "resource", Verb: "create", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Scope: Namespaced, ScopeSource: "discovery", DryRun: true}},
		{"core discovery", "GET", "/api",
			nil, record.Annotation{Kind: "discovery", Verb: "get"}},
		{"core version discovery", "GET", "/api/v1",
			nil, record.Annotation{Kind: "discovery", Verb: "get", APIPrefix: "api", APIVersion: "v1", Stability: "GA"}},
		{"groups discovery", "GET", "/apis",
			nil, record.Annotation{Kind: "discovery", Verb: "get"}},
		{"group discovery", "GET", "/apis/apps",
			nil, record.Annotation{Kind: "discovery", Verb: "get", APIPrefix: "apis", APIGroup: "apps"}},
		{"group version discovery", "GET", "/apis/apps/v1",
			nil, record.Annotation{Kind: "discovery", Verb: "get", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Stability: "GA"}},
		{"openapi v2", "GET", "/openapi/v2?timeout=32s",
			nil, record.Annotation{Kind: "openapi", Verb: "get"}},
		{"openapi v3 group", "GET", "/openapi/v3/apis/apps/v1?hash=ABC",
			nil, record.Annotation{Kind: "openapi", Verb: "get"}},
		{"version", "GET", "/version",
			nil, record.Annotation{Kind: "version", Verb: "get"}},
		{"healthz", "GET", "/healthz",
			nil, record.Annotation{Kind: "health", Verb: "get"}},
		{"readyz check", "GET", "/readyz/etcd?verbose",
			nil, record.Annotation{Kind: "health", Verb: "get"}},
		{"metrics", "GET", "/metrics",
			nil, record.Annotation{Kind: "other", Verb: "get"}},
		{"non-resource POST", "POST", "/logs",
			nil, record.Annotation{Kind: "other", Verb: "post"}},
		{"absolute URL", "GET", "https://127.0.0.1:6443/api/v1/namespaces/demo/pods/web",
			nil, record.Annotation{Kind: "resource", Verb: "get", ResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Stability: "GA", Resource: "pods", Namespace: "demo", Name: "web", Scope: Namespaced, ScopeSource: "discovery"}},
		{"unknown namespaced resource, scope from the path", "GET", "/apis/x.example.com/v1/namespaces/demo/widgets",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "apis", APIGroup: "x.example.com", APIVersion: "v1", Stability: "GA", Resource: "widgets", Namespace: "demo", Scope: Namespaced, ScopeSource: "path"}},
		{"unknown resource without namespace", "GET", "/apis/x.example.com/v1/widgets",
			nil, record.Annotation{Kind: "resource", Verb: "list", ResourceRequest: true, APIPrefix: "apis", APIGroup: "x.example.com", APIVersion: "v1", Stability: "GA", Resource: "widgets", Scope: Unknown, ScopeSource: "none"}},
	}
	c := New("", testScopes)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(t, c, tc.method, tc.target, tc.header)
			tc.want.Path = strings.SplitN(strings.TrimPrefix(tc.target, "https://127.0.0.1:6443"), "?", 2)[0]
			if got != tc.want {
				t.Errorf("%s %s\n got %+v\nwant %+v", tc.method, tc.target, got, tc.want)
			}
		})
	}
}

func TestClassifyServerPrefix(t *testing.T) {
	c := New("/k8s/clusters/c1/", testScopes)
	got := classify(t, c, "GET", "https://rancher.example/k8s/clusters/c1/api/v1/namespaces/demo/pods", nil)
	if got.Resource != "pods" || got.Namespace != "demo" || got.Verb != "list" || got.Path != "/api/v1/namespaces/demo/pods" {
		t.Errorf("prefix not stripped: %+v", got)
	}
	// A path that merely starts with the same letters is not under the prefix.
	got = classify(t, New("/k8s", testScopes), "GET", "/k8sx/api/v1/pods", nil)
	if got.ResourceRequest {
		t.Errorf("/k8sx must not be read as under prefix /k8s: %+v", got)
	}
}

func TestClassifyLegacyWatchWithoutResource(t *testing.T) {
	got := classify(t, New("", testScopes), "GET", "/api/v1/watch", nil)
	if got.Note == "" {
		t.Errorf("the parser's complaint about /api/v1/watch should be kept as a note: %+v", got)
	}
}

func TestScopeSourcesInOrder(t *testing.T) {
	first := NewTable("discovery", map[string]bool{"/pods": false}) // a lie, to see who answers
	c := New("", first, testScopes)
	got := classify(t, c, "GET", "/api/v1/pods", nil)
	if got.Scope != Cluster || got.ScopeSource != "discovery" || got.AllNamespaces {
		t.Errorf("first source must win: %+v", got)
	}
	got = classify(t, New("", NewTable("builtin", map[string]bool{})), "GET", "/api/v1/nodes", nil)
	if got.Scope != Unknown || got.ScopeSource != "none" {
		t.Errorf("unknown cluster path: %+v", got)
	}
}

func TestLazySourceLoadsOnce(t *testing.T) {
	loads := 0
	l := NewLazy("discovery", func() (*Table, error) { loads++; return testScopes, nil })
	c := New("", l)
	for range 3 {
		classify(t, c, "GET", "/api/v1/nodes", nil)
	}
	if loads != 1 {
		t.Errorf("loaded %d times, want 1", loads)
	}
}

// Discovery that failed is asked again, and so is discovery that lacks a
// resource (a CRD created during the session), but not more often than
// Retry.
func TestLazySourceLoadsAgainWhenItMustAndNoMore(t *testing.T) {
	loads := 0
	tables := []*Table{nil, NewTable("discovery", map[string]bool{"/nodes": false}),
		NewTable("discovery", map[string]bool{"/nodes": false, "example.com/widgets": true})}
	l := NewLazy("discovery", func() (*Table, error) {
		t := tables[min(loads, len(tables)-1)]
		loads++
		if t == nil {
			return nil, errors.New("server not ready")
		}
		return t, nil
	})
	l.Retry = 0
	if _, ok := l.Namespaced("", "nodes"); !ok || loads != 2 {
		t.Fatalf("after a failed first load: known %v, %d loads; want known after 2", ok, loads)
	}
	if ns, ok := l.Namespaced("example.com", "widgets"); !ok || !ns || loads != 3 {
		t.Fatalf("a resource discovery lacked: namespaced %v known %v, %d loads; want namespaced after 3", ns, ok, loads)
	}
	l.Namespaced("", "nodes")
	if loads != 3 {
		t.Errorf("a known resource loaded discovery again: %d loads", loads)
	}
	l.Retry = time.Hour
	if _, ok := l.Namespaced("example.com", "gadgets"); ok || loads != 3 {
		t.Errorf("an unknown resource within Retry: known %v, %d loads; want unknown, no load", ok, loads)
	}
}

func TestStability(t *testing.T) {
	for v, want := range map[string]string{
		"v1": "GA", "v2": "GA", "v10": "GA", "v1beta1": "beta", "v2beta3": "beta",
		"v1alpha1": "alpha", "v1alpha3": "alpha", "": "", "v0": "", "1": "",
		"v1beta": "", "v1gamma1": "", "V1": "", "v1beta0": "",
	} {
		if got := Stability(v); got != want {
			t.Errorf("Stability(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for _, bad := range []string{"", "api/v1/pods", "ftp://x/api", "http://[::1"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
	for _, good := range []string{"/api/v1/pods?watch=1", "https://127.0.0.1:6443/apis", "http://localhost:8001/api"} {
		if _, err := ParseTarget(good); err != nil {
			t.Errorf("ParseTarget(%q): %v", good, err)
		}
	}
}

func TestValidMethod(t *testing.T) {
	for _, m := range []string{"GET", "get", "Patch", "DELETE", "OPTIONS"} {
		if !ValidMethod(m) {
			t.Errorf("ValidMethod(%q) = false", m)
		}
	}
	for _, m := range []string{"", "FOO", "CONNECT", "GE T"} {
		if ValidMethod(m) {
			t.Errorf("ValidMethod(%q) = true", m)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"/api/v1/pods", "/apis/apps/v1/namespaces/x/deployments?watch=1", "/api/v1/watch/namespaces/x/pods/y",
		"/api/v1/namespaces/x/status", "/apis", "/openapi/v3", "/api/v1/proxy/nodes/n/x", "/api/v1/namespaces/demo/pods?fieldSelector=metadata.name%3D..", "//api//v1"} {
		f.Add("GET", s)
		f.Add("DELETE", s)
	}
	c := New("", testScopes)
	f.Fuzz(func(t *testing.T, method, target string) {
		u, err := ParseTarget(target)
		if err != nil || !ValidMethod(method) {
			return
		}
		a := c.Classify(method, u, nil)
		// Every method maps to a verb, except OPTIONS on a resource, which
		// the API server itself leaves without one.
		if a.Verb == "" && !(a.ResourceRequest && strings.EqualFold(method, "OPTIONS")) {
			t.Fatalf("empty verb for %s %q: %+v", method, target, a)
		}
		if a.AllNamespaces && (a.Scope != Namespaced || a.Namespace != "") {
			t.Fatalf("allNamespaces with scope %q namespace %q", a.Scope, a.Namespace)
		}
		switch a.Scope {
		case Namespaced, Cluster, Unknown:
			if !a.ResourceRequest {
				t.Fatalf("scope %q on a non-resource request", a.Scope)
			}
		case "":
			if a.ResourceRequest {
				t.Fatalf("resource request without scope: %+v", a)
			}
		default:
			t.Fatalf("bad scope %q", a.Scope)
		}
		// Empty path segments ("/api//0") make the API server's parser
		// return a resource request with an empty version; only the prefix
		// is certain.
		if a.ResourceRequest && a.APIPrefix != "api" && a.APIPrefix != "apis" {
			t.Fatalf("resource request outside /api and /apis: %+v", a)
		}
		if a.Kind == "" {
			t.Fatalf("no kind: %+v", a)
		}
	})
}
