package render

// The recordings in testdata/recordings are what the golden tests render.
// They are written with record.Writer from bodies the API machinery itself
// encodes (client-go's scheme, the JSON and protobuf serializers), shaped
// like what kube-apiserver 1.37 sends kubectl. Regenerate them with
//
//	go test ./render -fixtures
//
// Recordings captured from the lab with `kubewire run --record` can replace
// them file by file: the tests only read testdata/recordings/*.jsonl.

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/record"
)

var fixtureStart = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

const (
	server      = "https://127.0.0.1:6443"
	ctJSON      = "application/json"
	ctProtobuf  = "application/vnd.kubernetes.protobuf"
	ctTable     = "application/json;as=Table;v=v1;g=meta.k8s.io"
	acceptTable = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	ctAggr      = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
	kubectlUA   = "kubectl/v1.37.2 (linux/amd64) kubernetes/8d3ad6c"
)

// fixture builds one recording.
type fixture struct {
	name string
	seq  int64
	at   time.Duration
	w    *record.Writer
	buf  bytes.Buffer
}

func newFixture(name string, command ...string) *fixture {
	f := &fixture{name: name}
	w, err := record.NewWriter(&f.buf, record.Header{Kubewire: "dev", Recorded: fixtureStart,
		Source: record.Source{Mode: "run", Command: command, Context: "kubewire-lab", Server: server, ServerVersion: "v1.37.2"}})
	if err != nil {
		panic(err)
	}
	f.w = w
	return f
}

func (f *fixture) save(dir string) error {
	if err := f.w.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, f.name+".jsonl"), f.buf.Bytes(), 0o644)
}

// call describes one exchange to add.
type call struct {
	method, path string
	accept       string
	reqCT        string
	reqBody      []byte
	status       int
	respCT       string
	respBody     []byte
	auth         *record.Auth
	signals      *record.Signals
	stream       bool
	ms           float64
	own          bool
}

func (f *fixture) add(c call) *record.Exchange {
	f.seq++
	f.at += 15 * time.Millisecond
	u, err := url.Parse(server + c.path)
	if err != nil {
		panic(err)
	}
	reqH := http.Header{"User-Agent": {kubectlUA}, "Accept": {c.accept}, "Kubectl-Command": {"kubectl"}}
	if c.accept == "" {
		reqH.Set("Accept", ctJSON+", */*")
	}
	up := http.Header{}
	for k, v := range reqH {
		up[k] = v
	}
	up.Set("Audit-Id", fmt.Sprintf("5f0c7e2a-0000-4000-8000-%012d", f.seq))
	x := &record.Exchange{
		Seq:   f.seq,
		Start: fixtureStart.Add(f.at),
		Own:   c.own,
		Request: record.Request{Method: c.method, URL: u.String(), Proto: "HTTP/1.1", Headers: reqH,
			Upstream: &record.Upstream{URL: u.String(), Proto: "HTTP/2.0", Headers: up}},
		Annotation: classify.New("", classify.Builtin()).Classify(c.method, u, reqH),
	}
	if c.reqBody != nil {
		x.Request.Headers.Set("Content-Type", c.reqCT)
		up.Set("Content-Type", c.reqCT)
		x.Request.Body = record.NewBody(c.reqCT, c.reqBody, int64(len(c.reqBody)), -1)
	}
	respH := http.Header{"Audit-Id": {up.Get("Audit-Id")}, "Cache-Control": {"no-cache, private"},
		"Date": {x.Start.Format(http.TimeFormat)}}
	if c.respCT != "" {
		respH.Set("Content-Type", c.respCT)
	}
	if c.status != http.StatusUnauthorized {
		respH.Set("X-Kubernetes-Pf-Flowschema-Uid", "0b3ba2fd-1f3c-4bbd-9b5e-3a1f0c54a0d1")
		respH.Set("X-Kubernetes-Pf-Prioritylevel-Uid", "8a9c1f0e-5b7d-4c1e-9e2a-6f4b3d2c1a0b")
	}
	x.Response = &record.Response{Status: c.status, Proto: "HTTP/2.0", Headers: respH, Stream: c.stream}
	if c.respBody != nil {
		x.Response.Body = record.NewBody(c.respCT, c.respBody, int64(len(c.respBody)), -1)
	}
	x.Timings = record.Timings{FirstByteMs: c.ms * 0.8, TotalMs: c.ms}
	if c.stream {
		x.Timings.TotalMs = 0
	}
	x.Annotation.Auth = c.auth
	if c.signals == nil && c.status != http.StatusUnauthorized {
		c.signals = &record.Signals{AuditID: up.Get("Audit-Id"), FlowSchema: "exempt", PriorityLevel: "exempt"}
	}
	x.Annotation.Signals = c.signals
	f.w.Put(record.Line{Type: record.TypeExchange, Exchange: x, Seq: x.Seq})
	return x
}

// event adds one event to the stream x, ms after its start.
func (f *fixture) event(x *record.Exchange, ms float64, typ string, body []byte, ct string) {
	t := x.Start.Add(time.Duration(ms * float64(time.Millisecond)))
	f.w.Put(record.Line{Type: record.TypeEvent, Seq: x.Seq, Event: &record.Event{Time: t, OffsetMs: ms, Type: typ, Direction: "down",
		Body: record.NewBody(ct, body, int64(len(body)), -1)}})
}

func (f *fixture) end(x *record.Exchange, ms float64) {
	f.w.Put(record.Line{Type: record.TypeEnd, Seq: x.Seq, End: &record.End{Timings: record.Timings{FirstByteMs: x.Timings.FirstByteMs, TotalMs: ms}}})
}

// Journeys, as tracer/auth describes them.
func admin() *record.Auth {
	return &record.Auth{Method: "x509", User: "kubernetes-admin", Groups: []string{"kubewire:admins", "system:authenticated"},
		Source: "certificate", Origin: "kubeconfig", Credential: &record.Credential{Subject: "CN=kubernetes-admin,O=kubewire:admins", Issuer: "CN=kubewire-lab-ca"}}
}

func stages(write bool, stopAt string) []record.Stage {
	names := []string{record.StageAuthentication, record.StagePriority, record.StageAuthorization, record.StageAdmission, record.StageValidation, record.StageStorage}
	var out []record.Stage
	stopped := false
	for _, n := range names {
		s := record.Stage{Name: n}
		switch {
		case stopped:
			s.Status = record.NotReached
		case n == stopAt:
			s.Status, stopped = record.Rejected, true
		case !write && (n == record.StageAdmission || n == record.StageValidation):
			s.Status, s.Detail = record.NotApplicable, "reads do not pass admission"
		default:
			s.Status = record.Passed
			if n == record.StageAuthorization || n == record.StageAdmission || n == record.StageValidation {
				s.Inferred = true
				s.Detail = "a later stage ran"
				if stopAt == "" {
					s.Detail = "the request succeeded"
				}
			}
		}
		out = append(out, s)
	}
	switch stopAt {
	case "":
		out[0].Detail = "client certificate accepted"
	}
	return out
}

func readOK() *record.Auth  { a := admin(); a.Stages = stages(false, ""); return a }
func writeOK() *record.Auth { a := admin(); a.Stages = stages(true, ""); return a }

// serializers from the API machinery.
func fixtureScheme() *runtime.Scheme {
	_, s := protobufDecoder()
	return s
}

func asJSON(obj runtime.Object) []byte {
	s := fixtureScheme()
	var b bytes.Buffer
	if err := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, s, s, kjson.SerializerOptions{}).Encode(obj, &b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func asProtobuf(obj runtime.Object) []byte {
	s := fixtureScheme()
	var b bytes.Buffer
	if err := protobuf.NewSerializer(s, s).Encode(obj, &b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// watchJSON is one JSON watch event as the API server writes it.
func watchJSON(typ string, obj runtime.Object) []byte {
	return asJSON(&metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: bytes.TrimSpace(asJSON(obj))}})
}

// watchProtobuf is one protobuf watch frame without its length prefix: a
// raw metav1.WatchEvent (the stream serializer) holding the enveloped
// object.
func watchProtobuf(typ string, obj runtime.Object) []byte {
	s := fixtureScheme()
	var b bytes.Buffer
	ev := &metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: asProtobuf(obj)}}
	if err := protobuf.NewRawSerializer(s, s).Encode(ev, &b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

var managed = []metav1.ManagedFieldsEntry{{Manager: "kubectl-create", Operation: metav1.ManagedFieldsOperationUpdate,
	APIVersion: "apps/v1", Time: ptr.To(metav1.NewTime(fixtureStart)), FieldsType: "FieldsV1",
	FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{}}}`)}}

func deployment(rv string, replicas int32, withStatus bool) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo", Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27",
					Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromString("25%")), MaxSurge: ptr.To(intstr.FromString("25%"))}},
		},
	}
	if rv != "" {
		d.UID = "3c1b9d4e-8f2a-4b6c-9d0e-1f2a3b4c5d6e"
		d.ResourceVersion = rv
		d.Generation = 1
		d.CreationTimestamp = metav1.NewTime(fixtureStart)
		d.ManagedFields = managed
	}
	if withStatus {
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas, UpdatedReplicas: replicas}
	}
	return d
}

func pod(name, rv string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "demo", ResourceVersion: rv, UID: "7d2e4f6a-1b3c-4d5e-8f9a-0b1c2d3e4f5a",
			Labels: map[string]string{"app": "web"}, CreationTimestamp: metav1.NewTime(fixtureStart)},
		Spec:   corev1.PodSpec{NodeName: "kwok-node-0", Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}},
		Status: corev1.PodStatus{Phase: phase, PodIP: "10.244.0.7"},
	}
}

func status(code int32, reason metav1.StatusReason, msg string, details *metav1.StatusDetails) *metav1.Status {
	return &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure,
		Message: msg, Reason: reason, Details: details, Code: code}
}

func podTable() *metav1.Table {
	col := func(name, typ, format, desc string, prio int32) metav1.TableColumnDefinition {
		return metav1.TableColumnDefinition{Name: name, Type: typ, Format: format, Description: desc, Priority: prio}
	}
	row := func(name, ready, phase string, restarts int64, age, ip string) metav1.TableRow {
		return metav1.TableRow{Cells: []any{name, ready, phase, restarts, age, ip, "kwok-node-0", "<none>", "<none>"},
			Object: runtime.RawExtension{Raw: []byte(`{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"` + name + `","namespace":"demo"}}`)}}
	}
	return &metav1.Table{
		TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"},
		ListMeta: metav1.ListMeta{ResourceVersion: "1207"},
		ColumnDefinitions: []metav1.TableColumnDefinition{
			col("Name", "string", "name", "Name must be unique within a namespace.", 0),
			col("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
			col("Status", "string", "", "The aggregate status of the containers in this pod.", 0),
			col("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
			col("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0),
			col("IP", "string", "", "The IP address assigned to the pod", 1),
			col("Node", "string", "", "The name of the node to which the pod is scheduled", 1),
			col("Nominated Node", "string", "", "The name of the node where the pod is nominated to run", 1),
			col("Readiness Gates", "string", "", "The readiness gates of the pod", 1),
		},
		Rows: []metav1.TableRow{
			row("web-7c5ddbdf54-2xkqp", "1/1", "Running", 0, "12m", "10.244.0.7"),
			row("web-7c5ddbdf54-8hz9w", "1/1", "Running", 0, "12m", "10.244.0.8"),
			row("web-7c5ddbdf54-tq4lm", "0/1", "ContainerCreating", 0, "3s", "<none>"),
		},
	}
}

func apiResources(gv string, rs ...metav1.APIResource) *metav1.APIResourceList {
	return &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "APIResourceList"}, GroupVersion: gv, APIResources: rs}
}

func res(name, kind string, namespaced bool, short ...string) metav1.APIResource {
	return metav1.APIResource{Name: name, SingularName: "", Namespaced: namespaced, Kind: kind, ShortNames: short,
		Verbs: metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}}
}

func sub(name, kind string) metav1.APIResource {
	return metav1.APIResource{Name: name, Namespaced: true, Kind: kind, Verbs: metav1.Verbs{"get", "patch", "update"}}
}

// aggregated builds an aggregated discovery document for the given
// groups: each "group/version" maps to its resources.
func aggregated(groups []string, resources map[string][]string) *apidiscoveryv2.APIGroupDiscoveryList {
	l := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{APIVersion: "apidiscovery.k8s.io/v2", Kind: "APIGroupDiscoveryList"}}
	for _, gv := range groups {
		g, v, _ := cutLast(gv)
		var rs []apidiscoveryv2.APIResourceDiscovery
		for _, r := range resources[gv] {
			name, subs, _ := cutFirst(r, ":")
			rd := apidiscoveryv2.APIResourceDiscovery{Resource: name, Scope: apidiscoveryv2.ScopeNamespace,
				Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}}
			if subs != "" {
				rd.Subresources = []apidiscoveryv2.APISubresourceDiscovery{{Subresource: subs, Verbs: []string{"get", "patch", "update"}}}
			}
			rs = append(rs, rd)
		}
		l.Items = append(l.Items, apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g},
			Versions: []apidiscoveryv2.APIVersionDiscovery{{Version: v, Resources: rs, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}}})
	}
	return l
}

func cutLast(gv string) (string, string, bool) {
	for i := len(gv) - 1; i >= 0; i-- {
		if gv[i] == '/' {
			return gv[:i], gv[i+1:], true
		}
	}
	return "", gv, false
}

func cutFirst(s, sep string) (string, string, bool) {
	i := bytes.Index([]byte(s), []byte(sep))
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// writeFixtures writes every recording into dir.
func writeFixtures(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var all []*fixture

	// kubectl create deployment web --image=nginx:1.27 -n demo
	f := newFixture("create", "kubectl", "create", "deployment", "web", "--image=nginx:1.27", "-n", "demo")
	f.add(call{method: "GET", path: "/api", accept: ctAggr, status: 200, respCT: ctAggr, ms: 4.2, auth: readOK(),
		respBody: asJSON(aggregated([]string{"/v1"}, map[string][]string{"/v1": {"pods:status", "services:status", "configmaps", "secrets", "namespaces:status", "nodes:status", "events", "serviceaccounts:token"}}))})
	f.add(call{method: "GET", path: "/apis", accept: ctAggr, status: 200, respCT: ctAggr, ms: 6.8, auth: readOK(),
		respBody: asJSON(aggregated([]string{"apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1", "coordination.k8s.io/v1", "resource.k8s.io/v1beta2", "storagemigration.k8s.io/v1alpha1"},
			map[string][]string{"apps/v1": {"deployments:status", "replicasets:status", "statefulsets:status", "daemonsets:status", "controllerrevisions"},
				"batch/v1": {"jobs:status", "cronjobs:status"}, "rbac.authorization.k8s.io/v1": {"roles", "rolebindings", "clusterroles", "clusterrolebindings"},
				"networking.k8s.io/v1": {"ingresses:status", "networkpolicies"}, "coordination.k8s.io/v1": {"leases"},
				"resource.k8s.io/v1beta2": {"resourceclaims:status", "deviceclasses"}, "storagemigration.k8s.io/v1alpha1": {"storageversionmigrations:status"}}))})
	reqDeploy := deployment("", 1, false)
	reqDeploy.CreationTimestamp = metav1.Time{}
	f.add(call{method: "POST", path: "/apis/apps/v1/namespaces/demo/deployments?fieldManager=kubectl-create&fieldValidation=Strict",
		reqCT: ctJSON, reqBody: asJSON(reqDeploy), status: 201, respCT: ctJSON, respBody: asJSON(deployment("1184", 1, false)), ms: 9.6, auth: writeOK()})
	all = append(all, f)

	// kubectl --context alice get pods -n demo: RBAC denial.
	f = newFixture("denied", "kubectl", "--context", "alice", "get", "pods", "-n", "demo")
	alice := &record.Auth{Method: "x509", User: "alice", Groups: []string{"kubewire:learners", "system:authenticated"}, Source: "certificate", Origin: "kubeconfig",
		StoppedAt: record.StageAuthorization, Stages: stages(false, record.StageAuthorization),
		Reason: `User "alice" cannot list resource "pods" in API group "" in the namespace "demo"`,
		Denial: &record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}}
	alice.Stages[0].Detail = "client certificate accepted"
	alice.Stages[2].Detail = "403 Forbidden: no RBAC rule allows it"
	f.add(call{method: "GET", path: "/api/v1/namespaces/demo/pods?limit=500", accept: acceptTable, status: 403, respCT: ctJSON, ms: 3.1, auth: alice,
		signals: &record.Signals{AuditID: "5f0c7e2a-0000-4000-8000-000000000001", FlowSchema: "global-default", PriorityLevel: "global-default"},
		respBody: asJSON(status(403, metav1.StatusReasonForbidden, `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo"`,
			&metav1.StatusDetails{Kind: "pods"}))})
	all = append(all, f)

	// kubectl get pods -n demo: a Table.
	f = newFixture("table", "kubectl", "get", "pods", "-n", "demo")
	f.add(call{method: "GET", path: "/api/v1/namespaces/demo/pods?limit=500", accept: acceptTable, status: 200, respCT: ctTable, ms: 5.4, auth: readOK(),
		respBody: asJSON(podTable())})
	all = append(all, f)

	// A typed client (controllers, kubectl top) reading protobuf.
	f = newFixture("protobuf", "kubectl", "get", "--raw", "/api/v1/namespaces/demo/pods/web-7c5ddbdf54-2xkqp")
	f.add(call{method: "GET", path: "/api/v1/namespaces/demo/pods/web-7c5ddbdf54-2xkqp", accept: ctProtobuf + ", */*", status: 200, respCT: ctProtobuf, ms: 2.7, auth: readOK(),
		respBody: asProtobuf(pod("web-7c5ddbdf54-2xkqp", "1190", corev1.PodRunning))})
	unknown := append([]byte(nil), protobufMagic...)
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "example.kubewire.dev/v1", Kind: "Widget"}, Raw: []byte{0x0a, 0x03, 'w', 'e', 'b'}, ContentType: ctProtobuf}
	data, err := unk.Marshal()
	if err != nil {
		return err
	}
	f.add(call{method: "GET", path: "/apis/example.kubewire.dev/v1/namespaces/demo/widgets/web", accept: ctProtobuf, status: 200, respCT: ctProtobuf, ms: 2.1, auth: readOK(),
		respBody: append(unknown, data...)})
	all = append(all, f)

	// kubectl get pods -n demo -w (JSON watch after the initial list).
	f = newFixture("watch-json", "kubectl", "get", "pods", "-n", "demo", "-w", "-o", "name")
	x := f.add(call{method: "GET", path: "/api/v1/namespaces/demo/pods?resourceVersion=1207&watch=true", accept: ctJSON, status: 200, respCT: ctJSON, stream: true, ms: 3.3, auth: readOK()})
	f.event(x, 812.4, "ADDED", watchJSON("ADDED", pod("web-7c5ddbdf54-zz8rk", "1211", corev1.PodPending)), ctJSON)
	f.event(x, 1020.9, "MODIFIED", watchJSON("MODIFIED", pod("web-7c5ddbdf54-zz8rk", "1214", corev1.PodRunning)), ctJSON)
	f.event(x, 4310.2, "DELETED", watchJSON("DELETED", pod("web-7c5ddbdf54-tq4lm", "1220", corev1.PodRunning)), ctJSON)
	bm := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1230",
		Annotations: map[string]string{"k8s.io/initial-events-end": "true"}}}
	f.event(x, 60000.5, "BOOKMARK", watchJSON("BOOKMARK", bm), ctJSON)
	f.end(x, 61250.0)
	all = append(all, f)

	// A controller's protobuf watch on deployments, ended by 410 Gone.
	f = newFixture("watch-protobuf", "kubectl", "rollout", "status", "deployment/web", "-n", "demo")
	x = f.add(call{method: "GET", path: "/apis/apps/v1/namespaces/demo/deployments?fieldSelector=metadata.name%3Dweb&resourceVersion=1184&watch=true",
		accept: ctProtobuf + ";stream=watch", status: 200, respCT: ctProtobuf + ";stream=watch", stream: true, ms: 2.9, auth: readOK()})
	f.event(x, 35.1, "MODIFIED", watchProtobuf("MODIFIED", deployment("1190", 3, false)), ctProtobuf)
	f.event(x, 2207.6, "MODIFIED", watchProtobuf("MODIFIED", deployment("1201", 3, true)), ctProtobuf)
	f.event(x, 9000.0, "ERROR", watchProtobuf("ERROR", status(410, metav1.StatusReasonExpired, "too old resource version: 1184 (1195)", nil)), ctProtobuf)
	f.end(x, 9001.2)
	all = append(all, f)

	// Status objects: validation (422 with causes) and storage (409).
	f = newFixture("status", "kubectl", "apply", "-f", "web.yaml")
	inv := admin()
	inv.StoppedAt, inv.Stages = record.StageValidation, stages(true, record.StageValidation)
	inv.Stages[4].Detail = "422 Invalid"
	inv.Reason = `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`
	inv.Causes = []record.Cause{{Type: "FieldValueInvalid", Field: "spec.replicas", Message: "Invalid value: -1: must be greater than or equal to 0"}}
	bad := deployment("", -1, false)
	f.add(call{method: "POST", path: "/apis/apps/v1/namespaces/demo/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
		reqCT: ctJSON, reqBody: asJSON(bad), status: 422, respCT: ctJSON, ms: 4.4, auth: inv,
		respBody: asJSON(status(422, metav1.StatusReasonInvalid, inv.Reason, &metav1.StatusDetails{Name: "web", Group: "apps", Kind: "Deployment",
			Causes: []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Message: "Invalid value: -1: must be greater than or equal to 0", Field: "spec.replicas"}}}))})
	dup := admin()
	dup.StoppedAt, dup.Stages = record.StageStorage, stages(true, record.StageStorage)
	dup.Stages[5].Detail = "409 AlreadyExists"
	dup.Reason = `deployments.apps "web" already exists`
	f.add(call{method: "POST", path: "/apis/apps/v1/namespaces/demo/deployments?fieldManager=kubectl-create&fieldValidation=Strict",
		reqCT: ctJSON, reqBody: asJSON(reqDeploy), status: 409, respCT: ctJSON, ms: 6.0, auth: dup,
		respBody: asJSON(status(409, metav1.StatusReasonAlreadyExists, dup.Reason, &metav1.StatusDetails{Name: "web", Group: "apps", Kind: "deployments"}))})
	all = append(all, f)

	// Discovery the classic way (kubectl before aggregated discovery,
	// client-go's discovery client) and OpenAPI.
	f = newFixture("discovery", "kubectl", "explain", "deployments")
	f.add(call{method: "GET", path: "/api", accept: ctJSON, status: 200, respCT: ctJSON, ms: 1.9, auth: readOK(),
		respBody: asJSON(&metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1:6443"}}})})
	groups := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "APIGroupList"}}
	for _, gv := range []string{"apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1", "policy/v1", "autoscaling/v2", "autoscaling/v1"} {
		g, v, _ := cutLast(gv)
		if len(groups.Groups) > 0 && groups.Groups[len(groups.Groups)-1].Name == g {
			last := &groups.Groups[len(groups.Groups)-1]
			last.Versions = append(last.Versions, metav1.GroupVersionForDiscovery{GroupVersion: gv, Version: v})
			continue
		}
		gvd := metav1.GroupVersionForDiscovery{GroupVersion: gv, Version: v}
		groups.Groups = append(groups.Groups, metav1.APIGroup{Name: g, Versions: []metav1.GroupVersionForDiscovery{gvd}, PreferredVersion: gvd})
	}
	f.add(call{method: "GET", path: "/apis", accept: ctJSON, status: 200, respCT: ctJSON, ms: 2.2, auth: readOK(), respBody: asJSON(groups)})
	f.add(call{method: "GET", path: "/apis/apps/v1", accept: ctJSON, status: 200, respCT: ctJSON, ms: 2.0, auth: readOK(),
		respBody: asJSON(apiResources("apps/v1", res("controllerrevisions", "ControllerRevision", true), res("daemonsets", "DaemonSet", true, "ds"),
			sub("daemonsets/status", "DaemonSet"), res("deployments", "Deployment", true, "deploy"), sub("deployments/scale", "Scale"),
			sub("deployments/status", "Deployment"), res("replicasets", "ReplicaSet", true, "rs"), sub("replicasets/scale", "Scale"),
			sub("replicasets/status", "ReplicaSet"), res("statefulsets", "StatefulSet", true, "sts"), sub("statefulsets/scale", "Scale"),
			sub("statefulsets/status", "StatefulSet")))})
	f.add(call{method: "GET", path: "/openapi/v3", accept: ctJSON, status: 200, respCT: ctJSON, ms: 3.5, auth: readOK(),
		respBody: []byte(`{"paths":{".well-known/openid-configuration":{"serverRelativeURL":"/openapi/v3/.well-known/openid-configuration?hash=4F0A"},"api":{"serverRelativeURL":"/openapi/v3/api?hash=9C1B"},"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=77D2"},"apis":{"serverRelativeURL":"/openapi/v3/apis?hash=1E4F"},"apis/apps":{"serverRelativeURL":"/openapi/v3/apis/apps?hash=0A9E"},"apis/apps/v1":{"serverRelativeURL":"/openapi/v3/apis/apps/v1?hash=5B3C"},"apis/batch/v1":{"serverRelativeURL":"/openapi/v3/apis/batch/v1?hash=C2D8"},"version":{"serverRelativeURL":"/openapi/v3/version?hash=8E7A"}}}` + "\n")})
	f.add(call{method: "GET", path: "/openapi/v3/apis/apps/v1?hash=5B3C", accept: ctJSON, status: 200, respCT: ctJSON, ms: 14.8, auth: readOK(),
		respBody: []byte(`{"openapi":"3.0.0","info":{"title":"Kubernetes","version":"v1.37.2"},"paths":{"/apis/apps/v1/":{},"/apis/apps/v1/deployments":{},"/apis/apps/v1/namespaces/{namespace}/deployments":{},"/apis/apps/v1/namespaces/{namespace}/deployments/{name}":{},"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale":{},"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status":{}},"components":{"schemas":{"io.k8s.api.apps.v1.Deployment":{},"io.k8s.api.apps.v1.DeploymentList":{},"io.k8s.api.apps.v1.DeploymentSpec":{},"io.k8s.api.apps.v1.DeploymentStatus":{}}}}` + "\n")})
	all = append(all, f)

	for _, f := range all {
		if err := f.save(dir); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}
