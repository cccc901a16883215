//go:build unix && !linux

package lab

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr starts a lab process in its own session, so it outlives the
// caller. macOS has no parent-death signal: an attached process (a test
// run's) is stopped by the harness's cleanup and signal handler instead,
// and outlives a test binary killed with SIGKILL (labtest sweeps its
// directory later; 'kubewire lab down --dir' stops it).
func sysProcAttr(bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// commandLine is the arguments pid was started with, as ps shows them:
// split at spaces, which the lab's paths and flags do not hold.
func commandLine(pid int) ([]string, error) {
	out, err := exec.Command("ps", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return nil, err
	}
	args := strings.Fields(string(out))
	if len(args) == 0 {
		return nil, errors.New("no such process")
	}
	return args, nil
}

// gone reports whether pid has exited: no such process, or a zombie.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err != nil || strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}
