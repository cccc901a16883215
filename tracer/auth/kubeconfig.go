package auth

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoKubeconfig means no kubeconfig was found at all.
var ErrNoKubeconfig = errors.New("no kubeconfig found")

// Kubeconfig is one context of a loaded kubeconfig.
type Kubeconfig struct {
	// Config is the context's client config, with its credentials.
	Config *rest.Config
	// Context is the context's name.
	Context string
	// Namespace is the context's namespace, "" when it names none.
	Namespace string
}

// LoadKubeconfig loads a kubeconfig the way kubectl does (the explicit
// file, else $KUBECONFIG, else ~/.kube/config) and picks context, or the
// current one when context is "".
func LoadKubeconfig(path, context string) (*Kubeconfig, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
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
	k := &Kubeconfig{Config: cfg, Context: raw.CurrentContext}
	if context != "" {
		k.Context = context
	}
	if c := raw.Contexts[k.Context]; c != nil {
		k.Namespace = c.Namespace
	}
	return k, nil
}
