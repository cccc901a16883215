package cmd

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"

	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/proxy"
)

type versionOptions struct {
	kubeconfigOptions
	output string
}

// versionInfo is what kubewire version prints.
type versionInfo struct {
	Kubewire string `json:"kubewire"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	// Server is the traced context's API server version, when reachable.
	Server *serverVersion `json:"server,omitempty"`
	// ServerError says why the server's version is not known.
	ServerError string `json:"serverError,omitempty"`
}

type serverVersion struct {
	Context    string `json:"context"`
	URL        string `json:"url"`
	GitVersion string `json:"gitVersion"`
}

func newVersionCmd(s Streams) *cobra.Command {
	o := &versionOptions{}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print kubewire's version and, when reachable, the API server's",
		Long: `version prints kubewire's version, the Go version it was built with and its
platform, and asks the current context's API server for its version (5 s at
most; it does not start the lab).`,
		Example: `  kubewire version
  kubewire version -o json --context alice`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := validateOutput(o.output); err != nil {
				return err
			}
			return o.run(c.Context(), s)
		},
	}
	o.addFlags(c)
	c.Flags().StringVarP(&o.output, "output", "o", "", "output format: json, or empty for text")
	return c
}

func (o *versionOptions) run(ctx context.Context, s Streams) error {
	v := versionInfo{Kubewire: Version(), Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if sv, err := o.server(ctx); err != nil {
		v.ServerError = err.Error()
	} else {
		v.Server = sv
	}
	if o.output == "json" {
		return writeJSON(s.Out, v)
	}
	fmt.Fprintf(s.Out, "kubewire %s (%s, %s)\n", v.Kubewire, v.Go, v.Platform)
	if v.Server != nil {
		fmt.Fprintf(s.Out, "server   %s at %s (context %q)\n", v.Server.GitVersion, v.Server.URL, v.Server.Context)
	} else {
		fmt.Fprintf(s.Out, "server   unknown: %s\n", v.ServerError)
	}
	return nil
}

func (o *versionOptions) server(ctx context.Context) (*serverVersion, error) {
	t, err := kubecfg.LoadTarget(o.kubeconfig, o.context)
	if errors.Is(err, kubecfg.ErrNoKubeconfig) {
		return nil, errors.New("no kubeconfig (kubewire lab up starts a cluster)")
	}
	if err != nil {
		return nil, err
	}
	cfg := t.Config
	cfg.Timeout = 5 * time.Second
	cfg.UserAgent = proxy.OwnUserAgent(Version(), "version")
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	var info *serverVersion
	go func() {
		defer close(done)
		if sv, e := dc.ServerVersion(); e != nil {
			err = e
		} else {
			info = &serverVersion{Context: t.Context, URL: t.Server.String(), GitVersion: sv.GitVersion}
		}
	}()
	select {
	case <-done:
		return info, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
