package kubecfg

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/tracer/pki"
)

// Mirror is the kubeconfig a session mirrors: every context whose cluster
// kubewire can trace, under its own name, each user with a placeholder
// token of its own, so kubectl --context, --cluster, --user and kubectl
// config use-context work inside a trace and are traced with the right
// identity.
type Mirror struct {
	// Current is the traced context: the kubeconfig's current one, or the
	// one chosen.
	Current *Target
	// Routes route the session's requests (Config.Routes).
	Routes *Routes
	// Notes explain the contexts left out.
	Notes []string

	raw    clientcmdapi.Config
	tokens map[string]string // user -> placeholder token
}

// LoadMirror loads the kubeconfig as LoadTarget does, and every cluster and
// user in it. namespace, when not "", becomes the current context's
// namespace in the session (kubewire run -n).
func LoadMirror(kubeconfig, context, namespace string) (*Mirror, error) {
	current, err := LoadTarget(kubeconfig, context)
	if err != nil {
		return nil, err
	}
	if namespace != "" {
		current.Namespace = namespace
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	m := &Mirror{Current: current, raw: *raw, tokens: map[string]string{}}
	r := &Routes{Clusters: map[string]string{}, Tokens: map[string]string{}}
	for _, name := range sortedKeys(raw.Clusters) {
		u, err := url.Parse(raw.Clusters[name].Server)
		switch {
		case err != nil || u.Host == "":
			m.Notes = append(m.Notes, fmt.Sprintf("cluster %q is not traced: its server %q is not a URL", name, raw.Clusters[name].Server))
			continue
		case u.Scheme != "https":
			m.Notes = append(m.Notes, fmt.Sprintf("cluster %q is not traced: its server %s is not https, and kubewire traces TLS API servers only", name, u))
			continue
		}
		hp := HostPort(u.Host, u.Scheme)
		if other, ok := r.Clusters[hp]; ok {
			m.Notes = append(m.Notes, fmt.Sprintf("clusters %q and %q are both at %s: kubewire sends both to %q's", other, name, hp, other))
			continue
		}
		r.Clusters[hp] = name
	}
	for _, user := range sortedKeys(raw.AuthInfos) {
		tok := NewSessionToken()
		m.tokens[user], r.Tokens[tok] = tok, user
	}
	r.Resolve = m.resolve
	if c := raw.Contexts[current.Context]; c != nil {
		r.User = c.AuthInfo
	}
	m.Routes = r
	for _, name := range sortedKeys(raw.Contexts) {
		if c := raw.Contexts[name]; !m.traced(c.Cluster) {
			m.Notes = append(m.Notes, fmt.Sprintf("context %q is not in the session: its cluster %q is not traced", name, c.Cluster))
		}
	}
	// The traced context is always routed, whatever else is.
	if _, ok := r.Clusters[HostPort(current.Server.Host, current.Server.Scheme)]; !ok {
		return nil, fmt.Errorf("kubeconfig: the server of context %q is not among its clusters", current.Context)
	}
	return m, nil
}

// resolve builds the target for cluster as user ("" for no credentials).
func (m *Mirror) resolve(cluster, user string) (*Target, error) {
	raw := m.raw.DeepCopy()
	const route = "kubewire-route"
	raw.Contexts[route] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: user}
	if user == "" {
		raw.AuthInfos[""] = clientcmdapi.NewAuthInfo()
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, route, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, err
	}
	if user == "" {
		cfg = rest.AnonymousClientConfig(cfg)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	return &Target{Config: cfg, Context: route, Server: u}, nil
}

// traced reports whether the cluster is routed.
func (m *Mirror) traced(cluster string) bool {
	for _, c := range m.Routes.Clusters {
		if c == cluster {
			return true
		}
	}
	return false
}

// WriteSession writes the session files for a client of the proxy at
// proxyURL: a kubeconfig with every traced cluster (its server, reached
// through proxyURL, trusting kubewire's CA), every user (with its
// placeholder token) and every context of the mirrored kubeconfig under
// their own names, the traced context current.
func (m *Mirror) WriteSession(dir, proxyURL string, ca *pki.CA) (*Session, error) {
	cfg := clientcmdapi.NewConfig()
	for name, c := range m.raw.Clusters {
		if m.traced(name) {
			cfg.Clusters[name] = &clientcmdapi.Cluster{Server: c.Server, ProxyURL: proxyURL, CertificateAuthorityData: ca.PEM}
		}
	}
	for user, tok := range m.tokens {
		cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: tok}
	}
	for name, c := range m.raw.Contexts {
		if !m.traced(c.Cluster) {
			continue
		}
		ns := c.Namespace
		if name == m.Current.Context {
			ns = m.Current.Namespace
		}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: c.Cluster, AuthInfo: c.AuthInfo, Namespace: ns}
	}
	cfg.CurrentContext = m.Current.Context
	return writeSessionFiles(dir, cfg, ca, m.tokens[m.raw.Contexts[m.Current.Context].AuthInfo])
}

// writeSessionFiles writes cfg and kubewire's CA into dir.
func writeSessionFiles(dir string, cfg *clientcmdapi.Config, ca *pki.CA, token string) (*Session, error) {
	s := &Session{
		Dir:        dir,
		Kubeconfig: filepath.Join(dir, "kubeconfig"),
		CacheDir:   filepath.Join(dir, "cache"),
		CAFile:     filepath.Join(dir, "kubewire-ca.crt"),
		Token:      token,
	}
	if err := os.MkdirAll(s.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("create session dir: %w", err)
	}
	if err := os.WriteFile(s.CAFile, ca.PEM, 0o644); err != nil {
		return nil, fmt.Errorf("write session CA: %w", err)
	}
	if err := writeKubeconfig(cfg, s.Kubeconfig); err != nil {
		return nil, fmt.Errorf("write session kubeconfig: %w", err)
	}
	return s, nil
}

// writeKubeconfig writes cfg to path, readable by its owner only: it may
// hold a key.
func writeKubeconfig(cfg *clientcmdapi.Config, path string) error {
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// ServeContext is one context of a kubeconfig for kubewire serve: its
// name and the client certificate (from kubewire's CA) its user presents;
// nil for none.
type ServeContext struct {
	Name string
	Cert *tls.Certificate
}

// WriteServe writes the kubeconfig of a server kubewire itself runs on
// loopback (kubewire serve): its URL, trusted through kubewire's CA, and
// one context per element of contexts, each with its own user; the first
// is the current context.
func WriteServe(path, server string, ca *pki.CA, contexts []ServeContext) error {
	if len(contexts) == 0 {
		return errors.New("serve kubeconfig: no context")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubewire-serve"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca.PEM}
	for _, c := range contexts {
		ai := clientcmdapi.NewAuthInfo()
		if c.Cert != nil {
			certPEM, keyPEM, err := pki.EncodePEM(c.Cert)
			if err != nil {
				return err
			}
			ai.ClientCertificateData, ai.ClientKeyData = certPEM, keyPEM
		}
		cfg.AuthInfos[c.Name] = ai
		cfg.Contexts[c.Name] = &clientcmdapi.Context{Cluster: "kubewire-serve", AuthInfo: c.Name}
	}
	cfg.CurrentContext = contexts[0].Name
	return writeKubeconfig(cfg, path)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
