package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/tracer/live"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/proxy"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/sample"
	"github.com/kubewire/kubewire/tracer/serve"
)

type serveOptions struct {
	traceFlags
	file    string
	sample  bool
	listen  string
	reuse   bool
	speed   float64
	instant bool
	command []string
	// endStreams and view serve run's preview: streams end on their own,
	// and view also sees every line.
	endStreams bool
	view       record.Sink
}

func newServeCmd(s Streams) *cobra.Command {
	o := &serveOptions{}
	c := &cobra.Command{
		Use:   "serve FILE | --sample [flags] [-- COMMAND [ARGS...]]",
		Short: "Answer kubectl from a recording, with no cluster, tracing every call as run does",
		Long: `serve stands a recording in for the API server. It answers on 127.0.0.1 over
HTTPS (a certificate from kubewire's CA), each request with the answer of the
recorded call it matches: method, path, query (in any order, without
client-go's timeouts), what it accepts, Content-Type, If-None-Match, the
identity and, for writes, the body (docs/serve.md). Each
recorded answer is given once, in order (mitmproxy's server replay); --reuse
gives them again. A watch or a followed log replays its events with their
recorded timing (--speed, --instant); exec and attach replay their channels.

Every call is traced, annotated and shown live exactly as with run, and marked
as answered from the recording: no API server is asked. A request nothing
matches gets a 404 naming the closest recorded calls and how they differ; an
answer the recording cut short (--max-body) says so: record with --full-bodies
to serve everything.

With a COMMAND after --, serve runs it against the recording and stops, like
run. Without one, it prints the KUBECONFIG line for another terminal and
serves until Ctrl-C.`,
		Example: `  kubewire serve --sample -- kubectl get pods -A
  kubewire run --record class.jsonl --full-bodies -- kubectl get deploy -n shop
  kubewire serve class.jsonl -- kubectl get deploy -n shop
  kubewire serve class.jsonl --reuse          # then: export KUBECONFIG=...`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if at := c.ArgsLenAtDash(); at >= 0 {
				o.command = args[at:]
				args = args[:at]
			}
			switch {
			case o.sample && len(args) > 0:
				return usageError("--sample serves the bundled session: give no FILE with it (got %q); see '%s -h'", args[0], c.CommandPath())
			case !o.sample && len(args) != 1:
				return usageError("%s takes FILE, or --sample (got %d argument(s) before --); see '%s -h'", c.CommandPath(), len(args), c.CommandPath())
			case len(args) == 1:
				o.file = args[0]
			}
			if err := o.validate(c); err != nil {
				return err
			}
			return o.run(c, s)
		},
	}
	o.add(c.Flags())
	f := c.Flags()
	for _, name := range []string{"kubeconfig", "context", "audit-log"} {
		_ = f.MarkHidden(name)
	}
	f.BoolVar(&o.sample, "sample", false, "serve the session bundled with kubewire instead of a FILE (implies --reuse)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address serve answers on (port 0: any free port)")
	f.BoolVar(&o.reuse, "reuse", false, "give each recorded answer again, from the first, once all were given")
	f.Float64Var(&o.speed, "speed", 1, "play stream events this many times faster than recorded")
	f.BoolVar(&o.instant, "instant", false, "send every stream event at once")
	return c
}

func (o *serveOptions) validate(c *cobra.Command) error {
	for _, name := range []string{"kubeconfig", "context", "audit-log"} {
		if c.Flags().Changed(name) {
			return usageError("--%s: serve answers from the recording, not a cluster", name)
		}
	}
	if o.file == "-" {
		return usageError("serve reads a FILE: standard input is the served command's")
	}
	if o.speed <= 0 {
		return usageError("--speed %g: want a number above 0", o.speed)
	}
	if o.instant && c.Flags().Changed("speed") {
		return usageError("--instant and --speed: give one")
	}
	if len(o.command) > 0 && o.output == "json" && (o.outputFile == "" || o.outputFile == "-") {
		return usageError("-o json needs --output-file FILE with a command: its own output shares the terminal")
	}
	if o.sample {
		o.reuse = true
	}
	// No API server saw these calls: there is no audit event to join
	// (KUBEWIRE_AUDIT_LOG may name the lab's).
	o.auditLog = ""
	return o.traceFlags.validate(c)
}

func (o *serveOptions) load() (*record.Recording, string, error) {
	in, name, f, err := openRecording(o.sample, o.file, nil)
	if err != nil {
		return nil, "", fmt.Errorf("serve: %w", err)
	}
	rec, err := record.ReadAll(in, name) // FILE:LINE in its errors
	if f != nil {
		f.Close()
		name = filepath.Base(name)
	}
	return rec, name, err
}

func (o *serveOptions) run(c *cobra.Command, s Streams) error {
	stop, err := o.start(s.ErrOut)
	if err != nil {
		return err
	}
	defer stop()
	if len(o.command) > 0 {
		code, err := o.runCommand(c.Context(), s.In, s)
		if err != nil {
			return &ExitError{Code: max(code, 1), Err: err}
		}
		if code != 0 {
			return &ExitError{Code: code}
		}
		return nil
	}
	return o.serveUntilStopped(c.Context(), s)
}

// start loads the recording, starts serving it and points o.kubeconfig at
// a kubeconfig for it; stop ends it all.
func (o *serveOptions) start(errOut io.Writer) (stop func(), err error) {
	rec, name, err := o.load()
	if err != nil {
		return nil, err
	}
	ca, err := pki.Open("")
	if err != nil {
		return nil, err
	}
	srv, err := serve.New(rec, serve.Options{
		Name: name, Reuse: o.reuse, Speed: o.speed, Instant: o.instant, EndStreams: o.endStreams,
		IsOwn: func(r *http.Request) bool { return r.UserAgent() == proxy.ProxyUserAgent },
	})
	if err != nil {
		return nil, err
	}
	if err := srv.StartLoopback(o.listen, ca); err != nil {
		return nil, usageError("%v", err)
	}
	dir, err := os.MkdirTemp("", "kubewire-serve-")
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	stop = func() {
		_ = srv.Close()
		_ = os.RemoveAll(dir)
	}
	ids := serve.Identities(rec)
	if o.kubeconfig, err = serve.WriteKubeconfig(dir, srv.URL(), ca, ids); err != nil {
		stop()
		return nil, err
	}
	fmt.Fprintf(errOut, "kubewire serve: answering from %s (%s) on %s: no API server is asked\n", name, describeRecording(rec), srv.URL())
	if ids[0].User != "" {
		fmt.Fprintf(errOut, "kubewire serve: calls are sent as %s, the identity the recording was made with\n", ids[0].User)
	}
	for _, id := range ids[1:] {
		fmt.Fprintf(errOut, "kubewire serve: --context %s sends as %s, as the recording has calls of\n", id.Context, id.User)
	}
	return stop, nil
}

// runCommand runs o.command against the recording being served, traced
// like run, and returns its exit code.
func (o *serveOptions) runCommand(ctx context.Context, stdin io.Reader, s Streams) (int, error) {
	opts, closeView := o.options(s.ErrOut, s.ErrOut)
	opts.NoCluster, opts.Mode = nil, "serve"
	if o.view != nil {
		opts.View = record.Sinks{opts.View, o.view}
	}
	code, err := live.Run(ctx, opts, o.command, stdin, s.Out, s.ErrOut)
	if cerr := closeView(); err == nil {
		err = cerr
	}
	return code, err
}

func (o *serveOptions) serveUntilStopped(ctx context.Context, s Streams) error {
	if o.outputFile == "-" {
		o.outputFile = ""
	}
	opts, closeView := o.options(s.Out, s.ErrOut)
	opts.NoCluster = nil
	tr, err := live.Start(ctx, opts, "serve", nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, `
  kubectl, in another terminal:
    export KUBECONFIG=%s
`, tr.Session.Kubeconfig)
	if o.sample {
		fmt.Fprintln(s.ErrOut, "  then try:")
		for _, c := range sample.Commands {
			fmt.Fprintf(s.ErrOut, "    %s\n", c)
		}
	}
	for _, r := range opts.Recordings {
		fmt.Fprintf(s.ErrOut, "  recording (%s)\n", r.Flag)
	}
	fmt.Fprintln(s.ErrOut, "\nCtrl-C stops serving.")
	<-ctx.Done()
	err = tr.Close()
	if cerr := closeView(); err == nil {
		err = cerr
	}
	return err
}

func describeRecording(rec *record.Recording) string {
	h := rec.Header
	var parts []string
	if !h.Recorded.IsZero() {
		parts = append(parts, "recorded "+h.Recorded.Format("2006-01-02 15:04 MST"))
	}
	if h.Source.Context != "" {
		parts = append(parts, "context "+h.Source.Context)
	}
	if h.Source.ServerVersion != "" {
		parts = append(parts, "server "+h.Source.ServerVersion)
	}
	parts = append(parts, fmt.Sprintf("%d calls", len(rec.Exchanges)))
	return strings.Join(parts, ", ")
}
