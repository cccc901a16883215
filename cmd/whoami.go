package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/proxy"
)

// kubeconfigOptions are the flags that choose a kubeconfig context.
type kubeconfigOptions struct {
	kubeconfig string
	context    string
}

func (o *kubeconfigOptions) addFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "the kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	c.Flags().StringVar(&o.context, "context", "", "the kubeconfig context (default the current one)")
}

// load loads the chosen context.
func (o *kubeconfigOptions) load(cmd string) (*kubecfg.Target, error) {
	t, err := kubecfg.LoadTarget(o.kubeconfig, o.context)
	if errors.Is(err, kubecfg.ErrNoKubeconfig) {
		return nil, usageError("no kubeconfig found; set KUBECONFIG or pass --kubeconfig (see 'kubewire %s -h')", cmd)
	}
	return t, err
}

type whoamiOptions struct {
	kubeconfigOptions
	output string
}

func newWhoamiCmd(s Streams) *cobra.Command {
	o := &whoamiOptions{}
	c := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the current context is, decoded locally and as the server sees it",
		Long: `whoami decodes the kubeconfig's credentials without sending them anywhere
(client certificate: CN is the user, O the groups; a JWT's claims; an exec
plugin or an opaque token cannot be decoded), then asks the API server with a
SelfSubjectReview who they are, and shows both side by side, saying where they
differ. Secrets are never printed.`,
		Example: `  kubewire whoami
  kubewire whoami --context alice -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(c, s)
		},
	}
	o.addFlags(c)
	c.Flags().StringVarP(&o.output, "output", "o", "", "output format: json, or empty for text")
	return c
}

func (o *whoamiOptions) validate() error {
	return validateOutput(o.output)
}

func validateOutput(output string) error {
	switch output {
	case "", "json":
		return nil
	}
	return usageError("unknown --output %q; want json", output)
}

func (o *whoamiOptions) run(c *cobra.Command, s Streams) error {
	t, err := o.load("whoami")
	if err != nil {
		return err
	}
	t.Config.UserAgent = proxy.OwnUserAgent(Version(), "whoami")
	w, err := auth.AskWhoAmI(c.Context(), t.Config)
	if err != nil {
		return fmt.Errorf("context %q: %w", t.Context, err)
	}
	if t.Session {
		w.Notes = append([]string{"this is a kubewire session's kubeconfig: its token is kubewire's placeholder, and kubewire sends the traced context's own credentials to the server, so the server answers for those"}, w.Notes...)
	}
	if o.output == "json" {
		return writeJSON(s.Out, w)
	}
	return render.WhoAmI(s.Out, t.Context, w, render.OptionsFor(s.Out))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
