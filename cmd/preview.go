package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/lab"
	"github.com/kubewire/kubewire/tracer/live"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
	"github.com/kubewire/kubewire/tracer/sample"
)

// On a fresh machine (no kubeconfig, no lab built) the lab takes minutes to
// build. Rather than leave a newcomer with progress lines only, run shows
// the same command answered from the bundled sample through serve at once,
// labelled as such, builds the lab meanwhile, and then traces the command
// live.

// needsPreview reports whether run has no cluster to trace and the lab
// must be built first.
func (o *runOptions) needsPreview(ctx context.Context) bool {
	if o.kubeconfig != "" {
		return false
	}
	for _, a := range o.command {
		if a == "--kubeconfig" || strings.HasPrefix(a, "--kubeconfig=") {
			return false
		}
	}
	if _, err := kubecfg.LoadTarget("", o.context); !errors.Is(err, kubecfg.ErrNoKubeconfig) {
		return false
	}
	if dir, err := lab.DefaultDir(); err == nil {
		if _, err := lab.Open(ctx, dir); err == nil {
			return false
		}
	}
	_, built, _ := lab.Locate(lab.BuildOptions{})
	return !built
}

// lockedWriter makes each Write whole: the lab's progress and the trace
// share the terminal.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// misses collects the calls the sample could not answer.
type misses struct {
	mu    sync.Mutex
	calls []string
}

func (m *misses) Put(l record.Line) {
	x := l.Exchange
	if l.Type != record.TypeExchange || x == nil || x.Own || x.Annotation.Replayed == nil || x.Annotation.Replayed.Seq != 0 {
		return
	}
	m.mu.Lock()
	m.calls = append(m.calls, x.Request.Method+" "+x.Annotation.Path)
	m.mu.Unlock()
}

// runWithPreview builds and starts the lab in the background while the
// sample answers the command, then traces the command live on the lab.
func (o *runOptions) runWithPreview(ctx context.Context, s Streams) (int, error) {
	errOut := &lockedWriter{w: s.ErrOut}
	s.ErrOut = errOut
	shown := strings.Join(redact.Command(o.command), " ")
	fmt.Fprintln(errOut, "kubewire: no kubeconfig found, and the lab (a real local control plane, see 'kubewire lab -h') is not built yet:")
	fmt.Fprintln(errOut, "kubewire: building it in the background (cold: about 13 minutes on 2 cores), then tracing your command live on it.")

	type labResult struct {
		c   *live.Cluster
		err error
	}
	labCtx, cancelLab := context.WithCancel(ctx)
	defer cancelLab()
	done := make(chan labResult, 1)
	go func() {
		l, err := lab.Ensure(labCtx, lab.Options{Progress: errOut})
		if err != nil {
			done <- labResult{err: fmt.Errorf("start the lab: %w", err)}
			return
		}
		done <- labResult{c: &live.Cluster{Kubeconfig: l.Kubeconfig, PathDir: l.BinDir, AuditLog: l.AuditLog}}
	}()

	fmt.Fprintf(errOut, "kubewire: meanwhile, here is '%s' answered from kubewire's bundled sample recording (%s), NOT from a cluster of yours: every call is marked ↺\n", shown, sample.Name)
	miss := &misses{}
	p := &serveOptions{traceFlags: o.traceFlags, sample: true, reuse: true, instant: true, endStreams: true, listen: "127.0.0.1:0", command: o.command, view: miss}
	p.record, p.output, p.outputFile = "", "", ""
	stop, err := p.start(errOut)
	code := 0
	if err == nil {
		code, err = p.runCommand(ctx, strings.NewReader(""), s)
		stop()
	}
	switch {
	case ctx.Err() != nil:
		return 130, ctx.Err()
	case err != nil:
		fmt.Fprintf(errOut, "kubewire: the sample could not be served: %v\n", err)
	case len(miss.calls) > 0 && code == 0:
		fmt.Fprintf(errOut, "kubewire: the sample had no answer to %s; the command did without it.\n", strings.Join(miss.calls, ", "))
	case len(miss.calls) > 0:
		fmt.Fprintf(errOut, "kubewire: the sample cannot answer '%s': it has no recorded answer to %s.\n", shown, strings.Join(miss.calls, ", "))
		fmt.Fprintf(errOut, "kubewire: what it can answer: %s; explore all of it with 'kubewire replay --sample -i'.\n", strings.Join(sample.Commands, ", "))
	}
	fmt.Fprintf(errOut, "kubewire: that was the sample recording. Waiting for the lab to trace '%s' live (Ctrl-C stops; 'kubewire replay --sample -i' explores the sample meanwhile)...\n", shown)

	r := <-done
	if r.err != nil {
		return 1, r.err
	}
	fmt.Fprintf(errOut, "kubewire: the lab is up; now '%s' live, on the lab's real API server:\n", shown)
	opts, closeView := o.options(errOut, errOut)
	opts.NoCluster = func(context.Context) (*live.Cluster, error) { return r.c, nil }
	code, err = live.Run(ctx, opts, o.command, s.In, s.Out, errOut)
	if cerr := closeView(); err == nil {
		err = cerr
	}
	return code, err
}
