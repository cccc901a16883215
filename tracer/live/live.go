// Package live runs a live trace: it loads the kubeconfig, starts kubewire's
// proxy, writes the session kubeconfig, and either runs a command through it
// (kubewire run) or serves until stopped (kubewire proxy). Every line goes to
// the recording, if any, and to the live view.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kubewire/kubewire/tracer/kubecfg"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/proxy"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/redact"
)

// Options configure a live trace.
type Options struct {
	// Kubeconfig and Context choose the cluster, as with kubectl.
	Kubeconfig, Context string
	// Namespace, when set, is the session's current namespace (-n).
	Namespace string
	// Recordings are the recordings to write (--record, -o json): each
	// gets a header saying how the trace was made, then every line.
	Recordings []Recording
	// View receives every line for the live view.
	View record.Sink
	// Listen is the proxy's loopback address (proxy mode).
	Listen string
	// ShowSecrets turns redaction off.
	ShowSecrets bool
	// RecordStdin records what is typed into exec and attach; by default
	// only its size is.
	RecordStdin bool
	// MaxBody caps stored bodies.
	MaxBody int
	// CADir holds kubewire's CA; "" for the default.
	CADir string
	// Version is kubewire's version, for the recording header.
	Version string
	// PathDir goes first on a child's PATH: the lab's kubectl, when
	// Kubeconfig is the lab's.
	PathDir string
	// NoCluster is called when no kubeconfig exists at all; it may provide
	// a cluster (the lab).
	NoCluster func(ctx context.Context) (*Cluster, error)
	// AuditLog is the API server's audit log, when readable: each call is
	// then joined with the server's own audit event.
	AuditLog string
	// ErrOut receives kubewire's own messages, and the proxy's problems.
	ErrOut io.Writer
	// Mode names how kubewire ran in the recordings' header; Run's
	// default is "run" (kubewire serve says "serve").
	Mode string
}

// Recording is one recording a trace writes.
type Recording struct {
	// Flag names it in messages: "--record trace.jsonl".
	Flag string
	// Path is the file to create; W is used instead when it is set.
	Path string
	W    io.Writer
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Cluster is a cluster provided when no kubeconfig exists.
type Cluster struct {
	// Kubeconfig is its kubeconfig.
	Kubeconfig string
	// PathDir goes first on a child's PATH (a kubectl matching the server).
	PathDir string
	// AuditLog is its API server's audit log, "" when not readable.
	AuditLog string
}

// Trace is a running proxy with its session.
type Trace struct {
	Target  *kubecfg.Target
	Proxy   *proxy.Proxy
	Session *kubecfg.Session
	CA      *pki.CA
	// PathDir is put first on a child's PATH (the lab's kubectl).
	PathDir string

	recorders []*record.Writer
	files     []*os.File
	problems  *proxy.Problems
	// view is the live view, behind its own queue.
	view   *lagView
	errOut io.Writer
}

// Start loads the kubeconfig, starts the proxy and writes the session.
func Start(ctx context.Context, o Options, mode string, command []string) (*Trace, error) {
	mirror, err := kubecfg.LoadMirror(o.Kubeconfig, o.Context, o.Namespace)
	pathDir := o.PathDir
	if errors.Is(err, kubecfg.ErrNoKubeconfig) && o.NoCluster != nil && o.Kubeconfig == "" {
		var c *Cluster
		if c, err = o.NoCluster(ctx); err == nil {
			pathDir = c.PathDir
			if o.AuditLog == "" {
				o.AuditLog = c.AuditLog
			}
			mirror, err = kubecfg.LoadMirror(c.Kubeconfig, o.Context, o.Namespace)
		}
	}
	if errors.Is(err, kubecfg.ErrNoKubeconfig) {
		return nil, errors.New("no kubeconfig found (no --kubeconfig, KUBECONFIG or ~/.kube/config); start the lab with 'kubewire lab up' or point --kubeconfig at a cluster")
	}
	if err != nil {
		return nil, err
	}
	target := mirror.Current
	for _, n := range mirror.Notes {
		fmt.Fprintf(orDiscard(o.ErrOut), "kubewire: %s\n", n)
	}
	ca, err := pki.Open(o.CADir)
	if err != nil {
		return nil, err
	}
	tr := &Trace{Target: target, CA: ca, PathDir: pathDir, errOut: o.ErrOut}

	var sinks record.Sinks
	if err := tr.openRecordings(o, mode, command); err != nil {
		return nil, err
	}
	for _, w := range tr.recorders {
		sinks = append(sinks, w)
	}
	if o.View != nil {
		tr.view = newLagView(o.View, len(tr.recorders) > 0)
		sinks = append(sinks, tr.view)
	}
	tr.problems = proxy.NewProblems(orDiscard(o.ErrOut))
	p, err := proxy.New(proxy.Config{
		Target:      target,
		Routes:      mirror.Routes,
		CA:          ca,
		Listen:      o.Listen,
		Sink:        sinks,
		MaxBody:     o.MaxBody,
		ShowSecrets: o.ShowSecrets,
		RecordStdin: o.RecordStdin,
		Diagnostics: tr.problems,
	})
	if err != nil {
		_ = tr.closeRecordings()
		return nil, err
	}
	if o.AuditLog != "" {
		j, err := newAuditJoin(o.AuditLog, sinks)
		if err != nil {
			_ = tr.closeRecordings()
			return nil, fmt.Errorf("audit log: %w", err)
		}
		p.SetJoiner(j)
	}
	if names := flowNames(p.OwnConfig()); names != nil {
		// Learnt in the background, once the proxy holds them: the
		// lookup is itself recorded, and annotated.
		p.SetFlows(names)
		go names.Names("", "")
	}
	if err := p.Start(); err != nil {
		_ = tr.closeRecordings()
		return nil, err
	}
	tr.Proxy = p
	dir, err := os.MkdirTemp("", "kubewire-session-")
	if err != nil {
		_ = tr.Close()
		return nil, err
	}
	if tr.Session, err = mirror.WriteSession(dir, p.URL(), ca); err != nil {
		_ = os.RemoveAll(dir)
		_ = tr.Close()
		return nil, err
	}
	return tr, nil
}

// openRecordings creates the recordings, each with a header that says
// when, how and what was traced. The command line is redacted unless
// secrets are shown.
func (tr *Trace) openRecordings(o Options, mode string, command []string) error {
	host, _ := os.Hostname()
	h := record.Header{
		Kubewire: o.Version,
		Recorded: time.Now().UTC(),
		Source: record.Source{Mode: mode, Command: redact.Command(command), Context: tr.Target.Context,
			Server: tr.Target.Server.String(), Host: host},
		Secrets: record.SecretsRedacted,
		Stdin:   record.StdinOmitted,
	}
	if o.ShowSecrets {
		h.Source.Command, h.Secrets = command, record.SecretsShown
	}
	if o.RecordStdin {
		h.Stdin = record.StdinRecorded
	}
	for _, r := range o.Recordings {
		w := r.W
		if w == nil {
			f, err := os.OpenFile(r.Path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				_ = tr.closeRecordings()
				return fmt.Errorf("%s: %w", r.Flag, err)
			}
			tr.files, w = append(tr.files, f), f
		}
		rw, err := record.NewWriter(w, h)
		if err != nil {
			_ = tr.closeRecordings()
			return fmt.Errorf("%s: %w", r.Flag, err)
		}
		tr.recorders = append(tr.recorders, rw)
	}
	return nil
}

func (tr *Trace) closeRecordings() error {
	var err error
	for _, w := range tr.recorders {
		if werr := w.Close(); err == nil {
			err = werr
		}
	}
	for _, f := range tr.files {
		if ferr := f.Close(); err == nil {
			err = ferr
		}
	}
	tr.recorders, tr.files = nil, nil
	return err
}

// Close stops the proxy, waits for exchanges under way, completes the
// recording and removes the session files.
func (tr *Trace) Close() error {
	var err error
	if tr.Proxy != nil {
		err = tr.Proxy.Close()
	}
	if rerr := tr.closeRecordings(); rerr != nil {
		err = fmt.Errorf("recording: %w", rerr)
	}
	if tr.view != nil {
		if verr := tr.view.close(); verr != nil {
			fmt.Fprintf(orDiscard(tr.errOut), "kubewire: %s\n", verr)
		}
	}
	if tr.problems != nil {
		_ = tr.problems.Close()
	}
	if tr.Session != nil {
		_ = tr.Session.Close()
	}
	return err
}

// Env is the environment for a traced child: the session kubeconfig, a fresh
// kubectl cache, and the lab's kubectl first on PATH when the lab is used.
func (tr *Trace) Env(base []string) []string {
	env := make([]string, 0, len(base)+3)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KUBECONFIG", "KUBECACHEDIR":
			continue
		case "PATH":
			if tr.PathDir != "" {
				kv = "PATH=" + tr.PathDir + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
			}
		}
		env = append(env, kv)
	}
	return append(env, "KUBECONFIG="+tr.Session.Kubeconfig, "KUBECACHEDIR="+tr.Session.CacheDir)
}

// Run runs command through a new trace and returns the child's exit code.
// Interrupts reach the child (it shares the terminal's process group); kubewire
// waits for it and completes the recording.
func Run(ctx context.Context, o Options, command []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(command) == 0 {
		return 2, errors.New("no command to run")
	}
	// A --kubeconfig given to kubectl is the kubeconfig kubectl would use:
	// trace it, and give kubectl the session's in its place.
	at, kc := kubectlKubeconfig(command)
	if at >= 0 {
		if o.Kubeconfig != "" && o.Kubeconfig != kc {
			return 2, fmt.Errorf("kubectl's --kubeconfig %s and kubewire's --kubeconfig %s differ; give one", kc, o.Kubeconfig)
		}
		o.Kubeconfig = kc
	}
	mode := o.Mode
	if mode == "" {
		mode = "run"
	}
	tr, err := Start(ctx, o, mode, command)
	if err != nil {
		return 1, err
	}
	if at >= 0 {
		command = append([]string(nil), command...)
		if strings.HasPrefix(command[at], "--kubeconfig=") {
			command[at] = "--kubeconfig=" + tr.Session.Kubeconfig
		} else {
			command[at] = tr.Session.Kubeconfig
		}
	}
	env := tr.Env(os.Environ())
	path, err := lookPath(command[0], env)
	if err != nil {
		_ = tr.Close()
		return 127, err
	}

	cmd := exec.Command(path, command[1:]...)
	cmd.Args[0] = command[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr

	// While the child runs, Ctrl-C is the child's to handle: the terminal
	// sends it to both. SIGTERM sent to kubewire alone is passed on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		_ = tr.Close()
		return 127, fmt.Errorf("start %s: %w", command[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGTERM {
					_ = cmd.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	werr := cmd.Wait()
	close(done)
	cerr := tr.Close()
	code := 0
	if werr != nil {
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			return 1, werr
		}
		code = ee.ExitCode()
		if code < 0 { // killed by a signal
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
	if cerr != nil {
		return code, cerr
	}
	return code, nil
}

// kubectlKubeconfig finds the --kubeconfig of a kubectl command line: the
// index of the argument holding its value and the value, or -1. Only
// kubectl's own flags count, not a command's after "--" (kubectl exec).
func kubectlKubeconfig(command []string) (int, string) {
	if b := strings.TrimSuffix(filepath.Base(command[0]), ".exe"); b != "kubectl" {
		return -1, ""
	}
	for i := 1; i < len(command); i++ {
		a := command[i]
		switch {
		case a == "--":
			return -1, ""
		case a == "--kubeconfig" && i+1 < len(command):
			return i + 1, command[i+1]
		case strings.HasPrefix(a, "--kubeconfig="):
			return i, strings.TrimPrefix(a, "--kubeconfig=")
		}
	}
	return -1, ""
}

// lookPath finds the command on the child's PATH (which may have the lab's
// kubectl first).
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, kv := range env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(p) {
				cand := filepath.Join(dir, name)
				if st, err := os.Stat(cand); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
					return cand, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: command not found on PATH", name)
}
