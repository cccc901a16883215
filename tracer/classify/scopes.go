package classify

import (
	"context"
	"fmt"
	"strings"
	"sync"

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

// Lazy is a scope source that builds its table on first use, once, so a
// proxy asks the server only when the first resource request arrives.
type Lazy struct {
	name  string
	load  func() (*Table, error)
	once  sync.Once
	table *Table
	err   error
}

// NewLazy returns a scope source that calls load once, on first use.
func NewLazy(name string, load func() (*Table, error)) *Lazy {
	return &Lazy{name: name, load: load}
}

// Name implements ScopeSource.
func (l *Lazy) Name() string { return l.name }

// Namespaced implements ScopeSource.
func (l *Lazy) Namespaced(group, resource string) (bool, bool) {
	l.once.Do(func() { l.table, l.err = l.load() })
	if l.table == nil {
		return false, false
	}
	return l.table.Namespaced(group, resource)
}

// Err returns the error of the load, if any, after first use.
func (l *Lazy) Err() error { return l.err }
