package e2e_test

// The rejections that need more than the lab's defaults: an admission
// webhook, API Priority and Fairness turning a request away, and a namespace
// that is being deleted. The API server is the lab's; only the webhook's
// backend is a test server, which the API server calls on 127.0.0.1.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/record"
)

// webhook is a validating admission webhook backend: it denies ConfigMaps
// labelled deny, and holds those labelled hold until released.
type webhook struct {
	srv      *httptest.Server
	held     chan struct{} // a hold request arrived
	release  chan struct{} // let hold requests go
	released bool
}

func startWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{held: make(chan struct{}, 1), release: make(chan struct{})}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(rw, "want an AdmissionReview", http.StatusBadRequest)
			return
		}
		var obj metav1.PartialObjectMetadata
		_ = json.Unmarshal(review.Request.Object.Raw, &obj)
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		switch {
		case obj.Labels["webhook"] == "deny":
			resp.Allowed = false
			resp.Result = &metav1.Status{Code: http.StatusForbidden, Message: "kubewire's test webhook refuses ConfigMaps labelled webhook=deny"}
		case obj.Labels["webhook"] == "hold":
			select {
			case w.held <- struct{}{}:
			default:
			}
			select {
			case <-w.release:
			case <-r.Context().Done():
			}
		}
		review.Response = resp
		review.Request = nil
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(review)
	}))
	t.Cleanup(func() {
		w.let()
		w.srv.Close()
	})
	return w
}

// let releases every held request, once.
func (w *webhook) let() {
	if !w.released {
		w.released = true
		close(w.release)
	}
}

// register installs a ValidatingWebhookConfiguration that sends CREATEs of
// labelled ConfigMaps in ns to w, and waits until the API server uses it.
func (w *webhook) register(t *testing.T, e *env, name string) {
	t.Helper()
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.srv.Certificate().Raw}))
	cfg := fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: %[1]s
webhooks:
- name: deny.kubewire.dev
  clientConfig:
    url: %[2]s/validate
    caBundle: %[3]s
  rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["CREATE"]
    resources: ["configmaps"]
  namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: %[4]s
  objectSelector:
    matchExpressions:
    - {key: webhook, operator: Exists}
  sideEffects: None
  admissionReviewVersions: ["v1"]
  failurePolicy: Fail
  timeoutSeconds: 10
`, name, w.srv.URL, ca, e.ns)
	apply(t, cfg)
	// The configuration takes effect when the API server's informer sees it.
	labtest.Eventually(t, 30*time.Second, func() error {
		r := e.do(t, call{cfg: e.admin, method: "POST", path: "/api/v1/namespaces/" + e.ns + "/configmaps?dryRun=All", body: configMap("probe", `,"labels":{"webhook":"deny"}`)})
		if r.status < 400 {
			return fmt.Errorf("webhook not in effect yet: %d", r.status)
		}
		return nil
	})
}

func TestWebhookDenied(t *testing.T) {
	e := setup(t)
	w := startWebhook(t)
	w.register(t, e, "kubewire-deny-"+e.ns)
	r := e.do(t, call{name: "webhook-denied", comment: "a validating admission webhook denies the ConfigMap", cfg: e.admin, method: "POST",
		path: "/api/v1/namespaces/" + e.ns + "/configmaps", body: configMap("refused", `,"labels":{"webhook":"deny"}`)})
	a := r.x.Annotation.Auth
	if r.status != 403 || a.StoppedAt != record.StageAdmission || a.Admission == nil || a.Admission.Kind != "webhook" || a.Admission.Name != "deny.kubewire.dev" ||
		!strings.Contains(a.Admission.Message, "refuses ConfigMaps labelled webhook=deny") {
		t.Fatalf("webhook:\n%s", dump(r))
	}
	if s := stage(a, record.StageValidation); s.Status != record.Passed || !s.Inferred {
		t.Errorf("schema validation runs before validating webhooks: %+v", s)
	}
}

// A priority level with no seats at all, reached by one user: while one of
// that user's requests executes (held in the webhook above), the next is
// turned away with 429.
func TestPriorityAndFairnessRejects(t *testing.T) {
	e := setup(t)
	w := startWebhook(t)
	w.register(t, e, "kubewire-hold-"+e.ns)
	user := "kubewire-throttled-" + e.ns
	name := "kubewire-none-" + e.ns
	objs := fmt.Sprintf(`apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: %[1]s
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 0
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse:
      type: Reject
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: %[1]s
spec:
  priorityLevelConfiguration:
    name: %[1]s
  matchingPrecedence: 500
  distinguisherMethod:
    type: ByUser
  rules:
  - subjects:
    - kind: User
      user:
        name: %[2]s
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      namespaces: ["*"]
      clusterScope: true
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: %[1]s
  namespace: %[3]s
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: %[1]s
  namespace: %[3]s
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: %[1]s
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: %[2]s
`, name, user, e.ns)
	apply(t, objs)
	as := http.Header{"Impersonate-User": {user}}
	// The API server classifies by the new FlowSchema once its APF
	// controller has seen it: the response then names its UID.
	fsUID := labtest.MustKubectl(t, "get", "flowschema", name, "-o", "jsonpath={.metadata.uid}")
	labtest.Eventually(t, 30*time.Second, func() error {
		r := e.do(t, call{cfg: e.admin, method: "GET", path: "/api/v1/namespaces/" + e.ns + "/configmaps", header: as})
		if got := r.header.Get("X-Kubernetes-Pf-Flowschema-Uid"); got != fsUID {
			return fmt.Errorf("classified by flow schema %q, want %s (%s)", got, name, fsUID)
		}
		return nil
	})

	// One request of the user executes, waiting in the webhook...
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hc, err := rest.HTTPClientFor(e.admin)
	if err != nil {
		t.Fatal(err)
	}
	holding := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", e.admin.Host+"/api/v1/namespaces/"+e.ns+"/configmaps",
			strings.NewReader(configMap("held", `,"labels":{"webhook":"hold"}`)))
		req.Header = as.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			holding <- 0
			return
		}
		resp.Body.Close()
		holding <- resp.StatusCode
	}()
	select {
	case <-w.held:
	case <-ctx.Done():
		t.Fatal("the held request never reached the webhook")
	}
	// ...so the next finds no seat and is rejected.
	r := e.do(t, call{name: "apf-rejected", comment: "API Priority and Fairness rejects: the user's priority level has no free seat", cfg: e.admin, method: "GET",
		path: "/api/v1/namespaces/" + e.ns + "/configmaps", header: as})
	w.let()
	if code := <-holding; code != http.StatusCreated {
		t.Errorf("the held request ended with %d, want 201", code)
	}
	a := r.x.Annotation.Auth
	if r.status != 429 || a.StoppedAt != record.StagePriority || stage(a, record.StagePriority).Status != record.Rejected ||
		stage(a, record.StageAuthorization).Status != record.NotReached {
		t.Fatalf("apf:\n%s", dump(r))
	}
	if sg := r.x.Annotation.Signals; sg == nil || sg.FlowSchema != name || sg.PriorityLevel != name {
		t.Errorf("signals %+v, want flow schema and priority level %s", sg, name)
	}
}

// Creating in a namespace that is being deleted: NamespaceLifecycle
// refuses. A ConfigMap's finalizer keeps the namespace terminating.
func TestTerminatingNamespace(t *testing.T) {
	e := setup(t)
	ns := e.ns + "-ending"
	labtest.MustKubectl(t, "create", "namespace", ns)
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	if r := e.do(t, call{cfg: e.admin, method: "POST", path: base, body: configMap("held", `,"finalizers":["kubewire.dev/hold"]`)}); r.status != 201 {
		t.Fatalf("create the held ConfigMap:\n%s", dump(r))
	}
	t.Cleanup(func() {
		labtest.Kubectl(t, "patch", "configmap", "held", "-n", ns, "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
		labtest.Kubectl(t, "delete", "namespace", ns, "--wait=false", "--ignore-not-found")
	})
	labtest.MustKubectl(t, "delete", "namespace", ns, "--wait=false")
	labtest.Eventually(t, 30*time.Second, func() error {
		if phase := labtest.MustKubectl(t, "get", "namespace", ns, "-o", "jsonpath={.status.phase}"); phase != "Terminating" {
			return fmt.Errorf("namespace %s is %q", ns, phase)
		}
		return nil
	})
	r := e.do(t, call{name: "create-in-terminating-namespace", comment: "create in a namespace that is being deleted", cfg: e.admin, method: "POST",
		path: base, body: configMap("late", "")})
	a := r.x.Annotation.Auth
	if r.status != 403 || a.StoppedAt != record.StageAdmission || a.Admission == nil || a.Admission.Kind != "namespace-lifecycle" ||
		!strings.Contains(a.Admission.Message, "because it is being terminated") {
		t.Fatalf("terminating namespace:\n%s", dump(r))
	}
}
