package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is one started lab process, as saved in the lab's state file.
type Process struct {
	// Name is the component: apiserver, controller-manager, scheduler, kwok.
	Name string `json:"name"`
	// PID is the process ID.
	PID int `json:"pid"`
	// Exe is the program started; with Dir it identifies the process.
	Exe string `json:"exe"`
	// Log is the file that receives its output.
	Log string `json:"log"`
}

// start runs exe with args, output appended to log, in its own session so
// it outlives the caller; attached processes are killed when the calling
// process dies (test runs).
func start(name, exe string, args []string, log string, env []string, attached bool) (*Process, <-chan struct{}, error) {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("%s log: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr(attached)
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() // reap; after our exit init does
	return &Process{Name: name, PID: cmd.Process.Pid, Exe: exe, Log: log}, done, nil
}

// alive reports whether p still runs and is the process the lab started:
// same program, and a command line that names the lab's directory. A PID
// reused by another program is not ours.
func (p Process) alive(dir string) bool {
	if p.PID <= 0 || gone(p.PID) {
		return false
	}
	args, err := commandLine(p.PID)
	if err != nil || len(args) == 0 || args[0] != p.Exe {
		return false
	}
	return strings.Contains(strings.Join(args, "\x00"), dir+string(filepath.Separator))
}

// stop sends SIGTERM to p, then SIGKILL if it has not exited after grace.
// It returns once the process is gone.
func (p Process) stop(dir string, grace time.Duration) error {
	if !p.alive(dir) {
		return nil
	}
	proc, err := os.FindProcess(p.PID)
	if err != nil {
		return nil
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, err)
	}
	if waitGone(p, grace) {
		return nil
	}
	if err := proc.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err)
	}
	if waitGone(p, 10*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) still runs after SIGKILL", p.Name, p.PID)
}

// waitGone waits up to d for p, already checked to be the lab's, to exit.
func waitGone(p Process, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if gone(p.PID) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the last n lines of file, for error messages.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func pidString(ps []Process) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Name+"="+strconv.Itoa(p.PID))
	}
	return strings.Join(parts, " ")
}

func absDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("no lab directory given")
	}
	return filepath.Abs(dir)
}
