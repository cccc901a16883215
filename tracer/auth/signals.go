package auth

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"

	"github.com/kubewire/kubewire/tracer/record"
)

// HeaderAuditID is the API server's audit ID header, on requests and
// responses.
const HeaderAuditID = "Audit-Id"

// FlowNames resolves API Priority and Fairness UIDs to names.
type FlowNames interface {
	// Names returns the flow schema and priority level names, or the UIDs
	// themselves when they cannot be resolved, and then why.
	Names(flowSchemaUID, priorityLevelUID string) (fs, pl, why string)
}

// deprecatedUse finds the suggested replacement in the API server's
// deprecation warning ("apps/v1beta1 Deployment is deprecated in v1.9+,
// unavailable in v1.16+; use apps/v1 Deployment").
var deprecatedUse = regexp.MustCompile(`; use (\S+)`)

// Signals reads the server's own signals from response headers: Audit-Id,
// the priority and fairness classification (by name through names, which
// may be nil) and Warning headers. It returns nil when there are none.
func Signals(respHeader http.Header, names FlowNames) *record.Signals {
	s := &record.Signals{AuditID: respHeader.Get(HeaderAuditID)}
	fsUID, plUID := respHeader.Get(HeaderFlowSchemaUID), respHeader.Get(HeaderPriorityLevelUID)
	fs, pl, why := fsUID, plUID, ""
	if names != nil && (fs != "" || pl != "") {
		fs, pl, why = names.Names(fs, pl)
	}
	s.FlowSchema, s.PriorityLevel = fs, pl
	if (fsUID != "" && fs == fsUID) || (plUID != "" && pl == plUID) {
		s.FlowNote = why
	}
	if raw := respHeader.Values("Warning"); len(raw) > 0 {
		ws, _ := utilnet.ParseWarningHeaders(raw)
		for _, w := range ws {
			warn := record.Warning{Code: w.Code, Agent: w.Agent, Text: w.Text}
			if m := deprecatedUse.FindStringSubmatch(w.Text); m != nil {
				warn.Replacement = m[1]
			}
			s.Warnings = append(s.Warnings, warn)
		}
	}
	if s.AuditID == "" && s.FlowSchema == "" && s.PriorityLevel == "" && len(s.Warnings) == 0 {
		return nil
	}
	return s
}

// flowNames looks FlowSchemas and PriorityLevelConfigurations up through a
// client and caches them.
type flowNames struct {
	cs      kubernetes.Interface
	timeout time.Duration

	mu     sync.Mutex
	loaded bool
	names  map[string]string // UID -> name, both kinds
	tried  map[string]bool   // unknown UIDs that already caused a refresh
	why    string            // why the last listing failed, or ""
}

// NewFlowNames returns FlowNames that lists FlowSchemas and
// PriorityLevelConfigurations through cs on first use, caches them, and
// lists again at most once for each UID it does not know. A UID it cannot
// resolve (no permission to list, an API server without flowcontrol/v1)
// stays a UID.
func NewFlowNames(cs kubernetes.Interface) FlowNames {
	return &flowNames{cs: cs, timeout: 5 * time.Second, names: map[string]string{}, tried: map[string]bool{}}
}

func (f *flowNames) Names(fsUID, plUID string) (string, string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loaded {
		f.loaded = true
		f.refresh()
	}
	for _, uid := range []string{fsUID, plUID} {
		if uid != "" && f.names[uid] == "" && !f.tried[uid] {
			f.tried[uid] = true
			f.refresh()
		}
	}
	why := f.why
	if why == "" {
		why = "not among the flow schemas and priority levels listed"
	}
	return f.name(fsUID), f.name(plUID), why
}

func (f *flowNames) name(uid string) string {
	if n := f.names[uid]; n != "" {
		return n
	}
	return uid
}

// refresh lists both kinds; failures leave the cache as it was and say
// why in f.why.
func (f *flowNames) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	fc := f.cs.FlowcontrolV1()
	f.why = ""
	fail := func(what string, err error) {
		switch {
		case f.why != "":
		case apierrors.IsForbidden(err):
			f.why = "the traced credentials may not list " + what + ", so kubewire cannot name them"
		default:
			f.why = "listing " + what + " failed: " + err.Error()
		}
	}
	if list, err := fc.FlowSchemas().List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range list.Items {
			f.names[string(o.UID)] = o.Name
		}
	} else {
		fail("flowschemas", err)
	}
	if list, err := fc.PriorityLevelConfigurations().List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range list.Items {
			f.names[string(o.UID)] = o.Name
		}
	} else {
		fail("prioritylevelconfigurations", err)
	}
}
