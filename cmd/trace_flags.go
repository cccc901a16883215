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
	"github.com/kubewire/kubewire/tracer/record"
)

// traceFlags are the flags run and proxy share.
type traceFlags struct {
	kubeconfig string
	context    string
	record     string
	output     string
	levelFlags
	level       render.Level
	showSecrets bool
	maxBody     int
	auditLog    string
}

func (f *traceFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to trace (default: the current context)")
	fs.StringVar(&f.record, "record", "", "write a recording (JSON Lines) to this file")
	fs.StringVarP(&f.output, "output", "o", "", "live view format: empty for text, json for JSON Lines (itself a recording)")
	f.levelFlags.add(fs)
	fs.BoolVar(&f.showSecrets, "show-secrets", false, "DANGER: record and show tokens, keys and Secret data unredacted")
	fs.IntVar(&f.maxBody, "max-body", 4<<20, "bytes of each body to store (-1: all)")
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
	if f.maxBody < -1 {
		return usageError("--max-body %d: want -1 (all) or a number of bytes", f.maxBody)
	}
	return nil
}

// options turns the flags into the tracer's options, with the live view
// writing to w.
func (f *traceFlags) options(c *cobra.Command, w io.Writer, errOut io.Writer) (live.Options, func() error, error) {
	o := live.Options{
		Kubeconfig:  f.kubeconfig,
		Context:     f.context,
		Record:      f.record,
		ShowSecrets: f.showSecrets,
		MaxBody:     f.maxBody,
		Version:     Version(),
		ErrOut:      errOut,
		NoCluster:   labCluster(errOut),
		AuditLog:    f.auditLog,
	}
	if f.showSecrets {
		fmt.Fprintln(errOut, "kubewire: WARNING: --show-secrets: tokens, keys and Secret data will be shown and recorded in clear")
	}
	var closeView func() error
	if f.output == "json" {
		jw, err := record.NewWriter(w, record.Header{Kubewire: Version(), Source: record.Source{Mode: "live"}})
		if err != nil {
			return o, nil, err
		}
		o.View, closeView = jw, jw.Close
	} else {
		ro := render.OptionsFor(w)
		ro.Detail, ro.ShowOwn = f.level, f.showOwn
		lv := render.NewLive(w, ro)
		o.View, closeView = lv, lv.Close
	}
	return o, closeView, nil
}

// labCluster is called when no kubeconfig exists: it brings up the lab.
func labCluster(progress io.Writer) func(ctx context.Context) (*live.Cluster, error) {
	return func(ctx context.Context) (*live.Cluster, error) {
		return ensureLab(ctx, progress)
	}
}
