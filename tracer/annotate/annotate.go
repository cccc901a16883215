// Package annotate works out, in one place, everything kubewire says about
// an exchange: how the API server's own parser reads the request (verb,
// group, version, resource, scope), who it was sent as, how far it got
// through the server's stages and why it stopped, the server's signals, and
// how it ended. It annotates an exchange from any source the same way: a
// live capture (before the request goes upstream, then when the response
// comes), a recording (filling in what the file lacks), later an import.
//
// What may be drawn on besides the exchange are the inputs of a Config:
// the server's discovery (or recorded discovery, or the built-in table) for
// scopes, the traced context's identity, and the names of priority and
// fairness objects. The API server's audit event, when found, is folded in
// by Audit.
package annotate

import (
	"net/http"
	"net/url"

	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/record"
)

// Config is what an Annotator draws on besides the exchange.
type Config struct {
	// Prefix is the path prefix of the API server's URL ("/k8s" for
	// https://host/k8s), "" for none.
	Prefix string
	// Scopes say which resources are namespaced, asked in order (the live
	// server's discovery, recorded discovery); the built-in table is always
	// asked last.
	Scopes []classify.ScopeSource
	// Kubeconfig is the identity of the traced context's credentials
	// (auth.DescribeConfig): requests kubewire sends with them are sent as
	// it. Nil when unknown.
	Kubeconfig *record.Auth
	// Flows names priority and fairness objects; nil leaves their UIDs.
	Flows auth.FlowNames
}

// Annotator annotates exchanges with one Config.
type Annotator struct {
	cfg        Config
	classifier *classify.Classifier
}

// New returns an Annotator for c.
func New(c Config) *Annotator {
	scopes := append(append([]classify.ScopeSource(nil), c.Scopes...), classify.Builtin())
	return &Annotator{cfg: c, classifier: classify.New(c.Prefix, scopes...)}
}

// SetFlows sets the names of priority and fairness objects, once they can
// be looked up (the lookup itself goes through kubewire and is annotated).
func (a *Annotator) SetFlows(f auth.FlowNames) { a.cfg.Flows = f }

// Request annotates what is known before the request goes upstream: how
// the API server reads u (the URL as sent to the server) and who the
// request is sent as. clientHeader holds the client's headers as sent,
// credentials included; clientOwnsAuth says the client's own Authorization
// goes upstream, rather than the kubeconfig's credentials.
func (a *Annotator) Request(x *record.Exchange, u *url.URL, clientHeader http.Header, clientOwnsAuth bool) {
	x.Annotation = a.Classify(x.Request.Method, u, clientHeader)
	x.Annotation.Auth = auth.Identify(clientHeader, clientOwnsAuth, a.cfg.Kubeconfig)
}

// Classify is how the API server's own request parser reads a request
// (method, URL, headers; header may be nil), with the resource's scope:
// the part of the annotation that needs no exchange (kubewire explain).
func (a *Annotator) Classify(method string, u *url.URL, header http.Header) record.Annotation {
	return a.classifier.Classify(method, u, header)
}

// Response completes the annotation once the API server answered, or
// kubewire gave up on it: the journey, the server's signals and how the
// exchange ended. respHeader is the response's (nil without one); body its
// body as recorded, redacted (nil for a stream).
func (a *Annotator) Response(x *record.Exchange, respHeader http.Header, body []byte) {
	status, ct := 0, ""
	if x.Response != nil {
		status, ct = x.Response.Status, respHeader.Get("Content-Type")
	}
	if x.Annotation.Auth == nil {
		x.Annotation.Auth = &record.Auth{Method: auth.MethodUnknown, Source: auth.SourceNone}
	}
	if respHeader != nil {
		x.Annotation.Replayed = record.ReplayedFrom(respHeader)
	}
	// kubewire serve's own 404 for a call it has no answer to passed no
	// stage of any API server: it has no journey to tell.
	if rp := x.Annotation.Replayed; rp == nil || rp.Seq != 0 {
		auth.Journey(x.Annotation.Auth, x.Annotation, status, respHeader, ct, body)
	}
	if respHeader != nil {
		flows := a.cfg.Flows
		if x.Background() {
			// kubewire's own calls include the lookup of these names:
			// resolving them here would wait on that very lookup.
			flows = nil
		}
		x.Annotation.Signals = auth.Signals(respHeader, flows)
	}
	sentAuditID(x)
	x.Annotation.Outcome = Outcome(x)
}

// sentAuditID takes the Audit-Id kubewire sent upstream when the response
// names none: a 101 Switching Protocols (exec, attach, port-forward)
// carries no Audit-Id, yet the API server audited the request under the
// ID kubewire gave it.
func sentAuditID(x *record.Exchange) {
	up := x.Request.Upstream
	if x.Response == nil || up == nil || (x.Annotation.Signals != nil && x.Annotation.Signals.AuditID != "") {
		return
	}
	id := up.Headers.Get(auth.HeaderAuditID)
	if id == "" {
		return
	}
	if x.Annotation.Signals == nil {
		x.Annotation.Signals = &record.Signals{}
	}
	x.Annotation.Signals.AuditID = id
}

// Exchange annotates a recorded exchange, filling in what the recording
// lacks and keeping what it says: the capture saw the request's
// credentials before they were redacted, a file does not.
func (a *Annotator) Exchange(x *record.Exchange) {
	ann := x.Annotation
	if ann.Kind == "" {
		if u, err := url.Parse(x.Request.URL); err == nil {
			x.Annotation = a.Classify(x.Request.Method, u, x.Request.Headers)
			x.Annotation.Auth, x.Annotation.Signals = ann.Auth, ann.Signals
		}
	}
	// A recording without a journey keeps none: the headers it kept are
	// redacted, so who sent the request can no longer be told, and the
	// views say the journey is unknown rather than guess it.
	if a := x.Annotation.Auth; a != nil && len(a.Stages) == 0 && a.Method != "" && (x.Response != nil || x.Error != nil) {
		var h http.Header
		var body []byte
		if x.Response != nil {
			h = x.Response.Headers
			if x.Response.Body != nil && !x.Response.Body.Truncated {
				body = x.Response.Body.Data()
			}
		}
		auth.Journey(a, x.Annotation, statusOf(x), h, h.Get("Content-Type"), body)
	}
	if x.Annotation.Signals == nil && x.Response != nil && x.Response.Headers != nil {
		x.Annotation.Signals = auth.Signals(x.Response.Headers, nil)
	}
	if x.Annotation.Replayed == nil && x.Response != nil {
		x.Annotation.Replayed = record.ReplayedFrom(x.Response.Headers)
	}
	sentAuditID(x)
	if a := x.Annotation.Auth; a != nil && a.Audit != nil {
		Audit(x, a.Audit)
	}
	x.Annotation.Outcome = Outcome(x)
}

func statusOf(x *record.Exchange) int {
	if x.Response != nil {
		return x.Response.Status
	}
	return 0
}

// Audit folds the API server's audit event for x in. The server's own
// decision makes the authorization stage observed, no longer inferred; its
// user name settles who the request authenticated as when kubewire could
// not tell from the credential (an opaque token, an exec plugin).
func Audit(x *record.Exchange, ev *record.AuditEvent) {
	if x.Annotation.Auth == nil {
		x.Annotation.Auth = &record.Auth{}
	}
	a := x.Annotation.Auth
	a.Audit = ev
	if a.User == "" && ev.User != "" {
		a.User, a.Groups, a.Source = ev.User, ev.Groups, auth.SourceAuditLog
	}
	for i := range a.Stages {
		st := &a.Stages[i]
		switch {
		case st.Name == record.StageAuthentication && ev.User != "" && st.Status == record.Passed:
			st.Inferred = false
		case st.Name == record.StageAuthorization && ev.Decision != "":
			st.Inferred = false
			if ev.DecisionReason != "" {
				st.Detail = ev.Decision + ": " + ev.DecisionReason
			} else {
				st.Detail = ev.Decision
			}
		}
	}
}

// Outcome says how x ended (record.Outcome*), from its response or error
// and its journey; "" while it is under way.
func Outcome(x *record.Exchange) string {
	switch {
	case x.Error != nil:
		return record.OutcomeNoResponse
	case x.Response == nil:
		return ""
	}
	au, code := x.Annotation.Auth, x.Response.Status
	switch {
	case au != nil && au.StoppedAt != "":
		return record.OutcomeRejected
	case code >= 400:
		return record.OutcomeFailed
	case code >= 300:
		return record.OutcomeRedirected
	case au != nil && au.Persisted != nil && !*au.Persisted:
		return record.OutcomeDryRun
	case x.Annotation.Upgrade != "" || code == http.StatusSwitchingProtocols:
		return record.OutcomeUpgraded
	case x.Annotation.ResourceRequest && isWrite(x.Annotation.Verb) && !storageNotApplicable(au):
		return record.OutcomeStored
	case x.Annotation.ResourceRequest && isWrite(x.Annotation.Verb):
		return record.OutcomeAnswered
	}
	return record.OutcomeServed
}

// storageNotApplicable reports whether the journey says nothing is stored
// for such a request (one the server answers by computing).
func storageNotApplicable(au *record.Auth) bool {
	if au == nil {
		return false
	}
	for _, st := range au.Stages {
		if st.Name == record.StageStorage {
			return st.Status == record.NotApplicable
		}
	}
	return false
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}
