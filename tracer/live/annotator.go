package live

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/record"
)

// auditWait is how long kubewire looks for a call's audit event after the
// call ended; the API server writes it as the response completes.
const auditWait = 5 * time.Second

// auditJoin follows the API server's audit log and, once an exchange is
// recorded, writes its audit event as a later "audit" line
// (proxy.Joiner).
type auditJoin struct {
	audit *auth.AuditLog
	sink  record.Sink

	mu      sync.Mutex
	pending sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	closed  bool
}

// newAuditJoin follows the audit log at path.
func newAuditJoin(path string, sink record.Sink) (*auditJoin, error) {
	l, err := auth.OpenAuditLog(path)
	if err != nil {
		return nil, err
	}
	j := &auditJoin{audit: l, sink: sink}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	return j, nil
}

// flowNames looks up priority and fairness names through own (kubewire's
// own, recorded calls), learning them in the background so the first
// traced call does not wait.
func flowNames(own *rest.Config) auth.FlowNames {
	cs, err := kubernetes.NewForConfig(own)
	if err != nil {
		return nil
	}
	return auth.NewFlowNames(cs)
}

// Recorded implements proxy.Joiner: look for the exchange's audit event
// and write it as an "audit" line.
func (j *auditJoin) Recorded(x *record.Exchange) {
	if x.Request.Upstream == nil || x.Background() {
		return
	}
	id := x.Request.Upstream.Headers.Get(auth.HeaderAuditID)
	if id == "" {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	j.pending.Add(1)
	seq := x.Seq
	go func() {
		defer j.pending.Done()
		ctx, cancel := context.WithTimeout(j.ctx, auditWait)
		defer cancel()
		if ev, err := j.audit.Find(ctx, id); err == nil && ev != nil {
			j.sink.Put(record.Line{Type: record.TypeAudit, Seq: seq, Audit: ev})
		}
	}()
}

// Close waits for the audit lookups under way (each bounded by auditWait)
// and stops following the audit log.
func (j *auditJoin) Close() error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.pending.Wait()
	j.cancel()
	return j.audit.Close()
}
