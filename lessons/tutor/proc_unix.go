//go:build !windows

package tutor

import (
	"os/exec"
	"syscall"
)

// shell runs a lesson's command with sh -c.
func shell(command string) *exec.Cmd { return exec.Command("sh", "-c", command) }

// ownGroup puts the command in a process group of its own, so that an
// interrupt reaches every process of a pipeline, and only them.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func interrupt(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }

func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
