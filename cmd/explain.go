package cmd

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/classify"
)

type explainOptions struct {
	method string
	target string
	prefix string
	output string
}

func newExplainCmd(s Streams) *cobra.Command {
	o := &explainOptions{}
	c := &cobra.Command{
		Use:   "explain [flags] METHOD URL",
		Short: "Classify one request the way the API server would, without a cluster",
		Long: `explain shows how the API server reads one request: the API verb the HTTP
method becomes, the API group, version and its stability, the resource,
subresource, namespace, name and scope. URL is an absolute URL or a path with
an optional query. No cluster is contacted: scope comes from kubewire's
built-in table of Kubernetes' own resources.`,
		Example: `  kubewire explain GET '/apis/apps/v1/namespaces/demo/deployments?watch=1'
  kubewire explain -o json DELETE https://127.0.0.1:6443/api/v1/namespaces/demo/pods`,
		Args: exactArgs(2, "METHOD and URL"),
		RunE: func(c *cobra.Command, args []string) error {
			o.method, o.target = args[0], args[1]
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(s)
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "output format: json, or empty for text")
	c.Flags().StringVar(&o.prefix, "server-prefix", "", "path prefix of the API server URL to strip first (e.g. /k8s)")
	return c
}

func (o *explainOptions) validate() error {
	if !classify.ValidMethod(o.method) {
		return usageError("unknown HTTP method %q; want one of %s", o.method, strings.Join(classify.Methods, ", "))
	}
	if _, err := classify.ParseTarget(o.target); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return usageError("cannot parse URL %q: %v", o.target, err)
	}
	switch o.output {
	case "", "json":
	default:
		return usageError("unknown --output %q; want json", o.output)
	}
	return nil
}

func (o *explainOptions) run(s Streams) error {
	u, _ := classify.ParseTarget(o.target)
	a := annotate.New(annotate.Config{Prefix: o.prefix}).Classify(o.method, u, nil)
	if o.output == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	return render.Explain(s.Out, strings.ToUpper(o.method), o.target, a, render.OptionsFor(s.Out))
}
