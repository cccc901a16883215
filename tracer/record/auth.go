package record

import "time"

// Stage names, in the order the API server runs them.
const (
	StageAuthentication = "authentication"
	StagePriority       = "priority-and-fairness"
	StageAuthorization  = "authorization"
	StageAdmission      = "admission"
	StageValidation     = "validation"
	StageStorage        = "storage"
)

// StoppedNoResponse is the StoppedAt value of a request the API server
// never answered (a connection, TLS or upstream error): as far as kubewire
// knows, no stage ran. It never appears in Stages.
const StoppedNoResponse = "no-response"

// Stage outcomes.
const (
	Passed        = "passed"
	Rejected      = "rejected"
	NotApplicable = "not-applicable"
	NotReached    = "not-reached"
)

// Auth is the request's journey through the API server: who it was sent as,
// and how far it got. What kubewire deduced rather than observed is marked
// Inferred.
type Auth struct {
	// Method is how the request authenticated: "x509", "serviceaccount"
	// (a ServiceAccount JWT), "oidc" (another JWT), "token" (opaque bearer
	// token), "exec" (a credential plugin), "basic", "anonymous", "unknown".
	Method string `json:"method"`
	// User is the user name, when known.
	User string `json:"user,omitempty"`
	// Groups are the user's groups, when known.
	Groups []string `json:"groups,omitempty"`
	// Source says where User and Groups come from: "certificate",
	// "token-claims", "audit-log", "server" (SelfSubjectReview), "none".
	Source string `json:"source,omitempty"`
	// Origin is "client" when the client's own credentials went upstream, or
	// "kubeconfig" when kubewire sent the kubeconfig's credentials for it.
	Origin string `json:"origin,omitempty"`
	// Credential describes the credential without its secret.
	Credential *Credential `json:"credential,omitempty"`
	// Impersonation is set when Impersonate-* headers were sent.
	Impersonation *Impersonation `json:"impersonation,omitempty"`

	// StoppedAt is the stage that rejected the request; "" when it
	// completed.
	StoppedAt string `json:"stoppedAt"`
	// Reason says in one line why it stopped.
	Reason string `json:"reason,omitempty"`
	// Stages lists every stage with its outcome, in server order.
	Stages []Stage `json:"stages"`
	// Denial is the parsed authorization denial.
	Denial *Denial `json:"denial,omitempty"`
	// Admission names what rejected the request at admission.
	Admission *AdmissionRejection `json:"admission,omitempty"`
	// Causes are the field causes of a validation (422) or other Status.
	Causes []Cause `json:"causes,omitempty"`
	// Persisted is false for a successful write that was a dry run.
	Persisted *bool `json:"persisted,omitempty"`
	// Audit is the API server's own audit event for the request, when its
	// audit log was readable.
	Audit *AuditEvent `json:"audit,omitempty"`
}

// Stage is one stage of the API server's request flow.
type Stage struct {
	// Name is one of the Stage* constants.
	Name string `json:"name"`
	// Status is one of Passed, Rejected, NotApplicable, NotReached.
	Status string `json:"status"`
	// Inferred is true when kubewire deduced the outcome instead of seeing
	// evidence of it.
	Inferred bool `json:"inferred,omitempty"`
	// Detail explains the outcome briefly.
	Detail string `json:"detail,omitempty"`
}

// Credential describes a credential; it never holds the secret itself.
type Credential struct {
	// Subject, Issuer, NotAfter describe an x509 client certificate.
	Subject  string    `json:"subject,omitempty"`
	Issuer   string    `json:"issuer,omitempty"`
	NotAfter time.Time `json:"notAfter,omitzero"`
	// TokenIssuer, Audience, Expiry, Subject-like claims of a JWT.
	TokenIssuer string `json:"tokenIssuer,omitempty"`
	// TokenSubject is the JWT's "sub" claim.
	TokenSubject string    `json:"tokenSubject,omitempty"`
	Audience     []string  `json:"audience,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// ServiceAccount is NAMESPACE/NAME for ServiceAccount tokens.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// BoundTo names the object a bound token is tied to, e.g. "pod/web-1".
	BoundTo []string `json:"boundTo,omitempty"`
	// Plugin is the exec credential plugin's command.
	Plugin string `json:"plugin,omitempty"`
	// Note says what kubewire could not tell from the credential alone,
	// e.g. that an OIDC user name depends on the server's settings.
	Note string `json:"note,omitempty"`
}

// Impersonation is who a request impersonated, and who did it.
type Impersonation struct {
	User   string   `json:"user,omitempty"`
	Groups []string `json:"groups,omitempty"`
	UID    string   `json:"uid,omitempty"`
	// By is the authenticated user doing the impersonating, when known.
	By string `json:"by,omitempty"`
}

// Denial is an authorization denial parsed from the 403 message.
type Denial struct {
	User        string `json:"user,omitempty"`
	Verb        string `json:"verb,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	APIGroup    string `json:"apiGroup"`
	Namespace   string `json:"namespace,omitempty"`
	// Cluster is true for "at the cluster scope".
	Cluster bool `json:"cluster,omitempty"`
	// Path is set for non-resource denials ("cannot get path /x").
	Path string `json:"path,omitempty"`
	// Reason is the authorizer's reason, when the message gave one.
	Reason string `json:"reason,omitempty"`
}

// AdmissionRejection names what rejected a request at admission.
type AdmissionRejection struct {
	// Kind is "webhook", "policy" (ValidatingAdmissionPolicy), "quota",
	// "pod-security", "namespace-lifecycle" or "plugin".
	Kind string `json:"kind"`
	// Name is the webhook, policy or plugin name.
	Name string `json:"name,omitempty"`
	// Binding is the ValidatingAdmissionPolicyBinding, for policies.
	Binding string `json:"binding,omitempty"`
	// Message is the server's message.
	Message string `json:"message,omitempty"`
}

// Cause is one cause of a Status, e.g. a field that failed validation.
type Cause struct {
	Type    string `json:"type,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message,omitempty"`
}

// AuditEvent is the part of the API server's audit event kubewire keeps.
type AuditEvent struct {
	AuditID   string     `json:"auditID"`
	Stage     string     `json:"stage,omitempty"`
	User      string     `json:"user,omitempty"`
	Groups    []string   `json:"groups,omitempty"`
	Verb      string     `json:"verb,omitempty"`
	ObjectRef *ObjectRef `json:"objectRef,omitempty"`
	Code      int        `json:"code,omitempty"`
	// Decision and DecisionReason are the authorization.k8s.io/decision and
	// authorization.k8s.io/reason annotations.
	Decision       string `json:"decision,omitempty"`
	DecisionReason string `json:"decisionReason,omitempty"`
	// Impersonated is the impersonated user, when any.
	Impersonated string `json:"impersonated,omitempty"`
}

// ObjectRef is the audit event's object reference.
type ObjectRef struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

// Signals are what the API server says about a request besides its body.
type Signals struct {
	// AuditID is the Audit-Id response header (kubewire sets the request's
	// own, so it matches the audit log).
	AuditID string `json:"auditID,omitempty"`
	// FlowSchema and PriorityLevel are the API Priority and Fairness
	// classification, by name when resolved, else by UID.
	FlowSchema    string `json:"flowSchema,omitempty"`
	PriorityLevel string `json:"priorityLevel,omitempty"`
	// FlowNote says why FlowSchema or PriorityLevel is a UID, not a name.
	FlowNote string `json:"flowNote,omitempty"`
	// Warnings are the Warning headers.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning is one Warning response header.
type Warning struct {
	Code  int    `json:"code"`
	Agent string `json:"agent,omitempty"`
	Text  string `json:"text"`
	// Replacement is the suggested API version of a deprecation warning.
	Replacement string `json:"replacement,omitempty"`
}
