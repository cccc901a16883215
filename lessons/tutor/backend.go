package tutor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/kubewire/kubewire/lessons"
	"github.com/kubewire/kubewire/tracer/annotate"
	"github.com/kubewire/kubewire/tracer/live"
	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/kubewire/kubewire/tracer/proxy"
	"github.com/kubewire/kubewire/tracer/record"
	"github.com/kubewire/kubewire/tracer/serve"
)

// Backend is what a lesson's commands are traced against: a cluster
// (live) or a lesson's recording played by kubewire serve (offline).
// Every run of commands gets a trace of its own, so every call is drained
// before the run returns; the runs share one kubectl cache, fresh when the
// backend starts, so the lesson's first command shows discovery and the
// rest show what they themselves ask.
type Backend struct {
	base live.Options
	// cacheDir is the kubectl cache the runs share (KUBECACHEDIR).
	cacheDir string
	// Offline is set when a recording answers.
	Offline bool
	// Describe says in one line what the commands are traced against.
	Describe string
	close    func()
}

// Live traces the cluster o names (o.NoCluster provides the lab when no
// kubeconfig exists).
func Live(o live.Options) *Backend {
	return &Backend{base: o, Describe: "live", close: func() {}}
}

// Offline starts kubewire serve on the lesson's recording and traces it.
func Offline(l *lessons.Lesson, o live.Options) (*Backend, error) {
	data, name, err := l.Recording()
	if err != nil {
		return nil, err
	}
	rec, err := annotate.ForRecordings().ReadAll(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	ca, err := pki.Open(o.CADir)
	if err != nil {
		return nil, err
	}
	srv, err := serve.New(rec, serve.Options{
		Name:  name,
		Reuse: true,
		IsOwn: func(r *http.Request) bool { return r.UserAgent() == proxy.ProxyUserAgent },
	})
	if err != nil {
		return nil, err
	}
	if err := srv.StartLoopback("127.0.0.1:0", ca); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubewire-lesson-")
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	stop := func() {
		_ = srv.Close()
		_ = os.RemoveAll(dir)
	}
	kc, err := serve.WriteKubeconfig(dir, srv.URL(), ca, serve.Identities(rec))
	if err != nil {
		stop()
		return nil, err
	}
	o.Kubeconfig, o.Context, o.NoCluster, o.AuditLog, o.Mode = kc, "", nil, "", "serve"
	when := ""
	if !rec.Header.Recorded.IsZero() {
		when = ", recorded " + rec.Header.Recorded.Format("2006-01-02")
	}
	return &Backend{base: o, Offline: true, close: stop,
		Describe: fmt.Sprintf("offline: answered from %s (%d calls%s); no API server is asked", name, len(rec.Exchanges), when)}, nil
}

// Close stops what the backend started.
func (b *Backend) Close() {
	b.close()
	if b.cacheDir != "" {
		_ = os.RemoveAll(b.cacheDir)
	}
}

// env is the environment of a run's commands: the trace's, with the
// backend's kubectl cache, and where curl finds kubewire.
func (b *Backend) env(tr *live.Trace) ([]string, error) {
	if b.cacheDir == "" {
		dir, err := os.MkdirTemp("", "kubewire-lesson-cache-")
		if err != nil {
			return nil, err
		}
		b.cacheDir = dir
	}
	env := tr.Env(os.Environ())
	for i, kv := range env {
		if strings.HasPrefix(kv, "KUBECACHEDIR=") {
			env[i] = "KUBECACHEDIR=" + b.cacheDir
		}
	}
	return append(env,
		"KUBEWIRE_SERVER="+tr.Target.Server.String(),
		"KUBEWIRE_PROXY="+tr.Proxy.URL(),
		"KUBEWIRE_CA="+tr.Session.CAFile,
		"KUBEWIRE_TOKEN="+tr.Session.Token,
	), nil
}

// Run is what one run of commands did.
type Run struct {
	// Calls are the exchanges the commands made, annotated, audit events
	// joined, in the order they were recorded (kubewire's own included).
	Calls []*record.Exchange
	// Lines are the recording lines, as the trace wrote them.
	Lines []record.Line
	// Exits are the commands' exit codes, in order; -1 for a command
	// stopped by its timeout or by the step's end.
	Exits []int
	// Trace describes the traced cluster: its context and server.
	Context, Server string
}

// collector keeps a trace's lines.
type collector struct {
	mu    sync.Mutex
	lines []record.Line
}

func (c *collector) Put(l record.Line) {
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
}

// Run runs cmds, in order, through one trace: view (nil for none) sees
// every line as it happens, out and errOut get the commands' output. A
// background command runs beside the next ones and is stopped when the
// last foreground command ends. When ctx ends, the command that runs is
// interrupted and the rest are not started.
func (b *Backend) Run(ctx context.Context, cmds []lessons.Command, view record.Sink, out, errOut io.Writer) (*Run, error) {
	col := &collector{}
	o := b.base
	o.View = col
	if view != nil {
		o.View = record.Sinks{col, view}
	}
	o.ErrOut = errOut
	mode := o.Mode
	if mode == "" {
		mode = "lesson"
	}
	tr, err := live.Start(context.WithoutCancel(ctx), o, mode, nil)
	if err != nil {
		return nil, err
	}
	run := &Run{Context: tr.Target.Context, Server: tr.Target.Server.String()}
	var background []*child
	env, runErr := b.env(tr)
	if runErr != nil {
		cmds = nil
	}
	for _, c := range cmds {
		ch, err := start(c.Cmd, env, out, errOut)
		if err != nil {
			runErr = err
			break
		}
		if c.Background {
			background = append(background, ch)
			run.Exits = append(run.Exits, -1)
			continue
		}
		run.Exits = append(run.Exits, ch.wait(ctx, c.Timeout))
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
	}
	for _, ch := range background {
		ch.stop()
	}
	if err := tr.Close(); err != nil && runErr == nil {
		runErr = err
	}
	col.mu.Lock()
	run.Lines = col.lines
	col.mu.Unlock()
	a := record.Assembler{Audit: annotate.Audit}
	for _, l := range run.Lines {
		a.Add(l, "trace")
	}
	run.Calls = a.Exchanges
	return run, runErr
}

// child is a running command.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	code int
}

func start(command string, env []string, out, errOut io.Writer) (*child, error) {
	cmd := shell(command)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, errOut
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %q: %w", command, err)
	}
	ch := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		ch.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ch.code = ee.ExitCode()
		} else if err != nil {
			ch.code = 127
		}
		close(ch.done)
	}()
	return ch, nil
}

// wait waits for the command to end, interrupting it after timeout (when
// not 0) or when ctx ends (Ctrl-C, which kubewire's own handler turns
// into the end of ctx, and which ends the lesson); an interrupted
// command's code is -1.
func (ch *child) wait(ctx context.Context, timeout time.Duration) int {
	var after <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		after = t.C
	}
	for {
		select {
		case <-ch.done:
			return ch.code
		case <-after:
			ch.stop()
			return -1
		case <-ctx.Done():
			ch.stop()
			return -1
		}
	}
}

// stop interrupts the command, as Ctrl-C would, then kills it if it has
// not ended within 5 seconds, and waits for it.
func (ch *child) stop() {
	select {
	case <-ch.done:
		return
	default:
	}
	interrupt(ch.cmd)
	select {
	case <-ch.done:
	case <-time.After(5 * time.Second):
		kill(ch.cmd)
		<-ch.done
	}
}
