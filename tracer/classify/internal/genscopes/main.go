// Command genscopes writes tracer/classify/builtin_scopes.go, the table of
// which built-in Kubernetes resources are namespaced, from the discovery of
// a live API server. Only resources the API server itself serves are
// written: custom resources (CRDs) and aggregated APIs are left out.
//
//	go run ./internal/genscopes -o builtin_scopes.go                 # the kubewire lab (started if needed)
//	go run ./internal/genscopes -kubeconfig ~/.kube/config -o FILE   # another server
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"sort"
	"strings"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubewire/kubewire/tracer/lab"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("genscopes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the server to read (default: the kubewire lab, started if needed)")
	kubecontext := fs.String("context", "", "kubeconfig context (default: the current one)")
	out := fs.String("o", "", "file to write (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "genscopes: unexpected arguments %q; see -h\n", fs.Args())
		return 2
	}
	if *kubeconfig == "" {
		l, err := lab.Ensure(ctx, lab.Options{Progress: stderr})
		if err != nil {
			fmt.Fprintf(stderr, "genscopes: %v\n", err)
			return 1
		}
		*kubeconfig = l.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: *kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: *kubecontext}).ClientConfig()
	if err != nil {
		fmt.Fprintf(stderr, "genscopes: kubeconfig %s: %v\n", *kubeconfig, err)
		return 1
	}
	m, version, err := builtinScopes(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "genscopes: %v\n", err)
		return 1
	}
	src, err := source(m, version)
	if err != nil {
		fmt.Fprintf(stderr, "genscopes: %v\n", err)
		return 1
	}
	if *out == "" {
		_, err = stdout.Write(src)
	} else {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "genscopes: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "genscopes: %d built-in resources of Kubernetes %s\n", len(m), version)
	return 0
}

// builtinScopes reads the server's discovery and returns "group/resource"
// -> namespaced for every resource the API server itself serves (no
// subresources, no custom resources, no aggregated APIs), and the server's
// version.
func builtinScopes(ctx context.Context, cfg *rest.Config) (map[string]bool, string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, "", err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, "", fmt.Errorf("server version: %w", err)
	}
	custom, err := customResources(ctx, dc.RESTClient())
	if err != nil {
		return nil, "", err
	}
	aggregated, err := aggregatedGroups(ctx, dc.RESTClient())
	if err != nil {
		return nil, "", err
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		return nil, "", fmt.Errorf("discovery: %w", err)
	}
	m := map[string]bool{}
	for _, l := range lists {
		group := ""
		if i := strings.Index(l.GroupVersion, "/"); i >= 0 {
			group = l.GroupVersion[:i]
		}
		if aggregated[group] {
			continue
		}
		for _, r := range l.APIResources {
			key := group + "/" + r.Name
			if strings.Contains(r.Name, "/") || custom[key] {
				continue
			}
			m[key] = r.Namespaced
		}
	}
	if len(m) == 0 {
		return nil, "", fmt.Errorf("discovery of %s returned no built-in resources", cfg.Host)
	}
	return m, v.GitVersion, nil
}

// customResources returns the "group/plural" of every CRD.
func customResources(ctx context.Context, rc rest.Interface) (map[string]bool, error) {
	var list struct {
		Items []struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Plural string `json:"plural"`
				} `json:"names"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := getJSON(ctx, rc, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", &list); err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, c := range list.Items {
		m[c.Spec.Group+"/"+c.Spec.Names.Plural] = true
	}
	return m, nil
}

// aggregatedGroups returns the groups an APIService sends to another
// server (metrics.k8s.io and the like).
func aggregatedGroups(ctx context.Context, rc rest.Interface) (map[string]bool, error) {
	var list struct {
		Items []struct {
			Spec struct {
				Group   string          `json:"group"`
				Service json.RawMessage `json:"service"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := getJSON(ctx, rc, "/apis/apiregistration.k8s.io/v1/apiservices", &list); err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, s := range list.Items {
		if len(s.Spec.Service) > 0 && string(s.Spec.Service) != "null" {
			m[s.Spec.Group] = true
		}
	}
	return m, nil
}

func getJSON(ctx context.Context, rc rest.Interface, path string, v any) error {
	data, err := rc.Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// source renders builtin_scopes.go, sorted and gofmt'd.
func source(m map[string]bool, version string) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by genscopes from the discovery of Kubernetes %s; DO NOT EDIT.\n\n", version)
	b.WriteString("// Regenerate against the kubewire lab (built and started if needed):\n")
	b.WriteString("//go:generate go run ./internal/genscopes -o builtin_scopes.go\n\n")
	b.WriteString("package classify\n\n")
	fmt.Fprintf(&b, "const builtinVersion = %q\n\n", version)
	b.WriteString("// builtinScopes maps \"group/resource\" (\"\" group for core) to whether the\n// resource is namespaced.\n")
	b.WriteString("var builtinScopes = map[string]bool{\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "\t%q: %v,\n", k, m[k])
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
