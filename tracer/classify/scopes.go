package classify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/discovery"
)

// Table is a scope source backed by a fixed map from "group/resource" to
// whether the resource is namespaced.
type Table struct {
	name string
	m    map[string]bool
}

// NewTable returns a scope source named name over m, whose keys are
// "group/resource" ("" group for core: "/pods").
func NewTable(name string, m map[string]bool) *Table { return &Table{name: name, m: m} }

// Name implements ScopeSource.
func (t *Table) Name() string { return t.name }

// Namespaced implements ScopeSource.
func (t *Table) Namespaced(group, resource string) (bool, bool) {
	ns, ok := t.m[group+"/"+resource]
	return ns, ok
}

// Len is the number of resources in the table.
func (t *Table) Len() int { return len(t.m) }

// Builtin is the table of the built-in resources of the Kubernetes version
// named by BuiltinVersion, generated from that server's discovery.
func Builtin() *Table { return NewTable("builtin", builtinScopes) }

// BuiltinVersion is the Kubernetes version the builtin table was generated
// from.
func BuiltinVersion() string { return builtinVersion }

// Discover reads the scope of every resource a live server serves. Groups
// that fail to answer (an unavailable aggregated API) are left out; the
// error reports them, and the table holds everything else.
func Discover(ctx context.Context, dc discovery.DiscoveryInterface) (*Table, error) {
	_, lists, err := dc.ServerGroupsAndResources()
	m := map[string]bool{}
	for _, l := range lists {
		group := ""
		if i := strings.Index(l.GroupVersion, "/"); i >= 0 {
			group = l.GroupVersion[:i]
		}
		for _, r := range l.APIResources {
			name := r.Name
			if j := strings.Index(name, "/"); j >= 0 {
				continue // subresources take their parent's scope
			}
			m[group+"/"+name] = r.Namespaced
		}
	}
	if len(m) == 0 && err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return NewTable("discovery", m), err
}

// Lazy is a scope source that builds its table on first use, so a proxy
// asks the server only when the first resource request arrives, and builds
// it again when it failed or lacks a resource asked about (a CRD created
// during the session), at most once every Retry. Callers wait for a load
// under way: kubewire asks from its capture pipeline, never from the path
// that relays bytes to the client.
type Lazy struct {
	name string
	load func() (*Table, error)
	// Retry is the least time between two loads; default 10 s.
	Retry time.Duration

	mu      sync.Mutex
	table   *Table
	err     error
	last    time.Time     // when the last load began
	loading chan struct{} // closed when the load under way ends
	loaded  bool
}

// NewLazy returns a scope source that calls load on first use, and again
// when needed.
func NewLazy(name string, load func() (*Table, error)) *Lazy {
	return &Lazy{name: name, load: load, Retry: 10 * time.Second}
}

// Name implements ScopeSource.
func (l *Lazy) Name() string { return l.name }

// Namespaced implements ScopeSource.
func (l *Lazy) Namespaced(group, resource string) (bool, bool) {
	t := l.get(false)
	if t != nil {
		if ns, ok := t.Namespaced(group, resource); ok {
			return ns, true
		}
	}
	// Not known: the load failed, or the resource is new.
	if fresh := l.get(true); fresh != nil && fresh != t {
		return fresh.Namespaced(group, resource)
	}
	return false, false
}

// get returns the table, loading it on first use; again says the table
// lacks what was asked, which loads it anew unless that was done less
// than Retry ago.
func (l *Lazy) get(again bool) *Table {
	l.mu.Lock()
	if w := l.loading; w != nil {
		l.mu.Unlock()
		<-w
		l.mu.Lock()
		t := l.table
		l.mu.Unlock()
		return t
	}
	if l.loaded && (!again || time.Since(l.last) < l.Retry) {
		t := l.table
		l.mu.Unlock()
		return t
	}
	w := make(chan struct{})
	l.loading, l.last = w, time.Now()
	l.mu.Unlock()

	t, err := l.load()
	l.mu.Lock()
	if t != nil || l.table == nil {
		l.table = t
	}
	l.err, l.loaded, l.loading = err, true, nil
	t = l.table
	l.mu.Unlock()
	close(w)
	return t
}

// Err returns the error of the last load, if any, after first use.
func (l *Lazy) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
