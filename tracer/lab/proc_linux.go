package lab

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// sysProcAttr starts a lab process in its own session, so it outlives the
// caller; an attached one (a test run's) is killed when the caller dies.
func sysProcAttr(attached bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setsid: true}
	if attached {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}

// commandLine is the arguments pid was started with.
func commandLine(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"), nil
}

// gone reports whether pid has exited: no such process, or a zombie not
// yet reaped. An exiting process loses its command line before it is gone,
// so this looks at its state only.
func gone(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && len(stat) > i+2 && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}
