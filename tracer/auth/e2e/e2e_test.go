// Package e2e_test runs real requests against the lab's kube-apiserver
// through client-go's transport (the one kubewire's upstream leg uses) and
// checks what tracer/auth makes of each response and of the server's audit
// log. With -update it also writes the responses and the audit events as
// fixtures to ../testdata, so the unit tests run on real messages.
package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
)

var (
	update    = flag.Bool("update", false, "write the captured responses and audit events to ../testdata")
	recording = flag.String("recording", "", "write the calls and their audit events as a kubewire recording to this file")
)

func TestMain(m *testing.M) { labtest.Main(m) }

// env is what every test shares: the lab's configs, the audit log, the
// flow names and a namespace of its own.
type env struct {
	admin, alice *rest.Config
	adminCS      kubernetes.Interface
	adminUser    string // the admin certificate's user, as the server says
	audit        *auth.AuditLog
	flows        auth.FlowNames
	ns           string
	classifier   *classify.Classifier
}

var (
	shared     *env
	sharedOnce sync.Once
	sharedErr  error

	capturedMu sync.Mutex
	captured   = map[string]fixture{}
	recorded   []record.Line       // exchanges and audit lines, for -recording
	seq        int64               // the last exchange's Seq
	auditLines = map[string]bool{} // audit IDs to copy into testdata/audit.log
)

func setup(t *testing.T) *env {
	t.Helper()
	l := labtest.Lab(t)
	sharedOnce.Do(func() {
		e := &env{classifier: classify.New("", classify.Builtin())}
		load := func(ctx string) *rest.Config {
			cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
				&clientcmd.ClientConfigLoadingRules{ExplicitPath: l.Kubeconfig},
				&clientcmd.ConfigOverrides{CurrentContext: ctx}).ClientConfig()
			if err != nil && sharedErr == nil {
				sharedErr = err
			}
			return cfg
		}
		e.admin, e.alice = load("admin"), load("alice")
		if sharedErr != nil {
			return
		}
		e.adminCS, sharedErr = kubernetes.NewForConfig(e.admin)
		if sharedErr != nil {
			return
		}
		var review *authenticationv1.SelfSubjectReview
		review, sharedErr = e.adminCS.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if sharedErr != nil {
			return
		}
		e.adminUser = review.Status.UserInfo.Username
		e.flows = auth.NewFlowNames(e.adminCS)
		if e.audit, sharedErr = auth.OpenAuditLog(l.AuditLog); sharedErr != nil {
			return
		}
		e.ns = "authe2e-" + randHex(4)
		labtest.MustKubectl(t, "create", "namespace", e.ns)
		shared = e
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// apply creates the objects of a YAML manifest in the lab and deletes them
// when the test ends, with deleteFlags.
func apply(t *testing.T, manifest string, deleteFlags ...string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	labtest.MustKubectl(t, "apply", "-f", f)
	t.Cleanup(func() { labtest.Kubectl(t, append([]string{"delete", "-f", f}, deleteFlags...)...) })
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// fixture is one captured exchange, as stored in testdata/responses.
type fixture struct {
	Comment       string      `json:"comment"`
	Method        string      `json:"method"`
	URL           string      `json:"url"`
	RequestHeader http.Header `json:"requestHeader,omitempty"`
	Status        int         `json:"status"`
	Header        http.Header `json:"header"`
	Body          string      `json:"body,omitempty"`
	BodyBase64    []byte      `json:"bodyBase64,omitempty"`
}

// call is one request to send.
type call struct {
	name    string // fixture name; "" to not capture
	comment string
	cfg     *rest.Config
	// bearer, when set, is sent as the client's own token (as curl through
	// kubewire proxy would) instead of cfg's credentials.
	bearer string
	method string
	path   string
	body   string
	header http.Header
}

// result is a call's response and what tracer/auth made of it.
type result struct {
	status int
	header http.Header
	body   []byte
	x      *record.Exchange
}

// do sends c with a fresh Audit-Id through client-go's transport and runs
// Identify, Journey and Signals on the response.
func (e *env) do(t *testing.T, c call) *result {
	t.Helper()
	cfg := rest.CopyConfig(c.cfg)
	clientOwns := c.bearer != ""
	if clientOwns {
		cfg = &rest.Config{Host: c.cfg.Host, TLSClientConfig: rest.TLSClientConfig{CAData: c.cfg.CAData, CAFile: c.cfg.CAFile}}
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, cfg.Host+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	clientHeader := req.Header.Clone()
	if clientOwns {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
		clientHeader.Set("Authorization", "Bearer "+c.bearer)
	}
	auditID := newUUID()
	req.Header.Set(auth.HeaderAuditID, auditID)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get(auth.HeaderAuditID); got != auditID {
		t.Errorf("%s %s: Audit-Id %q, want the one sent, %q", c.method, c.path, got, auditID)
	}

	u, _ := url.Parse(c.path)
	ann := e.classifier.Classify(c.method, u, clientHeader)
	ann.Auth = auth.Identify(clientHeader, clientOwns, auth.DescribeConfig(c.cfg))
	auth.Journey(ann.Auth, ann, resp.StatusCode, resp.Header, resp.Header.Get("Content-Type"), data)
	ann.Signals = auth.Signals(resp.Header, e.flows)
	x := &record.Exchange{
		Start:      time.Now(),
		Request:    record.Request{Method: c.method, URL: cfg.Host + c.path, Headers: redact(clientHeader)},
		Response:   &record.Response{Status: resp.StatusCode, Proto: resp.Proto, Headers: resp.Header, Body: record.NewBody(resp.Header.Get("Content-Type"), data, int64(len(data)), -1)},
		Annotation: ann,
	}
	if c.body != "" {
		x.Request.Body = record.NewBody(req.Header.Get("Content-Type"), []byte(c.body), int64(len(c.body)), -1)
	}
	r := &result{status: resp.StatusCode, header: resp.Header, body: data, x: x}
	capturedMu.Lock()
	seq++
	x.Seq = seq
	recorded = append(recorded, record.Line{Type: record.TypeExchange, Exchange: x})
	capturedMu.Unlock()

	if c.name != "" {
		f := fixture{Comment: c.comment, Method: c.method, URL: c.path, Status: resp.StatusCode, Header: resp.Header}
		f.RequestHeader = http.Header{}
		for k, vs := range c.header {
			f.RequestHeader[k] = vs
		}
		f.RequestHeader.Set("Accept", req.Header.Get("Accept"))
		if isText(data) {
			f.Body = string(data)
		} else {
			f.BodyBase64 = data
		}
		capturedMu.Lock()
		captured[c.name] = f
		auditLines[auditID] = true
		capturedMu.Unlock()
	}
	return r
}

// join finds the call's audit event and attaches it as the recorder does.
func (e *env) join(t *testing.T, r *result) *record.AuditEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ev, err := e.audit.Find(ctx, r.x.Annotation.Signals.AuditID)
	if err != nil {
		t.Fatalf("audit join: %v", err)
	}
	annotate.Audit(r.x, ev)
	capturedMu.Lock()
	recorded = append(recorded, record.Line{Type: record.TypeAudit, Seq: r.x.Seq, Audit: ev})
	capturedMu.Unlock()
	return ev
}

// redact hides the token a test sent as the client's own.
func redact(h http.Header) http.Header {
	h = h.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "Bearer <redacted>")
	}
	return h
}

// isText is false for protobuf bodies, which are stored as base64.
func isText(b []byte) bool {
	return !bytes.HasPrefix(b, []byte("k8s\x00")) && utf8.Valid(b)
}

func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func stage(a *record.Auth, name string) record.Stage {
	for _, s := range a.Stages {
		if s.Name == name {
			return s
		}
	}
	return record.Stage{}
}

func dump(r *result) string {
	data, _ := json.MarshalIndent(r.x.Annotation, "", "  ")
	return fmt.Sprintf("status %d\nbody %s\nannotation %s", r.status, r.body, data)
}

func TestAdminListAllPassed(t *testing.T) {
	e := setup(t)
	r := e.do(t, call{name: "admin-list-pods", comment: "admin (x509, system:masters) lists pods", cfg: e.admin, method: "GET", path: "/api/v1/namespaces/" + e.ns + "/pods"})
	a := r.x.Annotation.Auth
	if r.status != 200 || a.StoppedAt != "" || a.Method != auth.MethodX509 || a.User != e.adminUser || !slices.Contains(a.Groups, "system:masters") {
		t.Fatalf("want a completed x509 admin request:\n%s", dump(r))
	}
	for _, s := range a.Stages {
		want := record.Passed
		if s.Name == record.StageAdmission || s.Name == record.StageValidation {
			want = record.NotApplicable
		}
		if s.Status != want {
			t.Errorf("stage %s = %s, want %s", s.Name, s.Status, want)
		}
	}
	if s := stage(a, record.StagePriority); s.Inferred {
		t.Errorf("priority and fairness should be observed from the headers: %+v", s)
	}
	sig := r.x.Annotation.Signals
	if sig.FlowSchema != "exempt" || sig.PriorityLevel != "exempt" {
		t.Errorf("APF names %q/%q, want exempt/exempt (system:masters)", sig.FlowSchema, sig.PriorityLevel)
	}
	if s := stage(a, record.StageAuthorization); !s.Inferred {
		t.Errorf("authorization before the audit join should be inferred: %+v", s)
	}
	ev := e.join(t, r)
	if ev.Decision != "allow" || ev.User != e.adminUser || ev.Verb != "list" || ev.ObjectRef == nil || ev.ObjectRef.Namespace != e.ns {
		t.Errorf("audit event %+v", ev)
	}
	if s := stage(a, record.StageAuthorization); s.Inferred || !strings.HasPrefix(s.Detail, "allow") {
		t.Errorf("after the join authorization should be observed: %+v", s)
	}
}

func TestAliceForbidden(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		name, path, accept string
		want               record.Denial
	}{
		{"alice-list-pods", "/api/v1/namespaces/demo/pods", "application/json", record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}},
		{"alice-list-pods-protobuf", "/api/v1/namespaces/demo/pods", "application/vnd.kubernetes.protobuf", record.Denial{User: "alice", Verb: "list", Resource: "pods", Namespace: "demo"}},
		{"alice-list-nodes", "/api/v1/nodes", "application/json", record.Denial{User: "alice", Verb: "list", Resource: "nodes", Cluster: true}},
		{"alice-get-deployment-scale", "/apis/apps/v1/namespaces/demo/deployments/web/scale", "application/json", record.Denial{User: "alice", Verb: "get", Resource: "deployments", Subresource: "scale", APIGroup: "apps", Namespace: "demo"}},
		{"alice-get-metrics", "/metrics", "application/json", record.Denial{User: "alice", Verb: "get", Path: "/metrics"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, call{name: tc.name, comment: "alice (no rights) is denied", cfg: e.alice, method: "GET", path: tc.path, header: http.Header{"Accept": {tc.accept}}})
			a := r.x.Annotation.Auth
			if r.status != 403 || a.StoppedAt != record.StageAuthorization || a.Denial == nil || *a.Denial != tc.want {
				t.Fatalf("want stopped at authorization with %+v:\n%s", tc.want, dump(r))
			}
			if s := stage(a, record.StageAuthentication); s.Status != record.Passed || s.Inferred {
				t.Errorf("authentication should be observed passed (the message names the user): %+v", s)
			}
			if s := stage(a, record.StageAdmission); s.Status != record.NotReached && s.Status != record.NotApplicable {
				t.Errorf("admission %+v", s)
			}
			ev := e.join(t, r)
			if ev.Decision != "forbid" || ev.User != "alice" || ev.Code != 403 {
				t.Errorf("audit event %+v, want decision forbid for alice", ev)
			}
			if s := stage(a, record.StageAuthorization); s.Inferred || s.Status != record.Rejected || !strings.HasPrefix(s.Detail, "forbid") {
				t.Errorf("authorization after the join: %+v", s)
			}
		})
	}
}

func TestBadToken(t *testing.T) {
	e := setup(t)
	r := e.do(t, call{name: "bad-token", comment: "a client's own bearer token the server does not know", cfg: e.admin, bearer: "kubewire-not-a-token", method: "GET", path: "/api/v1/namespaces/demo/pods"})
	a := r.x.Annotation.Auth
	if r.status != 401 || a.StoppedAt != record.StageAuthentication || a.Origin != auth.OriginClient || a.Method != auth.MethodToken {
		t.Fatalf("want stopped at authentication:\n%s", dump(r))
	}
	if r.header.Get(auth.HeaderFlowSchemaUID) != "" {
		t.Errorf("a 401 carries priority and fairness headers: %v", r.header)
	}
	for _, s := range a.Stages[1:] {
		if s.Status != record.NotReached && s.Status != record.NotApplicable {
			t.Errorf("stage after authentication %+v", s)
		}
	}
	data, _ := json.Marshal(r.x.Annotation)
	if bytes.Contains(data, []byte("kubewire-not-a-token")) {
		t.Errorf("the token is in the annotation: %s", data)
	}
}

func TestServiceAccountToken(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The namespace's default ServiceAccount appears when the
	// controller-manager gets to it.
	var tok *authenticationv1.TokenRequest
	labtest.Eventually(t, 30*time.Second, func() error {
		var err error
		tok, err = e.adminCS.CoreV1().ServiceAccounts(e.ns).CreateToken(ctx, "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		return err
	})
	r := e.do(t, call{cfg: e.admin, bearer: tok.Status.Token, method: "GET", path: "/api/v1/namespaces/" + e.ns + "/pods"})
	a := r.x.Annotation.Auth
	want := "system:serviceaccount:" + e.ns + ":default"
	if a.Method != auth.MethodServiceAccount || a.User != want || a.Credential.ServiceAccount != e.ns+"/default" || a.Credential.Expiry.IsZero() ||
		!slices.Contains(a.Groups, "system:serviceaccounts:"+e.ns) {
		t.Fatalf("want the ServiceAccount decoded:\n%s", dump(r))
	}
	if r.status != 403 || a.StoppedAt != record.StageAuthorization || a.Denial.User != want {
		t.Errorf("the default ServiceAccount may not list pods:\n%s", dump(r))
	}
	ev := e.join(t, r)
	if ev.User != a.User || !slices.Equal(ev.Groups, a.Groups) {
		t.Errorf("decoded %s %v, the server's audit log says %s %v", a.User, a.Groups, ev.User, ev.Groups)
	}
	data, _ := json.Marshal(r.x.Annotation)
	if bytes.Contains(data, []byte(tok.Status.Token)) {
		t.Error("the token is in the annotation")
	}
}

func configMap(name string, labels string) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q%s},"data":{"k":"v"}}`, name, labels)
}

func TestWrites(t *testing.T) {
	e := setup(t)
	base := "/api/v1/namespaces/" + e.ns + "/configmaps"

	r := e.do(t, call{name: "create-configmap", comment: "admin creates a ConfigMap", cfg: e.admin, method: "POST", path: base, body: configMap("c1", "")})
	a := r.x.Annotation.Auth
	if r.status != 201 || a.StoppedAt != "" || a.Persisted == nil || !*a.Persisted {
		t.Fatalf("create:\n%s", dump(r))
	}
	for _, s := range a.Stages {
		if s.Status != record.Passed {
			t.Errorf("create: stage %+v, want passed", s)
		}
	}

	r = e.do(t, call{name: "create-duplicate", comment: "the same ConfigMap again", cfg: e.admin, method: "POST", path: base, body: configMap("c1", "")})
	a = r.x.Annotation.Auth
	if r.status != 409 || a.StoppedAt != record.StageStorage || !strings.Contains(a.Reason, "already exists") {
		t.Errorf("duplicate:\n%s", dump(r))
	}

	stale := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","resourceVersion":"1"},"data":{"k":"w"}}`
	r = e.do(t, call{name: "update-conflict", comment: "an update with a stale resourceVersion", cfg: e.admin, method: "PUT", path: base + "/c1", body: stale})
	a = r.x.Annotation.Auth
	if r.status != 409 || a.StoppedAt != record.StageStorage || !strings.Contains(a.Reason, "modified") {
		t.Errorf("conflict:\n%s", dump(r))
	}

	r = e.do(t, call{name: "create-invalid", comment: "a ConfigMap with an invalid name and data key", cfg: e.admin, method: "POST", path: base,
		body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"},"data":{"bad key!":"v"}}`})
	a = r.x.Annotation.Auth
	if r.status != 422 || a.StoppedAt != record.StageValidation || len(a.Causes) < 2 {
		t.Fatalf("invalid:\n%s", dump(r))
	}
	fields := []string{}
	for _, c := range a.Causes {
		fields = append(fields, c.Field)
	}
	if !slices.Contains(fields, "metadata.name") {
		t.Errorf("causes name fields %v, want metadata.name among them", fields)
	}
	if s := stage(a, record.StageStorage); s.Status != record.NotReached {
		t.Errorf("storage after a validation failure: %+v", s)
	}

	r = e.do(t, call{name: "get-missing", comment: "a named object that does not exist", cfg: e.admin, method: "GET", path: base + "/nope"})
	a = r.x.Annotation.Auth
	if r.status != 404 || a.StoppedAt != record.StageStorage || stage(a, record.StageStorage).Inferred {
		t.Errorf("missing:\n%s", dump(r))
	}

	r = e.do(t, call{name: "create-dry-run", comment: "kubectl create --dry-run=server", cfg: e.admin, method: "POST", path: base + "?dryRun=All", body: configMap("dry", "")})
	a = r.x.Annotation.Auth
	if r.status != 201 || a.StoppedAt != "" || a.Persisted == nil || *a.Persisted || stage(a, record.StageStorage).Status != record.NotApplicable {
		t.Fatalf("dry run:\n%s", dump(r))
	}
	r = e.do(t, call{cfg: e.admin, method: "GET", path: base + "/dry"})
	if r.status != 404 {
		t.Errorf("the dry-run ConfigMap exists after all: %d", r.status)
	}

	r = e.do(t, call{name: "create-in-missing-namespace", comment: "create in a namespace that does not exist", cfg: e.admin, method: "POST", path: "/api/v1/namespaces/" + e.ns + "-gone/configmaps", body: configMap("x", "")})
	a = r.x.Annotation.Auth
	if r.status != 404 || a.StoppedAt != record.StageAdmission || a.Admission == nil || a.Admission.Name != "NamespaceLifecycle" {
		t.Errorf("missing namespace:\n%s", dump(r))
	}
}

func TestQuota(t *testing.T) {
	e := setup(t)
	labtest.MustKubectl(t, "-n", e.ns, "create", "quota", "no-secrets", "--hard=count/secrets=0")
	// Quota admission needs the controller-manager to have computed the
	// quota's status first.
	labtest.Eventually(t, 30*time.Second, func() error {
		out := labtest.MustKubectl(t, "-n", e.ns, "get", "quota", "no-secrets", "-o", "jsonpath={.status.hard}")
		if out == "" {
			return fmt.Errorf("quota status not computed yet")
		}
		return nil
	})
	r := e.do(t, call{name: "quota-exceeded", comment: "a Secret where ResourceQuota no-secrets allows none", cfg: e.admin, method: "POST",
		path: "/api/v1/namespaces/" + e.ns + "/secrets", body: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}`})
	a := r.x.Annotation.Auth
	if r.status != 403 || a.StoppedAt != record.StageAdmission || a.Admission == nil || a.Admission.Kind != "quota" || a.Admission.Name != "no-secrets" {
		t.Fatalf("quota:\n%s", dump(r))
	}
	if s := stage(a, record.StageValidation); s.Status != record.Passed || !s.Inferred {
		t.Errorf("validation runs before the quota check: %+v", s)
	}
}

func TestValidatingAdmissionPolicy(t *testing.T) {
	e := setup(t)
	name := "kubewire-" + e.ns
	policy := fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: %[1]s
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["configmaps"]
  validations:
  - expression: "!has(object.metadata.labels) || !('deny' in object.metadata.labels)"
    message: "configmaps labelled deny are refused"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: %[1]s-binding
spec:
  policyName: %[1]s
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: %[2]s
`, name, e.ns)
	apply(t, policy)
	var r *result
	// The policy takes effect when the API server's informer sees it.
	labtest.Eventually(t, 30*time.Second, func() error {
		r = e.do(t, call{cfg: e.admin, method: "POST", path: "/api/v1/namespaces/" + e.ns + "/configmaps?dryRun=All", body: configMap("denied", `,"labels":{"deny":"yes"}`)})
		if r.status < 400 {
			return fmt.Errorf("policy not in effect yet: %d", r.status)
		}
		return nil
	})
	r = e.do(t, call{name: "policy-denied", comment: "a ValidatingAdmissionPolicy denies the ConfigMap", cfg: e.admin, method: "POST",
		path: "/api/v1/namespaces/" + e.ns + "/configmaps", body: configMap("denied", `,"labels":{"deny":"yes"}`)})
	a := r.x.Annotation.Auth
	if a.StoppedAt != record.StageAdmission || a.Admission == nil || a.Admission.Kind != "policy" || a.Admission.Name != name || a.Admission.Binding != name+"-binding" {
		t.Fatalf("policy:\n%s", dump(r))
	}
}

func TestPodSecurity(t *testing.T) {
	e := setup(t)
	ns := e.ns + "-restricted"
	labtest.MustKubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { labtest.Kubectl(t, "delete", "namespace", ns, "--wait=false") })
	labtest.MustKubectl(t, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
	// No securityContext: the restricted level wants runAsNonRoot,
	// allowPrivilegeEscalation false, capabilities dropped and a seccomp
	// profile. (A privileged container would fail validation first: the
	// API server runs with --allow-privileged=false.)
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"plain"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}`
	r := e.do(t, call{name: "pod-security", comment: "a Pod without a securityContext in a restricted namespace", cfg: e.admin, method: "POST", path: "/api/v1/namespaces/" + ns + "/pods", body: pod})
	a := r.x.Annotation.Auth
	if r.status != 403 || a.StoppedAt != record.StageAdmission || a.Admission == nil || a.Admission.Kind != "pod-security" || !strings.HasPrefix(a.Admission.Name, "restricted") {
		t.Fatalf("pod security:\n%s", dump(r))
	}
}

func TestImpersonation(t *testing.T) {
	e := setup(t)
	r := e.do(t, call{name: "admin-as-alice", comment: "admin impersonates alice", cfg: e.admin, method: "GET", path: "/api/v1/namespaces/demo/pods", header: http.Header{"Impersonate-User": {"alice"}}})
	a := r.x.Annotation.Auth
	if a.Impersonation == nil || a.Impersonation.User != "alice" || a.Impersonation.By != e.adminUser || a.StoppedAt != record.StageAuthorization || a.Denial.User != "alice" {
		t.Fatalf("admin as alice:\n%s", dump(r))
	}
	ev := e.join(t, r)
	if ev.User != e.adminUser || ev.Impersonated != "alice" || ev.Decision != "forbid" {
		t.Errorf("audit %+v", ev)
	}

	r = e.do(t, call{name: "alice-as-admin", comment: "alice may not impersonate", cfg: e.alice, method: "GET", path: "/api/v1/namespaces/demo/pods", header: http.Header{"Impersonate-User": {e.adminUser}}})
	a = r.x.Annotation.Auth
	if r.status != 403 || a.StoppedAt != record.StageAuthorization || a.Denial == nil || !strings.HasPrefix(a.Denial.Verb, "impersonate") || stage(a, record.StagePriority).Status != record.NotReached {
		t.Fatalf("alice as admin:\n%s", dump(r))
	}
}

func TestDeprecationWarning(t *testing.T) {
	e := setup(t)
	group := "e2e" + randHex(3) + ".kubewire.test"
	crd := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema: {openAPIV3Schema: {type: object}}
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
`, group)
	apply(t, crd, "--wait=false")
	path := "/apis/" + group + "/v1beta1/namespaces/" + e.ns + "/widgets"
	var r *result
	labtest.Eventually(t, 30*time.Second, func() error {
		r = e.do(t, call{cfg: e.admin, method: "GET", path: path})
		if r.status != 200 {
			return fmt.Errorf("CRD not served yet: %d", r.status)
		}
		return nil
	})
	r = e.do(t, call{name: "deprecated-version", comment: "a deprecated CRD version", cfg: e.admin, method: "GET", path: path})
	sig := r.x.Annotation.Signals
	if sig == nil || len(sig.Warnings) != 1 || sig.Warnings[0].Code != 299 || sig.Warnings[0].Replacement != group+"/v1" {
		t.Fatalf("warnings:\n%s\nheader %v", dump(r), r.header)
	}
}

func TestFlowNamesNonAdmin(t *testing.T) {
	e := setup(t)
	r := e.do(t, call{cfg: e.alice, method: "GET", path: "/api/v1/namespaces/demo/pods"})
	fsUID := r.header.Get(auth.HeaderFlowSchemaUID)
	if fsUID == "" {
		t.Fatalf("no flow schema header on a 403: %v", r.header)
	}
	sig := r.x.Annotation.Signals
	if sig.FlowSchema == fsUID || sig.FlowSchema == "" || sig.PriorityLevel == "" {
		t.Errorf("flow schema %q priority level %q: not resolved to names", sig.FlowSchema, sig.PriorityLevel)
	}
	// Without permission to list flow schemas, names stay UIDs.
	cs, err := kubernetes.NewForConfig(e.alice)
	if err != nil {
		t.Fatal(err)
	}
	fs, _, why := auth.NewFlowNames(cs).Names(fsUID, "")
	if fs != fsUID {
		t.Errorf("alice resolved %s to %q; she may not list flow schemas", fsUID, fs)
	}
	if why != "the traced credentials may not list flowschemas, so kubewire cannot name them" {
		t.Errorf("why alice's names stay UIDs: %q", why)
	}
}

func TestWhoAmIAndCanI(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := auth.AskWhoAmI(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Agree || w.Server.User != e.adminUser || w.Local.User != e.adminUser {
		t.Errorf("whoami admin: %+v %+v notes %v", w.Local, w.Server, w.Notes)
	}
	ans, err := auth.CanI(ctx, e.alice, auth.AccessQuery{Verb: "list", Resource: "po", Namespace: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Allowed || ans.Resource != "pods" || ans.Auth.StoppedAt != record.StageAuthorization {
		t.Errorf("alice can-i list po: %+v", ans)
	}
	ans, err = auth.CanI(ctx, e.admin, auth.AccessQuery{Verb: "create", Resource: "deploy", Namespace: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Allowed || ans.Group != "apps" || ans.Resource != "deployments" || ans.Auth.StoppedAt != "" {
		t.Errorf("admin can-i create deploy: %+v", ans)
	}
}

// TestZFinish runs last (tests run in source order): it deletes the test
// namespace and, with -update, writes what the others captured.
func TestZFinish(t *testing.T) {
	e := setup(t)
	t.Cleanup(func() {
		labtest.Kubectl(t, "delete", "namespace", e.ns, "--wait=false")
		e.audit.Close()
		// With -count=N the next round sets up afresh.
		shared, sharedErr, sharedOnce = nil, nil, sync.Once{}
	})
	if *recording != "" {
		writeRecording(t, *recording)
	}
	if !*update {
		return
	}
	dir := filepath.Join("..", "testdata", "responses")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	capturedMu.Lock()
	defer capturedMu.Unlock()
	for name, f := range captured {
		data, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The audit events of the captured calls, from the lab's audit log.
	l := labtest.Lab(t)
	var out bytes.Buffer
	labtest.Eventually(t, 15*time.Second, func() error {
		out.Reset()
		raw, err := os.ReadFile(l.AuditLog)
		if err != nil {
			return err
		}
		found := map[string]bool{}
		for line := range bytes.Lines(raw) {
			ev, ok := auth.ParseAuditEvent(line)
			if ok && auditLines[ev.AuditID] {
				out.Write(line)
				found[ev.AuditID] = true
			}
		}
		if len(found) < len(auditLines) {
			return fmt.Errorf("%d of %d audit events written", len(found), len(auditLines))
		}
		return nil
	})
	if err := os.WriteFile(filepath.Join("..", "testdata", "audit.log"), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d fixtures and %d audit events", len(captured), len(auditLines))
}

func writeRecording(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := record.NewWriter(f, record.Header{Recorded: time.Now(), Source: record.Source{Mode: "test", Server: labtest.Lab(t).Server}})
	if err != nil {
		t.Fatal(err)
	}
	capturedMu.Lock()
	for _, l := range recorded {
		if l.Type == record.TypeExchange {
			// The audit line attaches the event again when read.
			x := *l.Exchange
			ann := x.Annotation
			if ann.Auth != nil {
				au := *ann.Auth
				au.Audit = nil
				au.Stages = append([]record.Stage(nil), au.Stages...)
				ann.Auth = &au
			}
			x.Annotation = ann
			l.Exchange = &x
		}
		w.Put(l)
	}
	capturedMu.Unlock()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
