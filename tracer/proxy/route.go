package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/classify"
	"github.com/kubewire/kubewire/tracer/kubecfg"
)

// A session kubeconfig can name several clusters and users: every context
// of the kubeconfig kubewire loaded, so kubectl --context, --cluster and
// --user and kubectl config use-context work inside a trace. A request is
// routed by the cluster its tunnel was opened to (the CONNECT host) and by
// the user whose placeholder token it carries; a request with any other
// Authorization goes upstream with the client's own credentials.

// route is the way to one cluster as one user.
type route struct {
	target   *kubecfg.Target
	rt, rt11 http.RoundTripper
	ann      *annotate.Annotator
	// parse reads requests as the API server does, without waiting for
	// scopes: what the relay needs to know (a watch, an upgrade).
	parse *classify.Classifier
}

// routeKey names a route.
type routeKey struct{ cluster, user string }

// router holds the routes built so far, one per cluster and user.
type router struct {
	p      *Proxy
	routes kubecfg.Routes
	// current is the cluster of the traced context: its discovery gives
	// scopes; other clusters' calls use the built-in table.
	current string
	mu      sync.Mutex
	built   map[routeKey]*route
}

// get returns the route to cluster as user, building it once.
func (r *router) get(cluster, user string) (*route, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := routeKey{cluster, user}
	if rt, ok := r.built[k]; ok {
		return rt, nil
	}
	t, err := r.routes.Resolve(cluster, user)
	if err != nil {
		return nil, fmt.Errorf("cluster %q, user %q: %w", cluster, user, err)
	}
	ro := &route{target: t}
	if ro.rt, err = upstreamLeg(t.Config, false); err != nil {
		return nil, err
	}
	if ro.rt11, err = upstreamLeg(t.Config, true); err != nil {
		return nil, err
	}
	var scopes []classify.ScopeSource
	if cluster == r.current {
		scopes = append(scopes, r.p.scopes)
	}
	cfg := annotate.Config{Prefix: t.Server.Path, Scopes: scopes}
	if user != "" {
		cfg.Kubeconfig = auth.DescribeConfig(t.Config)
	}
	ro.ann = annotate.New(cfg)
	ro.parse = classify.New(t.Server.Path)
	if r.p.flows != nil {
		ro.ann.SetFlows(r.p.flows)
	}
	if r.built == nil {
		r.built = map[routeKey]*route{}
	}
	r.built[k] = ro
	return ro, nil
}

// cluster is the cluster served at host, and whether kubewire traces it.
func (r *router) cluster(host string) (string, bool) {
	c, ok := r.routes.Clusters[kubecfg.HostPort(host, "https")]
	return c, ok
}

// user is the user a request's Authorization stands for, "" for the
// client's own credentials.
func (r *router) user(h http.Header) string {
	tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return r.routes.Tokens[tok]
}

// hosts lists the hosts kubewire intercepts, for messages.
func (r *router) hosts() string {
	hs := make([]string, 0, len(r.routes.Clusters))
	for h := range r.routes.Clusters {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return strings.Join(hs, ", ")
}

// upstreamURL is the URL on t's server for a request's path and query.
func upstreamURL(t *kubecfg.Target, u *url.URL) url.URL {
	up := *t.Server
	up.Path, up.RawPath, up.RawQuery = u.Path, u.RawPath, u.RawQuery
	return up
}
