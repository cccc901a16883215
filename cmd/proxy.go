package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/tracer/live"
	"github.com/kubewire/kubewire/tracer/proxy"
)

type proxyOptions struct {
	traceFlags
	listen string
}

func newProxyCmd(s Streams) *cobra.Command {
	o := &proxyOptions{}
	c := &cobra.Command{
		Use:   "proxy [flags]",
		Short: "Run kubewire's proxy until stopped, for kubectl or curl in another terminal",
		Long: `proxy runs kubewire's proxy on 127.0.0.1 and shows every call live. It prints
the KUBECONFIG line to use in another terminal, and the curl flags for
talking to the API server directly. Clients using the printed kubeconfig get
the traced context's credentials; curl with its own token (or none) is sent
as itself, so direct access with credentials can be taught.`,
		Example: `  kubewire proxy --record class.jsonl
  kubewire proxy --listen 127.0.0.1:8443 -v`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.traceFlags.validate(c); err != nil {
				return err
			}
			if err := proxy.CheckListen(o.listen); err != nil {
				return usageError("%v", err)
			}
			return o.run(c, s)
		},
	}
	o.add(c.Flags())
	c.Flags().StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	return c
}

func (o *proxyOptions) run(c *cobra.Command, s Streams) error {
	if o.outputFile == "-" {
		o.outputFile = "" // -o json to stdout: proxy runs no command that shares it
	}
	opts, closeView := o.options(s.Out, s.ErrOut)
	opts.Listen = o.listen
	tr, err := live.Start(c.Context(), opts, "proxy", nil)
	if err != nil {
		return err
	}
	srv := tr.Target.Server.String()
	fmt.Fprintf(s.ErrOut, `kubewire proxy on %s, tracing %s (context %q)

  kubectl, in another terminal:
    export KUBECONFIG=%s
  curl, as yourself (your own token, or anonymous):
    curl --proxy %s --cacert %s %s/version
`, tr.Proxy.URL(), srv, tr.Target.Context, tr.Session.Kubeconfig, tr.Proxy.URL(), tr.Session.CAFile, srv)
	if tr.PathDir != "" {
		fmt.Fprintf(s.ErrOut, "  the lab's kubectl:\n    export PATH=%s:$PATH\n", tr.PathDir)
	}
	for _, r := range opts.Recordings {
		fmt.Fprintf(s.ErrOut, "  recording (%s)\n", r.Flag)
	}
	fmt.Fprintln(s.ErrOut, "\nCtrl-C stops the proxy.")
	<-c.Context().Done()
	err = tr.Close()
	if cerr := closeView(); err == nil {
		err = cerr
	}
	return err
}
