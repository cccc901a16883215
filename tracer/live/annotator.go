package live

import (
	"context"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/proxy"
	"github.com/kubewire/kubewire/tracer/record"
)

// auditWait is how long kubewire looks for a call's audit event after the
// call ended; the API server writes it as the response completes.
const auditWait = 5 * time.Second

// Annotator fills in each exchange's journey with tracer/auth: identity
// before the request goes upstream, stages and server signals when the
// response arrives, and, when the API server's audit log is readable, its
// audit event as a later "audit" line.
type Annotator struct {
	kubeconfig *record.Auth
	names      auth.FlowNames
	audit      *auth.AuditLog
	sink       record.Sink

	mu      sync.Mutex
	pending sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	closed  bool
}

// NewAnnotator describes the target's credentials, resolves APF names
// through own (kubewire's own, recorded calls), and follows auditLog when it
// is not "".
func NewAnnotator(t *proxy.Target, own *rest.Config, auditLog string, sink record.Sink) (*Annotator, error) {
	a := &Annotator{kubeconfig: auth.DescribeConfig(t.Config), sink: sink}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	if cs, err := kubernetes.NewForConfig(own); err == nil {
		a.names = auth.NewFlowNames(cs)
	}
	if auditLog != "" {
		l, err := auth.OpenAuditLog(auditLog)
		if err != nil {
			return nil, err
		}
		a.audit = l
	}
	return a, nil
}

// Warm learns the flow-schema names in the background, so the first traced
// call does not wait for them. Call it once the proxy holds the annotator:
// the lookup is itself recorded, and annotated.
func (a *Annotator) Warm() {
	if a.names != nil {
		go a.names.Names("", "")
	}
}

// Request implements proxy.Annotator.
func (a *Annotator) Request(x *record.Exchange, clientHeader http.Header, clientOwnsAuth bool) {
	x.Annotation.Auth = auth.Identify(clientHeader, clientOwnsAuth, a.kubeconfig)
}

// Response implements proxy.Annotator.
func (a *Annotator) Response(x *record.Exchange, h http.Header, body []byte) {
	status, ct := 0, ""
	if x.Response != nil {
		status, ct = x.Response.Status, h.Get("Content-Type")
	}
	auth.Journey(x.Annotation.Auth, x.Annotation, status, h, ct, body)
	if h != nil {
		names := a.names
		if x.Background() {
			// kubewire's own calls include the lookup of these names:
			// resolving them here would wait on that very lookup.
			names = nil
		}
		x.Annotation.Signals = auth.Signals(h, names)
	}
}

// Recorded implements proxy.Annotator: once the exchange is written, look
// for its audit event and write it as an "audit" line.
func (a *Annotator) Recorded(x *record.Exchange) {
	if a.audit == nil || x.Request.Upstream == nil || x.Background() {
		return
	}
	id := x.Request.Upstream.Headers.Get(auth.HeaderAuditID)
	if id == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.pending.Add(1)
	seq := x.Seq
	go func() {
		defer a.pending.Done()
		ctx, cancel := context.WithTimeout(a.ctx, auditWait)
		defer cancel()
		if ev, err := a.audit.Find(ctx, id); err == nil && ev != nil {
			a.sink.Put(record.Line{Type: record.TypeAudit, Seq: seq, Audit: ev})
		}
	}()
}

// Close waits for the audit lookups under way (each bounded by auditWait)
// and stops following the audit log.
func (a *Annotator) Close() error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.pending.Wait()
	a.cancel()
	if a.audit != nil {
		return a.audit.Close()
	}
	return nil
}
