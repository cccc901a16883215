package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// proc is a program the harness started. Its output goes to a log file in
// the work directory, named after it.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done
}

// procs are every process the harness started; stopAll ends them all.
type procs struct {
	mu   sync.Mutex
	list []*proc
}

// start runs cmd with its stdout and stderr (or stdout alone, when stdout
// is given) in files of the work directory.
func (ps *procs) start(name string, cmd *exec.Cmd, logPath, stdoutPath string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close()
	cmd.Stderr = logf
	cmd.Stdout = logf
	if stdoutPath != "" {
		out, err := os.Create(stdoutPath)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		defer out.Close()
		cmd.Stdout = out
	}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// pid is the process's id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (an interrupt, so kubewire closes its
// recording), and kills it after grace.
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := interrupt(p.cmd.Process); err != nil {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s after an interrupt: killed", p.name, grace)
	}
}

// stop stops p and forgets it.
func (ps *procs) stop(p *proc) error {
	err := p.stop(15 * time.Second)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, q := range ps.list {
		if q == p {
			ps.list = append(ps.list[:i], ps.list[i+1:]...)
			break
		}
	}
	return err
}

// stopAll stops every process still running, last started first.
func (ps *procs) stopAll() error {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		errs = append(errs, list[i].stop(15*time.Second))
	}
	return errors.Join(errs...)
}

// waitLog waits until the process's log (or file) matches re and returns
// the submatches; it fails when the process exits first or d passes,
// quoting the log's end.
func (p *proc) waitLog(ctx context.Context, file string, re *regexp.Regexp, d time.Duration) ([]string, error) {
	deadline := time.Now().Add(d)
	for {
		data, _ := os.ReadFile(file)
		if m := re.FindStringSubmatch(string(data)); m != nil {
			return m, nil
		}
		if p.exited() {
			return nil, fmt.Errorf("%s exited (%v) before it was ready:\n%s", p.name, p.err, tail(p.log, 15))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s not ready after %s:\n%s", p.name, d, tail(p.log, 15))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail is the last n lines of a file, indented, for error messages.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return "    (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// cleanEnv is the environment for the programs the harness runs: without
// proxies (loopback only, never through a user's proxy), kubeconfig and
// cache settings, and the audit log (kubewire would join it).
func cleanEnv(extra ...string) []string {
	drop := map[string]bool{"HTTPS_PROXY": true, "HTTP_PROXY": true, "ALL_PROXY": true, "NO_PROXY": true,
		"KUBECONFIG": true, "KUBECACHEDIR": true, "KUBEWIRE_AUDIT_LOG": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[strings.ToUpper(k)] {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
