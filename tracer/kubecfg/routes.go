package kubecfg

import (
	"net"
	"strings"

	"k8s.io/client-go/rest"
)

// A session kubeconfig can name several clusters and users: every context
// of the kubeconfig kubewire loaded. The proxy routes a request by the
// cluster its tunnel was opened to and by the user whose placeholder token
// it carries; a request with any other Authorization goes upstream with the
// client's own credentials.

// Routes say how the proxy reaches clusters and whose credentials it sends.
type Routes struct {
	// Clusters maps host:port to the name of the cluster served there.
	Clusters map[string]string
	// Tokens maps a placeholder token to the user it stands for.
	Tokens map[string]string
	// Resolve returns the target (server, TLS, credentials) for cluster
	// and user; user "" means no credentials (the client brings its own).
	Resolve func(cluster, user string) (*Target, error)
	// User is the user of the traced context: kubewire's own calls go as
	// it, over the same connection as the client's calls as it.
	User string
}

// SingleRoute routes everything to t: its credentials for token, the
// client's own for any other Authorization.
func SingleRoute(t *Target, token string) *Routes {
	r := &Routes{Clusters: map[string]string{HostPort(t.Server.Host, t.Server.Scheme): ""}, Tokens: map[string]string{}, User: "kubeconfig"}
	if token != "" {
		r.Tokens[token] = r.User
	}
	r.Resolve = func(_, user string) (*Target, error) {
		if user == "" {
			return t.Anonymous(), nil
		}
		return t, nil
	}
	return r
}

// Anonymous is t without credentials: the client's own Authorization goes
// upstream.
func (t *Target) Anonymous() *Target {
	a := *t
	a.Config = rest.AnonymousClientConfig(t.Config)
	return &a
}

// HostPort is host with its port, the scheme's default when it has none,
// lower-cased: the key routes are looked up by.
func HostPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return strings.ToLower(host)
	}
	if scheme == "http" {
		return strings.ToLower(host) + ":80"
	}
	return strings.ToLower(host) + ":443"
}
