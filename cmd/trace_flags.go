package cmd

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubewire/kubewire/render"
	"github.com/kubewire/kubewire/tracer/live"
)

// traceFlags are the flags run and proxy share.
type traceFlags struct {
	kubeconfig string
	context    string
	namespace  string
	record     string
	output     string
	outputFile string
	levelFlags
	level       render.Level
	showSecrets bool
	recordStdin bool
	maxBody     int
	fullBodies  bool
	auditLog    string
}

func (f *traceFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to trace (default: the current context); the session holds every context, so kubectl --context works too")
	fs.StringVarP(&f.namespace, "namespace", "n", "", "the session's namespace, as kubectl -n would set it (default: the context's)")
	fs.StringVar(&f.record, "record", "", "write a recording (JSON Lines) to this file")
	fs.StringVarP(&f.output, "output", "o", "", "live view format: empty for text, json for JSON Lines (itself a recording, written to --output-file)")
	fs.StringVar(&f.outputFile, "output-file", "", "the file -o json writes to (run needs one: the command's own output shares the terminal)")
	f.levelFlags.add(fs)
	fs.BoolVar(&f.showSecrets, "show-secrets", false, "DANGER: record and show tokens, keys, Secret data and command-line secrets unredacted")
	fs.BoolVar(&f.recordStdin, "record-stdin", false, "record what is typed into exec and attach (by default only its size, since it may be a password)")
	fs.IntVar(&f.maxBody, "max-body", 4<<20, "bytes of each body to store (-1: all)")
	fs.BoolVar(&f.fullBodies, "full-bodies", false, "store every body whole (--max-body -1), so kubewire serve can answer every call of the recording")
	fs.StringVar(&f.auditLog, "audit-log", os.Getenv("KUBEWIRE_AUDIT_LOG"), "the API server's audit log, to join each call with its audit event (default $KUBEWIRE_AUDIT_LOG)")
}

func (f *traceFlags) validate(c *cobra.Command) error {
	var err error
	if f.level, err = f.levelFlags.level(c); err != nil {
		return err
	}
	switch f.output {
	case "", "json":
	default:
		return usageError("unknown --output %q; want json or nothing", f.output)
	}
	if f.outputFile != "" && f.output != "json" {
		return usageError("--output-file is where -o json writes; add -o json (or use --record %s to keep the live view)", f.outputFile)
	}
	if f.outputFile != "" && f.outputFile == f.record {
		return usageError("--record and --output-file both name %s; give them different files", f.record)
	}
	if f.fullBodies {
		if c.Flags().Changed("max-body") && f.maxBody != -1 {
			return usageError("--full-bodies and --max-body %d: give one", f.maxBody)
		}
		f.maxBody = -1
	}
	if f.maxBody < -1 {
		return usageError("--max-body %d: want -1 (all) or a number of bytes", f.maxBody)
	}
	return nil
}

// options turns the flags into the tracer's options, with the live view
// writing to w (-o json without --output-file too).
func (f *traceFlags) options(w io.Writer, errOut io.Writer) (live.Options, func() error) {
	o := live.Options{
		Kubeconfig:  f.kubeconfig,
		Context:     f.context,
		Namespace:   f.namespace,
		ShowSecrets: f.showSecrets,
		RecordStdin: f.recordStdin,
		MaxBody:     f.maxBody,
		Version:     Version(),
		ErrOut:      errOut,
		NoCluster:   labCluster(errOut),
		AuditLog:    f.auditLog,
	}
	if f.record != "" {
		o.Recordings = append(o.Recordings, live.Recording{Flag: "--record " + f.record, Path: f.record})
	}
	if f.showSecrets {
		fmt.Fprintln(errOut, "kubewire: WARNING: --show-secrets: tokens, keys, Secret data and command-line secrets will be shown and recorded in clear")
	}
	if f.recordStdin {
		fmt.Fprintln(errOut, "kubewire: --record-stdin: what is typed into exec and attach will be recorded, passwords too")
	}
	switch {
	case f.output == "json" && f.outputFile != "":
		o.Recordings = append(o.Recordings, live.Recording{Flag: "--output-file " + f.outputFile, Path: f.outputFile})
		return o, func() error { return nil }
	case f.output == "json":
		// The machine stream is a recording written as it happens.
		o.Recordings = append(o.Recordings, live.Recording{Flag: "-o json", W: w})
		return o, func() error { return nil }
	}
	ro := render.OptionsFor(w)
	ro.Detail, ro.ShowOwn = f.level, f.showOwn
	lv := render.NewLive(w, ro)
	o.View = lv
	return o, lv.Close
}

// labCluster is called when no kubeconfig exists: it brings up the lab.
func labCluster(progress io.Writer) func(ctx context.Context) (*live.Cluster, error) {
	return func(ctx context.Context) (*live.Cluster, error) {
		return ensureLab(ctx, progress)
	}
}
