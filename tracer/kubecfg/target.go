// Package kubecfg loads the kubeconfig kubewire traces, the way kubectl
// does (through client-go's clientcmd), and writes the session kubeconfigs
// that send a traced client to kubewire instead.
package kubecfg

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubewire/kubewire/tracer/pki"
)

// Target is the API server kubewire traces, from the user's kubeconfig.
type Target struct {
	// Config is the client-go config of the chosen context: the upstream
	// leg is built from it, with its credentials.
	Config *rest.Config
	// Context is the kubeconfig context's name.
	Context string
	// Namespace is the context's namespace ("" when unset).
	Namespace string
	// Server is the API server URL.
	Server *url.URL
	// Files are the kubeconfig files that were loaded, for messages.
	Files []string
	// Session is true when the context is a kubewire session kubeconfig's
	// (see WriteSession): its token is a placeholder, and the credentials
	// the server sees are those of the context kubewire traces.
	Session bool
}

// ErrNoKubeconfig means no kubeconfig was found at all.
var ErrNoKubeconfig = errors.New("no kubeconfig found")

// LoadTarget loads the kubeconfig the way kubectl does: explicit file, else
// the KUBECONFIG list, else ~/.kube/config; context overrides the current one.
func LoadTarget(kubeconfig, context string) (*Target, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, ErrNoKubeconfig
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig namespace: %w", err)
	}
	server, err := url.Parse(cfg.Host)
	if err != nil || server.Host == "" {
		return nil, fmt.Errorf("kubeconfig: cannot parse server %q", cfg.Host)
	}
	if server.Scheme != "https" {
		return nil, fmt.Errorf("kubeconfig: server %s is not https; kubewire traces TLS API servers only", cfg.Host)
	}
	name := raw.CurrentContext
	if context != "" {
		name = context
	}
	t := &Target{Config: cfg, Context: name, Namespace: ns, Server: server}
	t.Files = rules.GetLoadingPrecedence()
	if kubeconfig != "" {
		t.Files = []string{kubeconfig}
	}
	if c := raw.Contexts[name]; c != nil && raw.Clusters[c.Cluster] != nil && raw.AuthInfos[c.AuthInfo] != nil {
		t.Session = raw.Clusters[c.Cluster].ProxyURL != "" && strings.HasPrefix(raw.AuthInfos[c.AuthInfo].Token, sessionTokenPrefix)
	}
	if ns == "default" {
		// Namespace() says "default" when the context names none; keep the
		// context's own value so the session kubeconfig matches it.
		if c := raw.Contexts[name]; c == nil || c.Namespace == "" {
			t.Namespace = ""
		}
	}
	return t, nil
}

// Session is the private kubeconfig a traced client uses: it sends kubectl
// to kubewire with proxy-url, trusts kubewire's CA and carries a placeholder
// token unique to this session instead of real credentials.
type Session struct {
	// Dir holds the session's files; Close removes it.
	Dir string
	// Kubeconfig is the session kubeconfig's path (0600).
	Kubeconfig string
	// CacheDir is a fresh kubectl cache directory (KUBECACHEDIR), so the
	// client performs, and the trace shows, discovery.
	CacheDir string
	// CAFile is kubewire's CA certificate, for curl --cacert.
	CAFile string
	// Token is the placeholder bearer token. Requests that carry it get the
	// kubeconfig's real credentials upstream.
	Token string
}

// sessionTokenPrefix starts every placeholder token: a kubeconfig whose
// user holds one is a kubewire session's.
const sessionTokenPrefix = "kubewire-session-"

// NewSessionToken returns a random placeholder token.
func NewSessionToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return sessionTokenPrefix + hex.EncodeToString(b)
}

// WriteSession writes the session files for a client of the proxy at
// proxyURL tracing target alone, with one placeholder token (Mirror's
// WriteSession mirrors every context).
func WriteSession(dir string, target *Target, proxyURL string, ca *pki.CA, token string) (*Session, error) {
	ctx := target.Context
	if ctx == "" {
		ctx = "kubewire"
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[sessionName] = &clientcmdapi.Cluster{
		Server:                   target.Server.String(),
		ProxyURL:                 proxyURL,
		CertificateAuthorityData: ca.PEM,
	}
	cfg.AuthInfos[sessionName] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[ctx] = &clientcmdapi.Context{Cluster: sessionName, AuthInfo: sessionName, Namespace: target.Namespace}
	cfg.CurrentContext = ctx
	return writeSessionFiles(dir, cfg, ca, token)
}

// sessionName names the cluster and user of a session kubeconfig.
const sessionName = "kubewire"

// Close removes the session's files.
func (s *Session) Close() error { return os.RemoveAll(s.Dir) }
