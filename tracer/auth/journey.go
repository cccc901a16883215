package auth

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubewire/kubewire/tracer/codec"
	"github.com/kubewire/kubewire/tracer/record"
)

// Response headers of API Priority and Fairness.
const (
	HeaderFlowSchemaUID    = "X-Kubernetes-Pf-Flowschema-Uid"
	HeaderPriorityLevelUID = "X-Kubernetes-Pf-Prioritylevel-Uid"
)

// stageOrder is the API server's order of stages.
var stageOrder = []string{
	record.StageAuthentication,
	record.StagePriority,
	record.StageAuthorization,
	record.StageAdmission,
	record.StageValidation,
	record.StageStorage,
}

// request kinds, for which stages apply.
type requestKind int

const (
	kindNonResource requestKind = iota
	kindRead                    // get, list, watch
	kindWrite                   // create, update, patch
	kindDelete                  // delete, deletecollection
	kindComputed                // reviews and TokenRequest: computed, never stored
	kindConnect                 // exec, attach, portforward, proxy: streamed
	kindLog                     // pods/log: read from the node
)

// computed are resources whose create is answered by computation, not
// storage.
var computed = map[string]bool{
	"authentication.k8s.io/tokenreviews":             true,
	"authentication.k8s.io/selfsubjectreviews":       true,
	"authorization.k8s.io/subjectaccessreviews":      true,
	"authorization.k8s.io/selfsubjectaccessreviews":  true,
	"authorization.k8s.io/localsubjectaccessreviews": true,
	"authorization.k8s.io/selfsubjectrulesreviews":   true,
	"/serviceaccounts/token":                         true,
}

func kindOf(ann record.Annotation) requestKind {
	if !ann.ResourceRequest {
		return kindNonResource
	}
	switch ann.Subresource {
	case "exec", "attach", "portforward", "proxy":
		return kindConnect
	case "log":
		return kindLog
	}
	if ann.Verb == "proxy" {
		return kindConnect
	}
	key := ann.APIGroup + "/" + ann.Resource
	if ann.Subresource != "" {
		key += "/" + ann.Subresource
	}
	switch ann.Verb {
	case "get", "list", "watch":
		return kindRead
	case "delete", "deletecollection":
		return kindDelete
	case "create":
		if computed[key] {
			return kindComputed
		}
	}
	return kindWrite
}

// longRunning reports whether the API server treats the request as
// long-running and skips Priority and Fairness for it (its
// BasicLongRunningRequestCheck, minus watch, which APF does handle).
func longRunning(k requestKind) bool { return k == kindConnect || k == kindLog }

// notApplicable is why a stage does not apply to a request kind, or "".
func notApplicable(k requestKind, stage string) string {
	switch stage {
	case record.StagePriority:
		if longRunning(k) {
			return "long-running request: not queued by priority and fairness"
		}
	case record.StageAdmission:
		switch k {
		case kindNonResource:
			return "non-resource request: no admission"
		case kindRead, kindLog:
			return "reads skip admission"
		}
	case record.StageValidation:
		switch k {
		case kindNonResource:
			return "non-resource request: no object to validate"
		case kindRead, kindLog:
			return "reads skip validation"
		case kindDelete:
			return "deletes carry no object to validate"
		case kindConnect:
			return "a stream carries no object to validate"
		}
	case record.StageStorage:
		switch k {
		case kindNonResource:
			return "non-resource request: served by a handler, not storage"
		case kindComputed:
			return "the server computes the answer; nothing is stored"
		case kindConnect:
			return "streamed to the node or service; nothing is stored"
		case kindLog:
			return "read from the node, not from storage"
		}
	}
	return ""
}

// outcome is where a request stopped and what the evidence was.
type outcome struct {
	stop     string // stage name, "" when completed
	inferred bool   // the stop itself was deduced
	detail   string // the rejected stage's detail
	reason   string // one line
	// validatedFirst: a validating-admission rejection, after validation.
	validatedFirst bool
	// phaseUnknown: an admission rejection that may come from either
	// phase (a webhook's message does not say whether it is mutating).
	phaseUnknown bool
	// skipPriority: rejected before priority and fairness (impersonation).
	skipPriority bool
	// beforeAdmission: the handler refused the request (bad body or
	// parameters) before admission ran.
	beforeAdmission bool
	// user is the user name the server reported (RBAC message).
	user string
}

// Journey fills a's Stages, StoppedAt, Reason, Denial, Admission, Causes
// and Persisted from a response: its status code, headers, content type
// and (decompressed) body, JSON or protobuf. status 0 means no response
// arrived. ann is the request's classification.
func Journey(a *record.Auth, ann record.Annotation, status int, respHeader http.Header, contentType string, body []byte) {
	if a == nil {
		return
	}
	a.Denial, a.Admission, a.Causes, a.Persisted = nil, nil, nil, nil
	a.Stages = a.Stages[:0]
	k := kindOf(ann)
	pf := respHeader.Get(HeaderFlowSchemaUID) != "" || respHeader.Get(HeaderPriorityLevelUID) != ""

	if status == 0 {
		a.StoppedAt = record.StoppedNoResponse
		a.Reason = "no response from the API server"
		for _, name := range stageOrder {
			a.Stages = append(a.Stages, record.Stage{Name: name, Status: record.NotReached})
		}
		return
	}

	var st *metav1.Status
	if status >= 300 || bytes.Contains(body, []byte("Status")) {
		// A success is a Status only when it says so (a delete's answer);
		// decoding every object to find out costs more than a look.
		st = codec.DecodeStatus(contentType, body)
	}
	o := classifyOutcome(a, ann, k, status, st, body)
	if st != nil && st.Details != nil {
		for _, c := range st.Details.Causes {
			a.Causes = append(a.Causes, record.Cause{Type: string(c.Type), Field: c.Field, Message: c.Message})
		}
	}
	a.StoppedAt, a.Reason = o.stop, o.reason

	stopIdx := len(stageOrder)
	for i, name := range stageOrder {
		if name == o.stop {
			stopIdx = i
		}
	}
	for i, name := range stageOrder {
		s := record.Stage{Name: name}
		na := notApplicable(k, name)
		switch {
		case i == stopIdx:
			s.Status, s.Inferred, s.Detail = record.Rejected, o.inferred, o.detail
		case na != "":
			s.Status, s.Detail = record.NotApplicable, na
		case name == record.StagePriority && o.skipPriority:
			s.Status, s.Detail = record.NotReached, "impersonation is checked before priority and fairness"
		case name == record.StageAdmission && o.beforeAdmission:
			s.Status, s.Detail = record.NotReached, "the handler refused the request before admission"
		case name == record.StageValidation && o.validatedFirst:
			s.Status, s.Inferred, s.Detail = record.Passed, true, "objects are validated before validating admission runs"
		case name == record.StageValidation && o.phaseUnknown:
			s.Status, s.Inferred, s.Detail = record.Passed, true,
				"if the webhook is a validating one (most that deny are), the object was validated before it; a mutating webhook denies before validation, and the message does not say which"
		case i > stopIdx:
			s.Status = record.NotReached
		default:
			s.Status = record.Passed
			s.Inferred, s.Detail = passedEvidence(name, k, ann, pf, o, status)
		}
		a.Stages = append(a.Stages, s)
	}
	if o.stop == "" && status < 300 && (k == kindWrite || k == kindDelete) {
		persisted := !ann.DryRun
		a.Persisted = &persisted
		if ann.DryRun {
			for i := range a.Stages {
				if a.Stages[i].Name == record.StageStorage {
					a.Stages[i] = record.Stage{Name: record.StageStorage, Status: record.NotApplicable, Detail: "dry run: not persisted"}
				}
			}
		}
	}
}

// passedEvidence says whether a passed stage was observed, and how.
func passedEvidence(stage string, k requestKind, ann record.Annotation, pf bool, o outcome, status int) (inferred bool, detail string) {
	switch stage {
	case record.StageAuthentication:
		switch {
		case o.user != "":
			return false, fmt.Sprintf("the server named the user %q", o.user)
		case pf:
			return false, "priority and fairness classified the request, which it does only after authentication"
		}
		return true, "the server answered; a failed authentication is a 401"
	case record.StagePriority:
		if pf {
			return false, "classified (X-Kubernetes-Pf-* headers)"
		}
		return true, "no X-Kubernetes-Pf-* headers: the server may run without priority and fairness"
	case record.StageAuthorization:
		if !ann.ResourceRequest {
			return true, "allowed to " + ann.Verb + " path " + ann.Path
		}
		return true, "allowed; a denial is a 403 naming the user"
	case record.StageAdmission:
		if k == kindConnect {
			return true, "no admission plugin objected to the connection"
		}
		if o.stop == record.StageValidation {
			return true, "mutating admission passed; validating admission runs after validation"
		}
		return true, "no admission plugin or webhook objected"
	case record.StageValidation:
		return true, "the object was valid"
	case record.StageStorage:
		if status == http.StatusSwitchingProtocols {
			return false, "switched protocols"
		}
		switch k {
		case kindRead:
			return false, "read"
		case kindDelete:
			return false, "deleted"
		}
		return false, "stored"
	}
	return true, ""
}

var (
	// The authorizer's 403 (responsewriters.forbiddenMessage), after the
	// "<resource> is forbidden: " prefix of apierrors.NewForbidden.
	rbacResource = regexp.MustCompile(`User ("(?:[^"\\]|\\.)*") cannot (\S+) resource ("(?:[^"\\]|\\.)*") in API group ("(?:[^"\\]|\\.)*") (?:in the namespace ("(?:[^"\\]|\\.)*")|at the cluster scope)(?:: (.*))?$`)
	rbacPath     = regexp.MustCompile(`User ("(?:[^"\\]|\\.)*") cannot (\S+) path ("(?:[^"\\]|\\.)*")(?:: (.*))?$`)

	webhookDenied  = regexp.MustCompile(`admission webhook ("(?:[^"\\]|\\.)*") denied the request`)
	webhookFailed  = regexp.MustCompile(`failed calling webhook ("(?:[^"\\]|\\.)*")`)
	policyBinding  = regexp.MustCompile(`(ValidatingAdmissionPolicy|MutatingAdmissionPolicy|policy) '([^']*)'(?: with binding '([^']*)')? denied request`)
	quotaExceeded  = regexp.MustCompile(`(?:exceeded quota|failed quota): ([^,:]+)`)
	podSecurity    = regexp.MustCompile(`violates PodSecurity ("(?:[^"\\]|\\.)*")`)
	nsTerminating  = regexp.MustCompile(`in namespace (\S+) because it is being terminated`)
	limitRange     = regexp.MustCompile(`(?:maximum|minimum) \S+ usage per (?:Container|Pod)|must be less than or equal to \S+ limit|limitrange`)
	saLookupFailed = regexp.MustCompile(`error looking up service account (\S+)`)
)

// htmlUnescape undoes the API server's sanitising of forbidden messages.
var htmlUnescape = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return strings.Trim(s, `"`)
}

// ParseDenial parses an authorizer's 403 message; nil when msg is not one.
func ParseDenial(msg string) *record.Denial {
	msg = htmlUnescape.Replace(msg)
	if m := rbacResource.FindStringSubmatch(msg); m != nil {
		d := &record.Denial{User: unquote(m[1]), Verb: m[2], APIGroup: unquote(m[4]), Reason: m[6]}
		d.Resource, d.Subresource, _ = strings.Cut(unquote(m[3]), "/")
		if m[5] != "" {
			d.Namespace = unquote(m[5])
		} else {
			d.Cluster = true
		}
		return d
	}
	if m := rbacPath.FindStringSubmatch(msg); m != nil {
		return &record.Denial{User: unquote(m[1]), Verb: m[2], Path: unquote(m[3]), Reason: m[4]}
	}
	return nil
}

// ParseAdmission recognises an admission rejection in a Status message;
// nil when msg is not one.
func ParseAdmission(msg string) *record.AdmissionRejection {
	switch {
	case webhookDenied.MatchString(msg):
		return &record.AdmissionRejection{Kind: "webhook", Name: unquote(webhookDenied.FindStringSubmatch(msg)[1]), Message: msg}
	case webhookFailed.MatchString(msg):
		return &record.AdmissionRejection{Kind: "webhook", Name: unquote(webhookFailed.FindStringSubmatch(msg)[1]), Message: msg}
	case policyBinding.MatchString(msg):
		m := policyBinding.FindStringSubmatch(msg)
		return &record.AdmissionRejection{Kind: "policy", Name: m[2], Binding: m[3], Message: msg}
	case quotaExceeded.MatchString(msg):
		return &record.AdmissionRejection{Kind: "quota", Name: strings.TrimSpace(quotaExceeded.FindStringSubmatch(msg)[1]), Message: msg}
	case podSecurity.MatchString(msg):
		return &record.AdmissionRejection{Kind: "pod-security", Name: unquote(podSecurity.FindStringSubmatch(msg)[1]), Message: msg}
	case nsTerminating.MatchString(msg):
		return &record.AdmissionRejection{Kind: "namespace-lifecycle", Name: "NamespaceLifecycle", Message: msg}
	case limitRange.MatchString(msg):
		return &record.AdmissionRejection{Kind: "plugin", Name: "LimitRanger", Message: msg}
	case saLookupFailed.MatchString(msg):
		return &record.AdmissionRejection{Kind: "plugin", Name: "ServiceAccount", Message: msg}
	}
	return nil
}

// validatingPhase reports whether the rejection comes from the validating
// phase of admission, which runs after object validation.
func validatingPhase(r *record.AdmissionRejection) bool {
	switch r.Kind {
	case "quota", "pod-security":
		return true
	case "policy":
		return !strings.HasPrefix(r.Message, "MutatingAdmissionPolicy")
	}
	return false
}

func admissionDetail(r *record.AdmissionRejection) string {
	switch r.Kind {
	case "webhook":
		return fmt.Sprintf("webhook %q", r.Name)
	case "policy":
		if r.Binding != "" {
			return fmt.Sprintf("policy %q (binding %q)", r.Name, r.Binding)
		}
		return fmt.Sprintf("policy %q", r.Name)
	case "quota":
		return fmt.Sprintf("ResourceQuota %q", r.Name)
	case "pod-security":
		return fmt.Sprintf("PodSecurity %q", r.Name)
	case "namespace-lifecycle":
		return "NamespaceLifecycle: the namespace is being terminated"
	}
	if r.Name != "" {
		return "plugin " + r.Name
	}
	return "an admission plugin"
}

// classifyOutcome works out where a response stopped.
func classifyOutcome(a *record.Auth, ann record.Annotation, k requestKind, status int, st *metav1.Status, body []byte) outcome {
	msg, reason := "", metav1.StatusReason("")
	if st != nil {
		msg, reason = st.Message, st.Reason
	} else if status >= 400 {
		msg = firstLine(body)
	}
	if status < 400 {
		return outcome{}
	}
	o := outcome{reason: msg}

	if status == http.StatusUnauthorized {
		o.stop, o.detail = record.StageAuthentication, "401 Unauthorized: the server did not accept the credentials"
		if a.Method == MethodAnonymous {
			o.detail = "401 Unauthorized: the server does not accept anonymous requests"
		}
		return o
	}
	if d := ParseDenial(msg); d != nil && status == http.StatusForbidden {
		a.Denial = d
		o.stop, o.user = record.StageAuthorization, d.User
		o.detail = denialDetail(d)
		// "impersonate", or with constrained impersonation (Kubernetes
		// 1.35+) "impersonate-on:user-info:list" and the like.
		if strings.HasPrefix(d.Verb, "impersonate") {
			o.skipPriority = true
			o.detail = "impersonation denied: " + o.detail
		}
		return o
	}
	if status == http.StatusTooManyRequests && (st == nil || reason == metav1.StatusReasonTooManyRequests && ann.Subresource != "eviction") {
		o.stop, o.detail = record.StagePriority, "429 Too Many Requests: priority and fairness rejected the request"
		return o
	}
	if r := ParseAdmission(msg); r != nil {
		a.Admission = r
		o.stop, o.detail = record.StageAdmission, "rejected by "+admissionDetail(r)
		o.validatedFirst = validatingPhase(r) && notApplicable(k, record.StageValidation) == ""
		o.phaseUnknown = r.Kind == "webhook" && notApplicable(k, record.StageValidation) == ""
		return o
	}
	switch {
	case status == http.StatusUnprocessableEntity || reason == metav1.StatusReasonInvalid:
		o.stop, o.detail = record.StageValidation, "422 Invalid: the object failed validation"
	case reason == metav1.StatusReasonAlreadyExists:
		o.stop, o.detail = record.StageStorage, "409 AlreadyExists: an object with this name exists"
	case status == http.StatusConflict || reason == metav1.StatusReasonConflict:
		o.stop, o.detail = record.StageStorage, "409 Conflict: the object changed since it was read"
	case status == http.StatusNotFound:
		switch {
		case st != nil && st.Details != nil && st.Details.Kind == "namespaces" && ann.Resource != "namespaces" && (k == kindWrite || k == kindDelete || k == kindComputed):
			a.Admission = &record.AdmissionRejection{Kind: "namespace-lifecycle", Name: "NamespaceLifecycle", Message: msg}
			o.stop, o.detail = record.StageAdmission, "rejected by NamespaceLifecycle: the namespace does not exist"
		case ann.Name != "" && st != nil && st.Details != nil && st.Details.Name != "":
			o.stop, o.detail = record.StageStorage, "404 NotFound: no such object"
		default:
			o.stop, o.inferred, o.detail = record.StageStorage, true, "404 NotFound: no such resource or path"
		}
	case status == http.StatusGone || reason == metav1.StatusReasonExpired || reason == metav1.StatusReasonGone:
		o.stop, o.detail = record.StageStorage, "410 Gone: the resource version is too old"
	case status == http.StatusTooManyRequests:
		o.stop, o.detail = record.StageStorage, "429 from the handler (e.g. an eviction blocked by a PodDisruptionBudget)"
	case status == http.StatusForbidden:
		a.Admission = &record.AdmissionRejection{Kind: "plugin", Message: msg}
		o.stop, o.inferred, o.detail = record.StageAdmission, true, "403 without an authorizer's message: an admission plugin refused"
	case status == http.StatusBadRequest || status == http.StatusMethodNotAllowed || status == http.StatusNotAcceptable ||
		status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType:
		o.stop, o.inferred, o.beforeAdmission = record.StageValidation, true, true
		o.detail = fmt.Sprintf("%d %s: the handler refused the request before admission", status, http.StatusText(status))
	default:
		o.stop, o.inferred = record.StageStorage, true
		o.detail = fmt.Sprintf("%d %s: the handler failed after authorization", status, http.StatusText(status))
	}
	return o
}

func denialDetail(d *record.Denial) string {
	who := fmt.Sprintf("%q may not %s", d.User, d.Verb)
	switch {
	case d.Path != "":
		return who + " path " + d.Path
	case d.Cluster:
		return who + " " + resourceName(d) + " at the cluster scope"
	default:
		return who + " " + resourceName(d) + " in namespace " + d.Namespace
	}
}

func resourceName(d *record.Denial) string {
	r := d.Resource
	if d.Subresource != "" {
		r += "/" + d.Subresource
	}
	if d.APIGroup != "" {
		r += "." + d.APIGroup
	}
	return r
}

// firstLine is the first line of a plain-text body, at most 200 bytes.
func firstLine(body []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(body), []byte("\n"))
	if len(line) > 200 {
		line = line[:200]
	}
	return string(line)
}
