// Package sample bundles a recorded kubewire session, so that replay (and
// anything else that reads recordings) can be tried on a machine with no
// cluster: `kubewire replay --sample`.
//
// The session is one classroom story, kubectl's real calls to a real
// kube-apiserver through kubewire, in this order:
//
//  1. kubectl get pods -A with a fresh cache: discovery (/api, /apis), then
//     the list;
//  2. the lab's sample app: get deployments -n shop, get pods -n shop -o wide;
//  3. writes: create namespace sample, create configmap greeting, apply -f a
//     ConfigMap settings twice (first a get that is not found and a create,
//     then a get and a patch), patch greeting, delete greeting;
//  4. a watch: kubectl get configmaps -n sample -l lesson=watch -w while
//     another kubectl (not traced) creates, changes and deletes a labelled
//     ConfigMap: ADDED, MODIFIED, DELETED;
//  5. refusals: a ServiceAccount intern, a token for it (kubectl create
//     token), then kubectl --token with it, forbidden to list pods (403,
//     stopped at authorization); a ConfigMap with an invalid name (422, with
//     the field's cause); the same ConfigMap created twice (201, then 409);
//     a ResourceQuota of three ConfigMaps and a fourth refused by quota
//     admission (403);
//  6. streams against a pod of the sample app: kubectl exec over WebSocket
//     (echo hello), kubectl logs, kubectl port-forward with one line echoed;
//  7. kubectl delete namespace sample.
//
// TestCaptureSample in tracer/live made it, against kubewire's lab (a real
// kube-apiserver, controller-manager and scheduler, KWOK fake nodes), with
// the lab's own kubectl, its audit log joined in, secrets redacted and at
// most 64 KiB of each body stored (--max-body 65536): the OpenAPI document
// kubectl apply reads to validate is 1.6 MB, and only its start is kept.
// It also checks the session with Check, as this package's test does; see
// README.md for how to regenerate it.
package sample

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/kubewire/kubewire/tracer/record"
)

//go:embed session.jsonl
var session []byte

// Name names the session in messages, where a recording's file name goes
// (record.NewReader, record.ReadAll).
const Name = "kubewire sample session"

// Open returns a reader of the session's recording, from its header line.
func Open() io.Reader { return bytes.NewReader(session) }

// Commands are kubectl commands the session answers whole through
// kubewire serve, from a fresh kubectl cache (cmd's tests run each one):
// what run's preview and serve's help suggest trying.
var Commands = []string{
	"kubectl get pods -A",
	"kubectl get deployments -n shop",
	"kubectl get pods -n shop -o wide",
	"kubectl logs -n shop frontend-5b954cccf7-fzvhv",
	"kubectl exec -n shop frontend-5b954cccf7-fzvhv -- echo hello",
}

// Namespace is the namespace the session's story creates, writes in and
// deletes.
const Namespace = "sample"

// step is one call of the story, found by what kubewire recorded of it.
type step struct {
	what  string
	match func(x *record.Exchange) bool
}

// Check reports every step of the story that rec lacks, or has out of
// order, and any URL that is not on loopback. A recording made with the
// story's kubectl commands against kubewire's lab passes; so must the
// bundled session.
func Check(rec *record.Recording) error {
	var errs []error
	if len(rec.Warnings) > 0 {
		errs = append(errs, fmt.Errorf("the recording reads back with warnings: %s", strings.Join(rec.Warnings, "; ")))
	}
	if h := rec.Header; h.Source.Mode != "test" || h.Secrets != record.SecretsRedacted || h.Stdin != record.StdinOmitted {
		errs = append(errs, fmt.Errorf("header %+v: want source mode test, secrets redacted, stdin omitted", h))
	}
	errs = append(errs, loopbackOnly(rec)...)
	var calls []*record.Exchange
	for _, x := range rec.Exchanges {
		if !x.Own {
			calls = append(calls, x)
		}
	}
	// Each step is the first call after the previous step's.
	after := int64(0)
	for _, s := range story {
		found := false
		for _, x := range calls {
			if x.Seq > after && s.match(x) {
				after, found = x.Seq, true
				break
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("no %s after call #%d", s.what, after))
		}
	}
	return errors.Join(errs...)
}

// loopbackOnly reports the recording's URLs that are not on loopback: the
// session was made against a lab, and shows no one's cluster.
func loopbackOnly(rec *record.Recording) []error {
	var errs []error
	check := func(where, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %w", where, raw, err))
			return
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("%s: %s is not on loopback", where, raw))
		}
	}
	check("the header's server", rec.Header.Source.Server)
	for _, x := range rec.Exchanges {
		check(fmt.Sprintf("call #%d", x.Seq), x.Request.URL)
		if x.Request.Upstream != nil {
			check(fmt.Sprintf("call #%d upstream", x.Seq), x.Request.Upstream.URL)
		}
	}
	return errs
}

// story is the session's calls, in order.
var story = []step{
	{"aggregated discovery of /api", discovery("/api")},
	{"aggregated discovery of /apis", discovery("/apis")},
	{"list of pods in all namespaces", func(x *record.Exchange) bool {
		return call(x, "list", "pods", "", 200) && x.Annotation.AllNamespaces
	}},
	{"list of deployments in shop", func(x *record.Exchange) bool { return call(x, "list", "deployments", "shop", 200) }},
	{"list of pods in shop", func(x *record.Exchange) bool { return call(x, "list", "pods", "shop", 200) }},
	{"create of namespace sample", func(x *record.Exchange) bool {
		return call(x, "create", "namespaces", "", 201) && sent(x, Namespace)
	}},
	{"create of configmap greeting", created("configmaps", "greeting", 201)},
	{"first apply's get of configmap settings, not found", named("get", "settings", 404)},
	{"first apply's create of configmap settings", created("configmaps", "settings", 201)},
	{"second apply's get of configmap settings", named("get", "settings", 200)},
	{"second apply's patch of configmap settings", named("patch", "settings", 200)},
	{"patch of configmap greeting", named("patch", "greeting", 200)},
	{"delete of configmap greeting", named("delete", "greeting", 200)},
	{"list of configmaps labelled lesson=watch", func(x *record.Exchange) bool {
		return call(x, "list", "configmaps", Namespace, 200) && x.Annotation.LabelSelector == "lesson=watch"
	}},
	{"watch of configmaps labelled lesson=watch with events ADDED, MODIFIED, DELETED", func(x *record.Exchange) bool {
		var types []string
		for _, ev := range x.Events {
			types = append(types, ev.Type)
		}
		return call(x, "watch", "configmaps", Namespace, 200) && x.Annotation.LabelSelector == "lesson=watch" &&
			strings.Join(types, " ") == "ADDED MODIFIED DELETED"
	}},
	{"create of serviceaccount intern", created("serviceaccounts", "intern", 201)},
	{"create of a token for intern", func(x *record.Exchange) bool {
		return call(x, "create", "serviceaccounts/token", Namespace, 201) && x.Annotation.Name == "intern"
	}},
	{"403 list of pods in shop by intern, stopped at authorization", func(x *record.Exchange) bool {
		a := x.Annotation.Auth
		return call(x, "list", "pods", "shop", 403) && a != nil && a.StoppedAt == record.StageAuthorization &&
			a.User == "system:serviceaccount:sample:intern" && a.Origin == "client" &&
			a.Audit != nil && a.Audit.Decision == "forbid"
	}},
	{"422 create of configmap Not_Valid, with the cause on metadata.name", func(x *record.Exchange) bool {
		a := x.Annotation.Auth
		return call(x, "create", "configmaps", Namespace, 422) && sent(x, "Not_Valid") && a != nil &&
			a.StoppedAt == record.StageValidation && len(a.Causes) > 0 && a.Causes[0].Field == "metadata.name"
	}},
	{"create of configmap twice", created("configmaps", "twice", 201)},
	{"409 create of configmap twice again, stopped at storage", func(x *record.Exchange) bool {
		a := x.Annotation.Auth
		return call(x, "create", "configmaps", Namespace, 409) && sent(x, "twice") && a != nil && a.StoppedAt == record.StageStorage
	}},
	{"create of resourcequota three-configmaps", created("resourcequotas", "three-configmaps", 201)},
	{"403 create of configmap one-too-many, stopped at admission by the quota", func(x *record.Exchange) bool {
		a := x.Annotation.Auth
		return call(x, "create", "configmaps", Namespace, 403) && sent(x, "one-too-many") && a != nil &&
			a.StoppedAt == record.StageAdmission && a.Admission != nil && a.Admission.Kind == "quota" && a.Admission.Name == "three-configmaps"
	}},
	{"exec over WebSocket whose stdout is hello", func(x *record.Exchange) bool {
		return upgraded(x, "pods/exec") && down(x, "stdout") == "hello\n" && strings.Contains(down(x, "error"), `"status":"Success"`)
	}},
	{"read of a pod's log", func(x *record.Exchange) bool {
		return call(x, "get", "pods/log", "shop", 200) && x.Response.Body != nil &&
			strings.Contains(x.Response.Body.Text, "hello from a kwok fake container")
	}},
	{"port-forward over WebSocket with bytes both ways", func(x *record.Exchange) bool {
		up := false
		for _, ev := range x.Events {
			up = up || ev.Direction == "up" && ev.Type == "data" && ev.Channel == "data :80" && len(ev.Body.Data()) > 0
		}
		return upgraded(x, "pods/portforward") && up && down(x, "data :80") != ""
	}},
	{"delete of namespace sample", func(x *record.Exchange) bool {
		// As the API server does, kubewire gives a namespace's own path its
		// name as namespace.
		return call(x, "delete", "namespaces", Namespace, 200) && x.Annotation.Name == Namespace
	}},
}

// call matches a resource request by verb, resource ("pods", or with its
// subresource, "pods/log"), namespace and status.
func call(x *record.Exchange, verb, resource, namespace string, status int) bool {
	a := x.Annotation
	what := a.Resource
	if a.Subresource != "" {
		what += "/" + a.Subresource
	}
	return a.ResourceRequest && a.Verb == verb && what == resource && a.Namespace == namespace &&
		x.Response != nil && x.Response.Status == status
}

// sent reports whether the request body holds s (JSON or protobuf alike).
func sent(x *record.Exchange, s string) bool {
	return x.Request.Body != nil && bytes.Contains(x.Request.Body.Data(), []byte(s))
}

// named matches a call on the ConfigMap name, in the path.
func named(verb, name string, status int) func(*record.Exchange) bool {
	return func(x *record.Exchange) bool {
		return call(x, verb, "configmaps", Namespace, status) && x.Annotation.Name == name
	}
}

// created matches the create of an object called name: its name is in the
// body, not the path.
func created(resource, name string, status int) func(*record.Exchange) bool {
	return func(x *record.Exchange) bool { return call(x, "create", resource, Namespace, status) && sent(x, name) }
}

// discovery matches kubectl's aggregated discovery of path.
func discovery(path string) func(*record.Exchange) bool {
	return func(x *record.Exchange) bool {
		return x.Annotation.Kind == "discovery" && x.Annotation.Path == path && x.Response != nil && x.Response.Status == 200 &&
			strings.Contains(x.Response.Headers.Get("Content-Type"), "as=APIGroupDiscoveryList")
	}
}

// upgraded matches a call on a pod of the sample app switched to WebSocket.
func upgraded(x *record.Exchange, resource string) bool {
	return call(x, "get", resource, "shop", 101) && x.Annotation.Upgrade == "websocket"
}

// down is what a stream sent the client on channel.
func down(x *record.Exchange, channel string) string {
	var b strings.Builder
	for _, ev := range x.Events {
		if ev.Direction == "down" && ev.Type == "data" && ev.Channel == channel {
			b.Write(ev.Body.Data())
		}
	}
	return b.String()
}
