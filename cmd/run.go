package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/tracer/live"
	"github.com/kubewire/kubewire/tracer/redact"
)

type runOptions struct {
	traceFlags
	command []string
}

func newRunCmd(s Streams) *cobra.Command {
	o := &runOptions{}
	c := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARGS...]",
		Short: "Run kubectl (or any client) through kubewire and show every call live",
		Long: `run starts kubewire's proxy on 127.0.0.1, writes a private kubeconfig that sends
the command's API calls through it, runs COMMAND with KUBECONFIG pointing at
that file and a fresh kubectl cache (so discovery shows), and shows each call
on stderr as it happens. The command's own output is untouched and its exit
code is kubewire's. With no kubeconfig at all, kubewire starts the lab (a real
local control plane, built on first use) and puts the lab's kubectl first on
PATH.`,
		Example: `  kubewire run -- kubectl get pods -A
  kubewire run --record s.jsonl -v -- kubectl auth can-i list pods
  kubewire run -o json --output-file trace.jsonl -- kubectl get ns -w`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			o.command = args
			if err := o.validate(c); err != nil {
				return err
			}
			return o.run(c, s)
		},
	}
	o.add(c.Flags())
	return c
}

func (o *runOptions) validate(c *cobra.Command) error {
	if len(o.command) == 0 {
		return usageError("run needs a command after --, e.g. 'kubewire run -- kubectl get pods'")
	}
	if c.ArgsLenAtDash() != 0 {
		return usageError("put the command after --, e.g. 'kubewire run -- %s'", strings.Join(redact.Command(o.command), " "))
	}
	if o.output == "json" && (o.outputFile == "" || o.outputFile == "-") {
		return usageError("-o json needs --output-file FILE with run: the command's own stdout and stderr would mix into the recording; e.g. 'kubewire run -o json --output-file trace.jsonl -- %s'",
			strings.Join(redact.Command(o.command), " "))
	}
	return o.traceFlags.validate(c)
}

func (o *runOptions) run(c *cobra.Command, s Streams) error {
	var code int
	var err error
	if o.needsPreview(c.Context()) {
		code, err = o.runWithPreview(c.Context(), s)
	} else {
		opts, closeView := o.options(s.ErrOut, s.ErrOut)
		code, err = live.Run(c.Context(), opts, o.command, s.In, s.Out, s.ErrOut)
		if cerr := closeView(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return &ExitError{Code: max(code, 1), Err: err}
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
