package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/auth"
	"github.com/kubewire/kubewire/tracer/proxy"
)

type caniOptions struct {
	kubeconfigOptions
	output        string
	namespace     string
	allNamespaces bool
	query         auth.AccessQuery
}

func newCaniCmd(s Streams) *cobra.Command {
	o := &caniOptions{}
	c := &cobra.Command{
		Use:   "can-i VERB RESOURCE [NAME] | can-i VERB /PATH",
		Short: "Ask the server whether the current context may do something, and show the stage it answers",
		Long: `can-i asks the API server with a SelfSubjectAccessReview whether the current
context's user may perform VERB on RESOURCE (a resource, short name or kind,
optionally .group and /subresource: deploy, deployments.apps, pods/log) or on a
non-resource PATH, and shows the authorizers' decision and reason on the
request's journey. Only authorization is asked: admission and validation
could still refuse a real request. It exits 1 when the answer is no.`,
		Example: `  kubewire can-i list pods -n demo
  kubewire can-i --context alice create deployments.apps -n demo
  kubewire can-i get /healthz
  kubewire can-i list secrets -A -o json`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usageError("%s takes VERB and RESOURCE [NAME], or VERB and /PATH (got %d argument(s)); see '%s -h'", c.CommandPath(), len(args), c.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.validate(args); err != nil {
				return err
			}
			return o.run(c, s)
		},
	}
	o.addFlags(c)
	c.Flags().StringVarP(&o.output, "output", "o", "", "output format: json, or empty for text")
	c.Flags().StringVarP(&o.namespace, "namespace", "n", "", "the namespace (default the context's namespace)")
	c.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "ask about every namespace")
	return c
}

func (o *caniOptions) validate(args []string) error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	o.query = auth.AccessQuery{Verb: args[0]}
	if strings.HasPrefix(args[1], "/") {
		if len(args) == 3 {
			return usageError("a non-resource PATH takes no NAME (got %q); see 'kubewire can-i -h'", args[2])
		}
		if o.namespace != "" || o.allNamespaces {
			return usageError("--namespace and --all-namespaces do not apply to a non-resource PATH; see 'kubewire can-i -h'")
		}
		o.query.Path = args[1]
		return nil
	}
	if o.namespace != "" && o.allNamespaces {
		return usageError("--namespace and --all-namespaces exclude each other; see 'kubewire can-i -h'")
	}
	o.query.Resource = args[1]
	if len(args) == 3 {
		o.query.Name = args[2]
	}
	o.query.AllNamespaces = o.allNamespaces
	return nil
}

func (o *caniOptions) run(c *cobra.Command, s Streams) error {
	t, err := o.load("can-i")
	if err != nil {
		return err
	}
	q := o.query
	if q.Path == "" && !q.AllNamespaces {
		q.Namespace = o.namespace
		if q.Namespace == "" {
			q.Namespace = t.Namespace
		}
		if q.Namespace == "" {
			q.Namespace = "default"
		}
	}
	t.Config.UserAgent = proxy.OwnUserAgent(Version(), "can-i")
	ans, err := auth.CanI(c.Context(), t.Config, q)
	if err != nil {
		return fmt.Errorf("context %q: %w", t.Context, err)
	}
	if o.output == "json" {
		err = writeJSON(s.Out, ans)
	} else {
		err = render.Access(s.Out, ans, render.OptionsFor(s.Out))
	}
	if err == nil && !ans.Allowed {
		return &ExitError{Code: 1}
	}
	return err
}
