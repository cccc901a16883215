package record

import (
	"net/http"
	"strconv"
	"strings"
)

// Annotation is what kubewire works out about a request when it is
// captured. Its keys are the ones `kubewire explain -o json` prints; field
// names and values follow the API server's audit objectRef.
type Annotation struct {
	// Kind labels the call: "resource" for resource requests; for the
	// others "discovery", "openapi", "version", "health" or "other".
	Kind string `json:"kind"`
	// Verb is the API verb (get, list, watch, create, update, patch,
	// delete, deletecollection, proxy), or the lowercase HTTP method for a
	// non-resource request.
	Verb string `json:"verb"`
	// ResourceRequest is true for requests on API resources.
	ResourceRequest bool `json:"resourceRequest"`
	// Path is the request path with any server path prefix removed.
	Path string `json:"path"`
	// APIPrefix is "api" (the legacy core group) or "apis".
	APIPrefix string `json:"apiPrefix,omitempty"`
	// APIGroup is the API group; "" is the core (legacy) group.
	APIGroup string `json:"apiGroup"`
	// APIVersion is the version in the path, e.g. "v1beta1".
	APIVersion string `json:"apiVersion,omitempty"`
	// Stability is "GA", "beta" or "alpha", from the version string.
	Stability string `json:"stability,omitempty"`
	// Resource is the resource, e.g. "pods".
	Resource string `json:"resource,omitempty"`
	// Subresource is the subresource, e.g. "status", "log", "exec".
	Subresource string `json:"subresource,omitempty"`
	// Namespace is the namespace in the path (for a Namespace object, its
	// own name, as in the API server's audit objectRef).
	Namespace string `json:"namespace,omitempty"`
	// Name is the object's name, from the path or from a
	// fieldSelector=metadata.name= on list and watch.
	Name string `json:"name,omitempty"`
	// Scope is "Namespaced", "Cluster" or "Unknown" for resource requests.
	Scope string `json:"scope,omitempty"`
	// ScopeSource says where Scope came from: "discovery" (the live
	// server), "recorded" (discovery in a recording), "builtin" (kubewire's
	// table of built-in resources), "path" (a namespace in the path) or
	// "none".
	ScopeSource string `json:"scopeSource,omitempty"`
	// AllNamespaces is true for a namespaced resource requested without a
	// namespace (e.g. kubectl get pods -A).
	AllNamespaces bool `json:"allNamespaces"`
	// LabelSelector and FieldSelector are the selectors of list, watch and
	// deletecollection.
	LabelSelector string `json:"labelSelector,omitempty"`
	FieldSelector string `json:"fieldSelector,omitempty"`
	// DryRun is true when the request asked the server not to persist it.
	DryRun bool `json:"dryRun,omitempty"`
	// Upgrade names the protocol of an upgraded connection: "websocket" or
	// "spdy" (exec, attach, port-forward).
	Upgrade string `json:"upgrade,omitempty"`
	// Note explains anything unusual the parser reported.
	Note string `json:"note,omitempty"`
	// Auth is the request's journey: identity and the stage it reached.
	Auth *Auth `json:"auth,omitempty"`
	// Signals are the server's own signals: Audit-Id, priority and
	// fairness, warnings.
	Signals *Signals `json:"signals,omitempty"`
	// Replayed is set when kubewire serve answered the call from a
	// recording: no API server saw it.
	Replayed *Replayed `json:"replayed,omitempty"`
	// Outcome says how the exchange ended, one of the Outcome* values; ""
	// while it is under way. Recordings made before the key have none, and
	// readers work it out.
	Outcome string `json:"outcome,omitempty"`
}

// How an exchange ended.
const (
	// OutcomeServed: a read or a non-resource request, answered.
	OutcomeServed = "served"
	// OutcomeStored: a write the API server persisted.
	OutcomeStored = "stored"
	// OutcomeAnswered: a create the server answers by computing, never
	// storing (a TokenRequest, an access or token review).
	OutcomeAnswered = "answered"
	// OutcomeDryRun: a write that passed every stage and was not persisted.
	OutcomeDryRun = "dry-run"
	// OutcomeUpgraded: a connection upgraded (exec, attach, port-forward).
	OutcomeUpgraded = "upgraded"
	// OutcomeRejected: a stage rejected it; Auth.StoppedAt says which.
	OutcomeRejected = "rejected"
	// OutcomeFailed: an error status with no stage to blame.
	OutcomeFailed = "failed"
	// OutcomeRedirected: a 3xx.
	OutcomeRedirected = "redirected"
	// OutcomeNoResponse: the API server never answered; Error says why.
	OutcomeNoResponse = "no-response"
)

// Replayed says which recorded call answered a call kubewire serve served.
type Replayed struct {
	// Recording names the recording that answered.
	Recording string `json:"recording"`
	// Seq is the recorded call whose answer was given; 0 when no recorded
	// call matched and kubewire serve answered 404 itself.
	Seq int64 `json:"seq,omitempty"`
	// Note says what the answer could not reproduce: a body the recording
	// cut short, secrets redacted when it was made, an exhausted answer.
	Note string `json:"note,omitempty"`
}

// kubewire serve marks each answer with these headers: HeaderReplayed is
// "SEQ RECORDING" (SEQ 0 when nothing matched), HeaderReplayedNote the
// Replayed.Note, when there is one.
const (
	HeaderReplayed     = "Kubewire-Replayed"
	HeaderReplayedNote = "Kubewire-Replayed-Note"
)

// ReplayedFrom reads the headers kubewire serve set on a response; nil when
// it did not answer it.
func ReplayedFrom(h http.Header) *Replayed {
	v := h.Get(HeaderReplayed)
	if v == "" {
		return nil
	}
	seq, name, _ := strings.Cut(v, " ")
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil || n < 0 {
		return nil
	}
	return &Replayed{Recording: name, Seq: n, Note: h.Get(HeaderReplayedNote)}
}
