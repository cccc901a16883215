package filter

import (
	"net/http"
	"strings"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const server = "https://127.0.0.1:6443"

// named is a test exchange and the name test cases refer to it by.
type named struct {
	name string
	x    *record.Exchange
}

// admin is the kubeconfig identity most exchanges ran as.
func admin() *record.Auth {
	return &record.Auth{Method: "x509", User: "kubernetes-admin", Groups: []string{"kubeadm:cluster-admins", "system:authenticated"},
		Source: "certificate", Origin: "kubeconfig", Stages: []record.Stage{}}
}

func kubectl(command string) http.Header {
	return http.Header{
		"Accept":          {"application/json"},
		"User-Agent":      {"kubectl/v1.37.2 (linux/amd64) kubernetes/abcdef0"},
		"Kubectl-Command": {command},
		"Kubectl-Session": {"abc123de-7f1e-4c2a-9d3b-5a6e7f8091a2"},
	}
}

// resource returns the annotation of a resource request in the core
// group, or in group when one is given.
func resource(verb, group, version, res, sub, ns, name, scope string) record.Annotation {
	a := record.Annotation{Kind: "resource", Verb: verb, ResourceRequest: true, APIGroup: group, APIVersion: version,
		Resource: res, Subresource: sub, Namespace: ns, Name: name, Scope: scope, ScopeSource: "builtin"}
	a.Stability = map[string]string{"v1": "GA", "v1beta3": "beta"}[version]
	if group == "" {
		a.APIPrefix = "api"
		a.Path = "/api/" + version
	} else {
		a.APIPrefix = "apis"
		a.Path = "/apis/" + group + "/" + version
	}
	if ns != "" {
		a.Path += "/namespaces/" + ns
	}
	a.Path += "/" + res
	if name != "" {
		a.Path += "/" + name
	}
	if sub != "" {
		a.Path += "/" + sub
	}
	return a
}

func body(contentType, text string, total int64) *record.Body {
	return &record.Body{ContentType: contentType, Bytes: total, Text: text, Truncated: int64(len(text)) < total}
}

func event(offsetMs float64, typ, direction, channel, text string, total int64) record.Event {
	e := record.Event{Time: t0.Add(time.Duration(offsetMs * float64(time.Millisecond))), OffsetMs: offsetMs, Type: typ,
		Direction: direction, Channel: channel, Body: body("", text, total)}
	if direction == "up" && channel == "stdin" {
		e.Body.Text, e.Body.Omitted, e.Body.Truncated = "", true, false
	}
	return e
}

// testExchanges is a small recording: what a class sees in one session.
func testExchanges() []named {
	var xs []named
	add := func(name string, x *record.Exchange) {
		x.Seq = int64(len(xs) + 1)
		x.Start = t0.Add(time.Duration(x.Seq) * time.Second)
		if x.Request.Proto == "" {
			x.Request.Proto = "HTTP/2.0"
		}
		if x.Annotation.Auth == nil {
			x.Annotation.Auth = admin()
		}
		xs = append(xs, named{name, x})
	}

	// kubectl get pods -n demo
	a := resource("list", "", "v1", "pods", "", "demo", "", "Namespaced")
	add("list", &record.Exchange{
		Request: record.Request{Method: "GET", URL: server + a.Path + "?limit=500", Headers: kubectl("kubectl get")},
		Response: &record.Response{Status: 200, Body: body("application/json;as=Table;v=v1;g=meta.k8s.io",
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":[{"cells":["web-1","1/1","Running",0,"5m"]}]}`, 5321)},
		Timings:    record.Timings{FirstByteMs: 11.8, TotalMs: 12.4},
		Annotation: a,
	})

	// kubectl get pods -n demo --watch
	a = resource("watch", "", "v1", "pods", "", "demo", "", "Namespaced")
	add("watch", &record.Exchange{
		Request:  record.Request{Method: "GET", URL: server + a.Path + "?resourceVersion=1234&watch=true", Headers: kubectl("kubectl get")},
		Response: &record.Response{Status: 200, Stream: true},
		Timings:  record.Timings{FirstByteMs: 4.1, TotalMs: 9120.5},
		Events: []record.Event{
			event(1520.3, "ADDED", "down", "", `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"web-1","namespace":"demo"}}}`, 1834),
			event(4210.9, "MODIFIED", "down", "", `{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"web-1","namespace":"demo"}}}`, 1902),
		},
		Annotation: a,
	})

	// alice: kubectl get secrets -n kube-system
	a = resource("list", "", "v1", "secrets", "", "kube-system", "", "Namespaced")
	h := kubectl("kubectl get")
	h.Set("Kubectl-Session", "f00dcafe-0000-4000-8000-000000000001")
	a.Auth = &record.Auth{Method: "x509", User: "alice", Groups: []string{"kubewire:learners", "system:authenticated"},
		StoppedAt: record.StageAuthorization, Reason: "RBAC: no ClusterRole grants list on secrets to alice",
		Denial: &record.Denial{User: "alice", Verb: "list", Resource: "secrets", Namespace: "kube-system"}}
	add("forbidden", &record.Exchange{
		Request: record.Request{Method: "GET", URL: server + a.Path + "?limit=500", Headers: h},
		Response: &record.Response{Status: 403, Body: body("application/json",
			`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\"","reason":"Forbidden","code":403}`, 380)},
		Timings:    record.Timings{FirstByteMs: 3.1, TotalMs: 3.2},
		Annotation: a,
	})

	// kubectl create -f bad-deployment.yaml: a 422
	a = resource("create", "apps", "v1", "deployments", "", "demo", "", "Namespaced")
	a.Auth = admin()
	a.Auth.StoppedAt, a.Auth.Reason = record.StageValidation, "metadata.name: Invalid value"
	a.Auth.Causes = []record.Cause{{Type: "FieldValueInvalid", Field: "metadata.name", Message: "Invalid value: \"Bad_Name\""}}
	add("invalid", &record.Exchange{
		Request: record.Request{Method: "POST", URL: server + a.Path + "?fieldManager=kubectl-create", Headers: kubectl("kubectl create"),
			Body: body("application/json", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"Bad_Name","namespace":"demo"}}`, 96)},
		Response: &record.Response{Status: 422, Body: body("application/json",
			`{"kind":"Status","status":"Failure","message":"Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value","reason":"Invalid","code":422}`, 600)},
		Timings:    record.Timings{FirstByteMs: 24.7, TotalMs: 25},
		Annotation: a,
	})

	// kubectl exec -it web-1 -- sh, over WebSocket
	a = resource("get", "", "v1", "pods", "exec", "demo", "web-1", "Namespaced")
	a.Upgrade = "websocket"
	h = kubectl("kubectl exec")
	h.Set("Connection", "Upgrade")
	h.Set("Upgrade", "websocket")
	add("exec", &record.Exchange{
		Request:  record.Request{Method: "GET", URL: server + a.Path + "?command=sh&stdin=true&stdout=true&tty=true", Proto: "HTTP/1.1", Headers: h},
		Response: &record.Response{Status: 101, Stream: true},
		Timings:  record.Timings{FirstByteMs: 6, TotalMs: 3400},
		Events: []record.Event{
			event(900, "data", "up", "stdin", "", 3),
			event(910, "data", "down", "stdout", "bin\netc\n", 8),
			event(1200, "data", "down", "stdout", "/ # exit\r\n/ # \r\nbye\n", 20),
		},
		Annotation: a,
	})

	// the proxy's own discovery for scopes
	add("discovery", &record.Exchange{
		Own: true, OwnBy: record.OwnByProxy,
		Request: record.Request{Method: "GET", URL: server + "/apis",
			Headers: http.Header{"Accept": {"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}, "User-Agent": {"kubewire/v0.1.0"}}},
		Response: &record.Response{Status: 200, Body: body("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
			`{"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":"apps"}}]}`, 31000)},
		Timings:    record.Timings{FirstByteMs: 2.5, TotalMs: 3},
		Annotation: record.Annotation{Kind: "discovery", Verb: "get", Path: "/apis"},
	})

	// kubectl get pod web-1 with the API server down
	a = resource("get", "", "v1", "pods", "", "demo", "web-1", "Namespaced")
	a.Auth = admin()
	a.Auth.StoppedAt, a.Auth.Reason = record.StoppedNoResponse, "the API server did not answer"
	add("unreachable", &record.Exchange{
		Request:    record.Request{Method: "GET", URL: server + a.Path, Headers: kubectl("kubectl get")},
		Error:      &record.Error{Message: "dial tcp 127.0.0.1:6443: connect: connection refused", Phase: "upstream", Status: 502},
		Timings:    record.Timings{TotalMs: 1.2},
		Annotation: a,
	})

	// kubectl create configmap cfg --dry-run=server --as=bob --as-group=devs
	a = resource("create", "", "v1", "configmaps", "", "demo", "", "Namespaced")
	a.DryRun = true
	a.Auth = admin()
	a.Auth.Impersonation = &record.Impersonation{User: "bob", Groups: []string{"devs"}, By: "kubernetes-admin"}
	persisted := false
	a.Auth.Persisted = &persisted
	h = kubectl("kubectl create")
	h.Set("Impersonate-User", "bob")
	h.Set("Impersonate-Group", "devs")
	add("dryrun", &record.Exchange{
		Request: record.Request{Method: "POST", URL: server + a.Path + "?dryRun=All&fieldManager=kubectl-create", Headers: h,
			Body: body("application/json", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg"},"data":{"k":"v"}}`, 82)},
		Response:   &record.Response{Status: 201, Body: body("application/json", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg","namespace":"demo"}}`, 420)},
		Timings:    record.Timings{FirstByteMs: 7.5, TotalMs: 8},
		Annotation: a,
	})

	// kubectl apply --server-side -f web.yaml
	a = resource("patch", "apps", "v1", "deployments", "", "demo", "web", "Namespaced")
	h = kubectl("kubectl apply")
	h.Set("Content-Type", "application/apply-patch+yaml")
	add("apply", &record.Exchange{
		Request: record.Request{Method: "PATCH", URL: server + a.Path + "?fieldManager=kubectl&fieldValidation=Strict&force=false", Headers: h,
			Body: body("application/apply-patch+yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n", 64)},
		Response:   &record.Response{Status: 200, Body: body("application/json", `{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web"}}`, 6100)},
		Timings:    record.Timings{FirstByteMs: 240, TotalMs: 240.5},
		Annotation: a,
	})

	// kubectl logs -f web-1, interrupted
	a = resource("get", "", "v1", "pods", "log", "demo", "web-1", "Namespaced")
	add("logs", &record.Exchange{
		Request:     record.Request{Method: "GET", URL: server + a.Path + "?follow=true", Headers: kubectl("kubectl logs")},
		Response:    &record.Response{Status: 200, Stream: true},
		StreamError: &record.Error{Message: "client closed the stream", Phase: "client"},
		Timings:     record.Timings{FirstByteMs: 5, TotalMs: 60000},
		Events: []record.Event{
			event(10, "data", "down", "", "GET /healthz 200\n", 17),
			event(5010, "data", "down", "", "GET /healthz 200\n", 17),
		},
		Annotation: a,
	})

	// carol, signed in with OIDC: kubectl get nodes
	a = resource("list", "", "v1", "nodes", "", "", "", "Cluster")
	a.Auth = &record.Auth{Method: "oidc", User: "oidc:carol", Groups: []string{"oidc:teachers", "system:authenticated"}, Source: "audit-log"}
	h = kubectl("kubectl get")
	h.Set("Kubectl-Session", "5eed0000-0000-4000-8000-000000000002")
	add("nodes", &record.Exchange{
		Request:    record.Request{Method: "GET", URL: server + a.Path + "?limit=500", Headers: h},
		Response:   &record.Response{Status: 200, Body: body("application/json", `{"kind":"Table","rows":[{"cells":["control-plane","Ready"]}]}`, 2048)},
		Timings:    record.Timings{FirstByteMs: 29, TotalMs: 30},
		Annotation: a,
	})

	// kubectl get pods -A
	a = resource("list", "", "v1", "pods", "", "", "", "Namespaced")
	a.AllNamespaces = true
	add("allpods", &record.Exchange{
		Request: record.Request{Method: "GET", URL: server + a.Path + "?limit=500", Headers: kubectl("kubectl get")},
		Response: &record.Response{Status: 200, Body: body("application/json",
			`{"kind":"Table","rows":[{"cells":["kube-system","coredns-7db6d8ff4d-abcde","1/1","Running"]}]}`, 1572864)},
		Timings:    record.Timings{FirstByteMs: 150, TotalMs: 180},
		Annotation: a,
	})

	// curl -k https://127.0.0.1:6443/readyz?verbose
	add("readyz", &record.Exchange{
		Request:  record.Request{Method: "GET", URL: server + "/readyz?verbose", Proto: "HTTP/1.1", Headers: http.Header{"User-Agent": {"curl/8.9.1"}}},
		Response: &record.Response{Status: 200, Body: body("text/plain", "[+]ping ok\n[+]etcd ok\nreadyz check passed\n", 300)},
		Timings:  record.Timings{FirstByteMs: 0.8, TotalMs: 0.9},
		Annotation: record.Annotation{Kind: "health", Verb: "get", Path: "/readyz",
			Auth: &record.Auth{Method: "anonymous", User: "system:anonymous", Groups: []string{"system:unauthenticated"}, Origin: "client"}},
	})

	// the proxy's own flow-schema lookup, on a beta version
	a = resource("list", "flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "", "", "", "Cluster")
	add("flowschemas", &record.Exchange{
		Own: true, OwnBy: record.OwnByProxy,
		Request:    record.Request{Method: "GET", URL: server + a.Path, Headers: http.Header{"User-Agent": {"kubewire/v0.1.0"}}},
		Response:   &record.Response{Status: 200, Body: body("application/json", `{"kind":"FlowSchemaList","items":[]}`, 9000)},
		Timings:    record.Timings{FirstByteMs: 4.5, TotalMs: 5},
		Annotation: a,
	})
	return xs
}

// names returns the names of the exchanges f matches, in order.
func names(f *Filter, xs []named) []string {
	var got []string
	for _, n := range xs {
		if f.Match(n.x) {
			got = append(got, n.name)
		}
	}
	return got
}

// all returns every name but those in except.
func all(xs []named, except ...string) []string {
	var out []string
	for _, n := range xs {
		if !strings.Contains(" "+strings.Join(except, " ")+" ", " "+n.name+" ") {
			out = append(out, n.name)
		}
	}
	return out
}
